//! The examples are the golden files: each `examples/<spec>.yaml` must render to exactly the
//! committed `out/<name>/`, deterministically, whatever the order of its mapping keys, with Bicep
//! and ARM that agree.

use std::path::Path;

use amlgen::emit::Artifact;
use amlgen::source::Source;

use crate::agreement::assert_agree;
use crate::harness::{root, yaml_files};

fn render(source: Source, base: &Path) -> (String, Vec<Artifact>) {
    let compiled = amlgen::compile(source, base).unwrap().remove(0);
    let plan = compiled
        .plan
        .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    (
        plan.name.clone(),
        amlgen::emit::render(&plan, amlgen::VERSION).unwrap(),
    )
}

fn render_file(path: &Path) -> (String, Vec<Artifact>) {
    let text = std::fs::read_to_string(path).unwrap();
    let relative = path.strip_prefix(root()).unwrap().display().to_string();
    render(Source::new(relative, text), path.parent().unwrap())
}

#[test]
fn examples_match_the_committed_output() {
    for example in yaml_files("examples") {
        let (name, artifacts) = render_file(&example);
        let dir = root().join("out").join(&name);
        let mut committed: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        committed.sort();
        let rendered: Vec<String> = artifacts.iter().map(|a| a.name.clone()).collect();
        assert_eq!(
            committed,
            rendered,
            "{}: files differ; run `cargo run -- render examples/`",
            example.display()
        );
        for artifact in &artifacts {
            let on_disk = std::fs::read_to_string(dir.join(&artifact.name)).unwrap();
            if on_disk != artifact.contents {
                let diff = similar::TextDiff::from_lines(&on_disk, &artifact.contents);
                panic!(
                    "out/{name}/{} is stale; run `cargo run -- render examples/`:\n{}",
                    artifact.name,
                    diff.unified_diff()
                        .context_radius(3)
                        .header("committed", "rendered")
                );
            }
        }
    }
}

#[test]
fn rendering_twice_gives_the_same_bytes() {
    for example in yaml_files("examples") {
        assert_eq!(render_file(&example), render_file(&example));
    }
}

/// Reverses the order of every mapping's keys.
fn reversed(value: serde_yaml::Value) -> serde_yaml::Value {
    match value {
        serde_yaml::Value::Mapping(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.reverse();
            serde_yaml::Value::Mapping(entries.into_iter().map(|(k, v)| (k, reversed(v))).collect())
        }
        serde_yaml::Value::Sequence(items) => {
            serde_yaml::Value::Sequence(items.into_iter().map(reversed).collect())
        }
        other => other,
    }
}

/// Every mapping key, depth first, in the order written.
fn key_order(value: &serde_yaml::Value) -> Vec<String> {
    match value {
        serde_yaml::Value::Mapping(map) => map
            .iter()
            .flat_map(|(k, v)| std::iter::once(format!("{k:?}")).chain(key_order(v)))
            .collect(),
        serde_yaml::Value::Sequence(items) => items.iter().flat_map(key_order).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn mapping_key_order_does_not_change_the_output() {
    for example in yaml_files("examples") {
        let text = std::fs::read_to_string(&example).unwrap();
        let original: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let permuted = serde_yaml::to_string(&reversed(original.clone())).unwrap();
        assert_ne!(
            key_order(&serde_yaml::from_str(&permuted).unwrap()),
            key_order(&original),
            "{}: the permutation must change the order of the keys",
            example.display()
        );
        let base = example.parent().unwrap();
        assert_eq!(
            render(Source::new("permuted.yaml", permuted), base),
            render_file(&example),
            "{}",
            example.display()
        );
    }
}

#[test]
fn bicep_and_arm_describe_the_same_resources() {
    for example in yaml_files("examples") {
        let (_, artifacts) = render_file(&example);
        let text = |name: &str| {
            artifacts
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.contents.clone())
        };
        let bicep: Vec<String> = ["main.bicep", "computes.bicep"]
            .iter()
            .filter_map(|n| text(n))
            .collect();
        assert_agree(&bicep, &text("azuredeploy.json").unwrap());
    }
}

#[test]
fn examples_carry_their_schema_modeline_and_validate_with_only_the_warnings_they_show() {
    for example in yaml_files("examples") {
        let text = std::fs::read_to_string(&example).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schemas/amlgen.schema.json"),
            "{}",
            example.display()
        );
        let compiled = amlgen::compile_file(&example, &[]).unwrap().remove(0);
        let codes: Vec<&str> = compiled
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        // minimal.yaml shows the default-outbound warning; guide-2021.yaml is the 2021 guide's
        // locked setup, which Batch's retirement of classic node communication broke.
        let expected: &[&str] = match example.file_name().and_then(|n| n.to_str()) {
            Some("minimal.yaml") => &["default-outbound-access"],
            Some("guide-2021.yaml") => &["guide-lockdown-blocks-batch"],
            _ => &[],
        };
        assert_eq!(codes, expected, "{}", example.display());
    }
}

#[test]
fn generated_files_are_tidy() {
    for example in yaml_files("examples") {
        for artifact in render_file(&example).1 {
            let text = &artifact.contents;
            assert!(
                text.ends_with('\n') && !text.ends_with("\n\n"),
                "{}",
                artifact.name
            );
            assert!(
                !text.contains('\r') && !text.contains("\n\n\n"),
                "{}",
                artifact.name
            );
            assert!(
                text.lines().all(|l| l == l.trim_end()),
                "{} has trailing spaces",
                artifact.name
            );
        }
    }
}

/// The names of `template`'s parameters that no `parameters('...')` of the same template reads;
/// nested templates are checked on their own.
fn unread_arm_parameters(template: &serde_json::Value, out: &mut Vec<String>) {
    let resources = &template["resources"];
    let text = resources.to_string();
    for name in template["parameters"].as_object().unwrap().keys() {
        if !text.contains(&format!("parameters('{name}')")) {
            out.push(name.clone());
        }
    }
    for r in resources.as_array().unwrap() {
        if r["type"] == "Microsoft.Resources/deployments" {
            unread_arm_parameters(&r["properties"]["template"], out);
        }
    }
}

#[test]
fn every_parameter_is_used() {
    for example in yaml_files("examples") {
        let (name, artifacts) = render_file(&example);
        for artifact in artifacts.iter().filter(|a| a.name.ends_with(".bicep")) {
            let text = &artifact.contents;
            for line in text.lines().filter_map(|l| l.strip_prefix("param ")) {
                let param = line.split(' ').next().unwrap();
                let uses = text
                    .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .filter(|w| *w == param)
                    .count();
                assert!(
                    uses > 1,
                    "{name}/{}: `{param}` is never used",
                    artifact.name
                );
            }
        }
        let arm = artifacts
            .iter()
            .find(|a| a.name == "azuredeploy.json")
            .unwrap();
        let mut unread = Vec::new();
        unread_arm_parameters(&serde_json::from_str(&arm.contents).unwrap(), &mut unread);
        assert!(unread.is_empty(), "{name}/azuredeploy.json: {unread:?}");
    }
}
