//! A card file, any bytes: see `quire::fuzzing::card_file`.

#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| quire::fuzzing::card_file(bytes));
