//! The plan: the Azure resources a spec expands into, before any output format is chosen.
//!
//! This is the only place that turns intent into resources: which subnets get an NSG and with
//! which rules (selected from the requirement profile), the NAT gateway or the route table, the
//! Databricks workspaces, VMs and HDInsight clusters in the VNet, the subnet-join role, and the
//! workspace's computes with their settings. Both emitters read this model and nothing else, which is
//! what makes the Bicep and the ARM output describe the same resources. Building a plan cannot
//! fail: everything that could go wrong was checked before.

mod compute;
mod databricks;
mod machines;
mod network;
mod parameters;
mod permissions;

use std::collections::BTreeMap;

pub use compute::{
    Attached, AttachedKind, Cluster, Compute, ComputeKind, InputValue, Instance, ModuleInput,
};
pub use databricks::DatabricksWorkspace;
pub use machines::{HdInsightCluster, VirtualMachine};
pub use network::{Address, NatGateway, Nsg, RouteTable, SecurityRule, Subnet, VirtualNetwork};
pub use parameters::{ADMIN_USERNAME, EnvVar, Parameter, SSH_PRIVATE_KEY, SSH_PUBLIC_KEY, VNET_ID};
pub use permissions::{Assignment, RoleName, SubnetJoinRole};

use crate::azure::resource::ResourceKind;
use crate::azure::service_tags::ServiceTags;
use crate::profile::{self, Profile};
use crate::spec::Spec;

/// The existing Azure ML workspace the computes are created in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub name: String,
    /// `Some` when the workspace lives in another resource group: computes then go into a module
    /// (Bicep) or a nested deployment (ARM) scoped there.
    pub resource_group: Option<String>,
}

/// Everything one spec renders into.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub location: String,
    pub profile: &'static Profile,
    pub tags: BTreeMap<String, String>,
    pub parameters: Vec<Parameter>,
    pub nsgs: Vec<Nsg>,
    pub route_table: Option<RouteTable>,
    pub nat_gateway: Option<NatGateway>,
    pub vnet: VirtualNetwork,
    pub role: Option<SubnetJoinRole>,
    pub virtual_machines: Vec<VirtualMachine>,
    pub hdinsight_clusters: Vec<HdInsightCluster>,
    pub databricks: Vec<DatabricksWorkspace>,
    pub workspace: Workspace,
    /// The computes of the workspace: its own clusters and instances, and attached machines.
    pub computes: Vec<Compute>,
}

/// Expands a checked spec into its resources.
pub fn build(spec: &Spec, service_tags: Option<&ServiceTags>) -> Plan {
    let profile = profile::for_requirements(spec.requirements);
    let network = network::build(spec, profile, service_tags);
    let mut names = parameters::Names::new(&spec.location);
    let virtual_machines = machines::virtual_machines(spec, &mut names);
    let hdinsight_clusters = machines::hdinsight_clusters(spec, &mut names);
    let computes = compute::build(spec, &virtual_machines, &hdinsight_clusters, &mut names);
    let parameters = names.finish(&computes, &virtual_machines, &hdinsight_clusters);
    Plan {
        name: spec.name.clone(),
        location: spec.location.clone(),
        profile,
        tags: spec.tags.clone(),
        parameters,
        nsgs: network.nsgs,
        route_table: network.route_table,
        nat_gateway: network.nat_gateway,
        vnet: network.vnet,
        role: spec
            .permissions
            .as_ref()
            .map(|p| permissions::build(spec, p)),
        virtual_machines,
        hdinsight_clusters,
        databricks: databricks::build(spec),
        workspace: Workspace {
            name: spec.workspace.name.clone(),
            resource_group: spec.workspace.resource_group.clone(),
        },
        computes,
    }
}

impl Plan {
    /// What the computes module (Bicep) or nested deployment (ARM) receives besides the
    /// parameters the computes read.
    pub fn module_inputs(&self) -> Vec<ModuleInput> {
        compute::module_inputs(&self.computes)
    }

    /// Every resource the plan creates, in output order, as `(kind, full name)`; computes are
    /// named `<workspace>/<compute>`, and a nested deployment holds them when the workspace is in
    /// another resource group.
    pub fn resources(&self) -> Vec<(ResourceKind, String)> {
        let mut out: Vec<(ResourceKind, String)> = self
            .nsgs
            .iter()
            .map(|n| (ResourceKind::NetworkSecurityGroup, n.name.clone()))
            .collect();
        out.extend(
            self.route_table
                .iter()
                .map(|r| (ResourceKind::RouteTable, r.name.clone())),
        );
        if let Some(nat) = &self.nat_gateway {
            out.push((ResourceKind::PublicIpAddress, nat.public_ip.clone()));
            out.push((ResourceKind::NatGateway, nat.name.clone()));
        }
        out.push((ResourceKind::VirtualNetwork, self.vnet.name.clone()));
        if let Some(role) = &self.role {
            out.push((ResourceKind::RoleDefinition, role.display_name()));
            out.extend(
                role.assignments
                    .iter()
                    .map(|a| (ResourceKind::RoleAssignment, a.display_name())),
            );
        }
        for cluster in &self.hdinsight_clusters {
            out.push((ResourceKind::StorageAccount, cluster.storage_display_name()));
            out.push((ResourceKind::HdInsightCluster, cluster.name.clone()));
        }
        for vm in &self.virtual_machines {
            out.push((ResourceKind::NetworkInterface, vm.nic.clone()));
            out.push((ResourceKind::VirtualMachine, vm.name.clone()));
        }
        out.extend(
            self.databricks
                .iter()
                .map(|d| (ResourceKind::DatabricksWorkspace, d.name.clone())),
        );
        out.extend(self.computes.iter().map(|c| {
            (
                ResourceKind::Compute,
                format!("{}/{}", self.workspace.name, c.name),
            )
        }));
        out
    }
}
