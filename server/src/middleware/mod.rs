//! Middleware every request passes: the caller's address, security headers, the origin check for
//! state changes, and the mapping of malformed server-function calls to 400.

pub mod client_address;
pub mod origin;
pub mod security_headers;
pub mod server_fn_errors;
