//! Core modules labelled with the component they belong to, so that a trap in a composed app
//! can say which component it happened in: wasmtime's backtraces name a frame's core module
//! (from the module's name section), and nothing else of the composition.
//!
//! A module named `libpython3.14.so` in component `arith` becomes `arith/libpython3.14.so`; an
//! unnamed one becomes `arith/module`. Only name sections change: code, types and validity do
//! not.

use wasm_encoder::{NameSection, RawSection, Section};
use wasmparser::BinaryReader;

/// `component` (a component binary) with every core module inside it, at any depth, labelled
/// `label`. Bytes that do not parse as expected are returned unchanged.
pub fn label_modules(component: &[u8], label: &str) -> Vec<u8> {
    relabel_component(component, label).unwrap_or_else(|| component.to_vec())
}

/// The module name a labelled frame's module carries: (component, the module's own name).
pub fn split_label(module_name: &str) -> (&str, Option<&str>) {
    match module_name.split_once('/') {
        Some((component, module)) => (component, Some(module)),
        None => (module_name, None),
    }
}

/// `component` with its own `component-name` section's name maps in index order, as the format
/// requires. wac-graph writes each map in the order of its graph's nodes, which differs from the
/// encoded order in most compositions, and readers that check the order (wasmparser, so
/// wasm-tools) then refuse the whole section. Bytes that do not parse are returned unchanged.
pub fn sort_component_names(component: Vec<u8>) -> Vec<u8> {
    match sorted_names_section(&component) {
        Some((range, section)) => {
            let mut out = Vec::with_capacity(component.len());
            out.extend_from_slice(&component[..range.start]);
            out.extend_from_slice(&section);
            out.extend_from_slice(&component[range.end..]);
            out
        }
        None => component,
    }
}

/// Where the top-level `component-name` section lies in `bytes`, and that section re-encoded
/// with every name map sorted.
fn sorted_names_section(bytes: &[u8]) -> Option<(std::ops::Range<usize>, Vec<u8>)> {
    use wasm_encoder::{ComponentSection, Encode};
    use wasmparser::Payload;
    for item in crate::check::sections::top_level(bytes) {
        let (range, payload) = item.ok()?;
        match payload {
            Payload::CustomSection(custom) if custom.name() == "component-name" => {
                let mut reader = BinaryReader::new(custom.data(), 0);
                let mut names = wasm_encoder::ComponentNameSection::new();
                while !reader.eof() {
                    let id = reader.read_u8().ok()?;
                    let size = reader.read_var_u32().ok()? as usize;
                    let body = reader.read_bytes(size).ok()?;
                    // Subsection 1 names one sort: the sort (two bytes for a core sort), then a
                    // name map of (index, name).
                    if id != 1 {
                        names.raw(id, body);
                        continue;
                    }
                    let mut map = BinaryReader::new(body, 0);
                    let sort = map.read_u8().ok()?;
                    let mut sorted = vec![sort];
                    if sort == 0 {
                        sorted.push(map.read_u8().ok()?);
                    }
                    let mut entries = Vec::new();
                    for _ in 0..map.read_var_u32().ok()? {
                        entries.push((map.read_var_u32().ok()?, map.read_string().ok()?));
                    }
                    entries.sort_by_key(|(index, _)| *index);
                    entries.dedup_by_key(|(index, _)| *index);
                    (entries.len() as u32).encode(&mut sorted);
                    for (index, name) in entries {
                        index.encode(&mut sorted);
                        name.encode(&mut sorted);
                    }
                    names.raw(id, &sorted);
                }
                let mut section = Vec::new();
                names.as_custom().append_to_component(&mut section);
                return Some((range, section));
            }
            _ => {}
        }
    }
    None
}

const HEADER: usize = 8;
const CORE_MODULE: u8 = 1;
const COMPONENT: u8 = 4;
const CUSTOM: u8 = 0;
const MODULE_NAME: u8 = 0;

/// A component with every module inside it relabelled; sections other than modules and nested
/// components are copied as they are.
fn relabel_component(bytes: &[u8], label: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() + 256);
    out.extend_from_slice(bytes.get(..HEADER)?);
    for (id, payload) in sections(bytes)? {
        let relabelled = match id {
            CORE_MODULE => Some(relabel_module(payload, label)?),
            COMPONENT => Some(relabel_component(payload, label)?),
            _ => None,
        };
        RawSection {
            id,
            data: relabelled.as_deref().unwrap_or(payload),
        }
        .append_to(&mut out);
    }
    Some(out)
}

