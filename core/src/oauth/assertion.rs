//! `private_key_jwt` client authentication (RFC 7523 §2.2, OpenID Connect Core §9): the client
//! sends a JWT it signed with a key whose public half it registered (`jwks`) or publishes
//! (`jwks_uri`). Checked: an asymmetric signature that verifies (never `alg: none`, never an HMAC),
//! `iss` = `sub` = the client's id, `aud` naming this authorization server, an expiry that has not
//! passed and is at most [`MAX_LIFETIME_SECS`] away, and a `jti` never seen before for the client
//! (kept until the assertion expires).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, Validation, decode, jwk::JwkSet};
use serde::Deserialize;
use serde_json::Value;

use super::{ErrorCode, OAuthError, clients::Client, truncate};
use crate::{
    Db,
    clock::now_ms,
    net::{Outbound, OutboundError, read_capped},
};

/// The `client_assertion_type` of a JWT assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The signing algorithms accepted (and advertised in the metadata).
pub const ALGORITHMS: [&str; 8] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"];
/// An assertion may be valid for at most this long from now.
pub const MAX_LIFETIME_SECS: i64 = 3600;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 30;
/// A fetched key set is used this long before it is fetched again.
const KEY_SET_TTL: Duration = Duration::from_secs(300);
/// An unknown `kid` fetches the set again, but not more often than this.
const REFETCH_AFTER: Duration = Duration::from_secs(30);
const MAX_KEY_SET_BYTES: usize = 64 * 1024;

fn invalid_client(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, description)
}

/// The claims read from an assertion.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    exp: i64,
    jti: Option<String>,
}

/// The unverified `iss` of an assertion: which client it claims to come from.
pub fn claimed_client(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// Fetched JWK Sets of clients that publish theirs at a `jwks_uri`.
#[derive(Debug, Clone, Default)]
pub struct KeySets {
    cache: Arc<Mutex<HashMap<String, (Instant, JwkSet)>>>,
}

impl KeySets {
    /// The set at `uri`: cached, or fetched when stale or when `kid` is missing from it.
    async fn get(&self, http: &Outbound, uri: &str, kid: Option<&str>) -> Result<JwkSet, String> {
        let cached = self.cache.lock().ok().and_then(|c| c.get(uri).cloned());
        if let Some((at, set)) = &cached {
            let has_kid = kid.is_none_or(|kid| set.find(kid).is_some());
            if at.elapsed() < KEY_SET_TTL && (has_kid || at.elapsed() < REFETCH_AFTER) {
                return Ok(set.clone());
            }
        }
        let url = url::Url::parse(uri).map_err(|_| "its jwks_uri is not a URL".to_owned())?;
        let response = http
            .send(http.client().get(url).header("accept", "application/json"))
            .await
            .map_err(|e| format!("its jwks_uri cannot be fetched: {e}"))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(format!("its jwks_uri answered HTTP {}", response.status().as_u16()));
        }
        let body = read_capped(response, MAX_KEY_SET_BYTES).await.map_err(|e| match e {
            OutboundError::TooLarge(_) => "its jwks_uri answered more than 64 KiB".to_owned(),
            other => format!("its jwks_uri cannot be read: {other}"),
        })?;
        let value: Value = serde_json::from_slice(&body).map_err(|_| "its jwks_uri is not JSON".to_owned())?;
        super::clients::check_jwk_set(&value).map_err(|e| format!("its jwks_uri: {}", e.description))?;
        let set: JwkSet = serde_json::from_value(value).map_err(|_| "its jwks_uri is not a JWK Set".to_owned())?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(uri.to_owned(), (Instant::now(), set.clone()));
        }
        Ok(set)
    }
}

