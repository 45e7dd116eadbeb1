#![no_main]
//! See `rapport_server::fuzzing::uploaded_file`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport_server::fuzzing::uploaded_file(data));
