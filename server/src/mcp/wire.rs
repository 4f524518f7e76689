//! What every MCP path answers before and around rmcp: the parts of the Streamable HTTP transport
//! that rmcp 3.11 leaves open, closed in one place so that `/mcp` and every later MCP path behave
//! alike.
//!
//! - The body is read once here (at most [`MAX_MCP_BODY_BYTES`]) and handed on unchanged.
//! - An `MCP-Protocol-Version` header naming a version Gatehouse does not serve is answered
//!   `400` with the JSON-RPC `UnsupportedProtocolVersion` error (`-32022`, with the supported
//!   versions), as revision 2026-07-28 asks; rmcp answers such a header with plain text unless the
//!   body's `_meta` names the version too.
//! - A body that is not one JSON-RPC message — not JSON, a batch (gone since 2025-06-18), an
//!   object without `jsonrpc: "2.0"` and a method — is answered `400` with a JSON-RPC error
//!   (`-32700` parse error or `-32600` invalid request, `id: null`), where rmcp answers `415` with
//!   plain text.
//! - An OAuth bearer calling what its scopes do not cover gets the authorization spec's step-up
//!   (see [`super::auth`]), decided from the same buffered body.
//! - A plain `tools/call` of a built-in tool is answered by the handler without rmcp's
//!   per-request session ([`super::direct`]); everything else goes on to rmcp.
//!
//! docs/decisions.md ("MCP revision 2026-07-28") has the upstream note for rmcp.

use std::sync::Arc;

use axum::{
    body::{Body, Bytes, to_bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use gatehouse_core::keys::Principal;
use http::{HeaderValue, Method, StatusCode, header};
use rmcp::model::ProtocolVersion;
use serde_json::{Value, json};

use super::{MAX_MCP_BODY_BYTES, auth, direct::DirectCalls};
use crate::state::AppState;

/// The protocol revisions Gatehouse serves, oldest first: the three that shaped Streamable HTTP
/// with `initialize` and the stateless revision after them.
pub const SUPPORTED_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2026_07_28,
];

/// JSON-RPC error codes used here (JSON-RPC 2.0 and MCP 2026-07-28's reserved range).
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// What the edge needs: the application, and the calls it answers itself.
#[derive(Clone)]
pub struct Edge {
    pub state: AppState,
    pub direct: Arc<DirectCalls>,
}

/// The middleware: runs after the credential is verified and before rmcp.
pub async fn json_rpc_edge(State(Edge { state, direct }): State<Edge>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    if let Some(requested) = request.headers().get("mcp-protocol-version")
        && !SUPPORTED_VERSIONS.iter().any(|v| v.as_str().as_bytes() == requested.as_bytes())
    {
        return unsupported_version(&String::from_utf8_lossy(requested.as_bytes()));
    }
    let declares_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json"));
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_MCP_BODY_BYTES).await else {
        return json_rpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            Value::Null,
            INVALID_REQUEST,
            &format!("The message is larger than {} KiB; send a smaller one.", MAX_MCP_BODY_BYTES / 1024),
            None,
        );
    };
    // The built-in tools' scopes; an upstream server's `/mcp/{slug}` has its own tool names.
    if parts.uri.path() == "/mcp"
        && let Some(principal) = parts.extensions.get::<Arc<Principal>>()
        && principal.is_oauth()
        && let Some(refusal) = auth::step_up(&state.config.public_url, principal, &bytes)
    {
        return refusal;
    }
    if parts.uri.path() == "/mcp"
        && let Some(call) = direct.take(&parts.headers, &bytes)
    {
        return direct.serve(parts, call).await;
    }
    let response = next.run(Request::from_parts(parts, Body::from(bytes.clone()))).await;
    // rmcp's answer to a body it could not read as one JSON-RPC message.
    if declares_json && response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return not_one_message(&bytes);
    }
    response
}

/// `-32022`: the version asked for, and the ones served.
fn unsupported_version(requested: &str) -> Response {
    let supported: Vec<&str> = SUPPORTED_VERSIONS.iter().map(ProtocolVersion::as_str).collect();
    let requested: String = requested.chars().take(64).collect();
    json_rpc_error(
        StatusCode::BAD_REQUEST,
        Value::Null,
        UNSUPPORTED_PROTOCOL_VERSION,
        "Unsupported protocol version",
        Some(json!({ "supported": supported, "requested": requested })),
    )
}

/// Why a JSON body is not one JSON-RPC message.
pub fn not_one_message(bytes: &Bytes) -> Response {
    let (code, message, id) = match serde_json::from_slice::<Value>(bytes) {
        Err(_) => (PARSE_ERROR, "Parse error: the body is not valid JSON.".to_owned(), Value::Null),
        Ok(Value::Array(_)) => (
            INVALID_REQUEST,
            "Invalid request: JSON-RPC batches are not supported (MCP removed them in 2025-06-18); send one message per POST."
                .to_owned(),
            Value::Null,
        ),
        Ok(Value::Object(object)) => {
            let id = object.get("id").filter(|id| id.is_string() || id.is_number()).cloned().unwrap_or(Value::Null);
            let problem = if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
                "it has no \"jsonrpc\": \"2.0\""
            } else if !object.get("method").is_some_and(Value::is_string) {
                "it has no method"
            } else {
                "its params do not fit the method"
            };
            (INVALID_REQUEST, format!("Invalid request: the body is not a JSON-RPC 2.0 request or notification: {problem}."), id)
        }
        Ok(_) => (
            INVALID_REQUEST,
            "Invalid request: the body must be one JSON-RPC 2.0 message (a JSON object).".to_owned(),
            Value::Null,
        ),
    };
    json_rpc_error(StatusCode::BAD_REQUEST, id, code, &message, None)
}

/// A JSON-RPC error response with an HTTP status.
pub fn json_rpc_error(status: StatusCode, id: Value, code: i64, message: &str, data: Option<Value>) -> Response {
    let mut error = json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    let body = json!({ "jsonrpc": "2.0", "id": id, "error": error });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> (StatusCode, Value) {
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn each_kind_of_unreadable_body_gets_its_code() {
        for (body, code, id) in [
            ("{bad", PARSE_ERROR, Value::Null),
            ("", PARSE_ERROR, Value::Null),
            (r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, INVALID_REQUEST, Value::Null),
            ("42", INVALID_REQUEST, Value::Null),
            (r#"{"hello":1}"#, INVALID_REQUEST, Value::Null),
            (r#"{"jsonrpc":"2.0","id":7}"#, INVALID_REQUEST, json!(7)),
            (r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":[]}"#, INVALID_REQUEST, json!("a")),
        ] {
            let (status, json) = body_of(not_one_message(&Bytes::from(body))).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(json["error"]["code"], code, "{body}");
            assert_eq!(json["id"], id, "{body}");
            assert_eq!(json["jsonrpc"], "2.0");
        }
    }

    #[tokio::test]
    async fn an_unsupported_version_lists_the_supported_ones() {
        let (status, json) = body_of(unsupported_version("1999-01-01")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(json["error"]["code"], UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(json["error"]["data"]["requested"], "1999-01-01");
        assert_eq!(json["error"]["data"]["supported"], json!(["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]));
    }
}
