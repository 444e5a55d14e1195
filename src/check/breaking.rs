//! Breaking changes between two versions of a WIT package, in plain words, and whether the
//! version bump between them allows them (semver: a breaking change needs a new major version,
//! or for 0.x a new minor version).

use serde::Serialize;
use wit_parser::{InterfaceId, PackageId, Resolve, WorldId, WorldItem};

use super::Code;
use super::compat::compare_interfaces;
use super::names::InterfaceName;

/// One difference between the old and the new package.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Whether code written against the old version can break.
    pub breaking: bool,
    /// What changed, e.g. `interface `arith`, function `divide``.
    pub item: String,
    /// The change in plain words.
    pub message: String,
    /// The old definition, as WIT.
    pub old: Option<String>,
    /// The new definition, as WIT.
    pub new: Option<String>,
}

fn change(breaking: bool, item: String, message: String) -> Change {
    Change {
        breaking,
        item,
        message,
        old: None,
        new: None,
    }
}

/// Lists the changes from `old` to `new`: breaking ones first, in declaration order.
pub fn diff(old: (&Resolve, PackageId), new: (&Resolve, PackageId)) -> Vec<Change> {
    let (or, op) = (old.0, &old.0.packages[old.1]);
    let (nr, np) = (new.0, &new.0.packages[new.1]);
    let mut changes = Vec::new();

    for (name, &oid) in &op.interfaces {
        let item = format!("interface `{name}`");
        match np.interfaces.get(name) {
            Some(&nid) => changes.extend(interface_changes(&item, (or, oid), (nr, nid))),
            None => changes.push(change(
                true,
                item.to_string(),
                format!("{item} was removed"),
            )),
        }
    }
    for name in np
        .interfaces
        .keys()
        .filter(|n| !op.interfaces.contains_key(*n))
    {
        changes.push(change(
            false,
            format!("interface `{name}`"),
            format!("interface `{name}` was added"),
        ));
    }

    for (name, &ow) in &op.worlds {
        let item = format!("world `{name}`");
        match np.worlds.get(name) {
            Some(&nw) => changes.extend(world_changes(&item, (or, ow), (nr, nw))),
            None => changes.push(change(
                true,
                item.to_string(),
                format!("{item} was removed"),
            )),
        }
    }
    for name in np.worlds.keys().filter(|n| !op.worlds.contains_key(*n)) {
        changes.push(change(
            false,
            format!("world `{name}`"),
            format!("world `{name}` was added"),
        ));
    }
    changes.sort_by_key(|c| !c.breaking);
    changes
}

/// What changed inside an interface that both versions have.
fn interface_changes(
    item: &str,
    (or, oid): (&Resolve, InterfaceId),
    (nr, nid): (&Resolve, InterfaceId),
) -> Vec<Change> {
    let mut changes = Vec::new();
    for d in compare_interfaces((or, oid), (nr, nid)) {
        let mut c = match d.code {
            Code::MissingFunction | Code::MissingType => change(
                true,
                format!("{item}, {}", d.item),
                format!("{} was removed from {item}", d.item),
            ),
            _ => {
                // compat speaks from the old side's needs; here it is history.
                let mut c = change(
                    true,
                    format!("{item}, {}", d.item),
                    format!("{} changed in {item}: {}", d.item, d.what.as_change()),
                );
                c.new = Some(d.found);
                c
            }
        };
        c.old = Some(d.expected);
        changes.push(c);
    }
    for d in compare_interfaces((nr, nid), (or, oid)) {
        if matches!(d.code, Code::MissingFunction | Code::MissingType) {
            let mut c = change(
                false,
                format!("{item}, {}", d.item),
                format!("{} was added to {item}", d.item),
            );
            c.new = Some(d.expected);
            changes.push(c);
        }
    }
    changes
}

