//! The guide's prerequisite permissions: a custom role that may read the VNet and join its
//! subnets, assignable in the resource group, and its assignments on the VNet.

use super::Builder;
use crate::azure::resource::ResourceKind;
use crate::model::{Expr, Object, Part, Resource, Value};
use crate::plan::{Assignment, RoleName, SubnetJoinRole};

/// The role definition, then one assignment per principal; nothing without `permissions`.
pub(super) fn resources(b: &mut Builder) -> Vec<Resource> {
    let Some(role) = &b.plan.role else {
        return Vec::new();
    };
    let symbol = b.symbols.claim("subnetJoinRole", "");
    let mut out = vec![definition(role, symbol.clone())];
    for a in &role.assignments {
        let prefix = a.object_id.split('-').next().unwrap_or_default();
        let assignment_symbol = b.symbols.claim("subnetJoin", prefix);
        out.push(assignment(b, &symbol, assignment_symbol, a));
    }
    out
}

fn definition(role: &SubnetJoinRole, symbol: String) -> Resource {
    let name = Expr::Guid(vec![
        Expr::ResourceGroupId,
        Expr::Str(role.vnet.clone()),
        Expr::Str("subnet-join".into()),
    ]);
    let role_name = match role.name() {
        RoleName::Given(name) => Value::from(name),
        RoleName::ResourceGroupSuffixed(prefix) => Value::Expr(Expr::Interpolate(vec![
            Part::Text(prefix.to_string()),
            Part::Expr(Expr::ResourceGroupName),
        ])),
    };
    let actions: Vec<Value> = role.actions.iter().map(|a| Value::from(a.action)).collect();
    let properties = Object::new()
        .with("roleName", role_name)
        .with("description", role.description())
        .with("type", "CustomRole")
        .with(
            "permissions",
            vec![Value::from(Object::new().with("actions", actions))],
        )
        .with("assignableScopes", vec![Value::from(Expr::ResourceGroupId)]);
    Resource::new(
        ResourceKind::RoleDefinition,
        symbol,
        name,
        "Custom role: read the VNet and join its subnets.".to_string(),
    )
    .with("properties", properties)
}

/// The role assigned to one principal, scoped to the VNet.
fn assignment(b: &Builder, role: &str, symbol: String, a: &Assignment) -> Resource {
    let vnet = &b.refs.vnet;
    let name = Expr::Guid(vec![
        Expr::Id(vnet.clone()),
        Expr::Str(a.object_id.clone()),
        Expr::Id(role.to_string()),
    ]);
    let properties = Object::new()
        .with("roleDefinitionId", Expr::Id(role.to_string()))
        .with("principalId", &a.object_id)
        .with("principalType", a.principal_type)
        .with("description", Assignment::DESCRIPTION);
    Resource {
        scope: Some(vnet.clone()),
        ..Resource::new(
            ResourceKind::RoleAssignment,
            symbol,
            name,
            format!(
                "The subnet-join role for {} {}, on the VNet.",
                a.principal_type, a.object_id
            ),
        )
        .with("properties", properties)
    }
}
