#!/usr/bin/env bash
# Writes each fuzz target's seed corpus (fuzz/seeds/TARGET/) from the project's own fixtures and
# golden inputs; nothing here comes from another project. Files are named by content, so
# re-running it changes nothing unless the fixtures changed.
#
#   fuzz/seed.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=fuzz/seeds
rm -rf "$out"
mkdir -p "$out"/{manifest,wit,component,compose,wac,wave,oci}

seed() { # seed TARGET < bytes
    local tmp
    tmp=$(mktemp)
    cat >"$tmp"
    mv "$tmp" "$out/$1/$(sha256sum "$tmp" | cut -c1-16)"
}
# Two files as one input for the two-part targets: a little-endian u16 length, then both.
pair() {
    python3 - "$1" "$2" <<'PY'
import sys, struct
a = open(sys.argv[1], "rb").read()
b = open(sys.argv[2], "rb").read() if sys.argv[2] != "-" else b""
sys.stdout.buffer.write(struct.pack("<H", len(a) % 65536) + a + b)
PY
}

for f in fixtures/*/weld.toml tests/cli/manifest/*.toml tests/cli/up/*.toml tests/cli/compose/*.toml tests/cli/build/*.toml; do
    seed manifest <"$f"
done
for f in $(find fixtures tests/cli -name '*.wit' -not -path '*/target/*' | sort); do
    pair "$f" - | seed wit
done
# A package with a dependency in deps/.
main=$(mktemp) dep=$(mktemp)
printf 'package weld:app;\nworld app {\n  import weld:lib/tools@0.1.0;\n  export run: func(n: u32) -> string;\n}\n' >"$main"
printf 'package weld:lib@0.1.0;\ninterface tools {\n  record pair { a: u8, b: list<string> }\n  swap: func(p: pair) -> pair;\n}\n' >"$dep"
pair "$main" "$dep" | seed wit
rm -f "$main" "$dep"
for f in tests/cli/check/components/*.wasm; do
    seed component <"$f"
done
c=tests/cli/check/components
for p in "app arith" "app words" "arith app" "chain-root chain-a" "cycle-a cycle-b" "app skew-param" "files-user files-skew" "wasi-skew arith"; do
    set -- $p
    pair "$c/$1.wasm" "$c/$2.wasm" | seed compose
done
for f in tests/cli/compose/*.wac; do
    seed wac <"$f"
done
printf 'package weld:app;\nlet k = new weld:kinds {};\nexport k...;\n' | seed wac
printf 'package weld:app;\nlet a = new weld:arith {};\nlet w = new weld:words {};\nlet c = new weld:calc { "weld:calc/arith@0.1.0": a["weld:calc/arith@0.1.0"], "weld:calc/words@0.1.0": w["weld:calc/words@0.1.0"] };\nexport c.run;\n' | seed wac
printf 'package weld:app;\nimport shout: func(text: string) -> string;\nlet a = new weld:arith { ... };\nlet c = new weld:calc { ...a, ... };\nexport c as app;\n' | seed wac
for call in 'kinds.scalars(true, 255, -3, 7, -9, 1.5, 2.25, '"'"'x'"'"', "hi")' \
    'kinds.compound({x: 1, y: -2, label: some("p")}, square({x: 0, y: 0, label: none}), green, {read, exec})' \
    'kinds.nested([[(1, "a")], []], some(none), err(blue))' \
    'kinds.nothing()' 'top([1.0, nan, inf])' 'weld:wave/kinds@0.1.0.compound({x: 1, y: 2}, empty, red, {})'; do
    printf '%s' "$call" | seed wave
done
# Registry manifests and configs: the CNCF Wasm artifact, the older BCA layer, and what pull
# refuses (a container image, a Spin app, two Wasm layers, no layer, a config naming another
# layer), each as a manifest/config pair.
python3 - "$out/oci" <<'PY'
import hashlib, json, struct, sys
out = sys.argv[1]
def digest(b): return "sha256:" + hashlib.sha256(b).hexdigest()
layer = b"\0asm\x0d\0\x01\0"
def case(config_type, layer_types, config=None, layer_digests=None):
    config = config if config is not None else json.dumps({
        "architecture": "wasm", "os": "wasip2",
        "layerDigests": layer_digests if layer_digests is not None else [digest(layer)],
        "component": {"exports": ["wasi:http/incoming-handler@0.2.6"], "imports": ["wasi:io/error@0.2.6"]},
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": config_type, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": t, "digest": digest(layer), "size": len(layer),
                    "annotations": {"org.opencontainers.image.title": "app.wasm"}} for t in layer_types],
        "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
    }).encode()
    data = struct.pack("<H", len(manifest)) + manifest + config
    open(f"{out}/{hashlib.sha256(data).hexdigest()[:16]}", "wb").write(data)
wasm = "application/vnd.wasm.config.v0+json"
case(wasm, ["application/wasm"])
case(wasm, ["application/vnd.bytecodealliance.wasm.component.layer.v0+wasm"])
case("application/vnd.oci.image.config.v1+json", ["application/vnd.oci.image.layer.v1.tar+gzip"], config=b"{}")
case("application/vnd.fermyon.spin.application.v1+config", ["application/vnd.wasm.content.layer.v1+wasm"], config=b"{}")
case(wasm, ["application/wasm", "application/wasm"])
case(wasm, [])
case(wasm, ["application/wasm"], layer_digests=["sha256:" + "0" * 64])
PY
find "$out" -type f | wc -l
