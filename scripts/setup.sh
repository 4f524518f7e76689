#!/usr/bin/env bash
# Installs whatever is missing to build Gatehouse, and skips what is already there:
# the wasm target, wasm-bindgen-cli (pinned to the wasm-bindgen crate in Cargo.lock), and the npm
# tools (Tailwind CSS, wasm-opt, playwright-core, the MCP SDKs). With `--test` it also makes sure
# Debian's Chromium and openssl are installed, PostgreSQL and Redis are running, and the Python MCP
# SDK is in .venv, for the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
WASM_BINDGEN_VERSION=0.2.130
want_test=false
[ "${1:-}" = "--test" ] && want_test=true

step() { printf '==> %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
  echo "error: Rust is not installed. Install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes, once)"
  # Not --locked: one of its locked dependencies is no longer on crates.io.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! command -v npm >/dev/null; then
  step "installing Node.js and npm"
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm tools (Tailwind CSS, wasm-opt, playwright-core)"
  # `npm install` with the committed lock: npm 11 `ci` rejects locks without other platforms' optional packages.
  npm install --no-audit --no-fund --loglevel=error
fi

if $want_test; then
  # The Python MCP SDK for the browser/SDK tests, pinned in end2end/python/requirements.txt.
  if [ ! -x .venv/bin/python ] || [ end2end/python/requirements.txt -nt .venv/.installed ]; then
    step "installing the Python MCP SDK into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r end2end/python/requirements.txt
    touch .venv/.installed
  fi
  if ! command -v openssl >/dev/null; then
    step "installing openssl (the browser tests make a test certificate authority with it)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl
  fi
  if [ ! -x /usr/bin/chromium ]; then
    step "installing Debian's Chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    step "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "error: PostgreSQL is not reachable on 127.0.0.1:5432; the PostgreSQL tests need it." >&2
    exit 1
  fi
  # Redis holds the rate limits shared by several processes; the multi-instance tests use it.
  redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && read -r -t 2 reply <&3 && [[ $reply == +PONG* ]]) 2>/dev/null; }
  if ! redis_up; then
    step "starting Redis"
    command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
    for _ in $(seq 1 20); do redis_up && break; sleep 0.25; done
  fi
  if ! redis_up; then
    echo "error: Redis is not reachable on 127.0.0.1:6379; the multi-instance tests need it." >&2
    exit 1
  fi
fi
