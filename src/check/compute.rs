//! Computes: unique names, subnets that exist and may host them, scale settings, VM images, and
//! the settings Azure refuses at deployment time (no public IP without the workspace's private
//! endpoint, HDInsight behind an NSG lockdown), VM sizes Azure has retired, SSH opened to the
//! internet or enabled on nodes without a public IP, and HDInsight attached under `current`,
//! which only the retired SDK v1 supports.

use super::{compute_pointer, duplicate_names, subnet_pointer};
use ipnet::Ipv4Net;

use crate::azure::{images, sizes};
use crate::diag::{Code, Diagnostic, Label};
use crate::naming;
use crate::spec::{Compute, Outbound, Requirements, Spec};
use crate::suggest::closest;

pub(super) fn check(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = duplicate_names(
        "computes",
        spec.compute
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("{}/name", compute_pointer(i)), c.name())),
        "compute names are unique within a workspace",
    );
    for (i, compute) in spec.compute.iter().enumerate() {
        found.extend(subnet_references(spec, i, compute));
        found.extend(scale(i, compute));
        found.extend(public_ip(spec, i, compute));
        found.extend(image(i, compute));
        found.extend(retired_sizes(i, compute));
        found.extend(hdinsight_lockdown(spec, i, compute));
        found.extend(hdinsight_attach(spec, i, compute));
        found.extend(ssh_without_public_ip(i, compute));
        found.extend(managed_group_name(spec, i, compute));
    }
    found.extend(ssh(spec));
    found.extend(ssh_open(spec));
    found.extend(nsg_names(spec));
    found
}

fn subnet_references(spec: &Spec, i: usize, compute: &Compute) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (key, name) in compute.subnets() {
        let at = format!("{}/{key}", compute_pointer(i));
        match spec.subnet(name) {
            None => {
                let names = spec.network.subnets.iter().map(|s| s.name.as_str());
                let diagnostic = Diagnostic::error(Code::SubnetUnknown, format!("compute `{}` names subnet `{name}`, which `network.subnets` does not define", compute.name()), Label::value(at, "unknown subnet"));
                found.push(match closest(name, names) {
                    Some(guess) => diagnostic.with_help(format!("did you mean `{guess}`?")),
                    None => diagnostic.with_help("add the subnet to `network.subnets`"),
                });
            }
            Some((si, subnet)) if !matches!(compute, Compute::Databricks(_)) && subnet.delegation.is_some() => found.push(
                Diagnostic::error(Code::SubnetDelegated, format!("subnet `{name}` is delegated, so compute `{}` cannot join it", compute.name()), Label::value(at, "delegated subnet"))
                    .with_label(Label::value(format!("{}/delegation", subnet_pointer(si)), "delegated here"))
                    .with_help("Azure ML compute, VMs and HDInsight need a subnet that is not delegated to any service"),
            ),
            Some(_) => {}
        }
    }
    found
}

fn scale(i: usize, compute: &Compute) -> Option<Diagnostic> {
    let Compute::Amlcompute(cluster) = compute else {
        return None;
    };
    (cluster.min_instances > cluster.max_instances).then(|| {
        Diagnostic::error(
            Code::InstancesMinAboveMax,
            format!(
                "cluster `{}` keeps {} nodes but may scale to only {}",
                cluster.name, cluster.min_instances, cluster.max_instances
            ),
            Label::value(
                format!("{}/min_instances", compute_pointer(i)),
                "min_instances",
            ),
        )
        .with_label(Label::value(
            format!("{}/max_instances", compute_pointer(i)),
            "max_instances",
        ))
        .with_help("`min_instances` must not exceed `max_instances`")
    })
}

fn public_ip(spec: &Spec, i: usize, compute: &Compute) -> Option<Diagnostic> {
    let node = compute.aml_node()?;
    (!node.public_ip && !spec.workspace.has_private_endpoint()).then(|| {
        Diagnostic::error(
            Code::NoPublicIpNeedsPrivateEndpoint,
            format!("compute `{}` has no public IP, which Azure ML allows only for a workspace with a private endpoint", compute.name()),
            Label::value(format!("{}/enable_node_public_ip", compute_pointer(i)), "no public IP"),
        )
        .with_label(Label::value("/workspace", "this workspace has no `private_endpoint: true`"))
        .with_help("give the workspace a private endpoint and set `workspace.private_endpoint: true`, or set `enable_node_public_ip: true`")
    })
}

