//! How long emitting takes: the resource model, Bicep, ARM and the README of each example,
//! in memory (no parsing, checking or disk). Run with `cargo bench --bench emit`.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};

fn plans() -> Vec<(String, amlgen::plan::Plan)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut specs: Vec<_> = std::fs::read_dir(root.join("examples"))
        .expect("examples/")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    specs.sort();
    specs
        .into_iter()
        .filter_map(|path| {
            let compiled = amlgen::compile_file(&path, &[]).ok()?.remove(0);
            let plan = compiled.plan?;
            Some((plan.name.clone(), *plan))
        })
        .collect()
}

fn emit(c: &mut Criterion) {
    let plans = plans();
    c.bench_function("emit every example", |b| {
        b.iter(|| {
            for (_, plan) in &plans {
                std::hint::black_box(amlgen::emit::render(plan, amlgen::VERSION).ok());
            }
        })
    });
    for (name, plan) in &plans {
        c.bench_function(&format!("emit {name}"), |b| {
            b.iter(|| std::hint::black_box(amlgen::emit::render(plan, amlgen::VERSION).ok()))
        });
    }
}

criterion_group!(benches, emit);
criterion_main!(benches);
