//! `gatehouse server …`: add, list and remove a workspace's upstream MCP servers from the command
//! line. A server added here may point at loopback or private addresses (the operator is at the
//! machine); link-local and metadata addresses stay refused.

use anyhow::anyhow;
use clap::{Args, Subcommand};
use gatehouse_core::{
    CoreError, Db,
    keys::Environment,
    secrets::KeySource,
    servers::{self, CredentialHeaders, NewServer, ServerName, ServerSlug, UpstreamUrl, parse_timeout},
};

use super::{explain, workspace};

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Add an upstream MCP server; prints its slug alone on the last line.
    Add(ServerAddArgs),
    /// List a workspace's servers (never their credentials).
    List {
        #[arg(long)]
        workspace: String,
    },
    /// Remove a server; keys and connectors naming it reach it no more.
    Remove {
        #[arg(long)]
        workspace: String,
        /// The server's slug.
        server: String,
    },
}

#[derive(Debug, Args)]
pub struct ServerAddArgs {
    /// The workspace's slug.
    #[arg(long)]
    pub workspace: String,
    #[arg(long)]
    pub name: String,
    /// The server's MCP endpoint, e.g. https://crm.internal.example/mcp.
    #[arg(long)]
    pub url: String,
    /// The slug in /mcp/{slug} and in tool names; made from the name without it.
    #[arg(long)]
    pub slug: Option<String>,
    /// live or test: live keys and connectors reach live servers, test keys test servers.
    #[arg(long, default_value = "live")]
    pub env: String,
    /// A header Gatehouse sends the server as its credential, 'Name: value'; repeat for more.
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// How long a call may take: 30s, 2m, … (1s to 300s).
    #[arg(long, default_value = "60s")]
    pub timeout: String,
    /// Also send who is calling, as a signed JWT in a Gatehouse-Identity header.
    #[arg(long)]
    pub identity: bool,
}

pub async fn server(db: &Db, source: &KeySource, command: ServerCommand) -> anyhow::Result<()> {
    match command {
        ServerCommand::Add(args) => {
            let ws = workspace(db, &args.workspace).await?;
            let (keys, _) = source.load().map_err(explain)?;
            let environment = Environment::parse(&args.env)
                .ok_or_else(|| anyhow!("--env must be live or test, not {:?}", args.env))?;
            let new = NewServer {
                name: ServerName::parse(&args.name).map_err(explain)?,
                slug: args.slug.as_deref().map(ServerSlug::parse).transpose().map_err(explain)?,
                url: UpstreamUrl::parse(&args.url).map_err(explain)?,
                environment,
                timeout: parse_timeout(&args.timeout).map_err(explain)?,
                headers: CredentialHeaders::parse(&args.headers.join("\n")).map_err(explain)?,
                send_identity: args.identity,
                allow_private: true,
            };
            let added = servers::add_in(db, &keys, &ws.id, None, new).await.map_err(explain)?;
            eprintln!(
                "added server {} ({}) in {}; its credential headers are not shown again",
                added.name, added.url, ws.slug
            );
            println!("{}", added.slug);
            Ok(())
        }
        ServerCommand::List { workspace: slug } => {
            let ws = workspace(db, &slug).await?;
            println!("{:<20} {:<5} {:<8} {:<8} {:<40} NAME", "SLUG", "ENV", "ENABLED", "HEALTH", "URL");
            for s in servers::list_in(db, &ws.id).await.map_err(explain)? {
                println!(
                    "{:<20} {:<5} {:<8} {:<8} {:<40} {}",
                    s.slug,
                    s.environment.as_str(),
                    if s.enabled { "yes" } else { "no" },
                    s.health.status,
                    s.url,
                    s.name
                );
            }
            Ok(())
        }
        ServerCommand::Remove { workspace: slug, server } => {
            let ws = workspace(db, &slug).await?;
            let removed = servers::remove_in(db, &ws.id, None, &server).await.map_err(|e| match e {
                CoreError::NotFound => anyhow!("workspace {slug} has no server {server:?}"),
                other => explain(other),
            })?;
            println!("removed {} ({})", removed.slug, removed.name);
            Ok(())
        }
    }
}
