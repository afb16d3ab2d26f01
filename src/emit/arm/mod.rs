//! The ARM JSON emitter: `azuredeploy.json` and `azuredeploy.parameters.json`.
//!
//! ARM is serialized with serde from serialize-only wire types built from the plan, never
//! assembled as text: JSON escaping and structure then hold by construction. Field order follows
//! ARM's conventions (`$schema`, `contentVersion`, `metadata`, `parameters`, `resources`), maps
//! are `BTreeMap`, so the bytes are deterministic. Every literal that could look like an ARM
//! expression (`[...]`) is escaped. This module holds the template envelope; one submodule per
//! family of resources holds their wire types.

mod access;
mod compute;
mod databricks;
mod machines;
mod network;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::azure::resource::ResourceKind;
use crate::plan::{Parameter, Plan};

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

/// `[expression]`: a whole value computed by ARM.
fn expression(text: &str) -> String {
    format!("[{text}]")
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

/// The plan's VNet in the main template, as an expression without brackets.
fn vnet_id(plan: &Plan) -> String {
    resource_id(ResourceKind::VirtualNetwork, &[&plan.vnet.name])
}

/// A subnet of the VNet whose ID is the expression `vnet_id`, as an expression.
fn subnet_id(vnet_id: &str, subnet: &str) -> String {
    format!(
        "format('{{0}}/subnets/{{1}}', {vnet_id}, {})",
        quoted(subnet)
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Template {
    #[serde(rename = "$schema")]
    schema: &'static str,
    content_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
    parameters: BTreeMap<String, TemplateParameter>,
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
    /// The resource an extension resource (a role assignment) applies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<Sku>,
    /// The resource's `kind` (a storage account's `StorageV2`).
    #[serde(rename = "kind", skip_serializing_if = "Option::is_none")]
    variant: Option<&'static str>,
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
    Nsg(network::NsgProperties),
    RouteTable(network::RouteTableProperties),
    PublicIp(network::PublicIpProperties),
    NatGateway(network::NatGatewayProperties),
    VirtualNetwork(network::VirtualNetworkProperties),
    NetworkInterface(machines::NetworkInterfaceProperties),
    RoleDefinition(access::RoleDefinitionProperties),
    RoleAssignment(access::RoleAssignmentProperties),
    StorageAccount(machines::StorageAccountProperties),
    HdInsight(Box<machines::HdInsightProperties>),
    VirtualMachine(Box<machines::VirtualMachineProperties>),
    Databricks(Box<databricks::DatabricksProperties>),
    Compute(Box<compute::ComputeProperties>),
    Deployment(Box<compute::DeploymentProperties>),
}

#[derive(Serialize)]
struct Named<T> {
    name: String,
    properties: T,
}

#[derive(Serialize)]
struct Id {
    id: String,
}

impl Id {
    /// `{"id": "[resourceId(...)]"}`.
    fn of(kind: ResourceKind, name: &str) -> Self {
        Id {
            id: expression(&resource_id(kind, &[name])),
        }
    }
}

#[derive(Serialize)]
struct Value<T = String> {
    value: T,
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
            .map(|p| (p.name.clone(), template_parameter(p)))
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
        parameters: BTreeMap<String, Value>,
    }
    let parameters = plan
        .parameters
        .iter()
        .filter_map(|p| {
            p.default
                .as_ref()
                .map(|d| (p.name.clone(), Value { value: literal(d) }))
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

/// A resource of the plan in the deployment's resource group, at `location` with the spec's tags;
/// callers set `sku`, `variant`, `depends_on` or `scope` where the type has them.
fn resource(
    kind: ResourceKind,
    name: String,
    tags: &BTreeMap<String, String>,
    comments: String,
    properties: Properties,
) -> Resource {
    Resource {
        kind: kind.arm_type(),
        api_version: kind.api_version(),
        name,
        resource_group: None,
        scope: None,
        location: Some(parameter_ref("location")),
        tags: tags.clone(),
        sku: None,
        variant: None,
        depends_on: Vec::new(),
        comments,
        properties,
    }
}

/// Every resource of the plan in output order: the network, the role, the machines, Databricks,
/// then the workspace's computes (or the nested deployment holding them).
fn resources(plan: &Plan) -> Vec<Resource> {
    let tags: BTreeMap<String, String> = plan
        .tags
        .iter()
        .map(|(k, v)| (literal(k), literal(v)))
        .collect();
    let mut out = network::resources(plan, &tags);
    out.extend(plan.role.iter().flat_map(|r| access::resources(plan, r)));
    out.extend(machines::resources(plan, &tags));
    out.extend(
        plan.databricks
            .iter()
            .map(|d| databricks::workspace(plan, d, &tags)),
    );
    out.extend(compute::resources(plan, &tags));
    out
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
