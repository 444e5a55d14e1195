//! Validation of a component, its function bodies on every core: of each input that check and
//! compose read, and of what compose writes.
//!
//! A component is mostly core code (~30 MB for the example app), and checking function bodies
//! is most of validating it. The module structure is checked in order, as it must be; the
//! bodies, independent of each other, are checked in parallel. A core module whose bodies were
//! checked before in this process is not checked again: composing copies each input's modules
//! into the app unchanged but for their names, so the app's bodies are the inputs' bodies.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};
use wasmparser::{
    Encoding, FuncToValidate, FunctionBody, Parser, Payload, ValidPayload, Validator,
    ValidatorResources, WasmFeatures,
};

/// Digests of the core modules known valid in this process: of every section but custom ones,
/// which validation does not read (names, producers). Validity depends on nothing else, with
/// every feature enabled as here, so a module with the same digest is valid too.
static KNOWN: Mutex<BTreeSet<[u8; 32]>> = Mutex::new(BTreeSet::new());

fn known() -> std::sync::MutexGuard<'static, BTreeSet<[u8; 32]>> {
    // The set only ever grows by whole digests: one left by a panicking thread is intact.
    KNOWN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Validates `bytes` completely, with every proposal wasmparser knows enabled (as wac-graph
/// does): the same verdict as `validate_all` with those features. Whether the engine supports
/// each proposal is wasmtime's to say when it compiles.
pub fn validate(bytes: &[u8]) -> Result<(), wasmparser::BinaryReaderError> {
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut modules = Modules::default();
    // (the module it belongs to, the body).
    let mut bodies: Vec<(usize, FuncToValidate<ValidatorResources>, FunctionBody<'_>)> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        modules.read(bytes, &payload);
        if let ValidPayload::Func(func, body) = validator.payload(&payload)? {
            bodies.push((modules.current(), func, body));
        }
    }
    let skip: HashSet<usize> = {
        let known = known();
        (modules.digests.iter().enumerate())
            .filter(|(_, digest)| known.contains(*digest))
            .map(|(index, _)| index)
            .collect()
    };
    bodies.retain(|(module, _, _)| !skip.contains(module));
    check_bodies(
        bodies
            .into_iter()
            .map(|(_, func, body)| (func, body))
            .collect(),
    )?;
    known().extend(modules.digests);
    Ok(())
}

/// Records the core modules of `bytes`, a component validated before (by an earlier run, which
/// left a record of it), as known valid, without validating it again.
pub fn trust(bytes: &[u8]) {
    let mut modules = Modules::default();
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else {
            return;
        };
        modules.read(bytes, &payload);
    }
    known().extend(modules.digests);
}

/// The core modules of a component as its payloads go by, each with its digest once it ends.
#[derive(Default)]
struct Modules {
    /// One per core module, in order; a module's digest is final at its end.
    digests: Vec<[u8; 32]>,
    /// What is being read, innermost last: a module (its index, and the digest so far) or a
    /// component.
    open: Vec<Option<(usize, Sha256)>>,
}

impl Modules {
    fn read(&mut self, bytes: &[u8], payload: &Payload<'_>) {
        match payload {
            Payload::Version { encoding, .. } => self.open.push(match encoding {
                Encoding::Module => {
                    self.digests.push([0; 32]);
                    Some((self.digests.len() - 1, Sha256::new()))
                }
                Encoding::Component => None,
            }),
            Payload::End(_) => {
                if let Some(Some((index, hasher))) = self.open.pop() {
                    self.digests[index] = hasher.finalize().into();
                }
            }
            _ => {
                if let (Some(Some((_, hasher))), Some((id, range))) =
                    (self.open.last_mut(), payload.as_section())
                    && id != 0
                {
                    // The id and length too: sections must not run into each other.
                    let range = super::sections::indices(range);
                    hasher.update([id]);
                    hasher.update((range.len() as u64).to_le_bytes());
                    hasher.update(&bytes[range]);
                }
            }
        }
    }

    /// The index of the module being read (bodies are only ever read inside one).
    fn current(&self) -> usize {
        self.open
            .iter()
            .rev()
            .find_map(|open| open.as_ref().map(|(index, _)| *index))
            .unwrap_or(0)
    }
}

/// Checks function bodies on every core.
fn check_bodies(
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
) -> Result<(), wasmparser::BinaryReaderError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || bodies.len() < 64 {
        return bodies.into_iter().try_for_each(check_body);
    }
    // Interleaved chunks spread large and small functions (they cluster by module) evenly.
    let mut shares: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, item) in bodies.into_iter().enumerate() {
        shares[i % threads].push(item);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| scope.spawn(move || share.into_iter().try_for_each(check_body)))
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("validation does not panic"))
    })
}

