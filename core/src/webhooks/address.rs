//! Webhook URLs: http or https, a host, no credentials; and the check that the host does not
//! resolve to a private or loopback address (unless the operator allows it) or a link-local one
//! (never), so a webhook cannot be aimed at the server's own network: the rules of `crate::net`.

use url::Url;

use crate::{
    error::{CoreError, CoreResult},
    net::AddressRules,
};

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

    /// Resolves the host and refuses what the address rules refuse (private addresses unless
    /// `allow_private`; link-local and special-use ones always), for an answer when the URL is
    /// saved. Deliveries are checked again on every connection by the worker's guarded client.
    pub async fn check_reachable(&self, allow_private: bool) -> CoreResult<()> {
        crate::net::check_resolves(&self.0, rules(allow_private)).await.map_err(|e| match e {
            crate::net::OutboundError::Refused(why) if why.contains("cannot be resolved") => {
                CoreError::invalid("url", format!("{}.", why.replacen("the host", "The host", 1)))
            }
            other => CoreError::invalid(
                "url",
                format!("The URL points at a private address, which webhooks are not sent to: {other}."),
            ),
        })
    }
}

/// The address rules of webhook deliveries.
pub fn rules(allow_private: bool) -> AddressRules {
    let setting = "GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE=true";
    if allow_private {
        AddressRules::private_allowed(setting)
    } else {
        AddressRules { setting, ..AddressRules::PUBLIC }
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
        let public_only = rules(false);
        for private in ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fd00::1", "::ffff:10.0.0.1"]
        {
            assert!(public_only.refusal(private.parse().expect("ip")).is_some(), "{private}");
        }
        assert!(rules(true).refusal("10.1.2.3".parse().expect("ip")).is_none());
        assert!(rules(true).refusal("169.254.169.254".parse().expect("ip")).is_some(), "metadata is never allowed");
        for public in ["93.184.216.34", "2606:4700::1111"] {
            assert!(public_only.refusal(public.parse().expect("ip")).is_none(), "{public}");
        }
    }
}
