//! The one way in for bearers: an `Authorization` header carrying an API key or an OAuth access
//! token becomes a [`Principal`] (workspace, environment, scopes, key or connector) or a typed
//! [`AuthFailure`] that says exactly what is wrong.
//!
//! Keys: header shape → key format and checksum (no database) → the credential cache, or a
//! lookup by id with a constant-time digest comparison → revoked / expired → rate limit →
//! last-used noted in memory. OAuth access tokens (`gat_…`): header shape → the cache, or a
//! lookup by digest with their grant → revoked / expired / audience → rate limit → last-used
//! noted in memory. What the cache holds and when it lets go: [`super::cache`].

use std::{net::IpAddr, sync::Arc, time::Duration};

use serde::Serialize;

use super::{
    LastUsed, RateLimiter,
    cache::{self, Ends, Fingerprint, Verified},
    lookup,
    token::{Environment, KeyKind, KeyToken, TokenFormatError, digest_matches},
};
use crate::{
    Db,
    changes::{
        Stamp, Topic,
        cache::{Cached, StampedCache},
    },
    clock::{Millis, now_ms},
    net::{Networks, canonical},
    oauth,
    scopes::ScopeSet,
    servers::ServerAccess,
};

/// Longest `Authorization` header looked at; a real one is under 100 bytes.
const MAX_HEADER_LEN: usize = 512;

/// How the caller authenticated.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Via {
    Key,
    /// An OAuth access token of a connector (`caller_id` is the connector's id).
    Connector {
        client_id: String,
        user_id: String,
    },
}

/// Who is calling, as every endpoint and tool sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Principal {
    pub workspace_id: String,
    pub workspace_slug: String,
    pub workspace_name: String,
    pub environment: Environment,
    pub scopes: ScopeSet,
    /// Agent and app ids the key is limited to; `None` for all of the workspace's.
    pub resources: Option<Vec<String>>,
    /// The key's id, or the connector's.
    pub caller_id: String,
    /// The key's name, or the connected client's.
    pub caller_name: String,
    pub expires_at: Option<Millis>,
    pub via: Via,
    /// The upstream servers (and tools) it may reach.
    pub servers: ServerAccess,
}

impl Principal {
    /// Whether the key may touch this agent or app.
    pub fn may_use(&self, resource_id: &str) -> bool {
        self.resources.as_ref().is_none_or(|allowed| allowed.iter().any(|r| r == resource_id))
    }

    pub fn is_oauth(&self) -> bool {
        matches!(self.via, Via::Connector { .. })
    }
}

/// Why a request is not authenticated. `code`, `message` and `next_action` form the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    MissingHeader,
    NotBearer,
    EmptyToken,
    ExtraSpace,
    /// Whitespace and more after the key. (Whitespace at the very end never reaches us: HTTP
    /// removes it from header values, RFC 9110 §5.5.)
    TextAfterKey,
    HeaderTooLong,
    NotAscii,
    NotAKey,
    Malformed,
    BadChecksum,
    UnknownKey,
    Expired {
        at: Millis,
    },
    Revoked {
        at: Millis,
    },
    RateLimited {
        retry_after: Duration,
    },
    /// An OAuth access token that is unknown, revoked, or whose connector was removed.
    UnknownToken,
    /// An OAuth access token (or its connection) past its end.
    TokenExpired {
        at: Millis,
    },
    /// The person who approved the connection is no longer a member of its workspace.
    ApproverGone,
    /// An OAuth access token issued for another resource.
    WrongAudience,
    /// A management key (`sk_live_`) where an API key or access token is needed (`/mcp`).
    ManagementKeyHere,
    /// An API key or access token where a management key is needed (the management API).
    ManagementKeyNeeded,
    /// The key may only be used from chosen networks, and this call came from another address.
    AddressNotAllowed {
        address: String,
    },
    /// The database did not answer; not the client's fault.
    Unavailable,
}

