//! A composed app run as its parts, in dev runs: each component compiled (or loaded from the
//! cache) on its own and the imports one part exports to another wired in the host, so that
//! after an edit to one component only that component is compiled again. The composed file
//! stays the artifact; this is the same graph, linked at instantiation instead of in bytes.
//!
//! Only what composition by plugging would wire is wired: an import is served by the one part
//! that exports an interface of that name (or a semver-compatible version of it), and
//! everything else comes from the runtime as for the composed app. Values cross by copy through
//! the host; resources, futures and streams cannot, so apps whose parts share them are run
//! from the composed file instead.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker, Type};

use super::host::Host;

/// One part of an app: its name and its compiled code.
pub(super) struct Part {
    pub name: String,
    pub component: Component,
}

/// The parts that serve imports, in the order they are instantiated (providers first), each
/// ready to instantiate; the root comes last and is the app itself.
pub(super) struct Linked {
    pub providers: Vec<InstancePre<Host>>,
    pub root: InstancePre<Host>,
}

/// A wire: `consumer` imports `import`, which part `provider` exports as `export`.
struct Wire {
    import: String,
    provider: usize,
    export: String,
}

/// Links `parts` (the root first, then the plugs) with `linker`'s WASI; `None` when they
/// cannot be linked in the host as plugging would compose them.
pub(super) fn link(linker: &Linker<Host>, parts: &[Part]) -> Option<Linked> {
    let engine = linker.engine().clone();
    let exports: Vec<Vec<String>> = parts
        .iter()
        .map(|p| {
            p.component
                .component_type()
                .exports(&engine)
                .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentInstance(_)))
                .map(|(name, _)| name.to_string())
                .collect()
        })
        .collect();
    // Who serves each part's instance imports; a part depends on its providers.
    let mut wires: Vec<Vec<Wire>> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let mut own = Vec::new();
        for (import, item) in part.component.component_type().imports(&engine) {
            let ComponentItem::ComponentInstance(_) = item.ty else {
                continue;
            };
            let matches: Vec<(usize, &String)> = exports
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(j, names)| names.iter().map(move |n| (j, n)))
                .filter(|(_, export)| same_interface(import, export))
                .collect();
            match matches.as_slice() {
                [] => {}
                // A part standing in for WASI (a virtualised filesystem, say) replaces the
                // runtime's whole interface in a composition; the host could only mix the two.
                [_] if import.starts_with("wasi:") => return None,
                [(provider, export)] => own.push(Wire {
                    import: import.to_string(),
                    provider: *provider,
                    export: (*export).clone(),
                }),
                // Two providers: composition would refuse it; let it say why.
                _ => return None,
            }
        }
        wires.push(own);
    }
    let order = providers_first(&wires)?;
    if order.last() != Some(&0) {
        return None;
    }
    // Each provider's instance is kept in the store at its position in `order`.
    let slot: HashMap<usize, usize> = order.iter().enumerate().map(|(s, &p)| (p, s)).collect();
    let mut linker = linker.clone();
    linker.allow_shadowing(true);
    let mut defined: HashMap<String, (usize, String)> = HashMap::new();
    for wire in wires.iter().flatten() {
        match defined.get(&wire.import) {
            Some(done) if *done == (wire.provider, wire.export.clone()) => continue,
            // One name served by two providers for two consumers: only a composition can.
            Some(_) => return None,
            None => {}
        }
        let provider = &parts[wire.provider];
        forward(&mut linker, &engine, wire, provider, slot[&wire.provider])?;
        defined.insert(wire.import.clone(), (wire.provider, wire.export.clone()));
    }
    let mut pres = order
        .iter()
        .map(|&p| linker.instantiate_pre(&parts[p].component).ok())
        .collect::<Option<Vec<_>>>()?;
    let root = pres.pop()?;
    Some(Linked {
        providers: pres,
        root,
    })
}

