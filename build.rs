//! Embeds the WASI WIT that weld's runtime implements, taken from the wasmtime-wasi and
//! wasmtime-wasi-http crates weld links, so `weld check` judges imports against exactly what
//! `weld run` and `weld serve` provide.

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
    // which is all weld takes from it.
    let wasi_deps = dir(wasi, "src/p2/wit/deps");
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(&wasi_deps)
        .unwrap_or_else(|e| panic!("reading {wasi_deps}: {e}"))
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (format!("wasmtime-wasi-{}/{name}", wasi.version), p)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{wasi_deps} holds no .wit files");
    let http_wit = dir(http, "wit/deps/http.wit");
    assert!(http_wit.is_file(), "{http_wit} is missing");
    files.push((
        format!("wasmtime-wasi-http-{}/http.wit", http.version),
        http_wit.into_std_path_buf(),
    ));
    let mut out = format!(
        "/// The WASI WIT of wasmtime-wasi {} and wasmtime-wasi-http {}, as (file name, contents).\n\
         pub const WASI: &[(&str, &str)] = &[\n",
        wasi.version, http.version
    );
    for (name, file) in &files {
        writeln!(out, "    ({name:?}, include_str!({file:?})),").unwrap();
    }
    out.push_str("];\n");
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
}
