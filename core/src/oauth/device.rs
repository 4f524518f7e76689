//! Device authorization (RFC 8628) for CLIs: the device gets a device code and a short user
//! code; the person opens the verification page, checks the code, picks a workspace and approves;
//! the device's polling then receives its tokens and the device appears as a connector.

use rand::{Rng, rngs::OsRng};
use serde::Serialize;
use sqlx::Row;

use super::{
    DEVICE_GRANT, DEVICE_INTERVAL_SECS, DEVICE_TTL, ErrorCode, IdTokens, Lifetime, OAuthError, TokenResponse,
    authorize::requested_scopes,
    clients::Client,
    resolve_resource,
    secret::{self, DEVICE_PREFIX},
    tokens::{NewGrant, create_grant},
};
use crate::{
    Db,
    accounts::{ThrottlePolicy, throttle},
    audit::{self, Actor},
    clock::{Millis, SECOND, now_ms},
    error::{CoreError, CoreResult},
    ids::new_id,
    scopes::ScopeSet,
    workspaces,
};

/// Letters without vowels (no words) and without look-alikes (no I, O, U, 0, 1): easy to read
/// aloud and type.
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;
/// Wrong codes a person may type before the verification page pauses for them.
const MAX_WRONG_CODES: i64 = 5;

/// A user code, normalised: 8 letters of [`ALPHABET`], shown as `XXXX-XXXX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    fn generate() -> Self {
        UserCode((0..USER_CODE_LEN).map(|_| ALPHABET[OsRng.gen_range(0..ALPHABET.len())] as char).collect())
    }

    /// Accepts what a person types: any case, with or without the dash or spaces.
    pub fn parse(input: &str) -> CoreResult<Self> {
        let code: String =
            input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
        if code.len() != USER_CODE_LEN || !code.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(CoreError::invalid(
                "user_code",
                "A code is 8 letters, like BDFH-KMNP. Check the code your device shows.",
            ));
        }
        Ok(UserCode(code))
    }

    /// `XXXX-XXXX`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// Starts a device authorization for a client that registered the device grant.
pub async fn start_device(
    db: &Db,
    client: &Client,
    scope: Option<&str>,
    resource: Option<&str>,
    public_url: &str,
) -> Result<DeviceAuthorization, OAuthError> {
    if !client.allows_grant(DEVICE_GRANT) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("this client did not register the {DEVICE_GRANT} grant"),
        ));
    }
    let scopes = requested_scopes(scope, client.scope.as_ref())?;
    let resource_uri = resolve_resource(resource, public_url)?;
    let device_code = secret::generate(DEVICE_PREFIX);
    let now = now_ms();
    for _ in 0..5 {
        let user_code = UserCode::generate();
        let inserted = sqlx::query(
            "INSERT INTO oauth_device_codes (digest, user_code, client_id, scopes, resource, created_at, expires_at, interval_secs, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending') ON CONFLICT (user_code) DO NOTHING",
        )
        .bind(secret::digest(&device_code))
        .bind(&user_code.0)
        .bind(&client.id)
        .bind(scopes.to_stored())
        .bind(&resource_uri)
        .bind(now)
        .bind(now + DEVICE_TTL)
        .bind(DEVICE_INTERVAL_SECS)
        .execute(db.pool())
        .await?;
        if inserted.rows_affected() == 1 {
            let display = user_code.display();
            return Ok(DeviceAuthorization {
                device_code,
                verification_uri: format!("{public_url}/device"),
                verification_uri_complete: format!("{public_url}/device?user_code={display}"),
                user_code: display,
                expires_in: DEVICE_TTL / SECOND,
                interval: DEVICE_INTERVAL_SECS,
            });
        }
    }
    Err(OAuthError::server_error())
}

