//! The upstream for the gateway benchmark (docs/benchmarks.md, "Gateway"): a minimal MCP server of
//! revision 2026-07-28 over Streamable HTTP that answers `server/discover`, `tools/list` and
//! `tools/call` of its one tool (`echo`) at once, with JSON. The benchmark calls it directly and
//! through Gatehouse's `/mcp/{slug}`; the difference is what the gateway costs. With a second
//! argument, each `tools/call` first waits that many milliseconds, as a server doing real work
//! (a query, a call of its own) would.
//!
//!   cargo run --release -p gatehouse --example fast_upstream -- 127.0.0.1:3901 [WORK_MS]

use std::{net::SocketAddr, time::Duration};

use axum::{
    Router,
    body::Bytes,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

const VERSION: &str = "2026-07-28";

fn answer(request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let result = match request["method"].as_str().unwrap_or_default() {
        "server/discover" => json!({
            "supportedVersions": [VERSION],
            "capabilities": { "tools": {} },
            "_meta": { "io.modelcontextprotocol/serverInfo": { "name": "fast-upstream", "version": "1.0.0" } },
            "resultType": "complete", "ttlMs": 0, "cacheScope": "private",
        }),
        "tools/list" => json!({
            "tools": [{
                "name": "echo",
                "description": "Answers with its text argument.",
                "inputSchema": { "type": "object", "properties": { "text": { "type": "string" } } },
                "annotations": { "readOnlyHint": true },
            }],
            "resultType": "complete", "ttlMs": 0, "cacheScope": "private",
        }),
        "tools/call" if request["params"]["name"] == "echo" => {
            let text = request["params"]["arguments"]["text"].as_str().unwrap_or_default();
            json!({ "content": [{ "type": "text", "text": text }], "isError": false, "resultType": "complete" })
        }
        "ping" => json!({}),
        _ => return json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32601, "message": "Method not found" } }),
    };
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

async fn mcp(work: Duration, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if request.get("id").is_none() {
        return StatusCode::ACCEPTED.into_response();
    }
    if request["method"] == "tools/call" && !work.is_zero() {
        tokio::time::sleep(work).await;
    }
    ([(header::CONTENT_TYPE, "application/json")], answer(&request).to_string()).into_response()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(addr) = args.next() else {
        anyhow::bail!("usage: fast_upstream ADDRESS [WORK_MS]");
    };
    let addr: SocketAddr = addr.parse()?;
    let work = Duration::from_millis(args.next().map(|ms| ms.parse()).transpose()?.unwrap_or(0));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, Router::new().route("/mcp", post(move |body: Bytes| mcp(work, body)))).await?;
    Ok(())
}