impl AuthFailure {
    pub fn code(&self) -> &'static str {
        match self {
            AuthFailure::Expired { .. } => "KEY_EXPIRED",
            AuthFailure::Revoked { .. } => "KEY_REVOKED",
            AuthFailure::TokenExpired { .. } => "TOKEN_EXPIRED",
            AuthFailure::RateLimited { .. } => "RATE_LIMITED",
            AuthFailure::ManagementKeyHere | AuthFailure::ManagementKeyNeeded => "WRONG_KEY_TYPE",
            AuthFailure::AddressNotAllowed { .. } => "IP_NOT_ALLOWED",
            AuthFailure::Unavailable => "UNAVAILABLE",
            _ => "UNAUTHORIZED",
        }
    }

    pub fn message(&self) -> String {
        match self {
            AuthFailure::MissingHeader => "The Authorization header is missing.".into(),
            AuthFailure::NotBearer => "The Authorization header must use the Bearer scheme.".into(),
            AuthFailure::EmptyToken => "The Authorization header says Bearer but carries no key.".into(),
            AuthFailure::ExtraSpace => "There must be exactly one space between Bearer and the key.".into(),
            AuthFailure::TextAfterKey => "The key is followed by whitespace and more text.".into(),
            AuthFailure::HeaderTooLong => format!("The Authorization header is longer than {MAX_HEADER_LEN} bytes."),
            AuthFailure::NotAscii => "The Authorization header contains characters that cannot be in a key.".into(),
            AuthFailure::NotAKey => {
                "This is not a Gatehouse credential: API keys start with pk_live_ or pk_test_, management keys with sk_live_, OAuth access tokens with gat_."
                    .into()
            }
            AuthFailure::Malformed => {
                "The key or access token is incomplete or mistyped: it has the wrong length or characters.".into()
            }
            AuthFailure::BadChecksum => "The key is incomplete or mistyped: its checksum does not match.".into(),
            AuthFailure::UnknownKey => {
                "No key matches this one. It may have been deleted, or belong to another Gatehouse.".into()
            }
            AuthFailure::Expired { .. } => "This key has expired.".into(),
            AuthFailure::Revoked { .. } => "This key has been revoked.".into(),
            AuthFailure::RateLimited { retry_after } => {
                format!("This key made too many requests. Retry in {} seconds.", retry_after_secs(*retry_after))
            }
            AuthFailure::UnknownToken => {
                "This access token is not valid here: it is unknown or revoked, or its connection was removed.".into()
            }
            AuthFailure::TokenExpired { .. } => "This access token has expired.".into(),
            AuthFailure::ApproverGone => {
                "The person who approved this connection is no longer a member of its workspace.".into()
            }
            AuthFailure::WrongAudience => "This access token was issued for another resource.".into(),
            AuthFailure::ManagementKeyHere => {
                "This is a management key (sk_live_…): it works on the management API (/v1/keys, /v1/usage, …), not here."
                    .into()
            }
            AuthFailure::ManagementKeyNeeded => {
                "The management API takes a management key (sk_live_…), not an API key or an OAuth access token.".into()
            }
            AuthFailure::AddressNotAllowed { address } => {
                format!("This key may not be used from {address}: it is limited to chosen networks.")
            }
            AuthFailure::Unavailable => "Credentials cannot be checked right now. Retry shortly.".into(),
        }
    }

    pub fn next_action(&self) -> &'static str {
        match self {
            AuthFailure::MissingHeader | AuthFailure::NotBearer | AuthFailure::EmptyToken => {
                "Send the header as: Authorization: Bearer pk_live_… (or pk_test_…)."
            }
            AuthFailure::ExtraSpace | AuthFailure::TextAfterKey | AuthFailure::NotAscii => {
                "Send the key exactly as it was shown, with nothing before or after it."
            }
            AuthFailure::HeaderTooLong | AuthFailure::NotAKey => {
                "Create an API key in the Gatehouse dashboard (API keys) and send it as the Bearer token."
            }
            AuthFailure::Malformed | AuthFailure::BadChecksum => {
                "Copy the whole key again from where you saved it; keys are shown only once, so create a new one if it is lost."
            }
            AuthFailure::UnknownKey | AuthFailure::Revoked { .. } => {
                "Create a new key in the Gatehouse dashboard (API keys) and use it instead."
            }
            AuthFailure::Expired { .. } => "Roll or create a key in the Gatehouse dashboard (API keys).",
            AuthFailure::RateLimited { .. } => {
                "Wait for Retry-After seconds, or ask an admin to raise this key's rate limit."
            }
            AuthFailure::UnknownToken | AuthFailure::ApproverGone | AuthFailure::WrongAudience => {
                "Connect again: the MCP host will start the OAuth flow and ask you to approve it."
            }
            AuthFailure::TokenExpired { .. } => {
                "Refresh the access token with the refresh token, or connect again if the connection itself has ended."
            }
            AuthFailure::ManagementKeyHere => {
                "Call MCP with an API key (pk_live_… or pk_test_…) or an OAuth connection; keep the management key for /v1."
            }
            AuthFailure::ManagementKeyNeeded => {
                "Create a management key in the Gatehouse dashboard (Settings → Management keys) or with `gatehouse admin-key create`, and send it as the Bearer token."
            }
            AuthFailure::AddressNotAllowed { .. } => {
                "Call from one of the key's allowed networks, or ask an admin to add this address to them (API keys → Edit)."
            }
            AuthFailure::Unavailable => {
                "Retry in a few seconds; if it persists, the Gatehouse operator should check /readyz."
            }
        }
    }
}

