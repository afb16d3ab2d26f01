//! The workspace's computes: Azure ML clusters and instances, created as children of the
//! existing workspace and joined to their subnets, and the VMs and HDInsight clusters attached
//! to it.

use super::parameters::Names;
use super::{HdInsightCluster, VirtualMachine};
use crate::naming;
use crate::spec::{self, Spec, Tier};

/// An Azure ML compute cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub vm_size: String,
    /// `Dedicated` or `LowPriority`.
    pub vm_priority: &'static str,
    pub min_nodes: u32,
    pub max_nodes: u32,
    /// ISO 8601, e.g. `PT120S`.
    pub idle_before_scale_down: String,
    pub public_ip: bool,
    pub ssh: bool,
    /// A system-assigned identity: a created workspace's registry has no admin user and its
    /// storage no shared keys, so the cluster pulls images and reads data as itself.
    pub identity: bool,
}

/// An Azure ML compute instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub vm_size: String,
    pub public_ip: bool,
    pub ssh: bool,
    /// ISO 8601, e.g. `PT60M`.
    pub idle_before_shutdown: Option<String>,
    /// `(object id, tenant id)` of the user the instance is created for.
    pub assigned_user: Option<(String, String)>,
}

/// What an attached compute is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachedKind {
    /// A VM of this deployment, reached at its public IP.
    VirtualMachine {
        /// The parameter holding the VM's size.
        size_parameter: String,
        /// The computes module's input holding the address.
        address_link: String,
    },
    /// An HDInsight cluster of this deployment, reached at its SSH endpoint.
    HdInsight { address: String },
}

/// A VM or HDInsight cluster attached to the workspace; the attached resource has the compute's
/// name and lives in the deployment's resource group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub kind: AttachedKind,
    /// The parameter holding the user Azure ML logs in as (with `sshPrivateKey`).
    pub username_parameter: String,
    /// The computes module's input holding the attached resource's ID.
    pub id_link: String,
}

/// What kind of compute, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComputeKind {
    Cluster(Cluster),
    Instance(Instance),
    Attached(Attached),
}

impl ComputeKind {
    /// The workspace compute's `computeType`.
    pub fn compute_type(&self) -> &'static str {
        match self {
            ComputeKind::Cluster(_) => "AmlCompute",
            ComputeKind::Instance(_) => "ComputeInstance",
            ComputeKind::Attached(a) => match a.kind {
                AttachedKind::VirtualMachine { .. } => "VirtualMachine",
                AttachedKind::HdInsight { .. } => "HDInsight",
            },
        }
    }

    /// What the compute is, for comments.
    pub fn description(&self) -> &'static str {
        match self {
            ComputeKind::Cluster(_) => "Azure ML compute cluster",
            ComputeKind::Instance(_) => "Azure ML compute instance",
            ComputeKind::Attached(a) => match a.kind {
                AttachedKind::VirtualMachine { .. } => "Attached virtual machine",
                AttachedKind::HdInsight { .. } => "Attached HDInsight cluster",
            },
        }
    }
}

/// What an input of the computes module (or nested deployment) carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputValue {
    /// The resource ID of a subnet of the plan's VNet that a cluster or instance joins.
    SubnetId { subnet: String },
    /// The resource ID of the VM or cluster attached as this compute.
    AttachedId { compute: String },
    /// The public IP of the VM attached as this compute.
    AttachedAddress { compute: String },
}

/// An input of the computes module besides the forwarded parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInput {
    pub name: String,
    pub description: String,
    pub value: InputValue,
}

/// The computes module's inputs: the ID of each subnet a cluster or instance joins, and each
/// attached machine's ID (and address, for VMs), named by `names`.
pub(super) fn module_inputs(computes: &[Compute], names: &mut Names) -> Vec<ModuleInput> {
    let mut out: Vec<ModuleInput> = Vec::new();
    for compute in computes {
        let ComputeKind::Attached(a) = &compute.kind else {
            let subnet = &compute.subnet;
            let known = out.iter().any(|i| {
                i.value
                    == InputValue::SubnetId {
                        subnet: subnet.clone(),
                    }
            });
            if !known {
                out.push(ModuleInput {
                    name: names.link(subnet, "subnet-id"),
                    description: format!("Resource ID of subnet {subnet}, which computes join."),
                    value: InputValue::SubnetId {
                        subnet: subnet.clone(),
                    },
                });
            }
            continue;
        };
        let name = &compute.name;
        out.push(ModuleInput {
            name: a.id_link.clone(),
            description: format!("Resource ID of {name}, attached as compute {name}."),
            value: InputValue::AttachedId {
                compute: name.clone(),
            },
        });
        if let AttachedKind::VirtualMachine { address_link, .. } = &a.kind {
            out.push(ModuleInput {
                name: address_link.clone(),
                description: format!(
                    "Public IP address of VM {name}, which Azure ML reaches over SSH."
                ),
                value: InputValue::AttachedAddress {
                    compute: name.clone(),
                },
            });
        }
    }
    out
}

/// One compute of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compute {
    pub name: String,
    /// The subnet of the plan's VNet the compute joins.
    pub subnet: String,
    pub kind: ComputeKind,
}

