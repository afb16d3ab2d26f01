//! The ARM JSON emitter: `azuredeploy.json` and `azuredeploy.parameters.json`.
//!
//! ARM is serialized with serde from the serialize-only wire types below, built from the plan,
//! never assembled as text: JSON escaping and structure then hold by construction. Field order
//! follows ARM's conventions (`$schema`, `contentVersion`, `metadata`, `parameters`,
//! `resources`), maps are `BTreeMap`, so the bytes are deterministic. Every literal that could
//! look like an ARM expression (`[...]`) is escaped.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::azure::resource::ResourceKind;
use crate::plan::{
    Address, Cluster, Compute, ComputeKind, Instance, NatGateway, Nsg, Parameter, Plan, RouteTable,
    SecurityRule, Subnet, VirtualNetwork,
};
use crate::routes::{NextHop, Prefix};

const TEMPLATE_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";
const PARAMETERS_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#";

/// A literal string: escaped so ARM never reads it as an expression.
fn literal(text: &str) -> String {
    if text.starts_with('[') && text.ends_with(']') {
        format!("[{text}")
    } else {
        text.to_string()
    }
}

/// A string literal inside an ARM expression: single-quoted, quotes doubled.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn parameter_ref(name: &str) -> String {
    format!("[parameters({})]", quoted(name))
}

