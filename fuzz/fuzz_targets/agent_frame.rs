#![no_main]
//! See `rapport_server::fuzzing::agent_frame`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport_server::fuzzing::agent_frame(data));
