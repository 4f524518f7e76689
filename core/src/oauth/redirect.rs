//! Redirect URIs as clients register them: absolute, https (or http on a loopback address), no
//! fragment, no user name or password. They are kept exactly as given and matched exactly.

use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

const MAX_LEN: usize = 2000;

impl RedirectUri {
    pub fn parse(value: &str) -> Result<Self, String> {
        let shown = super::truncate(value, 100);
        if value.len() > MAX_LEN {
            return Err(format!("redirect URI {shown:?}… is longer than {MAX_LEN} characters"));
        }
        if value.contains('#') {
            return Err(format!("redirect URI {shown:?} must not contain a fragment (#…)"));
        }
        let url = Url::parse(value).map_err(|_| format!("redirect URI {shown:?} is not an absolute URL"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("redirect URI {shown:?} must not contain a user name or password"));
        }
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(format!(
                    "redirect URI {shown:?} uses http on a host that is not loopback; use https (http is allowed only for 127.0.0.1, [::1] and localhost)"
                ));
            }
            _ => return Err(format!("redirect URI {shown:?} must use https (or http on a loopback address)")),
        }
        Ok(RedirectUri(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The host a redirect URI sends the person to, as the consent screen shows it.
pub fn host_of(uri: &str) -> String {
    Url::parse(uri).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "an unknown host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(RedirectUri::parse("https://claude.ai/api/mcp/auth_callback").is_ok());
        assert!(RedirectUri::parse("http://127.0.0.1:8976/callback").is_ok());
        assert!(RedirectUri::parse("http://localhost:3000/cb").is_ok());
        assert!(RedirectUri::parse("http://[::1]:3000/cb").is_ok());
        assert!(RedirectUri::parse("http://example.com/cb").is_err());
        assert!(RedirectUri::parse("https://example.com/cb#x").is_err());
        assert!(RedirectUri::parse("javascript:alert(1)").is_err());
        assert!(RedirectUri::parse("/relative").is_err());
        assert!(RedirectUri::parse("https://user:pw@example.com/cb").is_err());
        assert!(RedirectUri::parse(&format!("https://e.com/{}", "a".repeat(2100))).is_err());
        assert_eq!(host_of("https://claude.ai/api/x"), "claude.ai");
    }
}
