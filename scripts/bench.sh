#!/usr/bin/env bash
# The HTTP benchmarks of docs/benchmarks.md, against a release build on this machine, with Debian's
# wrk as the load generator on the same machine (it takes part of the same two cores):
#   scripts/bench.sh [all|mcp|gateway|revocation|pages|wasm|profile|memory]
#   mcp    an MCP tools/call of a read tool (list_agents, five agents) at 64 connections: a bare
#          axum server answering the same bytes, then Gatehouse with usage recording on and off in
#          alternating rounds, on SQLite and on PostgreSQL; resident memory idle and after the load
#   gateway  an MCP tools/call through /mcp/{slug} to a fast upstream (server/examples/fast_upstream.rs,
#          revision 2026-07-28) at 64 connections, against calling that upstream directly, on SQLite;
#          once with an upstream that answers at once, once with one that works 1 ms per call
#   revocation  two processes on one PostgreSQL database, both under load: for REVOCATION_ROUNDS
#          (200) keys, the time from a revocation's answer (process A) to the first refusal by
#          process B, p50/p99/max, and how often A itself accepted the key once more (must be 0)
#          (server/examples/revocation_delay.rs)
#   pages  the consent page and the keys list with 1,000 keys, rendered on the server; and key
#          verification over HTTP (/v1/whoami)
#   wasm   the wasm the browser downloads: raw, and brotli-11 as served (precompressed at build),
#          the main module and each page's modules
#   profile  where the MCP call's CPU goes on SQLite: perf samples (cpu-clock, DWARF call graphs)
#          during a wrk run, ranked by inclusive share in target/bench/profile.txt
#   memory resident memory after each of MEMORY_ROUNDS (8) rounds of sustained load of one kind of
#          request (MCP call, keys page, Overview page, usage page, and keys-api: the keys page's
#          server function alone; MEMORY_KINDS chooses), each kind on its own server
# BENCH_SECONDS (10), BENCH_CONNECTIONS (64) and BENCH_ROUNDS (3) change the runs; BENCH_BINARY runs
# another gatehouse binary (an earlier build kept for comparison) in place of the release build.
# The results are printed and written to target/bench/report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
what="${1:-all}"
seconds="${BENCH_SECONDS:-10}"
conns="${BENCH_CONNECTIONS:-64}"
rounds="${BENCH_ROUNDS:-3}"
pg_server="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
bin="${BENCH_BINARY:-target/release/gatehouse}"
bare=target/release/examples/bare_mcp
upstream=target/release/examples/fast_upstream
revocation=target/release/examples/revocation_delay
out=target/bench
report="$out/report.md"
work="$(mktemp -d)"
password="bench password 12345"
pids=()
mkdir -p "$out"
: >"$report"

pg_dbs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${pg_dbs[@]}"; do
    psql "$pg_server/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
# A new PostgreSQL database for one benchmark, dropped at the end; its URL in $pg_url.
new_pg_database() {
  local name="gatehouse_bench_$RANDOM$RANDOM"
  psql "$pg_server/postgres" -qc "CREATE DATABASE $name" >/dev/null
  pg_dbs+=("$name")
  pg_url="$pg_server/$name"
}
trap cleanup EXIT

