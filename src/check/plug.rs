//! Plug compatibility: for every import of every component, who provides it, or exactly why
//! nobody does.

use wit_parser::{WorldItem, WorldKey};

use super::compat::{Difference, compare_interfaces};
use super::load::Loaded;
use super::names::{InterfaceName, versions_compatible};
use super::{Against, Code, Finding, Severity};

fn show_version(v: &Option<semver::Version>) -> String {
    v.as_ref()
        .map_or("(unversioned)".to_string(), |v| format!("@{v}"))
}

/// The interfaces a component exports, as (name, interface id, the export's full name).
fn exported_interfaces(c: &Loaded) -> Vec<(InterfaceName, wit_parser::InterfaceId, String)> {
    let world = &c.resolve.worlds[c.world];
    world
        .exports
        .iter()
        .filter_map(|(key, item)| match item {
            WorldItem::Interface { id, .. } => {
                let full = c.resolve.name_world_key(key);
                Some((InterfaceName::parse(&full), *id, full))
            }
            _ => None,
        })
        .collect()
}

/// A component in a check: its position among the inputs, root first.
pub type ComponentId = usize;

/// Who provides one import of one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// This component's export, named as it exports it, fits the import.
    Component {
        /// The exporting component.
        id: ComponentId,
        /// Its export's name (`weld:example/arith@0.1.2`).
        export: String,
    },
    /// weld's runtime (WASI 0.2).
    Runtime,
    /// An import of the composed app that a WAC script declares (`import name: pkg/iface;`):
    /// whoever runs the app provides it.
    AppImport(String),
    /// Nobody exports it.
    Nobody,
    /// Several components export it at compatible versions.
    Several(Vec<ComponentId>),
    /// Components export it, but none as the import needs (a version or a contract differs).
    Unfit(Vec<ComponentId>),
}

/// One import of one component, and who provides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The importing component.
    pub consumer: ComponentId,
    /// The import, as the consumer names it (`wasi:cli/environment@0.2.3`).
    pub import: String,
    /// Who provides it.
    pub provider: Provider,
}

/// What the plug check decides: who provides every import, which plugs nobody uses, and the
/// findings that explain both.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Every import of every component (but types), in component order.
    pub links: Vec<Link>,
    /// Plugs whose exports nobody imports.
    pub unused: Vec<ComponentId>,
    /// One finding per import, and one per unused plug.
    pub findings: Vec<Finding>,
}

/// Checks every import of every component against the exports of the others. `roots` counts how
/// many leading components are roots (whose own exports need no consumer); the rest are plugs, and
/// a plug whose exports nobody imports is reported.
pub fn check(components: &[Loaded], roots: usize) -> Checked {
    let exports: Vec<_> = components.iter().map(exported_interfaces).collect();
    let mut used = vec![false; components.len()];
    let mut findings = Vec::new();
    let mut links = Vec::new();
    for (ci, consumer) in components.iter().enumerate() {
        let world = &consumer.resolve.worlds[consumer.world];
        for (key, item) in &world.imports {
            let import = Import {
                consumer,
                interface: consumer.resolve.name_world_key(key),
            };
            let id = match item {
                WorldItem::Interface { id, .. } => *id,
                WorldItem::Function(f) => {
                    let mut x = import.finding(
                        Severity::Error,
                        Code::UnsatisfiedImport,
                        format!(
                            "`{}` imports the function `{}` directly, and plugging provides only interfaces",
                            consumer.name, f.name
                        ),
                    );
                    x.help = Some(
                        "move the function into an interface, or wire it with a WAC script".into(),
                    );
                    findings.push(x);
                    links.push(import.link(ci, Provider::Nobody));
                    continue;
                }
                WorldItem::Type { .. } => continue,
            };
            let name = match key {
                WorldKey::Interface(_) => InterfaceName::parse(&import.interface),
                WorldKey::Name(_) => InterfaceName {
                    base: import.interface.clone(),
                    version: None,
                },
            };
            let providers: Vec<Offer> = exports
                .iter()
                .enumerate()
                .filter(|(pi, _)| *pi != ci)
                .flat_map(|(pi, list)| {
                    list.iter().map(move |(n, id, full)| Offer {
                        component: pi,
                        name: n,
                        id: *id,
                        export: full,
                    })
                })
                .filter(|o| o.name.base == name.base)
                .collect();
            // A provider matched by name counts as used even when it does not fit: the error
            // about it says more than "unused" would.
            for o in &providers {
                used[o.component] = true;
            }
            let provider = if providers.is_empty() {
                import.decide_runtime(&name, id, &mut findings)
            } else {
                import.decide_components(components, &name, id, &providers, &mut findings)
            };
            links.push(import.link(ci, provider));
        }
    }
    findings.extend(cycle(components, &links));
    let mut unused = Vec::new();
    for (pi, plug) in components.iter().enumerate().skip(roots) {
        if !used[pi] {
            unused.push(pi);
            findings.push(unused_plug(plug, &exports[pi]));
        }
    }
    Checked {
        links,
        unused,
        findings,
    }
}

