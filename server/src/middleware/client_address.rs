//! The caller's address, found once per request: the connection's peer, or — behind a proxy named
//! in `GATEHOUSE_TRUSTED_PROXIES` — the nearest untrusted address in `X-Forwarded-For`
//! (`gatehouse_core::net::client_address`). The credential check (a key's allowed networks), the
//! audit log, the usage recorder and the dashboard read it from the request's extensions
//! ([`ClientAddr`]).

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use gatehouse_core::net::{ClientAddr, client_address};

use crate::state::AppState;

/// Adds [`ClientAddr`] when the server knows the connection's peer (it always does when serving;
/// a router driven without a socket, as the fuzz targets do, has none).
pub async fn find_client_address(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let client = client_address(peer.ip(), forwarded, &state.config.trusted_proxies);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}
