//! Any bytes taken through the whole pipeline in memory (parse, schema, checks, plan, resource
//! model, Bicep, ARM and README) end in diagnostics or in rendered files; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = amlgen::source::Source::from_bytes("fuzz.yaml", data.to_vec());
    let Ok(units) = amlgen::compile(source, std::path::Path::new("examples")) else {
        return;
    };
    for plan in units.into_iter().filter_map(|unit| unit.plan) {
        let _ = amlgen::emit::render(&plan, amlgen::VERSION);
    }
});
