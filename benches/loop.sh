#!/usr/bin/env bash
# The fast loop: weld's dev profile (Winch) side by side with wasmtime 48.0.8, on the two
# example apps of ~30 MB: fixtures/calc (a command: Rust + Python + JavaScript) and
# fixtures/shop (an HTTP app of the same three languages).
#
#   cold   the first run with empty caches: `weld run` (dev, and --release) against
#          `wasmtime run -C cache=n` (Cranelift, and -C compiler=winch); for the shop, from
#          start to the first answered request: `weld up` against `wasmtime serve -C cache=n`
#   warm   the same with the compiled code cached (wasmtime with its own cache on)
#   edit   from saving a one-line change to the app's new output, through `weld up --watch`:
#          in the Rust component, then in the Python one (the shop: until the server reloads)
#
#   benches/loop.sh        RUNS=5 by default; needs ./install.sh, curl; installs wasmtime-cli
#                          48.0.8 into benches/.tools once (~16 min on two cores)
#
# Medians with the range (min-max) in brackets; ratio = weld / wasmtime, below 1: weld is faster.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
runs=${RUNS:-5}
reference_tool wasmtime wasmtime-cli@48.0.8
cargo build --release --quiet
scratch=$(mktemp -d)
watcher=
cleanup() {
    [ -n "$watcher" ] && kill -TERM "$watcher" 2>/dev/null && wait "$watcher" 2>/dev/null
    rm -rf "$scratch"
}
trap cleanup EXIT

# Copies of the apps with their build outputs, so that edits never touch the checkout.
for app in calc shop; do
    "$weld" build -q -C "fixtures/$app" >/dev/null
    "$weld" compose -q -C "fixtures/$app" >/dev/null
    cp -r "fixtures/$app" "$scratch/$app"
    # The build record names the project's directory: the copy builds once, here, untimed.
    "$weld" build -q -C "$scratch/$app" >/dev/null
    "$weld" compose -q -C "$scratch/$app" >/dev/null
done
export WELD_CACHE_DIR=$scratch/weld-cache
wasmtime_cache "$scratch"

# stats: "median min max" of the numbers on stdin.
stats() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], a[1], a[NR] }'; }
show() { # show "median min max" as "1.23 (1.10-1.40)"
    set -- $1
    echo "$(secs "$1") ($(secs "$2")-$(secs "$3"))"
}
ratio() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { printf "%.2f", a / b }'; }
row() { printf '%-34s %-20s %-20s %s\n' "$@"; }

calc=$scratch/calc/target/weld/app.wasm
shop=$scratch/shop/target/weld/app.wasm
weld_run() { "$weld" run "$@" "$calc" -- 3 4 5.5; }
wasmtime_run() { "$wasmtime" run "$@" "$calc" 3 4 5.5; }

# The outputs must agree before the times mean anything.
diff <(weld_run 2>/dev/null) <(wasmtime_run -C cache=n 2>/dev/null)
diff <(weld_run --release 2>/dev/null) <(wasmtime_run -C cache=n -C compiler=winch 2>/dev/null)

cold() { for _ in $(seq "$runs"); do rm -rf "$WELD_CACHE_DIR"; time_it "$@"; done | stats; }
calc_dev=$(cold weld_run)
calc_release=$(cold weld_run --release)
calc_wasmtime=$(cold wasmtime_run -C cache=n)
calc_winch=$(cold wasmtime_run -C cache=n -C compiler=winch)
weld_run >/dev/null 2>&1
wasmtime_run -C cache-config="$scratch/wasmtime-cache.toml" >/dev/null 2>&1
calc_warm=$(timings weld_run | stats)
calc_wasmtime_warm=$(timings wasmtime_run -C cache-config="$scratch/wasmtime-cache.toml" | stats)

# From start to the first answer on GET /: a server started in the background, polled.
port=18190
first_answer() { # first_answer CMD...: nanoseconds until GET / answers 200
    port=$((port + 1))
    local t0 pid
    t0=$(now)
    "$@" --addr "127.0.0.1:$port" >/dev/null 2>"$scratch/server.log" &
    pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
        kill -0 $pid 2>/dev/null || { cat "$scratch/server.log" >&2; exit 1; }
        sleep 0.02
    done
    echo $(($(now) - t0))
    # TERM, not INT: a shell without job control starts background commands ignoring SIGINT.
    kill -TERM $pid 2>/dev/null
    wait $pid 2>/dev/null || true
}
# Each replaces the subshell it runs in, so that the pid the poller holds is the server's own.
weld_up_shop() { exec "$weld" up "$scratch/shop" "$@"; }
wasmtime_serve_at() { # wasmtime takes the app after --addr
    exec "$wasmtime" serve -Scli "$@" "$shop"
}
shop_dev=$(for _ in $(seq "$runs"); do rm -rf "$WELD_CACHE_DIR"; first_answer weld_up_shop; done | stats)
shop_wasmtime=$(for _ in $(seq "$runs"); do first_answer wasmtime_serve_at -C cache=n; done | stats)
first_answer weld_up_shop >/dev/null
first_answer wasmtime_serve_at -C cache-config="$scratch/wasmtime-cache.toml" >/dev/null
shop_warm=$(for _ in $(seq "$runs"); do first_answer weld_up_shop; done | stats)
shop_wasmtime_warm=$(for _ in $(seq "$runs"); do first_answer wasmtime_serve_at -C cache-config="$scratch/wasmtime-cache.toml"; done | stats)

