#!/usr/bin/env bash
# Benchmark `weld run` on the composed example app (fixtures/calc, ~29 MiB) side by side with
# `wasmtime run`, the tool a user would otherwise use, on the same component: a cold run (empty
# caches: compile and run), a warm run (compiled code cached), a warm no-op `weld up` (every
# stage fresh: build, check and compose skipped or checked, then the run) and weld's
# instantiation time.
#
#   benches/run.sh      (needs ./install.sh; installs wasmtime-cli 48.0.8 into benches/.tools
#                        once, which takes ~16 min on two cores; builds weld --release and the app)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
runs=${RUNS:-10}
reference_tool wasmtime wasmtime-cli@48.0.8
cargo build --release --quiet
"$weld" build -C fixtures/calc -q >/dev/null
"$weld" compose -C fixtures/calc -q >/dev/null
app=$repo/fixtures/calc/target/weld/app.wasm
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

wasmtime_cache "$scratch"
weld_run() { WELD_CACHE_DIR="$scratch/weld-cache" "$weld" run "$app" -- 3 4 5.5; }
weld_up() { WELD_CACHE_DIR="$scratch/weld-cache" "$weld" up fixtures/calc -- 3 4 5.5; }
wasmtime_run() { "$wasmtime" run -C cache-config="$scratch/wasmtime-cache.toml" "$app" 3 4 5.5; }

# The outputs must agree before the times mean anything.
diff <(weld_run 2>/dev/null) <(wasmtime_run 2>/dev/null)

rm -rf "$scratch/weld-cache" "$scratch/wasmtime-cache"
weld_cold=$(time_it weld_run)
wasmtime_cold=$(time_it wasmtime_run)
weld_warm=$(timings weld_run | median)
wasmtime_warm=$(timings wasmtime_run | median)
diff <(weld_up 2>/dev/null) <(wasmtime_run 2>/dev/null)
up_warm=$(timings weld_up | median)
# Instantiation alone, as weld measures it (-v): wasmtime run does not report it.
inst=$(for _ in $(seq "$runs"); do
    WELD_CACHE_DIR="$scratch/weld-cache" "$weld" -v run "$app" -- 3 4 5.5 2>&1 >/dev/null |
        sed -n 's/^instantiated in \([^,]*\),.*/\1/p'
done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')

echo "run fixtures/calc app ($(du -h "$app" | cut -f1)), warm: median of $runs, $(nproc) cores"
printf '%-10s %10s %12s %8s\n' "" "weld (s)" "wasmtime (s)" "ratio"
printf '%-10s %10s %12s %8s\n' "cold" "$(secs "$weld_cold")" "$(secs "$wasmtime_cold")" "$(ratio "$weld_cold" "$wasmtime_cold")"
printf '%-10s %10s %12s %8s\n' "warm" "$(secs "$weld_warm")" "$(secs "$wasmtime_warm")" "$(ratio "$weld_warm" "$wasmtime_warm")"
printf '%-10s %10s %12s %8s\n' "up, warm" "$(secs "$up_warm")" "$(secs "$wasmtime_warm")" "$(ratio "$up_warm" "$wasmtime_warm")"
echo "ratio = weld / wasmtime (below 1: weld is faster); weld instantiates the app in $inst"
