//! The authorization endpoint and the consent it leads to.
//!
//! `start` checks a request: an unknown client or a redirect URI that is not registered exactly
//! is an error page (never a redirect); every other problem goes back to the client's redirect
//! URI as RFC 6749 §4.1.2.1 says. A valid request is stored and the person is shown the consent
//! page for it. Approving or denying decides the stored request once: a second decision changes
//! nothing.

use sqlx::Row;

use super::{
    CODE_TTL, ClientDirectory, CodeChallenge, ErrorCode, Lifetime, OAuthError, REQUEST_TTL,
    redirect::host_of,
    resolve_resource,
    secret::{self, CODE_PREFIX},
    truncate,
};
use crate::{
    Db,
    audit::{self, Actor},
    clock::{Millis, now_ms},
    error::{CoreError, CoreResult},
    ids::new_id,
    keys::Environment,
    scopes::ScopeSet,
    servers::ServerAccess,
    workspaces,
};

/// The query of an authorization request, as sent.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub resource: Option<String>,
    /// OpenID Connect: echoed in the ID token.
    pub nonce: Option<String>,
}

/// Why an authorization request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown to the person on an error page: the client or its redirect URI cannot be trusted.
    Page(String),
    /// Sent back to the client: this URL carries `error`, `error_description`, `state`, `iss`.
    Redirect(String),
}

/// `uri` with the parameters added to its query.
pub(crate) fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

fn error_redirect(uri: &str, state: Option<&str>, issuer: &str, error: &OAuthError) -> AuthorizeError {
    let mut pairs = vec![("error", error.code.as_str()), ("error_description", error.description.as_str())];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    AuthorizeError::Redirect(redirect_with(uri, &pairs))
}

/// Checks an authorization request and stores it for the consent page; returns its id.
pub async fn start(
    db: &Db,
    clients: &ClientDirectory,
    params: AuthorizeParams,
    issuer: &str,
) -> Result<String, AuthorizeError> {
    let client_id = params
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AuthorizeError::Page("The request names no client (client_id is missing).".into()))?;
    let found = clients.find(db, client_id).await.map_err(|e| match e.code {
        ErrorCode::ServerError => {
            AuthorizeError::Page("The server could not read this request. Try again shortly.".into())
        }
        // A metadata document that cannot be used: say why, and send the person nowhere.
        _ => AuthorizeError::Page(format!("The app that sent you cannot be verified: {}.", e.description)),
    })?;
    let client = found.ok_or_else(|| {
        AuthorizeError::Page(format!(
            "No client {:?} is registered here. The app that sent you may need to register again.",
            truncate(client_id, 64)
        ))
    })?;
    let redirect_uri = match params.redirect_uri.as_deref() {
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        Some(uri) => {
            return Err(AuthorizeError::Page(format!(
                "The redirect URI {:?} is not one that {} registered, so Gatehouse will not send you there.",
                truncate(uri, 200),
                client.name
            )));
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return Err(AuthorizeError::Page(
                "The request has no redirect_uri and the client registered several.".into(),
            ));
        }
    };
    let state = params.state.as_deref();
    let fail = |e: OAuthError| error_redirect(&redirect_uri, state, issuer, &e);

    if state.is_some_and(|s| s.len() > 2048) {
        return Err(fail(OAuthError::invalid_request("state is longer than 2048 characters")));
    }
    if params.nonce.as_deref().is_some_and(|n| n.len() > 512) {
        return Err(fail(OAuthError::invalid_request("nonce is longer than 512 characters")));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => return Err(fail(OAuthError::invalid_request("response_type is missing; it must be code"))),
        Some(other) => {
            return Err(fail(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!("response_type {:?} is not supported; only code is", truncate(other, 40)),
            )));
        }
    }
    if !client.allows_grant("authorization_code") {
        return Err(fail(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client did not register the authorization_code grant",
        )));
    }
    let challenge = CodeChallenge::parse(params.code_challenge.as_deref(), params.code_challenge_method.as_deref())
        .map_err(|m| fail(OAuthError::invalid_request(m)))?;
    let scopes = requested_scopes(params.scope.as_deref(), client.scope.as_ref()).map_err(fail)?;
    let resource = resolve_resource(params.resource.as_deref(), issuer).map_err(fail)?;

    let id = new_id("areq");
    let now = now_ms();
    sqlx::query(
        "INSERT INTO oauth_requests (id, client_id, redirect_uri, scopes, state, code_challenge, resource, created_at, expires_at,
             nonce)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&client.id)
    .bind(&redirect_uri)
    .bind(scopes.to_stored())
    .bind(state)
    .bind(challenge.as_str())
    .bind(&resource)
    .bind(now)
    .bind(now + REQUEST_TTL)
    .bind(params.nonce.as_deref())
    .execute(db.pool())
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "could not store an authorization request");
        fail(OAuthError::server_error())
    })?;
    Ok(id)
}

