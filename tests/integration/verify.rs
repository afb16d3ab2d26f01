//! `amlgen verify`: the examples, the known defects it reports in them, broken variants of a
//! template that passes, and a quickstart-style lockdown that leaks.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::{amlgen, root, scratch, yaml_files};

/// Runs `amlgen verify ARGS --format json`; the exit code and every finding that fails it, one
/// line each: `subnet: code: message`, with `-` for no subnet.
fn failures(args: &[&str]) -> (u8, Vec<String>) {
    let mut all = vec!["verify"];
    all.extend(args);
    all.extend(["--format", "json"]);
    let run = amlgen(&all);
    let reports: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    let mut lines = Vec::new();
    for report in reports.as_array().unwrap() {
        let subnets = report["subnets"].as_array().unwrap();
        let findings = report["findings"].as_array().unwrap().iter().chain(
            subnets
                .iter()
                .flat_map(|s| s["findings"].as_array().unwrap()),
        );
        for finding in findings.filter(|f| f["level"] == "error") {
            lines.push(format!(
                "{}: {}: {}",
                finding["subnet"].as_str().unwrap_or("-"),
                finding["code"].as_str().unwrap(),
                finding["message"].as_str().unwrap()
            ));
        }
    }
    (run.code, lines)
}

/// Whether some line of `found` starts with `start` and contains every one of `parts`.
fn has(found: &[String], start: &str, parts: &[&str]) -> bool {
    found
        .iter()
        .any(|f| f.starts_with(start) && parts.iter().all(|p| f.contains(p)))
}

#[test]
fn every_example_verifies() {
    for spec in yaml_files("examples") {
        let (code, found) = failures(&[spec.to_str().unwrap()]);
        assert_eq!((code, found), (0, vec![]), "{}", spec.display());
    }
}

#[test]
fn every_committed_template_verifies() {
    // Read as templates, the output folders verify with no flags: the intent amlgen stamps
    // says how guide-2021's IP-prefix routes were chosen.
    let out = root().join("out");
    for dir in std::fs::read_dir(&out).unwrap() {
        let dir = dir.unwrap().path();
        let (code, found) = failures(&[dir.to_str().unwrap()]);
        assert_eq!((code, found), (0, vec![]), "{}", dir.display());
    }
}

#[test]
fn ip_prefix_routes_need_the_service_tags_to_be_followed() {
    // Without the stamped prefixes (and no file), the Batch prefixes are unknown: the replies
    // seem to take the default route to the appliance, and verify says so rather than assuming
    // the bypass routes match.
    let (code, found) = edited("verify-no-stamped-tags", "out/guide-2021", |t| {
        t["metadata"]["_generator"]["intent"]
            .as_object_mut()
            .unwrap()
            .remove("serviceTagPrefixes");
    });
    assert_eq!(code, 1);
    assert!(
        has(
            &found,
            "default: verify-required-flow: required flow BatchNodeManagement.eastus2 -> subnet tcp/29876",
            &["asymmetric"]
        ),
        "{found:#?}"
    );
}

/// Verify's exit code and the failures it finds in [`write_edited`]'s file.
fn edited(name: &str, out: &str, edit: impl FnOnce(&mut Value)) -> (u8, Vec<String>) {
    failures(&[write_edited(name, out, edit).to_str().unwrap()])
}

/// The committed template of output folder `out`, edited by `edit`, as a file in a scratch
/// folder `name`.
fn write_edited(name: &str, out: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let path = root().join(out).join("azuredeploy.json");
    let mut template: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut template);
    let file = scratch(name).join("azuredeploy.json");
    std::fs::write(&file, serde_json::to_string_pretty(&template).unwrap()).unwrap();
    file
}

/// `out/contoso-train-prod` (a locked NAT subnet, which verifies), edited by `edit`: it must
/// fail; the failures verify finds in it.
fn broken(name: &str, edit: impl FnOnce(&mut Value)) -> Vec<String> {
    let (code, found) = edited(name, "out/contoso-train-prod", edit);
    assert_eq!(code, 1, "{found:#?}");
    found
}

fn resource<'v>(template: &'v mut Value, kind: &str) -> &'v mut Value {
    template["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["type"] == kind)
        .unwrap()
}

fn rules(template: &mut Value) -> &mut Vec<Value> {
    resource(template, "Microsoft.Network/networkSecurityGroups")["properties"]["securityRules"]
        .as_array_mut()
        .unwrap()
}

