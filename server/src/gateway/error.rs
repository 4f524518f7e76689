//! The gateway's errors and how a caller sees them: a typed `{"code", "message", "next_action"}`
//! — as a tool error result for `tools/call`, as the `data` of a JSON-RPC error elsewhere, or as
//! an HTTP answer before any JSON-RPC (a server the credential may not reach). The upstream's own
//! JSON-RPC errors and tool errors are not these: they pass through unchanged.

use axum::response::{IntoResponse, Response};
use gatehouse_core::policy::Denial;
use http::StatusCode;
use serde_json::{Value, json};

use crate::api::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub code: &'static str,
    pub message: String,
    pub next_action: String,
}

impl GatewayError {
    pub fn unavailable(server: &str, why: &str) -> Self {
        GatewayError {
            code: "UPSTREAM_UNAVAILABLE",
            message: format!("The server '{server}' cannot be reached: {why}."),
            next_action: "Retry shortly; if it lasts, an admin should check the server (Servers shows its health)."
                .into(),
        }
    }

    pub fn timeout(server: &str, secs: u64) -> Self {
        GatewayError {
            code: "UPSTREAM_TIMEOUT",
            message: format!("The server '{server}' did not answer within {secs} seconds."),
            next_action: "Retry, perhaps with a smaller request; an admin can raise the server's timeout (Servers)."
                .into(),
        }
    }

    pub fn error(server: &str, why: &str) -> Self {
        GatewayError {
            code: "UPSTREAM_ERROR",
            message: format!("The server '{server}' answered with something Gatehouse cannot pass on: {why}."),
            next_action: "This is a fault of the upstream server; tell whoever runs it, or retry later.".into(),
        }
    }

    pub fn not_found(what: String) -> Self {
        GatewayError { code: "NOT_FOUND", message: what, next_action: "List what there is first (tools/list).".into() }
    }

    pub fn body(&self) -> Value {
        json!({ "code": self.code, "message": self.message, "next_action": self.next_action })
    }

    /// A JSON-RPC error (`-32603`, or `-32602` for something that does not exist) carrying the body.
    pub fn json_rpc(&self, id: &Value) -> Value {
        let code = if self.code == "NOT_FOUND" { -32602 } else { -32603 };
        json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": self.message, "data": self.body() } })
    }

    /// A tool error result (`isError: true`, the body as structured content and text).
    pub fn tool_result(&self) -> Value {
        let body = self.body();
        json!({ "content": [{ "type": "text", "text": body.to_string() }], "structuredContent": body, "isError": true })
    }
}

impl From<Denial> for GatewayError {
    fn from(d: Denial) -> Self {
        GatewayError { code: d.code, message: d.message, next_action: d.next_action }
    }
}

/// A refusal before any JSON-RPC: 403 (or 404 for a server that does not exist) with the body.
pub fn refusal(status: StatusCode, e: GatewayError) -> Response {
    ApiError { status, code: e.code, message: e.message, next_action: e.next_action, headers: Vec::new() }
        .into_response()
}