fn image(i: usize, compute: &Compute) -> Option<Diagnostic> {
    let Compute::Virtualmachine(vm) = compute else {
        return None;
    };
    images::find(&vm.image).is_none().then(|| {
        let supported = images::names().join("` or `");
        Diagnostic::error(
            Code::VmImageUnsupported,
            format!(
                "VM `{}` uses image `{}`, but Azure ML attaches only Ubuntu VMs",
                vm.name, vm.image
            ),
            Label::value(
                format!("{}/image", compute_pointer(i)),
                "not a supported Ubuntu image",
            ),
        )
        .with_help(format!("use `{supported}`"))
    })
}

/// The VM sizes of `compute`, with the key naming each.
fn sizes(compute: &Compute) -> Vec<(&'static str, &str)> {
    match compute {
        Compute::Amlcompute(c) => vec![("size", c.size.as_str())],
        Compute::Computeinstance(c) => vec![("size", c.size.as_str())],
        Compute::Virtualmachine(c) => vec![("size", c.size.as_str())],
        Compute::Hdinsight(c) => vec![
            ("head_size", c.head_size.as_str()),
            ("worker_size", c.worker_size.as_str()),
        ],
        Compute::Databricks(_) => Vec::new(),
    }
}

fn retired_sizes(i: usize, compute: &Compute) -> Vec<Diagnostic> {
    sizes(compute)
        .into_iter()
        .filter_map(|(key, size)| Some((key, size, sizes::retired(size)?)))
        .map(|(key, size, series)| {
            Diagnostic::warning(
                Code::VmSizeRetired,
                format!("compute `{}` uses size `{size}` of the {} series, which Azure retired on {}; it can no longer be provisioned", compute.name(), series.series, series.retired),
                Label::value(format!("{}/{key}", compute_pointer(i)), "retired size"),
            )
            .with_help(format!("use a current size such as `{}`", series.replacement))
        })
        .collect()
}

fn hdinsight_lockdown(spec: &Spec, i: usize, compute: &Compute) -> Option<Diagnostic> {
    let Compute::Hdinsight(cluster) = compute else {
        return None;
    };
    (spec.network.outbound == Outbound::Locked).then(|| {
        Diagnostic::warning(
            Code::HdinsightOutboundLocked,
            format!("HDInsight cluster `{}` is in a subnet whose outbound traffic the NSG locks down, which HDInsight does not support; cluster creation may fail", cluster.name),
            Label::value(format!("{}/subnet", compute_pointer(i)), "locked subnet"),
        )
        .with_label(Label::value("/network/outbound", "outbound: locked"))
        .with_help("restrict HDInsight's outbound traffic with a firewall instead: `outbound: open` and `egress: forced_tunnel` to a firewall that allows the HDInsight FQDN tag")
    })
}

/// Under `current`, an attached HDInsight cluster: only the Azure ML Python SDK v1 works with
/// one (the CLI v2 and SDK v2 attach only Kubernetes clusters and remote VMs), and SDK v1
/// support ended on 2026-06-30.
fn hdinsight_attach(spec: &Spec, i: usize, compute: &Compute) -> Option<Diagnostic> {
    let Compute::Hdinsight(cluster) = compute else {
        return None;
    };
    (spec.requirements == Requirements::Current && cluster.attach).then(|| {
        Diagnostic::warning(
            Code::HdinsightAttachSdkV1,
            format!("HDInsight cluster `{}` is attached to the workspace, but only the Azure ML Python SDK v1 works with attached HDInsight (the CLI v2 and SDK v2 attach only Kubernetes clusters and remote VMs), and SDK v1 support ended on 2026-06-30", cluster.name),
            Label::key(format!("{}/attach", compute_pointer(i)), "attach: true"),
        )
        .with_help("Microsoft recommends Apache Spark in Azure ML instead: serverless Spark compute, or an attached Synapse Spark pool")
    })
}

