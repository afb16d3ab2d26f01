//! `amlgen explain`: why each NSG rule and route of a spec exists, and what a firewall team must
//! allow; or the documentation of a diagnostic code.
//!
//! For a spec, every rule and route is given with the reason and source the requirement
//! profile gives it (as text; the command line prints it). Under forced tunnelling, the firewall's list is not written by hand: it is
//! what `verify` finds the rendered template sends to the appliance, so it cannot disagree
//! with the routes.

use crate::azure::fqdns::Workload;
use crate::diag::Code;
use crate::plan::{Address, ComputeKind, Plan, SecurityRule, Subnet};
use crate::routes::{self, NextHop};
use crate::verify::{self, Report};

const DIAGNOSTICS_DOC: &str = include_str!("../docs/diagnostics.md");
const VERIFY_DOC: &str = include_str!("../docs/verify.md");

/// What a subject that is neither a code nor a spec file is: the code it is nearest to, if any.
pub(crate) fn nearest_code(subject: &str) -> Option<&'static str> {
    crate::suggest::closest(subject, code_names())
}

/// Every code `explain` documents: the spec's diagnostics and verify's findings.
fn code_names() -> impl Iterator<Item = &'static str> {
    let findings = verify::codes().map(|(name, _)| name);
    Code::ALL.iter().map(|c| c.as_str()).chain(findings)
}

/// The section about `code`, heading included: of `docs/diagnostics.md` for a spec diagnostic,
/// of `docs/verify.md` for a finding of verify. Links are printed as their text, with the path
/// of a fixture after it, since a terminal does not follow Markdown links.
pub(crate) fn code_section(code: &str) -> Option<String> {
    let known = |name: &str| name == code;
    let (doc, heading, next) = if Code::ALL.iter().any(|c| known(c.as_str())) {
        (DIAGNOSTICS_DOC, format!("## `{code}`\n"), "\n## ")
    } else if verify::codes().any(|(name, _)| known(name)) {
        (VERIFY_DOC, format!("### `{code}`\n"), "\n#")
    } else {
        return None;
    };
    let start = doc.find(&heading)?;
    let rest = &doc[start + heading.len()..];
    let end = rest.find(next).map_or(rest.len(), |e| e + 1);
    let section = format!("{heading}{}", &rest[..end]);
    Some(plain_links(section.trim_end()) + "\n")
}

