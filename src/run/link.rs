//! Which imports the runner lacks: wasmtime reports only the first unresolved import, as
//! "matching implementation was not found in the linker"; users need all of them, by name.
//! And they need it at once: [`imports_only`] lets the linker judge a component's imports
//! before its code is compiled, which for a large app takes seconds.

use wasm_encoder::RawSection;
use wasmparser::{Encoding, Payload};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};

use super::host::Host;
use crate::check::sections::top_level;

/// A component with the same imports as `bytes` and nothing else: no code, so wasmtime
/// "compiles" it at once. It is the leading type, alias and import sections, which declare
/// every import of a component that toolchains and composers write. `None` when some import
/// comes after other definitions (its types may refer to them) or the binary does not parse:
/// then only the whole component can be checked.
pub(super) fn imports_only(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = wasm_encoder::Component::new();
    // Still in the leading run of sections that only declare types and imports.
    let mut leading = true;
    for item in top_level(bytes) {
        let (_, payload) = item.ok()?;
        // Parsed from offset 0, so a section's range is where its contents lie in `bytes`.
        let section = |id, range: std::ops::Range<usize>| RawSection {
            id,
            data: &bytes[range],
        };
        match payload {
            Payload::Version {
                encoding: Encoding::Component,
                ..
            } => {}
            Payload::Version { .. } => return None,
            Payload::CustomSection(_) => {}
            Payload::CoreTypeSection(s) if leading => {
                out.section(&section(
                    COMPONENT_CORE_TYPE,
                    crate::check::sections::indices(s.range()),
                ));
            }
            Payload::ComponentTypeSection(s) if leading => {
                out.section(&section(
                    COMPONENT_TYPE,
                    crate::check::sections::indices(s.range()),
                ));
            }
            Payload::ComponentAliasSection(s) if leading => {
                out.section(&section(
                    COMPONENT_ALIAS,
                    crate::check::sections::indices(s.range()),
                ));
            }
            Payload::ComponentImportSection(s) if leading => {
                out.section(&section(
                    COMPONENT_IMPORT,
                    crate::check::sections::indices(s.range()),
                ));
            }
            Payload::ComponentImportSection(_) => return None,
            Payload::End(_) => return Some(out.finish()),
            _ => leading = false,
        }
    }
    None
}

// Section ids of the component binary format.
const COMPONENT_CORE_TYPE: u8 = 3;
const COMPONENT_ALIAS: u8 = 6;
const COMPONENT_TYPE: u8 = 7;
const COMPONENT_IMPORT: u8 = 10;

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
