//! Middleware every request passes: security headers, the origin check for state changes, and
//! the mapping of malformed server-function calls to 400.

pub mod origin;
pub mod security_headers;
pub mod server_fn_errors;
