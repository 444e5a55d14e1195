//! Entry points for the fuzzers in fuzz/ and for the replay of their corpora in `cargo test`.
//! Each takes arbitrary bytes, gives them to one stage the way a user's input arrives (a file
//! on disk, a flag's text), and panics only where weld breaks a promise: a panic that escapes
//! the stage, an error whose exit code is not 1 or 2, or a diagnostic that does not render.
//! Not part of weld's API.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::compose::{Input, ScriptDep};

/// Asserts the exit-code contract and renders the diagnostic as the CLI would (miette's
/// graphical handler, which reads every span against its source).
fn refused(what: &str, code: u8, diagnostic: &dyn miette::Diagnostic) {
    assert!(
        code == crate::exit::EXIT_FAILURE || code == crate::exit::EXIT_USAGE,
        "{what}: exit code {code} for a refused input: {diagnostic}"
    );
    let mut out = String::new();
    miette::GraphicalReportHandler::new()
        .render_report(&mut out, diagnostic)
        .unwrap_or_else(|e| panic!("{what}: the diagnostic does not render: {e}"));
    assert!(!out.trim().is_empty(), "{what}: an empty diagnostic");
}

/// A scratch directory per call; it goes when the value drops.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("weld-fuzz-")
        .tempdir()
        .expect("a temporary directory")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("a scratch subdirectory");
    }
    std::fs::write(&path, bytes).expect("a scratch file");
    path
}

/// Splits `data` in two at a point its first two bytes choose.
fn halves(data: &[u8]) -> (&[u8], &[u8]) {
    match data {
        [a, b, rest @ ..] => {
            let at = usize::from(u16::from_le_bytes([*a, *b])) % (rest.len() + 1);
            rest.split_at(at)
        }
        _ => (data, &[]),
    }
}

/// weld.toml → Plan. The manifest sits in an empty directory, so paths it names resolve to
/// nothing the fuzzer did not write.
pub fn manifest(data: &[u8]) {
    let dir = scratch();
    let path = write(dir.path(), "weld.toml", data);
    if let Err(e) = crate::project::Plan::load(&path) {
        refused("weld.toml", crate::exit::EXIT_USAGE, &e);
    }
}

/// A WIT package directory (`pkg.wit`, and `deps/dep.wit` from the second half) → loaded and
/// every world's imports and exports rendered as `weld wit` shows them.
pub fn wit(data: &[u8]) {
    let (main, dep) = halves(data);
    let dir = scratch();
    write(dir.path(), "pkg.wit", main);
    if !dep.is_empty() {
        write(dir.path(), "deps/dep.wit", dep);
    }
    match crate::wit::load_dir(dir.path(), Path::new("wit")) {
        Ok((resolve, pkg)) => render_package(&resolve, pkg),
        Err(e) => refused("WIT", e.exit_code(), &e),
    }
}

fn render_package(resolve: &wit_parser::Resolve, pkg: wit_parser::PackageId) {
    for (_, &world) in &resolve.packages[pkg].worlds {
        let w = &resolve.worlds[world];
        for item in w.imports.values().chain(w.exports.values()) {
            render_item(resolve, item);
        }
    }
}

fn render_item(resolve: &wit_parser::Resolve, item: &wit_parser::WorldItem) {
    use crate::check::wit_text;
    match item {
        wit_parser::WorldItem::Function(f) => {
            wit_text::func_sig(resolve, f);
        }
        wit_parser::WorldItem::Interface { id, .. } => {
            let iface = &resolve.interfaces[*id];
            for f in iface.functions.values() {
                wit_text::func_sig(resolve, f);
            }
            for &ty in iface.types.values() {
                wit_text::typedef_str(resolve, ty);
            }
        }
        wit_parser::WorldItem::Type { id, .. } => {
            wit_text::typedef_str(resolve, *id);
        }
    }
}

/// Component bytes → load (decode and validate), its WIT rendered, and the plug check of it
/// alone, as `weld wit` and `weld check` do.
pub fn component(data: &[u8]) {
    let dir = scratch();
    let path = write(dir.path(), "input.wasm", data);
    match crate::check::load::load(&path, "input.wasm") {
        Ok(loaded) => {
            for item in loaded.resolve.worlds[loaded.world]
                .imports
                .values()
                .chain(loaded.resolve.worlds[loaded.world].exports.values())
            {
                render_item(&loaded.resolve, item);
            }
            let checked = crate::check::plug::check(std::slice::from_ref(&loaded), 1);
            assert_eq!(
                checked.links.len(),
                loaded.resolve.worlds[loaded.world]
                    .imports
                    .values()
                    .filter(|i| !matches!(i, wit_parser::WorldItem::Type { .. }))
                    .count(),
                "one link per import"
            );
        }
        Err(e) => refused("component", e.exit_code(), &e),
    }
}

