//! HTTP tests of the real server: each test starts Gatehouse on port 0 against a fresh SQLite
//! file or a fresh PostgreSQL database and speaks HTTP to it. Every scenario runs on both engines.

mod abandoned;
mod accounts;
mod audit;
mod cli;
mod client_site;
mod crash;
mod credential_cache;
mod embedded;
mod gateway;
mod helpers;
mod instances;
mod keys;
mod logs;
mod management;
mod mcp;
mod mcp_revision;
mod oauth;
mod oauth_documents;
mod process;
mod safety;
mod security;
mod site;
mod soak;
mod upstreams;
mod usage;
mod webhooks;
mod workspaces;
