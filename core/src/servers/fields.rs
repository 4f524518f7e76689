//! The fields of an upstream server that a person types, each checked on construction: its slug
//! (`[a-z0-9-]`, the name in `/mcp/{slug}` and in tool names `{slug}__{tool}`), its name, its URL
//! and its timeout.

use std::time::Duration;

use url::Url;

use crate::error::{CoreError, CoreResult};

/// A server's slug: 1 to 40 of `a-z`, `0-9` and `-`, starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerSlug(String);

pub const MAX_SLUG_CHARS: usize = 40;

impl ServerSlug {
    pub fn parse(value: &str) -> CoreResult<Self> {
        let v = value.trim();
        let ok = !v.is_empty()
            && v.len() <= MAX_SLUG_CHARS
            && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !v.starts_with('-')
            && !v.ends_with('-');
        if ok {
            Ok(ServerSlug(v.to_owned()))
        } else {
            Err(CoreError::invalid(
                "slug",
                format!(
                    "Use 1 to {MAX_SLUG_CHARS} lowercase letters, digits and dashes (not at either end), like crm or internal-search."
                ),
            ))
        }
    }

    /// A slug made from a name: lowercase, other characters as dashes.
    pub fn from_name(name: &str) -> CoreResult<Self> {
        let mut slug = String::new();
        for c in name.trim().chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let slug: String = slug.trim_end_matches('-').chars().take(MAX_SLUG_CHARS).collect();
        ServerSlug::parse(slug.trim_end_matches('-')).map_err(|_| {
            CoreError::invalid("slug", "Choose a slug: the name has no letters or digits to make one from.")
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A server's display name: 1 to 100 printable characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerName(String);

impl ServerName {
    pub fn parse(value: &str) -> CoreResult<Self> {
        let v = value.trim();
        if v.is_empty() {
            return Err(CoreError::invalid("name", "Give the server a name, like CRM."));
        }
        if v.chars().count() > 100 || v.chars().any(char::is_control) {
            return Err(CoreError::invalid("name", "Use at most 100 printable characters."));
        }
        Ok(ServerName(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The MCP endpoint of an upstream server: http or https, a host, no user name, password or
/// fragment, at most 2,000 characters. Where it may point is checked when connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl(Url);

impl UpstreamUrl {
    pub fn parse(value: &str) -> CoreResult<Self> {
        let v = value.trim();
        let invalid = |m: &str| CoreError::invalid("url", m);
        if v.len() > 2000 {
            return Err(invalid("The URL is longer than 2000 characters."));
        }
        let url = Url::parse(v)
            .map_err(|_| invalid("Enter the server's full MCP URL, like https://crm.internal.example/mcp."))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("The URL must start with https:// (or http://)."));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("The URL has no host."));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("Put credentials in a header, not in the URL."));
        }
        if url.fragment().is_some() {
            return Err(invalid("The URL must not contain a fragment (#…)."));
        }
        Ok(UpstreamUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// How long a call to the server may take: 1 second to 5 minutes, 60 seconds by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// `30s`, `2m`, `500ms` or a number of seconds.
pub fn parse_timeout(value: &str) -> CoreResult<Duration> {
    let v = value.trim().to_ascii_lowercase();
    let invalid = || CoreError::invalid("timeout", "Use 1s to 300s, like 30s or 2m.");
    let duration = if let Some(ms) = v.strip_suffix("ms") {
        Duration::from_millis(ms.trim().parse().map_err(|_| invalid())?)
    } else if let Some(m) = v.strip_suffix('m') {
        Duration::from_secs(m.trim().parse::<u64>().map_err(|_| invalid())?.saturating_mul(60))
    } else {
        Duration::from_secs(v.strip_suffix('s').unwrap_or(&v).trim().parse().map_err(|_| invalid())?)
    };
    if !(Duration::from_secs(1)..=Duration::from_secs(300)).contains(&duration) {
        return Err(invalid());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        assert!(ServerSlug::parse("crm").is_ok() && ServerSlug::parse("internal-search2").is_ok());
        for bad in ["", "CRM", "-crm", "crm-", "c_rm", "crm/x", &"a".repeat(41)] {
            assert!(ServerSlug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ServerSlug::from_name("Internal Search (EU)").expect("slug").as_str(), "internal-search-eu");
        assert!(ServerSlug::from_name("!!!").is_err());
        assert!(
            ServerName::parse(" CRM ").is_ok() && ServerName::parse("").is_err() && ServerName::parse("a\nb").is_err()
        );
        assert!(UpstreamUrl::parse("https://crm.internal.example/mcp").is_ok());
        for bad in ["ftp://x/mcp", "crm/mcp", "https://u:p@x/mcp", "https://x/mcp#a"] {
            assert!(UpstreamUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_timeout("30s").expect("30s"), Duration::from_secs(30));
        assert_eq!(parse_timeout("2m").expect("2m"), Duration::from_secs(120));
        assert_eq!(parse_timeout("1500ms").expect("ms"), Duration::from_millis(1500));
        assert_eq!(parse_timeout("45").expect("plain"), Duration::from_secs(45));
        for bad in ["0s", "301s", "10m", "soon", "500ms"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
