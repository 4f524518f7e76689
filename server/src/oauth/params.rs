//! Reading OAuth requests: form bodies (`application/x-www-form-urlencoded`) and queries, where
//! a repeated parameter is an error (RFC 6749 §3.1), and client credentials from the body, an
//! `Authorization: Basic` header (RFC 6749 §2.3.1), or a client assertion (RFC 7523).

use std::collections::HashMap;

use axum::body::{Body, to_bytes};
use base64::{Engine, engine::general_purpose::STANDARD};
use gatehouse_core::oauth::{ClientCredentials, OAuthError};
use http::{HeaderMap, header};

use super::MAX_OAUTH_BODY;

/// The parameters of one request, each at most once.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses `a=1&b=2`; a parameter sent twice is refused by name.
    pub fn parse(raw: &[u8]) -> Result<Self, OAuthError> {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw) {
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter {:?} is sent more than once",
                    k.chars().take(40).collect::<String>()
                )));
            }
        }
        Ok(Params(map))
    }

    /// A parameter; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }
}

/// Reads a form body: the right content type, at most 16 KiB.
pub async fn form(headers: &HeaderMap, body: Body) -> Result<Params, OAuthError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request("send the parameters as application/x-www-form-urlencoded"));
    }
    let bytes = to_bytes(body, MAX_OAUTH_BODY).await.map_err(|_| {
        OAuthError::invalid_request(format!("the request body is larger than {} KiB", MAX_OAUTH_BODY / 1024))
    })?;
    Params::parse(&bytes)
}

/// The client's credentials: `Authorization: Basic` (client_id:secret, each form-encoded), or
/// `client_id` (and `client_secret`) in the body — not both.
pub fn client_credentials(headers: &HeaderMap, params: &Params) -> Result<ClientCredentials, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(ClientCredentials {
            client_id: params.owned("client_id"),
            client_secret: params.owned("client_secret"),
            basic: false,
            assertion_type: params.owned("client_assertion_type"),
            assertion: params.owned("client_assertion"),
        });
    };
    if params.get("client_assertion").is_some() {
        return Err(OAuthError::invalid_request(
            "use one client authentication method: Basic or client_assertion, not both",
        ));
    }
    let bad = || {
        OAuthError::new(
            gatehouse_core::oauth::ErrorCode::InvalidClient,
            "the Authorization header is not valid Basic credentials",
        )
    };
    let value = value.to_str().map_err(|_| bad())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let decode = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.to_string());
    let id = decode(id).unwrap_or_default();
    if params.get("client_secret").is_some() {
        return Err(OAuthError::invalid_request(
            "use one client authentication method: Basic or client_secret, not both",
        ));
    }
    if params.get("client_id").is_some_and(|body_id| body_id != id) {
        return Err(OAuthError::invalid_request(
            "client_id in the body differs from the one in the Authorization header",
        ));
    }
    Ok(ClientCredentials {
        client_id: Some(id),
        client_secret: decode(secret),
        basic: true,
        assertion_type: None,
        assertion: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Params::parse(b"a=1&b=2").is_ok());
        assert!(Params::parse(b"a=1&a=2").is_err());
        let p = Params::parse(b"a=&b=x%20y").expect("parses");
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("x y"));
    }
}
