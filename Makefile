# Gatehouse: the two commands of the README, and a few more for development.
#   make run      set up what is missing, build, and serve on http://127.0.0.1:3000 (SQLite)
#   make test     set up what is missing and run every test (SQLite, PostgreSQL, browser)
.PHONY: run test setup build site release lint fmt clean

run: setup build
	target/debug/gatehouse serve

test:
	scripts/test.sh

setup:
	scripts/setup.sh

site:
	scripts/build-site.sh dev

build: site
	cargo build -p gatehouse

# Optimised build: size-optimised wasm run through wasm-opt, minified CSS, release server.
release: setup
	scripts/build-site.sh release
	cargo build -p gatehouse --release

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --exclude gatehouse-frontend --all-targets -- -D warnings
	cargo clippy -p gatehouse-frontend --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf target/site
