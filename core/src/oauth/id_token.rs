//! OpenID Connect: the ID token a token response carries when the grant has `openid`, signed by the
//! key set published at `/.well-known/jwks.json`, and what the userinfo endpoint answers.
//!
//! Claims: `iss` (the public URL), `sub` (the user's id, which never changes or returns), `aud`
//! (the client's id), `iat`, `exp` (an hour), `nonce` when the authorization request had one,
//! `email` and `email_verified`. `openid` is the only identity scope: it carries the email, since an
//! account is its email here.

use serde::Serialize;
use sqlx::Row;

use super::{OAuthError, TokenResponse, secret};
use crate::{
    Db,
    clock::{HOUR, now_ms},
    keys::AuthFailure,
    scopes::{Scope, ScopeSet},
    signing::Signer,
};

/// How long an ID token is valid.
pub const ID_TOKEN_TTL_SECS: i64 = HOUR / 1000;

/// What signs and names ID tokens.
#[derive(Debug, Clone)]
pub struct IdTokens {
    pub signer: Signer,
    /// The issuer: the public URL.
    pub issuer: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    email: &'a str,
    email_verified: bool,
}

/// The user's email, for the claims.
async fn email_of(db: &Db, user_id: &str) -> Result<String, OAuthError> {
    let row = sqlx::query("SELECT email FROM users WHERE id = $1").bind(user_id).fetch_optional(db.pool()).await?;
    match row {
        Some(row) => Ok(row.try_get("email")?),
        None => Err(OAuthError::invalid_grant("the person who approved this connection no longer has an account")),
    }
}

impl IdTokens {
    /// Adds an ID token to `response` when its scopes include `openid`.
    pub(crate) async fn attach(
        &self,
        db: &Db,
        response: &mut TokenResponse,
        user_id: &str,
        client_id: &str,
        nonce: Option<&str>,
    ) -> Result<(), OAuthError> {
        if !ScopeSet::from_stored(&response.scope).contains(Scope::OpenId) || user_id.is_empty() {
            return Ok(());
        }
        let email = email_of(db, user_id).await?;
        let now = now_ms() / 1000;
        let claims = Claims {
            iss: &self.issuer,
            sub: user_id,
            aud: client_id,
            iat: now,
            exp: now + ID_TOKEN_TTL_SECS,
            nonce,
            email: &email,
            email_verified: false,
        };
        response.id_token = Some(self.signer.sign(&claims).await.map_err(OAuthError::from)?);
        Ok(())
    }
}

/// What the userinfo endpoint answers for an access token.
#[derive(Debug, Clone, Serialize)]
pub struct UserInfo {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
}

/// Why userinfo refuses a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserInfoError {
    /// Unknown, revoked, expired, or its connection ended: 401 `invalid_token`.
    InvalidToken(AuthFailure),
    /// The token's scopes lack `openid`: 403 `insufficient_scope`.
    NoOpenId,
}

/// The person behind an access token that carries `openid` (for whichever resource it was issued).
pub async fn userinfo(db: &Db, token: &str) -> Result<UserInfo, UserInfoError> {
    if !secret::well_formed(token, secret::ACCESS_PREFIX) {
        return Err(UserInfoError::InvalidToken(AuthFailure::Malformed));
    }
    let row = sqlx::query(
        "SELECT t.scopes, t.expires_at, t.revoked_at, g.revoked_at AS grant_revoked_at, g.expires_at AS grant_expires_at,
                g.user_id, u.email
         FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id LEFT JOIN users u ON u.id = g.user_id
         WHERE t.digest = $1 AND t.kind = 'access'",
    )
    .bind(secret::digest(token))
    .fetch_optional(db.pool())
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "userinfo lookup failed");
        UserInfoError::InvalidToken(AuthFailure::Unavailable)
    })?
    .ok_or(UserInfoError::InvalidToken(AuthFailure::UnknownToken))?;
    let get = |r: Result<Option<i64>, sqlx::Error>| r.ok().flatten();
    let now = now_ms();
    if get(row.try_get("revoked_at")).is_some() || get(row.try_get("grant_revoked_at")).is_some() {
        return Err(UserInfoError::InvalidToken(AuthFailure::UnknownToken));
    }
    let expires: i64 = row.try_get("expires_at").unwrap_or(0);
    if expires <= now {
        return Err(UserInfoError::InvalidToken(AuthFailure::TokenExpired { at: expires }));
    }
    if let Some(at) = get(row.try_get("grant_expires_at")).filter(|at| *at <= now) {
        return Err(UserInfoError::InvalidToken(AuthFailure::TokenExpired { at }));
    }
    if !ScopeSet::from_stored(&row.try_get::<String, _>("scopes").unwrap_or_default()).contains(Scope::OpenId) {
        return Err(UserInfoError::NoOpenId);
    }
    let (Ok(Some(sub)), Ok(Some(email))) =
        (row.try_get::<Option<String>, _>("user_id"), row.try_get::<Option<String>, _>("email"))
    else {
        return Err(UserInfoError::InvalidToken(AuthFailure::ApproverGone));
    };
    Ok(UserInfo { sub, email, email_verified: false })
}
