//! What kind of address an IP is, and which kinds an outbound request may reach.
//!
//! Link-local addresses (which hold cloud metadata services such as 169.254.169.254 and
//! fd00:ec2::254) and other special-use ranges are never reachable. Loopback and private networks
//! are reachable only where the operator allows them for that kind of request.

use std::net::IpAddr;

/// The kinds of IP address that matter to the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    Public,
    Loopback,
    /// RFC 1918, unique local IPv6 (fc00::/7), shared address space (100.64.0.0/10).
    Private,
    /// 169.254.0.0/16 and fe80::/10, where cloud metadata services answer; never allowed.
    LinkLocal,
    /// Unspecified, multicast, broadcast, documentation, benchmarking, reserved, "this network",
    /// and the AWS IPv6 metadata address: never allowed.
    Special,
}

/// Classifies an address; IPv4-mapped IPv6 addresses are classified as their IPv4 address.
pub fn classify(ip: IpAddr) -> AddressKind {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                AddressKind::Loopback
            } else if v4.is_link_local() {
                AddressKind::LinkLocal
            } else if v4.is_private() || (o[0] == 100 && (64..128).contains(&o[1])) {
                AddressKind::Private
            } else if v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
            {
                AddressKind::Special
            } else {
                AddressKind::Public
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if v6.is_loopback() {
                AddressKind::Loopback
            } else if (s[0] & 0xffc0) == 0xfe80 {
                AddressKind::LinkLocal
            } else if s == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254]
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0064 && s[1] == 0xff9b)
            {
                AddressKind::Special
            } else if (s[0] & 0xfe00) == 0xfc00 {
                AddressKind::Private
            } else {
                AddressKind::Public
            }
        }
    }
}

/// Which addresses a kind of outbound request may reach, beyond public ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressRules {
    pub loopback: bool,
    pub private: bool,
    /// The setting that would allow more, named in refusals (e.g. `GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE`).
    pub setting: &'static str,
}

impl AddressRules {
    /// Public addresses only.
    pub const PUBLIC: AddressRules = AddressRules { loopback: false, private: false, setting: "" };

    /// Loopback and private networks too (never link-local or special-use ranges).
    pub fn private_allowed(setting: &'static str) -> Self {
        AddressRules { loopback: true, private: true, setting }
    }

    /// Why `ip` may not be reached under these rules; `None` when it may.
    pub fn refusal(&self, ip: IpAddr) -> Option<String> {
        let hint = |what: &str| {
            if self.setting.is_empty() {
                format!("{ip} is {what}, which Gatehouse does not reach for this")
            } else {
                format!("{ip} is {what}; the operator can allow it with {}", self.setting)
            }
        };
        match classify(ip) {
            AddressKind::Public => None,
            AddressKind::Loopback if self.loopback => None,
            AddressKind::Private if self.private => None,
            AddressKind::Loopback => Some(hint("a loopback address")),
            AddressKind::Private => Some(hint("a private address")),
            AddressKind::LinkLocal => {
                Some(format!("{ip} is a link-local address (where cloud metadata services answer): never reachable"))
            }
            AddressKind::Special => Some(format!("{ip} is a special-use address: never reachable")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ip: &str) -> AddressKind {
        classify(ip.parse().expect("ip"))
    }

    #[test]
    fn kinds() {
        for ip in ["127.0.0.1", "127.8.8.8", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(kind(ip), AddressKind::Loopback, "{ip}");
        }
        for ip in ["10.1.2.3", "192.168.0.1", "172.16.5.5", "100.64.0.1", "fd00::1", "::ffff:10.0.0.1"] {
            assert_eq!(kind(ip), AddressKind::Private, "{ip}");
        }
        for ip in ["169.254.169.254", "169.254.0.1", "fe80::1", "::ffff:169.254.169.254"] {
            assert_eq!(kind(ip), AddressKind::LinkLocal, "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "240.0.0.1",
            "::",
            "ff02::1",
            "fd00:ec2::254",
            "2001:db8::1",
        ] {
            assert_eq!(kind(ip), AddressKind::Special, "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert_eq!(kind(ip), AddressKind::Public, "{ip}");
        }
    }

    #[test]
    fn rules() {
        let public = AddressRules::PUBLIC;
        assert!(public.refusal("8.8.8.8".parse().expect("ip")).is_none());
        assert!(public.refusal("127.0.0.1".parse().expect("ip")).is_some());
        let private = AddressRules::private_allowed("GATEHOUSE_X");
        assert!(private.refusal("10.0.0.1".parse().expect("ip")).is_none());
        assert!(private.refusal("127.0.0.1".parse().expect("ip")).is_none());
        let metadata = private.refusal("169.254.169.254".parse().expect("ip")).expect("refused");
        assert!(metadata.contains("never"), "{metadata}");
        let loopback_only = AddressRules { loopback: true, private: false, setting: "S" };
        assert!(loopback_only.refusal("10.0.0.1".parse().expect("ip")).expect("refused").contains('S'));
    }
}
