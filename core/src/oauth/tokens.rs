//! Tokens: exchanging a code, rotating refresh tokens, revoking (RFC 7009), and verifying an
//! access token on every MCP call.
//!
//! Access tokens are opaque and live an hour. A refresh token (only with `offline_access`) is
//! replaced on every use. Presenting a replaced one again within [`REISSUE_WINDOW`] answers with
//! the same new pair (hosts refresh concurrently): that pair is derived from the old token and a
//! stored salt, so it is never stored in the clear. Presenting it later revokes the whole grant.

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::{
    ACCESS_TTL, CodeChallenge, ErrorCode, IdTokens, OAuthError, REISSUE_WINDOW, check_resource,
    clients::Client,
    secret::{self, ACCESS_PREFIX, CODE_PREFIX, REFRESH_PREFIX},
};
use crate::{
    Db,
    audit::{self, Actor},
    clock::{Millis, now_ms},
    direct::{self, Columns, FromColumns},
    error::CoreResult,
    ids::random_base62,
    keys::AuthFailure,
    scopes::{Scope, ScopeSet},
};

/// The token endpoint's success answer (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    /// OpenID Connect: present when the scopes include `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// A grant about to be stored.
pub(crate) struct NewGrant<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub workspace_id: &'a str,
    pub user_id: &'a str,
    pub scopes: &'a str,
    pub resource: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub kind: &'a str,
    pub expires_at: Option<Millis>,
    /// The stored form of the upstream servers it reaches.
    pub servers: Option<&'a str>,
}

/// Stores a grant and its first tokens; notes that the client has completed a grant.
pub(crate) async fn create_grant(
    tx: &mut Transaction<'static, Any>,
    g: NewGrant<'_>,
) -> Result<TokenResponse, OAuthError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO oauth_grants (id, client_id, workspace_id, user_id, scopes, resource, redirect_uri, kind, created_at, expires_at,
             servers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(g.id)
    .bind(g.client_id)
    .bind(g.workspace_id)
    .bind(g.user_id)
    .bind(g.scopes)
    .bind(g.resource)
    .bind(g.redirect_uri)
    .bind(g.kind)
    .bind(now)
    .bind(g.expires_at)
    .bind(g.servers)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE oauth_clients SET first_grant_at = $1 WHERE id = $2 AND first_grant_at IS NULL")
        .bind(now)
        .bind(g.client_id)
        .execute(&mut **tx)
        .await?;
    let scopes = ScopeSet::from_stored(g.scopes);
    let access = secret::generate(ACCESS_PREFIX);
    let refresh = scopes.contains(Scope::OfflineAccess).then(|| secret::generate(REFRESH_PREFIX));
    issue(tx, g.id, &scopes, &scopes, g.expires_at, access, refresh).await
}

/// Stores an access token (and a refresh token) for a grant.
async fn issue(
    tx: &mut Transaction<'static, Any>,
    grant_id: &str,
    access_scopes: &ScopeSet,
    grant_scopes: &ScopeSet,
    grant_expires_at: Option<Millis>,
    access: String,
    refresh: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let now = now_ms();
    let access_expires = grant_expires_at.map_or(now + ACCESS_TTL, |end| end.min(now + ACCESS_TTL));
    let insert = "INSERT INTO oauth_tokens (digest, kind, grant_id, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
    sqlx::query(insert)
        .bind(secret::digest(&access))
        .bind("access")
        .bind(grant_id)
        .bind(access_scopes.to_stored())
        .bind(now)
        .bind(access_expires)
        .execute(&mut **tx)
        .await?;
    if let Some(refresh) = &refresh {
        sqlx::query(insert)
            .bind(secret::digest(refresh))
            .bind("refresh")
            .bind(grant_id)
            .bind(grant_scopes.to_stored())
            .bind(now)
            .bind(grant_expires_at)
            .execute(&mut **tx)
            .await?;
    }
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: (access_expires - now).max(0) / 1000,
        refresh_token: refresh,
        scope: access_scopes.to_stored(),
        id_token: None,
    })
}

/// Revokes a grant and every token it issued, and records it in the grant's workspace: by
/// `actor`, or by Gatehouse itself (a reused code or refresh token, a client's revocation).
pub(crate) async fn revoke_grant(db: &Db, grant_id: &str, reason: &str, actor: Option<&Actor>) -> CoreResult<()> {
    let now = now_ms();
    let mut tx = db.pool().begin().await?;
    let revoked = sqlx::query(
        "UPDATE oauth_grants SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL
         RETURNING workspace_id, client_id",
    )
    .bind(now)
    .bind(reason)
    .bind(grant_id)
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(grant_id)
        .execute(&mut *tx)
        .await?;
    if let Some(row) = revoked {
        let workspace_id: String = row.try_get("workspace_id")?;
        let client_name: String = sqlx::query("SELECT name FROM oauth_clients WHERE id = $1")
            .bind(row.try_get::<String, _>("client_id")?)
            .fetch_one(&mut *tx)
            .await?
            .try_get("name")?;
        audit::record(
            &mut *tx,
            &workspace_id,
            actor,
            "connector.removed",
            ("connector", grant_id),
            serde_json::json!({ "client_name": client_name, "reason": reason }),
        )
        .await?;
        tracing::info!(%grant_id, %reason, "OAuth grant revoked");
    }
    tx.commit().await?;
    db.access_changed(grant_id);
    Ok(())
}

