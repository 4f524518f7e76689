//! Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document, the MCP
//! authorization spec's way for clients to identify themselves): a `client_id` that is an https
//! URL names a JSON document on the client's own host, which serves as its registration.
//!
//! Fetching: https only, no redirects followed, at most [`MAX_DOCUMENT_BYTES`], within
//! [`FETCH_TIMEOUT`], and never from a special-use or private address — checked on the resolved
//! address of every fetch (loopback only behind `GATEHOUSE_OAUTH_METADATA_ALLOW_LOOPBACK`, for
//! development). The document must be JSON whose `client_id` is the URL exactly, with
//! `redirect_uris`, and no shared secret. A good document is stored as the client's row and used
//! until its HTTP cache lifetime (bounded to [`MIN_CACHE`]..[`MAX_CACHE`]) runs out; a failed fetch
//! stores nothing, so an error is never cached.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use super::{
    ClientMetadata, ErrorCode, OAuthError,
    clients::{Client, check_metadata, find_client},
    truncate,
};
use crate::{
    Db,
    clock::{HOUR, MINUTE, Millis, now_ms},
    net::{AddressRules, Outbound, OutboundError, OutboundOptions, read_capped},
};

/// The largest document read.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long a fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A document is kept at least this long, whatever its headers say (one authorization needs it
/// twice: at the authorization and at the token endpoint).
pub const MIN_CACHE: Millis = MINUTE;
/// And at most this long.
pub const MAX_CACHE: Millis = 24 * HOUR;
/// Without cache headers.
pub const DEFAULT_CACHE: Millis = 10 * MINUTE;

/// Fetches and checks metadata documents.
#[derive(Debug, Clone)]
pub struct ClientDocuments {
    http: Outbound,
}

fn invalid_client(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, description)
}

/// Whether a `client_id` names a metadata document (rather than a registration of ours).
pub fn is_document_id(client_id: &str) -> bool {
    client_id.starts_with("https://")
}

