#!/usr/bin/env bash
# Builds the browser side of Gatehouse into target/site: the hydrate wasm (wasm-bindgen, and
# wasm-opt for release), the Tailwind CSS, and the files of public/. These are the steps
# cargo-leptos would run; doing them directly keeps a cold setup free of its 24-minute install.
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

mkdir -p "$site/pkg"
echo "==> wasm ($profile)"
cargo build -p gatehouse-frontend --lib --target wasm32-unknown-unknown --profile "$cargo_profile"
wasm="target/wasm32-unknown-unknown/$wasm_dir/gatehouse_frontend.wasm"
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name gatehouse "$wasm"
if [ "$profile" = release ]; then
  echo "==> wasm-opt"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "$site/pkg/gatehouse_bg.wasm" -o "$site/pkg/gatehouse_bg.wasm"
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
    }' "$site/pkg/gatehouse_bg.wasm" "$site/pkg/gatehouse.js" "$site/pkg/gatehouse.css"
fi
ls -la "$site/pkg"
