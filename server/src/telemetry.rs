//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default [`DEFAULT_FILTER`]). Request spans
//! carry a request id, the method and the path; never a query string, header, cookie or body.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// `info`, but rmcp only from `warn`: in stateless mode it starts and ends a service for every
/// request and logs each at `info` (three lines per MCP call, with the client's capabilities).
pub const DEFAULT_FILTER: &str = "info,rmcp=warn";

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // A second call (tests) finds a subscriber already set; that is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
