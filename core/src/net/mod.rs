//! Addresses and networks: requests Gatehouse makes on its own behalf, and the address rules they
//! keep (link-local and special-use addresses are never reached; loopback and private networks
//! only where a setting allows them for that kind of request; checked on every connection); and
//! the callers' side — CIDR ranges, the networks a key may be used from, and a caller's address
//! behind trusted proxies (`networks`).

mod address;
mod client;
mod networks;

pub use address::{AddressKind, AddressRules, classify};
pub use client::{Outbound, OutboundError, OutboundOptions, check_resolves, read_capped};
pub use networks::{ClientAddr, MAX_NETWORKS, Networks, canonical, client_address, network_of};
