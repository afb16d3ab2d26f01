//! Any bytes given to the spec loader (the YAML reader with its position index) parse or become
//! diagnostics; never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = amlgen::source::Source::from_bytes("fuzz.yaml", data.to_vec());
    let _ = amlgen::yaml::parse(&source);
});
