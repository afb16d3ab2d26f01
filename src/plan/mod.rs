//! The plan: the Azure resources a spec expands into, before any output format is chosen.
//!
//! This is the only place that turns intent into resources: which subnets get an NSG and with
//! which rules (selected from the requirement profile), the NAT gateway or the route table, the
//! Databricks workspaces, VMs and HDInsight clusters in the VNet, the subnet-join role, and the
//! workspace's computes with their settings. It carries names and typed references, never Bicep
//! or ARM text; `resources` turns it into the one resource model both formats are printed from.
//! Building a plan cannot fail: everything that could go wrong was checked before.

mod compute;
mod databricks;
mod machines;
mod network;
mod parameters;
mod permissions;
mod workspace;

use std::collections::BTreeMap;

pub use compute::{
    Attached, AttachedKind, Cluster, Compute, ComputeKind, InputValue, Instance, ModuleInput,
};
pub use databricks::DatabricksWorkspace;
pub use machines::{HdInsightCluster, VirtualMachine};
pub use network::{Address, NatGateway, Nsg, RouteTable, SecurityRule, Subnet, VirtualNetwork};
pub use parameters::{
    ADMIN_USERNAME, EnvVar, LOCATION, Parameter, SSH_PRIVATE_KEY, SSH_PUBLIC_KEY,
};
pub use permissions::{Assignment, RoleName, SubnetJoinRole};
pub use workspace::{
    CLOUD, CreatedWorkspace, Dependency, Endpoint, GlobalName, PrivateEndpoints, Serverless, Zone,
};
pub(crate) use workspace::{
    GlobalNames, INSIGHTS, KEY_VAULT, Kind, REGISTRY, STORAGE, ZONE, endpoint_targets, needed_zones,
};

use crate::azure::service_tags::ServiceTags;
use crate::profile::{self, Profile};
use crate::spec::{Egress, Outbound, Spec};

/// The Azure ML workspace the computes are created in: an existing one, or one this deployment
/// creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub name: String,
    /// `Some` when the workspace lives in another resource group: computes then go into a module
    /// (Bicep) or a nested deployment (ARM) scoped there.
    pub resource_group: Option<String>,
    /// `Some` when this deployment creates the workspace, with its dependencies.
    pub created: Option<CreatedWorkspace>,
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
    pub route_tables: Vec<RouteTable>,
    pub nat_gateway: Option<NatGateway>,
    pub vnet: VirtualNetwork,
    pub role: Option<SubnetJoinRole>,
    pub virtual_machines: Vec<VirtualMachine>,
    pub hdinsight_clusters: Vec<HdInsightCluster>,
    pub databricks: Vec<DatabricksWorkspace>,
    pub workspace: Workspace,
    /// The computes of the workspace: its own clusters and instances, and attached machines.
    pub computes: Vec<Compute>,
    /// What the computes module (Bicep) or nested deployment (ARM) receives besides the
    /// parameters the computes read; empty unless the workspace is in another resource group.
    pub module_inputs: Vec<ModuleInput>,
    /// The private endpoints this deployment creates, with their DNS.
    pub private_endpoints: Option<PrivateEndpoints>,
    pub intent: Intent,
}

/// What the spec asks of the network that the resources alone do not say, stamped into the ARM
/// template's metadata so that `amlgen verify` holds amlgen's own output to it without flags.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    /// `network.egress`: `default`, `nat` or `forced_tunnel`.
    pub egress: &'static str,
    /// `network.outbound`: `open` or `locked`.
    pub outbound: &'static str,
    /// `network.ssh.allow_from`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh_sources: Vec<String>,
    /// The regional service tag of each route written as IP prefixes, with its prefixes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub service_tag_prefixes: BTreeMap<String, Vec<String>>,
}

impl Intent {
    fn of(spec: &Spec, route_tables: &[RouteTable]) -> Intent {
        let mut service_tag_prefixes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for route in route_tables.iter().flat_map(|t| &t.routes) {
            if let (Some(tag), crate::routes::Prefix::Cidr(net)) = (&route.tag, &route.prefix) {
                let prefixes = service_tag_prefixes.entry(tag.clone()).or_default();
                if !prefixes.contains(&net.to_string()) {
                    prefixes.push(net.to_string());
                }
            }
        }
        Intent {
            egress: match spec.network.egress {
                Egress::Default => "default",
                Egress::Nat => "nat",
                Egress::ForcedTunnel => "forced_tunnel",
            },
            outbound: match spec.network.outbound {
                Outbound::Open => "open",
                Outbound::Locked => "locked",
            },
            ssh_sources: spec.network.ssh.allow_from.clone(),
            service_tag_prefixes,
        }
    }
}

/// Expands a checked spec into its resources.
pub fn build(spec: &Spec, service_tags: Option<&ServiceTags>) -> Plan {
    let profile = profile::for_requirements(spec.requirements);
    let network = network::build(spec, profile, service_tags);
    let mut names = parameters::Names::new(&spec.location);
    let virtual_machines = machines::virtual_machines(spec, &mut names);
    let hdinsight_clusters = machines::hdinsight_clusters(spec, &mut names);
    let mut computes = compute::build(spec, &virtual_machines, &hdinsight_clusters, &mut names);
    computes.extend(compute::image_builder(spec));
    let created = workspace::created(spec);
    let private_endpoints = workspace::private_endpoints(spec);
    let module_inputs = match spec.workspace.resource_group {
        Some(_) => compute::module_inputs(&computes, &mut names),
        None => Vec::new(),
    };
    let parameters = names.finish(&computes, &virtual_machines, &hdinsight_clusters);
    let intent = Intent::of(spec, &network.route_tables);
    Plan {
        name: spec.name.clone(),
        location: spec.location.clone(),
        profile,
        tags: spec.tags.clone(),
        parameters,
        nsgs: network.nsgs,
        route_tables: network.route_tables,
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
            created,
        },
        computes,
        module_inputs,
        private_endpoints,
        intent,
    }
}
