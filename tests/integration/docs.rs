//! The docs say what the code does: every command the README and `docs/` show in a `sh` block
//! runs, and every diagnostic or finding code they name exists.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{root, scratch};

/// README.md and every Markdown file of `docs/`.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The lines of the ```sh blocks of `text`, without their comments.
fn shell_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        match line.trim() {
            "```sh" => inside = true,
            "```" => inside = false,
            command if inside && !command.is_empty() => {
                let command = command.split(" # ").next().unwrap_or(command);
                lines.push(command.trim().to_string());
            }
            _ => {}
        }
    }
    lines
}

/// Copies `examples/` (with its service tags) into `dir`, where the docs' commands run.
fn copy_examples(dir: &Path) {
    let examples = dir.join("examples");
    for entry in walk(&root().join("examples")) {
        let copy = examples.join(entry.strip_prefix(root().join("examples")).unwrap());
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::copy(&entry, copy).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn every_amlgen_command_the_docs_show_runs() {
    let dir = scratch("docs-commands");
    copy_examples(&dir);
    let mut ran = 0;
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        for line in shell_lines(&text) {
            let args = match line.strip_prefix("cargo run -- ") {
                Some(rest) => rest,
                None => match line.strip_prefix("amlgen ") {
                    Some(rest) => rest,
                    None => continue,
                },
            };
            let args: Vec<&str> = args.split_whitespace().collect();
            let run = Command::new(env!("CARGO_BIN_EXE_amlgen"))
                .args(&args)
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{}: `{line}` exits {:?}: {}",
                document.display(),
                run.status.code(),
                String::from_utf8_lossy(&run.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 2, "the README's commands were not found");
}

/// The codes `text` names as `error[code]`, `warning[code]`, `assumes[code]`, or `verify-...`
/// in backticks.
fn named_codes(text: &str) -> Vec<String> {
    let mut codes = Vec::new();
    for marker in ["error[", "warning[", "assumes["] {
        for (at, _) in text.match_indices(marker) {
            let rest = &text[at + marker.len()..];
            if let Some(end) = rest.find(']') {
                codes.push(rest[..end].to_string());
            }
        }
    }
    for (at, _) in text.match_indices("`verify-") {
        let rest = &text[at + 1..];
        if let Some(end) = rest.find('`') {
            codes.push(rest[..end].to_string());
        }
    }
    codes
}

#[test]
fn every_code_the_docs_name_exists() {
    let diagnostics = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    let verify = std::fs::read_to_string(root().join("docs/verify.md")).unwrap();
    let documented = |code: &str| {
        diagnostics.contains(&format!("\n## `{code}`\n"))
            || verify.contains(&format!("\n### `{code}`\n"))
    };
    let defined: Vec<&str> = amlgen::diag::Code::ALL.iter().map(|c| c.as_str()).collect();
    for heading in diagnostics.lines().filter_map(|l| l.strip_prefix("## `")) {
        let code = heading.trim_end_matches('`');
        assert!(
            defined.contains(&code),
            "docs/diagnostics.md documents `{code}`, which is no code"
        );
    }
    let mut checked = 0;
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        for code in named_codes(&text) {
            if code == "code" || code.contains(' ') {
                continue;
            }
            assert!(
                documented(&code),
                "{} names `{code}`, which is documented nowhere",
                document.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 10, "{checked}");
}
