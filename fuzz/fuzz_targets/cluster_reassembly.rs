#![no_main]
//! See `rapport_server::fuzzing::cluster_reassembly`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport_server::fuzzing::cluster_reassembly(data));
