//! Bicep view models of the workspace's computes: clusters, instances and attached machines,
//! and the module that holds them when the workspace lives in another resource group.

use std::collections::BTreeMap;

use super::{COMPUTES_FILE, Symbols, Tag, escape, render, subnet_id};
use crate::azure::resource::ResourceKind;
use crate::naming;
use crate::plan::{
    ADMIN_USERNAME, AttachedKind, Compute, ComputeKind, InputValue, Plan, SSH_PRIVATE_KEY,
    SSH_PUBLIC_KEY, VNET_ID,
};

/// How a file refers to a VM or cluster that a compute attaches.
#[derive(Debug, Clone, Default)]
pub(super) struct Target {
    /// The resource's ID.
    pub(super) id: String,
    /// The address Azure ML connects to.
    pub(super) address: String,
}

/// Attach targets by compute name.
pub(super) type Targets = BTreeMap<String, Target>;

/// How the computes refer to the VNet and the attached machines in the file they are written in.
#[derive(Debug, Clone)]
pub(super) struct Refs {
    /// The VNet's resource ID.
    vnet_id: String,
    attached: Targets,
}

impl Refs {
    /// In `main.bicep`: symbols; `machines` holds every VM and cluster.
    pub(super) fn main(plan: &Plan, vnet: &str, machines: &Targets) -> Self {
        let attached = plan
            .computes
            .iter()
            .filter_map(|c| Some((c.name.clone(), machines.get(&c.name)?.clone())))
            .collect();
        Self {
            vnet_id: format!("{vnet}.id"),
            attached,
        }
    }

    /// In `computes.bicep`: the module's inputs.
    pub(super) fn module(plan: &Plan) -> Self {
        let attached = plan
            .computes
            .iter()
            .filter_map(|c| {
                let ComputeKind::Attached(a) = &c.kind else {
                    return None;
                };
                let address = match &a.kind {
                    AttachedKind::VirtualMachine { address_link, .. } => address_link.clone(),
                    AttachedKind::HdInsight { address } => format!("'{}'", escape(address)),
                };
                let id = a.id_link.clone();
                Some((c.name.clone(), Target { id, address }))
            })
            .collect();
        Self {
            vnet_id: VNET_ID.to_string(),
            attached,
        }
    }
}

impl Refs {
    /// What an input of the computes module is in the file these references belong to.
    fn value(&self, value: &InputValue) -> String {
        let target = |compute: &str| self.attached.get(compute).cloned().unwrap_or_default();
        match value {
            InputValue::VnetId => self.vnet_id.clone(),
            InputValue::AttachedId { compute } => target(compute).id,
            InputValue::AttachedAddress { compute } => target(compute).address,
        }
    }
}

/// The `module` declaration in `main.bicep`.
pub(super) fn module_block(
    plan: &Plan,
    symbols: &mut Symbols,
    group: &str,
    main: &Refs,
) -> Result<String, String> {
    let mut params: Vec<serde_json::Value> = plan
        .parameters
        .iter()
        .filter(|p| p.computes)
        .map(|p| serde_json::json!({"name": p.name, "value": p.name}))
        .collect();
    params.extend(
        plan.module_inputs()
            .into_iter()
            .map(|i| serde_json::json!({"name": i.name, "value": main.value(&i.value)})),
    );
    let view = serde_json::json!({
        "symbol": symbols.claim("computes", ""), "path": COMPUTES_FILE, "group": group,
        "name": naming::computes_deployment(&plan.name), "params": params,
    });
    render("module.bicep", &view)
}

/// The workspace reference and the computes, for a file whose references are `refs`.
pub(super) fn blocks(
    plan: &Plan,
    symbols: &mut Symbols,
    tags: &[Tag],
    refs: &Refs,
) -> Result<Vec<String>, String> {
    let workspace = symbols.claim("workspace", "");
    let mut blocks = vec![render(
        "workspace.bicep",
        &serde_json::json!({"symbol": workspace, "type": ResourceKind::Workspace.bicep_type(), "name": plan.workspace.name}),
    )?];
    for compute in &plan.computes {
        blocks.push(block(
            compute,
            symbols.claim("compute", &compute.name),
            &workspace,
            tags,
            refs,
        )?);
    }
    Ok(blocks)
}

/// The compute's own settings, under the view key its template section reads.
fn settings(compute: &Compute, refs: &Refs) -> (&'static str, serde_json::Value) {
    match &compute.kind {
        ComputeKind::Cluster(c) => (
            "cluster",
            serde_json::json!({
                "vm_size": c.vm_size, "vm_priority": c.vm_priority, "min_nodes": c.min_nodes, "max_nodes": c.max_nodes,
                "idle_before_scale_down": c.idle_before_scale_down, "public_ip": c.public_ip, "ssh": c.ssh,
            }),
        ),
        ComputeKind::Instance(i) => (
            "instance",
            serde_json::json!({
                "vm_size": i.vm_size, "public_ip": i.public_ip, "ssh": i.ssh,
                "idle_before_shutdown": i.idle_before_shutdown, "assigned_user": i.assigned_user,
            }),
        ),
        ComputeKind::Attached(a) => {
            let target = refs
                .attached
                .get(&compute.name)
                .cloned()
                .unwrap_or_default();
            let vm_size = match &a.kind {
                AttachedKind::VirtualMachine { size_parameter, .. } => Some(size_parameter),
                AttachedKind::HdInsight { .. } => None,
            };
            (
                "attached",
                serde_json::json!({
                    "id": target.id, "address": target.address, "vm_size": vm_size, "username": a.username_parameter,
                }),
            )
        }
    }
}

fn block(
    compute: &Compute,
    symbol: String,
    workspace: &str,
    tags: &[Tag],
    refs: &Refs,
) -> Result<String, String> {
    let mut view = serde_json::json!({
        "symbol": symbol, "type": ResourceKind::Compute.bicep_type(), "name": compute.name,
        "comment": format!("{} in subnet {}.", compute.kind.description(), compute.subnet),
        "workspace": workspace, "tags": tags, "compute_type": compute.kind.compute_type(),
        "subnet_id": subnet_id(&refs.vnet_id, &compute.subnet),
        "cluster": null, "instance": null, "attached": null,
        "admin_username": ADMIN_USERNAME, "ssh_public_key": SSH_PUBLIC_KEY, "ssh_private_key": SSH_PRIVATE_KEY,
    });
    let (key, value) = settings(compute, refs);
    view[key] = value;
    render("compute.bicep", &view)
}
