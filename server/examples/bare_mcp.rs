//! The floor for the MCP benchmark (docs/benchmarks.md): a bare axum server that answers every
//! `POST /mcp` with the same bytes Gatehouse sent for the measured call, read from a file, and
//! does nothing else. Whatever Gatehouse's throughput is short of this one's is Gatehouse's cost.
//!
//!   cargo run --release -p gatehouse --example bare_mcp -- 127.0.0.1:3900 response.json

use std::net::SocketAddr;

use axum::{Router, body::Bytes, http::header, routing::post};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bare_mcp ADDRESS RESPONSE_FILE");
    };
    let addr: SocketAddr = addr.parse()?;
    let body = Bytes::from(std::fs::read(&file)?);
    let app = Router::new().route(
        "/mcp",
        post(move |_request: Bytes| {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
