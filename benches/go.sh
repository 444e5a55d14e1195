#!/usr/bin/env bash
# Go components (fixtures/polyglot) through weld, side by side with wasmtime 48.0.8 running the
# same component files:
#
#   build   `weld build` of the two Go components, with Go's build cache empty and warm
#           (there is no tool to compare with here: componentize-go is not on crates.io)
#   hello   the Go command, cold (empty caches) and warm: `weld run` against `wasmtime run`
#   stress  100,000 calls with strings of up to 64 KiB into the Go library (the composed app,
#           warm): `weld run` (Winch) and `weld run --release` against `wasmtime run`
#
#   benches/go.sh      RUNS=5 by default; needs ./install.sh; installs wasmtime-cli 48.0.8 into
#                      benches/.tools once (~16 min on two cores)
#
# Medians; ratio = weld / wasmtime, below 1: weld is faster.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
runs=${RUNS:-5}
tools=$repo/benches/.tools
if [ ! -x "$tools/bin/wasmtime" ]; then
    echo "installing wasmtime-cli 48.0.8 into $tools (once)" >&2
    cargo install --quiet --locked wasmtime-cli@48.0.8 --root "$tools"
fi
cargo build --release --quiet
weld=$repo/target/release/weld
wasmtime=$tools/bin/wasmtime
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r fixtures/polyglot "$scratch/polyglot"
rm -rf "$scratch/polyglot/target"
project=$scratch/polyglot
built=$project/target/weld

now() { date +%s%N; }
time_it() { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo $(($(now) - t0)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.2f", ns / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

cat >"$scratch/wasmtime-cache.toml" <<TOML
[cache]
directory = "$scratch/wasmtime-cache"
TOML

# Builds: a weld cache of its own, so that Go's build cache (kept there) starts empty.
go_build() { WELD_CACHE_DIR="$scratch/weld-cache" "$weld" build -q --force -C "$project" kinds hello; }
build_cold=$(time_it go_build)
build_warm=$(for _ in $(seq "$runs"); do time_it go_build; done | median)
# The rest of the app, once, untimed.
WELD_CACHE_DIR="$scratch/weld-cache" "$weld" up -q "$project" >/dev/null

weld_hello() { WELD_CACHE_DIR="$scratch/weld-cache" "$weld" run "$@" "$built/hello.wasm" -- gopher; }
wasmtime_hello() { "$wasmtime" run -C cache-config="$scratch/wasmtime-cache.toml" "$built/hello.wasm" gopher; }
diff <(weld_hello 2>/dev/null) <(wasmtime_hello 2>/dev/null)
rm -rf "$scratch/weld-cache/compiled" "$scratch/wasmtime-cache"
hello_cold=$(time_it weld_hello)
hello_wasmtime_cold=$(time_it wasmtime_hello)
hello_warm=$(for _ in $(seq "$runs"); do time_it weld_hello; done | median)
hello_wasmtime_warm=$(for _ in $(seq "$runs"); do time_it wasmtime_hello; done | median)

weld_stress() { WELD_CACHE_DIR="$scratch/weld-cache" "$weld" run "$@" "$built/app.wasm" --max-memory 128MiB -- stress 100000; }
wasmtime_stress() { "$wasmtime" run -C cache-config="$scratch/wasmtime-cache.toml" "$built/app.wasm" stress 100000; }
diff <(weld_stress 2>/dev/null) <(wasmtime_stress 2>/dev/null)
stress_dev=$(for _ in $(seq "$runs"); do time_it weld_stress; done | median)
weld_stress --release >/dev/null 2>&1
stress_release=$(for _ in $(seq "$runs"); do time_it weld_stress --release; done | median)
stress_wasmtime=$(for _ in $(seq "$runs"); do time_it wasmtime_stress; done | median)

echo "Go components, fixtures/polyglot: median of $runs, $(nproc) cores"
printf '%-34s %9s %13s %7s\n' "" "weld (s)" "wasmtime (s)" "ratio"
printf '%-34s %9s %13s %7s\n' "build kinds + hello, Go cache empty" "$(secs "$build_cold")" "" ""
printf '%-34s %9s %13s %7s\n' "build kinds + hello, Go cache warm" "$(secs "$build_warm")" "" ""
printf '%-34s %9s %13s %7s\n' "hello, cold (dev: Winch)" "$(secs "$hello_cold")" "$(secs "$hello_wasmtime_cold")" "$(ratio "$hello_cold" "$hello_wasmtime_cold")"
printf '%-34s %9s %13s %7s\n' "hello, warm" "$(secs "$hello_warm")" "$(secs "$hello_wasmtime_warm")" "$(ratio "$hello_warm" "$hello_wasmtime_warm")"
printf '%-34s %9s %13s %7s\n' "stress 100k, warm (dev: Winch)" "$(secs "$stress_dev")" "$(secs "$stress_wasmtime")" "$(ratio "$stress_dev" "$stress_wasmtime")"
printf '%-34s %9s %13s %7s\n' "stress 100k, warm (--release)" "$(secs "$stress_release")" "$(secs "$stress_wasmtime")" "$(ratio "$stress_release" "$stress_wasmtime")"