/// The scopes asked for: the `scope` parameter, or (when absent) what the client registered, or
/// the whole catalog. Unknown names are refused. A request beyond the client's registration is
/// narrowed to it (RFC 6749 §3.3; MCP hosts often ask for every scope the resource lists), and
/// refused only when nothing is left.
pub(crate) fn requested_scopes(scope: Option<&str>, registered: Option<&ScopeSet>) -> Result<ScopeSet, OAuthError> {
    let scopes = match scope {
        Some(s) => ScopeSet::parse_for_oauth(s).map_err(|m| OAuthError::new(ErrorCode::InvalidScope, m))?,
        None => registered.cloned().unwrap_or_else(ScopeSet::all),
    };
    match registered {
        Some(registered) if !scopes.is_subset_of(registered) => {
            let narrowed = ScopeSet::from_scopes(scopes.iter().filter(|s| registered.contains(*s)).collect());
            if narrowed.iter().next().is_none() {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    format!("the client registered only these scopes: {}", registered.to_stored()),
                ));
            }
            Ok(narrowed)
        }
        _ => Ok(scopes),
    }
}

/// Where a stored request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentStatus {
    Pending,
    Approved,
    Denied,
    Expired,
}

/// A stored authorization request, as the consent page shows it.
#[derive(Debug, Clone)]
pub struct ConsentRequest {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub client_uri: Option<String>,
    pub redirect_uri: String,
    pub redirect_host: String,
    /// For a client identified by a metadata document: the host its id (the document's URL) is
    /// on, which Gatehouse fetched the document from — verified. `None` for a registered client,
    /// whose name is its own choice.
    pub verified_host: Option<String>,
    pub scopes: ScopeSet,
    pub status: ConsentStatus,
    pub expires_at: Millis,
    /// The resource asked for: `<public URL>/mcp`, or one upstream server's `/mcp/{slug}`.
    pub resource: String,
}

/// The request behind a consent page. Anyone signed in may look at it; deciding needs a role.
pub async fn consent_request(db: &Db, id: &str) -> CoreResult<ConsentRequest> {
    let row = sqlx::query(
        "SELECT r.id, r.client_id, c.name, c.client_uri, c.kind, r.redirect_uri, r.scopes, r.expires_at, r.decision, r.resource
         FROM oauth_requests r JOIN oauth_clients c ON c.id = r.client_id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(CoreError::NotFound)?;
    let expires_at: Millis = row.try_get("expires_at")?;
    let decision: Option<String> = row.try_get("decision")?;
    let status = match decision.as_deref() {
        Some("approved") => ConsentStatus::Approved,
        Some(_) => ConsentStatus::Denied,
        None if expires_at <= now_ms() => ConsentStatus::Expired,
        None => ConsentStatus::Pending,
    };
    let redirect_uri: String = row.try_get("redirect_uri")?;
    let client_id: String = row.try_get("client_id")?;
    let verified_host = (row.try_get::<String, _>("kind")? == "metadata_document")
        .then(|| url::Url::parse(&client_id).ok().and_then(|u| u.host_str().map(str::to_owned)))
        .flatten();
    Ok(ConsentRequest {
        id: row.try_get("id")?,
        verified_host,
        client_id,
        client_name: row.try_get("name")?,
        client_uri: row.try_get("client_uri")?,
        redirect_host: host_of(&redirect_uri),
        redirect_uri,
        scopes: ScopeSet::from_stored(&row.try_get::<String, _>("scopes")?),
        status,
        expires_at,
        resource: row.try_get("resource")?,
    })
}

/// Marks the request decided, once; the second decision (or one after expiry) is refused.
async fn decide(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
    user_id: &str,
    decision: &str,
) -> CoreResult<sqlx::any::AnyRow> {
    let now = now_ms();
    sqlx::query(
        "UPDATE oauth_requests SET decided_at = $1, decided_by = $2, decision = $3
         WHERE id = $4 AND decided_at IS NULL AND expires_at > $1
         RETURNING client_id, redirect_uri, scopes, state, code_challenge, resource, nonce",
    )
    .bind(now)
    .bind(user_id)
    .bind(decision)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| {
        CoreError::Conflict(
            "This request has already been answered, or it has expired. Start again from the app you are connecting."
                .into(),
        )
    })
}

