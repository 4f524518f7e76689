//! An email address that has been checked and normalised (trimmed, lower-cased).

use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld` up to 254 characters with no spaces or control characters.
    pub fn parse(input: &str) -> CoreResult<Self> {
        let value = input.trim().to_lowercase();
        let bad = |m: &str| Err(CoreError::invalid("email", m));
        if value.is_empty() {
            return bad("Enter your email address.");
        }
        if value.len() > 254 {
            return bad("That email address is too long (254 characters at most).");
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("An email address cannot contain spaces.");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return bad("Enter an email address like name@example.com.");
        };
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return bad("Enter an email address like name@example.com.");
        }
        Ok(Email(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(Email::parse("  Ada@Example.COM ").map(|e| e.0).ok(), Some("ada@example.com".into()));
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "ada@@x.com", "ada@x..com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(300))).is_err());
    }
}
