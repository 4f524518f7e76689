#!/usr/bin/env bash
# The whole test suite: unit tests, HTTP tests on SQLite and PostgreSQL, and browser tests in
# Debian's Chromium against the built server. Fails (never skips) when PostgreSQL is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never

scripts/setup.sh --test
scripts/build-site.sh dev
cargo build -p gatehouse

# Test databases of earlier runs.
psql -h 127.0.0.1 -U postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'gatehouse_test_%'" postgres \
  | while read -r db; do [ -n "$db" ] && dropdb -h 127.0.0.1 -U postgres --if-exists "$db"; done || true

echo "==> Rust tests (unit, and HTTP on SQLite and PostgreSQL)"
cargo test --workspace --exclude gatehouse-frontend

echo "==> browser tests (Chromium)"
node --test --test-concurrency=1 end2end/
