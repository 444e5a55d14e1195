//! The build cache: a component is rebuilt only when a fingerprint of its inputs changes.
//!
//! The fingerprint covers the source files (walked, sorted, each path and content hashed), the
//! WIT directory, the toolchain's version, the build options and weld's own version. A record of
//! the last good build sits beside the outputs; it also remembers the output's size and
//! modification time, so a replaced or deleted output is rebuilt too.

use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a component's build depends on.
pub(crate) struct Inputs<'a> {
    /// Files or directories whose contents matter.
    pub paths: Vec<&'a Path>,
    /// Directories that are outputs, never inputs (the project's target directory).
    pub exclude: Vec<&'a Path>,
    /// Everything else: language, toolchain version, options.
    pub settings: Vec<(&'static str, String)>,
}

/// Hashes the inputs into a hex digest; an error names the file that could not be read.
pub(crate) fn fingerprint(inputs: &Inputs) -> Result<String, String> {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    for (key, value) in &inputs.settings {
        hasher.update([0]);
        hasher.update(key);
        hasher.update([0]);
        hasher.update(value);
    }
    for root in &inputs.paths {
        let files = if root.is_dir() {
            super::sources::files(root, &inputs.exclude).map_err(|e| e.to_string())?
        } else {
            vec![root.to_path_buf()]
        };
        hasher.update([1]);
        hasher.update(root.to_string_lossy().as_bytes());
        for file in files {
            let rel = file.strip_prefix(root).unwrap_or(&file);
            hasher.update([2]);
            hasher.update(rel.to_string_lossy().as_bytes());
            hasher.update([0]);
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            hasher.update(bytes);
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// The record of a component's last good build.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Record {
    pub fingerprint: String,
    pub output_len: u64,
    pub output_mtime_ns: u128,
    /// Remembered for the size report, so a no-op build need not read the output.
    #[serde(default)]
    pub largest_module: Option<u64>,
}

impl Record {
    /// A record for the output file described by `meta`.
    pub fn of(fingerprint: String, meta: &std::fs::Metadata) -> Record {
        Record {
            fingerprint,
            output_len: meta.len(),
            output_mtime_ns: mtime_ns(meta),
            largest_module: None,
        }
    }

    /// Whether `output` is still the file this record describes, built from `fingerprint`.
    pub fn is_fresh(&self, fingerprint: &str, output: &Path) -> bool {
        self.fingerprint == fingerprint
            && std::fs::metadata(output)
                .is_ok_and(|m| m.len() == self.output_len && mtime_ns(&m) == self.output_mtime_ns)
    }
}

fn mtime_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// Where a component's record lives.
pub(crate) fn record_path(target_dir: &Path, component: &str) -> PathBuf {
    target_dir.join(".cache").join(format!("{component}.json"))
}

/// The stored record, if there is a readable one.
pub(crate) fn load(path: &Path) -> Option<Record> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Stores a record atomically.
pub(crate) fn store(path: &Path, record: &Record) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(record).expect("a record serializes");
    crate::fsutil::write_atomic(path, &json).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_follows_content_not_noise() {
        let dir = std::env::temp_dir().join(format!("weld-cache-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("target")).unwrap();
        std::fs::write(dir.join("src/a.py"), "x = 1").unwrap();
        let fp = |settings: Vec<(&'static str, String)>| {
            fingerprint(&Inputs {
                paths: vec![&dir],
                exclude: Vec::new(),
                settings,
            })
            .unwrap()
        };
        let first = fp(vec![("lang", "python".into())]);
        std::fs::write(dir.join("target/out.wasm"), "build output").unwrap();
        assert_eq!(
            first,
            fp(vec![("lang", "python".into())]),
            "target/ is not a source"
        );
        assert_ne!(first, fp(vec![("lang", "js".into())]), "settings count");
        std::fs::write(dir.join("src/a.py"), "x = 2").unwrap();
        assert_ne!(first, fp(vec![("lang", "python".into())]), "content counts");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
