//! Who is calling, for an upstream server that asks to know: a short-lived JWT in the
//! `Gatehouse-Identity` header, signed with the key set published at `/.well-known/jwks.json`.
//! Claims: `iss` (the public URL), `aud` (the server's URL), `sub` (the key's or connector's id),
//! `workspace` (`id`, `slug`), `via` (`key` or `connector`), `user` (who approved a connector),
//! `scopes`, `environment`, `iat`, `exp` ([`IDENTITY_TTL_SECS`] later) and a unique `jti`.

use gatehouse_core::{
    CoreError,
    clock::now_ms,
    ids::new_id,
    keys::{Principal, Via},
    servers::UpstreamServer,
    signing::Signer,
};
use serde_json::json;

/// How long an identity assertion is valid.
pub const IDENTITY_TTL_SECS: i64 = 60;
/// The header that carries it.
pub const HEADER: &str = "gatehouse-identity";

pub async fn assertion(
    signer: &Signer,
    issuer: &str,
    server: &UpstreamServer,
    p: &Principal,
) -> Result<String, CoreError> {
    let now = now_ms() / 1000;
    let (via, user) = match &p.via {
        Via::Key => ("key", None),
        Via::Connector { user_id, .. } => ("connector", Some(user_id.as_str())),
    };
    let claims = json!({
        "iss": issuer,
        "aud": server.url,
        "sub": p.caller_id,
        "via": via,
        "user": user,
        "workspace": { "id": p.workspace_id, "slug": p.workspace_slug },
        "environment": p.environment,
        "scopes": p.scopes.names(),
        "iat": now,
        "exp": now + IDENTITY_TTL_SECS,
        "jti": new_id("gid"),
    });
    signer.sign(&claims).await
}
