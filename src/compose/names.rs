//! Core modules labelled with the component they belong to, so that a trap in a composed app
//! can say which component it happened in: wasmtime's backtraces name a frame's core module
//! (from the module's name section), and nothing else of the composition.
//!
//! A module named `libpython3.14.so` in component `arith` becomes `arith/libpython3.14.so`; an
//! unnamed one becomes `arith/module`. Only name sections change: code, types and validity do
//! not.

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
    use wasmparser::{BinaryReader, Payload};
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

// The output is written in one pass, each byte copied once: a section's new size is computed
// first (walking headers only), since it precedes the section in the binary.

fn relabel_component(bytes: &[u8], label: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(component_len(bytes, label)?);
    write_component(&mut out, bytes, label)?;
    Some(out)
}

fn component_len(bytes: &[u8], label: &str) -> Option<usize> {
    let mut len = HEADER;
    for (id, payload) in sections(bytes)? {
        len += section_len(match id {
            CORE_MODULE => module_len(payload, label)?,
            COMPONENT => component_len(payload, label)?,
            _ => payload.len(),
        });
    }
    Some(len)
}

fn write_component(out: &mut Vec<u8>, bytes: &[u8], label: &str) -> Option<()> {
    out.extend_from_slice(bytes.get(..HEADER)?);
    for (id, payload) in sections(bytes)? {
        match id {
            CORE_MODULE => {
                out.push(id);
                push_leb(out, module_len(payload, label)?);
                write_module(out, payload, label)?;
            }
            COMPONENT => {
                out.push(id);
                push_leb(out, component_len(payload, label)?);
                write_component(out, payload, label)?;
            }
            _ => push_section(out, id, payload),
        }
    }
    Some(())
}

/// The module's name section, relabelled (or new), and whether the module had one.
fn name_section(bytes: &[u8], label: &str) -> Option<(Vec<u8>, bool)> {
    let existing = sections(bytes)?.into_iter().find(|(id, payload)| {
        *id == CUSTOM && custom_name(payload).is_some_and(|(n, _)| n == b"name")
    });
    let content = match existing {
        Some((_, payload)) => custom_name(payload)?.1,
        None => &[],
    };
    let mut section = custom_header(b"name");
    section.extend(relabel_names(content, label)?);
    Some((section, existing.is_some()))
}

fn module_len(bytes: &[u8], label: &str) -> Option<usize> {
    let (names, had) = name_section(bytes, label)?;
    let mut len = HEADER;
    for (id, payload) in sections(bytes)? {
        let is_names = id == CUSTOM && custom_name(payload).is_some_and(|(n, _)| n == b"name");
        len += section_len(if is_names { names.len() } else { payload.len() });
    }
    if !had {
        len += section_len(names.len());
    }
    Some(len)
}

fn write_module(out: &mut Vec<u8>, bytes: &[u8], label: &str) -> Option<()> {
    let (names, had) = name_section(bytes, label)?;
    out.extend_from_slice(bytes.get(..HEADER)?);
    for (id, payload) in sections(bytes)? {
        let is_names = id == CUSTOM && custom_name(payload).is_some_and(|(n, _)| n == b"name");
        push_section(out, id, if is_names { &names } else { payload });
    }
    if !had {
        push_section(out, CUSTOM, &names);
    }
    Some(())
}

/// The size of a section with a payload of `payload` bytes: id, size, payload.
fn section_len(payload: usize) -> usize {
    let mut leb = 1;
    let mut rest = payload >> 7;
    while rest > 0 {
        leb += 1;
        rest >>= 7;
    }
    1 + leb + payload
}

/// A name section's subsections with the module name (subsection 0) labelled, or added first.
fn relabel_names(content: &[u8], label: &str) -> Option<Vec<u8>> {
    let mut subsections = Vec::new();
    let mut rest = content;
    let mut own = None;
    while !rest.is_empty() {
        let id = rest[0];
        let (size, used) = leb(&rest[1..])?;
        let body = rest.get(1 + used..1 + used + size)?;
        rest = &rest[1 + used + size..];
        if id == MODULE_NAME {
            let (len, used) = leb(body)?;
            own = Some(
                std::str::from_utf8(body.get(used..used + len)?)
                    .ok()?
                    .to_string(),
            );
        } else {
            subsections.push((id, body));
        }
    }
    let name = match own {
        Some(own) => format!("{label}/{own}"),
        None => format!("{label}/module"),
    };
    let mut body = Vec::new();
    push_leb(&mut body, name.len());
    body.extend(name.as_bytes());
    let mut out = vec![MODULE_NAME];
    push_leb(&mut out, body.len());
    out.extend(body);
    for (id, body) in subsections {
        out.push(id);
        push_leb(&mut out, body.len());
        out.extend(body);
    }
    Some(out)
}

/// The sections after the header: (id, payload).
fn sections(bytes: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    let mut rest = bytes.get(HEADER..)?;
    while !rest.is_empty() {
        let id = rest[0];
        let (size, used) = leb(&rest[1..])?;
        out.push((id, rest.get(1 + used..1 + used + size)?));
        rest = &rest[1 + used + size..];
    }
    Some(out)
}

/// A custom section's name and content.
fn custom_name(payload: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, used) = leb(payload)?;
    Some((payload.get(used..used + len)?, &payload[used + len..]))
}

fn custom_header(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_leb(&mut out, name.len());
    out.extend(name);
    out
}

fn push_section(out: &mut Vec<u8>, id: u8, payload: &[u8]) {
    out.push(id);
    push_leb(out, payload.len());
    out.extend(payload);
}

/// An unsigned LEB128 (at most 32 bits) and the bytes it took.
fn leb(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (i, byte) in bytes.iter().take(5).enumerate() {
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn push_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core module with one function, and optionally a name section naming it.
    fn module(name: Option<&str>) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        push_section(&mut m, 1, &[0x01, 0x60, 0x00, 0x00]);
        push_section(&mut m, 3, &[0x01, 0x00]);
        push_section(&mut m, 10, &[0x01, 0x02, 0x00, 0x0b]);
        if let Some(name) = name {
            let mut section = custom_header(b"name");
            let mut body = Vec::new();
            push_leb(&mut body, name.len());
            body.extend(name.as_bytes());
            section.push(MODULE_NAME);
            push_leb(&mut section, body.len());
            section.extend(body);
            push_section(&mut m, CUSTOM, &section);
        }
        m
    }

    fn component(modules: &[Vec<u8>]) -> Vec<u8> {
        let mut c = b"\0asm\x0d\0\x01\0".to_vec();
        for m in modules {
            push_section(&mut c, CORE_MODULE, m);
        }
        c
    }

    fn module_names(component: &[u8]) -> Vec<String> {
        let mut names = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(component) {
            if let Ok(wasmparser::Payload::CustomSection(c)) = payload
                && let wasmparser::KnownCustom::Name(reader) = c.as_known()
            {
                for name in reader.flatten() {
                    if let wasmparser::Name::Module { name, .. } = name {
                        names.push(name.to_string());
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
        assert_eq!(module_names(&labelled), ["arith/libc.so", "arith/module"]);
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