say() { printf '%s\n' "$*" | tee -a "$report"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

if ! command -v wrk >/dev/null; then
  echo "==> installing wrk from Debian's packages"
  apt-get install -y -qq wrk >/dev/null
fi

# Starts a gatehouse server in the background: name port database_url [VAR=value …]; sets $started.
start() {
  local name=$1 port=$2 db=$3
  shift 3
  env "$@" DATABASE_URL="$db" GATEHOUSE_ADDR="127.0.0.1:$port" "$bin" serve >"$work/$name.log" 2>&1 &
  started=$!
  pids+=("$started")
  for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "error: $name did not start; its log:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
peak_mb() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# A user, a workspace and its slug in $slug: database_url.
make_account() {
  local db=$1 email="bench-$RANDOM$RANDOM@example.com"
  slug=$(GATEHOUSE_PASSWORD="$password" DATABASE_URL="$db" "$bin" user create --email "$email" | awk '{print $NF}')
  account_email=$email
}

# A live key with the given scopes and the highest rate limit: database_url scopes.
make_key() {
  DATABASE_URL="$1" "$bin" key create --workspace "$slug" --name "bench $RANDOM" --scopes "$2" \
    --rate-limit 1000000 2>/dev/null | tail -n1
}

mcp_body() { printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":%s}}' "$1" "$2"; }

mcp() { # port bearer body
  curl -fsS "http://127.0.0.1:$1/mcp" -H 'content-type: application/json' \
    -H 'accept: application/json, text/event-stream' -H 'mcp-protocol-version: 2025-06-18' \
    -H "authorization: Bearer $2" -d "$3"
}

# One wrk run; sets $rps, $p50, $p99 (ms) and $bad (non-2xx answers and socket errors): url [wrk args…].
load() {
  local url=$1
  shift
  wrk -t2 -c"$conns" -d"${seconds}s" --latency "$@" "$url" >"$work/wrk.txt"
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$work/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt" | to_ms)
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt" | to_ms)
  bad=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$work/wrk.txt")
  if [ "$bad" != 0 ]; then
    echo "error: $bad failed requests against $url" >&2
    cat "$work/wrk.txt" >&2
    exit 1
  fi
}
to_ms() { awk '{v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[0-9]s$/ && $1 !~ /ms$/) v *= 1000; printf "%.2f", v}'; }
median() { tr ' ' '\n' | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# Five agents for list_agents to return: port bearer.
create_agents() {
  local graph='{"nodes":[{"id":"in","type":"input"},{"id":"out","type":"output"}],"edges":[{"from":"in","to":"out"}]}'
  for i in 1 2 3 4 5; do
    mcp "$1" "$2" "$(mcp_body create_agent "{\"name\":\"Agent $i\",\"graph\":$graph}")" |
      grep -q '"isError":false' || { echo "error: could not create the agents" >&2; exit 1; }
  done
}

# The MCP read call on one database: engine database_url base_port.
bench_mcp() {
  local engine=$1 db=$2 port=$3
  make_account "$db"
  local setup_key
  setup_key=$(make_key "$db" "agents:read,agents:write")
  start "$engine-on" "$port" "$db"
  local on_pid=$started
  local idle_rss
  idle_rss=$(rss_mb "$on_pid")
  start "$engine-off" $((port + 1)) "$db" GATEHOUSE_USAGE_RECORDING=false
  local off_pid=$started
  create_agents "$port" "$setup_key"
  local body
  body=$(mcp_body list_agents '{}')
  mcp "$port" "$setup_key" "$body" >"$work/response.json"
  "$bare" "127.0.0.1:$((port + 2))" "$work/response.json" &
  pids+=($!)
  sleep 0.5
  export BENCH_BODY="$body"
  say ""
  say "### MCP tools/call list_agents on $engine: $conns connections, ${seconds} s per run, $rounds rounds"
  say ""
  say "Response: $(wc -c <"$work/response.json") bytes. Each run uses a fresh key (its own rate-limit bucket)."
  say ""
  say "| round | bare axum req/s | p99 ms | recording on req/s | p50 ms | p99 ms | recording off req/s | p50 ms | p99 ms |"
  say "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  local bare_all="" on_all="" off_all="" on_p99="" line
  for r in $(seq 1 "$rounds"); do
    BENCH_BEARER=none load "http://127.0.0.1:$((port + 2))/mcp" -s scripts/bench/mcp-call.lua
    line="| $r | $rps | $p99"
    bare_all="$bare_all $rps"
    BENCH_BEARER=$(make_key "$db" "agents:read") load "http://127.0.0.1:$port/mcp" -s scripts/bench/mcp-call.lua
    line="$line | $rps | $p50 | $p99"
    on_all="$on_all $rps"
    on_p99="$on_p99 $p99"
    BENCH_BEARER=$(make_key "$db" "agents:read") load "http://127.0.0.1:$((port + 1))/mcp" -s scripts/bench/mcp-call.lua
    line="$line | $rps | $p50 | $p99 |"
    off_all="$off_all $rps"
    say "$line"
  done
  local b on off p
  b=$(echo $bare_all | median)
  on=$(echo $on_all | median)
  off=$(echo $off_all | median)
  p=$(echo $on_p99 | median)
  say ""
  say "Medians: bare $b req/s; recording on $on req/s (p99 $p ms); recording off $off req/s."
  say "Recording on / off: $(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.1f", 100 * a / b}') % (target ≥ 95 %)."
  say "Gatehouse (recording on) / bare axum: $(awk -v a="$on" -v b="$b" 'BEGIN {printf "%.1f", 100 * a / b}') % (target ≥ 60 %), p99 target < 5 ms."
  say "Resident memory of the recording-on server: $idle_rss MB idle, $(rss_mb "$on_pid") MB after the load (peak $(peak_mb "$on_pid") MB)."
  kill "$on_pid" "$off_pid" 2>/dev/null || true
}

# A tools/call through the gateway against the same call made to the upstream directly: the
# upstream's milliseconds of work per call, and a base port.
bench_gateway() {
  local work_ms=$1 db="sqlite://$work/gateway-$1.db" port=$2 up_port=$(($2 + 1))
  "$upstream" "127.0.0.1:$up_port" "$work_ms" &
  local up_pid=$!
  pids+=($!)
  make_account "$db"
  DATABASE_URL="$db" "$bin" server add --workspace "$slug" --name Fast --slug fast \
    --url "http://127.0.0.1:$up_port/mcp" >/dev/null
  start gateway "$port" "$db"
  local gw_pid=$started
  local body
  body=$(mcp_body echo '{"text":"hello from the benchmark"}')
  export BENCH_BODY="$body"
  local probe_key
  probe_key=$(DATABASE_URL="$db" "$bin" key create --workspace "$slug" --name probe --scopes agents:read \
    --servers fast --rate-limit 1000000 2>/dev/null | tail -n1)
  curl -fsS "http://127.0.0.1:$port/mcp/fast" -H 'content-type: application/json' \
    -H 'accept: application/json, text/event-stream' -H 'mcp-protocol-version: 2025-06-18' \
    -H "authorization: Bearer $probe_key" -d "$body" >"$work/gateway.json"
  grep -q '"hello from the benchmark"' "$work/gateway.json" ||
    { echo "error: the gateway did not relay the call:" >&2; cat "$work/gateway.json" >&2; exit 1; }
  say ""
  say "### Gateway: MCP tools/call echo through /mcp/{slug} vs the upstream directly, upstream working $work_ms ms per call, SQLite: $conns connections, ${seconds} s per run, $rounds rounds"
  say ""
  say "The upstream is server/examples/fast_upstream.rs (2026-07-28, JSON answers; each tools/call waits $work_ms ms first). Each gateway run uses a fresh key (its own rate-limit bucket)."
  say ""
  say "| round | direct req/s | p50 ms | p99 ms | through Gatehouse req/s | p50 ms | p99 ms |"
  say "| --- | --- | --- | --- | --- | --- | --- |"
  local direct_all="" direct_p50="" gw_all="" gw_p50="" gw_p99="" line
  for r in $(seq 1 "$rounds"); do
    BENCH_BEARER=none load "http://127.0.0.1:$up_port/mcp" -s scripts/bench/mcp-call.lua
    line="| $r | $rps | $p50 | $p99"
    direct_all="$direct_all $rps"
    direct_p50="$direct_p50 $p50"
    BENCH_BEARER=$(DATABASE_URL="$db" "$bin" key create --workspace "$slug" --name "gw $r" --scopes agents:read \
      --servers fast --rate-limit 1000000 2>/dev/null | tail -n1) \
      load "http://127.0.0.1:$port/mcp/fast" -s scripts/bench/mcp-call.lua
    line="$line | $rps | $p50 | $p99 |"
    gw_all="$gw_all $rps"
    gw_p50="$gw_p50 $p50"
    gw_p99="$gw_p99 $p99"
    say "$line"
  done
  local d g dp gp gp99
  d=$(echo $direct_all | median)
  g=$(echo $gw_all | median)
  dp=$(echo $direct_p50 | median)
  gp=$(echo $gw_p50 | median)
  gp99=$(echo $gw_p99 | median)
  say ""
  say "Medians: direct $d req/s (p50 $dp ms); through Gatehouse $g req/s (p50 $gp ms, p99 $gp99 ms)."
  say "Through Gatehouse / direct: $(awk -v a="$g" -v b="$d" 'BEGIN {printf "%.1f", 100 * a / b}') % (target ≥ 70 %); added p50: $(awk -v a="$gp" -v b="$dp" 'BEGIN {printf "%.2f", a - b}') ms (target ≤ 1 ms)."
  say "Resident memory of the gateway: $(rss_mb "$gw_pid") MB after the load (peak $(peak_mb "$gw_pid") MB)."
  kill "$gw_pid" "$up_pid" 2>/dev/null || true
}

# The revocation delay between two processes on one PostgreSQL database, both under load.
bench_revocation() {
  local db=$1 a_port=3850 b_port=3851
  make_account "$db"
  start revocation-a "$a_port" "$db"
  start revocation-b "$b_port" "$db"
  local load_key
  load_key=$(make_key "$db" "agents:read")
  create_agents "$a_port" "$(make_key "$db" "agents:read,agents:write")"
  export BENCH_BODY BENCH_BEARER="$load_key"
  BENCH_BODY=$(mcp_body list_agents '{}')
  # Half the connections on each process, for longer than the rounds take; stopped after them.
  local half=$((conns / 2)) loaders=()
  for port in "$a_port" "$b_port"; do
    wrk -t1 -c"$half" -d600s -s scripts/bench/mcp-call.lua "http://127.0.0.1:$port/mcp" >/dev/null &
    loaders+=($!)
    pids+=($!)
  done
  sleep 2
  local rounds_wanted="${REVOCATION_ROUNDS:-200}"
  say ""
  say "### Revocation delay: two processes on PostgreSQL, each under load ($half connections of list_agents each)"
  say ""
  say "From the revocation's answer (process A) to the answer of process B's first refusal (so one request's round trip to B included); and whether A accepted the key on the request right after its own answer."
  say ""
  say "| revocations | p50 ms | p99 ms | max ms | accepted by A after its answer |"
  say "| --- | --- | --- | --- | --- |"
  say "$("$revocation" "http://127.0.0.1:$a_port" "http://127.0.0.1:$b_port" "$account_email" "$password" "$slug" "$rounds_wanted")"
  kill "${loaders[@]}" 2>/dev/null || true
  say ""
  say "Change feed events in the processes' logs (lost / connected): A $(grep -c 'change feed lost' "$work/revocation-a.log") / $(grep -c 'change feed connected' "$work/revocation-a.log"), B $(grep -c 'change feed lost' "$work/revocation-b.log") / $(grep -c 'change feed connected' "$work/revocation-b.log")."
  cp "$work/revocation-a.log" "$work/revocation-b.log" "$out/"
}

# The consent page and a keys list of 1,000 keys, server-rendered, with a signed-in session.
bench_pages() {
  local db="sqlite://$work/pages.db" port=3870
  make_account "$db"
  start pages "$port" "$db"
  local base="http://127.0.0.1:$port" jar="$work/cookies"
  curl -fsS -c "$jar" -H "origin: $base" "$base/api/auth/sign_in" \
    --data-urlencode "email=$account_email" --data-urlencode "password=$password" >/dev/null
  local cookie
  cookie=$(awk '$6 == "gatehouse_session" {print $6 "=" $7}' "$jar")
  # One block per request; `next` keeps each request's options (data, cookie, header) its own.
  for i in $(seq 1 1000); do
    [ "$i" = 1 ] || echo "next"
    echo "url = \"$base/api/keys/create\""
    echo "data = \"slug=$slug&name=Key+$i&environment=live&expiry=90d&scopes%5B%5D=agents%3Aread\""
    echo "cookie = \"$jar\""
    echo "header = \"origin: $base\""
    echo "output = \"/dev/null\""
    echo "fail"
  done >"$work/keys.curl"
  curl -sS --parallel --parallel-max 8 -K "$work/keys.curl"
  local client consent
  client=$(curl -fsS "$base/oauth/register" -H 'content-type: application/json' \
    -d '{"client_name":"Bench client","redirect_uris":["http://127.0.0.1:9/callback"],"token_endpoint_auth_method":"none"}' |
    json 'd["client_id"]')
  consent=$(curl -fsS -o /dev/null -w '%{redirect_url}' "$base/oauth/authorize?response_type=code&client_id=$client&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&scope=agents%3Aread&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCX2ixb7jb8CBm9x6hk4tgEe&code_challenge_method=S256&resource=$base/mcp")
  local keys_page keys_rows
  keys_page=$(curl -fsS -H "cookie: $cookie" "$base/w/$slug/keys")
  keys_rows=$(grep -o 'data-testid="key-row"' <<<"$keys_page" | wc -l)
  if ! grep -q 'All (1000)' <<<"$keys_page"; then
    echo "error: the workspace does not have 1,000 keys" >&2
    exit 1
  fi
  say ""
  say "### Server-rendered pages (signed in) and key verification: $conns connections, ${seconds} s"
  say ""
  say "| request | req/s | p50 ms | p99 ms |"
  say "| --- | --- | --- | --- |"
  load "$consent" -H "cookie: $cookie"
  say "| consent page (/oauth/consent/…) | $rps | $p50 | $p99 |"
  load "$base/w/$slug/keys" -H "cookie: $cookie"
  say "| keys list of 1,000 keys, first page of $keys_rows (/w/…/keys, $(($(wc -c <<<"$keys_page") / 1024)) KB) | $rps | $p50 | $p99 |"
  local verify_key
  verify_key=$(make_key "$db" "agents:read")
  load "$base/v1/whoami" -H "authorization: Bearer $verify_key"
  say "| key verification: \`GET /v1/whoami\` with a key | $rps | $p50 | $p99 |"
  say ""
  say "Resident memory after the page loads: $(rss_mb "$started") MB (peak $(peak_mb "$started") MB)."
}

# Resident memory under sustained load of one kind of request at a time, each on its own server and
# SQLite database: MEMORY_ROUNDS rounds of $seconds s, the RSS after each round.
bench_memory() {
  local memory_rounds="${MEMORY_ROUNDS:-8}" port=3880
  say ""
  say "### Resident memory (MB) after each round of ${seconds} s at $conns connections, one server per kind of request"
  say ""
  say "| request | idle | $(seq -s ' | ' 1 "$memory_rounds") | peak |"
  say "| --- | --- |$(printf ' --- |%.0s' $(seq 1 "$memory_rounds")) --- |"
  for kind in ${MEMORY_KINDS:-mcp keys overview usage}; do
    port=$((port + 1))
    local db="sqlite://$work/memory-$kind.db" base="http://127.0.0.1:$port" jar="$work/cookies-$kind"
    make_account "$db"
    local key
    key=$(make_key "$db" "agents:read,agents:write")
    start "memory-$kind" "$port" "$db"
    local pid=$started row
    curl -fsS -c "$jar" -H "origin: $base" "$base/api/auth/sign_in" \
      --data-urlencode "email=$account_email" --data-urlencode "password=$password" >/dev/null
    local cookie
    cookie=$(awk '$6 == "gatehouse_session" {print $6 "=" $7}' "$jar")
    create_agents "$port" "$key"
    for i in $(seq 1 50); do
      curl -fsS -o /dev/null -b "$jar" -H "origin: $base" "$base/api/keys/create" \
        --data "slug=$slug&name=Key+$i&environment=live&expiry=$((i % 10 + 1))d&scopes%5B%5D=agents%3Aread"
    done
    row="| $kind | $(rss_mb "$pid")"
    for _ in $(seq 1 "$memory_rounds"); do
      case "$kind" in
        mcp) # a fresh key each round: its own rate-limit bucket
          BENCH_BODY=$(mcp_body list_agents '{}') BENCH_BEARER=$(make_key "$db" "agents:read") \
            load "$base/mcp" -s scripts/bench/mcp-call.lua ;;
        keys) load "$base/w/$slug/keys" -H "cookie: $cookie" ;;
        overview) load "$base/w/$slug" -H "cookie: $cookie" ;;
        usage) load "$base/w/$slug/usage" -H "cookie: $cookie" ;;
        keys-api) BENCH_ORIGIN=$base BENCH_COOKIE=$cookie BENCH_FORM="slug=$slug" load "$base/api/keys/list" -s scripts/bench/form-post.lua ;;
      esac
      row="$row | $(rss_mb "$pid")"
    done
    say "$row | $(peak_mb "$pid") |"
    kill "$pid"
  done
}