pub(super) fn build(
    spec: &Spec,
    vms: &[VirtualMachine],
    clusters: &[HdInsightCluster],
    names: &mut Names,
) -> Vec<Compute> {
    let identity = spec.workspace.create;
    let mut computes: Vec<Compute> = spec
        .compute
        .iter()
        .filter_map(|c| aml_compute(c, identity))
        .collect();
    for vm in vms.iter().filter(|vm| vm.attach) {
        computes.push(Compute {
            name: vm.name.clone(),
            subnet: vm.subnet.clone(),
            kind: ComputeKind::Attached(Attached {
                kind: AttachedKind::VirtualMachine {
                    size_parameter: vm.size_parameter.clone(),
                    address_link: names.link(&vm.name, "address"),
                },
                username_parameter: vm.admin_parameter.clone(),
                id_link: names.link(&vm.name, "resource-id"),
            }),
        });
    }
    for cluster in clusters.iter().filter(|c| c.attach) {
        computes.push(Compute {
            name: cluster.name.clone(),
            subnet: cluster.subnet.clone(),
            kind: ComputeKind::Attached(Attached {
                kind: AttachedKind::HdInsight {
                    address: naming::hdinsight_ssh_host(&cluster.name),
                },
                username_parameter: cluster.ssh_user_parameter.clone(),
                id_link: names.link(&cluster.name, "resource-id"),
            }),
        });
    }
    computes
}

/// The small CPU cluster amlgen adds to build a created workspace's images, when none of the
/// spec's clusters can: it scales to zero, so it costs nothing while idle.
pub(super) fn image_builder(spec: &Spec) -> Option<Compute> {
    let spec::ImageBuilder::Added {
        name,
        subnet,
        public_ip,
    } = spec.image_builder()?
    else {
        return None;
    };
    Some(Compute {
        name,
        subnet: subnet.to_string(),
        kind: ComputeKind::Cluster(Cluster {
            vm_size: spec::ImageBuilder::SIZE.to_string(),
            vm_priority: "Dedicated",
            min_nodes: 0,
            max_nodes: 1,
            idle_before_scale_down: "PT120S".to_string(),
            public_ip,
            ssh: false,
            identity: true,
        }),
    })
}

/// An Azure ML cluster or instance; `None` for the other kinds.
/// `identity`: clusters get a system-assigned identity (a created workspace's).
fn aml_compute(compute: &spec::Compute, identity: bool) -> Option<Compute> {
    Some(match compute {
        spec::Compute::Amlcompute(c) => Compute {
            name: c.name.clone(),
            subnet: c.subnet.clone(),
            kind: ComputeKind::Cluster(Cluster {
                vm_size: c.size.clone(),
                vm_priority: match c.tier {
                    Tier::Dedicated => "Dedicated",
                    Tier::LowPriority => "LowPriority",
                },
                min_nodes: c.min_instances,
                max_nodes: c.max_instances,
                idle_before_scale_down: format!("PT{}S", c.idle_time_before_scale_down),
                public_ip: c.enable_node_public_ip,
                ssh: c.ssh_public_access_enabled,
                identity,
            }),
        },
        spec::Compute::Computeinstance(c) => Compute {
            name: c.name.clone(),
            subnet: c.subnet.clone(),
            kind: ComputeKind::Instance(Instance {
                vm_size: c.size.clone(),
                public_ip: c.enable_node_public_ip,
                ssh: c.ssh_public_access_enabled,
                idle_before_shutdown: c
                    .idle_time_before_shutdown_minutes
                    .map(|m| format!("PT{m}M")),
                assigned_user: c
                    .create_on_behalf_of
                    .as_ref()
                    .map(|u| (u.user_object_id.clone(), u.user_tenant_id.clone())),
            }),
        },
        spec::Compute::Databricks(_)
        | spec::Compute::Virtualmachine(_)
        | spec::Compute::Hdinsight(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::spec;
    use serde_json::json;

    #[test]
    fn spec_defaults_become_azure_settings() {
        let computes = build(&spec(|_| {}), &[], &[], &mut Names::new("eastus2"));
        let ComputeKind::Cluster(cluster) = &computes[0].kind else {
            panic!("not a cluster")
        };
        assert_eq!(
            (
                cluster.vm_priority,
                cluster.idle_before_scale_down.as_str(),
                cluster.public_ip
            ),
            ("Dedicated", "PT120S", true)
        );
    }

    #[test]
    fn attached_machines_follow_the_workspaces_own_computes() {
        let spec = spec(|v| {
            v["compute"].as_array_mut().unwrap().insert(
                0,
                json!({"name": "hdi", "type": "hdinsight", "subnet": "snet-a", "cluster_type": "spark", "attach": true}),
            );
        });
        let plan = crate::plan::build(&spec, None);
        let names: Vec<&str> = plan.computes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["cpu", "ci-alice", "hdi"]);
        let ComputeKind::Attached(attached) = &plan.computes[2].kind else {
            panic!("not attached")
        };
        assert_eq!(
            attached.kind,
            AttachedKind::HdInsight {
                address: "hdi-ssh.azurehdinsight.net".to_string()
            }
        );
        assert_eq!(attached.username_parameter, "hdiSshUsername");
        let names: Vec<&str> = plan.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "location",
                "sshPublicKey",
                "sshPrivateKey",
                "hdiSshUsername",
                "hdiLoginUsername",
                "hdiLoginPassword"
            ]
        );
    }
}
