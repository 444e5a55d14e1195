//! Target world: does a component implement the world it claims? It must export everything the
//! world exports, with the same contracts, and import nothing the world does not allow (besides
//! the WASI 0.2 interfaces weld's runtime provides).
//!
//! In these findings `expected` is always the world's side and `found` the component's.

use wit_parser::{Resolve, WorldId, WorldItem};

use super::compat::{Difference, compare_functions, compare_interfaces};
use super::load::Loaded;
use super::names::{InterfaceName, versions_compatible};
use super::{Against, Code, Finding, Severity};

/// Checks `component` against `world` (in its own `resolve`), named `world_name` in messages.
pub fn check(
    component: &Loaded,
    resolve: &Resolve,
    world: WorldId,
    world_name: &str,
) -> Vec<Finding> {
    let mut check = TargetCheck {
        component,
        resolve,
        world,
        target: format!("world `{world_name}`"),
        findings: Vec::new(),
    };
    check.exports();
    check.imports();
    check.findings
}

struct TargetCheck<'a> {
    component: &'a Loaded,
    /// The target world and the resolve it is in.
    resolve: &'a Resolve,
    world: WorldId,
    /// The world as findings name it.
    target: String,
    findings: Vec<Finding>,
}

impl TargetCheck<'_> {
    fn finding(
        &self,
        severity: Severity,
        code: Code,
        interface: String,
        message: String,
    ) -> Finding {
        Finding {
            location: None,
            severity,
            code,
            against: Against::World,
            consumer: self.component.name.clone(),
            provider: Some(self.target.clone()),
            interface,
            item: None,
            expected: None,
            found: None,
            message,
            help: None,
        }
    }

    /// Everything the world exports, the component must export with the same contract.
    fn exports(&mut self) {
        let (component, resolve) = (self.component, self.resolve);
        let cw = &component.resolve.worlds[component.world];
        let tw = &resolve.worlds[self.world];
        for (key, item) in &tw.exports {
            let name = resolve.name_world_key(key);
            let wanted = InterfaceName::parse(&name);
            let have = cw.exports.iter().find(|(k, _)| {
                let n = InterfaceName::parse(&component.resolve.name_world_key(k));
                n.base == wanted.base && versions_compatible(&wanted.version, &n.version)
            });
            let diffs = match (item, have) {
                (
                    WorldItem::Interface { id, .. },
                    Some((_, WorldItem::Interface { id: cid, .. })),
                ) => compare_interfaces((resolve, *id), (&component.resolve, *cid)),
                (WorldItem::Function(f), Some((_, WorldItem::Function(cf)))) => {
                    compare_functions((resolve, f), (&component.resolve, cf))
                }
                (WorldItem::Type { .. }, _) => continue,
                _ => {
                    let mut x = self.finding(
                        Severity::Error,
                        Code::MissingExport,
                        name.clone(),
                        format!(
                            "`{}` does not export {name}, which {} requires",
                            component.name, self.target
                        ),
                    );
                    x.help = Some(format!(
                        "implement {name} in `{}`, or check the world it is built for",
                        component.name
                    ));
                    self.findings.push(x);
                    continue;
                }
            };
            if diffs.is_empty() {
                self.findings.push(self.finding(
                    Severity::Info,
                    Code::WorldExport,
                    name.clone(),
                    format!(
                        "`{}` exports {name} as {} requires",
                        component.name, self.target
                    ),
                ));
            }
            self.findings.extend(
                diffs
                    .into_iter()
                    .map(|d| explain(component, &self.target, &name, "exports", d, false)),
            );
        }
    }

    /// The component may import only what the world imports, besides the runtime's WASI.
    fn imports(&mut self) {
        let (component, resolve) = (self.component, self.resolve);
        let cw = &component.resolve.worlds[component.world];
        let tw = &resolve.worlds[self.world];
        for (key, item) in &cw.imports {
            let name = component.resolve.name_world_key(key);
            let got = InterfaceName::parse(&name);
            let allowed = tw.imports.iter().find(|(k, _)| {
                let n = InterfaceName::parse(&resolve.name_world_key(k));
                n.base == got.base && versions_compatible(&got.version, &n.version)
            });
            let diffs = match (item, allowed) {
                (
                    WorldItem::Interface { id, .. },
                    Some((_, WorldItem::Interface { id: tid, .. })),
                ) => compare_interfaces((&component.resolve, *id), (resolve, *tid)),
                (WorldItem::Function(f), Some((_, WorldItem::Function(tf)))) => {
                    compare_functions((&component.resolve, f), (resolve, tf))
                }
                (WorldItem::Type { .. }, _) => continue,
                (_, None) if got.runtime_provided() => continue,
                _ => {
                    let mut x = self.finding(
                        Severity::Error,
                        Code::ImportNotInWorld,
                        name.clone(),
                        format!(
                            "`{}` imports {name}, which {} does not import",
                            component.name, self.target
                        ),
                    );
                    x.help = Some(format!(
                        "add `import {};` to {}, or stop using it in `{}`",
                        got.base, self.target, component.name
                    ));
                    self.findings.push(x);
                    continue;
                }
            };
            // Compared from the component's side (it may import less than the world offers);
            // reported from the world's, like the exports.
            self.findings.extend(
                diffs
                    .into_iter()
                    .map(|d| explain(component, &self.target, &name, "imports", d, true)),
            );
        }
    }
}

/// A difference between the component and the world as a finding; `expected` is the world's side
/// (`swapped` when the comparison ran from the component's side).
fn explain(
    component: &Loaded,
    target: &str,
    name: &str,
    verb: &str,
    d: Difference,
    swapped: bool,
) -> Finding {
    let d = if swapped { d.reversed() } else { d };
    Finding {
        location: None,
        severity: Severity::Error,
        code: d.code,
        against: Against::World,
        consumer: component.name.clone(),
        provider: Some(target.to_string()),
        interface: name.to_string(),
        message: format!(
            "`{}` {verb} {name}, but not as {target} defines it: {}: {}",
            component.name, d.item, d.what
        ),
        item: Some(d.item),
        expected: Some(d.expected),
        found: Some(d.found),
        help: Some(format!(
            "rebuild `{}` against the WIT of {target}",
            component.name
        )),
    }
}