/// Defines `wire.import` in `linker`: each function forwards the call to the provider's
/// instance, found in the store at `slot`, and a failure inside it names the provider.
fn forward(
    linker: &mut Linker<Host>,
    engine: &Engine,
    wire: &Wire,
    provider: &Part,
    slot: usize,
) -> Option<()> {
    let ty = provider.component.component_type();
    let ComponentItem::ComponentInstance(instance) = ty.get_export(engine, &wire.export)?.ty else {
        return None;
    };
    let outer = provider.component.get_export_index(None, &wire.export)?;
    let mut functions: Vec<(String, ComponentExportIndex)> = Vec::new();
    for (name, item) in instance.exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(func) => {
                let crosses = func.params().any(|(_, t)| !copyable(&t))
                    || func.results().any(|t| !copyable(&t));
                if crosses {
                    return None;
                }
                let index = provider.component.get_export_index(Some(&outer), name)?;
                functions.push((name.to_string(), index));
            }
            ComponentItem::Type(_) => {}
            // Resources live in the instance that made them.
            _ => return None,
        }
    }
    let mut root = linker.root();
    let mut target = root.instance(&wire.import).ok()?;
    let name: Arc<str> = provider.name.as_str().into();
    for (function, index) in functions {
        let name = name.clone();
        target
            .func_new_async(&function, move |mut store, _ty, params, results| {
                let name = name.clone();
                Box::new(async move {
                    let instance = store.data().parts[slot];
                    let func = instance
                        .get_func(&mut store, index)
                        .ok_or_else(|| wasmtime::format_err!("`{name}` lost an export"))?;
                    let result = func.call_async(&mut store, params, results).await;
                    if result.is_err() && store.data().failed_in.is_none() {
                        // The innermost part sets it first, as the error unwinds.
                        store.data_mut().failed_in = Some(name.to_string());
                    }
                    result
                })
            })
            .ok()?;
    }
    Some(())
}

/// Whether a value of this type can be copied from one instance to another through the host.
fn copyable(ty: &Type) -> bool {
    match ty {
        Type::Own(_)
        | Type::Borrow(_)
        | Type::Future(_)
        | Type::Stream(_)
        | Type::ErrorContext
        | Type::Map(_) => false,
        Type::List(list) => copyable(&list.ty()),
        Type::FixedLengthList(list) => copyable(&list.ty()),
        Type::Record(record) => record.fields().all(|f| copyable(&f.ty)),
        Type::Tuple(tuple) => tuple.types().all(|t| copyable(&t)),
        Type::Variant(variant) => variant.cases().all(|c| c.ty.as_ref().is_none_or(copyable)),
        Type::Option(option) => copyable(&option.ty()),
        Type::Result(result) => {
            result.ok().as_ref().is_none_or(copyable) && result.err().as_ref().is_none_or(copyable)
        }
        _ => true,
    }
}

/// Whether an import of `import` is served by an export of `export`: the same name, or the
/// same interface at a semver-compatible version (as composition would plug it).
fn same_interface(import: &str, export: &str) -> bool {
    if import == export {
        return true;
    }
    let split = |name: &str| -> Option<(String, semver::Version)> {
        let (base, version) = name.split_once('@')?;
        Some((base.to_string(), semver::Version::parse(version).ok()?))
    };
    match (split(import), split(export)) {
        (Some((a, va)), Some((b, vb))) => a == b && compatible(&va, &vb),
        _ => false,
    }
}

/// `export` serves an import of `import`'s version: the same major version (or, below 1.0, the
/// same minor) and no older.
fn compatible(import: &semver::Version, export: &semver::Version) -> bool {
    let track = |v: &semver::Version| {
        if v.major > 0 {
            (v.major, 0)
        } else {
            (0, v.minor + 1)
        }
    };
    track(import) == track(export) && export >= import
}

/// The parts in an order where every provider comes before the parts it serves; `None` for a
/// cycle (which composition refuses too).
fn providers_first(wires: &[Vec<Wire>]) -> Option<Vec<usize>> {
    let n = wires.len();
    let mut order = Vec::with_capacity(n);
    let mut state = vec![0u8; n]; // 0 new, 1 in progress, 2 done
    fn visit(i: usize, wires: &[Vec<Wire>], state: &mut [u8], order: &mut Vec<usize>) -> bool {
        match state[i] {
            2 => return true,
            1 => return false,
            _ => {}
        }
        state[i] = 1;
        for wire in &wires[i] {
            if !visit(wire.provider, wires, state, order) {
                return false;
            }
        }
        state[i] = 2;
        order.push(i);
        true
    }
    // The root last: visit it after everything it does not reach.
    for i in (1..n).chain(std::iter::once(0)) {
        if !visit(i, wires, &mut state, &mut order) {
            return None;
        }
    }
    Some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_plug_as_composition_would() {
        assert!(same_interface("a:b/c@0.1.0", "a:b/c@0.1.0"));
        assert!(same_interface("a:b/c@0.1.0", "a:b/c@0.1.3"));
        assert!(!same_interface("a:b/c@0.1.3", "a:b/c@0.1.0"));
        assert!(!same_interface("a:b/c@0.1.0", "a:b/c@0.2.0"));
        assert!(same_interface("a:b/c@1.0.0", "a:b/c@1.4.0"));
        assert!(!same_interface("a:b/c@1.0.0", "a:b/c@2.0.0"));
        assert!(!same_interface("a:b/c", "a:b/d"));
        assert!(same_interface("a:b/c", "a:b/c"));
    }
}
