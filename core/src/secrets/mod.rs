//! The server key: secrets Gatehouse must be able to read back (signing keys, upstream servers'
//! credentials) are stored sealed with an AEAD cipher (XChaCha20-Poly1305) under it, never in the
//! clear.
//!
//! The key comes from `GATEHOUSE_SECRET_KEY` (32 bytes, base64 or hex), or from a key file that
//! Gatehouse creates with mode 0600 in its data folder on first start ([`KeySource`]). Previous keys
//! (`GATEHOUSE_SECRET_KEY_PREVIOUS`, or the key file's later lines) still open what they sealed, so
//! the key can be rotated: seal with the new key, [`reseal`] what the old one sealed, then drop it.
//!
//! A sealed value is `gk1.` and base64url of: the key's 4-byte id, a random 24-byte nonce, and the
//! ciphertext with its tag. Each value is sealed for a context (say `signing-key:<kid>`), given to
//! the cipher as associated data, so a sealed value copied into another row does not open there.

mod reseal;
mod source;

pub use reseal::{context_of, reseal};
pub use source::{KeySource, generate_key_text, parse_key_text};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use rand::{RngCore, rngs::OsRng};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{CoreError, CoreResult};

const PREFIX: &str = "gk1.";
const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 24;

/// One 256-bit key and its public id (the first bytes of its SHA-256).
#[derive(Clone)]
struct Key {
    id: [u8; KEY_ID_LEN],
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn new(material: &[u8; 32]) -> Self {
        let digest = Sha256::digest(material);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Key { id, cipher: XChaCha20Poly1305::new(material.into()) }
    }
}

/// The current key, which seals, and the previous ones, which only open.
#[derive(Clone)]
pub struct Keyring {
    current: Key,
    previous: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &hex(&self.current.id))
            .field("previous", &self.previous.iter().map(|k| hex(&k.id)).collect::<Vec<_>>())
            .finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Keyring {
    pub fn new(current: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        Keyring { current: Key::new(current), previous: previous.iter().map(Key::new).collect() }
    }

    /// The current key's id, as the log and `gatehouse secret-key` show it (not secret).
    pub fn key_id(&self) -> String {
        hex(&self.current.id)
    }

    /// Seals `plaintext` for `context` under the current key.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .current
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            // Encryption fails only for messages beyond the cipher's limit (256 GiB).
            .unwrap_or_default();
        let mut out = Vec::with_capacity(KEY_ID_LEN + NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a value sealed for `context` by the current or a previous key.
    pub fn open(&self, context: &str, sealed: &str) -> CoreResult<Zeroizing<Vec<u8>>> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|b| b.len() > KEY_ID_LEN + NONCE_LEN)
            .ok_or_else(|| CoreError::Internal(format!("a sealed value for {context} is not in the gk1 format")))?;
        let (id, rest) = bytes.split_at(KEY_ID_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let key = std::iter::once(&self.current).chain(&self.previous).find(|k| k.id == id).ok_or_else(|| {
            CoreError::Internal(format!(
                "a value for {context} was sealed with server key {}, which is not configured (current key {}); \
                 set GATEHOUSE_SECRET_KEY_PREVIOUS to it",
                hex(id),
                self.key_id()
            ))
        })?;
        key.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map(Zeroizing::new)
            .map_err(|_| {
                CoreError::Internal(format!("a sealed value for {context} does not open: altered or misplaced"))
            })
    }

    /// Whether `sealed` was sealed by a previous key (and so should be sealed again).
    pub fn is_stale(&self, sealed: &str) -> bool {
        let id = sealed.strip_prefix(PREFIX).and_then(|b| URL_SAFE_NO_PAD.decode(b).ok());
        id.is_some_and(|b| b.len() >= KEY_ID_LEN && b[..KEY_ID_LEN] != self.current.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(seed: u8) -> Keyring {
        Keyring::new(&[seed; 32], &[])
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let k = ring(1);
        let sealed = k.seal("ctx:a", b"Bearer crm-secret");
        assert!(sealed.starts_with("gk1."));
        assert!(!sealed.contains("crm-secret"));
        assert_eq!(k.open("ctx:a", &sealed).expect("opens").as_slice(), b"Bearer crm-secret");
        assert!(k.open("ctx:b", &sealed).is_err(), "another context");
        assert!(ring(2).open("ctx:a", &sealed).is_err(), "another key");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(k.open("ctx:a", &tampered).is_err(), "altered");
        assert!(k.open("ctx:a", "not sealed").is_err());
        assert_ne!(k.seal("ctx:a", b"x"), k.seal("ctx:a", b"x"), "a fresh nonce each time");
    }

    #[test]
    fn a_previous_key_still_opens_and_marks_values_stale() {
        let old = ring(1);
        let sealed = old.seal("c", b"v");
        let rotated = Keyring::new(&[2; 32], &[[1; 32]]);
        assert_eq!(rotated.open("c", &sealed).expect("opens").as_slice(), b"v");
        assert!(rotated.is_stale(&sealed));
        assert!(!rotated.is_stale(&rotated.seal("c", b"v")));
        let message = ring(3).open("c", &sealed).expect_err("unknown key").to_string();
        assert!(message.contains("GATEHOUSE_SECRET_KEY_PREVIOUS"), "{message}");
        assert!(!format!("{rotated:?}").contains("0202"), "Debug shows key ids only");
    }
}
