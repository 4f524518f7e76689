//! Gatehouse's domain: accounts, workspaces and their members, API keys, and all the SQL behind them.
//!
//! Nothing here knows about HTTP or Leptos. The server and the dashboard's server functions parse
//! their input into the types of this crate, call its functions, and map [`CoreError`] to a response.

pub mod accounts;
pub mod agents;
pub mod apps;
pub mod assets;
pub mod audit;
pub mod changes;
pub mod clock;
pub mod db;
mod direct;
pub mod error;
pub mod ids;
pub mod keys;
pub mod management;
pub mod net;
pub mod oauth;
pub mod paging;
pub mod policy;
pub mod runs;
pub mod scopes;
pub mod secrets;
pub mod servers;
pub mod signing;
#[cfg(test)]
mod testing;
pub mod usage;
pub mod watch;
pub mod webhooks;
pub mod workspaces;

pub use db::{Db, DbEngine};
pub use error::CoreError;
