//! The guide's prerequisite permissions: a custom role that may read the VNet and join its
//! subnets, assigned on the VNet, so that the people who create compute need not own the network.

use crate::spec::{Permissions, Spec};

/// One action of the role, with the reason it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    pub action: &'static str,
    pub reason: &'static str,
}

/// The actions of the subnet-join role.
const ACTIONS: &[Action] = &[
    Action {
        action: "Microsoft.Network/virtualNetworks/read",
        reason: "Read the VNet itself; reported as needed in MicrosoftDocs/azure-docs#71691.",
    },
    Action {
        action: "Microsoft.Network/virtualNetworks/*/read",
        reason: "Read the VNet's subnets and other children (the guide's prerequisite).",
    },
    Action {
        action: "Microsoft.Network/virtualNetworks/join/action",
        reason: "Join the VNet itself, required besides joining a subnet (Microsoft's permission list for secure training environments).",
    },
    Action {
        action: "Microsoft.Network/virtualNetworks/subnets/join/action",
        reason: "Place compute in a subnet (the guide's prerequisite).",
    },
];

/// A principal that receives the role on the VNet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub object_id: String,
    /// `User`, `Group` or `ServicePrincipal`.
    pub principal_type: &'static str,
}

impl Assignment {
    /// The role assignment's description.
    pub const DESCRIPTION: &'static str =
        "Created by amlgen: join the VNet's subnets to create compute.";
}

/// The role's display name, which must be unique in the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleName<'a> {
    /// The spec's `role_name`.
    Given(&'a str),
    /// By default: this prefix, naming the VNet, then the resource group's name at deployment.
    ResourceGroupSuffixed(&'a str),
}

/// The custom role and its assignments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetJoinRole {
    /// The role's name as the spec gives it.
    pub role_name: Option<String>,
    /// The start of the default name: `Subnet joiner for <vnet> in `.
    pub default_name_prefix: String,
    /// The VNet the role is assignable on and assigned at.
    pub vnet: String,
    pub actions: &'static [Action],
    pub assignments: Vec<Assignment>,
}

impl SubnetJoinRole {
    /// The role's display name.
    pub fn name(&self) -> RoleName<'_> {
        match &self.role_name {
            Some(name) => RoleName::Given(name),
            None => RoleName::ResourceGroupSuffixed(&self.default_name_prefix),
        }
    }

    /// The role definition's description.
    pub fn description(&self) -> String {
        format!(
            "Read virtual network {} and join its subnets, to create Azure ML compute in it without owning the network.",
            self.vnet
        )
    }
}

pub(super) fn build(spec: &Spec, permissions: &Permissions) -> SubnetJoinRole {
    SubnetJoinRole {
        role_name: permissions.role_name.clone(),
        default_name_prefix: format!("Subnet joiner for {} in ", spec.network.vnet.name),
        vnet: spec.network.vnet.name.clone(),
        actions: ACTIONS,
        assignments: permissions
            .assign_to
            .iter()
            .map(|p| Assignment {
                object_id: p.object_id.clone(),
                principal_type: p.kind.as_str(),
            })
            .collect(),
    }
}
