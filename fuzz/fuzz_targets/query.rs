//! Query text, any bytes: see `quire::fuzzing::query_text`.

#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| quire::fuzzing::query_text(bytes));