/// One import of one component, being decided.
struct Import<'a> {
    consumer: &'a Loaded,
    /// As the consumer names it: `wasi:cli/environment@0.2.3`.
    interface: String,
}

/// A component exporting an interface of the imported name (at any version).
struct Offer<'a> {
    component: ComponentId,
    name: &'a InterfaceName,
    id: wit_parser::InterfaceId,
    /// The export's full name.
    export: &'a str,
}

impl Import<'_> {
    fn link(&self, consumer: ComponentId, provider: Provider) -> Link {
        Link {
            consumer,
            import: self.interface.clone(),
            provider,
        }
    }

    fn finding(&self, severity: Severity, code: Code, message: String) -> Finding {
        Finding {
            location: None,
            severity,
            code,
            against: Against::Components,
            consumer: self.consumer.name.clone(),
            provider: None,
            interface: self.interface.clone(),
            item: None,
            expected: None,
            found: None,
            message,
            help: None,
        }
    }

    /// No component exports it: the runtime, if it provides the interface as imported; else
    /// nobody.
    fn decide_runtime(
        &self,
        name: &InterfaceName,
        id: wit_parser::InterfaceId,
        findings: &mut Vec<Finding>,
    ) -> Provider {
        let (consumer, interface) = (self.consumer, &self.interface);
        let iface = &consumer.resolve.interfaces[id];
        let types_only = iface.functions.is_empty()
            && iface.types.values().all(|t| {
                !matches!(
                    consumer.resolve.types[*t].kind,
                    wit_parser::TypeDefKind::Resource
                )
            });
        if types_only {
            // An interface of plain types (a registry package's shared records, say) has nothing
            // to link: wasmtime instantiates its import with no definition, and so does the app.
            findings.push(self.finding(
                Severity::Info,
                Code::RuntimeProvided,
                format!(
                    "`{}` imports {interface}: only types, which need no provider",
                    consumer.name
                ),
            ));
            return Provider::Runtime;
        }
        let runtime = super::runtime::runtime();
        if let Some(rid) = runtime.provides(name) {
            let diffs = compare_interfaces((&consumer.resolve, id), (&runtime.resolve, rid));
            if diffs.is_empty() {
                findings.push(self.finding(
                    Severity::Info,
                    Code::RuntimeProvided,
                    format!(
                        "`{}` imports {interface}: provided by weld's runtime (WASI 0.2)",
                        consumer.name
                    ),
                ));
                return Provider::Runtime;
            }
            findings.extend(
                diffs
                    .into_iter()
                    .map(|d| unfit_for_runtime(consumer, interface, d)),
            );
            return Provider::Nobody;
        }
        let mut x = self.finding(
            Severity::Error,
            Code::UnsatisfiedImport,
            format!(
                "`{}` imports {interface}, but no component exports it",
                consumer.name
            ),
        );
        x.help = Some(if name.base.starts_with("wasi:") {
            format!(
                "weld's runtime provides WASI {}; plug a component that exports {interface}",
                runtime.summary()
            )
        } else {
            format!(
                "plug a component that exports {} (`--plug FILE.wasm`, or add it to [compose] plugs)",
                name.base
            )
        });
        findings.push(x);
        Provider::Nobody
    }

    /// Components export the interface: exactly one at a compatible version, with the same
    /// contract, provides it.
    fn decide_components(
        &self,
        components: &[Loaded],
        name: &InterfaceName,
        id: wit_parser::InterfaceId,
        providers: &[Offer],
        findings: &mut Vec<Finding>,
    ) -> Provider {
        let (consumer, interface) = (self.consumer, &self.interface);
        let compatible: Vec<&Offer> = providers
            .iter()
            .filter(|o| versions_compatible(&name.version, &o.name.version))
            .collect();
        match compatible.as_slice() {
            [] => {
                let offered: Vec<String> = providers
                    .iter()
                    .map(|o| {
                        format!(
                            "`{}` exports {}",
                            components[o.component].name,
                            show_version(&o.name.version)
                        )
                    })
                    .collect();
                let mut x = self.finding(
                    Severity::Error,
                    Code::IncompatibleVersion,
                    format!(
                        "`{}` imports {interface}, but {}: not semver-compatible",
                        consumer.name,
                        offered.join(", ")
                    ),
                );
                x.provider = Some(components[providers[0].component].name.clone());
                x.expected = Some(show_version(&name.version));
                x.found = Some(show_version(&providers[0].name.version));
                x.help = Some("versions are compatible within one major version (for 0.x, within one minor version): rebuild one side against the other's WIT".into());
                findings.push(x);
                Provider::Unfit(providers.iter().map(|o| o.component).collect())
            }
            [offer] => {
                let provider = &components[offer.component];
                let diffs =
                    compare_interfaces((&consumer.resolve, id), (&provider.resolve, offer.id));
                if !diffs.is_empty() {
                    findings.extend(
                        diffs
                            .into_iter()
                            .map(|d| incompatible(consumer, provider, interface, d)),
                    );
                    return Provider::Unfit(vec![offer.component]);
                }
                let mut x = self.finding(
                    Severity::Info,
                    Code::Satisfied,
                    format!(
                        "`{}` imports {interface} from `{}` (exports {})",
                        consumer.name,
                        provider.name,
                        show_version(&offer.name.version)
                    ),
                );
                x.provider = Some(provider.name.clone());
                findings.push(x);
                Provider::Component {
                    id: offer.component,
                    export: offer.export.to_string(),
                }
            }
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|o| format!("`{}`", components[o.component].name))
                    .collect();
                let mut x = self.finding(
                    Severity::Error,
                    Code::AmbiguousProvider,
                    format!(
                        "`{}` imports {interface}, which {} {} export",
                        consumer.name,
                        names.join(", "),
                        if names.len() == 2 { "both" } else { "all" }
                    ),
                );
                x.provider = Some(names.join(", ").replace('`', ""));
                x.help = Some(
                    "plug only one of them, or choose with a WAC script (`weld compose app.wac`)"
                        .into(),
                );
                findings.push(x);
                Provider::Several(many.iter().map(|o| o.component).collect())
            }
        }
    }
}