/// The authorization-code grant (RFC 6749 §4.1.3 with PKCE).
pub async fn exchange_code(
    db: &Db,
    oidc: &IdTokens,
    client: &Client,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    resource: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let code = code.filter(|c| !c.is_empty()).ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    if !secret::well_formed(code, CODE_PREFIX) {
        return Err(OAuthError::invalid_grant("the code is not valid"));
    }
    let digest = secret::digest(code);
    let row = sqlx::query(
        "SELECT client_id, user_id, workspace_id, redirect_uri, scopes, code_challenge, resource, grant_expires_at,
                expires_at, used_at, grant_id, nonce, servers
         FROM oauth_codes WHERE digest = $1",
    )
    .bind(&digest)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| OAuthError::invalid_grant("the code is not valid: it was not issued here"))?;
    let grant_id: String = row.try_get("grant_id")?;
    if row.try_get::<String, _>("client_id")? != client.id {
        return Err(OAuthError::invalid_grant("the code was issued to another client"));
    }
    if row.try_get::<Option<Millis>, _>("used_at")?.is_some() {
        revoke_grant(db, &grant_id, "authorization code used twice", None).await?;
        return Err(OAuthError::invalid_grant("the code has already been used; the tokens it issued are now revoked"));
    }
    if row.try_get::<Millis, _>("expires_at")? <= now_ms() {
        return Err(OAuthError::invalid_grant("the code has expired: codes must be exchanged within 60 seconds"));
    }
    let stored_redirect: String = row.try_get("redirect_uri")?;
    match redirect_uri {
        None => {
            return Err(OAuthError::invalid_request(
                "redirect_uri is missing; send the one of the authorization request",
            ));
        }
        Some(uri) if uri != stored_redirect => {
            return Err(OAuthError::invalid_grant("redirect_uri does not match the one of the authorization request"));
        }
        Some(_) => {}
    }
    let verifier = verifier
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is missing (PKCE is required)"))?;
    CodeChallenge::from_stored(row.try_get("code_challenge")?).verify(verifier).map_err(OAuthError::invalid_grant)?;
    let stored_resource: String = row.try_get("resource")?;
    check_resource(resource, &stored_resource)?;

    let mut tx = db.pool().begin().await?;
    let claimed = sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
        .bind(now_ms())
        .bind(&digest)
        .execute(&mut *tx)
        .await?;
    if claimed.rows_affected() != 1 {
        return Err(OAuthError::invalid_grant("the code has already been used"));
    }
    let scopes: String = row.try_get("scopes")?;
    let workspace_id: String = row.try_get("workspace_id")?;
    let user_id: String = row.try_get("user_id")?;
    let servers: Option<String> = row.try_get("servers")?;
    let mut response = create_grant(
        &mut tx,
        NewGrant {
            id: &grant_id,
            client_id: &client.id,
            workspace_id: &workspace_id,
            user_id: &user_id,
            scopes: &scopes,
            resource: &stored_resource,
            redirect_uri: Some(&stored_redirect),
            kind: "authorization_code",
            expires_at: row.try_get("grant_expires_at")?,
            servers: servers.as_deref(),
        },
    )
    .await?;
    tx.commit().await?;
    let nonce: Option<String> = row.try_get("nonce")?;
    oidc.attach(db, &mut response, &user_id, &client.id, nonce.as_deref()).await?;
    Ok(response)
}

