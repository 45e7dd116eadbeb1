#![no_main]
//! See `rapport_server::fuzzing::report_query`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport_server::fuzzing::report_query(data));
