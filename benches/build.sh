#!/usr/bin/env bash
# Benchmark `weld build` on the example app (fixtures/calc), side by side with what a user runs by
# hand without weld: cargo, componentize-py and componentize-js one after the other.
#
#   benches/build.sh            (needs ./install.sh to have run; builds weld --release itself)
#
# Reports cold build, no-op build and one-file-changed rebuild, each with the by-hand time and
# the ratio. Works on a copy of the example, so the repository is left untouched.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cargo build --release --quiet
toolchains=${WELD_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/weld}/toolchains
runs=${RUNS:-10}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/calc"
(cd fixtures/calc && tar --exclude=target --exclude=__pycache__ -cf - .) | (cd "$work/calc" && tar xf -)
app=$work/calc

# By hand: the three toolchains in sequence, as a user without weld would run them.
by_hand() {
    local out=$work/by-hand
    mkdir -p "$out"
    cargo build --quiet --release --target wasm32-wasip2 --manifest-path "$app/cli-rs/Cargo.toml" \
        --target-dir "$out/cargo"
    "$toolchains/python/bin/componentize-py" -d "$app/wit" -w arith-provider componentize app \
        -p "$app/arith-py" -o "$out/arith.wasm" >/dev/null
    node --input-type=module -e "$(cat "$repo/src/build/componentize.mjs")" -- \
        "$toolchains/js/node_modules/@bytecodealliance/componentize-js/src/componentize.js" \
        "$app/words-js/words.js" "$app/wit" words-provider "$out/words.wasm" "http,fetch-event"
}

echo "weld build benchmark: fixtures/calc (Python + JavaScript + Rust), $(nproc) cores"
echo

weld_cold=$(time_it "$weld" build -C "$app")
hand_cold=$(time_it by_hand)

weld_noop=$(timings "$weld" build -C "$app" | median)
hand_noop=$(time_it by_hand)

echo "# touched" >> "$app/arith-py/app.py"
weld_one=$(time_it "$weld" build -C "$app")
hand_one=$(time_it by_hand)

printf '%-22s %12s %12s %10s\n' "step" "weld (s)" "by hand (s)" "speed-up"
printf '%-22s %12s %12s %10s\n' "cold build" "$(secs "$weld_cold")" "$(secs "$hand_cold")" "$(ratio "$hand_cold" "$weld_cold")x"
printf '%-22s %12s %12s %10s\n' "no-op build (median)" "$(secs "$weld_noop")" "$(secs "$hand_noop")" "$(ratio "$hand_noop" "$weld_noop")x"
printf '%-22s %12s %12s %10s\n' "one file changed" "$(secs "$weld_one")" "$(secs "$hand_one")" "$(ratio "$hand_one" "$weld_one")x"
echo
echo "cold: weld builds the three components in parallel; by hand runs them one after another."
echo "no-op: weld's cache skips every toolchain; componentize-py and componentize-js have no cache."
