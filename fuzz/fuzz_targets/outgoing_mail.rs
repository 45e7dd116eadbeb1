#![no_main]
//! See `rapport_server::fuzzing::outgoing_mail`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport_server::fuzzing::outgoing_mail(data));
