//! Networks as CIDR ranges: the networks an API key may be used from, the proxies whose
//! `X-Forwarded-For` Gatehouse believes, and how a caller's address is found behind them.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

/// The caller's address as the server found it (behind trusted proxies too): what a request
/// carries in its extensions for the credential check, the audit log and the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The address a request's extensions carry, if any.
    pub fn of(extensions: &http::Extensions) -> Option<IpAddr> {
        extensions.get::<ClientAddr>().map(|c| c.0)
    }
}

/// At most this many ranges in one list.
pub const MAX_NETWORKS: usize = 100;

/// A list of CIDR ranges (`203.0.113.0/24`, `2001:db8::/32`; a bare address is its own range).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Networks(Vec<IpNet>);

impl Networks {
    /// Ranges as a form, the CLI or the API sends them (commas or spaces between); `field` names
    /// the input in the error. A range that does not parse is an error naming it.
    pub fn parse<S: AsRef<str>>(field: &'static str, items: &[S]) -> CoreResult<Self> {
        let mut nets = Vec::new();
        for item in items.iter().flat_map(|i| i.as_ref().split([',', ' ', '\n'])).map(str::trim) {
            if item.is_empty() {
                continue;
            }
            let net = match item.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(CoreError::invalid(
                            field,
                            format!("'{}' is not an address or a CIDR range such as 203.0.113.0/24.", shown(item)),
                        ));
                    }
                },
            };
            nets.push(net);
        }
        if nets.len() > MAX_NETWORKS {
            return Err(CoreError::invalid(field, format!("List at most {MAX_NETWORKS} ranges.")));
        }
        nets.sort();
        nets.dedup();
        Ok(Networks(nets))
    }

    /// A stored list; ranges that do not parse (none are written) are left out.
    pub fn from_stored(value: &str) -> Self {
        let mut nets: Vec<IpNet> = value.split(' ').filter_map(|n| n.parse().ok()).collect();
        nets.sort();
        nets.dedup();
        Networks(nets)
    }

    pub fn to_stored(&self) -> String {
        self.names().join(" ")
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is in one of the ranges (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// At most 64 characters of a user's input, for an error message.
fn shown(input: &str) -> String {
    input.chars().take(64).collect()
}

/// `::ffff:192.0.2.1` is `192.0.2.1`.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The network an address belongs to, for "first use from a new network": its /24 (IPv4) or /48
/// (IPv6, a site's usual allocation), so a client moving within its provider's range is not news.
pub fn network_of(ip: IpAddr) -> String {
    let ip = canonical(ip);
    let prefix = if ip.is_ipv4() { 24 } else { 48 };
    IpNet::new(ip, prefix).map_or_else(|_| ip.to_string(), |net| net.trunc().to_string())
}

/// The caller's address: the connection's peer, or — when the peer is a trusted proxy — the
/// nearest address in `X-Forwarded-For` that is not a trusted proxy (read right to left, as each
/// proxy appends the address it saw). An entry that is not an address ends the walk there.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &Networks) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else { return peer };
    let mut client = peer;
    for hop in chain.rsplit(',').map(str::trim) {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !trusted.contains(client) {
                    return client;
                }
            }
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn ranges_parse_and_match() {
        let nets = Networks::parse("allowed_ips", &["203.0.113.0/24, 198.51.100.7", "2001:db8::/32"]).expect("valid");
        assert_eq!(nets.names(), ["198.51.100.7/32", "203.0.113.0/24", "2001:db8::/32"]);
        assert!(nets.contains(ip("203.0.113.99")));
        assert!(nets.contains(ip("::ffff:203.0.113.99")), "an IPv4-mapped address is its IPv4 one");
        assert!(!nets.contains(ip("203.0.114.1")));
        assert!(nets.contains(ip("2001:db8:1::1")));
        assert_eq!(Networks::from_stored(&nets.to_stored()), nets);
        assert_eq!(Networks::parse("a", &["10.1.2.3/8"]).expect("valid").names(), ["10.0.0.0/8"]);
        let err = Networks::parse("allowed_ips", &["10.0.0.0/33"]).expect_err("bad prefix");
        assert!(err.to_string().contains("10.0.0.0/33"), "{err}");
        assert!(Networks::parse("a", &["example.com"]).is_err());
    }

    #[test]
    fn networks_of_addresses() {
        assert_eq!(network_of(ip("203.0.113.99")), "203.0.113.0/24");
        assert_eq!(network_of(ip("2001:db8:aa:bb::1")), "2001:db8:aa::/48");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = Networks::parse("trusted", &["10.0.0.0/8"]).expect("valid");
        let chain = Some("198.51.100.1, 203.0.113.5, 10.0.0.2");
        assert_eq!(client_address(ip("203.0.113.9"), chain, &trusted), ip("203.0.113.9"), "an untrusted peer");
        assert_eq!(client_address(ip("10.0.0.1"), chain, &trusted), ip("203.0.113.5"), "nearest untrusted hop");
        assert_eq!(client_address(ip("10.0.0.1"), None, &trusted), ip("10.0.0.1"));
        assert_eq!(client_address(ip("10.0.0.1"), Some("junk, 10.0.0.3"), &trusted), ip("10.0.0.3"));
        assert_eq!(client_address(ip("10.0.0.1"), Some("10.0.0.4"), &trusted), ip("10.0.0.4"), "all trusted");
    }
}
