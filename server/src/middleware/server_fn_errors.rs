//! Server functions answer 500 when their arguments cannot be decoded. That is the client's
//! mistake, so this turns it into a 400 with the same body. Real internal errors stay 500.

use axum::{body::Body, extract::Request, middleware::Next, response::Response};
use http::StatusCode;

/// Largest error body inspected; server-function errors are a few hundred bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn client_errors_are_400(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    // `AppError::Request` is what a decoding failure becomes (see gatehouse_app::error).
    if bytes.starts_with(b"{\"Request\"") {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
