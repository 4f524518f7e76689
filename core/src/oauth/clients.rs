//! Clients: Dynamic Client Registration (RFC 7591), the checks every client's metadata passes
//! (registered, or read from a client ID metadata document), and the stored client.
//!
//! Public clients (`token_endpoint_auth_method: none`) get no secret. Clients using a shared secret
//! get one in the registration response only; it is stored as its digest and compared in constant
//! time. `private_key_jwt` clients (RFC 7523) register their public keys (`jwks`) or where to find
//! them (`jwks_uri`). How a client proves itself is `super::client_auth`.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{
    DEVICE_GRANT, ErrorCode, OAuthError, RedirectUri,
    secret::{self, CLIENT_SECRET_PREFIX},
    truncate,
};
use crate::{Db, clock::now_ms, ids::new_id, scopes::ScopeSet};

/// What a client sends to register (unknown members are ignored, as RFC 7591 asks).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClientMetadata {
    pub redirect_uris: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub scope: Option<String>,
    pub client_uri: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    /// `private_key_jwt`: the client's public keys, a JWK Set.
    pub jwks: Option<serde_json::Value>,
    /// `private_key_jwt`: where the client's JWK Set is published (https).
    pub jwks_uri: Option<String>,
}

/// How a client came to be known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Dynamic Client Registration: the id is ours (`gcl_…`), the name is what the app chose.
    Registered,
    /// A client ID metadata document: the id is an https URL on the app's own host.
    MetadataDocument,
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    /// The scopes it registered for; `None` for any.
    pub scope: Option<ScopeSet>,
    pub auth_method: String,
    pub client_uri: Option<String>,
    pub kind: ClientKind,
    /// `private_key_jwt`: the JWK Set (JSON) or its URL.
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub(crate) secret_digest: Option<String>,
}

impl Client {
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    pub fn is_public(&self) -> bool {
        self.auth_method == "none"
    }

    /// The host a metadata-document client is verified to come from (its id's host).
    pub fn verified_host(&self) -> Option<String> {
        (self.kind == ClientKind::MetadataDocument)
            .then(|| url::Url::parse(&self.id).ok().and_then(|u| u.host_str().map(str::to_owned)))
            .flatten()
    }
}

/// The registration response (RFC 7591 §3.2.1).
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    pub client_id: String,
    pub client_id_issued_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
}

const MAX_REDIRECT_URIS: usize = 10;
const MAX_NAME_CHARS: usize = 100;
/// Client authentication methods at the token endpoint.
pub const AUTH_METHODS: [&str; 4] = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"];
/// Most keys a client's JWK Set may hold.
const MAX_JWKS_KEYS: usize = 10;

fn metadata_error(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, description)
}

/// Registration metadata that passed every check, with the defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedMetadata {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub auth_method: String,
    pub scope: Option<ScopeSet>,
    pub client_uri: Option<String>,
    pub software_id: Option<String>,
    pub software_version: Option<String>,
    /// `private_key_jwt`: the JWK Set as JSON text, or its https URL.
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
}

/// Checks the metadata and registers the client.
pub async fn register(db: &Db, metadata: ClientMetadata) -> Result<Registered, OAuthError> {
    let m = check_metadata(metadata)?;
    let id = new_id("gcl");
    let secret = m.auth_method.starts_with("client_secret").then(|| secret::generate(CLIENT_SECRET_PREFIX));
    let now = now_ms();
    sqlx::query(
        "INSERT INTO oauth_clients (id, name, redirect_uris, grant_types, scope, auth_method, secret_digest, client_uri,
             software_id, software_version, created_at, kind, jwks, jwks_uri)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'registered', $12, $13)",
    )
    .bind(&id)
    .bind(&m.name)
    .bind(m.redirect_uris.join("\n"))
    .bind(m.grant_types.join(" "))
    .bind(m.scope.as_ref().map(ScopeSet::to_stored))
    .bind(&m.auth_method)
    .bind(secret.as_deref().map(secret::digest))
    .bind(&m.client_uri)
    .bind(&m.software_id)
    .bind(&m.software_version)
    .bind(now)
    .bind(&m.jwks)
    .bind(&m.jwks_uri)
    .execute(db.pool())
    .await?;
    tracing::info!(client_id = %id, auth_method = %m.auth_method, "OAuth client registered");
    Ok(Registered {
        client_id: id,
        client_id_issued_at: now / 1000,
        client_secret_expires_at: secret.as_ref().map(|_| 0),
        client_secret: secret,
        client_name: m.name,
        redirect_uris: m.redirect_uris,
        grant_types: m.grant_types,
        response_types: m.response_types,
        token_endpoint_auth_method: m.auth_method,
        scope: m.scope.map(|s| s.to_stored()),
        client_uri: m.client_uri,
        software_id: m.software_id,
        software_version: m.software_version,
        jwks: m.jwks.as_deref().and_then(|j| serde_json::from_str(j).ok()),
        jwks_uri: m.jwks_uri,
    })
}

