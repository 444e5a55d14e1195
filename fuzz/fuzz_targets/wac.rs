//! a WAC script → composition (see `weld::fuzzing::wac`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weld::fuzzing::wac(data));