# The edit loop: `weld up --watch` running; each edit is a new one-line change (so no cache
# holds its result), timed from the write to the sign it took effect: one more finished run
# of calc ("words:" on stdout), one more reload of the shop.
count() { grep -c -- "$1" "$2" 2>/dev/null || true; }
watch_start() { # watch_start APP SIGN FILE [ARGS]: weld up --watch, once its first run is done
    local app=$1 sign=$2 file=$3
    shift 3
    : >"$scratch/out" && : >"$scratch/err"
    "$weld" up --watch "$scratch/$app" "$@" >"$scratch/out" 2>"$scratch/err" &
    watcher=$!
    until [ "$(count "$sign" "$scratch/$file")" -ge 1 ]; do sleep 0.05; done
}
watch_stop() { kill -TERM "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true; watcher=; }
edits() { # edits SIGN FILE SOURCE SED-SCRIPT-WITH-N: prints one time per edit
    local sign=$1 file=$2 source=$3 script=$4 before i
    for i in $(seq "$runs"); do
        sleep 1
        before=$(count "$sign" "$scratch/$file")
        local t0
        t0=$(now)
        sed -i "${script//N/$i}" "$source"
        until [ "$(count "$sign" "$scratch/$file")" -gt "$before" ]; do sleep 0.01; done
        echo $(($(now) - t0))
    done | stats
}
watch_start calc "words:" out
calc_edit_rs=$(edits "words:" out "$scratch/calc/cli-rs/src/main.rs" 's/println!("input[0-9]*: /println!("inputN: /')
calc_edit_py=$(edits "words:" out "$scratch/calc/arith-py/app.py" 's/an empty list of numbers[0-9 ]*"/an empty list of numbers N"/')
grep -q "input$runs: 3 4 5.5" "$scratch/out" || { echo "the Rust edit never showed" >&2; exit 1; }
watch_stop
watch_start shop "serving" err --addr 127.0.0.1:18199
shop_edit_rs=$(edits "reloaded" err "$scratch/shop/front-rs/src/lib.rs" 's/^weld shop[0-9]*: /weld shopN: /')
shop_edit_py=$(edits "reloaded" err "$scratch/shop/pricing-py/app.py" 's/"apple": [0-9]*,/"apple": 5N,/')
curl -sf http://127.0.0.1:18199/ | grep -q "weld shop$runs:" || { echo "the shop's Rust edit never showed" >&2; exit 1; }
watch_stop

# What rebuilding the Python component alone costs (its source check and componentize-py), for
# the Python goal: the edit loop less this is weld's own share.
py_build() { # py_build APP FILE COMPONENT: COMPONENT rebuilt after a change to FILE
    echo "# $(now)" >>"$scratch/$1/$2"
    time_it "$weld" build -q -C "$scratch/$1" "$3"
}
calc_py=$(for _ in $(seq "$runs"); do py_build calc arith-py/app.py arith; done | stats)

echo "the fast loop on $(nproc) cores; RUNS=$runs; median (min-max) in seconds"
echo "calc: $(du -h "$calc" | cut -f1) command app; shop: $(du -h "$shop" | cut -f1) HTTP app"
row "" "weld" "wasmtime" "ratio"
row "calc cold, dev (Winch)" "$(show "$calc_dev")" "$(show "$calc_wasmtime")" "$(ratio "$calc_dev" "$calc_wasmtime")"
row "calc cold, --release (Cranelift)" "$(show "$calc_release")" "$(show "$calc_wasmtime")" "$(ratio "$calc_release" "$calc_wasmtime")"
row "calc cold, wasmtime -C compiler=winch" "" "$(show "$calc_winch")" ""
row "calc warm" "$(show "$calc_warm")" "$(show "$calc_wasmtime_warm")" "$(ratio "$calc_warm" "$calc_wasmtime_warm")"
row "shop cold, first answer (up, dev)" "$(show "$shop_dev")" "$(show "$shop_wasmtime")" "$(ratio "$shop_dev" "$shop_wasmtime")"
row "shop warm, first answer" "$(show "$shop_warm")" "$(show "$shop_wasmtime_warm")" "$(ratio "$shop_warm" "$shop_wasmtime_warm")"
row "calc edit, Rust line -> output" "$(show "$calc_edit_rs")" "" ""
row "calc edit, Python line -> output" "$(show "$calc_edit_py")" "" ""
row "calc Python component rebuilt alone" "$(show "$calc_py")" "" ""
row "shop edit, Rust line -> reloaded" "$(show "$shop_edit_rs")" "" ""
row "shop edit, Python line -> reloaded" "$(show "$shop_edit_py")" "" ""
