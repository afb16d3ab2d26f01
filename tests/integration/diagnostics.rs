//! One invalid spec per diagnostic code: each fixture `tests/fixtures/invalid/<code>.yaml` marks
//! the line its diagnostic must point at with `# expect: <code>`. A fixture whose diagnostic
//! needs other specs in the same run names them in `# with: <path>` lines (relative to it).

use std::path::{Path, PathBuf};

use amlgen::diag::Code;

use crate::harness::{root, yaml_files};

/// `(code, 1-based line)` of every `# expect:` marker in `text`.
fn expectations(text: &str) -> Vec<(String, usize)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            line.split_once("# expect: ")
                .map(|(_, code)| (code.trim().to_string(), i + 1))
        })
        .collect()
}

/// Compiles the fixture at `path` in one run after the specs its `# with:` lines name.
fn compile_fixture(path: &Path, text: &str) -> amlgen::Compiled {
    let mut run: Vec<PathBuf> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# with: "))
        .map(|with| path.parent().unwrap().join(with.trim()))
        .collect();
    run.push(path.to_path_buf());
    amlgen::check_files(&run).unwrap().pop().unwrap().compiled
}

#[test]
fn every_code_has_a_fixture() {
    for code in Code::ALL {
        let path = root().join(format!("tests/fixtures/invalid/{}.yaml", code.as_str()));
        assert!(
            path.exists(),
            "no fixture for `{}` at {}",
            code.as_str(),
            path.display()
        );
    }
}

#[test]
fn every_fixture_reports_its_code_at_the_marked_line() {
    for path in yaml_files("tests/fixtures/invalid") {
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = expectations(&text);
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` marker",
            path.display()
        );
        let compiled = compile_fixture(&path, &text);
        let json = amlgen::diag::render(amlgen::diag::Format::Json, &[compiled.findings()]);
        let found: Vec<(String, usize)> = serde_json::from_str::<Vec<serde_json::Value>>(&json)
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["line"].as_u64().unwrap() as usize,
                )
            })
            .collect();
        for expectation in &expected {
            assert!(
                found.contains(expectation),
                "{}: expected {expectation:?}, found {found:?}",
                path.display()
            );
        }
        let stem = path.file_stem().unwrap().to_str().unwrap();
        assert!(
            expected.iter().any(|(code, _)| code == stem),
            "{} is named after a code it does not expect",
            path.display()
        );
    }
}

#[test]
fn errors_block_the_plan_and_warnings_do_not() {
    for path in yaml_files("tests/fixtures/invalid") {
        let compiled = amlgen::compile_file(&path).unwrap();
        let errors = amlgen::diag::has_errors(&compiled.diagnostics);
        assert_eq!(compiled.plan.is_none(), errors, "{}", path.display());
    }
}

#[test]
fn every_code_is_documented() {
    let docs = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    for code in Code::ALL {
        assert!(
            docs.contains(&format!("## `{}`", code.as_str())),
            "docs/diagnostics.md lacks `{}`",
            code.as_str()
        );
    }
}
