//! OAuth request parameters: form bodies and queries, client credentials from an `Authorization:
//! Basic` header, scopes, redirect URIs, PKCE, and Dynamic Client Registration metadata. Any
//! input gives a value or an OAuth error, never a panic.
#![no_main]

use gatehouse::oauth::params::{Params, client_credentials};
use gatehouse_core::{
    oauth::{ClientMetadata, CodeChallenge, RedirectUri, check_metadata},
    scopes::ScopeSet,
};
use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The parameters, then (after a NUL byte, if any) an Authorization header value.
    let (form, auth) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    if let Ok(params) = Params::parse(form) {
        let mut headers = HeaderMap::new();
        if let Some(value) = auth.and_then(|a| HeaderValue::from_bytes(a).ok()) {
            headers.insert(AUTHORIZATION, value);
        }
        if let Ok(credentials) = client_credentials(&headers, &params) {
            let _ = credentials;
        }
        if let Some(scope) = params.get("scope")
            && let Ok(scopes) = ScopeSet::parse_for_oauth(scope)
        {
            assert_eq!(ScopeSet::from_stored(&scopes.to_stored()), scopes, "scopes survive storage");
        }
        if let Some(uri) = params.get("redirect_uri")
            && let Ok(parsed) = RedirectUri::parse(uri)
        {
            assert_eq!(parsed.as_str(), uri, "a redirect URI is registered exactly as sent");
        }
        if let Ok(challenge) = CodeChallenge::parse(params.get("code_challenge"), params.get("code_challenge_method"))
            && let Some(verifier) = params.get("code_verifier")
        {
            let _ = challenge.verify(verifier);
        }
    }
    if let Ok(metadata) = serde_json::from_slice::<ClientMetadata>(data)
        && let Ok(checked) = check_metadata(metadata)
    {
        assert!(!checked.grant_types.is_empty());
        for uri in &checked.redirect_uris {
            assert!(RedirectUri::parse(uri).is_ok());
        }
    }
});