/// The refresh-token grant (RFC 6749 §6), with rotation and reuse detection.
pub async fn refresh(
    db: &Db,
    oidc: &IdTokens,
    client: &Client,
    token: Option<&str>,
    scope: Option<&str>,
    resource: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let token =
        token.filter(|t| !t.is_empty()).ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    if !secret::well_formed(token, REFRESH_PREFIX) {
        return Err(OAuthError::invalid_grant("the refresh token is not valid"));
    }
    if !client.allows_grant("refresh_token") {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client did not register the refresh_token grant",
        ));
    }
    let digest = secret::digest(token);
    // Twice at most: when another request rotated this token between our read and our write,
    // the second pass finds it replaced and answers from the reissue window.
    for _ in 0..2 {
        let row = sqlx::query(
            "SELECT t.revoked_at, t.replaced_at, t.reissue_salt, g.id AS grant_id, g.client_id, g.scopes AS grant_scopes,
                    g.resource, g.expires_at AS grant_expires_at, g.revoked_at AS grant_revoked_at, g.user_id
             FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id
             WHERE t.digest = $1 AND t.kind = 'refresh'",
        )
        .bind(&digest)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the refresh token is not valid: it was not issued here"))?;
        let grant_id: String = row.try_get("grant_id")?;
        if row.try_get::<String, _>("client_id")? != client.id {
            return Err(OAuthError::invalid_grant("the refresh token was issued to another client"));
        }
        let user_id: String = row.try_get::<Option<String>, _>("user_id")?.unwrap_or_default();
        let now = now_ms();
        if row.try_get::<Option<Millis>, _>("grant_revoked_at")?.is_some() {
            return Err(OAuthError::invalid_grant("this connection has been removed; connect again"));
        }
        let grant_expires_at: Option<Millis> = row.try_get("grant_expires_at")?;
        if grant_expires_at.is_some_and(|at| at <= now) {
            return Err(OAuthError::invalid_grant("this connection has expired; connect again"));
        }
        if row.try_get::<Option<Millis>, _>("revoked_at")?.is_some() {
            return Err(OAuthError::invalid_grant("the refresh token has been revoked"));
        }
        check_resource(resource, &row.try_get::<String, _>("resource")?)?;
        let grant_scopes = ScopeSet::from_stored(&row.try_get::<String, _>("grant_scopes")?);
        let access_scopes = match scope {
            None => grant_scopes.clone(),
            Some(s) => {
                let asked = ScopeSet::parse_for_oauth(s).map_err(|m| OAuthError::new(ErrorCode::InvalidScope, m))?;
                if !asked.is_subset_of(&grant_scopes) {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidScope,
                        format!(
                            "a refresh may only narrow the scopes; this connection has: {}",
                            grant_scopes.to_stored()
                        ),
                    ));
                }
                asked
            }
        };

        if let Some(replaced_at) = row.try_get::<Option<Millis>, _>("replaced_at")? {
            let salt: Option<String> = row.try_get("reissue_salt")?;
            if now - replaced_at <= REISSUE_WINDOW
                && let Some(salt) = salt
            {
                let mut response = reissued(db, token, &salt).await?;
                oidc.attach(db, &mut response, &user_id, &client.id, None).await?;
                return Ok(response);
            }
            revoke_grant(db, &grant_id, "a replaced refresh token was used again", None).await?;
            return Err(OAuthError::invalid_grant(
                "this refresh token was already used; for safety the whole connection has been revoked — connect again",
            ));
        }

        let salt = random_base62(22);
        let mut tx = db.pool().begin().await?;
        let claimed = sqlx::query(
            "UPDATE oauth_tokens SET replaced_at = $1, reissue_salt = $2
             WHERE digest = $3 AND replaced_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(&salt)
        .bind(&digest)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            drop(tx);
            continue;
        }
        let access = secret::derive(ACCESS_PREFIX, token, "access", &salt);
        let next = secret::derive(REFRESH_PREFIX, token, "refresh", &salt);
        let mut response =
            issue(&mut tx, &grant_id, &access_scopes, &grant_scopes, grant_expires_at, access, Some(next)).await?;
        tx.commit().await?;
        oidc.attach(db, &mut response, &user_id, &client.id, None).await?;
        return Ok(response);
    }
    Err(OAuthError::invalid_grant("the refresh token is being used concurrently; retry"))
}

/// The pair that replaced `token`, derived again.
async fn reissued(db: &Db, token: &str, salt: &str) -> Result<TokenResponse, OAuthError> {
    let access = secret::derive(ACCESS_PREFIX, token, "access", salt);
    let next = secret::derive(REFRESH_PREFIX, token, "refresh", salt);
    let row = sqlx::query("SELECT scopes, expires_at FROM oauth_tokens WHERE digest = $1 AND revoked_at IS NULL")
        .bind(secret::digest(&access))
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the refresh token has been revoked"))?;
    let expires_at: Millis = row.try_get("expires_at")?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: (expires_at - now_ms()).max(0) / 1000,
        refresh_token: Some(next),
        scope: row.try_get("scopes")?,
        id_token: None,
    })
}

