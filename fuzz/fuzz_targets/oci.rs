//! a registry's manifest and config → the layer weld would pull (see `weld::fuzzing::oci`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weld::fuzzing::oci(data));
