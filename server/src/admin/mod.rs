//! Admin subcommands for scripts: users and workspaces here; API keys, management keys, upstream
//! servers, the server key and the signing keys in their own modules. Output is plain text; where a command creates a secret, it is alone
//! on stdout's last line.

mod keys;
mod management;
mod secrets;
mod servers;

pub use keys::{KeyCommand, KeyCreateArgs, key};
pub use management::{AdminKeyCommand, AdminKeyCreateArgs, admin_key};
pub use secrets::{SecretKeyCommand, SigningKeyCommand, secret_key, signing_key};
pub use servers::{ServerAddArgs, ServerCommand, server};

use std::io::IsTerminal;

use anyhow::{Context, anyhow, bail};
use clap::Subcommand;
use gatehouse_core::{
    CoreError, Db,
    accounts::{self, Email, Password},
    workspaces::{self, WorkspaceName},
};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (and its personal workspace). The password comes from
    /// GATEHOUSE_PASSWORD, or is asked for on a terminal.
    Create {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace owned by an existing account; prints the workspace's slug.
    Create {
        #[arg(long)]
        name: String,
        /// Email of the account that will own it.
        #[arg(long)]
        owner: String,
    },
}

/// Turns a domain error into a message for the terminal.
pub(crate) fn explain(err: CoreError) -> anyhow::Error {
    match err {
        CoreError::Invalid { field, message } => anyhow!("{field}: {message}"),
        CoreError::NotFound => anyhow!("not found"),
        other => anyhow!(other),
    }
}

pub(crate) async fn workspace(db: &Db, slug: &str) -> anyhow::Result<workspaces::Workspace> {
    workspaces::find_by_slug(db, slug).await.map_err(|e| match e {
        CoreError::NotFound => anyhow!("no workspace has the slug {slug:?}"),
        other => explain(other),
    })
}

pub async fn user(db: &Db, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create { email } => {
            let email = Email::parse(&email).map_err(explain)?;
            let password = match std::env::var("GATEHOUSE_PASSWORD") {
                Ok(p) => p,
                Err(_) if std::io::stdin().is_terminal() => {
                    rpassword::prompt_password("Password (12 characters or more): ")
                        .context("cannot read the password")?
                }
                Err(_) => bail!("set GATEHOUSE_PASSWORD, or run on a terminal to be asked for the password"),
            };
            let password = Password::parse(&password).map_err(explain)?;
            let (user, workspace) = accounts::sign_up(db, email, password).await.map_err(explain)?;
            println!("created user {} ({}) with workspace {}", user.email, user.id, workspace.slug);
            Ok(())
        }
    }
}

pub async fn workspace_cmd(db: &Db, command: WorkspaceCommand) -> anyhow::Result<()> {
    match command {
        WorkspaceCommand::Create { name, owner } => {
            let name = WorkspaceName::parse(&name).map_err(explain)?;
            let email = Email::parse(&owner).map_err(explain)?;
            let user = accounts::find_user_by_email(db, &email)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow!("no account uses {}; create it with `gatehouse user create`", email.as_str()))?;
            let workspace = workspaces::create(db, &user.id, name).await.map_err(explain)?;
            println!("{}", workspace.slug);
            Ok(())
        }
    }
}
