//! two components → plug check → composition (see `weld::fuzzing::compose`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weld::fuzzing::compose(data));
