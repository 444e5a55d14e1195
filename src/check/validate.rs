//! Validation of a component, its function bodies on every core: of each input that check and
//! compose read, and of what compose writes.
//!
//! A component is mostly core code (~30 MB for the example app), and checking function bodies
//! is most of validating it. The module structure is checked in order, as it must be; the
//! bodies, independent of each other, are checked in parallel.

use wasmparser::{
    FuncToValidate, FunctionBody, Parser, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

/// Validates `bytes` completely, with every proposal wasmparser knows enabled (as wac-graph
/// does): the same verdict as `validate_all` with those features. Whether the engine supports
/// each proposal is wasmtime's to say when it compiles.
pub fn validate(bytes: &[u8]) -> Result<(), wasmparser::BinaryReaderError> {
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        if let ValidPayload::Func(func, body) = validator.payload(&payload?)? {
            bodies.push((func, body));
        }
    }
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
    use wasmparser::{KnownCustom, Name, Payload};
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
                    unchecked_range.start..unchecked_range.end,
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
        // The section size as unsigned LEB128.
        let mut size = code.len();
        loop {
            let byte = (size & 0x7f) as u8;
            size >>= 7;
            m.push(if size == 0 { byte } else { byte | 0x80 });
            if size == 0 {
                break;
            }
        }
        m.extend(code);
        m
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
