//! a WIT package directory → loaded and rendered (see `weld::fuzzing::wit`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weld::fuzzing::wit(data));
