//! ARM wire types of the subnet-join role: a custom role definition assignable in the resource
//! group, and its assignments on the VNet.

use serde::Serialize;

use super::{Properties, Resource, expression, quoted, vnet_id};
use crate::azure::resource::ResourceKind;
use crate::plan::{Assignment, Plan, RoleName, SubnetJoinRole};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RoleDefinitionProperties {
    role_name: String,
    description: String,
    #[serde(rename = "type")]
    kind: &'static str,
    permissions: Vec<Permission>,
    assignable_scopes: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Permission {
    actions: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RoleAssignmentProperties {
    role_definition_id: String,
    principal_id: String,
    principal_type: &'static str,
    description: String,
}

/// The role definition's name (a GUID), as an expression without brackets.
fn role_guid(role: &SubnetJoinRole) -> String {
    format!(
        "guid(resourceGroup().id, {}, 'subnet-join')",
        quoted(&role.vnet)
    )
}

/// The role's display name: the spec's, or one naming the VNet and the resource group.
fn role_name(role: &SubnetJoinRole) -> String {
    match role.name() {
        RoleName::Given(name) => super::literal(name),
        RoleName::ResourceGroupSuffixed(prefix) => {
            expression(&format!("concat({}, resourceGroup().name)", quoted(prefix)))
        }
    }
}

/// A resource without location or tags: role definitions and assignments take neither.
fn bare(kind: ResourceKind, name: String, comments: String, properties: Properties) -> Resource {
    Resource {
        location: None,
        ..super::resource(kind, name, &Default::default(), comments, properties)
    }
}

/// The role definition, then one assignment per principal.
/// The role definition's ID, as an expression without brackets.
fn definition_id(role: &SubnetJoinRole) -> String {
    format!(
        "resourceId({}, {})",
        quoted(ResourceKind::RoleDefinition.arm_type()),
        role_guid(role)
    )
}

fn definition(role: &SubnetJoinRole) -> Resource {
    bare(
        ResourceKind::RoleDefinition,
        expression(&role_guid(role)),
        "Custom role: read the VNet and join its subnets.".to_string(),
        Properties::RoleDefinition(RoleDefinitionProperties {
            role_name: role_name(role),
            description: role.description(),
            kind: "CustomRole",
            permissions: vec![Permission {
                actions: role.actions.iter().map(|a| a.action).collect(),
            }],
            assignable_scopes: vec![expression("resourceGroup().id")],
        }),
    )
}

/// The role assigned to one principal on the VNet.
fn assignment(plan: &Plan, role: &SubnetJoinRole, a: &Assignment) -> Resource {
    let (vnet, definition) = (vnet_id(plan), definition_id(role));
    Resource {
        scope: Some(format!(
            "{}/{}",
            ResourceKind::VirtualNetwork.arm_type(),
            role.vnet
        )),
        depends_on: vec![expression(&definition), expression(&vnet)],
        ..bare(
            ResourceKind::RoleAssignment,
            expression(&format!(
                "guid({vnet}, {}, {definition})",
                quoted(&a.object_id)
            )),
            format!(
                "The subnet-join role for {} {}, on the VNet.",
                a.principal_type, a.object_id
            ),
            Properties::RoleAssignment(RoleAssignmentProperties {
                role_definition_id: expression(&definition),
                principal_id: a.object_id.clone(),
                principal_type: a.principal_type,
                description: Assignment::DESCRIPTION.to_string(),
            }),
        )
    }
}

/// The role definition, then one assignment per principal.
pub(super) fn resources(plan: &Plan, role: &SubnetJoinRole) -> Vec<Resource> {
    std::iter::once(definition(role))
        .chain(role.assignments.iter().map(|a| assignment(plan, role, a)))
        .collect()
}
