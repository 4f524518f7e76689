//! The shared state every handler and server function reaches.
//!
//! One `Arc`: axum clones the state for every layer and handler of every request, and a clone of
//! each part (pools, caches, clients, each with reference counts of its own) cost a tenth of the
//! MCP call's CPU (docs/benchmarks.md); a clone of this is one reference count.

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;
use gatehouse_app::ServerContext;
use gatehouse_core::{
    Db,
    keys::{KeyVerifier, RateLimiter},
    management::ManagementVerifier,
    oauth::{ClientDirectory, IdTokens},
    secrets::Keyring,
    signing::Signer,
    usage::UsageRecorder,
};
use leptos::config::LeptosOptions;

use crate::config::Config;

#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What leptos_axum asks of the state: the site's options.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: std::sync::Arc<Config>,
    pub keys: KeyVerifier,
    /// The management API's keys (`sk_live_…`).
    pub management: ManagementVerifier,
    /// MCP calls counted in memory, written in batches.
    pub usage: std::sync::Arc<UsageRecorder>,
    /// The rate limiter of keys and connectors, also holding the per-address and per-client limits
    /// of the OAuth endpoints (registration, device flow); in Redis when configured.
    pub oauth_limits: std::sync::Arc<RateLimiter>,
    /// Signs ID tokens and identity assertions; publishes `/.well-known/jwks.json`.
    pub signer: Signer,
    /// The server key, for secrets stored sealed.
    pub keyring: Keyring,
    /// OAuth clients: registrations and metadata documents, and how they authenticate.
    pub clients: ClientDirectory,
    /// The gateway's client to upstream MCP servers.
    pub upstreams: crate::gateway::upstream::Upstreams,
}

impl Shared {
    /// What signs OpenID Connect ID tokens, under the public URL as issuer.
    pub fn id_tokens(&self) -> IdTokens {
        IdTokens { signer: self.signer.clone(), issuer: self.config.public_url.clone() }
    }

    /// Notes where a verified credential was used from (the usage recorder's memory; no I/O).
    pub fn note_use(&self, principal: &gatehouse_core::keys::Principal, client: Option<std::net::IpAddr>) {
        if let Some(ip) = client {
            self.usage.note_address(&principal.workspace_id, &principal.caller_id, ip, gatehouse_core::clock::now_ms());
        }
    }

    /// What the dashboard's server functions get.
    pub fn server_context(&self) -> ServerContext {
        ServerContext {
            db: self.db.clone(),
            throttle: self.config.throttle.clone(),
            keys: self.keys.clone(),
            public_url: self.config.public_url.clone(),
            webhooks_allow_private: self.config.webhooks_allow_private,
            upstreams_allow_private: self.config.upstreams_allow_private,
            keyring: self.keyring.clone(),
            prober: std::sync::Arc::new(self.upstreams.clone()),
        }
    }
}
