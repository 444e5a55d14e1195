#!/usr/bin/env bash
# weld::host's call into a small Rust plugin against raw wasmtime with a pre-instantiated
# component (benches/host.rs): builds the plugin with weld, then runs the bench on one core
# when taskset is there. N=20000 sets the calls per side.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin weld
./target/release/weld build -q -C fixtures/plugins shout
run=()
command -v taskset >/dev/null && run=(taskset -c 0)
cargo build --release --locked --bench host
"${run[@]}" cargo bench --locked --bench host
