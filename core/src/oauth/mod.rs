//! OAuth 2.1 for chat clients and CLIs: clients (registered through RFC 7591, or identified by a
//! client ID metadata document), client authentication (secrets, `private_key_jwt`), authorization
//! requests and consent, codes with PKCE, access and refresh tokens (rotated, reuse-detecting),
//! OpenID Connect ID tokens and userinfo, revocation (RFC 7009), device authorization (RFC 8628),
//! and connectors — one client's grant to one workspace, which the dashboard lists, removes and
//! rebinds.
//!
//! Every secret handed out (codes, tokens, client secrets, device codes) is stored as its SHA-256
//! digest only. Errors are [`OAuthError`]s in the shape of RFC 6749 §5.2.

mod assertion;
mod authorize;
mod cleanup;
mod client_auth;
mod clients;
mod connectors;
mod device;
mod error;
mod id_token;
mod lifetime;
mod metadata_document;
mod pkce;
mod redirect;
mod secret;
mod tokens;

pub use assertion::{ALGORITHMS as ASSERTION_ALGORITHMS, ASSERTION_TYPE};
pub use authorize::{
    AuthorizeError, AuthorizeParams, ConsentRequest, ConsentStatus, approve, consent_request, deny, start,
};
pub use cleanup::{CleanupPolicy, remove_stale};
pub use client_auth::{ClientCredentials, ClientDirectory};
pub use clients::{
    AUTH_METHODS, CheckedMetadata, Client, ClientKind, ClientMetadata, Registered, check_metadata, find_client,
    register,
};
pub use connectors::{
    Connector, get_in as get_connector_in, list as list_connectors, list_in as list_connectors_in,
    move_in as move_connector_in, rebind, remove, remove_in as remove_connector_in,
};
pub use device::{
    DeviceAuthorization, DeviceRequest, UserCode, approve_device, deny_device, device_request, poll_device,
    start_device,
};
pub use error::{ErrorCode, OAuthError};
pub use id_token::{ID_TOKEN_TTL_SECS, IdTokens, UserInfo, UserInfoError, userinfo};
pub use lifetime::Lifetime;
pub use metadata_document::{ClientDocuments, MAX_DOCUMENT_BYTES, cache_lifetime, check_client_id_url, is_document_id};
pub use pkce::CodeChallenge;
pub use redirect::RedirectUri;
pub use tokens::{AccessGrant, AccessToken, TokenResponse, exchange_code, read_access, refresh, revoke_token};

use crate::clock::{MINUTE, Millis, SECOND};

/// How long an authorization code may be exchanged.
pub const CODE_TTL: Millis = 60 * SECOND;
/// How long an access token works.
pub const ACCESS_TTL: Millis = 60 * MINUTE;
/// How long an authorization request waits on the consent page.
pub const REQUEST_TTL: Millis = 10 * MINUTE;
/// How long a device code waits for approval.
pub const DEVICE_TTL: Millis = 5 * MINUTE;
/// The polling interval a device is told to keep, in seconds.
pub const DEVICE_INTERVAL_SECS: i64 = 5;
/// After a refresh token is rotated, presenting it again within this window returns the same
/// new pair (hosts refresh concurrently); after it, presenting it revokes the whole grant.
pub const REISSUE_WINDOW: Millis = 5 * SECOND;

/// The device-code grant type (RFC 8628).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The resource the tokens are for: the MCP endpoint under the public URL.
pub fn mcp_resource(public_url: &str) -> String {
    format!("{public_url}/mcp")
}

/// The resource (RFC 8707) an authorization asks for: `<public URL>/mcp` (everything the connector
/// may reach) when absent, or that URL, or `<public URL>/mcp/{slug}` (one upstream server); a
/// trailing slash is tolerated. Anything else is `invalid_target`.
pub(crate) fn resolve_resource(given: Option<&str>, issuer: &str) -> Result<String, OAuthError> {
    let all = mcp_resource(issuer);
    let Some(given) = given else { return Ok(all) };
    let trimmed = given.trim_end_matches('/');
    if trimmed == all {
        return Ok(all);
    }
    if let Some(slug) = trimmed.strip_prefix(&format!("{all}/"))
        && let Ok(slug) = crate::servers::ServerSlug::parse(slug)
    {
        return Ok(format!("{all}/{}", slug.as_str()));
    }
    Err(OAuthError::new(
        ErrorCode::InvalidTarget,
        format!(
            "resource {:?} is not served here; the MCP resources are {all} and {all}/<server>",
            truncate(given, 200)
        ),
    ))
}

/// The upstream server a resource names, if it is one server's.
pub fn server_of_resource<'a>(resource: &'a str, issuer: &str) -> Option<&'a str> {
    resource.strip_prefix(&mcp_resource(issuer))?.strip_prefix('/')
}

/// A `resource` parameter (RFC 8707) names our MCP endpoint; a trailing slash is tolerated.
pub(crate) fn check_resource(given: Option<&str>, expected: &str) -> Result<(), OAuthError> {
    match given {
        None => Ok(()),
        Some(r) if r.trim_end_matches('/') == expected => Ok(()),
        Some(r) => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            format!("resource {:?} is not served here; the MCP resource is {expected}", truncate(r, 200)),
        )),
    }
}

/// At most `max` characters of a value, for echoing it in an error.
pub(crate) fn truncate(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}