/// The device-code grant: what the device's polling is answered.
pub async fn poll_device(
    db: &Db,
    oidc: &IdTokens,
    client: &Client,
    device_code: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let device_code =
        device_code.filter(|c| !c.is_empty()).ok_or_else(|| OAuthError::invalid_request("device_code is missing"))?;
    if !secret::well_formed(device_code, DEVICE_PREFIX) {
        return Err(OAuthError::invalid_grant("the device_code is not valid"));
    }
    let digest = secret::digest(device_code);
    let row = sqlx::query(
        "SELECT client_id, scopes, resource, expires_at, interval_secs, last_polled_at, status, user_id, workspace_id,
                grant_expires_at, grant_id, servers
         FROM oauth_device_codes WHERE digest = $1",
    )
    .bind(&digest)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| OAuthError::invalid_grant("the device_code is not valid: it was not issued here"))?;
    if row.try_get::<String, _>("client_id")? != client.id {
        return Err(OAuthError::invalid_grant("the device_code was issued to another client"));
    }
    let now = now_ms();
    if row.try_get::<Millis, _>("expires_at")? <= now {
        return Err(OAuthError::new(ErrorCode::ExpiredToken, "the device code has expired; start again"));
    }
    let interval: i64 = row.try_get("interval_secs")?;
    let last: Option<Millis> = row.try_get("last_polled_at")?;
    if last.is_some_and(|at| now - at < interval * SECOND) {
        // RFC 8628 §3.5: slow down by 5 seconds, for this and every later request.
        let slower = interval + 5;
        sqlx::query("UPDATE oauth_device_codes SET interval_secs = $1, last_polled_at = $2 WHERE digest = $3")
            .bind(slower)
            .bind(now)
            .bind(&digest)
            .execute(db.pool())
            .await?;
        let mut e =
            OAuthError::new(ErrorCode::SlowDown, format!("polling too fast; wait {slower} seconds between requests"));
        e.retry_after = Some(slower);
        return Err(e);
    }
    sqlx::query("UPDATE oauth_device_codes SET last_polled_at = $1 WHERE digest = $2")
        .bind(now)
        .bind(&digest)
        .execute(db.pool())
        .await?;
    match row.try_get::<String, _>("status")?.as_str() {
        "pending" => Err(OAuthError::new(
            ErrorCode::AuthorizationPending,
            "the person has not approved the request yet; keep polling",
        )),
        "denied" => Err(OAuthError::new(ErrorCode::AccessDenied, "the person denied the request")),
        "approved" => {
            let mut tx = db.pool().begin().await?;
            let claimed = sqlx::query(
                "UPDATE oauth_device_codes SET status = 'consumed' WHERE digest = $1 AND status = 'approved'",
            )
            .bind(&digest)
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() != 1 {
                return Err(OAuthError::invalid_grant("the device code has already been used"));
            }
            let grant_id: String = row.try_get::<Option<String>, _>("grant_id")?.unwrap_or_else(|| new_id("con"));
            let workspace_id: String = row.try_get::<Option<String>, _>("workspace_id")?.unwrap_or_default();
            let user_id: String = row.try_get::<Option<String>, _>("user_id")?.unwrap_or_default();
            let scopes: String = row.try_get("scopes")?;
            let resource: String = row.try_get("resource")?;
            let servers: Option<String> = row.try_get("servers")?;
            let mut response = create_grant(
                &mut tx,
                NewGrant {
                    id: &grant_id,
                    client_id: &client.id,
                    workspace_id: &workspace_id,
                    user_id: &user_id,
                    scopes: &scopes,
                    resource: &resource,
                    redirect_uri: None,
                    kind: "device_code",
                    expires_at: row.try_get("grant_expires_at")?,
                    servers: servers.as_deref(),
                },
            )
            .await?;
            tx.commit().await?;
            oidc.attach(db, &mut response, &user_id, &client.id, None).await?;
            Ok(response)
        }
        _ => Err(OAuthError::invalid_grant("the device code has already been used")),
    }
}

/// A waiting device, as the verification page shows it.
#[derive(Debug, Clone)]
pub struct DeviceRequest {
    pub user_code: String,
    pub client_name: String,
    pub scopes: ScopeSet,
    pub expires_at: Millis,
}

fn wrong_code() -> CoreError {
    CoreError::invalid(
        "user_code",
        "No device is waiting for this code. Check it against your device; codes last 5 minutes, so you may need to start again there.",
    )
}

async fn find_pending(db: &Db, code: &UserCode) -> CoreResult<Option<DeviceRequest>> {
    let row = sqlx::query(
        "SELECT d.scopes, d.expires_at, c.name FROM oauth_device_codes d JOIN oauth_clients c ON c.id = d.client_id
         WHERE d.user_code = $1 AND d.status = 'pending' AND d.expires_at > $2",
    )
    .bind(&code.0)
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(DeviceRequest {
            user_code: code.display(),
            client_name: row.try_get("name")?,
            scopes: ScopeSet::from_stored(&row.try_get::<String, _>("scopes")?),
            expires_at: row.try_get("expires_at")?,
        })
    })
    .transpose()
}

