//! Start-up: open the database, apply migrations, build the router, bind the port, serve until
//! SIGINT or SIGTERM, then finish the requests in flight.

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use anyhow::Context;
use axum::{Router, middleware, routing::get};
use gatehouse_app::{App, shell};
use gatehouse_core::{
    Db,
    keys::{KeyVerifier, RateLimiter},
    oauth::{self, CleanupPolicy},
    signing::Signer,
    usage::UsageRecorder,
};
use leptos::config::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    trace::TraceLayer,
};
use tower_sessions::{
    ExpiredDeletion, Expiry, SessionManagerLayer,
    cookie::{SameSite, time::Duration as CookieDuration},
};

use crate::{config::Config, health, middleware as mw, sessions::Sessions, state::AppState};

/// Largest request body accepted anywhere (forms and JSON are far smaller).
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How often keys' last-used times and usage counts are written.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// A server bound to its port, ready to run.
pub struct Server {
    listener: TcpListener,
    router: Router,
    public_url: String,
    db: Db,
    keys: KeyVerifier,
    management: gatehouse_core::management::ManagementVerifier,
    usage: Arc<UsageRecorder>,
    cleanup: CleanupPolicy,
    webhooks_allow_private: bool,
    outbound_roots: Option<Arc<Vec<u8>>>,
    signer: Signer,
    upstreams: crate::gateway::upstream::Upstreams,
}

impl Server {
    /// The port actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The verifier of keys and access tokens, with its credential cache.
    pub fn keys(&self) -> &KeyVerifier {
        &self.keys
    }

    /// The last-used times noted in memory: keys', connectors' and management keys'.
    fn last_used(&self) -> Vec<Arc<gatehouse_core::keys::LastUsed>> {
        vec![self.keys.last_used.clone(), self.keys.connector_last_used.clone(), self.management.last_used.clone()]
    }

    /// The whole application as a service, for driving it without a socket (the fuzz targets).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Serves until SIGINT/SIGTERM, then lets requests in flight finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_with_shutdown(shutdown_signal()).await
    }

    /// Serves until `signal` completes.
    pub async fn run_with_shutdown(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        // Changes made by other processes, for the credential and registry caches.
        let feed = tokio::spawn(gatehouse_core::changes::feed::run(self.db.clone()));
        let last_used = self.last_used();
        let flusher = tokio::spawn(flush_in_batches(last_used.clone(), self.usage.clone(), self.db.clone()));
        let cleaner = tokio::spawn(housekeeping(self.db.clone(), self.cleanup, self.signer.clone()));
        let health = tokio::spawn(crate::gateway::health::run(self.db.clone(), self.upstreams.clone()));
        let webhooks = tokio::spawn(crate::webhook_worker::run(
            self.db.clone(),
            self.webhooks_allow_private,
            self.outbound_roots.clone(),
        ));
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(signal)
            .await
            .context("the server stopped with an error")?;
        feed.abort();
        flusher.abort();
        cleaner.abort();
        health.abort();
        // Deliveries in flight keep their lock for a minute, then are sent again.
        webhooks.abort();
        // What was noted after the last periodic flush.
        for last_used in last_used {
            if let Err(e) = last_used.flush(&self.db).await {
                tracing::warn!(error = %e, "could not write last-used times at shutdown");
            }
        }
        if let Err(e) = self.usage.flush(&self.db).await {
            tracing::warn!(error = %e, "could not write usage counts at shutdown");
        }
        self.db.close().await;
        tracing::info!("Gatehouse stopped");
        Ok(())
    }
}

/// Opens the database, migrates it, and binds the listener.
pub async fn build_server(mut config: Config) -> anyhow::Result<Server> {
    let db = Db::connect(&config.database_url).await.context("cannot open the database")?;
    db.migrate().await.context("cannot apply migrations")?;
    let (keyring, key_from) = config.key_source.load().context("cannot load the server key")?;
    tracing::info!(key_id = %keyring.key_id(), from = %key_from, "server key ready");
    let signer = Signer::new(db.clone(), keyring.clone());
    let sessions =
        Sessions::connect(db.engine(), &config.database_url).await.context("cannot open the session store")?;
    tokio::spawn(sessions.clone().continuously_delete_expired(Duration::from_secs(3600)));

    let listener = TcpListener::bind(config.addr).await.with_context(|| format!("cannot listen on {}", config.addr))?;
    let bound = listener.local_addr().context("cannot read the bound address")?;
    if config.public_url.is_empty() {
        config.public_url = format!("http://{bound}");
    }

    let leptos_options = LeptosOptions::builder()
        .output_name("gatehouse")
        .site_root(config.site_root.clone())
        .site_pkg_dir("pkg")
        .site_addr(bound)
        .build();
    let secure = config.secure_cookies();
    let public_url = config.public_url.clone();
    let limits = Arc::new(match &config.redis_url {
        Some(url) => RateLimiter::shared(url, &config.redis_namespace).await?,
        None => RateLimiter::default(),
    });
    tracing::info!(
        shared = limits.is_shared(),
        "rate limits ready (shared through Redis when GATEHOUSE_REDIS_URL is set)"
    );
    let keys = KeyVerifier::new(db.clone())
        .with_oauth_resource(&oauth::mcp_resource(&public_url))
        .with_rate_limiter(limits.clone());
    let management = gatehouse_core::management::ManagementVerifier::new(db.clone(), limits.clone());
    let usage = Arc::new(if config.usage_recording { UsageRecorder::default() } else { UsageRecorder::off() });
    if !config.usage_recording {
        tracing::warn!("usage recording is off (GATEHOUSE_USAGE_RECORDING=false): MCP calls are not counted");
    }
    let cleanup = config.oauth_cleanup;
    let webhooks_allow_private = config.webhooks_allow_private;
    let outbound_roots = config.outbound_roots.clone();
    let documents = oauth::ClientDocuments::new(config.metadata_allow_loopback, outbound_roots.clone())
        .map_err(anyhow::Error::msg)?;
    if config.metadata_allow_loopback {
        tracing::warn!(
            "GATEHOUSE_OAUTH_METADATA_ALLOW_LOOPBACK is on: client metadata documents may be fetched from loopback (development only)"
        );
    }
    let clients = oauth::ClientDirectory::new(documents, &public_url);
    let upstreams = crate::gateway::upstream::Upstreams::new(
        db.clone(),
        keyring.clone(),
        signer.clone(),
        &public_url,
        outbound_roots.clone(),
    )
    .map_err(anyhow::Error::msg)?;
    let state = AppState::new(crate::state::Shared {
        leptos_options,
        db: db.clone(),
        config: Arc::new(config),
        keys: keys.clone(),
        management: management.clone(),
        usage: usage.clone(),
        oauth_limits: limits,
        signer: signer.clone(),
        keyring,
        clients,
        upstreams: upstreams.clone(),
    });
    let router = router(state, sessions, secure);
    Ok(Server {
        listener,
        router,
        public_url,
        db,
        keys,
        management,
        usage,
        cleanup,
        webhooks_allow_private,
        outbound_roots,
        signer,
        upstreams,
    })
}

