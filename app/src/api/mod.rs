//! Server functions the pages call, and the plain data types they exchange with the browser.
//!
//! Every function that changes data is a POST (the `#[server]` default) and passes the origin
//! check in the server's middleware. Bodies stay thin: parse into domain types, call the domain,
//! map the error with `context::fail`.

pub mod audit;
pub mod auth;
pub mod connectors;
#[cfg(feature = "ssr")]
pub mod context;
pub mod keys;
pub mod management;
pub mod oauth;
pub mod servers;
pub mod types;
pub mod usage;
pub mod webhooks;
pub mod workspaces;
