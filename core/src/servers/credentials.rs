//! The headers Gatehouse sends to an upstream server as its own credential (say
//! `Authorization: Bearer crm-secret`): typed as `Name: value` lines, checked, and stored sealed
//! under the server key. After saving only their names are shown again.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{
    error::{CoreError, CoreResult},
    secrets::{Keyring, context_of},
};

/// At most this many headers.
const MAX_HEADERS: usize = 20;
const MAX_VALUE_BYTES: usize = 8192;

/// Header names Gatehouse sets itself, which a credential may not replace.
const RESERVED: [&str; 13] = [
    "host",
    "content-length",
    "content-type",
    "accept",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-connection",
    "gatehouse-identity",
    "user-agent",
];

/// Checked credential headers, in memory only while being sent or sealed.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CredentialHeaders(Vec<(String, String)>);

impl std::fmt::Debug for CredentialHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CredentialHeaders({})", self.names().join(", "))
    }
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::invalid("headers", message)
}

impl CredentialHeaders {
    /// `Name: value` lines (empty lines skipped). A value may hold no line break or control
    /// character; `MCP-…` headers and those Gatehouse sets itself are refused.
    pub fn parse(text: &str) -> CoreResult<Self> {
        let mut headers = Vec::new();
        for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
            if line.trim().is_empty() {
                continue;
            }
            let (name, value) =
                line.split_once(':').ok_or_else(|| invalid("Write each header as Name: value, one per line."))?;
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        Self::from_pairs(headers)
    }

    /// The same checks on pairs (the CLI's repeated `--header`).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> CoreResult<Self> {
        if pairs.len() > MAX_HEADERS {
            return Err(invalid(format!("At most {MAX_HEADERS} headers.")));
        }
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in &pairs {
            let shown: String = name.chars().take(60).collect();
            let token = !name.is_empty()
                && name.len() <= 100
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                return Err(invalid(format!("'{shown}' is not a header name (letters, digits and - only).")));
            }
            let lower = name.to_ascii_lowercase();
            if RESERVED.contains(&lower.as_str()) || lower.starts_with("mcp-") {
                return Err(invalid(format!("{shown} is set by Gatehouse itself; it cannot be a credential.")));
            }
            if seen.contains(&lower) {
                return Err(invalid(format!("{shown} is given twice.")));
            }
            seen.push(lower);
            if value.is_empty() {
                return Err(invalid(format!("{shown} has no value.")));
            }
            if value.len() > MAX_VALUE_BYTES || value.chars().any(|c| c.is_control() && c != '\t') || !value.is_ascii()
            {
                return Err(invalid(format!(
                    "The value of {shown} must be one line of printable ASCII (no line break), at most 8 KiB."
                )));
            }
        }
        Ok(CredentialHeaders(pairs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|(n, _)| n.clone()).collect()
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    fn context(server_id: &str) -> String {
        context_of("upstream-credentials:", server_id)
    }

    /// Sealed for storage on the server's row.
    pub fn seal(&self, keys: &Keyring, server_id: &str) -> String {
        let json = Zeroizing::new(serde_json::to_vec(&self.0).unwrap_or_default());
        keys.seal(&Self::context(server_id), &json)
    }

    /// Opens what [`CredentialHeaders::seal`] stored.
    pub fn open(keys: &Keyring, server_id: &str, sealed: &str) -> CoreResult<Self> {
        let json = keys.open(&Self::context(server_id), sealed)?;
        let pairs: Vec<(String, String)> = serde_json::from_slice(&json)
            .map_err(|e| CoreError::Internal(format!("sealed credentials of {server_id} are not readable: {e}")))?;
        Ok(CredentialHeaders(pairs))
    }
}

impl Drop for CredentialHeaders {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, value) in &mut self.0 {
            value.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_lines() {
        let h = CredentialHeaders::parse("Authorization: Bearer crm-secret\r\n\nX-Tenant:  acme ").expect("valid");
        assert_eq!(
            h.pairs(),
            [("Authorization".into(), "Bearer crm-secret".into()), ("X-Tenant".into(), "acme".into())]
        );
        assert!(!format!("{h:?}").contains("crm-secret"), "Debug shows names only");
        for bad in [
            "no colon here",
            "Bad Name: x",
            "Host: evil.example",
            "Mcp-Session-Id: s",
            "Gatehouse-Identity: forged",
            "X-A: 1\nx-a: 2",
            "X-Empty:",
            "X-Bell: a\u{7}b",
            "X-Utf: é",
        ] {
            assert!(CredentialHeaders::parse(bad).is_err(), "{bad:?}");
        }
        let pairs = vec![("X-Line".to_owned(), "a\r\nInjected: yes".to_owned())];
        assert!(CredentialHeaders::from_pairs(pairs).is_err(), "a value with a newline");
    }

    #[test]
    fn sealed_for_their_server() {
        let keys = Keyring::new(&[3; 32], &[]);
        let h = CredentialHeaders::parse("Authorization: Bearer s3cr3t").expect("valid");
        let sealed = h.seal(&keys, "srv_1");
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(CredentialHeaders::open(&keys, "srv_1", &sealed).expect("opens"), h);
        assert!(CredentialHeaders::open(&keys, "srv_2", &sealed).is_err(), "another row's value does not open");
    }
}
