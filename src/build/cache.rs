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
