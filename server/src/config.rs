//! Configuration, from command-line options and their environment variables, checked at start.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::{Context, bail};
use gatehouse_core::{accounts::ThrottlePolicy, clock::HOUR, oauth::CleanupPolicy, secrets::KeySource};
use zeroize::Zeroizing;

use crate::cli::{GlobalArgs, ServeArgs};

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/gatehouse.db";
pub const DEFAULT_SITE_ROOT: &str = "target/site";

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    /// The external base URL, without a trailing slash.
    pub public_url: String,
    pub site_root: String,
    pub throttle: ThrottlePolicy,
    pub oauth_cleanup: CleanupPolicy,
    /// OAuth client registrations one address may make per minute.
    pub registrations_per_minute: i64,
    /// Webhook URLs may point at private addresses.
    pub webhooks_allow_private: bool,
    /// MCP calls are counted for the Usage and Overview pages.
    pub usage_recording: bool,
    /// Redis holding the rate limits shared by every process; `None` keeps them per process.
    pub redis_url: Option<String>,
    /// Prefix of Gatehouse's keys in that Redis.
    pub redis_namespace: String,
    /// Where the server key comes from.
    pub key_source: KeySource,
    /// Extra root certificates (PEM) for outbound https.
    pub outbound_roots: Option<Arc<Vec<u8>>>,
    /// Client metadata documents and key sets may be fetched from loopback (development).
    pub metadata_allow_loopback: bool,
    /// Upstream servers added from the dashboard may be on loopback and private networks.
    pub upstreams_allow_private: bool,
    /// Proxies whose `X-Forwarded-For` is believed (`GATEHOUSE_TRUSTED_PROXIES`).
    pub trusted_proxies: gatehouse_core::net::Networks,
}

impl Config {
    pub fn from_args(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<Self> {
        let addr: SocketAddr = args
            .addr
            .parse()
            .with_context(|| format!("GATEHOUSE_ADDR {:?} is not an address like 127.0.0.1:3000", args.addr))?;
        let public_url = match &args.public_url {
            Some(url) => parse_public_url(url)?,
            // Filled in from the bound address at start (the port may be 0).
            None => String::new(),
        };
        if args.signin_max_failures < 1 {
            bail!("GATEHOUSE_SIGNIN_MAX_FAILURES must be at least 1");
        }
        let throttle = ThrottlePolicy { account_limit: args.signin_max_failures, ..ThrottlePolicy::default() };
        if !(1..=24 * 365).contains(&args.oauth_unused_client_hours) {
            bail!("GATEHOUSE_OAUTH_UNUSED_CLIENT_HOURS must be between 1 and 8760");
        }
        if !(1..=10_000).contains(&args.oauth_registrations_per_minute) {
            bail!("GATEHOUSE_OAUTH_REGISTRATIONS_PER_MINUTE must be between 1 and 10000");
        }
        if let Some(url) = &args.redis_url
            && !url.trim().is_empty()
            && !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("redis+unix://"))
        {
            bail!("GATEHOUSE_REDIS_URL must start with redis://, rediss:// or redis+unix://");
        }
        if args.redis_namespace.is_empty() || args.redis_namespace.len() > 64 {
            bail!("GATEHOUSE_REDIS_NAMESPACE must be 1 to 64 characters");
        }
        let oauth_cleanup = CleanupPolicy { unused_client_after: args.oauth_unused_client_hours * HOUR };
        let outbound_roots = match &args.outbound_ca_file {
            Some(path) if !path.trim().is_empty() => Some(Arc::new(
                std::fs::read(path).with_context(|| format!("cannot read GATEHOUSE_OUTBOUND_CA_FILE {path:?}"))?,
            )),
            _ => None,
        };
        Ok(Config {
            addr,
            database_url: global.database_url.clone(),
            public_url,
            site_root: args.site_root.clone(),
            throttle,
            oauth_cleanup,
            registrations_per_minute: args.oauth_registrations_per_minute,
            webhooks_allow_private: args.webhooks_allow_private,
            usage_recording: args.usage_recording,
            redis_url: args.redis_url.clone().filter(|u| !u.trim().is_empty()),
            redis_namespace: args.redis_namespace.clone(),
            key_source: key_source(global),
            outbound_roots,
            metadata_allow_loopback: args.oauth_metadata_allow_loopback,
            upstreams_allow_private: args.upstreams_allow_private,
            trusted_proxies: gatehouse_core::net::Networks::parse(
                "GATEHOUSE_TRUSTED_PROXIES",
                &[args.trusted_proxies.as_deref().unwrap_or_default()],
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        })
    }

    /// A configuration for tests: port 0 and the given database.
    pub fn for_tests(database_url: &str) -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.to_owned(),
            public_url: String::new(),
            site_root: DEFAULT_SITE_ROOT.to_owned(),
            throttle: ThrottlePolicy::default(),
            oauth_cleanup: CleanupPolicy::default(),
            registrations_per_minute: 10,
            webhooks_allow_private: false,
            usage_recording: true,
            redis_url: None,
            redis_namespace: "gatehouse".to_owned(),
            key_source: KeySource::Env {
                current: Zeroizing::new(Self::test_secret_key(database_url)),
                previous: Vec::new(),
            },
            outbound_roots: None,
            metadata_allow_loopback: false,
            upstreams_allow_private: false,
            trusted_proxies: gatehouse_core::net::Networks::default(),
        }
    }

    /// The server key tests use for a database: derived from its URL, so that every process a test
    /// starts on one database shares it. Never for anything but tests.
    pub fn test_secret_key(database_url: &str) -> String {
        use base64::Engine;
        use sha2::Digest;
        let key = sha2::Sha256::digest(format!("gatehouse tests only: {database_url}"));
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// Cookies are `Secure` when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The server key's source: `GATEHOUSE_SECRET_KEY` (and previous keys), or the key file in the data
/// folder.
pub fn key_source(global: &GlobalArgs) -> KeySource {
    match global.secret_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(current) => KeySource::Env {
            current: Zeroizing::new(current.to_owned()),
            previous: global
                .secret_key_previous
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| Zeroizing::new(k.to_owned()))
                .collect(),
        },
        None => KeySource::File(data_dir(global).join("secret.key")),
    }
}