/// The upstream servers a new connector reaches: for a resource that is one server's
/// (`/mcp/{slug}`), that server, which the workspace must have; otherwise what the person chose,
/// each a live server of the workspace (connectors act on live data).
pub(crate) async fn grant_servers(
    db: &Db,
    workspace_id: &str,
    resource: &str,
    issuer: &str,
    chosen: ServerAccess,
) -> CoreResult<ServerAccess> {
    let access = match super::server_of_resource(resource, issuer) {
        Some(slug) => ServerAccess::parse(slug)?,
        None => chosen,
    };
    crate::keys::check_servers(db, workspace_id, Environment::Live, &access).await.map_err(|e| match e {
        CoreError::Invalid { message, .. } => CoreError::invalid("servers", message),
        other => other,
    })?;
    Ok(access)
}

/// Approves the request for one of the person's workspaces (where they are an admin or owner),
/// reaching the upstream servers chosen; returns the client's redirect URL with the code.
pub async fn approve(
    db: &Db,
    actor: &Actor,
    id: &str,
    slug: &str,
    lifetime: Lifetime,
    issuer: &str,
    servers: ServerAccess,
) -> CoreResult<String> {
    let m = workspaces::membership(db, &actor.user_id, slug).await.map_err(|e| match e {
        CoreError::NotFound => CoreError::invalid("workspace", "Choose one of your workspaces."),
        other => other,
    })?;
    m.role.require_admin("connect an app to this workspace")?;
    let mut tx = db.pool().begin().await?;
    let row = decide(&mut tx, id, &actor.user_id, "approved").await?;
    let now = now_ms();
    let code = secret::generate(CODE_PREFIX);
    let grant_id = new_id("con");
    let client_id: String = row.try_get("client_id")?;
    let redirect_uri: String = row.try_get("redirect_uri")?;
    let scopes: String = row.try_get("scopes")?;
    let state: Option<String> = row.try_get("state")?;
    let resource: String = row.try_get("resource")?;
    let servers = grant_servers(db, &m.workspace.id, &resource, issuer, servers).await?;
    sqlx::query(
        "INSERT INTO oauth_codes (digest, client_id, user_id, workspace_id, redirect_uri, scopes, code_challenge,
             resource, grant_expires_at, created_at, expires_at, grant_id, nonce, servers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(secret::digest(&code))
    .bind(&client_id)
    .bind(&actor.user_id)
    .bind(&m.workspace.id)
    .bind(&redirect_uri)
    .bind(&scopes)
    .bind(row.try_get::<String, _>("code_challenge")?)
    .bind(&resource)
    .bind(lifetime.ends_at(now))
    .bind(now)
    .bind(now + CODE_TTL)
    .bind(&grant_id)
    .bind(row.try_get::<Option<String>, _>("nonce")?)
    .bind(servers.to_stored())
    .execute(&mut *tx)
    .await?;
    let client_name: String = sqlx::query("SELECT name FROM oauth_clients WHERE id = $1")
        .bind(&client_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("name")?;
    audit::record(
        &mut *tx,
        &m.workspace.id,
        Some(actor),
        "connector.approved",
        ("connector", &grant_id),
        serde_json::json!({
            "client_id": client_id,
            "client_name": client_name,
            "redirect_host": host_of(&redirect_uri),
            "scopes": scopes,
            "expires_at": lifetime.ends_at(now),
            "servers": servers.to_stored(),
        }),
    )
    .await?;
    tx.commit().await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = state.as_deref() {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    Ok(redirect_with(&redirect_uri, &pairs))
}

/// Denies the request; returns the client's redirect URL with `error=access_denied`.
pub async fn deny(db: &Db, actor: &Actor, id: &str, issuer: &str) -> CoreResult<String> {
    let mut tx = db.pool().begin().await?;
    let row = decide(&mut tx, id, &actor.user_id, "denied").await?;
    tx.commit().await?;
    let redirect_uri: String = row.try_get("redirect_uri")?;
    let state: Option<String> = row.try_get("state")?;
    let error = OAuthError::new(ErrorCode::AccessDenied, "The person signed in to Gatehouse denied the request.");
    match error_redirect(&redirect_uri, state.as_deref(), issuer, &error) {
        AuthorizeError::Redirect(url) | AuthorizeError::Page(url) => Ok(url),
    }
}
