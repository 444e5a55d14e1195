//! Which imports the runner lacks: wasmtime reports only the first unresolved import, as
//! "matching implementation was not found in the linker"; users need all of them, by name.

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};

use super::host::Host;

/// Every import of `component` that `linker` does not satisfy, in the component's order; `None`
/// if linking fails for a reason other than an unresolved import.
pub(super) fn missing_imports(linker: &Linker<Host>, component: &Component) -> Option<Vec<String>> {
    let engine = component.engine();
    let ty = component.component_type();
    let mut probe = linker.clone();
    probe.allow_shadowing(true);
    let mut missing = Vec::new();
    // Each round stubs the import the type check stopped at, until it passes; the stubs only
    // ever serve this check, never a run.
    for _ in 0..=ty.imports(engine).len() {
        let error = match probe.instantiate_pre(component) {
            Ok(_) => return Some(missing),
            Err(e) => e,
        };
        let name = unresolved(&error)?;
        if missing.contains(&name) {
            return None;
        }
        let item = ty.get_import(engine, &name)?;
        stub(&mut probe, &name, &item.ty)?;
        missing.push(name);
    }
    None
}

/// The import a link error is about, from wasmtime's context line
/// "component imports instance `NAME`, but a matching implementation was not found…".
fn unresolved(error: &wasmtime::Error) -> Option<String> {
    let line = error.chain().next()?.to_string();
    let rest = line.strip_prefix("component imports ")?;
    let start = rest.find('`')? + 1;
    let len = rest[start..].find('`')?;
    Some(rest[start..start + len].to_string())
}

/// Defines `name` in `linker` as trapping stubs of the right shape.
fn stub(linker: &mut Linker<Host>, name: &str, item: &ComponentItem) -> Option<()> {
    let engine = linker.engine().clone();
    let mut root = linker.root();
    match item {
        ComponentItem::ComponentFunc(_) => root
            .func_new(name, |_, _, _, _| wasmtime::bail!("stub"))
            .ok(),
        ComponentItem::ComponentInstance(instance) => {
            let mut inst = root.instance(name).ok()?;
            for (export, item) in instance.exports(&engine) {
                match item.ty {
                    ComponentItem::ComponentFunc(_) => inst
                        .func_new(export, |_, _, _, _| wasmtime::bail!("stub"))
                        .ok()?,
                    ComponentItem::Resource(_) => inst
                        .resource(export, ResourceType::host::<()>(), |_, _| Ok(()))
                        .ok()?,
                    _ => {}
                }
            }
            Some(())
        }
        _ => None,
    }
}
