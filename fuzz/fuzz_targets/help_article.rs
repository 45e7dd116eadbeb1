#![no_main]
//! See `rapport_server::fuzzing::help_article`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport_server::fuzzing::help_article(data));
