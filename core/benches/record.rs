//! What the usage recorder costs an MCP call, in memory only (no database): noting the call, and
//! noting the caller's address (issue 21), for a caller already noted since the last flush — the
//! common case on a busy key. Compared with the CPU time one MCP call takes as a whole in
//! `scripts/bench.sh mcp` (two cores / requests per second) in docs/benchmarks.md.
//!
//!     cargo bench -p gatehouse-core --bench record

use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use gatehouse_core::{
    keys::Environment,
    usage::{Call, UsageRecorder},
};

fn bench(c: &mut Criterion) {
    let recorder = UsageRecorder::default();
    let address = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
    let call = |at| Call {
        workspace_id: "ws_0123456789abcdef",
        environment: Environment::Live,
        caller: "Hx3kT9qLmP2a",
        server: "",
        tool: "list_agents",
        outcome: "ok",
        latency_ms: 1,
        at,
    };
    let at = 1_795_392_000_000;
    recorder.record(call(at));
    recorder.note_address("ws_0123456789abcdef", "Hx3kT9qLmP2a", address, at);
    let mut group = c.benchmark_group("usage recorder, a repeat caller");
    group.bench_function("record the call", |b| b.iter(|| recorder.record(black_box(call(at)))));
    group.bench_function("note the address", |b| {
        b.iter(|| recorder.note_address(black_box("ws_0123456789abcdef"), black_box("Hx3kT9qLmP2a"), address, at))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
