//! The plan: the Azure resources a spec expands into, before any output format is chosen.
//!
//! This is the only place that turns intent into resources: which subnets get an NSG and with
//! which rules (selected from the requirement profile), the NAT gateway or the route table, and
//! the computes with their settings. Both emitters read this model and nothing else, which is
//! what makes the Bicep and the ARM output describe the same resources. Building a plan cannot
//! fail: everything that could go wrong was checked before.

mod compute;
mod network;

use std::collections::BTreeMap;

pub use compute::{Cluster, Compute, ComputeKind, Instance};
pub use network::{Address, NatGateway, Nsg, RouteTable, SecurityRule, Subnet, VirtualNetwork};

use crate::azure::resource::ResourceKind;
use crate::azure::service_tags::ServiceTags;
use crate::profile::{self, Profile};
use crate::spec::Spec;

/// A deployment parameter of the generated templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: &'static str,
    pub description: String,
    /// The default written into the template; `None` for values that must come from the deployer.
    pub default: Option<String>,
    /// The only values accepted, when the template cannot work with any other.
    pub allowed: Vec<String>,
    /// Secrets are `@secure()` / `securestring` and never have a default.
    pub secure: bool,
    /// The environment variable `main.bicepparam` reads it from, for values without a default.
    pub env: Option<&'static str>,
}

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
    pub workspace: Workspace,
    pub computes: Vec<Compute>,
}

/// The location parameter: every resource uses it, and it may only be the spec's region because
/// the NSG rules name that region's service tags.
fn location_parameter(location: &str) -> Parameter {
    Parameter {
        name: "location",
        description: format!(
            "Region of every resource. The NSG rules use {location} service tags: to deploy elsewhere, change `location` in the spec and render again."
        ),
        default: Some(location.to_string()),
        allowed: vec![location.to_string()],
        secure: false,
        env: None,
    }
}

/// Expands a checked spec into its resources.
pub fn build(spec: &Spec, service_tags: Option<&ServiceTags>) -> Plan {
    let profile = profile::for_requirements(spec.requirements);
    let network = network::build(spec, profile, service_tags);
    let computes = compute::build(spec);
    let mut parameters = vec![location_parameter(&spec.location)];
    parameters.extend(compute::parameters(&computes));
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
        workspace: Workspace {
            name: spec.workspace.name.clone(),
            resource_group: spec.workspace.resource_group.clone(),
        },
        computes,
    }
}

impl Plan {
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
        out.extend(self.computes.iter().map(|c| {
            (
                ResourceKind::Compute,
                format!("{}/{}", self.workspace.name, c.name),
            )
        }));
        out
    }
}