/// A cluster or instance with SSH on and no public IP: its nodes have only private addresses,
/// so the SSH rule for `network.ssh.allow_from` cannot make them reachable from the internet.
fn ssh_without_public_ip(i: usize, compute: &Compute) -> Option<Diagnostic> {
    let node = compute.aml_node()?;
    (node.ssh && !node.public_ip).then(|| {
        Diagnostic::warning(
            Code::SshNoPublicIp,
            format!("compute `{}` enables SSH but has no public IP: its nodes are reachable over SSH only from inside the VNet (or peered networks) at their private IPs, and the NSG's SSH rule for `network.ssh.allow_from` does not make them reachable from the internet", compute.name()),
            Label::key(format!("{}/ssh_public_access_enabled", compute_pointer(i)), "SSH enabled"),
        )
        .with_label(Label::value(format!("{}/enable_node_public_ip", compute_pointer(i)), "no public IP"))
        .with_help("connect from a machine in the VNet or a peered network (a jump box, a VPN, Azure Bastion), or set `enable_node_public_ip: true`")
    })
}

fn managed_group_name(spec: &Spec, i: usize, compute: &Compute) -> Option<Diagnostic> {
    let Compute::Databricks(workspace) = compute else {
        return None;
    };
    let name = naming::databricks_managed_group(&spec.name, &workspace.name);
    (name.len() > naming::RESOURCE_GROUP_NAME_MAX).then(|| {
        Diagnostic::error(
            Code::NameTooLong,
            format!(
                "the Databricks managed resource group `{name}` is {} characters; Azure allows {}",
                name.len(),
                naming::RESOURCE_GROUP_NAME_MAX
            ),
            Label::value(
                format!("{}/name", compute_pointer(i)),
                "the managed resource group is named after this workspace",
            ),
        )
        .with_help("shorten the workspace name or the spec's `name`")
    })
}

fn ssh(spec: &Spec) -> Vec<Diagnostic> {
    let sources = !spec.network.ssh.allow_from.is_empty();
    let enabled: Vec<usize> = spec
        .compute
        .iter()
        .enumerate()
        .filter(|(_, c)| c.aml_node().is_some_and(|n| n.ssh))
        .map(|(i, _)| i)
        .collect();
    let mut found = Vec::new();
    if !sources {
        found.extend(enabled.iter().map(|i| {
            Diagnostic::warning(
                Code::SshWithoutSource,
                format!("compute `{}` enables SSH, but no source may reach it", spec.compute[*i].name()),
                Label::value(format!("{}/ssh_public_access_enabled", compute_pointer(*i)), "SSH enabled"),
            )
            .with_help("add the admin networks to `network.ssh.allow_from`; the subnet NSG denies every other inbound source")
        }));
    } else if enabled.is_empty() && !spec.compute.iter().any(Compute::is_attachable) {
        found.push(
            Diagnostic::warning(Code::SshSourceUnused, "`network.ssh.allow_from` is set, but no compute enables SSH, so no rule is written", Label::value("/network/ssh/allow_from", "unused"))
                .with_help("set `ssh_public_access_enabled: true` on the computes that need remote login, add a VM or HDInsight cluster, or remove `network.ssh`"),
        );
    }
    found
}

/// The shortest prefix `network.ssh.allow_from` may hold without a warning: every shorter one
/// holds at least 16 million public addresses, while a /8 may still be the private 10.0.0.0/8.
const SSH_SHORTEST_PREFIX: u8 = 8;

/// `ssh-open-to-internet` for each source of the SSH rule that is much of the internet, when
/// some compute uses the sources (otherwise `ssh-source-unused` applies).
fn ssh_open(spec: &Spec) -> Vec<Diagnostic> {
    let users: Vec<&str> = spec
        .compute
        .iter()
        .filter(|c| c.is_attachable() || c.aml_node().is_some_and(|n| n.ssh))
        .map(Compute::name)
        .collect();
    if users.is_empty() {
        return Vec::new();
    }
    spec.network
        .ssh
        .allow_from
        .iter()
        .enumerate()
        .filter(|(_, source)| source.parse::<Ipv4Net>().is_ok_and(|n| n.prefix_len() < SSH_SHORTEST_PREFIX))
        .map(|(j, source)| {
            Diagnostic::warning(
                Code::SshOpenToInternet,
                format!("SSH (TCP 22) of `{}` is open to `{source}`, which is much of the internet", users.join("`, `")),
                Label::value(format!("/network/ssh/allow_from/{j}"), "open to the internet"),
            )
            .with_help("allow only your admin networks or a bastion's range; Azure ML reaches attached machines through the `AzureMachineLearning` service tag without this")
        })
        .collect()
}

