//! ARM wire types of the workspace's computes: clusters, instances and attached machines as
//! children of the workspace, or inside a nested deployment scoped to the workspace's resource
//! group when it lives in another one.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    Description, Id, Properties, Resource, TEMPLATE_SCHEMA, Template, TemplateParameter, Value,
    expression, parameter_ref, quoted, resource, resource_id, subnet_id, template_parameter,
    vnet_id,
};
use crate::azure::resource::ResourceKind;
use crate::naming;
use crate::plan::{
    ADMIN_USERNAME, Attached, AttachedKind, Cluster, Compute, ComputeKind, InputValue, Instance,
    Plan, SSH_PRIVATE_KEY, SSH_PUBLIC_KEY, VNET_ID,
};

/// Where the computes are written, which decides how they refer to the VNet and the machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// In the main template, beside the VNet and machines.
    Main,
    /// In the nested deployment, which receives IDs and addresses as parameters.
    Nested,
}

impl Scope {
    /// The VNet's resource ID, as an expression without brackets.
    fn vnet_id(self, plan: &Plan) -> String {
        match self {
            Scope::Main => vnet_id(plan),
            Scope::Nested => format!("parameters({})", quoted(VNET_ID)),
        }
    }

    /// The attached resource's ID, as an expression without brackets.
    fn attached_id(self, compute: &Compute, attached: &Attached) -> String {
        match (self, &attached.kind) {
            (Scope::Nested, _) => format!("parameters({})", quoted(&attached.id_link)),
            (Scope::Main, AttachedKind::VirtualMachine { .. }) => {
                resource_id(ResourceKind::VirtualMachine, &[&compute.name])
            }
            (Scope::Main, AttachedKind::HdInsight { .. }) => {
                resource_id(ResourceKind::HdInsightCluster, &[&compute.name])
            }
        }
    }

    /// The address Azure ML connects to: a VM's private IP, or the cluster's SSH host.
    fn attached_address(self, attached: &Attached) -> String {
        match (self, &attached.kind) {
            (_, AttachedKind::HdInsight { address }) => address.clone(),
            (Scope::Nested, AttachedKind::VirtualMachine { address_link, .. }) => {
                parameter_ref(address_link)
            }
            (Scope::Main, AttachedKind::VirtualMachine { nic, .. }) => expression(&private_ip(nic)),
        }
    }
}

