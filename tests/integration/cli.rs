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
        again.stdout.contains("5 files unchanged"),
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
    let run = amlgen(&["validate", "--format", "json", &fixture("cidr-overlap")]);
    assert_eq!(run.code, 1);
    let diagnostics: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(diagnostics[0]["code"], "cidr-overlap");
    assert_eq!(diagnostics[0]["line"], 15);
    assert_eq!(amlgen(&["validate", &example("locked-nat.yaml")]).code, 0);
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
