//! Embeds the WASI WIT that weld's runtime implements, taken from the wasmtime-wasi and
//! wasmtime-wasi-http crates weld links, so `weld check` judges imports against exactly what
//! `weld run` and `weld serve` provide; and the Go runtime package (`go.bytecodealliance.org/pkg`)
//! that wit-bindgen-go's generated code imports, from the wit-bindgen-go crate that generates
//! it, so the two always match.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=wit");
    println!("cargo::rerun-if-changed=Cargo.lock");
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        // Only the target's packages: the build already has them, so nothing is downloaded.
        .other_options(vec![
            "--filter-platform".to_string(),
            std::env::var("TARGET").expect("cargo sets TARGET"),
        ])
        .exec()
        .expect("cargo metadata describes weld's dependencies");
    let package = |name: &str| {
        metadata
            .packages
            .iter()
            .find(|p| p.name.as_str() == name)
            .unwrap_or_else(|| panic!("{name} is a dependency"))
    };
    let wasi = package("wasmtime-wasi");
    let http = package("wasmtime-wasi-http");
    let dir = |p: &cargo_metadata::Package, sub: &str| {
        p.manifest_path
            .parent()
            .expect("a manifest lives in a directory")
            .join(sub)
    };
    // wasmtime-wasi keeps the WIT of its preview 2 host in src/p2/wit/deps, bindgen! reads the
    // same files; wasmtime-wasi-http's wit/deps repeats those packages and adds wasi:http,
    // which is all weld takes from it. For WASI 0.3 each crate keeps its p3 host's WIT in
    // src/p3/wit/deps, wasi:http's beside copies of the others.
    let release = |wasi_deps: &str, http_file: &str, tag: &str| {
        let wasi_deps = dir(wasi, wasi_deps);
        let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(&wasi_deps)
            .unwrap_or_else(|e| panic!("reading {wasi_deps}: {e}"))
            .map(|entry| entry.expect("a readable entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "wit"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (format!("wasmtime-wasi-{}/{tag}{name}", wasi.version), p)
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{wasi_deps} holds no .wit files");
        let http_wit = dir(http, http_file);
        assert!(http_wit.is_file(), "{http_wit} is missing");
        files.push((
            format!("wasmtime-wasi-http-{}/{tag}http.wit", http.version),
            http_wit.into_std_path_buf(),
        ));
        files
    };
    let mut out = String::new();
    for (name, doc, files) in [
        (
            "WASI",
            format!(
                "The WASI 0.2 WIT of wasmtime-wasi {} and wasmtime-wasi-http {}",
                wasi.version, http.version
            ),
            release("src/p2/wit/deps", "wit/deps/http.wit", ""),
        ),
        (
            "WASI_P3",
            "The WASI 0.3 WIT of the same crates".to_string(),
            release("src/p3/wit/deps", "src/p3/wit/deps/http.wit", "p3/"),
        ),
    ] {
        writeln!(
            out,
            "/// {doc}, as (file name, contents).\npub const {name}: &[(&str, &str)] = &["
        )
        .unwrap();
        for (name, file) in &files {
            writeln!(out, "    ({name:?}, include_str!({file:?})),").unwrap();
        }
        out.push_str("];\n");
    }
    // The two crates are released together; name the version once when they agree.
    let source = if wasi.version == http.version {
        format!("wasmtime-wasi and wasmtime-wasi-http {}", wasi.version)
    } else {
        format!(
            "wasmtime-wasi {} and wasmtime-wasi-http {}",
            wasi.version, http.version
        )
    };
    writeln!(
        out,
        "/// Where [`WASI`] came from.\npub const SOURCE: &str = {source:?};"
    )
    .unwrap();
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("runtime_wit.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");

    let go = package("wit-bindgen-go");
    let adapter = package("wasi-preview1-component-adapter-provider");
    go_pkg(
        &go.manifest_path,
        &format!(
            "wit-bindgen-go {}, wasi-preview1-component-adapter-provider {}",
            go.version, adapter.version
        ),
    );
}

/// The Go module wit-bindgen-go's code imports. The module proxy may be out of reach, and the
/// crate carries the module's source: weld writes it beside each Go build.
fn go_pkg(manifest: &cargo_metadata::camino::Utf8Path, glue: &str) {
    let root = manifest
        .parent()
        .expect("a manifest lives in a directory")
        .join("src/pkg");
    let mut files = vec![root.join("go.mod"), root.join("LICENSE")];
    let mut dirs = vec![root.join("wit")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {dir}: {e}")) {
            let path = cargo_metadata::camino::Utf8PathBuf::try_from(entry.unwrap().path())
                .expect("a UTF-8 path");
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "go" || e == "s") {
                files.push(path);
            }
        }
    }
    files.sort();
    let go_mod = std::fs::read_to_string(root.join("go.mod")).expect("the Go module has a go.mod");
    let go_version = go_mod
        .lines()
        .find_map(|l| l.strip_prefix("go "))
        .expect("its go.mod names a Go version")
        .trim()
        .to_string();
    let mut out = String::from(
        "/// The source of `go.bytecodealliance.org/pkg`, as (path in the module, contents).\n\
         pub const GO_PKG: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under the module root");
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            relative.as_str(),
            file.as_str()
        )
        .unwrap();
    }
    out.push_str("];\n");
    writeln!(
        out,
        "/// The Go release that module's go.mod requires.\npub const GO_PKG_GO: &str = {go_version:?};"
    )
    .unwrap();
    writeln!(
        out,
        "/// The crates that generate Go components' glue (part of their build fingerprint).\npub const GO_GLUE: &str = {glue:?};"
    )
    .unwrap();
    // Also for the toolchain finder, which must not reach into the build stage for it.
    println!("cargo:rustc-env=WELD_GO_MINIMUM={go_version}");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("go_pkg.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
