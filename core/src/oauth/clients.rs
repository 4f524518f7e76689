//! Clients: Dynamic Client Registration (RFC 7591) and client authentication at the token,
//! revocation and device endpoints.
//!
//! Public clients (`token_endpoint_auth_method: none`) get no secret. Confidential ones get a
//! secret in the registration response only; it is stored as its digest and compared in
//! constant time.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use subtle::ConstantTimeEq;

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
    secret_digest: Option<String>,
}

impl Client {
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    pub fn is_public(&self) -> bool {
        self.auth_method == "none"
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
}

const MAX_REDIRECT_URIS: usize = 10;
const MAX_NAME_CHARS: usize = 100;
const AUTH_METHODS: [&str; 3] = ["none", "client_secret_basic", "client_secret_post"];

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
}

/// Checks the metadata and registers the client.
pub async fn register(db: &Db, metadata: ClientMetadata) -> Result<Registered, OAuthError> {
    let m = check_metadata(metadata)?;
    let id = new_id("gcl");
    let secret = (m.auth_method != "none").then(|| secret::generate(CLIENT_SECRET_PREFIX));
    let now = now_ms();
    sqlx::query(
        "INSERT INTO oauth_clients (id, name, redirect_uris, grant_types, scope, auth_method, secret_digest, client_uri,
             software_id, software_version, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
            "token_endpoint_auth_method {:?} is not supported; use none, client_secret_basic or client_secret_post",
            truncate(&auth_method, 80)
        )));
    }

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
    })
}

/// A registered client by id.
pub async fn find_client(db: &Db, client_id: &str) -> Result<Option<Client>, OAuthError> {
    if client_id.is_empty() || client_id.len() > 64 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT id, name, redirect_uris, grant_types, scope, auth_method, secret_digest, client_uri
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
        secret_digest: row.try_get("secret_digest")?,
    }))
}

/// How a client identified itself at the token, revocation or device endpoint.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The credentials came in an `Authorization: Basic` header.
    pub basic: bool,
}

fn invalid_client(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, description)
}

/// The client, if its credentials hold: a public client names itself; a confidential one proves
/// its secret by the method it registered.
pub async fn authenticate(db: &Db, credentials: &ClientCredentials) -> Result<Client, OAuthError> {
    let id = credentials.client_id.as_deref().ok_or_else(|| invalid_client("client_id is missing"))?;
    let client = find_client(db, id).await?.ok_or_else(|| invalid_client("client_id is not registered here"))?;
    match (client.auth_method.as_str(), &credentials.client_secret, &client.secret_digest) {
        ("none", None, _) => Ok(client),
        ("none", Some(_), _) => {
            Err(invalid_client("this client is public (token_endpoint_auth_method none); send no secret"))
        }
        (method, Some(secret), Some(digest)) => {
            let method_matches = (method == "client_secret_basic") == credentials.basic;
            if !bool::from(secret::digest(secret).as_bytes().ct_eq(digest.as_bytes())) {
                Err(invalid_client("the client secret is wrong"))
            } else if !method_matches {
                Err(invalid_client(if credentials.basic {
                    "this client registered client_secret_post; send the secret in the body"
                } else {
                    "this client registered client_secret_basic; send the secret in an Authorization: Basic header"
                }))
            } else {
                Ok(client)
            }
        }
        _ => Err(invalid_client("this client is confidential; authenticate with its client secret")),
    }
}