/// `resourceId('type', 'name'...)`, without the outer brackets.
fn resource_id(kind: ResourceKind, names: &[&str]) -> String {
    let args: Vec<String> = std::iter::once(kind.arm_type())
        .chain(names.iter().copied())
        .map(quoted)
        .collect();
    format!("resourceId({})", args.join(", "))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Template {
    #[serde(rename = "$schema")]
    schema: &'static str,
    content_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
    parameters: BTreeMap<&'static str, TemplateParameter>,
    resources: Vec<Resource>,
}

#[derive(Serialize)]
struct Metadata {
    #[serde(rename = "_generator")]
    generator: Generator,
}

#[derive(Serialize)]
struct Generator {
    name: &'static str,
    version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateParameter {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_value: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_values: Vec<String>,
    metadata: Description,
}

#[derive(Serialize)]
struct Description {
    description: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    #[serde(rename = "type")]
    kind: &'static str,
    api_version: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<Sku>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    comments: String,
    properties: Properties,
}

#[derive(Serialize)]
struct Sku {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tier: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Properties {
    Nsg(NsgProperties),
    RouteTable(RouteTableProperties),
    PublicIp(PublicIpProperties),
    NatGateway(NatGatewayProperties),
    VirtualNetwork(VirtualNetworkProperties),
    Compute(Box<ComputeProperties>),
    Deployment(Box<DeploymentProperties>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NsgProperties {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    security_rules: Vec<Named<RuleProperties>>,
}

#[derive(Serialize)]
struct Named<T> {
    name: String,
    properties: T,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleProperties {
    description: String,
    protocol: &'static str,
    source_port_range: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_port_range: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    destination_port_ranges: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_address_prefix: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_address_prefixes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_address_prefix: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    destination_address_prefixes: Vec<String>,
    access: &'static str,
    priority: u16,
    direction: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RouteTableProperties {
    disable_bgp_route_propagation: bool,
    routes: Vec<Named<RouteProperties>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RouteProperties {
    address_prefix: String,
    next_hop_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_hop_ip_address: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PublicIpProperties {
    #[serde(rename = "publicIPAllocationMethod")]
    allocation_method: &'static str,
    #[serde(rename = "publicIPAddressVersion")]
    address_version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NatGatewayProperties {
    idle_timeout_in_minutes: u32,
    public_ip_addresses: Vec<Id>,
}

#[derive(Serialize)]
struct Id {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VirtualNetworkProperties {
    address_space: AddressSpace,
    subnets: Vec<Named<SubnetProperties>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressSpace {
    address_prefixes: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubnetProperties {
    address_prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_security_group: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route_table: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nat_gateway: Option<Id>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    service_endpoints: Vec<ServiceEndpoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    delegations: Vec<Named<Delegation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_endpoint_network_policies: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_link_service_network_policies: Option<&'static str>,
    default_outbound_access: bool,
}

#[derive(Serialize)]
struct ServiceEndpoint {
    service: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Delegation {
    service_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ComputeProperties {
    compute_type: &'static str,
    compute_location: String,
    disable_local_auth: bool,
    properties: ComputeSettings,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ComputeSettings {
    Cluster(ClusterSettings),
    Instance(InstanceSettings),
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
struct DeploymentProperties {
    mode: &'static str,
    expression_evaluation_options: EvaluationOptions,
    parameters: BTreeMap<&'static str, Value>,
    template: Template,
}

#[derive(Serialize)]
struct EvaluationOptions {
    scope: &'static str,
}

#[derive(Serialize)]
struct Value {
    value: String,
}

/// Renders `azuredeploy.json`.
pub(super) fn template(plan: &Plan, version: &str) -> String {
    let template = Template {
        schema: TEMPLATE_SCHEMA,
        content_version: "1.0.0.0",
        metadata: Some(Metadata {
            generator: Generator {
                name: "amlgen",
                version: version.to_string(),
            },
        }),
        parameters: plan
            .parameters
            .iter()
            .map(|p| (p.name, template_parameter(p)))
            .collect(),
        resources: resources(plan),
    };
    to_text(&template)
}

/// Renders `azuredeploy.parameters.json`: every parameter that has a value to give. Parameters
/// without a default (the SSH key) are left to the deployer, never written down.
pub(super) fn parameters_file(plan: &Plan) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct File {
        #[serde(rename = "$schema")]
        schema: &'static str,
        content_version: &'static str,
        parameters: BTreeMap<&'static str, Value>,
    }
    let parameters = plan
        .parameters
        .iter()
        .filter_map(|p| {
            p.default
                .as_ref()
                .map(|d| (p.name, Value { value: literal(d) }))
        })
        .collect();
    to_text(&File {
        schema: PARAMETERS_SCHEMA,
        content_version: "1.0.0.0",
        parameters,
    })
}

fn to_text(value: &impl Serialize) -> String {
    // The wire types hold only strings, integers, booleans and maps with string keys, which
    // always serialize.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn template_parameter(parameter: &Parameter) -> TemplateParameter {
    TemplateParameter {
        kind: if parameter.secure {
            "securestring"
        } else {
            "string"
        },
        default_value: parameter.default.as_deref().map(literal),
        allowed_values: parameter.allowed.iter().map(|v| literal(v)).collect(),
        metadata: Description {
            description: parameter.description.clone(),
        },
    }
}

fn resources(plan: &Plan) -> Vec<Resource> {
    let tags: BTreeMap<String, String> = plan
        .tags
        .iter()
        .map(|(k, v)| (literal(k), literal(v)))
        .collect();
    let base =
        |kind: ResourceKind, name: &str, comments: String, properties: Properties| Resource {
            kind: kind.arm_type(),
            api_version: kind.api_version(),
            name: name.to_string(),
            resource_group: None,
            location: Some(parameter_ref("location")),
            tags: tags.clone(),
            sku: None,
            depends_on: Vec::new(),
            comments,
            properties,
        };
    let mut out: Vec<Resource> = plan
        .nsgs
        .iter()
        .map(|n| {
            base(
                ResourceKind::NetworkSecurityGroup,
                &n.name,
                format!("Rules for subnet {}.", n.subnet),
                Properties::Nsg(nsg(n)),
            )
        })
        .collect();
    if let Some(table) = &plan.route_table {
        out.push(base(
            ResourceKind::RouteTable,
            &table.name,
            "Forced tunnelling of the compute subnets.".to_string(),
            Properties::RouteTable(route_table(table)),
        ));
    }
    if let Some(nat) = &plan.nat_gateway {
        out.push(Resource {
            sku: Some(Sku {
                name: "Standard",
                tier: Some("Regional"),
            }),
            ..base(
                ResourceKind::PublicIpAddress,
                &nat.public_ip,
                "Outbound address of the NAT gateway.".to_string(),
                Properties::PublicIp(PublicIpProperties {
                    allocation_method: "Static",
                    address_version: "IPv4",
                }),
            )
        });
        out.push(Resource {
            sku: Some(Sku {
                name: "Standard",
                tier: None,
            }),
            depends_on: vec![format!(
                "[{}]",
                resource_id(ResourceKind::PublicIpAddress, &[&nat.public_ip])
            )],
            ..base(
                ResourceKind::NatGateway,
                &nat.name,
                "Outbound internet access of the compute subnets.".to_string(),
                Properties::NatGateway(nat_gateway(nat)),
            )
        });
    }
    out.push(Resource {
        depends_on: vnet_dependencies(plan),
        ..base(
            ResourceKind::VirtualNetwork,
            &plan.vnet.name,
            "The training VNet; subnets inline so redeployments never delete them.".to_string(),
            Properties::VirtualNetwork(virtual_network(&plan.vnet)),
        )
    });
    let vnet_id = resource_id(ResourceKind::VirtualNetwork, &[&plan.vnet.name]);
    match &plan.workspace.resource_group {
        None => out.extend(
            plan.computes
                .iter()
                .map(|c| compute(plan, c, &vnet_id, &tags)),
        ),
        Some(group) => out.push(compute_deployment(plan, group, &vnet_id, &tags)),
    }
    out
}

fn vnet_dependencies(plan: &Plan) -> Vec<String> {
    let mut ids: Vec<String> = plan
        .nsgs
        .iter()
        .map(|n| resource_id(ResourceKind::NetworkSecurityGroup, &[&n.name]))
        .collect();
    ids.extend(
        plan.route_table
            .iter()
            .map(|r| resource_id(ResourceKind::RouteTable, &[&r.name])),
    );
    ids.extend(
        plan.nat_gateway
            .iter()
            .map(|n| resource_id(ResourceKind::NatGateway, &[&n.name])),
    );
    ids.sort();
    ids.into_iter().map(|id| format!("[{id}]")).collect()
}

fn nsg(nsg: &Nsg) -> NsgProperties {
    NsgProperties {
        security_rules: nsg
            .rules
            .iter()
            .map(|r| Named {
                name: r.name.to_string(),
                properties: rule(r),
            })
            .collect(),
    }
}

fn split(address: &Address) -> (Option<String>, Vec<String>) {
    match address {
        Address::One(one) => (Some(one.clone()), Vec::new()),
        Address::Many(many) => (None, many.clone()),
    }
}

fn rule(rule: &SecurityRule) -> RuleProperties {
    let (source_address_prefix, source_address_prefixes) = split(&rule.source);
    let (destination_address_prefix, destination_address_prefixes) = split(&rule.destination);
    let (destination_port_range, destination_port_ranges) = match rule.ports.as_slice() {
        [one] => (Some(*one), Vec::new()),
        many => (None, many.to_vec()),
    };
    RuleProperties {
        description: rule.reason.to_string(),
        protocol: rule.protocol.arm_name(),
        source_port_range: "*",
        destination_port_range,
        destination_port_ranges,
        source_address_prefix,
        source_address_prefixes,
        destination_address_prefix,
        destination_address_prefixes,
        access: rule.access.arm_name(),
        priority: rule.priority,
        direction: rule.direction.arm_name(),
    }
}

fn route_table(table: &RouteTable) -> RouteTableProperties {
    RouteTableProperties {
        disable_bgp_route_propagation: true,
        routes: table
            .routes
            .iter()
            .map(|r| {
                let (next_hop_type, next_hop_ip_address) = match &r.next_hop {
                    NextHop::Appliance(ip) => ("VirtualAppliance", Some(ip.clone())),
                    NextHop::Internet => ("Internet", None),
                };
                let address_prefix = match &r.prefix {
                    Prefix::Cidr(net) => net.to_string(),
                    Prefix::ServiceTag(tag) => tag.clone(),
                };
                Named {
                    name: r.name.clone(),
                    properties: RouteProperties {
                        address_prefix,
                        next_hop_type,
                        next_hop_ip_address,
                    },
                }
            })
            .collect(),
    }
}

fn nat_gateway(nat: &NatGateway) -> NatGatewayProperties {
    NatGatewayProperties {
        idle_timeout_in_minutes: nat.idle_timeout_minutes,
        public_ip_addresses: vec![Id {
            id: format!(
                "[{}]",
                resource_id(ResourceKind::PublicIpAddress, &[&nat.public_ip])
            ),
        }],
    }
}

fn id_of(kind: ResourceKind, name: &Option<String>) -> Option<Id> {
    name.as_ref().map(|n| Id {
        id: format!("[{}]", resource_id(kind, &[n])),
    })
}

fn virtual_network(vnet: &VirtualNetwork) -> VirtualNetworkProperties {
    VirtualNetworkProperties {
        address_space: AddressSpace {
            address_prefixes: vnet.address_space.clone(),
        },
        subnets: vnet
            .subnets
            .iter()
            .map(|s| Named {
                name: s.name.clone(),
                properties: subnet(s),
            })
            .collect(),
    }
}

fn subnet(subnet: &Subnet) -> SubnetProperties {
    let disabled = subnet.network_policies_disabled.then_some("Disabled");
    SubnetProperties {
        address_prefix: subnet.address_prefix.clone(),
        network_security_group: id_of(ResourceKind::NetworkSecurityGroup, &subnet.nsg),
        route_table: id_of(ResourceKind::RouteTable, &subnet.route_table),
        nat_gateway: id_of(ResourceKind::NatGateway, &subnet.nat_gateway),
        service_endpoints: subnet
            .service_endpoints
            .iter()
            .map(|s| ServiceEndpoint { service: s.clone() })
            .collect(),
        delegations: subnet
            .delegation
            .iter()
            .map(|d| Named {
                name: "delegation".to_string(),
                properties: Delegation {
                    service_name: d.clone(),
                },
            })
            .collect(),
        private_endpoint_network_policies: disabled,
        private_link_service_network_policies: disabled,
        default_outbound_access: subnet.default_outbound_access,
    }
}

/// A compute as a child of the workspace. `vnet_id` is an expression (no brackets) for the VNet's
/// resource ID in the template the compute is written in.
fn compute(
    plan: &Plan,
    compute: &Compute,
    vnet_id: &str,
    tags: &BTreeMap<String, String>,
) -> Resource {
    let subnet = Id {
        id: format!(
            "[format('{{0}}/subnets/{{1}}', {vnet_id}, {})]",
            quoted(&compute.subnet)
        ),
    };
    let (compute_type, settings, what) = match &compute.kind {
        ComputeKind::Cluster(c) => (
            "AmlCompute",
            ComputeSettings::Cluster(cluster(c, subnet)),
            "Azure ML compute cluster",
        ),
        ComputeKind::Instance(i) => (
            "ComputeInstance",
            ComputeSettings::Instance(instance(i, subnet)),
            "Azure ML compute instance",
        ),
    };
    let same_group = plan.workspace.resource_group.is_none();
    Resource {
        kind: ResourceKind::Compute.arm_type(),
        api_version: ResourceKind::Compute.api_version(),
        name: format!("{}/{}", plan.workspace.name, compute.name),
        resource_group: None,
        location: Some(parameter_ref("location")),
        tags: tags.clone(),
        sku: None,
        depends_on: if same_group {
            vec![format!("[{vnet_id}]")]
        } else {
            Vec::new()
        },
        comments: format!("{what} in subnet {}.", compute.subnet),
        properties: Properties::Compute(Box::new(ComputeProperties {
            compute_type,
            compute_location: parameter_ref("location"),
            disable_local_auth: true,
            properties: settings,
        })),
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
            admin_user_name: parameter_ref("adminUsername"),
            admin_user_ssh_public_key: parameter_ref("sshPublicKey"),
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
            admin_public_key: instance.ssh.then(|| parameter_ref("sshPublicKey")),
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

/// The name of the nested deployment (ARM) and module (Bicep) holding the computes.
pub(crate) fn computes_deployment_name(plan: &Plan) -> String {
    format!("{}-computes", plan.name)
}

/// The computes of a workspace in another resource group, as an inner-scoped nested deployment.
fn compute_deployment(
    plan: &Plan,
    group: &str,
    vnet_id: &str,
    tags: &BTreeMap<String, String>,
) -> Resource {
    let mut parameters: BTreeMap<&'static str, Value> = plan
        .parameters
        .iter()
        .map(|p| {
            (
                p.name,
                Value {
                    value: parameter_ref(p.name),
                },
            )
        })
        .collect();
    parameters.insert(
        "vnetId",
        Value {
            value: format!("[{vnet_id}]"),
        },
    );
    let mut inner_parameters: BTreeMap<&'static str, TemplateParameter> = plan
        .parameters
        .iter()
        .map(|p| {
            (
                p.name,
                TemplateParameter {
                    default_value: None,
                    allowed_values: Vec::new(),
                    ..template_parameter(p)
                },
            )
        })
        .collect();
    inner_parameters.insert(
        "vnetId",
        TemplateParameter {
            kind: "string",
            default_value: None,
            allowed_values: Vec::new(),
            metadata: Description {
                description: "Resource ID of the VNet whose subnets the computes join.".to_string(),
            },
        },
    );
    let inner_vnet = format!("parameters({})", quoted("vnetId"));
    let template = Template {
        schema: TEMPLATE_SCHEMA,
        content_version: "1.0.0.0",
        metadata: None,
        parameters: inner_parameters,
        resources: plan
            .computes
            .iter()
            .map(|c| compute(plan, c, &inner_vnet, tags))
            .collect(),
    };
    Resource {
        kind: ResourceKind::Deployment.arm_type(),
        api_version: ResourceKind::Deployment.api_version(),
        name: computes_deployment_name(plan),
        resource_group: Some(group.to_string()),
        location: None,
        tags: BTreeMap::new(),
        sku: None,
        depends_on: vec![format!("[{vnet_id}]")],
        comments: format!("The computes, in the workspace's resource group {group}."),
        properties: Properties::Deployment(Box::new(DeploymentProperties {
            mode: "Incremental",
            expression_evaluation_options: EvaluationOptions { scope: "inner" },
            parameters,
            template,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_that_look_like_expressions_are_escaped() {
        assert_eq!(literal("[concat('a')]"), "[[concat('a')]");
        assert_eq!(literal("[x"), "[x");
        assert_eq!(quoted("it's"), "'it''s'");
        assert_eq!(
            resource_id(ResourceKind::NatGateway, &["n"]),
            "resourceId('Microsoft.Network/natGateways', 'n')"
        );
    }
}