/// The rules of a `client_id` URL: https, a host, a path other than `/`, no fragment, no user
/// name or password, no `.` or `..` segments, at most 2,000 characters.
pub fn check_client_id_url(client_id: &str) -> Result<Url, String> {
    if client_id.len() > 2000 {
        return Err("the client_id URL is longer than 2000 characters".into());
    }
    let url = Url::parse(client_id).map_err(|_| "the client_id is not a valid URL".to_owned())?;
    if url.scheme() != "https" {
        return Err("a client_id URL must use https".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the client_id URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the client_id URL must not contain a user name or password".into());
    }
    if client_id.contains('#') {
        return Err("the client_id URL must not contain a fragment".into());
    }
    let raw_path = client_id.splitn(4, '/').nth(3).unwrap_or_default();
    if raw_path.split(['/', '?']).any(|segment| segment == "." || segment == "..") {
        return Err("the client_id URL must not contain . or .. path segments".into());
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err("the client_id URL must have a path (like /oauth/client.json)".into());
    }
    // Parsing normalises; the id must already be in the form it is compared in.
    if url.as_str() != client_id {
        return Err(format!(
            "the client_id URL is not in canonical form (it would read {})",
            truncate(url.as_str(), 200)
        ));
    }
    Ok(url)
}

impl ClientDocuments {
    /// `allow_loopback` is the development setting; private and link-local addresses are never reached.
    pub fn new(allow_loopback: bool, roots: Option<std::sync::Arc<Vec<u8>>>) -> Result<Self, String> {
        let rules = AddressRules {
            loopback: allow_loopback,
            private: false,
            setting: "GATEHOUSE_OAUTH_METADATA_ALLOW_LOOPBACK=true (development only, and for loopback alone)",
        };
        let options =
            OutboundOptions::new(FETCH_TIMEOUT, concat!("Gatehouse/", env!("CARGO_PKG_VERSION"))).with_roots(roots);
        Ok(ClientDocuments { http: Outbound::new(rules, options)? })
    }

    /// The guarded client, shared with the key sets of `private_key_jwt` clients.
    pub(crate) fn http(&self) -> &Outbound {
        &self.http
    }

    /// The client a metadata-document id names: the stored copy while fresh, else fetched again.
    pub async fn resolve(&self, db: &Db, client_id: &str) -> Result<Client, OAuthError> {
        let url = check_client_id_url(client_id).map_err(invalid_client)?;
        let fresh = sqlx::query(
            "SELECT 1 FROM oauth_clients WHERE id = $1 AND kind = 'metadata_document' AND document_expires_at > $2",
        )
        .bind(client_id)
        .bind(now_ms())
        .fetch_optional(db.pool())
        .await?;
        if fresh.is_some()
            && let Some(client) = find_client(db, client_id).await?
        {
            return Ok(client);
        }
        let (document, keep_for) = self.fetch(&url).await.map_err(|why| {
            tracing::info!(client_id = %truncate(client_id, 200), %why, "client metadata document refused");
            invalid_client(format!(
                "the client metadata document at {} cannot be used: {why}",
                truncate(client_id, 200)
            ))
        })?;
        let metadata = document_metadata(client_id, &url, document).map_err(|why| {
            invalid_client(format!("the client metadata document at {} is not valid: {why}", truncate(client_id, 200)))
        })?;
        store(db, client_id, metadata, now_ms() + keep_for).await?;
        find_client(db, client_id).await?.ok_or_else(OAuthError::server_error)
    }

    /// GET the document: 200, JSON, small, no redirect. Returns it and how long to keep it.
    async fn fetch(&self, url: &Url) -> Result<(Value, Millis), String> {
        let request = self.http.client().get(url.clone()).header("accept", "application/json");
        let response = self.http.send(request).await.map_err(|e| match e {
            OutboundError::Timeout(_) => format!("no answer within {} seconds", FETCH_TIMEOUT.as_secs()),
            other => other.to_string(),
        })?;
        let status = response.status();
        if status.is_redirection() {
            return Err(format!(
                "it answered with a redirect (HTTP {}), and redirects are not followed",
                status.as_u16()
            ));
        }
        if status != reqwest::StatusCode::OK {
            return Err(format!("it answered HTTP {}", status.as_u16()));
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_owned();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return Err(format!(
                "it is not JSON (Content-Type {:?})",
                if essence.is_empty() { "missing" } else { essence.as_str() }
            ));
        }
        let keep_for = cache_lifetime(response.headers());
        let body = read_capped(response, MAX_DOCUMENT_BYTES).await.map_err(|e| match e {
            OutboundError::TooLarge(max) => format!("it is larger than {} KiB", max / 1024),
            other => other.to_string(),
        })?;
        let document: Value = serde_json::from_slice(&body).map_err(|_| "its body is not valid JSON".to_owned())?;
        Ok((document, keep_for))
    }
}

/// How long to keep a document, from `Cache-Control` (`max-age`, less `Age`; `no-store` and
/// `no-cache` keep it only for [`MIN_CACHE`]), bounded.
pub fn cache_lifetime(headers: &reqwest::header::HeaderMap) -> Millis {
    let control = headers.get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let age: i64 = headers.get("age").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    let mut lifetime = DEFAULT_CACHE;
    for directive in control.split(',').map(str::trim) {
        if directive == "no-store" || directive == "no-cache" {
            return MIN_CACHE;
        }
        if let Some(secs) = directive.strip_prefix("max-age=").and_then(|v| v.trim_matches('"').parse::<i64>().ok()) {
            lifetime = secs.saturating_sub(age).saturating_mul(1000);
        }
    }
    lifetime.clamp(MIN_CACHE, MAX_CACHE)
}

/// The document's registration, after the metadata-document rules and the checks every client's
/// metadata passes.
fn document_metadata(client_id: &str, url: &Url, document: Value) -> Result<super::CheckedMetadata, String> {
    let Value::Object(object) = &document else {
        return Err("it is not a JSON object".into());
    };
    match object.get("client_id") {
        Some(Value::String(id)) if id == client_id => {}
        Some(Value::String(id)) => {
            return Err(format!("its client_id {:?} is not the URL it was fetched from", truncate(id, 200)));
        }
        _ => return Err("it has no client_id".into()),
    }
    if object.contains_key("client_secret") || object.contains_key("client_secret_expires_at") {
        return Err("it carries a client_secret; a metadata document must not hold a shared secret".into());
    }
    if object.get("redirect_uris").is_none_or(|r| r.as_array().is_none_or(Vec::is_empty)) {
        return Err("it has no redirect_uris".into());
    }
    let mut metadata: ClientMetadata = serde_json::from_value(document.clone())
        .map_err(|e| format!("a field has the wrong type: {}", truncate(&e.to_string(), 120)))?;
    match metadata.token_endpoint_auth_method.as_deref() {
        None => metadata.token_endpoint_auth_method = Some("none".into()),
        Some("none" | "private_key_jwt") => {}
        Some(other) => {
            return Err(format!(
                "token_endpoint_auth_method {:?} is not allowed: a metadata document client uses none or private_key_jwt",
                truncate(other, 40)
            ));
        }
    }
    if metadata.grant_types.is_none() {
        metadata.grant_types = Some(vec!["authorization_code".into()]);
    }
    if metadata.client_name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        metadata.client_name = url.host_str().map(str::to_owned);
    }
    check_metadata(metadata).map_err(|e| e.description)
}