/// The private IP of a network interface, as an expression without brackets.
fn private_ip(nic: &str) -> String {
    format!(
        "reference({}, {}).ipConfigurations[0].properties.privateIPAddress",
        resource_id(ResourceKind::NetworkInterface, &[nic]),
        quoted(ResourceKind::NetworkInterface.api_version())
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ComputeProperties {
    compute_type: &'static str,
    compute_location: String,
    /// The attached VM or cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_id: Option<String>,
    /// Only on the computes Azure ML manages; attached ones authenticate with SSH keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    disable_local_auth: Option<bool>,
    properties: ComputeSettings,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ComputeSettings {
    Cluster(ClusterSettings),
    Instance(InstanceSettings),
    Attached(AttachedSettings),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttachedSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    virtual_machine_size: Option<String>,
    address: String,
    ssh_port: u16,
    administrator_account: AdministratorAccount,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdministratorAccount {
    username: String,
    private_key_data: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterSettings {
    os_type: &'static str,
    vm_size: String,
    vm_priority: &'static str,
    scale_settings: ScaleSettings,
    subnet: Id,
    enable_node_public_ip: bool,
    isolated_network: bool,
    remote_login_port_public_access: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_account_credentials: Option<UserAccountCredentials>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScaleSettings {
    min_node_count: u32,
    max_node_count: u32,
    node_idle_time_before_scale_down: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserAccountCredentials {
    admin_user_name: String,
    admin_user_ssh_public_key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InstanceSettings {
    vm_size: String,
    subnet: Id,
    enable_node_public_ip: bool,
    application_sharing_policy: &'static str,
    compute_instance_authorization_type: &'static str,
    ssh_settings: SshSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    idle_time_before_shutdown: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    personal_compute_instance_settings: Option<PersonalSettings>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SshSettings {
    ssh_public_access: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_public_key: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PersonalSettings {
    assigned_user: AssignedUser,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AssignedUser {
    object_id: String,
    tenant_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeploymentProperties {
    mode: &'static str,
    expression_evaluation_options: EvaluationOptions,
    parameters: BTreeMap<String, Value>,
    template: Template,
}

#[derive(Serialize)]
struct EvaluationOptions {
    scope: &'static str,
}

/// The workspace's computes: in the main template, or in one nested deployment scoped to the
/// workspace's resource group.
pub(super) fn resources(plan: &Plan, tags: &BTreeMap<String, String>) -> Vec<Resource> {
    match &plan.workspace.resource_group {
        None => plan
            .computes
            .iter()
            .map(|c| compute(plan, c, Scope::Main, tags))
            .collect(),
        Some(group) => vec![compute_deployment(plan, group, tags)],
    }
}

/// What a compute in the main template waits for: the VNet, and the machine it attaches.
fn dependencies(plan: &Plan, compute: &Compute) -> Vec<String> {
    let mut ids = vec![Scope::Main.vnet_id(plan)];
    if let ComputeKind::Attached(attached) = &compute.kind {
        ids.push(Scope::Main.attached_id(compute, attached));
    }
    ids.iter().map(|id| expression(id)).collect()
}

/// A compute as a child of the workspace.
fn compute(
    plan: &Plan,
    compute: &Compute,
    scope: Scope,
    tags: &BTreeMap<String, String>,
) -> Resource {
    let subnet = Id {
        id: expression(&subnet_id(&scope.vnet_id(plan), &compute.subnet)),
    };
    let managed = Some(true);
    let (resource_id, disable_local_auth, settings) = match &compute.kind {
        ComputeKind::Cluster(c) => (None, managed, ComputeSettings::Cluster(cluster(c, subnet))),
        ComputeKind::Instance(i) => (
            None,
            managed,
            ComputeSettings::Instance(instance(i, subnet)),
        ),
        ComputeKind::Attached(a) => (
            Some(expression(&scope.attached_id(compute, a))),
            None,
            ComputeSettings::Attached(attached(scope, a)),
        ),
    };
    Resource {
        depends_on: match scope {
            Scope::Main => dependencies(plan, compute),
            Scope::Nested => Vec::new(),
        },
        ..resource(
            ResourceKind::Compute,
            format!("{}/{}", plan.workspace.name, compute.name),
            tags,
            format!(
                "{} in subnet {}.",
                compute.kind.description(),
                compute.subnet
            ),
            Properties::Compute(Box::new(ComputeProperties {
                compute_type: compute.kind.compute_type(),
                compute_location: parameter_ref("location"),
                resource_id,
                disable_local_auth,
                properties: settings,
            })),
        )
    }
}

fn attached(scope: Scope, attached: &Attached) -> AttachedSettings {
    AttachedSettings {
        virtual_machine_size: match &attached.kind {
            AttachedKind::VirtualMachine { size_parameter, .. } => {
                Some(parameter_ref(size_parameter))
            }
            AttachedKind::HdInsight { .. } => None,
        },
        address: scope.attached_address(attached),
        ssh_port: 22,
        administrator_account: AdministratorAccount {
            username: parameter_ref(&attached.username_parameter),
            private_key_data: parameter_ref(SSH_PRIVATE_KEY),
        },
    }
}

fn cluster(cluster: &Cluster, subnet: Id) -> ClusterSettings {
    ClusterSettings {
        os_type: "Linux",
        vm_size: cluster.vm_size.clone(),
        vm_priority: cluster.vm_priority,
        scale_settings: ScaleSettings {
            min_node_count: cluster.min_nodes,
            max_node_count: cluster.max_nodes,
            node_idle_time_before_scale_down: cluster.idle_before_scale_down.clone(),
        },
        subnet,
        enable_node_public_ip: cluster.public_ip,
        isolated_network: false,
        remote_login_port_public_access: if cluster.ssh { "Enabled" } else { "Disabled" },
        user_account_credentials: cluster.ssh.then(|| UserAccountCredentials {
            admin_user_name: parameter_ref(ADMIN_USERNAME),
            admin_user_ssh_public_key: parameter_ref(SSH_PUBLIC_KEY),
        }),
    }
}

fn instance(instance: &Instance, subnet: Id) -> InstanceSettings {
    InstanceSettings {
        vm_size: instance.vm_size.clone(),
        subnet,
        enable_node_public_ip: instance.public_ip,
        application_sharing_policy: "Personal",
        compute_instance_authorization_type: "personal",
        ssh_settings: SshSettings {
            ssh_public_access: if instance.ssh { "Enabled" } else { "Disabled" },
            admin_public_key: instance.ssh.then(|| parameter_ref(SSH_PUBLIC_KEY)),
        },
        idle_time_before_shutdown: instance.idle_before_shutdown.clone(),
        personal_compute_instance_settings: instance.assigned_user.as_ref().map(
            |(object_id, tenant_id)| PersonalSettings {
                assigned_user: AssignedUser {
                    object_id: object_id.clone(),
                    tenant_id: tenant_id.clone(),
                },
            },
        ),
    }
}

/// An input's value in the main template, and whether the deployment must wait for it.
fn input_value(plan: &Plan, value: &InputValue) -> (String, bool) {
    let attached = |name: &str| {
        plan.computes.iter().find_map(|c| match &c.kind {
            ComputeKind::Attached(a) if c.name == name => Some((c, a)),
            _ => None,
        })
    };
    match value {
        InputValue::VnetId => (expression(&Scope::Main.vnet_id(plan)), true),
        InputValue::AttachedId { compute } => attached(compute)
            .map_or_else(Default::default, |(c, a)| {
                (expression(&Scope::Main.attached_id(c, a)), true)
            }),
        InputValue::AttachedAddress { compute } => attached(compute)
            .map_or_else(Default::default, |(_, a)| {
                (Scope::Main.attached_address(a), false)
            }),
    }
}

/// The computes of a workspace in another resource group, as an inner-scoped nested deployment.
/// How the nested deployment is wired: the parameters it declares, the values passed in, and the
/// resources those values name, which it waits for.
#[derive(Default)]
struct Wiring {
    declared: BTreeMap<String, TemplateParameter>,
    passed: BTreeMap<String, Value>,
    waits_for: Vec<String>,
}

impl Wiring {
    fn add(&mut self, name: &str, declared: TemplateParameter, passed: String) {
        self.declared.insert(name.to_string(), declared);
        self.passed
            .insert(name.to_string(), Value { value: passed });
    }
}

/// The parameters the computes read, forwarded as they are, then the module's inputs.
fn wiring(plan: &Plan) -> Wiring {
    let mut wiring = Wiring::default();
    for p in plan.parameters.iter().filter(|p| p.computes) {
        let declared = TemplateParameter {
            default_value: None,
            allowed_values: Vec::new(),
            ..template_parameter(p)
        };
        wiring.add(&p.name, declared, parameter_ref(&p.name));
    }
    for input in plan.module_inputs() {
        let (value, waits) = input_value(plan, &input.value);
        if waits {
            wiring.waits_for.push(value.clone());
        }
        let declared = TemplateParameter {
            kind: "string",
            default_value: None,
            allowed_values: Vec::new(),
            metadata: Description {
                description: input.description,
            },
        };
        wiring.add(&input.name, declared, value);
    }
    wiring.waits_for.sort();
    wiring
}

fn compute_deployment(plan: &Plan, group: &str, tags: &BTreeMap<String, String>) -> Resource {
    let wiring = wiring(plan);
    let template = Template {
        schema: TEMPLATE_SCHEMA,
        content_version: "1.0.0.0",
        metadata: None,
        parameters: wiring.declared,
        resources: plan
            .computes
            .iter()
            .map(|c| compute(plan, c, Scope::Nested, tags))
            .collect(),
    };
    Resource {
        kind: ResourceKind::Deployment.arm_type(),
        api_version: ResourceKind::Deployment.api_version(),
        name: naming::computes_deployment(&plan.name),
        resource_group: Some(group.to_string()),
        scope: None,
        location: None,
        tags: BTreeMap::new(),
        sku: None,
        variant: None,
        depends_on: wiring.waits_for,
        comments: format!("The computes, in the workspace's resource group {group}."),
        properties: Properties::Deployment(Box::new(DeploymentProperties {
            mode: "Incremental",
            expression_evaluation_options: EvaluationOptions { scope: "inner" },
            parameters: wiring.passed,
            template,
        })),
    }
}
