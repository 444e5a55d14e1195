//! weld.toml → Plan (see `weld::fuzzing::manifest`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weld::fuzzing::manifest(data));
