//! Webhook URLs: http or https, a host, no credentials; and the check that the host does not
//! resolve to a private, loopback or link-local address (unless the operator allows it), so a
//! webhook cannot be aimed at the server's own network.

use std::net::IpAddr;

use url::Url;

use crate::error::{CoreError, CoreResult};

/// A URL deliveries may be sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    pub fn parse(value: &str) -> CoreResult<Self> {
        let value = value.trim();
        let invalid = |m: &str| CoreError::invalid("url", m);
        if value.len() > 2000 {
            return Err(invalid("The URL is longer than 2000 characters."));
        }
        let url =
            Url::parse(value).map_err(|_| invalid("Enter a full URL, like https://example.com/webhooks/gatehouse."))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("The URL must start with https:// (or http://)."));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("The URL has no host."));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("The URL must not contain a user name or password."));
        }
        if url.fragment().is_some() {
            return Err(invalid("The URL must not contain a fragment (#…)."));
        }
        Ok(WebhookUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Resolves the host and refuses private addresses unless `allow_private`.
    pub async fn check_reachable(&self, allow_private: bool) -> CoreResult<()> {
        let host = self.0.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = self.0.port_or_known_default().unwrap_or(443);
        let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|_| CoreError::invalid("url", format!("The host {host} cannot be resolved.")))?
                .map(|a| a.ip())
                .collect(),
        };
        if addresses.is_empty() {
            return Err(CoreError::invalid("url", format!("The host {host} cannot be resolved.")));
        }
        if !allow_private && let Some(ip) = addresses.iter().find(|ip| is_private(ip)) {
            return Err(CoreError::invalid(
                "url",
                format!(
                    "The URL points at a private address ({ip}). Use a public URL; the operator can allow private ones with GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE=true."
                ),
            ));
        }
        Ok(())
    }
}

/// Loopback, private (RFC 1918, ULA), link-local, shared (CGNAT), unspecified, multicast, or
/// broadcast: anything that is not a public unicast address.
pub fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(&IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_addresses() {
        assert!(WebhookUrl::parse("https://hooks.example.com/x").is_ok());
        assert!(WebhookUrl::parse("ftp://example.com").is_err());
        assert!(WebhookUrl::parse("example.com/x").is_err());
        assert!(WebhookUrl::parse("https://u:p@example.com").is_err());
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(&private.parse().expect("ip")), "{private}");
        }
        for public in ["93.184.216.34", "2606:4700::1111"] {
            assert!(!is_private(&public.parse().expect("ip")), "{public}");
        }
    }
}