/// Token revocation (RFC 7009). Revoking a refresh token ends the whole grant; an access token
/// just itself. Unknown tokens, and tokens of other clients, are answered the same way: success,
/// with nothing changed.
pub async fn revoke_token(db: &Db, client: &Client, token: &str) -> Result<(), OAuthError> {
    let kind = if secret::well_formed(token, ACCESS_PREFIX) {
        "access"
    } else if secret::well_formed(token, REFRESH_PREFIX) {
        "refresh"
    } else {
        return Ok(());
    };
    let row = sqlx::query(
        "SELECT t.grant_id, g.client_id FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id
         WHERE t.digest = $1 AND t.kind = $2",
    )
    .bind(secret::digest(token))
    .bind(kind)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(()) };
    if row.try_get::<String, _>("client_id")? != client.id {
        return Ok(());
    }
    if kind == "refresh" {
        Ok(revoke_grant(db, &row.try_get::<String, _>("grant_id")?, "revoked by the client", None).await?)
    } else {
        sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE digest = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(secret::digest(token))
            .execute(db.pool())
            .await?;
        db.access_changed(&row.try_get::<String, _>("grant_id")?);
        Ok(())
    }
}

/// What a valid access token grants.
#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub grant_id: String,
    pub client_id: String,
    pub client_name: String,
    pub user_id: String,
    pub workspace_id: String,
    pub workspace_slug: String,
    pub workspace_name: String,
    pub scopes: ScopeSet,
    pub expires_at: Millis,
    pub rate_limit_per_minute: i64,
    /// The upstream servers the connector may reach.
    pub servers: crate::servers::ServerAccess,
}

const ACCESS_ROW_SQL: &str =
    "SELECT t.scopes, t.expires_at, t.revoked_at, g.id AS grant_id, g.client_id, g.user_id, g.resource,
            g.expires_at AS grant_expires_at, g.revoked_at AS grant_revoked_at, g.servers, c.name AS client_name,
            w.id AS workspace_id, w.slug, w.name AS workspace_name, w.key_rate_limit_per_minute, m.role
     FROM oauth_tokens t
     JOIN oauth_grants g ON g.id = t.grant_id
     JOIN oauth_clients c ON c.id = g.client_id
     JOIN workspaces w ON w.id = g.workspace_id
     LEFT JOIN memberships m ON m.workspace_id = g.workspace_id AND m.user_id = g.user_id
     WHERE t.digest = $1 AND t.kind = 'access'";

/// An access token's row, before the checks.
struct AccessRow {
    revoked: bool,
    member: bool,
    grant_expires_at: Option<Millis>,
    resource: String,
    grant: AccessGrant,
}

impl FromColumns for AccessRow {
    fn from_columns(row: &impl Columns) -> CoreResult<Self> {
        Ok(AccessRow {
            revoked: row.col::<Option<Millis>>("revoked_at")?.is_some()
                || row.col::<Option<Millis>>("grant_revoked_at")?.is_some(),
            member: row.col::<Option<String>>("role")?.is_some(),
            grant_expires_at: row.col("grant_expires_at")?,
            resource: row.col("resource")?,
            grant: AccessGrant {
                grant_id: row.col("grant_id")?,
                client_id: row.col("client_id")?,
                client_name: row.col("client_name")?,
                user_id: row.col::<Option<String>>("user_id")?.unwrap_or_default(),
                workspace_id: row.col("workspace_id")?,
                workspace_slug: row.col("slug")?,
                workspace_name: row.col("workspace_name")?,
                scopes: ScopeSet::from_stored(&row.col::<String>("scopes")?),
                expires_at: row.col("expires_at")?,
                rate_limit_per_minute: row.col("key_rate_limit_per_minute")?,
                servers: crate::servers::ServerAccess::from_stored(row.col::<Option<String>>("servers")?.as_deref()),
            },
        })
    }
}

/// An access token as read, before the clock and the audience are checked.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// What it grants; `expires_at` is the token's own end.
    pub grant: AccessGrant,
    /// The end the person chose for the whole connection, if any.
    pub grant_expires_at: Option<Millis>,
    /// The resource (RFC 8707) it was issued for.
    pub resource: String,
}

/// Reads an access token: known, not revoked, its grant alive and its approver still a member of
/// the grant's workspace. Its expiry and audience are the caller's to check, on every use.
pub async fn read_access(db: &Db, token: &str) -> Result<AccessToken, AuthFailure> {
    if !secret::well_formed(token, ACCESS_PREFIX) {
        return Err(AuthFailure::Malformed);
    }
    let digest = secret::digest(token);
    let found = direct::fetch_optional::<AccessRow>(db, ACCESS_ROW_SQL, &[digest.as_str().into()]).await;
    let AccessRow { revoked, member, grant_expires_at, resource, grant } = found
        .map_err(|e| {
            tracing::error!(error = %e, "access token lookup failed");
            AuthFailure::Unavailable
        })?
        .ok_or(AuthFailure::UnknownToken)?;
    if revoked {
        return Err(AuthFailure::UnknownToken);
    }
    if !member {
        return Err(AuthFailure::ApproverGone);
    }
    Ok(AccessToken { grant, grant_expires_at, resource })
}