#[test]
fn a_delegated_subnet_is_held_to_databricks_rules_without_its_workspace() {
    let (code, found) = edited("verify-delegated-only", "out/adatum-lakehouse", |t| {
        t["resources"]
            .as_array_mut()
            .unwrap()
            .retain(|r| r["type"] != "Microsoft.Databricks/workspaces");
        let nsg = resource(t, "Microsoft.Network/networkSecurityGroups");
        assert_eq!(nsg["name"], "adatum-lakehouse-snet-training-nsg");
        let dbw_public = t["resources"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| r["name"] == "adatum-lakehouse-snet-dbw-public-nsg")
            .unwrap();
        dbw_public["properties"]["securityRules"]
            .as_array_mut()
            .unwrap()
            .retain(|r| {
                r["name"] != "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-eventhub"
            });
    });
    assert_eq!(code, 1);
    assert_eq!(
        found,
        [
            "snet-dbw-public: verify-required-flow: required flow subnet -> EventHub tcp/9093 (Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-eventhub: Nodes send logs to Databricks through Event Hubs.): denied by DenyInternetOutbound (4096)"
        ]
    );
}

#[test]
fn a_deleted_allow_rule_is_reported_as_denied_by_the_deny() {
    let found = broken("verify-deleted-allow", |t| {
        rules(t).retain(|r| r["name"] != "AllowBatchNodeManagementOutbound");
    });
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        has(
            &found,
            "snet-training: verify-required-flow: required flow subnet -> BatchNodeManagement.eastus2 tcp/443",
            &["denied by DenyInternetOutbound (4096)"]
        ),
        "{found:#?}"
    );
}

#[test]
fn a_deny_moved_before_the_allows_is_reported_on_every_flow_it_takes() {
    let found = broken("verify-deny-first", |t| {
        for rule in rules(t) {
            if rule["name"] == "DenyInternetOutbound" {
                rule["properties"]["priority"] = 105.into();
            }
        }
    });
    assert_eq!(found.len(), 14, "{found:#?}");
    assert!(
        found.iter().all(|f| f.contains("verify-required-flow")
            && f.contains("denied by DenyInternetOutbound (105)")),
        "{found:#?}"
    );
}

#[test]
fn a_bypass_route_on_a_private_subnet_is_reported_as_dropped() {
    let found = broken("verify-bypass-private", |t| {
        let vnet = resource(t, "Microsoft.Network/virtualNetworks");
        let subnet = &mut vnet["properties"]["subnets"][0]["properties"];
        subnet.as_object_mut().unwrap().remove("natGateway");
        subnet["routeTable"] =
            serde_json::json!({"id": "[resourceId('Microsoft.Network/routeTables', 'rt')]"});
        t["resources"].as_array_mut().unwrap().push(serde_json::json!({
            "type": "Microsoft.Network/routeTables", "apiVersion": "2025-07-01", "name": "rt",
            "properties": {"routes": [
                {"name": "to-firewall", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.40.1.4"}},
                {"name": "bypass-batch", "properties": {"addressPrefix": "BatchNodeManagement.eastus2", "nextHopType": "Internet"}}
            ]}
        }));
    });
    assert!(
        has(
            &found,
            "snet-training: verify-required-flow: required flow subnet -> BatchNodeManagement.eastus2 tcp/443",
            &[
                "route bypass-batch sends it to the internet",
                "no NAT gateway"
            ]
        ),
        "{found:#?}"
    );
}

/// Verifies `tests/fixtures/verify/NAME` with `options`: it must fail with exactly `failure`,
/// and the table must say `text`.
fn fixture_fails(name: &str, options: &[&str], failure: &str, text: &str) {
    let fixture = root().join("tests/fixtures/verify").join(name);
    let args: Vec<&str> = [fixture.to_str().unwrap()]
        .into_iter()
        .chain(options.iter().copied())
        .collect();
    let (code, found) = failures(&args);
    assert_eq!(code, 1);
    assert!(found.iter().any(|f| f.starts_with(failure)), "{found:#?}");
    let human = amlgen(&[&["verify"][..], &args].concat());
    assert!(human.stdout.contains(text), "{}", human.stdout);
}

#[test]
fn a_quickstart_lockdown_without_a_deny_is_reported_as_leaking() {
    // Like the quickstarts, the fixture deploys to its resource group's region.
    fixture_fails(
        "quickstart-nine-allows.json",
        &["--location", "eastus"],
        "snet-training: verify-outbound-unjustified: outbound through route system: default (0.0.0.0/0 -> Internet), allowed by AllowInternetOutBound (65001): outbound is locked",
        "error[verify-outbound-unjustified]",
    );
}

#[test]
fn expressions_verify_cannot_evaluate_are_reported_not_guessed() {
    let found = broken("verify-unknown-expression", |t| {
        resource(t, "Microsoft.Network/virtualNetworks")["properties"]["addressSpace"]["addressPrefixes"]
            [0] = "[reference('ipam').prefix]".into();
    });
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("-: verify-unreadable: ")
            && found[0].contains("`reference()` is evaluated at deployment time"),
        "{found:#?}"
    );
    assert!(
        found[1].starts_with("-: verify-unreadable: no compute subnet found"),
        "{found:#?}"
    );
}