/// The dashboard's routes, listed once per process.
///
/// Leptos lists them by rendering the app with resource loading switched off, and that switch is
/// one flag for the whole process: a page that another server in the same process (the test suite
/// runs many) rendered meanwhile would wait for ever on resources that never load. Listing the
/// routes once, before the first server serves anything, leaves no render for the flag to catch.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole application: health checks, the dashboard pages and server functions, static files.
fn router(state: AppState, sessions: Sessions, secure_cookies: bool) -> Router {
    let routes = route_list();
    let context = state.server_context();
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name("gatehouse_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(CookieDuration::days(14)));

    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let context = context.clone();
                move || {
                    leptos::context::provide_context(context.clone());
                    // A fresh nonce per page; the shell puts it in the Content-Security-Policy.
                    leptos::nonce::provide_nonce();
                }
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .route("/w/{slug}/usage.csv", get(crate::usage_csv::usage_csv))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            move || {
                leptos::context::provide_context(context.clone());
                leptos::nonce::provide_nonce();
            },
            shell,
        ))
        .layer(middleware::from_fn(mw::server_fn_errors::client_errors_are_400))
        .layer(session_layer)
        // The dashboard is authenticated by its session cookie, so it needs CSRF protection. The
        // bearer-token APIs below carry no ambient credential; `/mcp` validates `Origin` itself.
        .layer(middleware::from_fn_with_state(state.clone(), mw::origin::require_same_origin));

    let client_address = middleware::from_fn_with_state(state.clone(), mw::client_address::find_client_address);
    // Everything but `/v1` under one body limit; `/v1` has its own limits, answered in its own
    // error shape (`manage::router`).
    let limited = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(crate::oauth::router())
        .merge(crate::mcp::router(&state))
        // The wasm, JS and CSS; a release build's brotli/gzip copies are sent as they are.
        .nest_service(
            "/pkg",
            ServeDir::new(format!("{}/pkg", state.config.site_root)).precompressed_br().precompressed_gzip(),
        )
        .merge(pages)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    Router::new().merge(crate::manage::router(&state)).merge(limited).with_state(state).layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &http::Request<_>| {
                let request_id =
                    request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
                // The path only: query strings may carry codes or tokens.
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
            }))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(middleware::from_fn(mw::security_headers::security_headers))
            .layer(client_address)
            // Brotli or gzip for pages, CSS, JS and the wasm (1.4 MB optimised, far less compressed).
            .layer(CompressionLayer::new()),
    )
}

/// Writes keys' last-used times and usage counts every few seconds (the request path only notes
/// them in memory).
async fn flush_in_batches(last_used: Vec<Arc<gatehouse_core::keys::LastUsed>>, usage: Arc<UsageRecorder>, db: Db) {
    let mut every = tokio::time::interval(FLUSH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        for last_used in &last_used {
            if let Err(e) = last_used.flush(&db).await {
                tracing::warn!(error = %e, "could not write last-used times; will retry");
            }
        }
        if let Err(e) = usage.flush(&db).await {
            tracing::warn!(error = %e, "could not write usage counts; will retry");
        }
    }
}

/// Every hour: removes stale OAuth clients, requests, codes and tokens, rolls old usage minutes up
/// into hours and days, and rotates the signing key when it is due.
async fn housekeeping(db: Db, policy: CleanupPolicy, signer: Signer) {
    // The first run a minute after start, then hourly.
    let first = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut every = tokio::time::interval_at(first, Duration::from_secs(3600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = oauth::remove_stale(&db, policy).await {
            tracing::warn!(error = %e, "could not clean up OAuth data; will retry");
        }
        if let Err(e) = gatehouse_core::usage::roll_up(&db, gatehouse_core::clock::now_ms()).await {
            tracing::warn!(error = %e, "could not roll up usage; will retry");
        }
        if let Err(e) = gatehouse_core::management::idempotency::sweep(&db, gatehouse_core::clock::now_ms()).await {
            tracing::warn!(error = %e, "could not remove old idempotency answers; will retry");
        }
        if let Err(e) = signer.rotate_if_due().await {
            tracing::warn!(error = %e, "could not rotate the signing key; will retry");
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
