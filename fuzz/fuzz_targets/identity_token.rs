#![no_main]
//! See `rapport_server::fuzzing::identity_token`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport_server::fuzzing::identity_token(data));