/// The subnet `name` of the VNet of `template`.
fn subnet<'v>(template: &'v mut Value, name: &str) -> &'v mut Value {
    resource(template, "Microsoft.Network/virtualNetworks")["properties"]["subnets"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["name"] == name)
        .unwrap()
}

/// Issue 8: forced tunnelling gave no-public-IP compute the bypass routes, which send Azure ML
/// and Batch traffic to the internet with no way out.
fn fabrikam_with_bypass_routes_on_its_private_subnet(t: &mut Value) {
    subnet(t, "snet-cpu")["properties"]["routeTable"]["id"] =
        "[resourceId('Microsoft.Network/routeTables', 'fabrikam-research-aml-rt')]".into();
}

#[test]
fn issue_8_bypass_routes_on_no_public_ip_compute_are_reported_as_dropped() {
    let (code, found) = edited(
        "verify-issue8-bypass",
        "out/fabrikam-research",
        fabrikam_with_bypass_routes_on_its_private_subnet,
    );
    assert_eq!(code, 1);
    let required: Vec<&String> = found
        .iter()
        .filter(|f| f.starts_with("snet-cpu: verify-required-flow"))
        .collect();
    assert_eq!(required.len(), 4, "{found:#?}");
    for port in ["tcp/443", "tcp/8787", "tcp/18881", "udp/5831"] {
        assert!(
            has(
                &found,
                &format!(
                    "snet-cpu: verify-required-flow: required flow subnet -> AzureMachineLearning.westus2 {port}"
                ),
                &["route bypass-AzureMachineLearning sends it to the internet"]
            ),
            "{found:#?}"
        );
    }
}

#[test]
fn issue_8_the_virtual_network_tag_under_forced_tunnelling_is_reported_as_a_leak() {
    // The intra-VNet allow written with the VirtualNetwork tag, as before the fix: the tag holds
    // the route table's 0.0.0.0/0, so the allow matches every internet address.
    let (code, found) = edited("verify-issue8-leak", "out/fabrikam-research", |t| {
        for nsg in t["resources"].as_array_mut().unwrap() {
            if nsg["type"] != "Microsoft.Network/networkSecurityGroups" {
                continue;
            }
            for rule in nsg["properties"]["securityRules"].as_array_mut().unwrap() {
                if rule["name"] == "AllowVirtualNetworkOutbound" {
                    rule["properties"]["destinationAddressPrefix"] = "VirtualNetwork".into();
                }
            }
        }
    });
    assert_eq!(code, 1);
    for subnet in ["snet-gpu", "snet-cpu"] {
        assert!(
            has(
                &found,
                &format!(
                    "{subnet}: verify-outbound-unjustified: outbound through route default-to-appliance (0.0.0.0/0 -> VirtualAppliance 10.0.1.4), allowed by AllowVirtualNetworkOutbound (100)"
                ),
                &["11.0.0.0-100.63.255.255", "tcp 443,445"]
            ),
            "{found:#?}"
        );
    }
}

#[test]
fn issue_8_an_attached_vm_without_a_public_ip_is_reported_unreachable() {
    let (code, found) = edited("verify-issue8-vm", "out/tailspin-gpu", |t| {
        let nic = resource(t, "Microsoft.Network/networkInterfaces");
        nic["properties"]["ipConfigurations"][0]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("publicIPAddress");
    });
    assert_eq!(code, 1);
    assert!(
        has(
            &found,
            "snet-gpu: verify-required-flow: required flow AzureMachineLearning.eastus -> subnet tcp/22",
            &["no public IP"]
        ),
        "{found:#?}"
    );
}

