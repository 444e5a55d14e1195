#!/usr/bin/env bash
# Benchmark `weld build` on the example app (fixtures/calc), side by side with what a user runs by
# hand without weld: cargo, componentize-py and componentize-js one after the other.
#
#   benches/build.sh            (needs ./install.sh to have run; builds weld --release itself)
#
# Reports cold build, no-op build and one-file-changed rebuild, each with the by-hand time and
# the ratio. Works on a copy of the example, so the repository is left untouched.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cargo build --release --quiet
weld=$repo/target/release/weld
tools=${WELD_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/weld}/toolchains
runs=${RUNS:-10}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/calc"
(cd fixtures/calc && tar --exclude=target --exclude=__pycache__ -cf - .) | (cd "$work/calc" && tar xf -)
app=$work/calc

now() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", b / a }'; }

# By hand: the three toolchains in sequence, as a user without weld would run them.
by_hand() {
    local out=$work/by-hand
    mkdir -p "$out"
    cargo build --quiet --release --target wasm32-wasip2 --manifest-path "$app/cli-rs/Cargo.toml" \
        --target-dir "$out/cargo"
    "$tools/python/bin/componentize-py" -d "$app/wit" -w arith-provider componentize app \
        -p "$app/arith-py" -o "$out/arith.wasm" >/dev/null
    node --input-type=module -e "$(cat "$repo/src/build/componentize.mjs")" -- \
        "$tools/js/node_modules/@bytecodealliance/componentize-js/src/componentize.js" \
        "$app/words-js/words.js" "$app/wit" words-provider "$out/words.wasm" "http,fetch-event"
}

time_it() { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo $(($(now) - t0)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "weld build benchmark: fixtures/calc (Python + JavaScript + Rust), $(nproc) cores"
echo

weld_cold=$(time_it "$weld" build -C "$app")
hand_cold=$(time_it by_hand)

weld_noop=$(for _ in $(seq "$runs"); do time_it "$weld" build -C "$app"; done | median)
hand_noop=$(time_it by_hand)

echo "# touched" >> "$app/arith-py/app.py"
weld_one=$(time_it "$weld" build -C "$app")
hand_one=$(time_it by_hand)

printf '%-22s %12s %12s %10s\n' "step" "weld (s)" "by hand (s)" "speed-up"
printf '%-22s %12s %12s %10s\n' "cold build" "$(secs "$weld_cold")" "$(secs "$hand_cold")" "$(ratio "$weld_cold" "$hand_cold")"
printf '%-22s %12s %12s %10s\n' "no-op build (median)" "$(secs "$weld_noop")" "$(secs "$hand_noop")" "$(ratio "$weld_noop" "$hand_noop")"
printf '%-22s %12s %12s %10s\n' "one file changed" "$(secs "$weld_one")" "$(secs "$hand_one")" "$(ratio "$weld_one" "$hand_one")"
echo
echo "cold: weld builds the three components in parallel; by hand runs them one after another."
echo "no-op: weld's cache skips every toolchain; componentize-py and componentize-js have no cache."