/// Whole seconds to wait, at least one.
pub fn retry_after_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0).max(u64::from(d.as_secs() == 0))
}

/// Checks keys and OAuth access tokens, against the credential cache or the database, with the
/// rate limiter and the last-used recorders they share.
#[derive(Debug, Clone)]
pub struct KeyVerifier {
    db: Db,
    /// The resource OAuth access tokens must be issued for; `None` refuses them all.
    oauth_resource: Option<Arc<str>>,
    pub rate_limiter: Arc<RateLimiter>,
    pub last_used: Arc<LastUsed>,
    pub connector_last_used: Arc<LastUsed>,
    /// Credentials verified before (`super::cache`).
    cache: Arc<StampedCache<Fingerprint, Verified>>,
}

impl KeyVerifier {
    pub fn new(db: Db) -> Self {
        let cache = StampedCache::new(db.changes().clone(), Topic::Access, cache::CAPACITY, cache::MAX_AGE);
        KeyVerifier {
            db,
            oauth_resource: None,
            rate_limiter: Arc::default(),
            last_used: Arc::new(LastUsed::for_keys()),
            connector_last_used: Arc::new(LastUsed::for_connectors()),
            cache: Arc::new(cache),
        }
    }

    /// Uses these buckets (shared through Redis, say) instead of its own.
    pub fn with_rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.rate_limiter = limiter;
        self
    }

    /// Accepts OAuth access tokens issued for `resource`.
    pub fn with_oauth_resource(mut self, resource: &str) -> Self {
        self.oauth_resource = Some(Arc::from(resource));
        self
    }

    /// How many credentials the cache holds now.
    pub fn cached_credentials(&self) -> usize {
        self.cache.len()
    }

    /// The whole check, from the raw header value (if any) to a principal; OAuth access tokens
    /// must have been issued for the main MCP resource (`/mcp`). `client` is the caller's address
    /// (behind trusted proxies), which a key limited to chosen networks must come from.
    pub async fn verify_header(
        &self,
        header: Option<&[u8]>,
        client: Option<IpAddr>,
    ) -> Result<Arc<Principal>, AuthFailure> {
        self.verify_header_for(header, None, client).await
    }

    /// The same for a request to `resource` (an upstream server's `<public URL>/mcp/{slug}`, say):
    /// an OAuth access token must have been issued for exactly that resource (RFC 8707).
    pub async fn verify_header_for(
        &self,
        header: Option<&[u8]>,
        resource: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<Arc<Principal>, AuthFailure> {
        let value = bearer_value(header)?;
        if value.starts_with("gat_") {
            let resource = resource.or(self.oauth_resource.as_deref()).ok_or(AuthFailure::UnknownToken)?;
            let verified = match self.cache.get(&cache::fingerprint(value)) {
                Some(hit) => hit,
                None => self.read_access_token(value).await?,
            };
            return self.admit(&verified.value, Some(resource), client, &self.connector_last_used).await;
        }
        let token = parse_key(value)?;
        if token.kind() == KeyKind::Management {
            return Err(AuthFailure::ManagementKeyHere);
        }
        self.verify_token_from(&token, client).await
    }

    /// The checks after parsing a key, for a caller whose address is not known (a key limited to
    /// chosen networks is refused).
    pub async fn verify_token(&self, token: &KeyToken) -> Result<Arc<Principal>, AuthFailure> {
        self.verify_token_from(token, None).await
    }

    /// The checks after parsing a key: the cache or the lookup, then status, networks and rate
    /// limit.
    pub async fn verify_token_from(
        &self,
        token: &KeyToken,
        client: Option<IpAddr>,
    ) -> Result<Arc<Principal>, AuthFailure> {
        let verified = match self.cache.get(&token.fingerprint()) {
            Some(hit) => hit,
            None => self.read_key(token).await?,
        };
        self.admit(&verified.value, None, client, &self.last_used).await
    }

    /// What every call meets, cached or not: the clock, the audience, the networks, the rate limit.
    async fn admit(
        &self,
        verified: &Verified,
        resource: Option<&str>,
        client: Option<IpAddr>,
        last_used: &LastUsed,
    ) -> Result<Arc<Principal>, AuthFailure> {
        let now = now_ms();
        verified.ends.check(now, resource)?;
        if let Some(allowed) = &verified.allowed
            && !client.is_some_and(|ip| allowed.contains(ip))
        {
            let address = client.map_or_else(|| "an unknown address".to_owned(), |ip| canonical(ip).to_string());
            return Err(AuthFailure::AddressNotAllowed { address });
        }
        let p = &verified.principal;
        self.rate_limiter
            .check(&p.caller_id, verified.rate_limit_per_minute)
            .await
            .map_err(|retry_after| AuthFailure::RateLimited { retry_after })?;
        last_used.touch(&p.caller_id, now);
        Ok(Arc::clone(p))
    }

    /// A key's row, fresh from the database; kept in the cache when it is valid now.
    async fn read_key(&self, token: &KeyToken) -> Result<Arc<Cached<Verified>>, AuthFailure> {
        let stamp = self.cache.stamp();
        let row = lookup::find(&self.db, token.lookup_id())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "key lookup failed");
                AuthFailure::Unavailable
            })?
            .ok_or(AuthFailure::UnknownKey)?;
        if !digest_matches(token, &row.digest) || row.environment != token.environment().as_str() {
            return Err(AuthFailure::UnknownKey);
        }
        let verified = Verified {
            ends: Ends::Key { revoked_at: row.revoked_at, expires_at: row.expires_at },
            allowed: row.allowed_ips.as_deref().map(Networks::from_stored).filter(|n| !n.is_empty()),
            rate_limit_per_minute: row.rate_limit_per_minute.unwrap_or(row.workspace_rate_limit),
            principal: Arc::new(Principal {
                workspace_id: row.workspace_id,
                workspace_slug: row.workspace_slug,
                workspace_name: row.workspace_name,
                environment: token.environment(),
                scopes: ScopeSet::from_stored(&row.scopes),
                resources: row.resources.map(|r| r.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()),
                caller_name: row.name,
                caller_id: row.id,
                expires_at: row.expires_at,
                via: Via::Key,
                servers: ServerAccess::from_stored(row.servers.as_deref()),
            }),
        };
        Ok(self.keep(token.fingerprint(), stamp, verified))
    }

    /// An OAuth access token with its grant, fresh from the database (the grant decides the
    /// workspace, so a rebind applies at once); kept in the cache when it is valid now.
    async fn read_access_token(&self, token: &str) -> Result<Arc<Cached<Verified>>, AuthFailure> {
        let stamp = self.cache.stamp();
        let read = oauth::read_access(&self.db, token).await?;
        let grant = read.grant;
        let verified = Verified {
            ends: Ends::AccessToken {
                expires_at: grant.expires_at,
                grant_expires_at: read.grant_expires_at,
                resource: read.resource,
            },
            allowed: None,
            rate_limit_per_minute: grant.rate_limit_per_minute,
            principal: Arc::new(Principal {
                workspace_id: grant.workspace_id,
                workspace_slug: grant.workspace_slug,
                workspace_name: grant.workspace_name,
                environment: Environment::Live,
                scopes: grant.scopes,
                resources: None,
                caller_id: grant.grant_id,
                caller_name: grant.client_name,
                expires_at: Some(grant.expires_at),
                via: Via::Connector { client_id: grant.client_id, user_id: grant.user_id },
                servers: grant.servers,
            }),
        };
        Ok(self.keep(cache::fingerprint(token), stamp, verified))
    }

    /// Keeps a credential just read, unless the clock has already ended it (a refusal is always
    /// read fresh) or the change feed was down when the read began (no stamp).
    fn keep(&self, fingerprint: Fingerprint, stamp: Option<Stamp>, verified: Verified) -> Arc<Cached<Verified>> {
        let (workspace_id, credential_id) =
            (verified.principal.workspace_id.clone(), verified.principal.caller_id.clone());
        let stamp = stamp.filter(|_| !verified.ends.ended(now_ms()));
        self.cache.keep(fingerprint, &[&workspace_id, &credential_id], stamp, verified)
    }
}