fn nsg_names(spec: &Spec) -> Vec<Diagnostic> {
    spec.network
        .subnets
        .iter()
        .enumerate()
        .filter_map(|(i, subnet)| {
            let name = naming::nsg(&spec.name, &subnet.name);
            (name.len() > naming::NETWORK_NAME_MAX).then(|| {
                Diagnostic::error(
                    Code::NameTooLong,
                    format!(
                        "the NSG name `{name}` is {} characters; Azure allows {}",
                        name.len(),
                        naming::NETWORK_NAME_MAX
                    ),
                    Label::value(
                        format!("{}/name", subnet_pointer(i)),
                        "the NSG is named after this subnet",
                    ),
                )
                .with_help("shorten the subnet name or the spec's `name`")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::{codes, spec};
    use crate::diag::At;
    use serde_json::json;

    #[test]
    fn a_valid_spec_passes() {
        assert!(check(&spec(|_| {})).is_empty());
    }

    #[test]
    fn unknown_subnets_get_a_suggestion() {
        let found = check(&spec(|v| v["compute"][0]["subnet"] = json!("snet-c")));
        assert_eq!(codes(&found), ["subnet-unknown"]);
        assert_eq!(found[0].help.as_deref(), Some("did you mean `snet-a`?"));
    }

    #[test]
    fn delegated_subnets_cannot_host_aml_compute() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][0]["delegation"] =
                json!("Microsoft.ContainerInstance/containerGroups")
        }));
        assert_eq!(codes(&found), ["subnet-delegated", "subnet-delegated"]);
    }

    #[test]
    fn scale_and_private_endpoint_rules() {
        let found = check(&spec(|v| {
            v["compute"][0]["min_instances"] = json!(5);
            v["compute"][1]["enable_node_public_ip"] = json!(false);
            v["workspace"]["private_endpoint"] = json!(false);
        }));
        assert_eq!(
            codes(&found),
            [
                "instances-min-above-max",
                "no-public-ip-needs-private-endpoint"
            ]
        );
    }

    #[test]
    fn ssh_settings_must_meet() {
        let found = check(&spec(|v| {
            v["compute"][0]["ssh_public_access_enabled"] = json!(true)
        }));
        assert_eq!(codes(&found), ["ssh-without-source"]);
        let found = check(&spec(|v| {
            v["network"]["ssh"] = json!({"allow_from": ["203.0.113.0/24"]})
        }));
        assert_eq!(codes(&found), ["ssh-source-unused"]);
    }

    #[test]
    fn duplicate_names_and_long_nsg_names() {
        let found = check(&spec(|v| {
            v["compute"][1]["name"] = json!("cpu");
            v["network"]["subnets"][1]["name"] = json!("s".repeat(78));
        }));
        assert_eq!(codes(&found), ["name-duplicate", "name-too-long"]);
    }

    fn push(v: &mut serde_json::Value, compute: serde_json::Value) {
        v["compute"].as_array_mut().unwrap().push(compute);
    }

    #[test]
    fn only_ubuntu_images_are_accepted() {
        let found = check(&spec(|v| {
            push(
                v,
                json!({"name": "vm-a", "type": "virtualmachine", "subnet": "snet-a", "image": "ubuntu-20.04"}),
            )
        }));
        assert_eq!(codes(&found), ["vm-image-unsupported"]);
        assert_eq!(
            found[0].help.as_deref(),
            Some("use `ubuntu-22.04` or `ubuntu-24.04`")
        );
    }

    #[test]
    fn vms_and_hdinsight_need_an_undelegated_subnet() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][1]["delegation"] = json!("Microsoft.Databricks/workspaces");
            push(
                v,
                json!({"name": "vm-a", "type": "virtualmachine", "subnet": "snet-b"}),
            );
            push(
                v,
                json!({"name": "hdi-a", "type": "hdinsight", "subnet": "snet-b", "cluster_type": "spark"}),
            );
        }));
        assert_eq!(codes(&found), ["subnet-delegated", "subnet-delegated"]);
    }

    #[test]
    fn hdinsight_behind_a_lockdown_is_a_warning() {
        let found = check(&spec(|v| {
            v["network"]["outbound"] = json!("locked");
            push(
                v,
                json!({"name": "hdi-a", "type": "hdinsight", "subnet": "snet-a", "cluster_type": "spark"}),
            );
        }));
        assert_eq!(codes(&found), ["hdinsight-outbound-locked"]);
        assert!(!found[0].is_error());
    }

    #[test]
    fn attached_hdinsight_is_warned_under_current_only() {
        let hdi = json!({"name": "hdi-a", "type": "hdinsight", "subnet": "snet-b", "cluster_type": "spark", "attach": true});
        let found = check(&spec(|v| push(v, hdi.clone())));
        assert_eq!(codes(&found), ["hdinsight-attach-sdk-v1"]);
        assert!(!found[0].is_error());
        assert_eq!(found[0].primary.at, At::Key("/compute/2/attach".into()));
        assert!(found[0].message.contains("SDK v1"), "{}", found[0].message);
        assert!(
            found[0]
                .help
                .as_deref()
                .unwrap()
                .contains("serverless Spark")
        );
        let guide = check(&spec(|v| {
            push(v, hdi.clone());
            v["requirements"] = json!("guide-2021");
        }));
        assert!(guide.is_empty(), "{guide:?}");
        let unattached = check(&spec(|v| {
            push(v, hdi.clone());
            v["compute"][2]["attach"] = json!(false);
        }));
        assert!(unattached.is_empty(), "{unattached:?}");
    }

    #[test]
    fn ssh_on_nodes_without_a_public_ip_is_warned() {
        let private_ssh = |v: &mut serde_json::Value, i: usize| {
            v["network"]["ssh"] = json!({"allow_from": ["203.0.113.0/24"]});
            v["compute"][i]["enable_node_public_ip"] = json!(false);
            v["compute"][i]["ssh_public_access_enabled"] = json!(true);
        };
        for i in [0, 1] {
            let found = check(&spec(|v| private_ssh(v, i)));
            assert_eq!(codes(&found), ["ssh-no-public-ip"], "compute {i}");
            assert!(!found[0].is_error());
            assert_eq!(
                found[0].primary.at,
                At::Key(format!("/compute/{i}/ssh_public_access_enabled"))
            );
        }
        let public = check(&spec(|v| {
            private_ssh(v, 0);
            v["compute"][0]["enable_node_public_ip"] = json!(true);
        }));
        assert!(public.is_empty(), "{public:?}");
        let no_ssh = check(&spec(|v| {
            private_ssh(v, 0);
            v["compute"][0]["ssh_public_access_enabled"] = json!(false);
        }));
        assert!(!codes(&no_ssh).contains(&"ssh-no-public-ip"), "{no_ssh:?}");
    }

    #[test]
    fn long_databricks_managed_group_names_are_refused() {
        let found = check(&spec(|v| {
            v["name"] = json!("n".repeat(30));
            push(
                v,
                json!({"name": "d".repeat(64), "type": "databricks", "public_subnet": "snet-b", "private_subnet": "snet-b"}),
            )
        }));
        assert_eq!(codes(&found), ["name-too-long"]);
    }

    #[test]
    fn retired_sizes_and_open_ssh_are_warned() {
        let found = check(&spec(|v| {
            v["compute"][0]["size"] = json!("Standard_NC6s_v3");
            v["network"]["ssh"] = json!({"allow_from": ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/7"]});
            push(
                v,
                json!({"name": "hdi-a", "type": "hdinsight", "subnet": "snet-a", "cluster_type": "spark", "head_size": "Standard_A4"}),
            );
        }));
        assert_eq!(
            codes(&found),
            [
                "vm-size-retired",
                "vm-size-retired",
                "ssh-open-to-internet",
                "ssh-open-to-internet"
            ]
        );
        assert!(
            found[0].message.contains("2025-09-30"),
            "{}",
            found[0].message
        );
        assert!(found.iter().all(|d| !d.is_error()));
    }

    #[test]
    fn a_vm_consumes_the_ssh_sources() {
        let found = check(&spec(|v| {
            v["network"]["ssh"] = json!({"allow_from": ["203.0.113.0/24"]});
            push(
                v,
                json!({"name": "vm-a", "type": "virtualmachine", "subnet": "snet-a"}),
            );
        }));
        assert!(found.is_empty(), "{found:?}");
    }
}