/// Which core module of `bytes` holds `offset`, as people name it: `core module 2
/// (libpython3.14.so)`, or without the name when the module has none; `None` when the offset is
/// outside every core module (in the component's own sections).
pub fn module_at(bytes: &[u8], offset: usize) -> Option<String> {
    use wasmparser::{KnownCustom, Name};
    // (byte range, index among core modules, name): every core module, at any depth.
    let mut modules: Vec<(std::ops::Range<usize>, usize, Option<String>)> = Vec::new();
    // The modules being read, innermost last (components nest; modules do not).
    let mut open: Vec<Option<usize>> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                modules.push((
                    super::sections::indices(unchecked_range.clone()),
                    modules.len(),
                    None,
                ));
                open.push(Some(modules.len() - 1));
            }
            Payload::ComponentSection { .. } => open.push(None),
            Payload::CustomSection(custom) => {
                if let (Some(Some(m)), KnownCustom::Name(names)) = (open.last(), custom.as_known())
                {
                    for name in names.into_iter().flatten() {
                        if let Name::Module { name, .. } = name {
                            modules[*m].2 = Some(name.to_string());
                        }
                    }
                }
            }
            Payload::End(_) => {
                open.pop();
            }
            _ => {}
        }
    }
    let (_, index, name) = modules
        .iter()
        .filter(|(range, _, _)| range.contains(&offset))
        .min_by_key(|(range, _, _)| range.end - range.start)?;
    Some(match name {
        Some(name) => format!("core module {index} ({name})"),
        None => format!("core module {index}"),
    })
}

fn check_body(
    (func, body): (FuncToValidate<ValidatorResources>, FunctionBody<'_>),
) -> Result<(), wasmparser::BinaryReaderError> {
    func.into_validator(Default::default()).validate(&body)
}

#[cfg(test)]
mod tests {
    use super::validate;

    /// A core module of `count` functions `() -> ()`; the one at `bad`, if any, leaves an i32 on
    /// the stack, which is invalid.
    fn module(count: u8, bad: Option<u8>) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([0x01, 0x04, 0x01, 0x60, 0x00, 0x00]);
        m.extend([0x03, count + 1, count]);
        m.extend(std::iter::repeat_n(0x00, count.into()));
        let mut code = vec![count];
        for i in 0..count {
            if Some(i) == bad {
                code.extend([0x04, 0x00, 0x41, 0x00, 0x0b]);
            } else {
                code.extend([0x02, 0x00, 0x0b]);
            }
        }
        m.push(0x0a);
        leb(&mut m, code.len());
        m.extend(code);
        m
    }

    /// A section size as unsigned LEB128.
    fn leb(out: &mut Vec<u8>, mut size: usize) {
        loop {
            let byte = (size & 0x7f) as u8;
            size >>= 7;
            out.push(if size == 0 { byte } else { byte | 0x80 });
            if size == 0 {
                break;
            }
        }
    }

    fn digests(bytes: &[u8]) -> Vec<[u8; 32]> {
        let mut modules = super::Modules::default();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            modules.read(bytes, &payload.unwrap());
        }
        modules.digests
    }

    /// A module is known by what validation reads: a custom section (a name) added in
    /// composition keeps its digest, a changed body does not; and a module known valid does not
    /// make a different, invalid one pass.
    #[test]
    fn known_modules_are_known_by_their_code() {
        let valid = module(70, None);
        let mut named = valid.clone();
        named.extend([0x00, 0x05, 0x04, b'n', b'a', b'm', b'e']);
        let invalid = module(70, Some(3));
        assert_eq!(digests(&valid), digests(&named));
        assert_ne!(digests(&valid), digests(&invalid));
        assert!(validate(&valid).is_ok());
        assert!(validate(&named).is_ok());
        assert!(validate(&invalid).is_err());
        // Nor does a component holding it.
        let mut component = b"\0asm\x0d\0\x01\0".to_vec();
        component.push(0x01);
        leb(&mut component, invalid.len());
        component.extend(&invalid);
        assert_eq!(digests(&component), digests(&invalid));
        assert!(validate(&component).is_err());
    }

    #[test]
    fn same_verdict_as_sequential_validation() {
        for (count, bad) in [(1, None), (1, Some(0)), (80, None), (80, Some(77))] {
            let bytes = module(count, bad);
            let sequential =
                wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                    .validate_all(&bytes)
                    .is_ok();
            assert_eq!(
                validate(&bytes).is_ok(),
                sequential,
                "{count} functions, bad {bad:?}"
            );
            assert_eq!(sequential, bad.is_none());
        }
    }
}
