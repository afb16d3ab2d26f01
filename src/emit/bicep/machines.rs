//! Bicep view models of what lives in the VNet besides the network: the subnet-join role, the
//! HDInsight clusters with their storage, the VMs with their network interfaces, and the
//! Databricks workspaces.

use super::compute::{Target, Targets};
use super::{Symbols, Tag, escape, render, subnet_id};
use crate::azure::hdinsight::CLUSTER_VERSION;
use crate::azure::resource::ResourceKind;
use crate::plan::{
    Assignment, DatabricksWorkspace, HdInsightCluster, Plan, RoleName, SSH_PUBLIC_KEY,
    VirtualMachine,
};

/// The role definition and its assignments on the VNet, if the spec asks for them.
pub(super) fn role_blocks(
    plan: &Plan,
    symbols: &mut Symbols,
    vnet: &str,
) -> Result<Vec<String>, String> {
    let Some(role) = &plan.role else {
        return Ok(Vec::new());
    };
    let symbol = symbols.claim("subnetJoinRole", "");
    let assignments: Vec<serde_json::Value> = role
        .assignments
        .iter()
        .map(|a| {
            serde_json::json!({
                "symbol": symbols.claim("subnetJoin", a.object_id.split('-').next().unwrap_or_default()),
                "object_id": a.object_id, "principal_type": a.principal_type,
            })
        })
        .collect();
    let role_name = match role.name() {
        RoleName::Given(name) => format!("'{}'", escape(name)),
        RoleName::ResourceGroupSuffixed(prefix) => {
            format!("'{}${{resourceGroup().name}}'", escape(prefix))
        }
    };
    let view = serde_json::json!({
        "symbol": symbol, "type": ResourceKind::RoleDefinition.bicep_type(),
        "assignment_type": ResourceKind::RoleAssignment.bicep_type(),
        "vnet": vnet, "vnet_name": role.vnet, "role_name": role_name,
        "description": role.description(), "assignment_description": Assignment::DESCRIPTION,
        "actions": role.actions.iter().map(|a| a.action).collect::<Vec<_>>(),
        "assignments": assignments,
    });
    Ok(vec![render("role.bicep", &view)?])
}

/// The HDInsight clusters, VMs and Databricks workspaces. Also returns, for each cluster and VM,
/// the expressions for its resource ID and the address Azure ML attaches it at.
pub(super) fn blocks(
    plan: &Plan,
    symbols: &mut Symbols,
    tags: &[Tag],
    vnet: &str,
) -> Result<(Vec<String>, Targets), String> {
    let mut blocks = Vec::new();
    let mut refs = Targets::new();
    for cluster in &plan.hdinsight_clusters {
        let symbol = symbols.claim("", &cluster.name);
        blocks.push(hdinsight(cluster, &symbol, symbols, tags, vnet)?);
        let address = format!(
            "'{}'",
            escape(&crate::naming::hdinsight_ssh_host(&cluster.name))
        );
        let id = format!("{symbol}.id");
        refs.insert(cluster.name.clone(), Target { id, address });
    }
    for vm in &plan.virtual_machines {
        let symbol = symbols.claim("", &vm.name);
        let nic = symbols.claim("", &vm.nic);
        blocks.push(virtual_machine(vm, &symbol, &nic, tags, vnet)?);
        let address = format!("{nic}.properties.ipConfigurations[0].properties.privateIPAddress");
        let id = format!("{symbol}.id");
        refs.insert(vm.name.clone(), Target { id, address });
    }
    for workspace in &plan.databricks {
        let symbol = symbols.claim("", &workspace.name);
        blocks.push(databricks(workspace, &symbol, tags, vnet)?);
    }
    Ok((blocks, refs))
}

fn hdinsight(
    cluster: &HdInsightCluster,
    symbol: &str,
    symbols: &mut Symbols,
    tags: &[Tag],
    vnet: &str,
) -> Result<String, String> {
    let storage = symbols.claim("", &format!("{}-storage", cluster.name));
    let roles: Vec<serde_json::Value> = cluster
        .roles()
        .into_iter()
        .map(|(name, nodes, size, disks)| {
            serde_json::json!({"name": name, "nodes": nodes, "size": size, "disks": disks})
        })
        .collect();
    let (component, component_version) = cluster.definition.component;
    let view = serde_json::json!({
        "symbol": symbol, "type": ResourceKind::HdInsightCluster.bicep_type(), "name": cluster.name,
        "storage_symbol": storage, "storage_type": ResourceKind::StorageAccount.bicep_type(),
        "storage_name": format!("'{}${{uniqueString(resourceGroup().id, '{}')}}'", escape(&cluster.storage_prefix), escape(&cluster.name)),
        "storage_host": format!("'${{{storage}.name}}.blob.${{environment().suffixes.storage}}'"),
        "container": cluster.container, "tags": tags, "subnet": cluster.subnet,
        "version": CLUSTER_VERSION, "kind": cluster.definition.kind,
        "component": component, "component_version": component_version,
        "login_user": cluster.login_user_parameter, "login_password": cluster.login_password_parameter,
        "ssh_user": cluster.ssh_user_parameter, "ssh_public_key": SSH_PUBLIC_KEY,
        "vnet": vnet, "subnet_id": subnet_id(&format!("{vnet}.id"), &cluster.subnet),
        "roles": roles,
    });
    render("hdinsight.bicep", &view)
}

fn virtual_machine(
    vm: &VirtualMachine,
    symbol: &str,
    nic: &str,
    tags: &[Tag],
    vnet: &str,
) -> Result<String, String> {
    let view = serde_json::json!({
        "symbol": symbol, "type": ResourceKind::VirtualMachine.bicep_type(), "name": vm.name,
        "nic_symbol": nic, "nic_type": ResourceKind::NetworkInterface.bicep_type(), "nic": vm.nic,
        "tags": tags, "subnet": vm.subnet, "subnet_id": subnet_id(&format!("{vnet}.id"), &vm.subnet),
        "size": vm.size_parameter, "image_name": vm.image.name, "publisher": vm.image.publisher,
        "offer": vm.image.offer, "sku": vm.image.sku,
        "admin": vm.admin_parameter, "ssh_public_key": SSH_PUBLIC_KEY,
        "key_path": format!("'/home/${{{}}}/.ssh/authorized_keys'", vm.admin_parameter),
    });
    render("virtual_machine.bicep", &view)
}

fn databricks(
    workspace: &DatabricksWorkspace,
    symbol: &str,
    tags: &[Tag],
    vnet: &str,
) -> Result<String, String> {
    let view = serde_json::json!({
        "symbol": symbol, "type": ResourceKind::DatabricksWorkspace.bicep_type(), "name": workspace.name,
        "tags": tags, "sku": workspace.sku, "managed_group": workspace.managed_group, "vnet": vnet,
        "public_subnet": workspace.public_subnet, "private_subnet": workspace.private_subnet,
        "no_public_ip": workspace.no_public_ip,
    });
    render("databricks.bicep", &view)
}