/// Two components (split where the first two bytes say) → plug check → composed into a file,
/// as `weld compose a.wasm --plug b.wasm` does.
pub fn compose(data: &[u8]) {
    let (a, b) = halves(data);
    let dir = scratch();
    let root = Input {
        name: "root".into(),
        path: write(dir.path(), "root.wasm", a),
    };
    let plug = Input {
        name: "plug".into(),
        path: write(dir.path(), "plug.wasm", b),
    };
    let output = dir.path().join("app.wasm");
    let result = crate::compose::compose(&root, &[plug], &output, false, false);
    composed("compose", result, &output);
}

/// A composition is written and valid; a refused one leaves nothing behind.
fn composed<T>(what: &str, result: Result<T, crate::compose::ComposeError>, output: &Path) {
    match result {
        Ok(_) => {
            let written = std::fs::read(output).expect("a composition is written");
            // wasmparser's own verdict, on everything: weld's validation skips the modules it
            // validated as inputs.
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&written)
                .map(|_| ())
                .unwrap_or_else(|e| panic!("{what}: weld wrote an invalid composition: {e}"));
        }
        Err(e) => {
            refused(what, e.exit_code(), &e);
            assert!(
                !output.exists(),
                "{what}: a refused composition left {output:?}"
            );
        }
    }
}

/// The components a WAC script may name (`weld:arith`, `weld:words`, `weld:calc`), written once.
fn script_deps() -> &'static (tempfile::TempDir, Vec<ScriptDep>) {
    static DEPS: OnceLock<(tempfile::TempDir, Vec<ScriptDep>)> = OnceLock::new();
    DEPS.get_or_init(|| {
        let dir = scratch();
        let deps = [
            (
                "weld:arith",
                &include_bytes!("../tests/cli/check/components/arith.wasm")[..],
            ),
            (
                "weld:words",
                include_bytes!("../tests/cli/check/components/words.wasm"),
            ),
            (
                "weld:calc",
                include_bytes!("../tests/cli/check/components/app.wasm"),
            ),
            (
                "weld:kinds",
                include_bytes!("../tests/cli/check/components/wave-types.wasm"),
            ),
        ]
        .iter()
        .map(|(package, bytes)| ScriptDep {
            package: package.to_string(),
            input: Input {
                name: package.to_string(),
                path: write(dir.path(), &format!("{}.wasm", &package[5..]), bytes),
            },
        })
        .collect();
        (dir, deps)
    })
}

/// A WAC script → composed with the calc example's components, as `weld compose app.wac --dep …`.
pub fn wac(data: &[u8]) {
    let dir = scratch();
    let script = write(dir.path(), "app.wac", data);
    let output = dir.path().join("app.wasm");
    let result = crate::compose::compose_script(&script, &script_deps().1, &output, false, false);
    composed("WAC", result, &output);
}

/// A component with a function for every kind of WIT value, compiled once.
fn wave_target() -> &'static (wasmtime::Engine, wasmtime::component::Component) {
    static TARGET: OnceLock<(wasmtime::Engine, wasmtime::component::Component)> = OnceLock::new();
    TARGET.get_or_init(|| {
        let engine = wasmtime::Engine::default();
        let component = wasmtime::component::Component::new(&engine, WAVE_TYPES)
            .expect("the WAVE target component compiles");
        (engine, component)
    })
}

const WAVE_TYPES: &[u8] = include_bytes!("../tests/cli/check/components/wave-types.wasm");

/// An `--invoke` text → parsed, then its arguments typed against the export it names, as
/// `weld run --invoke` does before instantiating.
pub fn wave(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let call = match crate::run::Call::parse(text) {
        Ok(call) => call,
        Err(e) => return refused("--invoke", e.exit_code(), &*e),
    };
    let (engine, component) = wave_target();
    if let Err(e) = crate::run::typed_arguments(component, "kinds", WAVE_TYPES, engine, &call) {
        refused("--invoke", e.exit_code(), &e);
    }
}

/// A fuzz target: bytes in, a panic where weld breaks a promise.
/// A registry's manifest and config (the two halves of `data`) → the layer `weld pull` would
/// take, or why it refuses: what a hostile or broken registry can send.
pub fn oci(data: &[u8]) {
    let (manifest, config) = halves(data);
    let Ok(parsed) = serde_json::from_slice::<crate::oci::Manifest>(manifest) else {
        // Not a manifest at all: `pull` refuses it before this point, naming it.
        return;
    };
    match crate::oci::artifact::wasm_layer(&parsed, Some(config)) {
        Ok(layer) => assert!(
            parsed.layers.contains(&layer),
            "the layer taken is not one the manifest lists"
        ),
        Err(e) => refused("registry manifest", e.exit_code(), &e),
    }
}

pub type Target = fn(&[u8]);

/// Every fuzz target by name, as fuzz/fuzz_targets/ names them.
pub const TARGETS: [(&str, Target); 7] = [
    ("manifest", manifest),
    ("wit", wit),
    ("component", component),
    ("compose", compose),
    ("wac", wac),
    ("wave", wave),
    ("oci", oci),
];
