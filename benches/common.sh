# shellcheck shell=bash
# What every benchmark shares, sourced first: the repository as the working directory, the
# reference tools in benches/.tools, and the timing helpers. Times are in nanoseconds.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
tools=$repo/benches/.tools
weld=$repo/target/release/weld
wasmtime=$tools/bin/wasmtime

# reference_tool BIN CRATE@VERSION: installs the tool a user would otherwise use, once
# (wasmtime-cli takes ~16 min on two cores).
reference_tool() {
    if [ ! -x "$tools/bin/$1" ]; then
        echo "installing $2 into $tools (once)" >&2
        cargo install --quiet --locked "$2" --root "$tools"
    fi
}

# wasmtime_cache DIR: writes DIR/wasmtime-cache.toml, a cache of wasmtime's own under DIR, so
# that emptying DIR/wasmtime-cache makes a cold run cold.
wasmtime_cache() {
    cat >"$1/wasmtime-cache.toml" <<TOML
[cache]
directory = "$1/wasmtime-cache"
TOML
}

now() { date +%s%N; }
# time_it CMD...: how long CMD took, its output discarded.
time_it() { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo $(($(now) - t0)); }
# timings CMD...: how long CMD took in each of $runs runs, one per line.
timings() { for _ in $(seq "$runs"); do time_it "$@"; done; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# secs NS [DIGITS]: seconds, to 3 decimals unless told.
secs() { awk -v ns="$1" -v d="${2:-3}" 'BEGIN { printf "%." d "f", ns / 1e9 }'; }
# ratio A B: A / B to 2 decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
