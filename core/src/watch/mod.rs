//! Watching how keys are used: where each key and connector is used from (`addresses`), the
//! alerts when that or its error rate changes (`alerts`), and reports of keys found in public
//! (`leaked`).

mod addresses;
mod alerts;
mod leaked;

pub use addresses::{AddressBook, AddressSummary, CredentialAddress, address_summaries, addresses_of};
pub use alerts::{
    ErrorSpike, NEW_NETWORK_GAP, NOTICE_ACTIONS, error_spike, notices, set_error_spike, set_error_spike_as,
};
pub(crate) use alerts::{error_spikes, new_networks};
pub use leaked::{LeakReport, MAX_KEYS_PER_REPORT, report_leaked};