/// Stores (or refreshes) a document client's row; a first grant already made is kept.
async fn store(db: &Db, client_id: &str, m: super::CheckedMetadata, expires_at: Millis) -> Result<(), OAuthError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO oauth_clients (id, name, redirect_uris, grant_types, scope, auth_method, secret_digest, client_uri,
             software_id, software_version, created_at, kind, jwks, jwks_uri, document_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10, 'metadata_document', $11, $12, $13)
         ON CONFLICT (id) DO UPDATE SET name = $2, redirect_uris = $3, grant_types = $4, scope = $5, auth_method = $6,
             client_uri = $7, software_id = $8, software_version = $9, jwks = $11, jwks_uri = $12,
             document_expires_at = $13",
    )
    .bind(client_id)
    .bind(&m.name)
    .bind(m.redirect_uris.join("\n"))
    .bind(m.grant_types.join(" "))
    .bind(m.scope.as_ref().map(crate::scopes::ScopeSet::to_stored))
    .bind(&m.auth_method)
    .bind(&m.client_uri)
    .bind(&m.software_id)
    .bind(&m.software_version)
    .bind(now)
    .bind(&m.jwks)
    .bind(&m.jwks_uri)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::json;

    use super::*;

    #[test]
    fn client_id_urls() {
        assert!(check_client_id_url("https://claude.ai/oauth/mcp-oauth-client-metadata").is_ok());
        assert!(check_client_id_url("https://vscode.dev/oauth/client-metadata.json").is_ok());
        assert!(check_client_id_url("https://localhost:8443/client.json").is_ok());
        for bad in [
            "http://claude.ai/client.json",
            "https://claude.ai",
            "https://claude.ai/",
            "https://u:p@claude.ai/c.json",
            "https://claude.ai/c.json#x",
            "https://claude.ai/a/../c.json",
            "https://claude.ai/./c.json",
            "https://CLAUDE.ai/c.json",
            "claude.ai/c.json",
        ] {
            assert!(check_client_id_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cache_lifetimes_follow_the_headers_within_bounds() {
        let with = |control: &str, age: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert("cache-control", HeaderValue::from_str(control).expect("value"));
            if let Some(age) = age {
                h.insert("age", HeaderValue::from_str(age).expect("value"));
            }
            cache_lifetime(&h)
        };
        assert_eq!(cache_lifetime(&HeaderMap::new()), DEFAULT_CACHE);
        assert_eq!(with("public, max-age=3600", None), HOUR);
        assert_eq!(with("max-age=3600", Some("600")), 50 * MINUTE);
        assert_eq!(with("max-age=5", None), MIN_CACHE);
        assert_eq!(with("max-age=99999999", None), MAX_CACHE);
        assert_eq!(with("no-store", None), MIN_CACHE);
        assert_eq!(with("max-age=600, no-cache", None), MIN_CACHE);
    }

    #[test]
    fn documents_are_checked() {
        let id = "https://app.example.com/oauth/client.json";
        let url = Url::parse(id).expect("url");
        let good = json!({"client_id": id, "client_name": "Example", "redirect_uris": ["https://app.example.com/cb"]});
        let m = document_metadata(id, &url, good.clone()).expect("valid");
        assert_eq!(m.auth_method, "none");
        assert_eq!(m.grant_types, ["authorization_code"]);
        let refuse = |doc: Value, needle: &str| {
            let why = document_metadata(id, &url, doc).expect_err("refused");
            assert!(why.contains(needle), "{why} should mention {needle}");
        };
        let mut one_off = good.clone();
        one_off["client_id"] = json!("https://app.example.com/oauth/client.jsom");
        refuse(one_off, "not the URL");
        let mut secret = good.clone();
        secret["client_secret"] = json!("s");
        refuse(secret, "client_secret");
        let mut basic = good.clone();
        basic["token_endpoint_auth_method"] = json!("client_secret_basic");
        refuse(basic, "not allowed");
        refuse(json!({"client_id": id}), "redirect_uris");
        refuse(json!([1, 2]), "not a JSON object");
        let mut jwt = good.clone();
        jwt["token_endpoint_auth_method"] = json!("private_key_jwt");
        refuse(jwt.clone(), "jwks");
        jwt["jwks_uri"] = json!("https://app.example.com/jwks.json");
        assert!(document_metadata(id, &url, jwt).is_ok());
        let mut unnamed = good;
        unnamed.as_object_mut().expect("object").remove("client_name");
        assert_eq!(document_metadata(id, &url, unnamed).expect("valid").name, "app.example.com");
    }
}
