//! component bytes → load, validate, WIT, plug check (see `weld::fuzzing::component`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weld::fuzzing::component(data));