/// The header's shape and the key's format; no database. Reports, never guesses.
pub fn parse_header(header: Option<&[u8]>) -> Result<KeyToken, AuthFailure> {
    parse_key(bearer_value(header)?)
}

fn parse_key(token: &str) -> Result<KeyToken, AuthFailure> {
    KeyToken::parse(token).map_err(AuthFailure::from)
}

impl From<TokenFormatError> for AuthFailure {
    fn from(e: TokenFormatError) -> Self {
        match e {
            TokenFormatError::NotAKey => AuthFailure::NotAKey,
            TokenFormatError::Malformed => AuthFailure::Malformed,
            TokenFormatError::BadChecksum => AuthFailure::BadChecksum,
        }
    }
}

/// The credential of a `Bearer` header, after the header's shape is checked.
pub fn bearer_value(header: Option<&[u8]>) -> Result<&str, AuthFailure> {
    let raw = header.ok_or(AuthFailure::MissingHeader)?;
    if raw.len() > MAX_HEADER_LEN {
        return Err(AuthFailure::HeaderTooLong);
    }
    let value = std::str::from_utf8(raw).map_err(|_| AuthFailure::NotAscii)?;
    if !value.is_ascii() {
        return Err(AuthFailure::NotAscii);
    }
    if value.trim().is_empty() {
        return Err(AuthFailure::MissingHeader);
    }
    let (scheme, rest) = match value.split_once(' ') {
        Some((scheme, rest)) => (scheme, Some(rest)),
        None => (value, None),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::NotBearer);
    }
    let token = match rest {
        None => return Err(AuthFailure::EmptyToken),
        Some(rest) if rest.trim().is_empty() => return Err(AuthFailure::EmptyToken),
        Some(rest) if rest.starts_with(char::is_whitespace) => return Err(AuthFailure::ExtraSpace),
        Some(rest) if rest.contains(char::is_whitespace) => return Err(AuthFailure::TextAfterKey),
        Some(rest) => rest,
    };
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<KeyToken, AuthFailure> {
        parse_header(Some(value.as_bytes()))
    }

    #[test]
    fn header_shapes() {
        let key = KeyToken::generate(Environment::Live);
        let k = key.expose();
        assert!(parse(&format!("Bearer {k}")).is_ok());
        assert!(parse(&format!("bearer {k}")).is_ok());
        assert!(parse(&format!("BEARER {k}")).is_ok());
        assert_eq!(parse_header(None), Err(AuthFailure::MissingHeader));
        assert_eq!(parse(""), Err(AuthFailure::MissingHeader));
        assert_eq!(parse("Bearer"), Err(AuthFailure::EmptyToken));
        assert_eq!(parse("Bearer "), Err(AuthFailure::EmptyToken));
        assert_eq!(parse("Bearer  x"), Err(AuthFailure::ExtraSpace));
        assert_eq!(parse(&format!("Bearer {k}  ")), Err(AuthFailure::TextAfterKey));
        assert_eq!(parse(&format!("Bearer {k} extra")), Err(AuthFailure::TextAfterKey));
        assert_eq!(parse(&format!("Basic {k}")), Err(AuthFailure::NotBearer));
        assert_eq!(parse(k), Err(AuthFailure::NotBearer));
        assert_eq!(parse("Bearer sk_live_abc"), Err(AuthFailure::Malformed));
        assert_eq!(parse("Bearer rk_live_abc"), Err(AuthFailure::NotAKey));
        assert_eq!(parse(&format!("Bearer {}", &k[..k.len() - 2])), Err(AuthFailure::Malformed));
        assert_eq!(parse(&"A".repeat(10_240)), Err(AuthFailure::HeaderTooLong));
        assert_eq!(parse_header(Some(&[0xff, 0xfe])), Err(AuthFailure::NotAscii));
        assert_eq!(parse("Bearer pk_live_é"), Err(AuthFailure::NotAscii));
    }

    /// A right id with a wrong secret and an id that does not exist get the same answer, so an
    /// answer tells a guesser nothing about which ids exist.
    #[tokio::test]
    async fn a_wrong_secret_and_an_unknown_id_look_the_same() {
        use crate::{
            accounts::{self, Email, Password},
            keys::{self, ExpiryChoice, KeyName, NewKey},
        };
        let (_dir, db) = crate::testing::sqlite().await;
        let email = Email::parse("t@example.com").expect("email");
        let (_, ws) =
            accounts::sign_up(&db, email, Password::parse("twelve chars long").expect("pw")).await.expect("user");
        let new = NewKey {
            name: KeyName::parse("k").expect("name"),
            environment: Environment::Live,
            scopes: ScopeSet::parse_for_key(&["runs:read"]).expect("scopes"),
            expiry: ExpiryChoice::Never,
            resources: None,
            rate_limit_per_minute: None,
            servers: ServerAccess::None,
            allowed_ips: None,
        };
        let (_, token) = keys::create_in(&db, &ws.id, None, new).await.expect("key");
        let verifier = KeyVerifier::new(db.clone());
        assert!(verifier.verify_token(&token).await.is_ok());
        let wrong_secret = verifier.verify_token(&token.with_other_secret()).await.expect_err("wrong secret");
        let unknown_id = verifier.verify_token(&KeyToken::generate(Environment::Live)).await.expect_err("unknown id");
        assert_eq!(wrong_secret, AuthFailure::UnknownKey);
        assert_eq!(unknown_id, AuthFailure::UnknownKey);
        assert_eq!(wrong_secret.message(), unknown_id.message());
        db.close().await;
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
