//! `gatehouse admin-key …`: management keys (`sk_live_…`) for the `/v1` management API.

use clap::{Args, Subcommand};
use gatehouse_core::{
    Db,
    keys::{ExpiryChoice, KeyName},
    management::{self, ManagementScopes, NewManagementKey},
};

use super::{explain, workspace};

#[derive(Debug, Subcommand)]
pub enum AdminKeyCommand {
    /// Create a management key; prints it once, alone on the last line.
    Create(AdminKeyCreateArgs),
}

#[derive(Debug, Args)]
pub struct AdminKeyCreateArgs {
    /// The workspace's slug.
    #[arg(long)]
    pub workspace: String,
    #[arg(long)]
    pub name: String,
    /// Comma-separated management scopes, e.g. keys:read,keys:write (docs/api.md lists them).
    #[arg(long)]
    pub scopes: String,
    /// 30d, 90d, 1y or DAYSd; without it the key never expires (if the workspace allows that).
    #[arg(long)]
    pub expires_in: Option<String>,
}

pub async fn admin_key(db: &Db, command: AdminKeyCommand) -> anyhow::Result<()> {
    match command {
        AdminKeyCommand::Create(args) => {
            let ws = workspace(db, &args.workspace).await?;
            let scopes: Vec<&str> = args.scopes.split(',').collect();
            let new = NewManagementKey {
                name: KeyName::parse(&args.name).map_err(explain)?,
                scopes: ManagementScopes::parse(&scopes).map_err(explain)?,
                expiry: match &args.expires_in {
                    Some(e) => ExpiryChoice::parse(e).map_err(explain)?,
                    None => ExpiryChoice::Never,
                },
            };
            let (key, token) = management::create_in(db, &ws.id, None, new).await.map_err(explain)?;
            eprintln!("created management key {} ({}) in {}; it is shown once, below:", key.id, key.name, ws.slug);
            println!("{}", token.expose());
            Ok(())
        }
    }
}
