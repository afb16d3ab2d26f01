//! ARM wire types of Databricks workspaces injected into the VNet.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Properties, Resource, Sku, Value, expression, quoted, resource, vnet_id};
use crate::azure::resource::ResourceKind;
use crate::plan::{DatabricksWorkspace, Plan};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DatabricksProperties {
    compute_mode: &'static str,
    managed_resource_group_id: String,
    parameters: DatabricksParameters,
    public_network_access: &'static str,
    required_nsg_rules: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DatabricksParameters {
    custom_virtual_network_id: Value,
    custom_public_subnet_name: Value,
    custom_private_subnet_name: Value,
    enable_no_public_ip: Value<bool>,
}

/// One Databricks workspace; it waits for the VNet, whose subnets carry the delegation and NSGs.
pub(super) fn workspace(
    plan: &Plan,
    workspace: &DatabricksWorkspace,
    tags: &BTreeMap<String, String>,
) -> Resource {
    let properties = DatabricksProperties {
        compute_mode: "Hybrid",
        managed_resource_group_id: expression(&format!(
            "subscriptionResourceId('Microsoft.Resources/resourceGroups', {})",
            quoted(&workspace.managed_group)
        )),
        parameters: DatabricksParameters {
            custom_virtual_network_id: Value {
                value: expression(&vnet_id(plan)),
            },
            custom_public_subnet_name: Value {
                value: workspace.public_subnet.clone(),
            },
            custom_private_subnet_name: Value {
                value: workspace.private_subnet.clone(),
            },
            enable_no_public_ip: Value {
                value: workspace.no_public_ip,
            },
        },
        public_network_access: "Enabled",
        required_nsg_rules: "AllRules",
    };
    Resource {
        sku: Some(Sku {
            name: workspace.sku,
            tier: None,
        }),
        depends_on: vec![expression(&vnet_id(plan))],
        ..resource(
            ResourceKind::DatabricksWorkspace,
            workspace.name.clone(),
            tags,
            format!(
                "Databricks workspace in subnets {} (public) and {} (private).",
                workspace.public_subnet, workspace.private_subnet
            ),
            Properties::Databricks(Box::new(properties)),
        )
    }
}
