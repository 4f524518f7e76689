//! Upstream MCP servers: a workspace's own servers that Gatehouse fronts — the registry, the
//! credentials Gatehouse sends them (sealed at rest), which servers a key or connector may reach,
//! the sessions opened to servers of the older protocol revisions, and health. How a call travels
//! to a server is the server crate's `gateway`.

mod access;
mod cached;
mod credentials;
mod fields;
mod health;
mod registry;
mod sessions;

use std::time::Duration;

use crate::{
    clock::Millis,
    direct::{Columns, FromColumns},
    error::{CoreError, CoreResult},
    keys::Environment,
    secrets::Keyring,
};
pub use access::{ServerAccess, ServerGrant};
pub use cached::RegistryCache;
pub use credentials::CredentialHeaders;
pub use fields::{DEFAULT_TIMEOUT, MAX_SLUG_CHARS, ServerName, ServerSlug, UpstreamUrl, parse_timeout};
pub use health::{Health, HealthReport, claim_due as claim_health_checks, record as record_health};
pub use registry::{
    MAX_SERVERS, NewServer, ServerChanges, add, add_in, address_rules, get_in, list, list_in, remove, remove_in,
    update, update_in,
};
use serde::{Deserialize, Serialize};
pub use sessions::{UpstreamSession, drop_session, find_session, store_session};

/// A registered upstream server, as the dashboard, the CLI and the gateway see it. Its credential
/// headers are only named here; [`UpstreamServer::credentials`] opens them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UpstreamServer {
    pub id: String,
    pub workspace_id: String,
    pub slug: String,
    pub name: String,
    pub url: String,
    pub environment: Environment,
    pub enabled: bool,
    pub timeout_ms: i64,
    pub credential_names: Vec<String>,
    pub send_identity: bool,
    pub allow_private: bool,
    pub disabled_tools: Vec<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub health: Health,
    #[serde(skip)]
    sealed_credentials: Option<String>,
    /// `url`, parsed once when the row is read (not on every call through the gateway).
    #[serde(skip)]
    endpoint: Option<url::Url>,
}

impl UpstreamServer {
    /// The server's URL, parsed; `None` only for a stored URL that no longer parses.
    pub fn endpoint(&self) -> Option<&url::Url> {
        self.endpoint.as_ref()
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.timeout_ms).unwrap_or(60_000))
    }

    /// Whether an admin left this tool switched on.
    pub fn tool_enabled(&self, tool: &str) -> bool {
        !self.disabled_tools.iter().any(|t| t == tool)
    }

    /// The credential headers, opened with the server key.
    pub fn credentials(&self, keys: &Keyring) -> CoreResult<CredentialHeaders> {
        match &self.sealed_credentials {
            None => Ok(CredentialHeaders::default()),
            Some(sealed) => CredentialHeaders::open(keys, &self.id, sealed),
        }
    }
}

pub(crate) fn server_from_row(row: &sqlx::any::AnyRow) -> CoreResult<UpstreamServer> {
    UpstreamServer::from_columns(row)
}

impl FromColumns for UpstreamServer {
    fn from_columns(row: &impl Columns) -> CoreResult<Self> {
        let id: String = row.col("id")?;
        let environment = Environment::parse(&row.col::<String>("environment")?)
            .ok_or_else(|| CoreError::Internal(format!("server {id} has an unknown environment")))?;
        let words =
            |s: String, sep: char| s.split(sep).filter(|w| !w.is_empty()).map(str::to_owned).collect::<Vec<_>>();
        let url: String = row.col("url")?;
        Ok(UpstreamServer {
            workspace_id: row.col("workspace_id")?,
            slug: row.col("slug")?,
            name: row.col("name")?,
            endpoint: url::Url::parse(&url).ok(),
            url,
            environment,
            enabled: row.col::<i64>("enabled")? != 0,
            timeout_ms: row.col("timeout_ms")?,
            credential_names: words(row.col("credential_names")?, ' '),
            send_identity: row.col::<i64>("send_identity")? != 0,
            allow_private: row.col::<i64>("allow_private")? != 0,
            disabled_tools: words(row.col("disabled_tools")?, '\n'),
            created_at: row.col("created_at")?,
            updated_at: row.col("updated_at")?,
            health: Health {
                status: row.col("health")?,
                checked_at: row.col("health_checked_at")?,
                error: row.col("health_error")?,
                server_name: row.col("server_name")?,
                server_version: row.col("server_version")?,
                protocol_version: row.col("protocol_version")?,
                tool_count: row.col("tool_count")?,
            },
            sealed_credentials: row.col("credentials")?,
            id,
        })
    }
}

/// A tool as a connection test found it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProbedTool {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

/// What a connection test found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProbeResult {
    pub server_name: String,
    pub server_version: String,
    pub protocol_version: String,
    pub tools: Vec<ProbedTool>,
}

/// Something that can test a server (the gateway does); the dashboard asks it through this.
pub trait Prober: Send + Sync + std::fmt::Debug {
    /// Connects to the server, asks what it is and which tools it has, and records its health.
    fn probe(
        &self,
        server: UpstreamServer,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<ProbeResult, String>> + Send + '_>>;
}
