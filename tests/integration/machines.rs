//! Databricks, VMs and HDInsight: the specs users get wrong are refused with a stable code at the
//! right line, no secret ever reaches a file, and the spec format's own example is accepted.

use serde_json::Value;

use crate::harness::{amlgen, root, scratch, yaml_files};

const BASE: &str = "name: machines
location: eastus2
workspace:
  name: mlw-machines
  private_endpoint: true
network:
  vnet:
    name: vnet-machines
    address_space: [10.10.0.0/16]
  subnets:
    - name: snet-a
      address_prefix: 10.10.0.0/28
    - name: snet-dbw-public
      address_prefix: 10.10.1.0/26
      delegation: Microsoft.Databricks/workspaces
    - name: snet-dbw-private
      address_prefix: 10.10.1.64/26
      delegation: Microsoft.Databricks/workspaces
    - name: default
      address_prefix: 10.10.2.0/24
  egress: nat
compute:
";

/// Validates `BASE` + `computes` and returns the exit code and `(code, line)` of each diagnostic.
fn validate(name: &str, computes: &str) -> (u8, Vec<(String, u64)>) {
    let dir = scratch(name);
    let path = dir.join("spec.yaml");
    std::fs::write(&path, format!("{BASE}{computes}")).unwrap();
    let run = amlgen(&["validate", "--format", "json", path.to_str().unwrap()]);
    let found: Vec<Value> = serde_json::from_str(&run.stdout).unwrap_or_default();
    std::fs::remove_dir_all(dir).unwrap();
    let found = found
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    (run.code, found)
}

/// The line of `BASE` + `computes` holding `needle`.
fn line_of(computes: &str, needle: &str) -> u64 {
    let text = format!("{BASE}{computes}");
    let index = text.lines().position(|l| l.contains(needle)).unwrap();
    index as u64 + 1
}

const DATABRICKS: &str = "  - name: dbw
    type: databricks
    public_subnet: snet-dbw-public
    private_subnet: snet-dbw-private
";

/// An attached VM and an attached HDInsight cluster.
const ATTACHED: &str = "  - name: vm-a
    type: virtualmachine
    subnet: snet-a
    attach: true
  - name: hdi-a
    type: hdinsight
    subnet: default
    cluster_type: kafka
    attach: true
";

#[test]
fn a_valid_mix_of_every_kind_passes() {
    let computes = format!("{DATABRICKS}{ATTACHED}");
    // Valid; under `current` the attached HDInsight cluster is warned about: only the retired
    // SDK v1 attaches HDInsight.
    let attach = line_of(&computes, "cluster_type: kafka") + 1;
    assert_eq!(
        validate("mix", &computes),
        (0, vec![("hdinsight-attach-sdk-v1".to_string(), attach)])
    );
}

