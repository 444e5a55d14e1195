//! Embeds the WASI WIT that weld's runtime implements, taken from the wasmtime-wasi crate weld
//! links, so `weld check` judges imports against exactly what `weld run` provides.

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
    let wasi = metadata
        .packages
        .iter()
        .find(|p| p.name.as_str() == "wasmtime-wasi")
        .expect("wasmtime-wasi is a dependency");
    // wasmtime-wasi keeps the WIT of its preview 2 host here; bindgen! reads the same files.
    let deps = wasi
        .manifest_path
        .parent()
        .expect("a manifest lives in a directory")
        .join("src/p2/wit/deps");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&deps)
        .unwrap_or_else(|e| panic!("reading {deps}: {e}"))
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{deps} holds no .wit files");
    let mut out = format!(
        "/// The WASI WIT of wasmtime-wasi {}, as (file name, contents).\n\
         pub const WASI: &[(&str, &str)] = &[\n",
        wasi.version
    );
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            format!("wasmtime-wasi-{}/{name}", wasi.version),
            file
        )
        .unwrap();
    }
    out.push_str("];\n");
    writeln!(
        out,
        "/// Where [`WASI`] came from.\npub const SOURCE: &str = \"wasmtime-wasi {}\";",
        wasi.version
    )
    .unwrap();
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("runtime_wit.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
