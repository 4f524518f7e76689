//! The one signing key set: RS256 keys that sign OpenID Connect ID tokens (and the identity
//! assertions sent to upstream servers), published at `/.well-known/jwks.json`.
//!
//! Keys live in the database, their private halves sealed under the server key, so every process
//! signs with the same key and publishes the same set. Rotation never breaks a token in flight: a
//! new key is published [`PUBLISH_AHEAD`] before it starts signing (verifiers that cache the set
//! see it first), and a replaced key stays published for [`KEEP_PUBLISHED`] — longer than anything
//! it signed lives. Keys are rotated every [`ROTATE_AFTER`], or at once with `gatehouse
//! signing-key rotate`.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::{pkcs1::EncodeRsaPrivateKey, traits::PublicKeyParts};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use crate::{
    Db,
    clock::{DAY, HOUR, Millis, now_ms},
    error::{CoreError, CoreResult},
    ids::random_base62,
    secrets::Keyring,
};

/// A key signs for this long before the next one replaces it.
pub const ROTATE_AFTER: Millis = 30 * DAY;
/// A new key is published this long before it signs.
pub const PUBLISH_AHEAD: Millis = HOUR;
/// A replaced key stays published this long after its successor started signing.
pub const KEEP_PUBLISHED: Millis = 2 * DAY;
/// How long a process uses what it read of the key set before reading it again.
const RELOAD_AFTER: Duration = Duration::from_secs(60);
const RSA_BITS: usize = 2048;

/// A stored key, its private half still sealed.
struct StoredKey {
    kid: String,
    sealed: String,
    public_jwk: Value,
    signs_from: Millis,
}

/// What a process keeps of the key set between reloads.
struct Loaded {
    at: Instant,
    current: Option<(String, Arc<EncodingKey>)>,
    published: Vec<Value>,
}

/// Signs tokens and publishes the key set. Cheap to clone.
#[derive(Clone)]
pub struct Signer {
    db: Db,
    keys: Keyring,
    cache: Arc<RwLock<Option<Arc<Loaded>>>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

fn context(kid: &str) -> String {
    crate::secrets::context_of("signing-key:", kid)
}

impl Signer {
    pub fn new(db: Db, keys: Keyring) -> Self {
        Signer { db, keys, cache: Arc::default() }
    }

    /// A signed JWT (RS256, `kid` in the header) carrying `claims`.
    pub async fn sign(&self, claims: &impl Serialize) -> CoreResult<String> {
        let mut loaded = self.loaded(false).await?;
        if loaded.current.is_none() {
            self.create_first_key().await?;
            loaded = self.loaded(true).await?;
        }
        let (kid, key) = loaded.current.as_ref().ok_or_else(|| CoreError::Internal("no signing key".into()))?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, claims, key).map_err(|e| CoreError::Internal(format!("cannot sign a token: {e}")))
    }

    /// The published key set, `{"keys": [...]}`; creates the first key when there is none.
    pub async fn jwks(&self) -> CoreResult<Value> {
        let mut loaded = self.loaded(false).await?;
        if loaded.published.is_empty() {
            self.create_first_key().await?;
            loaded = self.loaded(true).await?;
        }
        Ok(json!({ "keys": loaded.published }))
    }

    /// Housekeeping: publishes the next key when the current one has signed for [`ROTATE_AFTER`]
    /// less [`PUBLISH_AHEAD`], and deletes keys no longer published. Returns whether a key was made.
    pub async fn rotate_if_due(&self) -> CoreResult<bool> {
        let now = now_ms();
        let keys = self.stored().await?;
        // The first key is made when first needed; only a key set that exists is rotated.
        let made = match keys.iter().map(|k| k.signs_from).max() {
            Some(newest) if newest + ROTATE_AFTER - PUBLISH_AHEAD <= now => {
                self.insert_key((newest + ROTATE_AFTER).max(now + PUBLISH_AHEAD), Some(newest)).await?.is_some()
            }
            _ => false,
        };
        self.delete_retired(&keys, now).await?;
        if made {
            self.loaded(true).await?;
        }
        Ok(made)
    }