bench_wasm() {
  scripts/build-site.sh release >/dev/null
  local pkg=target/site/pkg
  say ""
  say "### The wasm the browser downloads"
  say ""
  say "| file | raw | brotli (as served) | gzip (as served) |"
  say "| --- | --- | --- | --- |"
  for f in $pkg/gatehouse_bg.wasm $pkg/gatehouse.js $pkg/__wasm_split.*.js $pkg/gatehouse.css; do
    say "| $(basename "$f") | $(($(wc -c <"$f") / 1024)) KB | $(($(wc -c <"$f.br") / 1024)) KB | $(($(wc -c <"$f.gz") / 1024)) KB |"
  done
  say ""
  say "Each page's own modules (its split and the chunks it shares with other pages, from the manifest"
  say "the server preloads them by), and what a first visit to that page downloads: the main module"
  say "and those, brotli as served."
  say ""
  say "| page | modules | raw | brotli | first visit, brotli (main + page) |"
  say "| --- | --- | --- | --- | --- |"
  node -e '
    const fs = require("fs"), pkg = process.argv[1];
    const manifest = JSON.parse(fs.readFileSync(`${pkg}/__wasm_split_manifest.json`));
    const size = (f) => fs.statSync(`${pkg}/${f}`).size;
    const main = size("gatehouse_bg.wasm.br");
    const kb = (n) => `${Math.round(n / 1024)} KB`;
    for (const [split, files] of Object.entries(manifest).sort()) {
      const page = split.replace(/^__/, "").replace(/_view_\d+$/, "");
      const raw = files.reduce((n, f) => n + size(`${f}.wasm`), 0);
      const br = files.reduce((n, f) => n + size(`${f}.wasm.br`), 0);
      console.log(`| ${page} | ${files.length} | ${kb(raw)} | ${kb(br)} | ${kb(main + br)} |`);
    }
    const all = fs.readdirSync(pkg).filter((f) => f.endsWith(".wasm"));
    const total = all.reduce((n, f) => n + size(`${f}.br`), 0);
    console.log(`| (every module) | ${all.length} | ${kb(all.reduce((n, f) => n + size(f), 0))} | ${kb(total)} | |`);
  ' "$pkg" | tee -a "$report"
}

