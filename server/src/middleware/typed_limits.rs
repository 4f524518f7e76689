//! The whole server's body limit answers `/v1` clients in the API's own error shape: a plain
//! `413` from the limit becomes `{"code":"BODY_TOO_LARGE",…}` there (other paths keep it plain).

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{StatusCode, header};

use crate::manage::MAX_BODY_BYTES;

pub async fn typed_body_limit(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/v1/");
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| !v.starts_with("application/json"));
    if api && response.status() == StatusCode::PAYLOAD_TOO_LARGE && plain {
        return crate::api::error::ApiError::too_large(MAX_BODY_BYTES).into_response();
    }
    response
}
