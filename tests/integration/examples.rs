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
        // locked setup, which Batch's retirement of classic node communication broke; the specs
        // whose no-public-IP compute relies on a workspace endpoint elsewhere say so.
        let expected: &[&str] = match example.file_name().and_then(|n| n.to_str()) {
            Some("minimal.yaml") => &["default-outbound-access"],
            Some("guide-2021.yaml") => &["guide-lockdown-blocks-batch"],
            Some("databricks.yaml" | "forced-tunnel.yaml" | "locked-nat.yaml") => {
                &["workspace-private-endpoint-assumed"]
            }
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

/// The cells of every table row below the `### <kind> `<name>`` heading of `readme`, up to the
/// next heading, with code quotes and `**` marks taken off.
fn readme_rows(readme: &str, kind: &str, name: &str) -> Vec<Vec<String>> {
    let heading = format!("### {kind} `{name}`");
    let Some(start) = readme.find(&heading) else {
        return Vec::new();
    };
    let section = &readme[start + heading.len()..];
    let section = &section[..section.find("\n#").unwrap_or(section.len())];
    section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---"))
        .skip(1)
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().replace("**", "").replace('`', ""))
                .collect()
        })
        .collect()
}

/// Every object of `type` in `value` (nested deployments included), by name.
fn resources_of<'a>(
    value: &'a serde_json::Value,
    kind: &str,
    out: &mut Vec<&'a serde_json::Value>,
) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(|t| t.as_str()) == Some(kind) {
                out.push(value);
            }
            map.values().for_each(|v| resources_of(v, kind, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| resources_of(v, kind, out)),
        _ => {}
    }
}

/// `prefix` or `prefixes` of a rule, as the README lists them.
fn one_or_many(properties: &serde_json::Value, key: &str) -> String {
    match properties.get(key) {
        Some(one) => one.as_str().unwrap().to_string(),
        None => properties[format!("{key}s")]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The README explains the plan (each rule's reason and source); what it lists must be what the
/// template deploys: every NSG rule and every route, row for row, with the same properties.
#[test]
fn every_readme_table_lists_what_its_template_deploys() {
    let mut checked = 0;
    for dir in std::fs::read_dir(root().join("out")).unwrap() {
        let dir = dir.unwrap().path();
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        let text = std::fs::read_to_string(dir.join("azuredeploy.json")).unwrap();
        let template: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut nsgs = Vec::new();
        resources_of(
            &template,
            "Microsoft.Network/networkSecurityGroups",
            &mut nsgs,
        );
        for nsg in nsgs {
            let name = nsg["name"].as_str().unwrap();
            let deployed: Vec<Vec<String>> = nsg["properties"]["securityRules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|rule| {
                    let p = &rule["properties"];
                    let protocol = match p["protocol"].as_str().unwrap() {
                        "*" => "Any".to_string(),
                        other => other.to_uppercase(),
                    };
                    vec![
                        p["priority"].to_string(),
                        p["direction"].as_str().unwrap().to_string(),
                        p["access"].as_str().unwrap().to_string(),
                        protocol,
                        one_or_many(p, "sourceAddressPrefix"),
                        one_or_many(p, "destinationAddressPrefix"),
                        one_or_many(p, "destinationPortRange"),
                        p["description"].as_str().unwrap().to_string(),
                    ]
                })
                .collect();
            let listed: Vec<Vec<String>> = readme_rows(&readme, "NSG", name)
                .into_iter()
                .map(|row| row[..8].to_vec())
                .collect();
            assert_eq!(listed, deployed, "{}: NSG {name}", dir.display());
            checked += 1;
        }
        let mut tables = Vec::new();
        resources_of(&template, "Microsoft.Network/routeTables", &mut tables);
        for table in tables {
            let name = table["name"].as_str().unwrap();
            let deployed: Vec<Vec<String>> = table["properties"]["routes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|route| {
                    let p = &route["properties"];
                    let hop = match p["nextHopType"].as_str().unwrap() {
                        "VirtualAppliance" => {
                            format!("appliance {}", p["nextHopIpAddress"].as_str().unwrap())
                        }
                        other => other.to_string(),
                    };
                    let prefix = p["addressPrefix"].as_str().unwrap();
                    let prefix = if prefix.parse::<ipnet::Ipv4Net>().is_ok() {
                        prefix.to_string()
                    } else {
                        format!("{prefix} (service tag)")
                    };
                    vec![route["name"].as_str().unwrap().to_string(), prefix, hop]
                })
                .collect();
            let listed: Vec<Vec<String>> = readme_rows(&readme, "Route table", name)
                .into_iter()
                .map(|row| row[..3].to_vec())
                .collect();
            assert_eq!(listed, deployed, "{}: route table {name}", dir.display());
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} NSGs and route tables found");
}