/// What a world that both versions have exports and imports now.
fn world_changes(
    item: &str,
    (or, ow): (&Resolve, WorldId),
    (nr, nw): (&Resolve, WorldId),
) -> Vec<Change> {
    let mut changes = Vec::new();
    let items =
        |r: &Resolve, map: &wit_parser::IndexMap<wit_parser::WorldKey, WorldItem>| -> Vec<String> {
            map.iter()
                .filter(|(_, i)| !matches!(i, WorldItem::Type { .. }))
                .map(|(k, _)| InterfaceName::parse(&r.name_world_key(k)).base)
                .collect()
        };
    let (ow, nw) = (&or.worlds[ow], &nr.worlds[nw]);
    let (oi, ni) = (items(or, &ow.imports), items(nr, &nw.imports));
    let (oe, ne) = (items(or, &ow.exports), items(nr, &nw.exports));
    for e in oe.iter().filter(|e| !ne.contains(e)) {
        changes.push(change(
            true,
            item.to_string(),
            format!("{item} no longer exports {e}: its users lose it"),
        ));
    }
    for i in ni.iter().filter(|i| !oi.contains(i)) {
        changes.push(change(
            true,
            item.to_string(),
            format!("{item} now imports {i}: whoever hosts it must provide it"),
        ));
    }
    for e in ne.iter().filter(|e| !oe.contains(e)) {
        changes.push(change(
            false,
            item.to_string(),
            format!("{item} now also exports {e}"),
        ));
    }
    for i in oi.iter().filter(|i| !ni.contains(i)) {
        changes.push(change(
            false,
            item.to_string(),
            format!("{item} no longer imports {i}"),
        ));
    }
    changes
}

/// What a version bump allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bump {
    /// A new major version (or new minor for 0.x, new patch for 0.0.x): anything may change.
    Breaking,
    /// A semver-compatible bump: only additions.
    Compatible,
    /// The same version: nothing may change.
    None,
    /// The new version is lower than the old one.
    Backwards,
}

/// Classifies the bump from `old` to `new`.
pub fn bump(old: &semver::Version, new: &semver::Version) -> Bump {
    if new < old {
        Bump::Backwards
    } else if new == old {
        Bump::None
    } else if super::names::versions_compatible(&Some(old.clone()), &Some(new.clone())) {
        Bump::Compatible
    } else {
        Bump::Breaking
    }
}

/// Whether a new version of a package may be published as it is, and why: the version bump
/// against the changes (`breaking` of them breaking, `changes` in all).
pub fn verdict(bump: Option<Bump>, breaking: usize, changes: usize) -> (bool, String) {
    match (bump, breaking, changes) {
        // A version that goes backwards is wrong whatever changed.
        (Some(Bump::Backwards), _, _) => (
            false,
            "the new version is lower than the old one".to_string(),
        ),
        (_, _, 0) => (true, "no changes".to_string()),
        (Some(Bump::None), _, _) => (
            false,
            "the package changed but its version did not: bump it".to_string(),
        ),
        (Some(Bump::Breaking), _, _) => {
            (true, "the version bump allows breaking changes".to_string())
        }
        (Some(Bump::Compatible), 0, _) => (
            true,
            "only compatible changes, and a compatible version bump".to_string(),
        ),
        (Some(Bump::Compatible), n, _) => (
            false,
            format!(
                "{n} breaking change{} need a new major version (for 0.x, a new minor version)",
                if n == 1 { "" } else { "s" }
            ),
        ),
        (None, 0, _) => (
            true,
            "only compatible changes (the package has no version)".to_string(),
        ),
        (None, _, _) => (
            false,
            "breaking changes in a package without a version: give it one".to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_going_backwards_is_refused_even_without_changes() {
        assert!(!verdict(Some(Bump::Backwards), 0, 0).0);
        assert!(verdict(None, 0, 0).0);
        assert!(!verdict(Some(Bump::None), 0, 1).0);
    }

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn bumps() {
        assert_eq!(bump(&v("0.1.0"), &v("0.2.0")), Bump::Breaking);
        assert_eq!(bump(&v("0.1.0"), &v("0.1.1")), Bump::Compatible);
        assert_eq!(bump(&v("1.2.0"), &v("1.3.0")), Bump::Compatible);
        assert_eq!(bump(&v("1.2.0"), &v("2.0.0")), Bump::Breaking);
        assert_eq!(bump(&v("1.2.0"), &v("1.2.0")), Bump::None);
        assert_eq!(bump(&v("1.2.0"), &v("1.1.0")), Bump::Backwards);
    }
}
