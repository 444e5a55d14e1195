#!/usr/bin/env bash
# Go components (fixtures/polyglot) through weld, side by side with wasmtime 48.0.8 running the
# same component files:
#
#   build   `weld build` of the two Go components, with Go's build cache empty and warm
#           (there is no tool to compare with here: componentize-go is not on crates.io)
#   hello   the Go command, cold (empty caches) and warm: `weld run` against `wasmtime run`
#   stress  100,000 calls with strings of up to 64 KiB into the Go library (the composed app,
#           warm): `weld run` (Winch) and `weld run --release` against `wasmtime run`, and
#           against `wasmtime run -W timeout=…`, which bounds time as weld always does (epoch
#           checks in the generated code)
#
#   benches/go.sh      RUNS=5 by default; needs ./install.sh; installs wasmtime-cli 48.0.8 into
#                      benches/.tools once (~16 min on two cores)
#
# Medians; ratio = weld / wasmtime, below 1: weld is faster.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
runs=${RUNS:-5}
reference_tool wasmtime wasmtime-cli@48.0.8
cargo build --release --quiet
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r fixtures/polyglot "$scratch/polyglot"
rm -rf "$scratch/polyglot/target"
project=$scratch/polyglot
built=$project/target/weld

wasmtime_cache "$scratch"

# Builds: a weld cache of its own, so that Go's build cache (kept there) starts empty.
go_build() { WELD_CACHE_DIR="$scratch/weld-cache" "$weld" build -q --force -C "$project" kinds hello; }
build_cold=$(time_it go_build)
build_warm=$(timings go_build | median)
# The rest of the app, once, untimed.
WELD_CACHE_DIR="$scratch/weld-cache" "$weld" up -q "$project" >/dev/null

weld_hello() { WELD_CACHE_DIR="$scratch/weld-cache" "$weld" run "$@" "$built/hello.wasm" -- gopher; }
wasmtime_hello() { "$wasmtime" run -C cache-config="$scratch/wasmtime-cache.toml" "$built/hello.wasm" gopher; }
diff <(weld_hello 2>/dev/null) <(wasmtime_hello 2>/dev/null)
rm -rf "$scratch/weld-cache/compiled" "$scratch/wasmtime-cache"
hello_cold=$(time_it weld_hello)
hello_wasmtime_cold=$(time_it wasmtime_hello)
hello_warm=$(timings weld_hello | median)
hello_wasmtime_warm=$(timings wasmtime_hello | median)

weld_stress() { WELD_CACHE_DIR="$scratch/weld-cache" "$weld" run "$@" "$built/app.wasm" --max-memory 128MiB -- stress 100000; }
wasmtime_stress() { "$wasmtime" run -C cache-config="$scratch/wasmtime-cache.toml" "$@" "$built/app.wasm" stress 100000; }
diff <(weld_stress 2>/dev/null) <(wasmtime_stress 2>/dev/null)
stress_dev=$(timings weld_stress | median)
weld_stress --release >/dev/null 2>&1
stress_release=$(timings weld_stress --release | median)
stress_wasmtime=$(timings wasmtime_stress | median)
wasmtime_stress -W timeout=600s >/dev/null 2>&1
stress_bounded=$(timings wasmtime_stress -W timeout=600s | median)

echo "Go components, fixtures/polyglot: median of $runs, $(nproc) cores"
printf '%-34s %9s %13s %7s\n' "" "weld (s)" "wasmtime (s)" "ratio"
printf '%-34s %9s %13s %7s\n' "build kinds + hello, Go cache empty" "$(secs "$build_cold")" "" ""
printf '%-34s %9s %13s %7s\n' "build kinds + hello, Go cache warm" "$(secs "$build_warm")" "" ""
printf '%-34s %9s %13s %7s\n' "hello, cold (dev: Winch)" "$(secs "$hello_cold")" "$(secs "$hello_wasmtime_cold")" "$(ratio "$hello_cold" "$hello_wasmtime_cold")"
printf '%-34s %9s %13s %7s\n' "hello, warm" "$(secs "$hello_warm")" "$(secs "$hello_wasmtime_warm")" "$(ratio "$hello_warm" "$hello_wasmtime_warm")"
printf '%-34s %9s %13s %7s\n' "stress 100k, warm (dev: Winch)" "$(secs "$stress_dev")" "$(secs "$stress_wasmtime")" "$(ratio "$stress_dev" "$stress_wasmtime")"
printf '%-34s %9s %13s %7s\n' "stress 100k, warm (--release)" "$(secs "$stress_release")" "$(secs "$stress_wasmtime")" "$(ratio "$stress_release" "$stress_wasmtime")"
printf '%-34s %9s %13s %7s\n' "  against wasmtime -W timeout" "$(secs "$stress_release")" "$(secs "$stress_bounded")" "$(ratio "$stress_release" "$stress_bounded")"
