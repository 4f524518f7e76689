//! The command line: every subcommand and option, documented for `gatehouse --help`.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::{admin, config::Config, startup, telemetry};

/// Gatehouse: an access layer for MCP endpoints — scoped API keys, OAuth for chat clients, usage.
///
/// Every option can also be set by the environment variable shown with it; nothing is required
/// for a first run.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Database URL: an SQLite file (created on first start) or a PostgreSQL server.
    #[arg(long, env = "DATABASE_URL", default_value = crate::config::DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    /// Folder for the server key file (secret.key). Defaults to the SQLite database's folder, or
    /// ./data with PostgreSQL.
    #[arg(long, env = "GATEHOUSE_DATA_DIR", global = true)]
    pub data_dir: Option<String>,
    /// The server key that seals stored secrets (32 bytes, base64 or hex; `gatehouse secret-key
    /// generate` makes one). Without it, Gatehouse uses the key file in the data folder, created on
    /// first start. Every process sharing a database needs the same key.
    #[arg(long, env = "GATEHOUSE_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<String>,
    /// Earlier server keys, comma-separated, which still open what they sealed (during a rotation).
    #[arg(long, env = "GATEHOUSE_SECRET_KEY_PREVIOUS", hide_env_values = true, global = true)]
    pub secret_key_previous: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: the dashboard, the /v1 API, the MCP endpoint (/mcp) and the OAuth
    /// authorization server for MCP hosts. Migrations are applied first.
    Serve(ServeArgs),
    /// Apply the database migrations that have not run yet, then exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Manage workspaces.
    #[command(subcommand)]
    Workspace(admin::WorkspaceCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(admin::KeyCommand),
    /// Manage management keys (sk_live_…), the credentials of the /v1 management API.
    #[command(subcommand)]
    AdminKey(admin::AdminKeyCommand),
    /// Manage a workspace's upstream MCP servers (the gateway).
    #[command(subcommand)]
    Server(admin::ServerCommand),
    /// The server key that seals stored secrets: generate one, show its id, reseal after a rotation.
    #[command(subcommand)]
    SecretKey(admin::SecretKeyCommand),
    /// The signing keys of ID tokens and identity assertions (/.well-known/jwks.json).
    #[command(subcommand)]
    SigningKey(admin::SigningKeyCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "GATEHOUSE_ADDR", default_value = crate::config::DEFAULT_ADDR)]
    pub addr: String,
    /// The external base URL people and clients use (e.g. https://gatehouse.example.com). An
    /// https URL turns on Secure cookies. Defaults to http://<addr>.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Folder with the built browser assets (the `pkg/` folder with the wasm, JS and CSS).
    #[arg(long, env = "GATEHOUSE_SITE_ROOT", default_value = crate::config::DEFAULT_SITE_ROOT)]
    pub site_root: String,
    /// Failed sign-ins for one account within 15 minutes before it is locked for 15 minutes.
    #[arg(long, env = "GATEHOUSE_SIGNIN_MAX_FAILURES", default_value_t = 10)]
    pub signin_max_failures: i64,
    /// Hours after which an OAuth client that registered but never completed a grant is removed.
    #[arg(long, env = "GATEHOUSE_OAUTH_UNUSED_CLIENT_HOURS", default_value_t = 24)]
    pub oauth_unused_client_hours: i64,
    /// OAuth client registrations one address may make per minute.
    #[arg(long, env = "GATEHOUSE_OAUTH_REGISTRATIONS_PER_MINUTE", default_value_t = 10)]
    pub oauth_registrations_per_minute: i64,
    /// Allow webhook URLs that resolve to private, loopback or link-local addresses.
    #[arg(long, env = "GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE", default_value_t = false)]
    pub webhooks_allow_private: bool,
    /// Count MCP calls for the Usage and Overview pages (true or false). Off, nothing is counted;
    /// meant for measuring what counting costs.
    #[arg(long, env = "GATEHOUSE_USAGE_RECORDING", default_value_t = true, action = clap::ArgAction::Set)]
    pub usage_recording: bool,
    /// Redis for rate limits shared by every Gatehouse process on the same database, e.g.
    /// redis://127.0.0.1:6379. Without it each process keeps its own limits.
    #[arg(long, env = "GATEHOUSE_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of Gatehouse's keys in that Redis (for several deployments on one Redis).
    #[arg(long, env = "GATEHOUSE_REDIS_NAMESPACE", default_value = "gatehouse")]
    pub redis_namespace: String,
    /// A PEM file of extra root certificates trusted for outbound https (client metadata
    /// documents, key sets, webhooks), for an internal certificate authority.
    #[arg(long, env = "GATEHOUSE_OUTBOUND_CA_FILE")]
    pub outbound_ca_file: Option<String>,
    /// Development only: fetch OAuth client metadata documents and key sets from loopback
    /// addresses (127.0.0.1, localhost). Off, they must be on public addresses.
    #[arg(long, env = "GATEHOUSE_OAUTH_METADATA_ALLOW_LOOPBACK", default_value_t = false)]
    pub oauth_metadata_allow_loopback: bool,
    /// Let admins add upstream MCP servers on loopback and private networks from the dashboard
    /// (servers added with `gatehouse server add` may always be). Link-local and cloud metadata
    /// addresses are refused either way.
    #[arg(long, env = "GATEHOUSE_UPSTREAMS_ALLOW_PRIVATE", default_value_t = false)]
    pub upstreams_allow_private: bool,

    /// The reverse proxies (CIDR ranges, comma-separated) whose `X-Forwarded-For` tells the
    /// caller's address: for audit entries, a key's allowed networks, and the addresses a key is
    /// used from. Without it, the address is the connection's.
    #[arg(long, env = "GATEHOUSE_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
}

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            telemetry::init();
            let config = Config::from_args(&cli.global, &args)?;
            let server = startup::build_server(config).await?;
            // Process-wide, like the arena setting in `main`: one trimmer whatever embeds a server.
            tokio::spawn(crate::memory::trim_periodically());
            tracing::info!(url = %server.public_url(), "Gatehouse is listening");
            server.run_until_stopped().await
        }
        Command::Migrate => {
            telemetry::init();
            let db = open(&cli.global.database_url).await?;
            db.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::User(command) => with_db(&cli.global, |db| async move { admin::user(&db, command).await }).await,
        Command::Workspace(command) => {
            with_db(&cli.global, |db| async move { admin::workspace_cmd(&db, command).await }).await
        }
        Command::Key(command) => with_db(&cli.global, |db| async move { admin::key(&db, command).await }).await,
        Command::AdminKey(command) => {
            with_db(&cli.global, |db| async move { admin::admin_key(&db, command).await }).await
        }
        Command::Server(command) => {
            let source = crate::config::key_source(&cli.global);
            with_db(&cli.global, |db| async move { admin::server(&db, &source, command).await }).await
        }
        Command::SecretKey(admin::SecretKeyCommand::Generate) => {
            admin::secret_key(None, &crate::config::key_source(&cli.global), admin::SecretKeyCommand::Generate).await
        }
        Command::SecretKey(command) => {
            let source = crate::config::key_source(&cli.global);
            with_db(&cli.global, |db| async move { admin::secret_key(Some(&db), &source, command).await }).await
        }
        Command::SigningKey(command) => {
            let source = crate::config::key_source(&cli.global);
            with_db(&cli.global, |db| async move { admin::signing_key(&db, &source, command).await }).await
        }
    }
}

/// Opens the database and applies pending migrations.
async fn open(url: &str) -> anyhow::Result<gatehouse_core::Db> {
    let db = gatehouse_core::Db::connect(url).await.context("cannot open the database")?;
    db.migrate().await.context("cannot apply migrations")?;
    Ok(db)
}

/// Runs an admin command against the database, closing it afterwards.
async fn with_db<F, Fut>(global: &GlobalArgs, f: F) -> anyhow::Result<()>
where
    F: FnOnce(gatehouse_core::Db) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let db = open(&global.database_url).await?;
    let result = f(db.clone()).await;
    db.close().await;
    result
}
