//! Any bytes given to `amlgen verify` as an ARM template (read as JSON, then its network facts,
//! expressions, rules, routes and flows) end in a report that passes or fails; never a panic, a
//! hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = amlgen::verify_text(text);
    }
});
