//! The secrets OAuth hands out: random opaque strings with a type prefix, stored only as their
//! SHA-256 digest; and the pair derived from a rotated refresh token for the reissue window.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::ids::random_base62;

/// Access tokens.
pub const ACCESS_PREFIX: &str = "gat_";
/// Refresh tokens.
pub const REFRESH_PREFIX: &str = "grt_";
/// Authorization codes.
pub const CODE_PREFIX: &str = "gac_";
/// Device codes.
pub const DEVICE_PREFIX: &str = "gdc_";
/// Client secrets.
pub const CLIENT_SECRET_PREFIX: &str = "gcs_";

/// A new secret: the prefix and 43 base62 characters (256 bits).
pub fn generate(prefix: &str) -> String {
    format!("{prefix}{}", random_base62(43))
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn digest(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// A secret derived from `parent` (which only its holder knows) and a stored random `salt`:
/// whoever presents `parent` again gets the same value; the database alone cannot make it.
pub fn derive(prefix: &str, parent: &str, label: &str, salt: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(parent.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm cannot be reached.
        Err(_) => return generate(prefix),
    };
    mac.update(label.as_bytes());
    mac.update(b"\0");
    mac.update(salt.as_bytes());
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// Whether a presented value could be a secret of this kind (so garbage never reaches a query).
pub fn well_formed(value: &str, prefix: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|rest| {
        (20..=128).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_derivations() {
        let a = generate(ACCESS_PREFIX);
        assert!(well_formed(&a, ACCESS_PREFIX));
        assert!(!well_formed(&a, REFRESH_PREFIX));
        assert!(!well_formed("gat_short", ACCESS_PREFIX));
        assert!(!well_formed(&format!("{a}!"), ACCESS_PREFIX));
        assert_eq!(digest("x").len(), 64);
        let d1 = derive(ACCESS_PREFIX, "parent", "access", "salt");
        assert_eq!(d1, derive(ACCESS_PREFIX, "parent", "access", "salt"));
        assert_ne!(d1, derive(ACCESS_PREFIX, "parent", "refresh", "salt"));
        assert_ne!(d1, derive(ACCESS_PREFIX, "other", "access", "salt"));
        assert!(well_formed(&d1, ACCESS_PREFIX));
    }
}