    /// Rotates now (the CLI): the new key signs from `now + ahead`, and the old ones stay published
    /// for [`KEEP_PUBLISHED`] after that — or, with `withdraw_old` (after a compromise), the new key
    /// signs at once and the old ones are withdrawn, so tokens they signed stop verifying.
    pub async fn rotate_now(&self, ahead: Millis, withdraw_old: bool) -> CoreResult<String> {
        let old = self.stored().await?;
        let signs_from = if withdraw_old { now_ms() } else { now_ms() + ahead.max(0) };
        let newest = old.iter().map(|k| k.signs_from).max();
        let kid = self.insert_key(signs_from, newest).await?.ok_or_else(|| {
            CoreError::Conflict("another process rotated the key at the same moment; try again".into())
        })?;
        if withdraw_old {
            for k in &old {
                sqlx::query("DELETE FROM signing_keys WHERE kid = $1").bind(&k.kid).execute(self.db.pool()).await?;
            }
        }
        self.loaded(true).await?;
        Ok(kid)
    }

    /// The kid of every published key and when it signs from, oldest first (for the CLI).
    pub async fn published_keys(&self) -> CoreResult<Vec<(String, Millis)>> {
        let keys = self.stored().await?;
        Ok(published(&keys, now_ms()).map(|k| (k.kid.clone(), k.signs_from)).collect())
    }

    /// Reads the key set, from the cache when it is fresh (or `force`d).
    async fn loaded(&self, force: bool) -> CoreResult<Arc<Loaded>> {
        if !force
            && let Ok(guard) = self.cache.read()
            && let Some(loaded) = guard.as_ref()
            && loaded.at.elapsed() < RELOAD_AFTER
        {
            return Ok(loaded.clone());
        }
        let now = now_ms();
        let keys = self.stored().await?;
        let current = keys.iter().rev().find(|k| k.signs_from <= now);
        let current = match current {
            Some(k) => {
                let der = self.keys.open(&context(&k.kid), &k.sealed)?;
                Some((k.kid.clone(), Arc::new(EncodingKey::from_rsa_der(&der))))
            }
            None => None,
        };
        let published = published(&keys, now).map(|k| k.public_jwk.clone()).collect();
        let loaded = Arc::new(Loaded { at: Instant::now(), current, published });
        if let Ok(mut guard) = self.cache.write() {
            *guard = Some(loaded.clone());
        }
        Ok(loaded)
    }

    /// Every stored key, oldest first.
    async fn stored(&self) -> CoreResult<Vec<StoredKey>> {
        let rows =
            sqlx::query("SELECT kid, private_key, public_jwk, signs_from FROM signing_keys ORDER BY signs_from, kid")
                .fetch_all(self.db.pool())
                .await?;
        rows.into_iter()
            .map(|r| {
                let jwk: String = r.try_get("public_jwk")?;
                Ok(StoredKey {
                    kid: r.try_get("kid")?,
                    sealed: r.try_get("private_key")?,
                    public_jwk: serde_json::from_str(&jwk)
                        .map_err(|e| CoreError::Internal(format!("a stored public key is not JSON: {e}")))?,
                    signs_from: r.try_get("signs_from")?,
                })
            })
            .collect()
    }

    /// The first key, when there is none (made on first use).
    async fn create_first_key(&self) -> CoreResult<()> {
        let newest = self.stored().await?.iter().map(|k| k.signs_from).max();
        self.insert_key(now_ms(), newest).await?;
        Ok(())
    }

    /// Stores a new key signing from `signs_from` — unless a key newer than `newest` (the newest
    /// one the caller saw; `None`: unless any key) exists, so two processes rotating at once make
    /// one key. Returns its kid when it was stored.
    async fn insert_key(&self, signs_from: Millis, newest: Option<Millis>) -> CoreResult<Option<String>> {
        let kid = random_base62(16);
        let (der, n, e) = tokio::task::spawn_blocking(generate_rsa)
            .await
            .map_err(|e| CoreError::Internal(format!("key generation stopped: {e}")))??;
        let jwk = json!({ "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": e });
        let inserted = sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at, signs_from)
             SELECT $1, 'RS256', $2, $3, $4, $5
             WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE signs_from > $6)",
        )
        .bind(&kid)
        .bind(self.keys.seal(&context(&kid), &der))
        .bind(jwk.to_string())
        .bind(now_ms())
        .bind(signs_from)
        .bind(newest.unwrap_or(i64::MIN))
        .execute(self.db.pool())
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        tracing::info!(%kid, signs_from, "signing key created");
        Ok(Some(kid))
    }

    async fn delete_retired(&self, keys: &[StoredKey], now: Millis) -> CoreResult<()> {
        let keep: Vec<&str> = published(keys, now).map(|k| k.kid.as_str()).collect();
        for k in keys.iter().filter(|k| !keep.contains(&k.kid.as_str())) {
            sqlx::query("DELETE FROM signing_keys WHERE kid = $1").bind(&k.kid).execute(self.db.pool()).await?;
            tracing::info!(kid = %k.kid, "signing key withdrawn");
        }
        Ok(())
    }
}

