//! Requests Gatehouse makes on its own behalf, and the address rules they keep: link-local and
//! special-use addresses are never reached; loopback and private networks only where a setting
//! allows them for that kind of request. Checked on every connection.

mod address;
mod client;

pub use address::{AddressKind, AddressRules, classify};
pub use client::{Outbound, OutboundError, OutboundOptions, check_resolves, read_capped};
