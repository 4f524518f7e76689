//! The key format: `pk_live_` or `pk_test_` (API keys, for MCP) or `sk_live_` (management keys, for
//! the `/v1` management API), then 12 base62 characters of lookup id, 43 of secret (256 bits), and
//! a 6-character base62 CRC32 of everything before it. As a regular expression, for secret
//! scanners: `\b(pk_live|pk_test|sk_live)_[0-9A-Za-z]{61}\b`.
//!
//! The checksum lets a secret scanner recognise a real key offline and lets us reject a mistyped
//! or truncated key before touching the database. The lookup id finds the row; the SHA-256 digest
//! of the whole key, compared in constant time, proves the secret.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::random_base62;

pub const LOOKUP_ID_LEN: usize = 12;
pub const SECRET_LEN: usize = 43;
pub const CHECKSUM_LEN: usize = 6;
const BODY_LEN: usize = LOOKUP_ID_LEN + SECRET_LEN + CHECKSUM_LEN;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Live keys act on live data; test keys on the workspace's test data only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Live,
    Test,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Test => "test",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "live" => Some(Environment::Live),
            "test" => Some(Environment::Test),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Environment::Live => "pk_live_",
            Environment::Test => "pk_test_",
        }
    }
}

/// What a key is for, as its prefix says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `pk_live_` / `pk_test_`: an API key, for MCP calls.
    Api(Environment),
    /// `sk_live_`: a management key, for the `/v1` management API.
    Management,
}

impl KeyKind {
    fn prefix(self) -> &'static str {
        match self {
            KeyKind::Api(environment) => environment.prefix(),
            KeyKind::Management => "sk_live_",
        }
    }
}

/// Why a string is not a well-formed key. Each has its own message for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormatError {
    /// Does not start with `pk_live_`, `pk_test_` or `sk_live_`.
    NotAKey,
    /// Wrong length or characters: truncated, padded or mangled.
    Malformed,
    /// The right shape but the checksum does not match: a character was changed.
    BadChecksum,
}

/// A full key as typed or sent. Its `Debug` and `Display` never print the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyToken {
    full: String,
    kind: KeyKind,
}

/// The key's text is wiped when the value goes, so a verified key leaves no copy of ours in
/// freed memory.
impl Drop for KeyToken {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.full);
    }
}

impl fmt::Debug for KeyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyToken({})", self.hint())
    }
}

impl KeyToken {
    /// A new random API key.
    pub fn generate(environment: Environment) -> Self {
        Self::generate_kind(KeyKind::Api(environment))
    }

    /// A new random key of this kind.
    pub fn generate_kind(kind: KeyKind) -> Self {
        let mut full = String::with_capacity(8 + BODY_LEN);
        full.push_str(kind.prefix());
        full.push_str(&random_base62(LOOKUP_ID_LEN + SECRET_LEN));
        let checksum = checksum(&full);
        full.push_str(&checksum);
        KeyToken { full, kind }
    }

    /// The same key id with a different secret and a valid checksum: what a guesser who knows an
    /// id would send.
    #[cfg(test)]
    pub(crate) fn with_other_secret(&self) -> Self {
        let mut full = self.full[..8 + LOOKUP_ID_LEN].to_owned();
        full.push_str(&random_base62(SECRET_LEN));
        let checksum = checksum(&full);
        full.push_str(&checksum);
        KeyToken { full, kind: self.kind }
    }

    /// Checks the shape and the checksum; touches no database.
    pub fn parse(value: &str) -> Result<Self, TokenFormatError> {
        let (kind, body) = if let Some(body) = value.strip_prefix("pk_live_") {
            (KeyKind::Api(Environment::Live), body)
        } else if let Some(body) = value.strip_prefix("pk_test_") {
            (KeyKind::Api(Environment::Test), body)
        } else if let Some(body) = value.strip_prefix("sk_live_") {
            (KeyKind::Management, body)
        } else {
            return Err(TokenFormatError::NotAKey);
        };
        if body.len() != BODY_LEN || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(TokenFormatError::Malformed);
        }
        let (signed, given) = value.split_at(value.len() - CHECKSUM_LEN);
        if !bool::from(checksum(signed).as_bytes().ct_eq(given.as_bytes())) {
            return Err(TokenFormatError::BadChecksum);
        }
        Ok(KeyToken { full: value.to_owned(), kind })
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// An API key's environment; a management key's is live.
    pub fn environment(&self) -> Environment {
        match self.kind {
            KeyKind::Api(environment) => environment,
            KeyKind::Management => Environment::Live,
        }
    }