/// A plug nobody imports from.
fn unused_plug(
    plug: &Loaded,
    exports: &[(InterfaceName, wit_parser::InterfaceId, String)],
) -> Finding {
    let exported: Vec<String> = exports
        .iter()
        .map(|(n, _, _)| {
            format!(
                "{}{}",
                n.base,
                n.version
                    .as_ref()
                    .map(|v| format!("@{v}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    Finding {
        location: None,
        severity: Severity::Warning,
        code: Code::UnusedPlug,
        against: Against::Components,
        consumer: String::new(),
        provider: Some(plug.name.clone()),
        interface: exported.join(", "),
        item: None,
        expected: None,
        found: None,
        message: format!(
            "plug `{}` provides nothing that another component imports (it exports {})",
            plug.name,
            if exported.is_empty() {
                "no interfaces".to_string()
            } else {
                exported.join(", ")
            }
        ),
        help: Some(
            "remove it, or check that the component importing it was built against the same WIT"
                .into(),
        ),
    }
}

/// A cycle of components each importing from the next (A from B, B from A), as one finding: a
/// composition instantiates a provider before its consumer, so around a cycle it cannot start.
fn cycle(components: &[Loaded], links: &[Link]) -> Option<Finding> {
    // For each consumer, its providers and what it imports from each.
    let mut edges: Vec<Vec<(ComponentId, &str)>> = vec![Vec::new(); components.len()];
    for link in links {
        if let Provider::Component { id, .. } = &link.provider {
            edges[link.consumer].push((*id, &link.import));
        }
    }
    // Depth-first; `stack` is the path being explored, each step with the import it follows.
    let mut done = vec![false; components.len()];
    for start in 0..components.len() {
        let mut stack: Vec<(ComponentId, usize)> = vec![(start, 0)];
        while let Some(&mut (at, ref mut next)) = stack.last_mut() {
            let Some(&(to, _)) = edges[at].get(*next) else {
                done[at] = true;
                stack.pop();
                continue;
            };
            *next += 1;
            if let Some(from) = stack.iter().position(|(c, _)| *c == to) {
                // Each step on the cycle: a component and the import it takes from the next.
                let steps: Vec<(ComponentId, &str)> = stack[from..]
                    .iter()
                    .map(|&(c, n)| (c, edges[c][n - 1].1))
                    .collect();
                return Some(cycle_finding(components, &steps));
            }
            if !done[to] {
                stack.push((to, 0));
            }
        }
    }
    None
}

fn cycle_finding(components: &[Loaded], steps: &[(ComponentId, &str)]) -> Finding {
    let name = |id: ComponentId| components[id].name.as_str();
    let mut around: Vec<String> = steps
        .iter()
        .map(|(c, _)| format!("`{}`", name(*c)))
        .collect();
    around.push(format!("`{}`", name(steps[0].0)));
    let imports: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, (c, import))| {
            let next = steps[(i + 1) % steps.len()].0;
            format!("`{}` imports {import} from `{}`", name(*c), name(next))
        })
        .collect();
    Finding {
        location: None,
        severity: Severity::Error,
        code: Code::PlugCycle,
        against: Against::Components,
        consumer: name(steps[0].0).to_string(),
        provider: Some(name(steps[1 % steps.len()].0).to_string()),
        interface: steps[0].1.to_string(),
        item: None,
        expected: None,
        found: None,
        message: format!(
            "the plugs import from each other in a cycle, {}: {}",
            around.join(" -> "),
            imports.join(", ")
        ),
        help: Some(
            "a component is instantiated after the ones it imports from, so a cycle cannot start: move what they share into a component of its own"
                .into(),
        ),
    }
}

fn incompatible(consumer: &Loaded, provider: &Loaded, interface: &str, d: Difference) -> Finding {
    let message = match d.code {
        Code::MissingFunction | Code::MissingType => format!(
            "`{}` exports {interface}, but without {}, which `{}` needs",
            provider.name, d.item, consumer.name
        ),
        _ => format!(
            "`{}` exports {interface}, but not as `{}` imports it: {}: {}",
            provider.name, consumer.name, d.item, d.what
        ),
    };
    Finding {
        location: None,
        severity: Severity::Error,
        code: d.code,
        against: Against::Components,
        consumer: consumer.name.clone(),
        provider: Some(provider.name.clone()),
        interface: interface.to_string(),
        help: Some(format!(
            "build `{}` and `{}` against the same WIT for {interface}",
            consumer.name, provider.name
        )),
        item: Some(d.item),
        expected: Some(d.expected),
        found: Some(d.found),
        message,
    }
}

/// An import the runtime provides by name, but not as the consumer needs it: the component was
/// built against WASI WIT that wasmtime-wasi does not implement.
fn unfit_for_runtime(consumer: &Loaded, interface: &str, d: Difference) -> Finding {
    let runtime = super::runtime::runtime();
    let message = match d.code {
        Code::MissingFunction | Code::MissingType => format!(
            "`{}` imports {interface} and needs {}, which weld's runtime ({}) does not provide",
            consumer.name,
            d.item,
            runtime.source()
        ),
        _ => format!(
            "`{}` imports {interface}, but weld's runtime ({}) does not provide it as imported: {}: {}",
            consumer.name,
            runtime.source(),
            d.item,
            d.what
        ),
    };
    Finding {
        location: None,
        severity: Severity::Error,
        code: d.code,
        against: Against::Runtime,
        consumer: consumer.name.clone(),
        provider: Some("weld's runtime".into()),
        interface: interface.to_string(),
        help: Some(format!(
            "build `{}` against the WASI WIT weld's runtime implements, WASI {}; or plug a component that exports {interface}",
            consumer.name,
            runtime.summary()
        )),
        item: Some(d.item),
        expected: Some(d.expected),
        found: Some(d.found),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<semver::Version> {
        Some(semver::Version::parse(s).unwrap())
    }

    #[test]
    fn semver_compatibility() {
        assert!(versions_compatible(&v("0.2.0"), &v("0.2.1")));
        assert!(versions_compatible(&v("0.2.6"), &v("0.2.12")));
        assert!(!versions_compatible(&v("0.2.0"), &v("0.3.0")));
        assert!(versions_compatible(&v("1.0.0"), &v("1.4.2")));
        assert!(!versions_compatible(&v("1.0.0"), &v("2.0.0")));
        assert!(!versions_compatible(&v("0.0.1"), &v("0.0.2")));
        assert!(versions_compatible(&None, &None));
        assert!(!versions_compatible(&v("1.0.0"), &None));
    }

    #[test]
    fn runtime_provides_wasi_0_2_and_0_3_imports_only() {
        assert!(InterfaceName::parse("wasi:cli/environment@0.2.6").runtime_provided());
        assert!(InterfaceName::parse("wasi:io/streams@0.2.12").runtime_provided());
        assert!(InterfaceName::parse("wasi:http/types@0.2.0").runtime_provided());
        assert!(!InterfaceName::parse("wasi:http/incoming-handler@0.2.0").runtime_provided());
        assert!(InterfaceName::parse("wasi:cli/environment@0.3.0").runtime_provided());
        assert!(!InterfaceName::parse("wasi:http/handler@0.3.0").runtime_provided());
        assert!(!InterfaceName::parse("wasi:cli/environment@0.4.0").runtime_provided());
        assert!(!InterfaceName::parse("weld:example/arith@0.1.0").runtime_provided());
    }
}
