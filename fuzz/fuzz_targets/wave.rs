//! an --invoke call → parsed and typed (see `weld::fuzzing::wave`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weld::fuzzing::wave(data));
