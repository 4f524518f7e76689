//! Verified credentials kept in memory, so that a key or access token seen before costs no
//! database read.
//!
//! The cache is keyed by the SHA-256 fingerprint of the credential, never the credential, and
//! holds what the principal needs plus what can end the credential by the clock (expiry, the end
//! of a roll's grace period), which is checked on every call. Whatever else can end or narrow it
//! is a change of the credential itself (revocation, a roll, an edit of scopes or servers; a
//! connector removed or moved, its grant or token revoked) or of its whole workspace (its approver
//! removed, the workspace's key policy): the entry goes stale the moment
//! [`crate::changes::Changes`] records either, in this process before the change's answer is sent
//! and in others through the change feed. Only credentials valid when
//! read are kept; a refusal is read fresh each time. At most [`CAPACITY`] entries, none older
//! than [`MAX_AGE`].

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::verify::{AuthFailure, Principal};
use crate::clock::Millis;

/// Credentials kept at most.
pub const CAPACITY: usize = 10_000;

/// The longest an entry answers without being read again, whatever the feed says.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// SHA-256 of a presented credential: the cache's key.
pub(crate) type Fingerprint = [u8; 32];

pub(crate) fn fingerprint(credential: &str) -> Fingerprint {
    Sha256::digest(credential.as_bytes()).into()
}

/// A credential as verified: who it is, and what ends it by the clock.
#[derive(Debug)]
pub(crate) struct Verified {
    /// Shared with every request that uses the credential: handing it on is a reference count.
    pub principal: std::sync::Arc<Principal>,
    pub rate_limit_per_minute: i64,
    pub ends: Ends,
    /// The networks an API key may be used from; `None`: anywhere.
    pub allowed: Option<crate::net::Networks>,
}

/// What can end a verified credential without any change being made.
#[derive(Debug)]
pub(crate) enum Ends {
    Key {
        /// A roll's grace period ends here (a revocation dated in the future).
        revoked_at: Option<Millis>,
        expires_at: Option<Millis>,
    },
    AccessToken {
        expires_at: Millis,
        /// The end the person chose for the whole connection.
        grant_expires_at: Option<Millis>,
        /// The resource (RFC 8707) the token was issued for.
        resource: String,
    },
}

impl Ends {
    /// Whether the clock has ended the credential at `now`.
    pub fn ended(&self, now: Millis) -> bool {
        match self {
            Ends::Key { revoked_at, expires_at } => [revoked_at, expires_at].into_iter().flatten().any(|at| *at <= now),
            Ends::AccessToken { expires_at, grant_expires_at, .. } => {
                *expires_at <= now || grant_expires_at.is_some_and(|at| at <= now)
            }
        }
    }

    /// Whether the credential still works at `now` for `resource`, with the refusal if not.
    pub fn check(&self, now: Millis, resource: Option<&str>) -> Result<(), AuthFailure> {
        match self {
            Ends::Key { revoked_at, expires_at } => {
                if let Some(at) = revoked_at.filter(|at| *at <= now) {
                    return Err(AuthFailure::Revoked { at });
                }
                if let Some(at) = expires_at.filter(|at| *at <= now) {
                    return Err(AuthFailure::Expired { at });
                }
                Ok(())
            }
            Ends::AccessToken { expires_at, grant_expires_at, resource: issued_for } => {
                if *expires_at <= now {
                    return Err(AuthFailure::TokenExpired { at: *expires_at });
                }
                if let Some(at) = grant_expires_at.filter(|at| *at <= now) {
                    return Err(AuthFailure::TokenExpired { at });
                }
                if resource != Some(issued_for.as_str()) {
                    return Err(AuthFailure::WrongAudience);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_ends_keys_and_tokens() {
        let key = Ends::Key { revoked_at: Some(100), expires_at: Some(200) };
        assert_eq!(key.check(99, None), Ok(()));
        assert_eq!(key.check(100, None), Err(AuthFailure::Revoked { at: 100 }));
        let key = Ends::Key { revoked_at: None, expires_at: Some(200) };
        assert_eq!(key.check(200, None), Err(AuthFailure::Expired { at: 200 }));
        let token = Ends::AccessToken { expires_at: 300, grant_expires_at: Some(250), resource: "r".into() };
        assert_eq!(token.check(10, Some("r")), Ok(()));
        assert_eq!(token.check(10, Some("other")), Err(AuthFailure::WrongAudience));
        assert_eq!(token.check(250, Some("r")), Err(AuthFailure::TokenExpired { at: 250 }));
        assert_eq!(token.check(300, Some("r")), Err(AuthFailure::TokenExpired { at: 300 }));
        assert!(!token.ended(249) && token.ended(250));
        assert!(!key.ended(199) && key.ended(200));
    }

    #[test]
    fn fingerprints_are_digests() {
        let a = fingerprint("pk_live_abc");
        assert_eq!(a, fingerprint("pk_live_abc"));
        assert_ne!(a, fingerprint("pk_live_abd"));
        assert!(!a.windows(3).any(|w| w == b"abc"));
    }
}
