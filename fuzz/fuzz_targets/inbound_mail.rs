#![no_main]
//! See `rapport_server::fuzzing::inbound_mail`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport_server::fuzzing::inbound_mail(data));