/// A core module with its name section's module name labelled, or a name section added.
fn relabel_module(bytes: &[u8], label: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() + 64);
    out.extend_from_slice(bytes.get(..HEADER)?);
    let mut named = false;
    for (id, payload) in sections(bytes)? {
        if id == CUSTOM {
            let mut reader = BinaryReader::new(payload, 0);
            if reader.read_string().ok()? == "name" {
                named = true;
                let content = &payload[crate::check::sections::index(reader.original_position())..];
                relabel_names(content, label)?
                    .as_custom()
                    .append_to(&mut out);
                continue;
            }
        }
        RawSection { id, data: payload }.append_to(&mut out);
    }
    if !named {
        relabel_names(&[], label)?.as_custom().append_to(&mut out);
    }
    Some(out)
}

/// A name section's subsections with the module name (subsection 0) labelled, or added first.
fn relabel_names(content: &[u8], label: &str) -> Option<NameSection> {
    let mut reader = BinaryReader::new(content, 0);
    let mut own = None;
    let mut others = Vec::new();
    while !reader.eof() {
        let id = reader.read_u8().ok()?;
        let size = reader.read_var_u32().ok()? as usize;
        let body = reader.read_bytes(size).ok()?;
        if id == MODULE_NAME {
            own = Some(BinaryReader::new(body, 0).read_string().ok()?);
        } else {
            others.push((id, body));
        }
    }
    let mut names = NameSection::new();
    names.module(&match own {
        Some(own) => format!("{label}/{own}"),
        None => format!("{label}/module"),
    });
    for (id, body) in others {
        names.raw(id, body);
    }
    Some(names)
}

/// The sections after the header: (id, payload).
fn sections(bytes: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut reader = BinaryReader::new(bytes.get(HEADER..)?, 0);
    let mut out = Vec::new();
    while !reader.eof() {
        let id = reader.read_u8().ok()?;
        let size = reader.read_var_u32().ok()? as usize;
        out.push((id, reader.read_bytes(size).ok()?));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core module with one function, and optionally a name section naming it.
    fn module(name: Option<&str>) -> Vec<u8> {
        use wasm_encoder::{CodeSection, Function, FunctionSection, TypeSection};
        let mut m = wasm_encoder::Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut functions = FunctionSection::new();
        functions.function(0);
        m.section(&functions);
        let mut code = CodeSection::new();
        let mut body = Function::new([]);
        body.instructions().end();
        code.function(&body);
        m.section(&code);
        if let Some(name) = name {
            let mut names = NameSection::new();
            names.module(name);
            let mut functions = wasm_encoder::NameMap::new();
            functions.append(0, "tidy");
            names.functions(&functions);
            m.section(&names);
        }
        m.finish()
    }

    fn component(modules: &[Vec<u8>]) -> Vec<u8> {
        let mut c = wasm_encoder::Component::new();
        for m in modules {
            c.section(&RawSection {
                id: CORE_MODULE,
                data: m,
            });
        }
        c.finish()
    }

    /// Every module's and every function's name, in order.
    fn module_names(component: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(component) {
            if let Ok(wasmparser::Payload::CustomSection(c)) = payload
                && let wasmparser::KnownCustom::Name(reader) = c.as_known()
            {
                for name in reader.flatten() {
                    match name {
                        wasmparser::Name::Module { name, .. } => names.push(name.to_string()),
                        wasmparser::Name::Function(map) => names
                            .extend(map.into_iter().flatten().map(|n| format!("fn {}", n.name))),
                        _ => {}
                    }
                }
            }
        }
        names
    }

    #[test]
    fn labels_named_and_unnamed_modules_and_stays_valid() {
        let original = component(&[module(Some("libc.so")), module(None)]);
        let labelled = label_modules(&original, "arith");
        wasmparser::Validator::new()
            .validate_all(&labelled)
            .expect("still valid");
        assert_eq!(
            module_names(&labelled),
            ["arith/libc.so", "fn tidy", "arith/module"]
        );
        assert_eq!(split_label("arith/libc.so"), ("arith", Some("libc.so")));
    }

    #[test]
    fn leaves_what_it_cannot_read_alone() {
        assert_eq!(
            label_modules(b"\0asm\x0d\0\x01\0\x01\x7f", "x"),
            b"\0asm\x0d\0\x01\0\x01\x7f"
        );
    }
}