    /// The non-secret id that finds the key's row.
    pub fn lookup_id(&self) -> &str {
        &self.full[8..8 + LOOKUP_ID_LEN]
    }

    /// The whole key. Only for the one response that reveals it.
    pub fn expose(&self) -> &str {
        &self.full
    }

    /// SHA-256 of the whole key, as stored.
    pub fn digest(&self) -> String {
        digest_hex(&self.full)
    }

    /// SHA-256 of the whole key as bytes: what the credential cache knows it by.
    pub(crate) fn fingerprint(&self) -> super::cache::Fingerprint {
        super::cache::fingerprint(&self.full)
    }

    /// `pk_live_AbCd…wxyz`: enough to recognise a key, never enough to use it.
    pub fn hint(&self) -> String {
        hint_with(self.kind, self.lookup_id(), &self.full[self.full.len() - 4..])
    }

    /// The last four characters, stored to build the hint.
    pub fn last4(&self) -> &str {
        &self.full[self.full.len() - 4..]
    }
}

/// The display hint of a stored API key.
pub fn hint(environment: Environment, lookup_id: &str, last4: &str) -> String {
    hint_with(KeyKind::Api(environment), lookup_id, last4)
}

/// The display hint of a stored key of any kind.
pub fn hint_with(kind: KeyKind, lookup_id: &str, last4: &str) -> String {
    format!("{}{}…{}", kind.prefix(), &lookup_id[..4.min(lookup_id.len())], last4)
}

/// Compares a presented key's digest with the stored one in constant time.
pub fn digest_matches(token: &KeyToken, stored_hex: &str) -> bool {
    bool::from(token.digest().as_bytes().ct_eq(stored_hex.as_bytes()))
}

fn digest_hex(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    out
}

/// CRC32 of `value` as 6 base62 digits, most significant first.
fn checksum(value: &str) -> String {
    let mut n = crc32fast::hash(value.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back() {
        for env in [Environment::Live, Environment::Test] {
            let key = KeyToken::generate(env);
            assert_eq!(key.expose().len(), 8 + BODY_LEN);
            let parsed = KeyToken::parse(key.expose()).expect("valid");
            assert_eq!(parsed.environment(), env);
            assert_eq!(parsed.lookup_id(), key.lookup_id());
            assert!(digest_matches(&parsed, &key.digest()));
            assert!(!format!("{parsed:?}").contains(&key.expose()[20..40]));
        }
    }

    #[test]
    fn rejects_changes() {
        let key = KeyToken::generate(Environment::Live);
        let s = key.expose();
        assert_eq!(KeyToken::parse(&s[..s.len() - 1]), Err(TokenFormatError::Malformed));
        assert_eq!(KeyToken::parse(&format!("{s}x")), Err(TokenFormatError::Malformed));
        assert_eq!(KeyToken::parse("sk_live_abc"), Err(TokenFormatError::Malformed));
        assert_eq!(KeyToken::parse("rk_live_abc"), Err(TokenFormatError::NotAKey));
        // One character changed.
        let mut chars: Vec<char> = s.chars().collect();
        chars[20] = if chars[20] == 'a' { 'b' } else { 'a' };
        assert_eq!(KeyToken::parse(&chars.iter().collect::<String>()), Err(TokenFormatError::BadChecksum));
        // A live key's body under the test prefix: the checksum covers the prefix.
        let swapped = s.replacen("pk_live_", "pk_test_", 1);
        assert_eq!(KeyToken::parse(&swapped), Err(TokenFormatError::BadChecksum));
        // Non-alphanumeric characters.
        let bad = format!("pk_live_{}", "-".repeat(BODY_LEN));
        assert_eq!(KeyToken::parse(&bad), Err(TokenFormatError::Malformed));
    }

    #[test]
    fn management_keys_share_the_format() {
        let key = KeyToken::generate_kind(KeyKind::Management);
        assert!(key.expose().starts_with("sk_live_") && key.expose().len() == 8 + BODY_LEN);
        let parsed = KeyToken::parse(key.expose()).expect("valid");
        assert_eq!(parsed.kind(), KeyKind::Management);
        assert!(key.hint().starts_with("sk_live_"));
        let swapped = key.expose().replacen("sk_live_", "pk_live_", 1);
        assert_eq!(KeyToken::parse(&swapped), Err(TokenFormatError::BadChecksum), "the checksum covers the kind");
    }

    #[test]
    fn hint_shows_only_ends() {
        let key = KeyToken::generate(Environment::Test);
        let hint = key.hint();
        assert!(hint.starts_with("pk_test_") && hint.contains('…'));
        assert_eq!(hint.chars().count(), 8 + 4 + 1 + 4);
    }
}
