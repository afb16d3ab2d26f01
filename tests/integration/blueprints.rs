//! Blueprints through the command line: an estate of bases, specs and environments, where its
//! diagnostics are located, `resolve`, and the layer schema.

use std::path::{Path, PathBuf};

use crate::harness::{amlgen, root, scratch};

/// A spec extending `base.base.yaml` (beside it), named `name`, in the VNet `range` (a /16).
fn team(name: &str, range: &str) -> String {
    format!(
        "extends: base.base.yaml\nname: {name}\nworkspace:\n  name: mlw-{name}\nnetwork:\n  vnet:\n    name: vnet-{name}\n    address_space: [{range}/16]\n  subnets:\n    - name: snet-a\n      address_prefix: {range}/24\ncompute:\n  - name: cpu\n    type: amlcompute\n    subnet: snet-a\n    max_instances: 4\n"
    )
}

/// A folder holding `base` as `base.base.yaml` and `specs` (file name, text).
fn estate(name: &str, base: &str, specs: &[(&str, String)]) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("base.base.yaml"), base).unwrap();
    for (file, text) in specs {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

const BASE: &str = "$lock: [network.outbound]\nlocation: eastus2\nworkspace:\n  private_endpoint: true\nnetwork:\n  outbound: locked\n  egress: nat\n";

#[test]
fn a_mistake_in_a_base_is_one_diagnostic_in_the_base_with_the_specs_it_was_found_through() {
    let base = BASE.replace("eastus2", "marsnorth");
    let specs: Vec<(&str, String)> = vec![
        ("a.yaml", team("team-a", "10.1.0.0")),
        ("b.yaml", team("team-b", "10.2.0.0")),
        ("c.yaml", team("team-c", "10.3.0.0")),
    ];
    let dir = estate("blueprint-base-mistake", &base, &specs);
    let run = amlgen(&["validate", dir.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr.matches("error[region-unknown]").count(),
        1,
        "{}",
        run.stderr
    );
    let base_file = dir.join("base.base.yaml").display().to_string();
    assert!(
        run.stderr.contains(&format!("--> {base_file}:2:11")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("found through 3 specs:"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains(": valid"), "{}", run.stdout);
}

#[test]
fn a_spec_that_changes_a_locked_key_is_refused_at_its_own_line() {
    let mut text = team("team-a", "10.1.0.0");
    text = text.replace("network:\n", "network:\n  outbound: open\n");
    let dir = estate("blueprint-locked", BASE, &[("a.yaml", text)]);
    let run = amlgen(&["validate", dir.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    let spec = dir.join("a.yaml").display().to_string();
    assert!(
        run.stderr
            .contains("error[blueprint-locked]: `network.outbound` is locked"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("--> {spec}:6:13")),
        "{}",
        run.stderr
    );
}

#[test]
fn environments_render_one_folder_each_and_the_base_none() {
    let mut text = team("team-a", "10.1.0.0");
    text.push_str("environments:\n  dev:\n    network:\n      vnet:\n        address_space: [10.9.0.0/16]\n      subnets:\n        - name: snet-a\n          address_prefix: 10.9.0.0/24\n  prod: {}\n");
    let dir = estate("blueprint-environments", BASE, &[("a.yaml", text)]);
    let out = dir.join("out");
    let run = amlgen(&["render", dir.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut folders: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    folders.sort();
    assert_eq!(folders, ["team-a-dev", "team-a-prod"]);
    let dev = std::fs::read_to_string(out.join("team-a-dev/azuredeploy.json")).unwrap();
    assert!(dev.contains("10.9.0.0/16") && !dev.contains("10.1.0.0/16"));
    // The VNet's name carries the environment, as the spec's does.
    assert!(dev.contains("\"vnet-team-a-dev\""), "{dev}");
    let verify = amlgen(&["verify", "--quiet", out.to_str().unwrap()]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
}

#[test]
fn two_environments_in_one_range_warn_that_they_overlap() {
    let mut text = team("team-a", "10.1.0.0");
    text.push_str("environments:\n  dev: {}\n  prod: {}\n");
    let dir = estate("blueprint-overlap", BASE, &[("a.yaml", text)]);
    let run = amlgen(&["validate", dir.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning[vnet-overlap]: address space 10.1.0.0/16 overlaps the VNet of"),
        "{}",
        run.stderr
    );
    let strict = amlgen(&["validate", "--fail-on", "warning", dir.to_str().unwrap()]);
    assert_eq!(strict.code, 1);
}

#[test]
fn a_base_outside_the_folders_given_is_refused() {
    let outside = scratch("blueprint-outside-base");
    std::fs::write(outside.join("base.base.yaml"), BASE).unwrap();
    let text = team("team-a", "10.1.0.0").replace(
        "extends: base.base.yaml",
        &format!("extends: {}", outside.join("base.base.yaml").display()),
    );
    let dir = scratch("blueprint-outside-spec");
    std::fs::write(dir.join("a.yaml"), text).unwrap();
    let run = amlgen(&["validate", dir.join("a.yaml").to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error[extends-invalid]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("lies outside the folders of the specs given"),
        "{}",
        run.stderr
    );
}

#[test]
fn resolve_prints_each_value_with_the_file_and_line_that_set_it() {
    let spec = root().join("examples/org/teams/fraud.yaml");
    let run = amlgen(&["resolve", spec.to_str().unwrap(), "--env", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let base = root().join("examples/org/standard.base.yaml");
    let line = |text: &str| {
        run.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(text))
            .unwrap_or_else(|| panic!("{text}\n{}", run.stdout))
            .to_string()
    };
    assert!(line("egress: forced_tunnel").ends_with(&format!("# {}:17", base.display())));
    assert!(line("max_instances: 2").ends_with(&format!("# {}:48", spec.display())));
    let unknown = amlgen(&["resolve", spec.to_str().unwrap(), "--env", "qa"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("it has `dev`, `prod`, `test`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn the_layer_schema_is_printed_and_written() {
    let run = amlgen(&["schema", "--base"]);
    assert_eq!(run.code, 0);
    let written = std::fs::read_to_string(root().join("schemas/amlgen.base.schema.json")).unwrap();
    assert_eq!(run.stdout, written);
    assert!(Path::new(&root().join("schemas/amlgen.base.schema.json")).is_file());
}
