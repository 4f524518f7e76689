#!/usr/bin/env bash
# Builds the browser side of Gatehouse into target/site: the hydrate wasm split into a main module
# and one module per page (wasm-split, wasm-bindgen, and wasm-opt for release), the Tailwind CSS,
# and the files of public/. These are the steps `cargo leptos build --split` would run; doing them
# directly keeps a cold setup free of its 24-minute install.
#   scripts/build-site.sh [dev|release]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-dev}"
site=target/site
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

case "$profile" in
  dev) cargo_profile=dev; wasm_dir=debug ;;
  release) cargo_profile=wasm-release; wasm_dir=wasm-release ;;
  *) echo "usage: $0 [dev|release]" >&2; exit 2 ;;
esac

mkdir -p "$site/pkg" target/wasm-split
echo "==> wasm ($profile)"
# Linked with relocations kept, which the split step needs to cut the module apart.
cargo rustc -p gatehouse-frontend --lib --target wasm32-unknown-unknown --profile "$cargo_profile" \
  -- -Clink-args=--emit-relocs
wasm="target/wasm32-unknown-unknown/$wasm_dir/gatehouse_frontend.wasm"
echo "==> wasm-split (a module per page, chunks they share, the loader and its manifest)"
rm -f "$site"/pkg/*.wasm "$site"/pkg/__wasm_split*
cargo run -q -p gatehouse-wasm-split -- "$wasm" "$site/pkg" target/wasm-split/gatehouse.wasm
# The page modules take the main module's table, memory and functions from its exports, so
# wasm-bindgen keeps the linker's exports.
wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$site/pkg" --out-name gatehouse \
  target/wasm-split/gatehouse.wasm
if [ "$profile" = release ]; then
  echo "==> wasm-opt (every module; the custom sections go: a few hundred bytes on each of many small files)"
  find "$site/pkg" -maxdepth 1 -name '*.wasm' -print0 | xargs -0 -P "$(nproc)" -I{} \
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
      --strip-debug --strip-producers --strip-target-features {} -o {}
fi
echo "==> css"
tailwindcss -i style/tailwind.css -o "$site/pkg/gatehouse.css" $([ "$profile" = release ] && echo --minify)
cp -R public/. "$site/"
# Release: brotli (quality 11) and gzip copies made once here, served as they are (the server's
# on-the-fly compression uses a fast, weaker setting). Dev: none, so nothing stale is served.
rm -f "$site"/pkg/*.br "$site"/pkg/*.gz
if [ "$profile" = release ]; then
  echo "==> precompress"
  node -e '
    const zlib = require("zlib"), fs = require("fs");
    for (const f of process.argv.slice(1)) {
      const raw = fs.readFileSync(f);
      fs.writeFileSync(f + ".br", zlib.brotliCompressSync(raw, { params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }));
      fs.writeFileSync(f + ".gz", zlib.gzipSync(raw, { level: 9 }));
    }' "$site"/pkg/*.wasm "$site"/pkg/*.js "$site/pkg/gatehouse.css"
fi
ls -la "$site/pkg" | grep -v -E "chunk_|split_" ; echo "(and $(ls "$site/pkg" | grep -c -E "^(chunk|split)_.*wasm$") page modules and shared chunks)"