/// Verifies `assertion` as `client`'s proof of identity at an endpoint whose accepted audiences
/// are `audiences` (the issuer and the endpoint's URL), and spends its `jti`.
pub async fn verify(
    db: &Db,
    http: &Outbound,
    key_sets: &KeySets,
    client: &Client,
    assertion: &str,
    audiences: &[String],
) -> Result<(), OAuthError> {
    let header_alg = assertion
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| invalid_client("client_assertion is not a JWT"))?;
    if !ALGORITHMS.contains(&header_alg.as_str()) {
        return Err(invalid_client(format!(
            "client_assertion is signed with {:?}, which is not accepted; use one of {}",
            truncate(&header_alg, 20),
            ALGORITHMS.join(", ")
        )));
    }
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| invalid_client("client_assertion is not a JWT"))?;
    let set = match (&client.jwks, &client.jwks_uri) {
        (Some(jwks), _) => serde_json::from_str::<JwkSet>(jwks)
            .map_err(|_| invalid_client("the client's registered jwks is unusable"))?,
        (None, Some(uri)) => key_sets
            .get(http, uri, header.kid.as_deref())
            .await
            .map_err(|why| invalid_client(format!("the client's keys cannot be read: {why}")))?,
        (None, None) => return Err(invalid_client("the client has no keys registered for private_key_jwt")),
    };
    let candidates: Vec<_> = match header.kid.as_deref() {
        Some(kid) => set.find(kid).into_iter().collect(),
        None => set.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(invalid_client("no key of the client matches the assertion's kid"));
    }
    let mut validation = Validation::new(header.alg);
    validation.algorithms = vec![header.alg];
    validation.leeway = LEEWAY_SECS;
    validation.set_audience(audiences);
    validation.set_issuer(&[&client.id]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let mut last_error = None;
    let mut claims = None;
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else { continue };
        match decode::<Claims>(assertion, &key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    let claims = claims.ok_or_else(|| {
        use jsonwebtoken::errors::ErrorKind;
        let why = match last_error.as_ref().map(jsonwebtoken::errors::Error::kind) {
            Some(ErrorKind::ExpiredSignature) => "client_assertion has expired".to_owned(),
            Some(ErrorKind::InvalidAudience) => {
                format!("client_assertion's aud must name this authorization server ({})", audiences.join(" or "))
            }
            Some(ErrorKind::InvalidIssuer) => "client_assertion's iss must be the client_id".to_owned(),
            Some(ErrorKind::ImmatureSignature) => "client_assertion is not valid yet (nbf)".to_owned(),
            Some(ErrorKind::MissingRequiredClaim(c)) => format!("client_assertion has no {c} claim"),
            Some(ErrorKind::InvalidAlgorithm) => "client_assertion's alg does not fit the client's key".to_owned(),
            _ => "client_assertion's signature does not verify with the client's keys".to_owned(),
        };
        invalid_client(why)
    })?;
    if claims.sub != client.id || claims.iss != client.id {
        return Err(invalid_client("client_assertion's iss and sub must both be the client_id"));
    }
    let now = now_ms() / 1000;
    if claims.exp > now + MAX_LIFETIME_SECS {
        return Err(invalid_client(format!(
            "client_assertion expires too far ahead: at most {} minutes",
            MAX_LIFETIME_SECS / 60
        )));
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| invalid_client("client_assertion needs a jti (at most 256 characters), unique per assertion"))?;
    let spent = sqlx::query("INSERT INTO oauth_assertion_ids (client_id, jti, expires_at) VALUES ($1, $2, $3)")
        .bind(&client.id)
        .bind(&jti)
        .bind((claims.exp + LEEWAY_SECS as i64) * 1000)
        .execute(db.pool())
        .await;
    match spent {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(invalid_client("this client_assertion was already used: its jti must be new for every request"))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claimed_client_is_read_without_trusting_it() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"https://chatgpt.com/oauth/client.json"}"#);
        assert_eq!(
            claimed_client(&format!("e30.{payload}.sig")).as_deref(),
            Some("https://chatgpt.com/oauth/client.json")
        );
        assert_eq!(claimed_client("not a jwt"), None);
        assert_eq!(claimed_client("a.!!!.c"), None);
    }

    #[test]
    fn none_and_hmac_are_never_accepted() {
        assert!(!ALGORITHMS.contains(&"none"));
        assert!(!ALGORITHMS.iter().any(|a| a.starts_with("HS")));
    }
}
