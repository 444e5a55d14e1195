//! Interface names and version matching: what plugging imports into exports and knowing what
//! the runtime provides both need. A leaf of [`crate::check`].

/// An interface name split into its unversioned part and version: `weld:example/arith`, `0.1.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceName {
    /// `namespace:package/interface`.
    pub base: String,
    /// The package version, if any.
    pub version: Option<semver::Version>,
}

impl InterfaceName {
    /// Parses `ns:pkg/iface@1.2.3` (the version is optional).
    pub fn parse(name: &str) -> InterfaceName {
        match name.split_once('@') {
            Some((base, v)) => InterfaceName {
                base: base.to_string(),
                version: semver::Version::parse(v).ok(),
            },
            None => InterfaceName {
                base: name.to_string(),
                version: None,
            },
        }
    }

    /// The package part: `wasi:cli` of `wasi:cli/environment@0.2.6`.
    pub fn package(&self) -> &str {
        self.base.split('/').next().unwrap_or(&self.base)
    }
}

/// Whether an import at version `a` can be satisfied by an export at version `b` (semver: same
/// major; for 0.x the same minor; for 0.0.x the same patch). Unversioned matches unversioned.
pub fn versions_compatible(a: &Option<semver::Version>, b: &Option<semver::Version>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.major == b.major
                && (a.major > 0 || (a.minor == b.minor && (a.minor > 0 || a.patch == b.patch)))
        }
        _ => false,
    }
}
