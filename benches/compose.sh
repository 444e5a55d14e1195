#!/usr/bin/env bash
# Benchmark `weld compose` on the example app (fixtures/calc, ~29 MiB composed) side by side with
# `wac plug`, the tool a user would otherwise use, on the same three components.
#
#   benches/compose.sh      (needs ./install.sh; installs wac-cli into benches/.tools, builds
#                            weld --release, builds the example's components)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
runs=${RUNS:-10}
reference_tool wac wac-cli@0.12.0
cargo build --release --quiet
"$weld" build -C fixtures/calc -q >/dev/null
built=$repo/fixtures/calc/target/weld
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

weld_ns=$(timings "$weld" compose "$built/cli.wasm" --plug "$built/arith.wasm" --plug "$built/words.wasm" -o "$out/weld.wasm" | median)
wac_ns=$(timings "$tools/bin/wac" plug "$built/cli.wasm" --plug "$built/arith.wasm" --plug "$built/words.wasm" -o "$out/wac.wasm" | median)

echo "compose fixtures/calc (cli + arith + words, $(du -h "$out/weld.wasm" | cut -f1) out), median of $runs, $(nproc) cores"
printf '%-12s %10s\n' "tool" "seconds"
printf '%-12s %10s\n' "weld" "$(secs "$weld_ns")"
printf '%-12s %10s\n' "wac plug" "$(secs "$wac_ns")"
awk -v a="$weld_ns" -v b="$wac_ns" 'BEGIN { printf "weld / wac = %.2f (below 1: weld is faster)\n", a / b }'
echo "weld also checks every import first and imports each WASI interface once; wac plug does neither."