/// `GATEHOUSE_DATA_DIR`, else the SQLite database's folder, else `./data`.
pub fn data_dir(global: &GlobalArgs) -> PathBuf {
    if let Some(dir) = global.data_dir.as_deref().filter(|d| !d.trim().is_empty()) {
        return PathBuf::from(dir);
    }
    let sqlite_path = global
        .database_url
        .strip_prefix("sqlite://")
        .or_else(|| global.database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest));
    match sqlite_path.and_then(|p| std::path::Path::new(p).parent()) {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        Some(_) => PathBuf::from("."),
        None => PathBuf::from("data"),
    }
}

fn parse_public_url(url: &str) -> anyhow::Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .with_context(|| format!("GATEHOUSE_PUBLIC_URL {url:?} must start with https:// or http://"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        bail!("GATEHOUSE_PUBLIC_URL {url:?} must be a base URL like https://gatehouse.example.com");
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_sits_beside_the_sqlite_database() {
        let global = |url: &str, dir: Option<&str>| GlobalArgs {
            database_url: url.into(),
            data_dir: dir.map(str::to_owned),
            secret_key: None,
            secret_key_previous: None,
        };
        assert_eq!(data_dir(&global("sqlite://data/gatehouse.db", None)), PathBuf::from("data"));
        assert_eq!(data_dir(&global("sqlite:///var/lib/g/g.db?mode=rwc", None)), PathBuf::from("/var/lib/g"));
        assert_eq!(data_dir(&global("postgres://u@h/db", None)), PathBuf::from("data"));
        assert_eq!(data_dir(&global("postgres://u@h/db", Some("/srv/g"))), PathBuf::from("/srv/g"));
        assert!(
            matches!(key_source(&global("sqlite://x.db", None)), KeySource::File(p) if p == std::path::Path::new("./secret.key"))
        );
        let mut with_key = global("sqlite://x.db", None);
        with_key.secret_key = Some("k".into());
        with_key.secret_key_previous = Some("a, b".into());
        assert!(matches!(key_source(&with_key), KeySource::Env { previous, .. } if previous.len() == 2));
    }

    #[test]
    fn public_urls() {
        assert_eq!(parse_public_url("https://g.example.com/").ok().as_deref(), Some("https://g.example.com"));
        assert!(parse_public_url("g.example.com").is_err());
        assert!(parse_public_url("https://").is_err());
        assert!(parse_public_url("https://g.example.com/?x=1").is_err());
    }
}
