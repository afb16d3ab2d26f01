//! Shared helpers: paths in the repository, running the CLI in-process, scratch folders.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The repository root.
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.yaml` in `dir` (relative to the root), sorted.
pub(crate) fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// What one CLI run printed and returned.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: u8,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `amlgen ARGS` in-process.
pub(crate) fn amlgen(args: &[&str]) -> Run {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("amlgen")
        .chain(args.iter().copied())
        .map(OsString::from);
    let code = amlgen::cli::run(argv, &mut out, &mut err, anstream::ColorChoice::Never);
    Run {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

/// A fresh, empty scratch folder unique to `name` and this process.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amlgen-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Renders `plan` and proves its ARM template with `amlgen verify` (every required flow passes,
/// every forbidden one is stopped) before handing the files back: every spec a test renders is
/// held to what the examples are.
pub(crate) fn render_verified(plan: &amlgen::plan::Plan) -> Vec<amlgen::emit::Artifact> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let artifacts = amlgen::emit::render(plan, amlgen::VERSION).unwrap();
    let arm = artifacts
        .iter()
        .find(|a| a.name == "azuredeploy.json")
        .unwrap();
    let dir = scratch(&format!("verify-{}", COUNT.fetch_add(1, Ordering::Relaxed)));
    let path = dir.join("azuredeploy.json");
    std::fs::write(&path, &arm.contents).unwrap();
    // The examples' service tags, for templates whose routes are IP prefixes.
    let tags = root().join("examples/service-tags/ServiceTags_Public_2025-10-26.excerpt.json");
    let run = amlgen(&[
        "verify",
        "--service-tags",
        tags.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}: {}{}", plan.name, run.stdout, run.stderr);
    std::fs::remove_dir_all(dir).unwrap();
    artifacts
}
