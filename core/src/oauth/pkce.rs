//! PKCE (RFC 7636), S256 only: a code challenge is the base64url SHA-256 of the verifier the
//! client keeps; `plain` is refused.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Checks the challenge and its method; the message says what is wrong.
    pub fn parse(challenge: Option<&str>, method: Option<&str>) -> Result<Self, String> {
        let challenge = challenge
            .filter(|c| !c.is_empty())
            .ok_or("code_challenge is required: PKCE with S256 protects every authorization")?;
        match method {
            Some("S256") => {}
            None => return Err("code_challenge_method is required and must be S256".into()),
            Some("plain") => return Err("code_challenge_method plain is not accepted; use S256".into()),
            Some(_) => return Err("code_challenge_method must be S256".into()),
        }
        if challenge.len() != 43 || !challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err("code_challenge must be the 43-character base64url SHA-256 of the code verifier".into());
        }
        Ok(CodeChallenge(challenge.to_owned()))
    }

    /// The stored form.
    pub fn from_stored(value: String) -> Self {
        CodeChallenge(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` (43–128 unreserved characters) hashes to this challenge.
    pub fn verify(&self, verifier: &str) -> Result<(), String> {
        if !(43..=128).contains(&verifier.len())
            || !verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        {
            return Err("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9 and - . _ ~".into());
        }
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if bool::from(computed.as_bytes().ct_eq(self.0.as_bytes())) {
            Ok(())
        } else {
            Err("code_verifier does not match the code_challenge of the authorization request".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_only() {
        // The challenge computed independently (Python: urlsafe_b64encode(sha256(verifier))).
        let verifier = "dBjftJeZ4CVP-mJ92K1GsHUhr8ysC8n7ZmZ4jGbt5Kw";
        let challenge = "HtxGVcpKUXnxk6KbCyVFi1b4NTWX6yXuK9K9I8109gQ";
        let c = CodeChallenge::parse(Some(challenge), Some("S256")).expect("valid");
        assert!(c.verify(verifier).is_ok());
        assert!(c.verify("dBjftJeZ4CVP-mJ92K1GsHUhr8ysC8n7ZmZ4jGbt5Kx").is_err());
        assert!(c.verify("short").is_err());
        assert!(CodeChallenge::parse(Some(challenge), Some("plain")).is_err());
        assert!(CodeChallenge::parse(Some(challenge), None).is_err());
        assert!(CodeChallenge::parse(None, Some("S256")).is_err());
        assert!(CodeChallenge::parse(Some("abc"), Some("S256")).is_err());
    }
}
