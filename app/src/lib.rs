//! The Gatehouse dashboard: routes, pages, components, and the server functions they call.
//!
//! Built twice: with `ssr` for the server (it renders every page and runs the server functions
//! against the domain crate) and with `hydrate` for the browser (the wasm that makes pages live).
#![recursion_limit = "512"]

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
mod routes;

pub use routes::{App, shell};

#[cfg(feature = "ssr")]
pub use api::context::ServerContext;
