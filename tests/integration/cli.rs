//! The command line end to end: exit codes, what is written, `--check`, and bad input.

use crate::harness::{amlgen, root, scratch};

fn example(name: &str) -> String {
    root().join("examples").join(name).display().to_string()
}

fn fixture(code: &str) -> String {
    root()
        .join(format!("tests/fixtures/invalid/{code}.yaml"))
        .display()
        .to_string()
}

#[test]
fn help_teaches_the_commands_and_exit_codes() {
    let run = amlgen(&["--help"]);
    assert_eq!(run.code, 0);
    for word in ["render", "validate", "schema", "Exit codes"] {
        assert!(run.stdout.contains(word), "{word} missing from --help");
    }
}

#[test]
fn render_writes_then_check_passes_then_detects_drift() {
    let out = scratch("render");
    let dir = out.display().to_string();
    let run = amlgen(&["render", &example("minimal.yaml"), "-o", &dir]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("wrote"));
    assert!(
        run.stderr.contains("default-outbound-access"),
        "the warning is shown"
    );
    assert_eq!(
        amlgen(&["render", "--check", &example("minimal.yaml"), "-o", &dir]).code,
        0
    );
    let again = amlgen(&["render", &example("minimal.yaml"), "-o", &dir]);
    assert!(
        again
            .stdout
            .contains("1 specs: 0 rendered, 1 unchanged, 0 failed"),
        "{}",
        again.stdout
    );
    std::fs::write(out.join("minimal/main.bicep"), "// edited by hand\n").unwrap();
    let check = amlgen(&["render", "--check", &example("minimal.yaml"), "-o", &dir]);
    assert_eq!(check.code, 1);
    assert!(
        check.stderr.contains("stale:") && check.stderr.contains("main.bicep"),
        "{}",
        check.stderr
    );
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn an_invalid_spec_fails_with_1_and_writes_nothing() {
    let out = scratch("invalid");
    let dir = out.join("target").display().to_string();
    let run = amlgen(&[
        "render",
        &example("minimal.yaml"),
        &fixture("subnet-too-small"),
        "-o",
        &dir,
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error[subnet-too-small]")
            && run.stderr.contains("subnet-too-small.yaml:13:23"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was written"));
    assert!(
        !out.join("target").exists(),
        "no output folder for a failed run, not even the valid spec's"
    );
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn validate_reports_json_for_tools() {
    let run = amlgen(&[
        "validate",
        "--format",
        "json",
        &fixture("cidr-overlap"),
        &fixture("subnet-unknown"),
    ]);
    assert_eq!(run.code, 1);
    let diagnostics: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(diagnostics[0]["code"], "cidr-overlap");
    assert_eq!(diagnostics[0]["line"], 15);
    assert!(
        diagnostics
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "subnet-unknown"),
        "one array for the whole run"
    );
    let valid = amlgen(&["validate", "--format", "json", &example("locked-nat.yaml")]);
    assert_eq!((valid.code, valid.stdout.as_str()), (0, "[]\n"));
}

#[test]
fn folders_are_expanded_to_their_specs() {
    let run = amlgen(&["validate", &root().join("examples").display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.ends_with(": valid"))
            .count(),
        crate::harness::yaml_files("examples").len()
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(amlgen(&["render"]).code, 2);
    assert_eq!(amlgen(&["frobnicate"]).code, 2);
    let run = amlgen(&["validate", "/nonexistent/spec.yaml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read /nonexistent/spec.yaml"));
    let empty = scratch("no-spec");
    let run = amlgen(&["validate", &empty.display().to_string()]);
    assert_eq!(run.code, 2, "a folder without specs is an error");
    assert!(run.stderr.contains("no spec found"), "{}", run.stderr);
    std::fs::remove_dir_all(empty).unwrap();
}

#[test]
fn an_unwritable_output_folder_is_an_io_error() {
    let out = scratch("unwritable");
    std::fs::write(out.join("file"), "not a folder").unwrap();
    let dir = out.join("file").display().to_string();
    let run = amlgen(&["render", &example("minimal.yaml"), "-o", &dir]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn schema_prints_the_embedded_draft_07_schema() {
    let run = amlgen(&["schema"]);
    assert_eq!(run.code, 0);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(
        run.stdout,
        std::fs::read_to_string(root().join("schemas/amlgen.schema.json")).unwrap()
    );
}

#[test]
fn names_and_tags_cannot_inject_bicep_or_arm() {
    let out = scratch("inject");
    let spec = out.join("inject.yaml");
    let text = std::fs::read_to_string(example("minimal.yaml")).unwrap().replace(
        "location: westeurope\n",
        "location: westeurope\ntags:\n  \"owner's\": \"x' }\\nresource evil 'x' = { ${y} \\\\\"\n  arm: \"[concat('a')]\"\n",
    );
    std::fs::write(&spec, text).unwrap();
    let dir = out.join("out").display().to_string();
    let run = amlgen(&["render", &spec.display().to_string(), "-o", &dir]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bicep = std::fs::read_to_string(out.join("out/minimal/main.bicep")).unwrap();
    assert!(
        bicep.contains(r"'owner\'s': 'x\' }\nresource evil \'x\' = { \${y} \\"),
        "{bicep}"
    );
    assert!(!bicep.lines().any(|l| l.starts_with("resource evil")));
    let arm: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("out/minimal/azuredeploy.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(arm["resources"][0]["tags"]["arm"], "[[concat('a')]");
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn sarif_is_one_log_that_matches_the_sarif_2_1_0_schema() {
    // tests/schemas/sarif-2.1.0-rtm.5.json comes unchanged from the npm package
    // @microsoft/jest-sarif (MIT); 2.1.0-rtm.5 is the schema of the SARIF 2.1.0 standard. Its
    // language-tag pattern has a bare `]`, which JavaScript reads as a literal and Rust's regex
    // refuses: it is escaped here, with the same meaning.
    let text = std::fs::read_to_string(root().join("tests/schemas/sarif-2.1.0-rtm.5.json"))
        .unwrap()
        .replace(r#"{2}]?$""#, r#"{2}\\]?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let run = amlgen(&[
        "validate",
        "--format",
        "sarif",
        &fixture("cidr-overlap"),
        &example("minimal.yaml"),
    ]);
    assert_eq!(run.code, 1);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "cidr-overlap"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 15));
    assert!(results.iter().any(|r| r["level"] == "warning"));
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken), "the schema test can fail");
}

#[test]
fn fail_on_warning_fails_a_spec_with_warnings_and_writes_nothing() {
    let out = scratch("fail-on");
    let dir = out.join("target").display().to_string();
    let spec = example("minimal.yaml");
    assert_eq!(amlgen(&["validate", &spec]).code, 0);
    let strict = amlgen(&["validate", "--fail-on", "warning", &spec]);
    assert_eq!(strict.code, 1);
    assert!(
        strict.stdout.contains("1 specs: 0 valid, 1 failed"),
        "{}",
        strict.stdout
    );
    let run = amlgen(&["render", "--fail-on", "warning", &spec, "-o", &dir]);
    assert_eq!(run.code, 1);
    assert!(!out.join("target").exists());
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn human_diagnostics_are_sorted_by_file_and_line() {
    let run = amlgen(&[
        "validate",
        &fixture("subnet-unknown"),
        &fixture("cidr-overlap"),
    ]);
    assert_eq!(run.code, 1);
    let cidr = run.stderr.find("cidr-overlap.yaml:").unwrap();
    let subnet = run.stderr.find("subnet-unknown.yaml:").unwrap();
    assert!(cidr < subnet, "{}", run.stderr);
}

#[test]
fn folders_are_searched_recursively_and_globs_expanded() {
    let dir = scratch("recursive");
    std::fs::create_dir_all(dir.join("team/nested")).unwrap();
    std::fs::copy(example("minimal.yaml"), dir.join("team/nested/a.yml")).unwrap();
    std::fs::copy(example("gpu-vm.yaml"), dir.join("team/b.yaml")).unwrap();
    std::fs::write(dir.join("team/notes.txt"), "not a spec").unwrap();
    let run = amlgen(&["validate", &dir.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("2 specs: 2 valid, 0 failed"),
        "{}",
        run.stdout
    );
    let pattern = format!("{}/*.yaml", root().join("examples").display());
    let globbed = amlgen(&["validate", &pattern]);
    assert_eq!(globbed.code, 0, "{}", globbed.stderr);
    let specs = crate::harness::yaml_files("examples").len();
    assert!(
        globbed
            .stdout
            .contains(&format!("{specs} specs: {specs} valid"))
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn two_specs_with_one_name_are_a_diagnostic_naming_both() {
    let run = amlgen(&[
        "validate",
        &example("minimal.yaml"),
        &fixture("spec-name-duplicate"),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error[spec-name-duplicate]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("spec-name-duplicate.yaml:3:7")
            && run.stderr.contains("also the name of")
            && run.stderr.contains("examples/minimal.yaml"),
        "{}",
        run.stderr
    );
}

/// Every file under `dir`, relative to it, with its bytes.
fn tree(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut folders: Vec<_> = dir
        .exists()
        .then(|| dir.to_path_buf())
        .into_iter()
        .collect();
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn output_bytes_do_not_depend_on_the_number_of_threads() {
    let out = scratch("jobs");
    let examples = root().join("examples").display().to_string();
    for jobs in ["1", "4"] {
        let dir = out.join(jobs).display().to_string();
        let run = amlgen(&["render", "-j", jobs, &examples, "-o", &dir]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let one = tree(&out.join("1"));
    assert_eq!(one.len(), tree(&root().join("out")).len());
    assert!(one == tree(&out.join("4")), "-j 1 and -j 4 differ");
    std::fs::remove_dir_all(out).unwrap();
}

/// A scratch folder `out` holding a copy of gpu-vm.yaml as `gpu.yaml`: (`out`, `out/out` as the
/// output folder, the spec's path, its text).
fn gpu_spec(name: &str) -> (std::path::PathBuf, String, String, String) {
    let out = scratch(name);
    let spec = out.join("gpu.yaml");
    let text = std::fs::read_to_string(example("gpu-vm.yaml")).unwrap();
    std::fs::write(&spec, &text).unwrap();
    let dir = out.join("out").display().to_string();
    (out, dir, spec.display().to_string(), text)
}

#[test]
fn files_the_spec_no_longer_produces_are_removed_and_check_reports_them() {
    let (out, dir, spec, text) = gpu_spec("leftover");
    assert_eq!(amlgen(&["render", &spec, "-o", &dir]).code, 0);
    let computes = out.join("out/tailspin-gpu/computes.bicep");
    assert!(computes.exists());
    std::fs::write(out.join("out/tailspin-gpu/mine.bicep"), "// my own\n").unwrap();
    let same_group = text.replace("  resource_group: rg-tailspin-ml\n", "");
    assert_ne!(same_group, text);
    std::fs::write(out.join("gpu.yaml"), same_group).unwrap();
    let check = amlgen(&["render", "--check", &spec, "-o", &dir]);
    assert_eq!(check.code, 1);
    assert!(
        check
            .stderr
            .contains("computes.bicep (the spec no longer produces it"),
        "{}",
        check.stderr
    );
    let run = amlgen(&["render", &spec, "-o", &dir]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("removed"), "{}", run.stdout);
    assert!(!computes.exists());
    assert!(
        out.join("out/tailspin-gpu/mine.bicep").exists(),
        "not generated: kept"
    );
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn a_file_amlgen_did_not_generate_is_only_overwritten_with_force() {
    let out = scratch("foreign");
    let dir = out.display().to_string();
    std::fs::create_dir_all(out.join("minimal")).unwrap();
    std::fs::write(out.join("minimal/main.bicep"), "// hand-written\n").unwrap();
    let run = amlgen(&["render", &example("minimal.yaml"), "-o", &dir]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("minimal/main.bicep: was not generated by amlgen"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(out.join("minimal/main.bicep")).unwrap(),
        "// hand-written\n"
    );
    assert_eq!(tree(&out).len(), 1, "nothing else written, no temp file");
    let forced = amlgen(&["render", "--force", &example("minimal.yaml"), "-o", &dir]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    std::fs::remove_dir_all(out).unwrap();
}

#[cfg(unix)]
#[test]
fn a_planted_symlink_never_redirects_a_write() {
    let out = scratch("symlink");
    let dir = out.join("out");
    std::fs::create_dir_all(dir.join("minimal")).unwrap();
    std::fs::write(out.join("outside"), "precious").unwrap();
    std::os::unix::fs::symlink(out.join("outside"), dir.join("minimal/azuredeploy.json")).unwrap();
    // Where the temp file of amlgen 0.1.0 went: now unused.
    std::os::unix::fs::symlink(
        out.join("outside"),
        dir.join("minimal/.main.bicep.amlgen-tmp"),
    )
    .unwrap();
    let run = amlgen(&[
        "render",
        "--force",
        &example("minimal.yaml"),
        "-o",
        &dir.display().to_string(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("azuredeploy.json: is a symbolic link"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(out.join("outside")).unwrap(),
        "precious"
    );
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn check_ignores_only_the_version_stamp() {
    let (out, dir, spec_arg, text) = gpu_spec("stamp");
    let spec = out.join("gpu.yaml");
    let tagged = |value: &str| {
        text.replace(
            "tags:\n",
            &format!("tags:\n  generator: \"amlgen {value}\"\n"),
        )
    };
    std::fs::write(&spec, tagged("1.0")).unwrap();
    assert_eq!(amlgen(&["render", &spec_arg, "-o", &dir]).code, 0);
    let check = || amlgen(&["render", "--check", &spec_arg, "-o", &dir]).code;
    let folder = out.join("out/tailspin-gpu");
    let edit = |file: &str, from: &str, to: &str| {
        let path = folder.join(file);
        let old = std::fs::read_to_string(&path).unwrap();
        assert!(old.contains(from), "{file} lacks {from}");
        std::fs::write(&path, old.replacen(from, to, 1)).unwrap();
        old
    };
    let stamp = format!("amlgen {}", amlgen::VERSION);
    let arm_stamp = format!("\"version\": \"{}\"", amlgen::VERSION);
    for (file, from, to) in [
        ("main.bicep", stamp.as_str(), "amlgen 9.9.9"),
        ("main.bicepparam", stamp.as_str(), "amlgen 9.9.9"),
        ("README.md", stamp.as_str(), "amlgen 9.9.9"),
        (
            "azuredeploy.json",
            arm_stamp.as_str(),
            "\"version\": \"9.9.9\"",
        ),
    ] {
        let old = edit(file, from, to);
        assert_eq!(check(), 0, "a new amlgen version alone is fresh ({file})");
        std::fs::write(folder.join(file), old).unwrap();
    }
    edit(
        "azuredeploy.json",
        "\"version\": \"latest\"",
        "\"version\": \"22.04.202401\"",
    );
    assert_eq!(check(), 1, "a changed VM image version is stale");
    assert_eq!(amlgen(&["render", &spec_arg, "-o", &dir]).code, 0);
    std::fs::write(&spec, tagged("2.0")).unwrap();
    assert_eq!(
        check(),
        1,
        "a changed tag value `amlgen 1.0` -> `amlgen 2.0` is stale"
    );
    std::fs::remove_dir_all(out).unwrap();
}

/// `count` copies of minimal.yaml named `spec-<i>` with a `variant` tag, in `dir`.
fn many_specs(dir: &std::path::Path, count: usize, variant: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let text = std::fs::read_to_string(example("minimal.yaml")).unwrap();
    for i in 0..count {
        let spec = text.replace(
            "name: minimal\n",
            &format!("name: spec-{i}\ntags:\n  variant: {variant}\n"),
        );
        std::fs::write(dir.join(format!("spec-{i}.yaml")), spec).unwrap();
    }
}

fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_amlgen"))
}

/// Files under `dir` whose name says they are amlgen's temporary files.
fn temps(dir: &std::path::Path) -> Vec<String> {
    tree(dir)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name.contains(".amlgen-") || name.ends_with(".tmp"))
        .collect()
}

#[test]
fn two_concurrent_renders_into_one_folder_never_mix() {
    let out = scratch("concurrent");
    let dir = out.join("out");
    many_specs(&out.join("a"), 40, "a");
    many_specs(&out.join("b"), 40, "b");
    let render = |specs: &str| {
        binary()
            .args(["render", "--format", "json", "-o"])
            .arg(&dir)
            .arg(out.join(specs))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (render("a"), render("b"));
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    assert!(temps(&dir).is_empty(), "{:?}", temps(&dir));
    let fresh = |specs: &str| {
        let run = amlgen(&[
            "render",
            "--check",
            &out.join(specs).display().to_string(),
            "-o",
            &dir.display().to_string(),
        ]);
        run.code == 0
    };
    assert!(
        fresh("a") || fresh("b"),
        "the folder holds one whole run, not a mix of two"
    );
    std::fs::remove_dir_all(out).unwrap();
}

#[cfg(unix)]
#[test]
fn a_render_stopped_by_sigterm_leaves_no_temp_file_and_no_broken_file() {
    let out = scratch("sigterm");
    many_specs(&out.join("specs"), 40, "a");
    for attempt in 0..3 {
        let dir = out.join(format!("out-{attempt}"));
        let mut child = binary()
            .args(["render", "-j", "1", "-o"])
            .arg(&dir)
            .arg(out.join("specs"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Stop it while it has temporary files staged.
        while temps(&dir).is_empty() && child.try_wait().unwrap().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert!(temps(&dir).is_empty(), "{status:?}: {:?}", temps(&dir));
        for (name, bytes) in tree(&dir) {
            if name.ends_with("azuredeploy.json") {
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap();
            }
        }
    }
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn init_writes_a_starter_spec_that_renders_without_edits() {
    let dir = scratch("init");
    let run = binary()
        .args(["init", "demo-net"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let spec = std::fs::read_to_string(dir.join("demo-net.yaml")).unwrap();
    assert!(spec.starts_with("# yaml-language-server: $schema=amlgen.schema.json\n"));
    assert!(dir.join("amlgen.schema.json").exists());
    let render = binary()
        .args(["render", "demo-net.yaml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&render.stderr);
    assert!(render.status.success() && stderr.is_empty(), "{stderr}");
    assert!(dir.join("out/demo-net/main.bicep").exists());
    let again = binary()
        .args(["init", "demo-net"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "never over an existing spec");
    let bad = binary()
        .args(["init", "Bad_Name"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = amlgen(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}");
        assert!(
            run.stdout.contains("render") && run.stdout.contains("check"),
            "{shell}"
        );
    }
}
