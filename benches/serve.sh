#!/usr/bin/env bash
# Benchmark `weld serve` side by side with `wasmtime serve -Scli` (48.0.8), the tool a user would
# otherwise use, on the same components: the Rust hello handler (fixtures/hello-http), the same
# greeting from a WASI 0.3 service (fixtures/hello-http-p3) and the polyglot shop (fixtures/shop,
# Rust + Python + JavaScript, route /items). For the 0.3 service, each server also runs the
# other way: weld (a fresh instance per request by default) with `--instance-reuse 128`, and
# wasmtime serve (one instance reused for up to 128 requests, 16 at a time, by default) with
# `--max-instance-reuse-count 1`, so that reuse is compared with reuse and fresh with fresh. The server runs on
# core 0, the client (hey) on core 1. For each: requests/s and p50/p99 latency at concurrency 1
# and 32, with keep-alive on and off; peak RSS of the server; then weld alone holding 1,000
# keep-alive connections, and the time of a fresh instance (examples/instantiate.rs).
#
#   benches/serve.sh     (needs ./install.sh and `apt-get install hey`; installs wasmtime-cli
#                         48.0.8 into benches/.tools once, ~16 min; builds weld --release)
#   DURATION=10s benches/serve.sh
#   CASES="hello-p3" benches/serve.sh      only some of hello, hello-p3 and shop
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
duration=${DURATION:-10s}
cases=" ${CASES:-hello hello-p3 shop} "
# 1,000 connections need as many descriptors on each side.
ulimit -n 8192
command -v hey >/dev/null || { echo "benches/serve.sh needs hey: apt-get install hey" >&2; exit 2; }
command -v taskset >/dev/null || { echo "benches/serve.sh needs taskset (util-linux)" >&2; exit 2; }
reference_tool wasmtime wasmtime-cli@48.0.8
cargo build --release --quiet --bin weld --example instantiate
for project in hello-http hello-http-p3 shop; do
    "$weld" build -C "fixtures/$project" -q >/dev/null
    "$weld" compose -C "fixtures/$project" -q >/dev/null
done
scratch=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$scratch"
}
trap cleanup EXIT
wasmtime_cache "$scratch"
export WELD_CACHE_DIR=$scratch/weld-cache
port=18080

start() { # start weld|wasmtime APP: the server on core 0, once it answers
    local tool=$1 app=$2
    port=$((port + 1))
    case $tool in
    weld) taskset -c 0 "$weld" -q serve "$app" --addr "127.0.0.1:$port" \
        >/dev/null 2>"$scratch/server.log" & ;;
    weld-reuse) taskset -c 0 "$weld" -q serve "$app" --addr "127.0.0.1:$port" \
        --instance-reuse 128 --instance-concurrency 16 >/dev/null 2>"$scratch/server.log" & ;;
    wasmtime) taskset -c 0 "$wasmtime" serve -Scli -C cache-config="$scratch/wasmtime-cache.toml" \
        --addr "127.0.0.1:$port" "$app" >/dev/null 2>"$scratch/server.log" & ;;
    wasmtime-fresh) taskset -c 0 "$wasmtime" serve -Scli -C cache-config="$scratch/wasmtime-cache.toml" \
        --max-instance-reuse-count 1 --addr "127.0.0.1:$port" "$app" \
        >/dev/null 2>"$scratch/server.log" & ;;
    esac
    server=$!
    for _ in $(seq 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            hey -n 200 -c 4 "http://127.0.0.1:$port$route" >/dev/null
            return
        fi
        sleep 0.1
    done
    echo "$tool did not start serving $app:" >&2
    cat "$scratch/server.log" >&2
    exit 1
}

stop() {
    kill -INT "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
}

# The body of GET $route, over a plain socket.
curl_body() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET %s HTTP/1.0\r\nhost: x\r\n\r\n' "$route" >&3
    sed '1,/^\r$/d' <&3
}

peak_rss() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status"; }