/// `text` with every Markdown link `[label](target)` written as `label (target)`, the target
/// relative to the repository.
fn plain_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let tail = &rest[open..];
        let link = tail.find("](").and_then(|mid| {
            let close = tail[mid..].find(')')? + mid;
            Some((&tail[1..mid], &tail[mid + 2..close], close))
        });
        match link {
            Some((label, target, close)) if !label.contains('[') => {
                out.push_str(&rest[..open]);
                let target = target.trim_start_matches("../");
                if label.trim_matches('`') == target {
                    out.push_str(label);
                } else {
                    out.push_str(&format!("{label} ({target})"));
                }
                rest = &tail[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub(crate) fn spec_text(plan: &Plan, report: &Report, label: &str) -> String {
    let mut out = format!(
        "{} ({}, profile {}, region {})\n",
        plan.name, label, plan.profile.name, plan.location
    );
    for subnet in plan.vnet.subnets.iter().filter(|s| s.compute) {
        out.push_str(&subnet_text(plan, subnet));
    }
    out.push_str(&firewall_text(plan, report));
    out
}

fn subnet_text(plan: &Plan, subnet: &Subnet) -> String {
    let mut out = format!("\nsubnet {} {}\n", subnet.name, subnet.address_prefix);
    out.push_str(&format!("  egress: {}\n", egress(subnet)));
    if let Some(nsg) = plan.nsgs.iter().find(|n| n.subnet == subnet.name) {
        out.push_str(&format!("  NSG {}:\n", nsg.name));
        for rule in &nsg.rules {
            out.push_str(&rule_text(rule));
        }
        out.push_str("    (then Azure's default rules, 65000-65500)\n");
    }
    let table = subnet
        .route_table
        .as_ref()
        .and_then(|name| plan.route_tables.iter().find(|t| &t.name == name));
    if let Some(table) = table {
        out.push_str(&format!("  route table {}:\n", table.name));
        for route in &table.routes {
            let prefix = match &route.prefix {
                routes::Prefix::Cidr(net) => net.to_string(),
                routes::Prefix::ServiceTag(tag) => tag.clone(),
            };
            let hop = match &route.next_hop {
                NextHop::Appliance(ip) => format!("VirtualAppliance {ip}"),
                NextHop::Internet => "Internet".to_string(),
            };
            out.push_str(&format!(
                "    {} {prefix} -> {hop}\n      why: {}\n      source: {}\n",
                route.name, route.reason, route.source
            ));
        }
    }
    out
}

fn egress(subnet: &Subnet) -> &'static str {
    if subnet.nat_gateway.is_some() {
        "NAT gateway"
    } else if subnet.route_table.is_some() {
        "forced tunnel to the appliance (route table below)"
    } else if subnet.default_outbound_access {
        "Azure's default outbound access"
    } else {
        "none besides the nodes' own public IPs"
    }
}

fn rule_text(rule: &SecurityRule) -> String {
    let address = |a: &Address| match a {
        Address::One(one) => one.clone(),
        Address::Many(many) => many.join(", "),
    };
    format!(
        "    {} {} {} {} {} {} -> {} port {}\n      why: {}\n      source: {}\n",
        rule.priority,
        rule.direction.arm_name(),
        rule.access.arm_name(),
        rule.name,
        rule.protocol.arm_name(),
        address(&rule.source),
        address(&rule.destination),
        rule.ports.join(", "),
        rule.reason,
        rule.citation
    )
}

/// What the appliance must allow, per subnet, as `verify` finds it in the rendered template.
fn firewall_text(plan: &Plan, report: &Report) -> String {
    if plan.route_tables.is_empty() {
        return String::new();
    }
    let appliance = plan
        .route_tables
        .iter()
        .flat_map(|t| &t.routes)
        .find_map(|r| match &r.next_hop {
            NextHop::Appliance(ip) => Some(ip.as_str()),
            NextHop::Internet => None,
        });
    let mut out = format!(
        "\nthe firewall{} must allow (service tag, protocol/port), for the flows routed to it:\n",
        appliance.map(|ip| format!(" at {ip}")).unwrap_or_default()
    );
    for subnet in &report.subnets {
        if subnet.appliance_must_allow.is_empty() {
            continue;
        }
        out.push_str(&format!("  from {} ({}):\n", subnet.subnet, subnet.prefix));
        for line in &subnet.appliance_must_allow {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out.push_str(&hosts_text(plan));
    out.push_str("  `amlgen verify` lists the flows that do not work.\n");
    out
}

/// The hosts each workload of `plan` reaches by name, which the firewall must allow too.
fn hosts_text(plan: &Plan) -> String {
    let mut out = String::new();
    for workload in workloads(plan) {
        out.push_str(&format!(
            "  {} also needs these hosts (HTTP/S as application rules, other ports as network rules; {}):\n",
            workload.name(),
            workload.source()
        ));
        for host in workload.hosts() {
            out.push_str(&format!(
                "    {:<42} {} {:<16} {}\n",
                host.in_region(&plan.location),
                host.protocol,
                host.ports,
                host.purpose
            ));
        }
        out.push_str(match workload {
            Workload::AzureMl => "  `<storage>` is the workspace's default storage account.\n",
            Workload::HdInsight => {
                "  `<hdi-storage>` is the storage account amlgen creates for the cluster.\n"
            }
        });
    }
    out
}

/// The workloads of `plan` whose hosts the firewall must allow: Azure ML's for clusters,
/// instances and VMs, HDInsight's for HDInsight clusters.
fn workloads(plan: &Plan) -> Vec<Workload> {
    let azure_ml = !plan.virtual_machines.is_empty()
        || plan
            .computes
            .iter()
            .any(|c| !matches!(c.kind, ComputeKind::Attached(_)));
    let hdinsight = !plan.hdinsight_clusters.is_empty();
    [
        (azure_ml, Workload::AzureMl),
        (hdinsight, Workload::HdInsight),
    ]
    .into_iter()
    .filter_map(|(present, workload)| present.then_some(workload))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::spec;
    use serde_json::json;

    /// The hosts `explain` lists for the fixture spec changed by `patch`.
    fn hosts(patch: impl FnOnce(&mut serde_json::Value)) -> String {
        hosts_text(&crate::plan::build(&spec(patch), None))
    }

    #[test]
    fn the_hosts_follow_the_workloads() {
        let hdinsight = json!({"name": "hdi-a", "type": "hdinsight", "subnet": "snet-b", "cluster_type": "spark"});
        let only_hdinsight = hosts(|v| v["compute"] = json!([hdinsight.clone()]));
        for expected in [
            "  HDInsight also needs these hosts",
            "Configure outbound network traffic for Azure HDInsight clusters using Firewall",
            "    FQDN tag HDInsight ",
            "    login.windows.net ",
            "    azure.archive.ubuntu.com ",
            "    service tag Sql                            TCP 1433, 11000-11999",
        ] {
            assert!(
                only_hdinsight.contains(expected),
                "{expected}\n{only_hdinsight}"
            );
        }
        assert!(!only_hdinsight.contains("azureml"), "{only_hdinsight}");
        let only_aml = hosts(|_| {});
        assert!(only_aml.contains("    *.azureml.ms "), "{only_aml}");
        assert!(!only_aml.contains("HDInsight"), "{only_aml}");
        let both = hosts(|v| v["compute"].as_array_mut().unwrap().push(hdinsight.clone()));
        assert!(
            both.contains("*.azureml.ms") && both.contains("FQDN tag HDInsight"),
            "{both}"
        );
    }

    #[test]
    fn links_print_as_their_text_with_the_target_after_it() {
        assert_eq!(
            plain_links(
                "See [`a.yaml`](../a.yaml) and [the guide](https://x.test/g) [not a link]."
            ),
            "See `a.yaml` and the guide (https://x.test/g) [not a link]."
        );
    }

    #[test]
    fn every_code_has_a_section_that_ends_before_the_next() {
        for code in Code::ALL {
            let section = code_section(code.as_str()).unwrap();
            assert!(section.starts_with(&format!("## `{}`\n", code.as_str())));
            assert_eq!(section.matches("\n## ").count(), 0, "{section}");
        }
        assert_eq!(code_section("no-such-code"), None);
    }
}
