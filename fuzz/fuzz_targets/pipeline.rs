//! Any bytes taken through the whole pipeline in memory (parse, schema, checks, plan, resource
//! model, Bicep, ARM and README) end in diagnostics or in rendered files; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = amlgen::source::Source::from_bytes("fuzz.yaml", data.to_vec());
    let Ok(compiled) = amlgen::compile(source, std::path::Path::new("examples")) else {
        return;
    };
    if let Some(plan) = compiled.plan {
        let _ = amlgen::emit::render(&plan, amlgen::VERSION);
    }
});
