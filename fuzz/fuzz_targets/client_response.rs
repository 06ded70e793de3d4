//! cargo-fuzz target `client_response`: the body is `entries::client_response`, shared with the
//! corpus replay test (bench-client/tests/fuzz_corpus.rs).
#![no_main]

// Each target uses one of the entries.
#[allow(dead_code)]
#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::client_response(data));
