//! One invalid spec per diagnostic code: each fixture `tests/fixtures/invalid/<code>.yaml` marks
//! the line its diagnostic must point at with `# expect: <code>`. A fixture whose diagnostic
//! needs other specs in the same run names them in `# with: <path>` lines (relative to it). And
//! the docs tell the truth: every code is documented, and every YAML block in the docs is a spec
//! that validates. A property test edits the examples at random: every edit compiles to a plan or
//! to diagnostics, never to an internal error or a panic; another generates valid specs, which
//! always render.

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
/// A fixture whose diagnostic is about a spec it cannot be (`spec-unreadable`) names that
/// spec in a `# read: <path>` line: the run checks that path in the fixture's place.
fn compile_fixture(path: &Path, text: &str) -> amlgen::Compiled {
    let instead = text
        .lines()
        .find_map(|line| line.strip_prefix("# read: "))
        .map(|read| path.parent().unwrap().join(read.trim()));
    let path = instead.as_deref().unwrap_or(path);
    let mut run: Vec<PathBuf> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# with: "))
        .map(|with| path.parent().unwrap().join(with.trim()))
        .collect();
    run.push(path.to_path_buf());
    let roots = amlgen::roots(&run);
    let checked = amlgen::check_files(&run, &roots, &|_| None::<()>).unwrap();
    checked.into_iter().last().unwrap().0.compiled
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
        // Read lossily: the `yaml-encoding` fixture is not UTF-8 on purpose.
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
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

/// Each fixture's diagnostics exactly as a person reads them (the human text, without colour),
/// pinned in `<fixture>.txt` beside it, as the Bicep compiler's baseline files pin its output.
/// `AMLGEN_BLESS=1 cargo test baseline` rewrites the baselines; review the diff.
#[test]
fn every_fixture_renders_its_baseline_text() {
    let bless = std::env::var_os("AMLGEN_BLESS").is_some();
    let prefix = format!("{}/", root().display());
    let mut stale = Vec::new();
    for path in yaml_files("tests/fixtures/invalid") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let compiled = compile_fixture(&path, &text);
        let styled = amlgen::diag::render(amlgen::diag::Format::Human, &[compiled.findings()]);
        let rendered = anstream::adapter::strip_str(&styled)
            .to_string()
            .replace(&prefix, "");
        let baseline = path.with_extension("txt");
        if bless {
            std::fs::write(&baseline, &rendered).unwrap();
        } else if std::fs::read_to_string(&baseline).ok().as_deref() != Some(rendered.as_str()) {
            stale.push(format!("{}:\n{rendered}", baseline.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "baselines differ (`AMLGEN_BLESS=1 cargo test baseline` rewrites them):\n{}",
        stale.join("\n")
    );
}

/// The diagnostic the README shows is the `subnet-too-small` fixture's, as amlgen prints it.
#[test]
fn the_readmes_diagnostic_is_what_amlgen_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let shown = readme
        .split("```text\n")
        .find(|block| block.starts_with("error[subnet-too-small]"))
        .and_then(|block| block.split("```").next())
        .expect("the README shows a subnet-too-small diagnostic");
    let baseline =
        std::fs::read_to_string(root().join("tests/fixtures/invalid/subnet-too-small.txt"))
            .unwrap();
    let printed = baseline
        .split("\n\n")
        .next()
        .unwrap()
        .replace("tests/fixtures/invalid/subnet-too-small.yaml", "spec.yaml")
        .replace(" # expect: subnet-too-small", "");
    assert_eq!(shown, format!("{printed}\n"));
}

#[test]
fn errors_block_the_plan_and_warnings_do_not() {
    for path in yaml_files("tests/fixtures/invalid") {
        let compiled = amlgen::compile_file(&path, &[]).unwrap().remove(0);
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

/// The errors of a compiled spec, as `code: message`.
fn errors(compiled: &amlgen::Compiled) -> Vec<String> {
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect()
}

/// The text of every fenced ```` ```yaml ```` block in `markdown`, with the line it starts on.
fn yaml_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match open.as_mut() {
            None if line.trim_start().starts_with("```yaml") => open = Some((i + 2, String::new())),
            Some(_) if line.trim_start().starts_with("```") => blocks.extend(open.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn every_yaml_block_in_the_docs_validates() {
    let mut pages: Vec<std::path::PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    pages.push(root().join("README.md"));
    let mut checked = 0;
    for page in pages {
        let markdown = std::fs::read_to_string(&page).unwrap();
        for (line, text) in yaml_blocks(&markdown) {
            let name = format!("{}:{line}", page.display());
            // A block that names a file of the repository on its first line (`# examples/...`)
            // is an excerpt of it, word for word.
            let file = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# "))
                .map(|l| l.split(':').next().unwrap_or(l).trim())
                .filter(|f| root().join(f).is_file());
            if let Some(file) = file {
                let excerpt: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
                let whole = std::fs::read_to_string(root().join(file)).unwrap();
                assert!(
                    whole.contains(&excerpt),
                    "the block at {name} is not in {file}:\n{excerpt}"
                );
                checked += 1;
                continue;
            }
            let base = page.parent().unwrap();
            let compiled = amlgen::compile(amlgen::source::Source::new(&name, text), base)
                .unwrap()
                .remove(0);
            let errors = errors(&compiled);
            assert!(
                errors.is_empty(),
                "the YAML block at {name} does not validate: {errors:#?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "found only {checked} YAML blocks in the docs");
}

/// Every leaf of `value` (scalars, empty lists and mappings), by JSON Pointer.
fn leaves(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                leaves(item, format!("{at}/{i}"), out);
            }
        }
        serde_json::Value::Object(members) if !members.is_empty() => {
            for (key, member) in members {
                leaves(
                    member,
                    format!("{at}/{}", amlgen::diag::pointer_token(key)),
                    out,
                );
            }
        }
        _ => out.push(at),
    }
}

/// Values a careless or hostile edit puts in a spec.
fn replacement() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::json;
    prop_oneof![
        Just(json!(null)),
        Just(json!(true)),
        Just(json!(4.0)),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!("")),
        Just(json!("0.0.0.0/0")),
        Just(json!("10.40.0.0/30")),
        Just(json!("ab")),
        Just(json!("West Europe")),
        Just(json!([])),
        Just(json!({"x": 1})),
        "[ -~]{0,12}".prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 512, ..Default::default() })]

    #[test]
    fn every_edit_of_an_example_is_a_plan_or_diagnostics(
        example in proptest::sample::select(yaml_files("examples")),
        pick in proptest::num::usize::ANY,
        value in replacement(),
    ) {
        let text = std::fs::read_to_string(&example).unwrap();
        let mut spec: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        let mut places = Vec::new();
        leaves(&spec, String::new(), &mut places);
        let place = &places[pick % places.len()];
        *spec.pointer_mut(place).unwrap() = value;
        let edited = serde_yaml::to_string(&spec).unwrap();
        let base = example.parent().unwrap();
        let compiled = amlgen::compile(amlgen::source::Source::new("edited.yaml", edited), base)
            .map(|mut units| units.remove(0));
        let compiled = compiled.map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{place}: {e}")))?;
        match &compiled.plan {
            Some(plan) => {
                proptest::prop_assert!(amlgen::emit::render(plan, amlgen::VERSION).is_ok(), "{place}");
            }
            None => proptest::prop_assert!(amlgen::diag::has_errors(&compiled.diagnostics), "{place}"),
        }
    }
}

/// One compute of a generated spec: its kind and a number that sets its size.
fn generated_compute(
    index: usize,
    kind: u8,
    size: u32,
    flag: bool,
    private: bool,
) -> serde_json::Value {
    use serde_json::json;
    let name = |prefix: &str| format!("{prefix}{index}n{size}");
    // Compute without a public address gets a subnet of its own: forced tunnelling cannot serve
    // both kinds from one route table (`route-table-mixed`).
    let aml_subnet = if !private || flag {
        "snet-ml"
    } else {
        "snet-ml-private"
    };
    let vm_subnet = if flag { "snet-ml" } else { "snet-ml-private" };
    let cluster_type = ["spark", "hadoop", "hbase", "interactivehive", "kafka"][size as usize % 5];
    match kind % 5 {
        0 => json!({"name": name("cpu"), "type": "amlcompute", "subnet": aml_subnet,
                    "max_instances": 1 + size % 50, "min_instances": size % 2,
                    "tier": if flag { "low_priority" } else { "dedicated" },
                    "enable_node_public_ip": !private || flag}),
        1 => json!({"name": name("ci"), "type": "computeinstance", "subnet": aml_subnet,
                    "enable_node_public_ip": !private || flag}),
        2 => {
            json!({"name": name("vm"), "type": "virtualmachine", "subnet": vm_subnet, "attach": flag,
                    "image": if size % 2 == 0 { "ubuntu-22.04" } else { "ubuntu-24.04" }})
        }
        3 => json!({"name": name("hdi"), "type": "hdinsight", "subnet": "snet-ml",
                    "cluster_type": cluster_type,
                    "worker_count": 1 + size % 8, "attach": flag}),
        _ => json!({"name": name("dbw"), "type": "databricks", "public_subnet": "snet-dbw-public",
                    "private_subnet": "snet-dbw-private", "no_public_ip": flag}),
    }
}

/// A valid spec: a region, an address plan, a compute mix, a rule set and an egress mode.
fn generated_spec() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::json;
    let regions = [
        "eastus2",
        "westeurope",
        "northeurope",
        "centralus",
        "italynorth",
        "japaneast",
        "uksouth",
    ];
    let computes = proptest::collection::vec((any::<u8>(), 0u32..1000, any::<bool>()), 1..5);
    (
        "[a-z][a-z0-9]{2,12}",
        proptest::sample::select(regions.to_vec()),
        0u8..200,
        any::<bool>(),
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        computes,
    )
        .prop_map(|(name, location, block, guide, egress, locked, private, computes)| {
            let databricks = computes.iter().position(|(kind, _, _)| kind % 5 == 4);
            let computes: Vec<serde_json::Value> = computes
                .iter()
                .enumerate()
                // One Databricks workspace at most: its subnets are its own.
                .filter(|(i, (kind, _, _))| kind % 5 != 4 || Some(*i) == databricks)
                .map(|(i, (kind, size, flag))| generated_compute(i, *kind, *size, *flag, private))
                .collect();
            let mut subnets = vec![
                json!({"name": "snet-ml", "address_prefix": format!("10.{block}.0.0/24")}),
                json!({"name": "default", "address_prefix": format!("10.{block}.1.0/24")}),
                json!({"name": "snet-ml-private", "address_prefix": format!("10.{block}.3.0/24")}),
            ];
            if databricks.is_some() {
                for (side, offset) in [("public", 0), ("private", 64)] {
                    subnets.push(json!({"name": format!("snet-dbw-{side}"),
                        "address_prefix": format!("10.{block}.2.{offset}/26"),
                        "delegation": "Microsoft.Databricks/workspaces"}));
                }
            }
            let egress_mode = ["default", "nat", "forced_tunnel"][usize::from(egress)];
            let mut spec = json!({
                "name": name, "location": location,
                "requirements": if guide { "guide-2021" } else { "current" },
                "workspace": {"name": "mlw-generated", "private_endpoint": private},
                "network": {
                    "vnet": {"name": "vnet-generated", "address_space": [format!("10.{block}.0.0/16")]},
                    "subnets": subnets,
                    "outbound": if locked { "locked" } else { "open" },
                    "egress": egress_mode,
                },
                "compute": computes,
            });
            if egress == 2 {
                spec["network"]["forced_tunnel"] = json!({"next_hop_ip": "10.250.0.4"});
                // Databricks with public IPs cannot be tunnelled safely
                // (`databricks-public-ip-tunnel`).
                for compute in spec["compute"].as_array_mut().unwrap() {
                    if compute["type"] == "databricks" {
                        compute["no_public_ip"] = json!(true);
                    }
                }
            }
            spec
        })
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 128, ..Default::default() })]

    #[test]
    fn every_generated_valid_spec_renders_and_verifies(spec in generated_spec()) {
        let text = serde_yaml::to_string(&spec).unwrap();
        let compiled = amlgen::compile(amlgen::source::Source::new("generated.yaml", text.clone()), root())
            .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?
            .remove(0);
        let errors = errors(&compiled);
        proptest::prop_assert!(errors.is_empty(), "{errors:#?}\n{text}");
        // Every template a test renders must pass `amlgen verify`, as the examples do.
        crate::harness::render_verified(&compiled.plan.unwrap());
    }
}