/// The checks of RFC 7591 metadata, without the database: what `register` would refuse, and why.
pub fn check_metadata(metadata: ClientMetadata) -> Result<CheckedMetadata, OAuthError> {
    let grant_types = metadata.grant_types.unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]);
    if grant_types.is_empty() {
        return Err(metadata_error("grant_types is empty"));
    }
    for g in &grant_types {
        if !matches!(g.as_str(), "authorization_code" | "refresh_token" | DEVICE_GRANT) {
            return Err(metadata_error(format!(
                "grant type {:?} is not supported; use authorization_code, refresh_token or {DEVICE_GRANT}",
                truncate(g, 80)
            )));
        }
    }
    let uses_code = grant_types.iter().any(|g| g == "authorization_code");
    let response_types =
        metadata.response_types.unwrap_or_else(|| if uses_code { vec!["code".into()] } else { vec![] });
    if let Some(r) = response_types.iter().find(|r| r.as_str() != "code") {
        return Err(metadata_error(format!("response type {:?} is not supported; only code is", truncate(r, 80))));
    }
    if uses_code != response_types.iter().any(|r| r == "code") {
        return Err(metadata_error(
            "response_types must be [\"code\"] exactly when grant_types has authorization_code",
        ));
    }

    let redirect_uris = metadata.redirect_uris.unwrap_or_default();
    if uses_code && redirect_uris.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidRedirectUri,
            "redirect_uris is required for the authorization_code grant",
        ));
    }
    if redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::new(
            ErrorCode::InvalidRedirectUri,
            format!("at most {MAX_REDIRECT_URIS} redirect URIs may be registered"),
        ));
    }
    for uri in &redirect_uris {
        RedirectUri::parse(uri).map_err(|m| OAuthError::new(ErrorCode::InvalidRedirectUri, m))?;
    }

    let auth_method = metadata.token_endpoint_auth_method.unwrap_or_else(|| "client_secret_basic".into());
    if !AUTH_METHODS.contains(&auth_method.as_str()) {
        return Err(metadata_error(format!(
            "token_endpoint_auth_method {:?} is not supported; use none, client_secret_basic, client_secret_post or private_key_jwt",
            truncate(&auth_method, 80)
        )));
    }
    let (jwks, jwks_uri) = check_keys(&auth_method, metadata.jwks, metadata.jwks_uri)?;

    let name = match metadata.client_name.as_deref().map(str::trim) {
        None | Some("") => "Unnamed client".to_owned(),
        Some(n) if n.chars().count() > MAX_NAME_CHARS => {
            return Err(metadata_error(format!("client_name is longer than {MAX_NAME_CHARS} characters")));
        }
        Some(n) if n.chars().any(char::is_control) => {
            return Err(metadata_error("client_name contains control characters"));
        }
        Some(n) => n.to_owned(),
    };
    let scope = match metadata.scope.as_deref() {
        None => None,
        Some(s) => Some(ScopeSet::parse_for_oauth(s).map_err(metadata_error)?),
    };
    let client_uri = match metadata.client_uri {
        None => None,
        Some(u) if u.len() <= 2000 && url::Url::parse(&u).is_ok_and(|p| p.scheme() == "https") => Some(u),
        Some(_) => return Err(metadata_error("client_uri must be an https URL of at most 2000 characters")),
    };
    for (field, value) in [("software_id", &metadata.software_id), ("software_version", &metadata.software_version)] {
        if value.as_ref().is_some_and(|v| v.len() > 200 || v.chars().any(char::is_control)) {
            return Err(metadata_error(format!("{field} must be at most 200 printable characters")));
        }
    }

    Ok(CheckedMetadata {
        name,
        redirect_uris,
        grant_types,
        response_types,
        auth_method,
        scope,
        client_uri,
        software_id: metadata.software_id,
        software_version: metadata.software_version,
        jwks,
        jwks_uri,
    })
}

