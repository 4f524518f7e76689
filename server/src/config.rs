//! Configuration, from command-line options and their environment variables, checked at start.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use gatehouse_core::{accounts::ThrottlePolicy, clock::HOUR, oauth::CleanupPolicy};

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
        }
    }

    /// Cookies are `Secure` when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
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
    fn public_urls() {
        assert_eq!(parse_public_url("https://g.example.com/").ok().as_deref(), Some("https://g.example.com"));
        assert!(parse_public_url("g.example.com").is_err());
        assert!(parse_public_url("https://").is_err());
        assert!(parse_public_url("https://g.example.com/?x=1").is_err());
    }
}
