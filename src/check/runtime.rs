//! The runtime's contract: the WASI interfaces weld's runtime gives a guest, read from weld's own
//! wit/runtime.wit and the WASI WIT of the wasmtime-wasi crate weld links (embedded by build.rs).
//! `weld check` judges an import the runtime provides against this WIT, so a component that
//! needs a WASI function wasmtime-wasi lacks is refused by check, not at link time.

use std::sync::OnceLock;

use wit_parser::{InterfaceId, Resolve, UnresolvedPackageGroup, WorldId, WorldItem};

use super::names::{InterfaceName, versions_compatible};

impl InterfaceName {
    /// Whether weld's runtime provides this interface (wit/runtime.wit's `run` world).
    pub fn runtime_provided(&self) -> bool {
        runtime().provides(self).is_some()
    }
}

/// weld's own contract for `weld run`.
const RUN_WIT: &str = include_str!("../../wit/runtime.wit");

/// The parsed runtime contract.
pub struct Runtime {
    /// wit/runtime.wit and the WASI packages it includes.
    pub resolve: Resolve,
    /// `weld:runtime/run`.
    pub world: WorldId,
    /// Every interface the `run` world imports, by name and version.
    interfaces: Vec<(InterfaceName, InterfaceId)>,
}

/// The runtime contract, parsed once per process (about a millisecond).
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        // The WIT is fixed when weld is built, and a unit test parses it: failing here is a
        // defect in weld's build, never something a user's input can cause.
        parse().expect("the runtime WIT embedded at build time resolves")
    })
}

fn parse() -> anyhow::Result<Runtime> {
    let group = |path: &str, text: &str| -> anyhow::Result<UnresolvedPackageGroup> {
        let mut map = wit_parser::SourceMap::default();
        map.push_str(path, text);
        map.parse().map_err(|(_, e)| anyhow::anyhow!("{path}: {e}"))
    };
    let main = group("wit/runtime.wit", RUN_WIT)?;
    let deps = crate::wit::RUNTIME_WASI
        .iter()
        .chain(crate::wit::RUNTIME_WASI_P3)
        .map(|(path, text)| group(path, text))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut resolve = Resolve::default();
    let pkg = resolve.push_groups(main, deps)?;
    let world = resolve.select_world(&[pkg], Some("run"))?;
    let interfaces = resolve.worlds[world]
        .imports
        .values()
        .filter_map(|item| match item {
            WorldItem::Interface { id, .. } => {
                let name = resolve.id_of(*id)?;
                Some((InterfaceName::parse(&name), *id))
            }
            _ => None,
        })
        .collect();
    Ok(Runtime {
        resolve,
        world,
        interfaces,
    })
}

impl Runtime {
    /// The runtime's interface for an import of `name`, if it provides one. wasmtime's linker
    /// serves an import from any semver-compatible version (`wasi:io/streams@0.2.0` from
    /// 0.2.12), so this matches the same way.
    pub fn provides(&self, name: &InterfaceName) -> Option<InterfaceId> {
        self.interfaces
            .iter()
            .find(|(n, _)| n.base == name.base && versions_compatible(&name.version, &n.version))
            .map(|(_, id)| *id)
    }

    /// The WASI packages provided, as people name them: `wasi:cli@0.2.12, wasi:clocks@0.2.12, …`.
    pub fn packages(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .interfaces
            .iter()
            .map(|(n, _)| match &n.version {
                Some(v) => format!("{}@{v}", n.package()),
                None => n.package().to_string(),
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The WASI provided, by release: `0.2.12 (wasi:cli, wasi:clocks, …) and 0.3.0 (wasi:cli, …)`.
    pub fn summary(&self) -> String {
        let mut releases: Vec<(String, Vec<String>)> = Vec::new();
        for package in self.packages() {
            let (name, version) = package.split_once('@').unwrap_or((&package, ""));
            match releases.iter_mut().find(|(v, _)| v == version) {
                Some((_, names)) => names.push(name.to_string()),
                None => releases.push((version.to_string(), vec![name.to_string()])),
            }
        }
        releases.sort();
        releases
            .iter()
            .map(|(version, names)| format!("{version} ({})", names.join(", ")))
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// Where the WASI WIT came from: `wasmtime-wasi and wasmtime-wasi-http 48.0.8`.
    pub fn source(&self) -> &'static str {
        crate::wit::RUNTIME_WASI_SOURCE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_wit_resolves_to_wasi_0_2_and_0_3() {
        let rt = parse().expect("resolves");
        let packages = rt.packages();
        for pkg in [
            "wasi:cli",
            "wasi:clocks",
            "wasi:filesystem",
            "wasi:io",
            "wasi:random",
            "wasi:sockets",
            "wasi:http",
        ] {
            assert!(
                packages
                    .iter()
                    .any(|p| p.starts_with(&format!("{pkg}@0.2."))),
                "{pkg} missing from {packages:?}"
            );
        }
        assert!(
            rt.summary().starts_with("0.2.12 (wasi:cli, wasi:clocks, "),
            "{}",
            rt.summary()
        );
        assert!(
            rt.summary().contains(") and 0.3.0 (wasi:cli, "),
            "{}",
            rt.summary()
        );
        // 0.3 folds wasi:io into the component model's streams and futures.
        for pkg in [
            "wasi:cli",
            "wasi:clocks",
            "wasi:filesystem",
            "wasi:random",
            "wasi:sockets",
            "wasi:http",
        ] {
            assert!(
                packages.contains(&format!("{pkg}@0.3.0")),
                "{pkg}@0.3.0 missing from {packages:?}"
            );
        }
    }

    #[test]
    fn provides_by_interface_and_compatible_version() {
        let provided = |name: &str| runtime().provides(&InterfaceName::parse(name)).is_some();
        // A newer 0.2 patch than wasmtime-wasi implements still links (semver-compatible).
        for name in [
            "wasi:cli/environment@0.2.0",
            "wasi:io/streams@0.2.3",
            "wasi:io/streams@0.2.99",
            "wasi:http/types@0.2.0",
            "wasi:http/outgoing-handler@0.2.4",
            "wasi:cli/environment@0.3.0",
            "wasi:http/types@0.3.0",
            "wasi:http/client@0.3.0",
        ] {
            assert!(provided(name), "{name} should be provided");
        }
        // `run`, `incoming-handler` and `handler` are what an app exports, not something the runtime
        // gives it.
        for name in [
            "wasi:cli/environment@0.4.0",
            "wasi:cli/no-such-thing@0.2.0",
            "wasi:cli/run@0.2.0",
            "wasi:http/incoming-handler@0.2.0",
            "wasi:cli/run@0.3.0",
            "wasi:http/handler@0.3.0",
        ] {
            assert!(!provided(name), "{name} should not be provided");
        }
    }
}
