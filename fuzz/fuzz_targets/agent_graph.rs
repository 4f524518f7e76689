//! The agent graph validator: any JSON document gives a list of problems (empty when the graph is
//! valid), never a panic, and a graph it accepts is accepted again after a round trip.
#![no_main]

use gatehouse_core::agents::validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let problems = validate(&spec);
    for p in &problems {
        let _ = serde_json::to_string(p).expect("a problem serialises");
    }
    if problems.is_empty() {
        let again: serde_json::Value = serde_json::from_str(&spec.to_string()).expect("round trip");
        assert!(validate(&again).is_empty());
    }
});
