//! Passwords: the length rules, and argon2id hashing off the async threads.
//!
//! Parameters are argon2's defaults, which are OWASP's current recommendation for argon2id
//! (19 MiB of memory, 2 iterations, 1 lane).

use std::{fmt, sync::OnceLock};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::error::{CoreError, CoreResult};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A password that satisfies the length rules. Its `Debug` never prints it.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub fn parse(input: &str) -> CoreResult<Self> {
        let chars = input.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(CoreError::invalid("password", format!("Use at least {MIN_PASSWORD_CHARS} characters.")));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(CoreError::invalid("password", format!("Use at most {MAX_PASSWORD_CHARS} characters.")));
        }
        Ok(Password(input.to_owned()))
    }
}

/// Hashes a password with argon2id on the blocking pool.
pub async fn hash_password(password: Password) -> CoreResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.0.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| CoreError::Internal(format!("argon2 hash failed: {e}")))
    })
    .await
    .map_err(|e| CoreError::Internal(format!("hashing task failed: {e}")))?
}

/// Verifies a password against a stored hash on the blocking pool. With no hash (unknown user) it
/// verifies against a fixed dummy hash, so both cases cost the same, and answers false.
pub async fn verify_password(password: String, stored: Option<String>) -> CoreResult<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return Ok(false);
        };
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(ok && known)
    })
    .await
    .map_err(|e| CoreError::Internal(format!("verify task failed: {e}")))?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"gatehouse-dummy-password-for-timing", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(1025)).is_err());
        assert!(Password::parse("correct horse battery").is_ok());
        assert_eq!(format!("{:?}", Password::parse("correct horse battery").ok()), "Some(Password(***))");
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let pw = Password::parse("correct horse battery").expect("valid");
        let hash = hash_password(pw).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await.expect("verify"));
        assert!(!verify_password("wrong horse battery".into(), Some(hash)).await.expect("verify"));
        assert!(!verify_password("anything at all".into(), None).await.expect("verify"));
    }
}
