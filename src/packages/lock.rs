//! weld.lock: each registry package a project's WIT uses, pinned to a version and the digest of
//! its bytes. The schema is wkg.lock's (version 1), so the two tools' locks can be compared line
//! for line and either read by the other's users.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The lock file's name, beside weld.toml.
pub const FILE: &str = "weld.lock";

const HEADER: &str = "# Written by weld: the registry WIT packages this project uses, each pinned to a version\n\
                      # and the sha256 of its bytes. `weld wit update` moves it; the format is wkg.lock's.\n";

/// The whole lock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// Always 1.
    pub version: u64,
    /// By package name, then registry.
    #[serde(default, alias = "package", skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<LockedPackage>,
}

/// One package, at every requirement the project asks it at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedPackage {
    /// `namespace:name`.
    pub name: String,
    /// The registry it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// What each requirement resolved to.
    #[serde(default, alias = "version", skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<LockedVersion>,
}

/// A requirement and what it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedVersion {
    /// As weld.toml or the WIT gives it (`=1.2.0`, `^1.2`, `*`).
    pub requirement: String,
    /// The version chosen.
    pub version: String,
    /// `sha256:HEX` of the package's bytes (the OCI layer).
    pub digest: String,
}

/// A pin: what one (package, requirement) resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The registry.
    pub registry: String,
    /// The version.
    pub version: semver::Version,
    /// `sha256:HEX`.
    pub digest: String,
}

impl Lock {
    /// Reads `path`; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> Result<Option<Lock>, String> {
        let text = match crate::fsutil::read_text(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read it: {e}")),
        };
        let lock: Lock = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    let column = s.start - text[..s.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!(" at line {line}, column {column}")
                })
                .unwrap_or_default();
            format!("it does not parse{at}: {}", e.message())
        })?;
        if lock.version != 1 {
            return Err(format!(
                "it is lock format version {}; this weld reads version 1",
                lock.version
            ));
        }
        Ok(Some(lock))
    }

    /// The lock holding `pins`, keyed by (package, requirement), in a stable order.
    pub fn from_pins(pins: &BTreeMap<(String, String), Pin>) -> Lock {
        let mut packages: BTreeMap<(String, String), LockedPackage> = BTreeMap::new();
        for ((name, requirement), pin) in pins {
            packages
                .entry((name.clone(), pin.registry.clone()))
                .or_insert_with(|| LockedPackage {
                    name: name.clone(),
                    registry: Some(pin.registry.clone()),
                    versions: Vec::new(),
                })
                .versions
                .push(LockedVersion {
                    requirement: requirement.clone(),
                    version: pin.version.to_string(),
                    digest: pin.digest.clone(),
                });
        }
        Lock {
            version: 1,
            packages: packages.into_values().collect(),
        }
    }

    /// Every pin the lock holds, keyed by (package, requirement). Entries whose version does
    /// not parse are left out: they are resolved again, as if absent.
    pub fn pins(&self) -> BTreeMap<(String, String), Pin> {
        let mut pins = BTreeMap::new();
        for package in &self.packages {
            for v in &package.versions {
                let Ok(version) = semver::Version::parse(&v.version) else {
                    continue;
                };
                pins.insert(
                    (package.name.clone(), v.requirement.clone()),
                    Pin {
                        registry: package.registry.clone().unwrap_or_default(),
                        version,
                        digest: v.digest.clone(),
                    },
                );
            }
        }
        pins
    }

    /// The lock as written to disk.
    pub fn text(&self) -> String {
        format!(
            "{HEADER}{}",
            toml::to_string_pretty(self).expect("the lock serialises")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_round_trip_through_the_text() {
        let mut pins = BTreeMap::new();
        for (name, req, version) in [
            ("acme:billing", "=1.2.0", "1.2.0"),
            ("acme:billing", "^1", "1.4.1"),
            ("wasi:keyvalue", "=0.2.0-draft", "0.2.0-draft"),
        ] {
            pins.insert(
                (name.to_string(), req.to_string()),
                Pin {
                    registry: "127.0.0.1:5000".into(),
                    version: semver::Version::parse(version).unwrap(),
                    digest: format!("sha256:{}", "ab".repeat(32)),
                },
            );
        }
        let lock = Lock::from_pins(&pins);
        assert_eq!(lock.packages.len(), 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(&path, lock.text()).unwrap();
        let read = Lock::read(&path).unwrap().unwrap();
        assert_eq!(read, lock);
        assert_eq!(read.pins(), pins);
    }

    #[test]
    fn a_broken_lock_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(&path, "version = 1\n[[packages]\nname = 1\n").unwrap();
        let e = Lock::read(&path).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        std::fs::write(&path, "version = 2\n").unwrap();
        assert!(Lock::read(&path).unwrap_err().contains("version 2"));
        assert_eq!(Lock::read(&dir.path().join("none")).unwrap(), None);
    }
}
