//! `gatehouse key …`: create, list and revoke API keys.

use anyhow::anyhow;
use clap::{Args, Subcommand};
use gatehouse_core::{
    CoreError, Db,
    clock::now_ms,
    keys::{self, Environment, ExpiryChoice, KeyName, NewKey},
    net::Networks,
    scopes::ScopeSet,
    servers::ServerAccess,
};

use super::{explain, workspace};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key; prints it once, alone on the last line.
    Create(KeyCreateArgs),
    /// List a workspace's keys (never their secrets).
    List {
        #[arg(long)]
        workspace: String,
    },
    /// Revoke a key at once.
    Revoke {
        #[arg(long)]
        workspace: String,
        /// The key's id, as `key list` shows it.
        key_id: String,
    },
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// The workspace's slug.
    #[arg(long)]
    pub workspace: String,
    #[arg(long)]
    pub name: String,
    /// Comma-separated scopes, e.g. agents:read,runs:read.
    #[arg(long)]
    pub scopes: String,
    /// live or test.
    #[arg(long, default_value = "live")]
    pub env: String,
    /// 30d, 90d, 1y or DAYSd; without it the key never expires (if the workspace allows that).
    #[arg(long)]
    pub expires_in: Option<String>,
    /// Comma-separated agent and app ids the key is limited to; all of the workspace's without it.
    #[arg(long)]
    pub resources: Option<String>,
    /// Requests per minute for this key (1 to 1000000); the workspace default without it.
    #[arg(long)]
    pub rate_limit: Option<i64>,
    /// Upstream servers the key may reach: slugs (crm,search), slug/tool for one tool, or '*' for
    /// all, now and later. Without it the key reaches no upstream server.
    #[arg(long)]
    pub servers: Option<String>,
    /// Networks the key may be used from: comma-separated addresses or CIDR ranges
    /// (203.0.113.0/24,2001:db8::/32). Without it, anywhere.
    #[arg(long)]
    pub allow_ips: Option<String>,
}

pub async fn key(db: &Db, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create(args) => {
            let ws = workspace(db, &args.workspace).await?;
            let environment = Environment::parse(&args.env)
                .ok_or_else(|| anyhow!("--env must be live or test, not {:?}", args.env))?;
            let new = NewKey {
                name: KeyName::parse(&args.name).map_err(explain)?,
                environment,
                scopes: ScopeSet::parse_for_key(&[args.scopes.as_str()]).map_err(explain)?,
                expiry: match &args.expires_in {
                    Some(e) => ExpiryChoice::parse(e).map_err(explain)?,
                    None => ExpiryChoice::Never,
                },
                resources: args.resources.as_deref().map(|r| r.split(',').map(|s| s.trim().to_owned()).collect()),
                rate_limit_per_minute: args.rate_limit,
                servers: ServerAccess::parse(args.servers.as_deref().unwrap_or_default()).map_err(explain)?,
                allowed_ips: Some(
                    Networks::parse("--allow-ips", &[args.allow_ips.as_deref().unwrap_or_default()])
                        .map_err(explain)?,
                ),
            };
            let (key, token) = keys::create_in(db, &ws.id, None, new).await.map_err(explain)?;
            eprintln!("created key {} ({}) in {}; it is shown once, below:", key.id, key.name, ws.slug);
            println!("{}", token.expose());
            Ok(())
        }
        KeyCommand::List { workspace: slug } => {
            let ws = workspace(db, &slug).await?;
            let now = now_ms();
            println!("{:<14} {:<6} {:<9} {:<24} {:<40} NAME", "ID", "ENV", "STATUS", "KEY", "SCOPES");
            for k in keys::list_in(db, &ws.id).await.map_err(explain)? {
                let status = serde_json::to_value(k.status(now)).ok().and_then(|v| v.as_str().map(str::to_owned));
                println!(
                    "{:<14} {:<6} {:<9} {:<24} {:<40} {}",
                    k.id,
                    k.environment.as_str(),
                    status.unwrap_or_default(),
                    k.hint,
                    k.scopes.to_stored().replace(' ', ","),
                    k.name
                );
            }
            Ok(())
        }
        KeyCommand::Revoke { workspace: slug, key_id } => {
            let ws = workspace(db, &slug).await?;
            let key = keys::revoke_in(db, &ws.id, None, &key_id).await.map_err(|e| match e {
                CoreError::NotFound => anyhow!("workspace {slug} has no key {key_id:?}"),
                other => explain(other),
            })?;
            println!("revoked {} ({})", key.id, key.name);
            Ok(())
        }
    }
}