/// `jwks` / `jwks_uri`: exactly one for `private_key_jwt`, a JWK Set of public keys (at most
/// [`MAX_JWKS_KEYS`]) or an https URL; neither for the other methods.
fn check_keys(
    auth_method: &str,
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
) -> Result<(Option<String>, Option<String>), OAuthError> {
    match (auth_method, jwks, jwks_uri) {
        ("private_key_jwt", None, None) => {
            Err(metadata_error("private_key_jwt needs the client's public keys: jwks or jwks_uri"))
        }
        (_, Some(_), Some(_)) => Err(metadata_error("send jwks or jwks_uri, not both")),
        ("private_key_jwt", Some(set), None) => Ok((Some(check_jwk_set(&set)?), None)),
        ("private_key_jwt", None, Some(uri)) => {
            let ok =
                uri.len() <= 2000 && url::Url::parse(&uri).is_ok_and(|u| u.scheme() == "https" && u.host().is_some());
            if !ok {
                return Err(metadata_error("jwks_uri must be an https URL of at most 2000 characters"));
            }
            Ok((None, Some(uri)))
        }
        (_, None, None) => Ok((None, None)),
        _ => Err(metadata_error("jwks and jwks_uri are only for token_endpoint_auth_method private_key_jwt")),
    }
}

/// A JWK Set of public signing keys, as stored JSON text.
pub(crate) fn check_jwk_set(set: &serde_json::Value) -> Result<String, OAuthError> {
    let keys = set
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| metadata_error("jwks must be a JWK Set: an object whose \"keys\" is an array"))?;
    if keys.is_empty() || keys.len() > MAX_JWKS_KEYS {
        return Err(metadata_error(format!("jwks must hold 1 to {MAX_JWKS_KEYS} keys")));
    }
    const PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];
    if keys.iter().any(|k| PRIVATE.iter().any(|p| k.get(*p).is_some())) {
        return Err(metadata_error("jwks holds a private or symmetric key; publish only public keys"));
    }
    serde_json::from_value::<jsonwebtoken::jwk::JwkSet>(set.clone())
        .map_err(|e| metadata_error(format!("jwks is not a valid JWK Set: {}", truncate(&e.to_string(), 120))))?;
    Ok(set.to_string())
}

/// A registered client by id.
pub async fn find_client(db: &Db, client_id: &str) -> Result<Option<Client>, OAuthError> {
    if client_id.is_empty() || client_id.len() > 2048 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT id, name, redirect_uris, grant_types, scope, auth_method, secret_digest, client_uri, kind, jwks, jwks_uri
         FROM oauth_clients WHERE id = $1",
    )
    .bind(client_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let split = |v: String, sep: char| v.split(sep).filter(|s| !s.is_empty()).map(str::to_owned).collect::<Vec<_>>();
    Ok(Some(Client {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        redirect_uris: split(row.try_get("redirect_uris")?, '\n'),
        grant_types: split(row.try_get("grant_types")?, ' '),
        scope: row.try_get::<Option<String>, _>("scope")?.map(|s| ScopeSet::from_stored(&s)),
        auth_method: row.try_get("auth_method")?,
        client_uri: row.try_get("client_uri")?,
        kind: if row.try_get::<String, _>("kind")? == "metadata_document" {
            ClientKind::MetadataDocument
        } else {
            ClientKind::Registered
        },
        jwks: row.try_get("jwks")?,
        jwks_uri: row.try_get("jwks_uri")?,
        secret_digest: row.try_get("secret_digest")?,
    }))
}