/// The device waiting for the code a person typed. Wrong or expired codes count against the
/// person; after five in a row the page pauses for them.
pub async fn device_request(db: &Db, policy: &ThrottlePolicy, user_id: &str, input: &str) -> CoreResult<DeviceRequest> {
    let subject = format!("device:{user_id}");
    throttle::check(db, &subject).await.map_err(too_many_codes)?;
    let found = match UserCode::parse(input) {
        Ok(code) => find_pending(db, &code).await?,
        Err(e) => {
            throttle::record_failure(db, policy, &subject, MAX_WRONG_CODES).await?;
            return Err(e);
        }
    };
    match found {
        Some(request) => {
            throttle::clear(db, &subject).await?;
            Ok(request)
        }
        None => {
            throttle::record_failure(db, policy, &subject, MAX_WRONG_CODES).await?;
            throttle::check(db, &subject).await.map_err(too_many_codes)?;
            Err(wrong_code())
        }
    }
}

fn too_many_codes(e: CoreError) -> CoreError {
    match e {
        CoreError::Throttled { retry_after_secs } => CoreError::invalid(
            "user_code",
            format!(
                "Too many wrong codes. Code entry is paused for {} minutes; then check the code on your device and try again.",
                (retry_after_secs + 59) / 60
            ),
        ),
        other => other,
    }
}

/// Approves the waiting device for one of the person's workspaces (admin or owner).
pub async fn approve_device(
    db: &Db,
    actor: &Actor,
    input: &str,
    slug: &str,
    lifetime: Lifetime,
    issuer: &str,
    servers: crate::servers::ServerAccess,
) -> CoreResult<DeviceRequest> {
    let code = UserCode::parse(input)?;
    let m = workspaces::membership(db, &actor.user_id, slug).await.map_err(|e| match e {
        CoreError::NotFound => CoreError::invalid("workspace", "Choose one of your workspaces."),
        other => other,
    })?;
    m.role.require_admin("connect a device to this workspace")?;
    let request = find_pending(db, &code).await?.ok_or_else(wrong_code)?;
    let resource: String = sqlx::query("SELECT resource FROM oauth_device_codes WHERE user_code = $1")
        .bind(&code.0)
        .fetch_one(db.pool())
        .await?
        .try_get("resource")?;
    let servers = super::authorize::grant_servers(db, &m.workspace.id, &resource, issuer, servers).await?;
    let now = now_ms();
    let grant_id = new_id("con");
    let mut tx = db.pool().begin().await?;
    let approved = sqlx::query(
        "UPDATE oauth_device_codes SET status = 'approved', user_id = $1, workspace_id = $2, grant_expires_at = $3, grant_id = $4,
             servers = $7
         WHERE user_code = $5 AND status = 'pending' AND expires_at > $6",
    )
    .bind(&actor.user_id)
    .bind(&m.workspace.id)
    .bind(lifetime.ends_at(now))
    .bind(&grant_id)
    .bind(&code.0)
    .bind(now)
    .bind(servers.to_stored())
    .execute(&mut *tx)
    .await?;
    if approved.rows_affected() != 1 {
        return Err(CoreError::Conflict("This code has already been answered.".into()));
    }
    audit::record(
        &mut *tx,
        &m.workspace.id,
        Some(actor),
        "device.approved",
        ("connector", &grant_id),
        serde_json::json!({ "client_name": request.client_name, "scopes": request.scopes.to_stored(), "expires_at": lifetime.ends_at(now) }),
    )
    .await?;
    tx.commit().await?;
    Ok(request)
}

/// Denies the waiting device: its polling answers `access_denied`.
pub async fn deny_device(db: &Db, input: &str) -> CoreResult<()> {
    let code = UserCode::parse(input)?;
    let denied = sqlx::query(
        "UPDATE oauth_device_codes SET status = 'denied' WHERE user_code = $1 AND status = 'pending' AND expires_at > $2",
    )
    .bind(&code.0)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    if denied.rows_affected() != 1 {
        return Err(wrong_code());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes() {
        let code = UserCode::generate();
        assert_eq!(code.0.len(), 8);
        let shown = code.display();
        assert_eq!(shown.len(), 9);
        assert_eq!(UserCode::parse(&shown.to_lowercase()).expect("typed"), code);
        assert_eq!(UserCode::parse(&format!(" {} ", code.0)).expect("no dash"), code);
        assert!(UserCode::parse("BDFH-KMN").is_err());
        assert!(UserCode::parse("BDFH-KMNA").is_err(), "vowels are not in the alphabet");
        assert!(UserCode::parse("BDFH-KMN0").is_err());
    }
}
