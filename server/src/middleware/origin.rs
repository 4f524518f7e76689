//! The origin check for the dashboard: a request that changes state (anything but GET, HEAD and
//! OPTIONS) from a browser must come from this site. Leptos server functions have no CSRF
//! protection of their own. (The bearer-token APIs need none; `/mcp` checks `Origin` itself.)
//!
//! A browser always sends `Origin` on such requests, or at least `Sec-Fetch-Site`; a request with
//! neither is not from a browser (curl, a script, a test) and cannot carry a victim's cookies.

use axum::{
    Json,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::json;

use crate::state::AppState;

pub async fn require_same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || is_same_origin(request.headers(), &state.config.public_url)
    {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused a cross-origin state-changing request");
    (
        StatusCode::FORBIDDEN,
        Json(json!({
            "code": "FORBIDDEN",
            "message": "This request came from another site, so it was refused.",
            "next_action": "Submit the form from the Gatehouse dashboard itself.",
        })),
    )
        .into_response()
}

/// True when the request's `Origin` is the public URL or the host it was sent to, or, lacking
/// `Origin`, when `Sec-Fetch-Site` says same-origin (or it is absent: not a browser).
pub fn is_same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else { return false };
        if origin == "null" {
            return false;
        }
        if !public_url.is_empty() && origin.eq_ignore_ascii_case(public_url) {
            return true;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let origin_host = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
        return !host.is_empty() && origin_host.is_some_and(|h| h.eq_ignore_ascii_case(host));
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins() {
        let public = "https://gh.example.com";
        assert!(is_same_origin(&headers(&[("origin", "https://gh.example.com")]), public));
        assert!(is_same_origin(&headers(&[("origin", "http://localhost:3000"), ("host", "localhost:3000")]), public));
        assert!(!is_same_origin(&headers(&[("origin", "https://evil.example"), ("host", "gh.example.com")]), public));
        assert!(!is_same_origin(&headers(&[("origin", "null")]), public));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "cross-site")]), public));
        assert!(is_same_origin(&headers(&[("sec-fetch-site", "same-origin")]), public));
        assert!(is_same_origin(&headers(&[]), public));
    }
}