load() { # load CONCURRENCY KEEPALIVE(on|off): "rps p50_ms p99_ms non200"
    local flags=()
    [ "$2" = off ] && flags+=(-disable-keepalive)
    taskset -c 1 hey -z "$duration" -c "$1" "${flags[@]}" "http://127.0.0.1:$port$route" >"$scratch/hey.txt"
    awk '
        /Requests\/sec:/ { rps = $2 }
        /50% in/ { p50 = $3 * 1000 }
        /99% in/ { p99 = $3 * 1000 }
        /\[[0-9]+\][[:space:]]+[0-9]+ responses/ { code = substr($1, 2, 3); if (code != "200") bad += $2 }
        /Error distribution/ { errors = 1 }
        errors && /\[[0-9]+\]/ { bad += substr($1, 2) }
        END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }
    ' "$scratch/hey.txt"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# pair A B LABEL: the rows of server A against those of server B, after LABEL.
pair() {
    echo "$3"
    printf '%-16s %9s %9s %6s %8s %8s %8s %8s %6s\n' "" "weld r/s" "wt r/s" "ratio" \
        "weld p50" "wt p50" "weld p99" "wt p99" "!200"
    for c in 1 32; do
        for ka in on off; do
            read -r ar a50 a99 abad <<<"${rows[$1-$c-$ka]}"
            read -r br b50 b99 bbad <<<"${rows[$2-$c-$ka]}"
            printf '%-16s %9s %9s %6s %7sms %7sms %7sms %7sms %6s\n' "c=$c keep-alive $ka" \
                "$ar" "$br" "$(ratio "$ar" "$br")" "$a50" "$b50" "$a99" "$b99" "$((abad + bbad))"
        done
    done
}

echo "weld serve vs wasmtime serve -Scli 48.0.8: hey for $duration per row, server on core 0, client on core 1"
for case in "hello fixtures/hello-http/target/weld/app.wasm /" \
    "hello-p3 fixtures/hello-http-p3/target/weld/app.wasm /" \
    "shop fixtures/shop/target/weld/app.wasm /items"; do
    read -r name app route <<<"$case"
    [[ "$cases" == *" $name "* ]] || continue
    declare -A rows=() rss=() body=()
    tools=(weld wasmtime)
    [ "$name" = hello-p3 ] && tools+=(weld-reuse wasmtime-fresh)
    for tool in "${tools[@]}"; do
        start "$tool" "$app"
        body[$tool]=$(curl_body)
        # Same answers first, or the numbers mean nothing.
        if [ "${body[$tool]}" != "${body[weld]}" ]; then
            echo "$name: weld and $tool answer differently:" >&2
            diff <(echo "${body[weld]}") <(echo "${body[$tool]}") >&2 || true
            exit 1
        fi
        for c in 1 32; do
            for ka in on off; do
                rows[$tool-$c-$ka]=$(load "$c" "$ka")
            done
        done
        rss[$tool]=$(peak_rss)
        stop
    done

    echo
    pair weld wasmtime "$name ($(du -h "$app" | cut -f1), GET $route)"
    echo "peak RSS under load: weld ${rss[weld]} MiB, wasmtime ${rss[wasmtime]} MiB"
    if [ "$name" = hello-p3 ]; then
        pair weld-reuse wasmtime "reused instances: weld --instance-reuse 128 (16 at once) vs wasmtime serve's default (same)"
        echo "peak RSS under load: weld ${rss[weld-reuse]} MiB, wasmtime ${rss[wasmtime]} MiB"
        pair weld wasmtime-fresh "a fresh instance per request: weld's default vs wasmtime serve --max-instance-reuse-count 1"
        echo "peak RSS under load: weld ${rss[weld]} MiB, wasmtime ${rss[wasmtime-fresh]} MiB"
    fi
    read -r n p50 p99 <<<"$("$repo/target/release/examples/instantiate" "$app" \
        "$([ "$name" = shop ] && echo 1000 || echo 20000)")"
    echo "fresh instance (weld, $n instantiations): p50 ${p50} µs, p99 ${p99} µs"
done

echo
route=/
start weld fixtures/hello-http/target/weld/app.wasm
read -r rps p50 p99 bad <<<"$(load 1000 on)"
echo "weld, 1000 keep-alive connections on hello: ${rps} r/s, p50 ${p50} ms, p99 ${p99} ms, ${bad} errors or non-200"
stop
