#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ on stable Rust: libFuzzer's coverage guidance with
# `--sanitizer none` (the sanitizers need nightly; safe Rust leaves them little to find, and every
# target asserts its own properties). New inputs go to target/fuzz-corpus/<target>, the committed
# seeds in fuzz/seeds/<target> stay as they are; a crash is saved under fuzz/artifacts/.
#   scripts/fuzz.sh [SECONDS] [TARGET …]     default: 600 seconds for each of the four targets
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(authorization_header oauth_params agent_graph mcp_tool_args)

if ! command -v cargo-fuzz >/dev/null; then
  echo "==> installing cargo-fuzz (a few minutes, once)"
  cargo install cargo-fuzz --locked
fi
cargo fuzz build --sanitizer none --release
mkdir -p target/fuzz-logs
for t in "${targets[@]}"; do
  mkdir -p "target/fuzz-corpus/$t"
  echo "==> $t for $seconds s"
  cargo fuzz run --sanitizer none --release "$t" "target/fuzz-corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"target/fuzz-logs/$t.log" 2>&1 || {
    echo "error: $t failed; see target/fuzz-logs/$t.log and fuzz/artifacts/$t/" >&2
    tail -n 40 "target/fuzz-logs/$t.log" >&2
    exit 1
  }
  grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb' "target/fuzz-logs/$t.log" | tr '\n' ' '
  echo
done