# The MCP read call on SQLite under perf: functions ranked by the share of samples in which they
# are on the stack (themselves or what they call).
bench_profile() {
  if ! command -v perf >/dev/null; then
    echo "==> installing perf from Debian's packages"
    apt-get install -y -qq linux-perf >/dev/null
  fi
  local db="sqlite://$work/profile.db" port=3830
  make_account "$db"
  local setup_key
  setup_key=$(make_key "$db" "agents:read,agents:write")
  start profile "$port" "$db"
  create_agents "$port" "$setup_key"
  export BENCH_BODY BENCH_BEARER
  BENCH_BODY=$(mcp_body list_agents '{}')
  BENCH_BEARER=$(make_key "$db" "agents:read")
  perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$started" -o "$work/perf.data" \
    -- sleep "$seconds" >/dev/null 2>&1 &
  local perf_pid=$!
  load "http://127.0.0.1:$port/mcp" -s scripts/bench/mcp-call.lua
  wait "$perf_pid" || true
  perf report -i "$work/perf.data" --children --sort symbol --stdio --no-call-graph 2>/dev/null |
    grep -v '^#' | grep -v '^$' | sed 's/ \{3,\}/ /g; s/ - - *$//' | head -150 >"$out/profile.txt"
  say ""
  say "### Profile of MCP tools/call list_agents on SQLite ($conns connections, ${seconds} s)"
  say ""
  say "$rps req/s while sampled. Inclusive shares of the server's samples: $out/profile.txt."
}

echo "==> release build"
cargo build --release -p gatehouse --bin gatehouse --example bare_mcp --example fast_upstream --example revocation_delay
say "## Run of $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(git rev-parse --short HEAD))"

case "$what" in
  all | mcp)
    bench_mcp SQLite "sqlite://$work/mcp.db" 3810
    new_pg_database
    bench_mcp PostgreSQL "$pg_url" 3820
    ;;&
  all | gateway)
    bench_gateway 0 3840
    bench_gateway 1 3845
    ;;&
  all | revocation)
    new_pg_database
    bench_revocation "$pg_url"
    ;;&
  all | pages) bench_pages ;;&
  all | wasm) bench_wasm ;;
  profile) bench_profile ;;
  memory) bench_memory ;;
  mcp | gateway | revocation | pages) ;;
  *)
    echo "usage: $0 [all|mcp|gateway|revocation|pages|wasm|profile|memory]" >&2
    exit 2
    ;;
esac
echo "==> written to $report"