#[test]
fn the_specs_users_get_wrong_fail_with_a_code_at_their_line() {
    let shared = format!(
        "{DATABRICKS}  - name: cpu
    type: amlcompute
    subnet: snet-dbw-private # here
"
    );
    let undersized = DATABRICKS.to_string();
    let windows = "  - name: vm-a
    type: virtualmachine
    subnet: snet-a
    image: windows-2022 # here
";
    let no_subnet = "  - name: vm-a # here
    type: virtualmachine
    image: ubuntu-24.04
";
    let too_big = "  - name: hdi-a
    type: hdinsight
    subnet: snet-a
    cluster_type: spark
    worker_count: 5
";
    let cases = [
        ("shared", shared.as_str(), "subnet-shared", "# here"),
        ("windows", windows, "vm-image-unsupported", "# here"),
        ("no-subnet", no_subnet, "schema-missing-key", "# here"),
        ("too-big", too_big, "subnet-too-small", "10.10.0.0/28"),
    ];
    for (name, computes, code, needle) in cases {
        let (exit, found) = validate(name, computes);
        assert_eq!(exit, 1, "{name}: {found:?}");
        assert!(
            found.contains(&(code.to_string(), line_of(computes, needle))),
            "{name}: {found:?}"
        );
    }
    let undersized_spec = BASE.replace("10.10.1.64/26", "10.10.1.64/27");
    let dir = scratch("undersized");
    let path = dir.join("spec.yaml");
    std::fs::write(&path, format!("{undersized_spec}{undersized}")).unwrap();
    let run = amlgen(&["validate", path.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error[databricks-subnet-size]"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("spec.yaml:17:23"), "{}", run.stderr);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The rendered files of every example, by output folder.
fn rendered() -> Vec<(String, Vec<amlgen::emit::Artifact>)> {
    yaml_files("examples")
        .iter()
        .map(|path| {
            let plan = amlgen::compile_file(path, &[])
                .unwrap()
                .remove(0)
                .plan
                .unwrap();
            let artifacts = crate::harness::render_verified(&plan);
            (plan.name.clone(), artifacts)
        })
        .collect()
}

#[test]
fn secrets_are_secure_parameters_without_defaults_and_never_written() {
    for (name, artifacts) in rendered() {
        let text = |file: &str| {
            artifacts
                .iter()
                .find(|a| a.name == file)
                .map(|a| a.contents.clone())
                .unwrap_or_default()
        };
        let template: Value = serde_json::from_str(&text("azuredeploy.json")).unwrap();
        let parameters: Value = serde_json::from_str(&text("azuredeploy.parameters.json")).unwrap();
        for (parameter, spec) in template["parameters"].as_object().unwrap() {
            let secret = ["Key", "Password"].iter().any(|s| parameter.contains(s));
            let secure = spec["type"] == "securestring";
            assert_eq!(secret, secure, "{name}: {parameter}");
            if secure {
                assert!(spec.get("defaultValue").is_none(), "{name}: {parameter}");
                assert!(
                    parameters["parameters"].get(parameter).is_none(),
                    "{name}: {parameter}"
                );
                assert!(
                    text("main.bicepparam")
                        .contains(&format!("param {parameter} = readEnvironmentVariable(")),
                    "{name}: {parameter}"
                );
            }
        }
        for artifact in &artifacts {
            for literal in ["ssh-rsa", "ssh-ed25519", "PRIVATE KEY"] {
                assert!(
                    !artifact.contents.contains(literal),
                    "{name}/{}",
                    artifact.name
                );
            }
        }
    }
}

#[test]
fn docs_spec_says_what_attaching_a_vm_and_the_lockdown_really_do() {
    let docs = std::fs::read_to_string(root().join("docs/spec.md")).unwrap();
    let docs = docs.split_whitespace().collect::<Vec<_>>().join(" ");
    // The code: an attached VM gets a public IP, and the lockdown's intra-VNet allow names the
    // VNet's address space, not the `VirtualNetwork` tag.
    let spec = format!(
        "{}  outbound: locked\ncompute:\n  - name: vm-a\n    type: virtualmachine\n    subnet: snet-a\n    attach: true\n",
        BASE.trim_end_matches("compute:\n")
    );
    let compiled = amlgen::compile(amlgen::source::Source::new("spec.yaml", spec), root())
        .unwrap()
        .remove(0);
    let plan = compiled.plan.expect("valid");
    assert!(plan.virtual_machines[0].public_ip.is_some());
    let allow = plan.nsgs[0]
        .rules
        .iter()
        .find(|r| r.name == "AllowVirtualNetworkOutbound")
        .unwrap();
    assert_eq!(
        allow.destination,
        amlgen::plan::Address::One("10.10.0.0/16".into())
    );
    // The docs say the same.
    for said in [
        "With `attach: true`, the VM also gets a Standard static public IP",
        "reached at that public IP",
        "allows TCP 443 and 445 to the VNet's own address space",
    ] {
        assert!(docs.contains(said), "docs/spec.md lacks: {said}");
    }
    for wrong in ["reached at the VM's private IP", "allows `VirtualNetwork`"] {
        assert!(!docs.contains(wrong), "docs/spec.md still says: {wrong}");
    }
}

#[test]
fn the_spec_formats_example_is_accepted() {
    let docs = std::fs::read_to_string(root().join("docs/spec.md")).unwrap();
    let example = docs
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    // The example shows both egress sections side by side; a real spec has one.
    let mut skipping = false;
    let spec: String = example
        .lines()
        .filter(|line| {
            if line.starts_with("  forced_tunnel:") {
                skipping = true;
            } else if skipping && !line.starts_with("    ") {
                skipping = false;
            }
            !skipping
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let compiled = amlgen::compile(
        amlgen::source::Source::new("spec.md", spec),
        &root().join("docs"),
    )
    .unwrap()
    .remove(0);
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let plan = compiled.plan.unwrap();
    assert_eq!(
        (
            plan.databricks.len(),
            plan.virtual_machines.len(),
            plan.hdinsight_clusters.len(),
            plan.role.is_some()
        ),
        (1, 1, 1, true)
    );
}

#[test]
fn machines_attached_to_a_workspace_in_another_group_reach_it_through_the_module() {
    // Without the Databricks subnets: no workspace is injected into them here, and verify holds
    // a delegated subnet to Databricks' flows.
    let without_databricks = BASE.replace(
        "    - name: snet-dbw-public\n      address_prefix: 10.10.1.0/26\n      delegation: Microsoft.Databricks/workspaces\n    - name: snet-dbw-private\n      address_prefix: 10.10.1.64/26\n      delegation: Microsoft.Databricks/workspaces\n",
        "",
    );
    let spec = without_databricks.replace(
        "  private_endpoint: true\n",
        "  private_endpoint: true\n  resource_group: rg-ml\n",
    ) + "  - name: cpu
    type: amlcompute
    subnet: default
" + ATTACHED;
    let compiled = amlgen::compile(amlgen::source::Source::new("spec.yaml", spec), root())
        .unwrap()
        .remove(0);
    let plan = compiled
        .plan
        .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    let artifacts = crate::harness::render_verified(&plan);
    let text = |name: &str| {
        artifacts
            .iter()
            .find(|a| a.name == name)
            .unwrap()
            .contents
            .clone()
    };
    let module = text("computes.bicep");
    let params: Vec<&str> = module
        .lines()
        .filter_map(|l| l.strip_prefix("param "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        params,
        [
            "location",
            "sshPrivateKey",
            "vmASize",
            "vmAAdminUsername",
            "hdiASshUsername",
            "defaultSubnetId",
            "vmAResourceId",
            "vmAAddress",
            "hdiAResourceId"
        ]
    );
    assert!(module.contains("address: 'hdi-a-ssh.azurehdinsight.net'"));
    assert!(
        !module.contains("hdiALoginPassword"),
        "the module needs no cluster login"
    );
    crate::agreement::assert_agree(&[text("main.bicep"), module], &text("azuredeploy.json"));
}