#[test]
fn the_human_report_names_the_deciding_rule_and_route() {
    let file = write_edited(
        "verify-human",
        "out/fabrikam-research",
        fabrikam_with_bypass_routes_on_its_private_subnet,
    );
    let run = amlgen(&["verify", file.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("FAILED"));
    assert!(
        run.stdout.contains(
            "route bypass-AzureMachineLearning sends it to the internet, but cluster cpu-cluster has no public IP"
        ),
        "{}",
        run.stdout
    );
    let ok = amlgen(&[
        "verify",
        root().join("out/fabrikam-research").to_str().unwrap(),
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(
        ok.stdout
            .lines()
            .next()
            .unwrap()
            .ends_with("verified (0 findings, 1 assumption)"),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout.contains(
            "the appliance must allow (flows routed to it):\n    AzureActiveDirectory tcp/80\n"
        ),
        "{}",
        ok.stdout
    );
}

#[test]
fn ssh_open_to_the_internet_on_a_nic_nsg_is_reported() {
    fixture_fails(
        "vm-ssh-open.json",
        &[],
        "default: verify-inbound-unjustified: inbound, allowed by SSH (1000) of NIC NSG vm-dev-nsg",
        "at Microsoft.Network/networkSecurityGroups/vm-dev-nsg",
    );
}

#[test]
fn the_resource_groups_region_is_not_guessed() {
    let fixture = root().join("tests/fixtures/verify/quickstart-nine-allows.json");
    let (code, found) = failures(&[fixture.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        found[0].starts_with("-: verify-unreadable: Microsoft.Network/virtualNetworks `vnet-quickstart`, location: the resource group's location is known at deployment time: pass --location"),
        "{found:#?}"
    );
}

#[test]
fn an_unreadable_template_is_an_io_error() {
    let run = amlgen(&["verify", "no/such/azuredeploy.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read no/such/azuredeploy.json"),
        "{}",
        run.stderr
    );
}

/// The security rules of every NSG of `template` that `pick` selects by their properties.
fn rules_where(template: &mut Value, pick: impl Fn(&Value) -> bool) -> Vec<&mut Value> {
    template["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .filter(|r| r["type"] == "Microsoft.Network/networkSecurityGroups")
        .flat_map(|nsg| {
            nsg["properties"]["securityRules"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
        })
        .filter(|rule| pick(&rule["properties"]))
        .collect()
}

/// Adds `rule` (its `properties`) to the NSG of `template` whose name ends with `nsg`.
fn add_rule(template: &mut Value, nsg: &str, name: &str, properties: Value) {
    let nsgs = template["resources"].as_array_mut().unwrap();
    let found = nsgs
        .iter_mut()
        .find(|r| {
            r["type"] == "Microsoft.Network/networkSecurityGroups"
                && r["name"].as_str().unwrap().ends_with(nsg)
        })
        .unwrap();
    let rules = found["properties"]["securityRules"].as_array_mut().unwrap();
    rules.push(serde_json::json!({"name": name, "properties": properties}));
}

/// Removes the rules `pick` selects from every NSG of `template`.
fn remove_rules(template: &mut Value, pick: impl Fn(&Value) -> bool) {
    for nsg in template["resources"].as_array_mut().unwrap() {
        if nsg["type"] == "Microsoft.Network/networkSecurityGroups" {
            let rules = nsg["properties"]["securityRules"].as_array_mut().unwrap();
            rules.retain(|r| !pick(&r["properties"]));
        }
    }
}

/// The routes of every route table of `template`.
fn routes_of(template: &mut Value) -> Vec<&mut Value> {
    template["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .filter(|r| r["type"] == "Microsoft.Network/routeTables")
        .flat_map(|t| t["properties"]["routes"].as_array_mut().unwrap().iter_mut())
        .collect()
}

/// Adds a route of `prefix` with next hop `Internet` to the route table whose name ends with
/// `table`.
fn add_route(template: &mut Value, table: &str, name: &str, prefix: &str) {
    let found = template["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| {
            r["type"] == "Microsoft.Network/routeTables"
                && r["name"].as_str().unwrap().ends_with(table)
        })
        .unwrap();
    let routes = found["properties"]["routes"].as_array_mut().unwrap();
    routes.push(serde_json::json!({
        "name": name,
        "properties": {"addressPrefix": prefix, "nextHopType": "Internet"}
    }));
}

fn allow(direction: &str, protocol: &str, source: &str, destination: &str, ports: &str) -> Value {
    serde_json::json!({
        "protocol": protocol, "sourcePortRange": "*", "destinationPortRange": ports,
        "sourceAddressPrefix": source, "destinationAddressPrefix": destination,
        "access": "Allow", "priority": 300, "direction": direction
    })
}

/// One mutant: a committed output folder, an edit by properties, and the code it must fail with.
struct Mutant {
    name: &'static str,
    out: &'static str,
    edit: fn(&mut Value),
    code: &'static str,
}

const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "outbound-azurecloud-any-port",
        out: "out/contoso-train-prod",
        edit: |t| {
            add_rule(
                t,
                "snet-training-nsg",
                "AllowCloud",
                allow("Outbound", "*", "VirtualNetwork", "AzureCloud", "*"),
            )
        },
        code: "snet-training: verify-outbound-unjustified",
    },
    Mutant {
        name: "global-storage-instead-of-regional",
        out: "out/contoso-train-prod",
        edit: |t| {
            for rule in rules_where(t, |p| {
                p["direction"] == "Outbound"
                    && p["destinationAddressPrefix"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("Storage."))
            }) {
                rule["properties"]["destinationAddressPrefix"] = "Storage".into();
            }
        },
        code: "snet-training: verify-outbound-unjustified",
    },
    Mutant {
        name: "internet-inbound-on-no-public-ip",
        out: "out/contoso-train-prod",
        edit: |t| {
            add_rule(
                t,
                "snet-training-nsg",
                "AllowWeb",
                allow("Inbound", "Tcp", "Internet", "VirtualNetwork", "443"),
            )
        },
        code: "snet-training: verify-inbound-unjustified",
    },
    Mutant {
        name: "udp-from-anywhere",
        out: "out/contoso-train-prod",
        edit: |t| {
            add_rule(
                t,
                "snet-training-nsg",
                "AllowUdp",
                allow("Inbound", "Udp", "*", "*", "0-65535"),
            )
        },
        code: "snet-training: verify-inbound-unjustified",
    },
    Mutant {
        name: "lockdown-deny-removed",
        out: "out/contoso-train-prod",
        edit: |t| {
            remove_rules(t, |p| {
                p["access"] == "Deny"
                    && p["direction"] == "Outbound"
                    && p["destinationAddressPrefix"] == "Internet"
            })
        },
        code: "snet-training: verify-outbound-unjustified",
    },
    Mutant {
        name: "allow-any-inbound-forced-tunnel-public-ip",
        out: "out/fabrikam-research",
        edit: |t| {
            add_rule(
                t,
                "snet-gpu-nsg",
                "AllowAny",
                allow("Inbound", "*", "*", "*", "*"),
            )
        },
        code: "snet-gpu: verify-inbound-unjustified",
    },
    Mutant {
        name: "internet-ssh-inbound",
        out: "out/fabrikam-research",
        edit: |t| {
            for rule in rules_where(t, |p| {
                p["direction"] == "Inbound" && p["destinationPortRange"] == "22"
            }) {
                rule["properties"]["sourceAddressPrefix"] = "Internet".into();
            }
        },
        code: "snet-gpu: verify-inbound-unjustified",
    },
    Mutant {
        name: "forced-tunnel-inbound-deny-removed",
        out: "out/fabrikam-research",
        edit: |t| remove_rules(t, |p| p["access"] == "Deny" && p["direction"] == "Inbound"),
        code: "snet-cpu: verify-inbound-unjustified",
    },
    Mutant {
        name: "route-table-removed-from-public-ip-subnet",
        out: "out/fabrikam-research",
        edit: |t| {
            subnet(t, "snet-gpu")["properties"]
                .as_object_mut()
                .unwrap()
                .remove("routeTable");
        },
        code: "snet-gpu: verify-tunnel-bypassed",
    },
    Mutant {
        name: "default-route-next-hop-in-compute-subnet",
        out: "out/fabrikam-research",
        edit: |t| {
            for route in routes_of(t) {
                if route["properties"]["addressPrefix"] == "0.0.0.0/0" {
                    route["properties"]["nextHopIpAddress"] = "10.61.0.200".into();
                }
            }
        },
        code: "snet-gpu: verify-next-hop-in-compute",
    },
    Mutant {
        name: "databricks-storage-route-on-aml-subnet",
        out: "out/fabrikam-research",
        edit: |t| {
            let table = t["resources"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|r| {
                    r["type"] == "Microsoft.Network/routeTables"
                        && r["properties"]["routes"].as_array().unwrap().len() > 1
                })
                .unwrap();
            table["properties"]["routes"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({
                    "name": "bypass-Storage",
                    "properties": {"addressPrefix": "Storage", "nextHopType": "Internet"}
                }));
        },
        code: "snet-gpu: verify-tunnel-bypassed",
    },
    Mutant {
        name: "half-the-internet-routed-around-the-appliance",
        out: "out/fabrikam-research",
        edit: |t| add_route(t, "aml-rt", "half", "0.0.0.0/1"),
        code: "snet-gpu: verify-tunnel-bypassed",
    },
    Mutant {
        name: "a-wide-prefix-around-the-appliance-beside-stamped-ones",
        out: "out/guide-2021",
        edit: |t| add_route(t, "-rt", "wide", "20.0.0.0/6"),
        code: "default: verify-tunnel-bypassed",
    },
    Mutant {
        name: "azure-ml-44224-inbound-removed",
        out: "out/fabrikam-research",
        edit: |t| remove_rules(t, |p| p["destinationPortRange"] == "44224"),
        code: "snet-gpu: verify-required-flow",
    },
    Mutant {
        name: "databricks-delegations-removed",
        out: "out/adatum-lakehouse",
        edit: |t| {
            let vnet = resource(t, "Microsoft.Network/virtualNetworks");
            for subnet in vnet["properties"]["subnets"].as_array_mut().unwrap() {
                subnet["properties"]
                    .as_object_mut()
                    .unwrap()
                    .remove("delegations");
            }
        },
        code: "snet-dbw-public: verify-databricks-delegation",
    },
    Mutant {
        name: "databricks-subnet-allows-the-internet",
        out: "out/adatum-lakehouse",
        edit: |t| {
            let mut rule = allow("Outbound", "*", "VirtualNetwork", "Internet", "*");
            rule["priority"] = 99.into();
            add_rule(t, "snet-dbw-public-nsg", "AllowOut", rule);
        },
        code: "snet-dbw-public: verify-outbound-unjustified",
    },
    Mutant {
        name: "allow-limited-to-a-source-port",
        out: "out/contoso-train-prod",
        edit: |t| {
            let mut rule = allow("Outbound", "Tcp", "VirtualNetwork", "Internet", "*");
            rule["sourcePortRange"] = "443".into();
            add_rule(t, "snet-training-nsg", "AllowFrom443", rule);
        },
        code: "snet-training: verify-outbound-unjustified",
    },
    Mutant {
        name: "icmp-allow-naming-a-port",
        out: "out/contoso-train-prod",
        edit: |t| {
            add_rule(
                t,
                "snet-training-nsg",
                "AllowPing",
                allow("Inbound", "Icmp", "Internet", "*", "8"),
            )
        },
        code: "snet-training: verify-inbound-unjustified",
    },
    Mutant {
        name: "ssh-from-outside-the-spec-sources",
        out: "out/tailspin-gpu",
        edit: |t| {
            for rule in rules_where(t, |p| {
                p["direction"] == "Inbound" && p["destinationPortRange"] == "22"
            }) {
                if rule["properties"]["sourceAddressPrefix"] == "198.51.100.0/24" {
                    rule["properties"]["sourceAddressPrefix"] = "198.51.0.0/16".into();
                }
            }
        },
        code: "snet-gpu: verify-inbound-unjustified",
    },
];

/// The resources of `template` of type `kind`.
fn all_of<'v>(template: &'v mut Value, kind: &str) -> Vec<&'v mut Value> {
    template["resources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .filter(|r| r["type"] == kind)
        .collect()
}

/// The mutants of the created workspace's private endpoints, their DNS and creation order.
const ENDPOINT_MUTANTS: &[Mutant] = &[
    Mutant {
        name: "notebooks-zone-left-out-of-the-workspace-zone-group",
        out: "out/fraud-secure",
        edit: |t| {
            for group in all_of(t, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups") {
                let configs = group["properties"]["privateDnsZoneConfigs"]
                    .as_array_mut()
                    .unwrap();
                configs.retain(|c| !c["name"].as_str().unwrap().contains("notebooks"));
            }
        },
        code: "-: verify-dns-unresolved",
    },
    Mutant {
        name: "vault-zone-link-removed",
        out: "out/fraud-secure",
        edit: |t| {
            t["resources"].as_array_mut().unwrap().retain(|r| {
                !(r["type"] == "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
                    && r["name"]
                        .as_str()
                        .unwrap()
                        .starts_with("privatelink.vaultcore"))
            })
        },
        code: "-: verify-dns-unresolved",
    },
    Mutant {
        name: "a-compute-that-does-not-wait-for-the-workspace-dns",
        out: "out/fraud-secure",
        edit: |t| {
            for compute in all_of(t, "Microsoft.MachineLearningServices/workspaces/computes") {
                compute["dependsOn"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|d| !d.as_str().unwrap().contains("amlworkspace"));
            }
        },
        code: "-: verify-endpoint-race",
    },
];

#[test]
fn a_compute_may_wait_for_a_zone_group_named_by_its_name_alone() {
    let (code, found) = edited("verify-depends-by-name", "out/fraud-secure", |t| {
        for compute in all_of(t, "Microsoft.MachineLearningServices/workspaces/computes") {
            for entry in compute["dependsOn"].as_array_mut().unwrap() {
                let text = entry.as_str().unwrap();
                if let Some(rest) = text.strip_prefix(
                    "[resourceId('Microsoft.Network/privateEndpoints/privateDnsZoneGroups', '",
                ) {
                    let endpoint = rest.split('\'').next().unwrap();
                    *entry = format!("{endpoint}/default").into();
                }
            }
        }
    });
    assert_eq!((code, found), (0, vec![]));
}

#[test]
fn a_private_endpoint_the_nsg_denies_fails_as_a_required_flow_naming_it() {
    let (code, found) = edited("verify-endpoint-denied", "out/fraud-secure", |t| {
        subnet(t, "snet-endpoints")["properties"]["addressPrefix"] = "10.60.2.0/27".into();
        let mut deny = allow("Outbound", "Tcp", "*", "10.60.2.0/27", "445");
        deny["access"] = "Deny".into();
        deny["priority"] = 90.into();
        add_rule(t, "snet-training-nsg", "DenySmbToEndpoints", deny);
    });
    assert_eq!(code, 1);
    assert!(
        has(
            &found,
            "snet-training: verify-required-flow: ",
            &[
                "10.60.2.4 tcp/445",
                "private endpoint pe-fraud-secure-file (file)"
            ]
        ),
        "{found:#?}"
    );
}

#[test]
fn every_mutant_of_a_verified_template_fails_with_its_code() {
    for mutant in MUTANTS.iter().chain(ENDPOINT_MUTANTS) {
        let (code, clean) = failures(&[root().join(mutant.out).to_str().unwrap()]);
        assert_eq!((code, clean), (0, vec![]), "{} before the edit", mutant.out);
        let (code, found) = edited(
            &format!("verify-mutant-{}", mutant.name),
            mutant.out,
            mutant.edit,
        );
        assert_eq!(code, 1, "{}: {found:#?}", mutant.name);
        assert!(
            found.iter().any(|f| f.starts_with(mutant.code)),
            "{} should fail with {}: {found:#?}",
            mutant.name,
            mutant.code
        );
    }
}

#[test]
fn hostile_files_are_refused_before_they_are_read() {
    let dir = scratch("verify-hostile-files");
    let big = dir.join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    let run = amlgen(&["verify", big.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("larger than 16 MiB"), "{}", run.stderr);
    let bad = dir.join("bad.json");
    std::fs::write(&bad, b"{\"a\": \"\xff\"}").unwrap();
    let run = amlgen(&["verify", bad.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid utf-8"), "{}", run.stderr);
    #[cfg(unix)]
    {
        let fifo = dir.join("fifo.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let run = amlgen(&["verify", fifo.to_str().unwrap()]);
            assert_eq!(run.code, 2);
            assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
            let tags = amlgen(&[
                "verify",
                root().join("out/minimal").to_str().unwrap(),
                "--service-tags",
                fifo.to_str().unwrap(),
            ]);
            assert_eq!(tags.code, 2);
            assert!(
                tags.stderr.contains("not a regular file"),
                "{}",
                tags.stderr
            );
        }
    }
}

#[test]
fn expressions_nested_past_the_limit_are_a_finding_not_a_crash() {
    let (code, found) = edited("verify-deep-expression", "out/contoso-train-prod", |t| {
        let deep = format!("[{}'x'{}]", "concat(".repeat(10_000), ")".repeat(10_000));
        resource(t, "Microsoft.Network/virtualNetworks")["location"] = deep.into();
    });
    assert_eq!(code, 1);
    assert!(
        has(
            &found,
            "-: verify-unreadable: ",
            &["nest more than 128 levels"]
        ),
        "{found:#?}"
    );
}

#[test]
fn the_parameters_file_beside_a_template_is_what_is_verified() {
    let file = write_edited("verify-parameters-file", "out/contoso-train-prod", |t| {
        t["parameters"]["allowedDestination"] = serde_json::json!({
            "type": "string", "defaultValue": "10.40.0.0/16"
        });
        let mut rule = allow("Outbound", "*", "VirtualNetwork", "*", "*");
        rule["destinationAddressPrefix"] = "[parameters('allowedDestination')]".into();
        add_rule(t, "snet-training-nsg", "AllowChosen", rule);
    });
    let (code, found) = failures(&[file.to_str().unwrap()]);
    assert_eq!(
        (code, found),
        (0, vec![]),
        "the default is the VNet's own range"
    );
    let parameters = serde_json::json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"allowedDestination": {"value": "Internet"}}
    });
    let beside = file.with_file_name("azuredeploy.parameters.json");
    std::fs::write(&beside, parameters.to_string()).unwrap();
    let (code, found) = failures(&[file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        has(
            &found,
            "snet-training: verify-outbound-unjustified: ",
            &["AllowChosen (300)"]
        ),
        "{found:#?}"
    );
    // Named on the command line, a parameters file wins over the one beside the template.
    let defaults = file.with_file_name("defaults.parameters.json");
    std::fs::write(&defaults, r#"{"parameters": {}}"#).unwrap();
    let (code, found) = failures(&[
        file.to_str().unwrap(),
        "--parameters",
        defaults.to_str().unwrap(),
    ]);
    assert_eq!((code, found), (0, vec![]));
}

#[test]
fn verify_findings_as_sarif_match_the_schema_and_point_at_the_resource() {
    let file = write_edited("verify-sarif", "out/contoso-train-prod", |t| {
        add_rule(
            t,
            "snet-training-nsg",
            "AllowCloud",
            allow("Outbound", "*", "VirtualNetwork", "AzureCloud", "*"),
        );
    });
    let run = amlgen(&["verify", "--format", "sarif", file.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    let validator = crate::cli::sarif_validator();
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "verify-outbound-unjustified");
    let location = &result["locations"][0];
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        "Microsoft.Network/networkSecurityGroups/contoso-train-prod-snet-training-nsg"
    );
    let line = location["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap() as usize;
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.lines()
            .nth(line - 1)
            .unwrap()
            .contains("\"contoso-train-prod-snet-training-nsg\""),
        "line {line}"
    );
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "verify-outbound-unjustified")
    );
}

#[test]
fn quiet_prints_the_summary_and_the_failing_findings_only() {
    let file = write_edited("verify-quiet", "out/contoso-train-prod", |t| {
        add_rule(
            t,
            "snet-training-nsg",
            "AllowWeb",
            allow("Inbound", "Tcp", "Internet", "VirtualNetwork", "443"),
        );
    });
    let ok = root().join("out/minimal");
    let run = amlgen(&[
        "verify",
        "--quiet",
        ok.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    assert!(lines[0].ends_with("verified (0 findings, 0 assumptions)"));
    assert!(lines[1].ends_with("FAILED (1 finding, 0 assumptions)"));
    assert!(lines[2].starts_with("  error[verify-inbound-unjustified]: subnet snet-training: inbound, allowed by AllowWeb (300)"));
    assert!(lines[3].starts_with("      at Microsoft.Network/networkSecurityGroups/contoso-train-prod-snet-training-nsg (line "));
    assert_eq!(lines[4], "1 template verified, 1 failed");
}

#[test]
fn verify_text_judges_a_template_as_the_command_does() {
    // The entry point the fuzz target uses: a committed template passes, a fixture with a
    // known defect fails, and text that is not JSON fails.
    let read = |path: &str| std::fs::read_to_string(root().join(path)).unwrap();
    assert!(amlgen::verify_text(&read("out/minimal/azuredeploy.json")));
    assert!(!amlgen::verify_text(&read(
        "tests/fixtures/verify/vm-ssh-open.json"
    )));
    assert!(!amlgen::verify_text("{"));
}
