#![no_main]
//! See `rapport_server::fuzzing::widget_frame`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport_server::fuzzing::widget_frame(data));
