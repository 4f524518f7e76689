//! The `gatehouse` server: configuration, the axum router with the dashboard, health checks and
//! safety middleware, start-up and graceful shutdown. `main.rs` is only the command line.

pub mod admin;
pub mod api;
pub mod cli;
pub mod config;
pub mod gateway;
pub mod health;
pub mod manage;
pub mod mcp;
pub mod memory;
pub mod middleware;
pub mod oauth;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod usage_csv;
pub mod webhook_worker;

pub use config::Config;
pub use startup::{Server, build_server};