/// The keys to publish at `now`: every key not yet signing, the current one, and earlier ones
/// whose successor started signing less than [`KEEP_PUBLISHED`] ago. `keys` is oldest first.
fn published(keys: &[StoredKey], now: Millis) -> impl Iterator<Item = &StoredKey> {
    keys.iter()
        .enumerate()
        .filter(move |(i, _)| match keys.get(i + 1) {
            None => true,
            Some(next) => next.signs_from > now - KEEP_PUBLISHED,
        })
        .map(|(_, k)| k)
}

/// A new RSA key: its PKCS#1 DER, and its modulus and exponent as base64url.
fn generate_rsa() -> CoreResult<(zeroize::Zeroizing<Vec<u8>>, String, String)> {
    let key = rsa::PrivateKey::new(&mut rsa::rand_core::UnwrapErr(getrandom::SysRng), RSA_BITS)
        .map_err(|e| CoreError::Internal(format!("cannot generate an RSA key: {e}")))?;
    let der = key.to_pkcs1_der().map_err(|e| CoreError::Internal(format!("cannot encode an RSA key: {e}")))?;
    let public = key.to_public_key();
    let unpadded = |bytes: Vec<u8>| {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len().saturating_sub(1));
        URL_SAFE_NO_PAD.encode(&bytes[start..])
    };
    Ok((
        zeroize::Zeroizing::new(der.as_bytes().to_vec()),
        unpadded(public.n().to_be_bytes().to_vec()),
        unpadded(public.e().to_be_bytes().to_vec()),
    ))
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header, jwk::JwkSet};

    use super::*;

    fn verify(token: &str, jwks: &Value) -> Result<Value, String> {
        let set: JwkSet = serde_json::from_value(jwks.clone()).map_err(|e| e.to_string())?;
        let kid = decode_header(token).map_err(|e| e.to_string())?.kid.ok_or("no kid")?;
        let jwk = set.find(&kid).ok_or("kid not published")?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        decode::<Value>(token, &key, &validation).map(|d| d.claims).map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn tokens_verify_against_the_published_set_across_a_rotation() {
        let (_dir, db) = crate::testing::sqlite().await;
        let signer = Signer::new(db.clone(), Keyring::new(&[7; 32], &[]));
        let first = signer.sign(&json!({"sub": "a"})).await.expect("signs");
        let jwks = signer.jwks().await.expect("jwks");
        assert_eq!(verify(&first, &jwks).expect("verifies")["sub"], "a");
        assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
        assert!(!jwks.to_string().contains("\"d\""), "no private part is published");

        // Rotated with a delay: both keys published, the old one still signs until then.
        let next = signer.rotate_now(HOUR, false).await.expect("rotates");
        let jwks = signer.jwks().await.expect("jwks");
        assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
        let during = signer.sign(&json!({"sub": "b"})).await.expect("signs");
        assert_ne!(decode_header(&during).expect("header").kid.as_deref(), Some(next.as_str()));
        assert!(verify(&first, &jwks).is_ok(), "a token in flight still verifies");

        // Another process with the same server key signs with the same set.
        let other = Signer::new(db.clone(), Keyring::new(&[7; 32], &[]));
        assert!(verify(&other.sign(&json!({})).await.expect("signs"), &jwks).is_ok());

        // Withdrawn after a compromise: the new key signs at once and old tokens stop verifying.
        signer.rotate_now(0, true).await.expect("rotates");
        let jwks = signer.jwks().await.expect("jwks");
        assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
        assert!(verify(&first, &jwks).is_err());
        assert!(verify(&signer.sign(&json!({})).await.expect("signs"), &jwks).is_ok());
        // Without the server key, the stored private keys do not open.
        assert!(Signer::new(db.clone(), Keyring::new(&[8; 32], &[])).sign(&json!({})).await.is_err());
        db.close().await;
    }

    #[test]
    fn replaced_keys_stay_published_for_a_while() {
        let key = |kid: &str, signs_from| StoredKey {
            kid: kid.into(),
            sealed: String::new(),
            public_jwk: json!({}),
            signs_from,
        };
        let now = 100 * DAY;
        let keys = [
            key("old", now - 40 * DAY),
            key("recent", now - 3 * DAY),
            key("current", now - DAY),
            key("next", now + HOUR),
        ];
        let shown: Vec<&str> = published(&keys, now).map(|k| k.kid.as_str()).collect();
        assert_eq!(shown, ["recent", "current", "next"], "old's successor signed more than two days ago");
    }
}
