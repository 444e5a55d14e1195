//! Validation of a composed component, its function bodies on every core.
//!
//! A composed app is mostly its components' core code (~30 MB for the example), and checking
//! function bodies is most of validating it. The module structure is checked in order, as it
//! must be; the bodies, independent of each other, are checked in parallel.

use wasmparser::{
    FuncToValidate, FunctionBody, Parser, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

/// Validates `bytes` completely: the same verdict as `Validator::validate_all`.
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

fn check_body(
    (func, body): (FuncToValidate<ValidatorResources>, FunctionBody<'_>),
) -> Result<(), wasmparser::BinaryReaderError> {
    func.into_validator(Default::default()).validate(&body)
}
