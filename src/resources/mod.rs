//! The builders: from the plan to the resource model, one function per kind of resource.
//!
//! Each Azure property amlgen sets is written here, once; `emit` prints the result as ARM JSON
//! and as Bicep. Symbols are handed out in one place for the whole deployment (main template and
//! module), so no symbol can shadow a parameter or another resource in either file.

mod access;
mod compute;
mod machines;
mod network;
mod workspace;

use std::collections::BTreeMap;

use crate::azure::resource::ResourceKind;
use crate::model::{Expr, Header, Item, Object, Output, Param, Resource, Template, Value};
use crate::naming::Identifiers;
use crate::plan::{LOCATION, Parameter, Plan};

/// The symbols of the resources that others refer to.
#[derive(Debug, Default)]
struct Refs {
    vnet: String,
    /// NSG symbols by name.
    nsgs: BTreeMap<String, String>,
    /// Route table symbols by name.
    route_tables: BTreeMap<String, String>,
    nat_gateway: Option<String>,
    /// The resource an attached compute stands for, by compute name.
    machines: BTreeMap<String, Machine>,
    /// The created workspace, and the storage account amlgen creates.
    workspace: Option<String>,
    storage: Option<String>,
    /// The IDs of a created workspace's dependencies, created or existing.
    targets: workspace::Targets,
    /// The storage account's blob and file endpoints.
    storage_endpoints: Vec<String>,
    /// The clusters of the main template: `(symbol, name)`.
    clusters: Vec<(String, String)>,
    /// What the computes wait for: the zones' VNet links and the endpoints' zone groups (or,
    /// without zone groups, the endpoints).
    waits: Vec<String>,
}

/// A VM or HDInsight cluster that a compute can attach.
#[derive(Debug, Clone)]
struct Machine {
    symbol: String,
    /// The public IP Azure ML reaches an attached VM at.
    address: Option<String>,
}

/// What every builder reads: the plan, the symbols handed out so far, the tags.
struct Builder<'a> {
    plan: &'a Plan,
    symbols: Identifiers,
    tags: Option<Value>,
    refs: Refs,
}

impl Builder<'_> {
    /// A resource of the deployment's resource group at `location`, with the spec's tags.
    fn located(
        &self,
        kind: ResourceKind,
        symbol: String,
        name: impl Into<Value>,
        comment: String,
    ) -> Resource {
        Resource::new(kind, symbol, name, comment).with_body(self.location_and_tags())
    }

    /// `location` and, when the spec has any, `tags`.
    fn location_and_tags(&self) -> Object {
        Object::new()
            .with("location", Expr::Param(LOCATION.into()))
            .with_some("tags", self.tags.clone())
    }
}

/// The resource model of `plan`: the main template, holding the computes module when the
/// workspace lives in another resource group.
pub(crate) fn build(plan: &Plan) -> Template {
    let reserved = plan
        .parameters
        .iter()
        .map(|p| p.name.clone())
        .chain(plan.module_inputs.iter().map(|i| i.name.clone()));
    let tags = (!plan.tags.is_empty()).then(|| {
        Value::Object(Object(
            plan.tags
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v)))
                .collect(),
        ))
    });
    let mut builder = Builder {
        plan,
        symbols: Identifiers::new(reserved),
        tags,
        refs: Refs::default(),
    };
    let mut items: Vec<Item> = network::resources(&mut builder)
        .into_iter()
        .chain(access::resources(&mut builder))
        .chain(machines::resources(&mut builder))
        .chain(workspace::resources(&mut builder))
        .map(Item::Resource)
        .collect();
    items.extend(compute::items(&mut builder));
    items.extend(
        workspace::cluster_roles(&mut builder)
            .into_iter()
            .map(Item::Resource),
    );
    let mut template = Template {
        parameters: plan.parameters.iter().map(param).collect(),
        items,
        outputs: Vec::new(),
    };
    template.outputs = outputs(&template, plan);
    template
}

/// The kinds of resource whose IDs a template outputs.
const OUTPUT_KINDS: &[ResourceKind] = &[
    ResourceKind::VirtualNetwork,
    ResourceKind::NetworkSecurityGroup,
    ResourceKind::RouteTable,
    ResourceKind::NatGateway,
    ResourceKind::Compute,
];

/// The IDs another template needs to build on this one: the VNet and its subnets, the NSGs, the
/// route tables or NAT gateway, and the computes (a module's through its outputs). Never a
/// secret. Each is named after the resource's symbol.
pub(crate) fn outputs(template: &Template, plan: &Plan) -> Vec<Output> {
    let mut out = Vec::new();
    for r in template
        .resources()
        .filter(|r| OUTPUT_KINDS.contains(&r.kind))
    {
        let name = match &r.name {
            Value::Str(name) => name.clone(),
            _ => r.symbol.clone(),
        };
        out.push(Output {
            name: format!("{}Id", r.symbol),
            description: format!("Resource ID of {} {name}.", r.kind.noun()),
            value: Expr::Id(r.symbol.clone()),
        });
        if r.kind == ResourceKind::VirtualNetwork {
            let mut names = Identifiers::default();
            out.extend(plan.vnet.subnets.iter().map(|s| Output {
                name: names.claim("", &format!("{}-subnet-id", s.name)),
                description: format!("Resource ID of subnet {}.", s.name),
                value: Expr::SubnetId {
                    vnet: r.symbol.clone(),
                    subnet: s.name.clone(),
                },
            }));
        }
    }
    for module in template.modules() {
        out.extend(module.template.outputs.iter().map(|o| Output {
            value: Expr::ModuleOutput {
                module: module.symbol.clone(),
                output: o.name.clone(),
            },
            ..o.clone()
        }));
    }
    out
}

/// A parameter of the main template, with its default and allowed values. The location
/// defaults to the resource group's (so no region is hard-coded) and allows only the spec's
/// region, whose service tags the NSG rules name.
fn param(parameter: &Parameter) -> Param {
    let default = if parameter.name == LOCATION {
        Some(Value::Expr(Expr::ResourceGroupLocation))
    } else {
        parameter.default.clone().map(Value::Str)
    };
    Param {
        name: parameter.name.clone(),
        description: parameter.description.clone(),
        secure: parameter.secure,
        default,
        allowed: parameter.allowed.clone(),
        value: parameter.default.clone(),
        env: parameter.env.as_ref().map(|e| e.name.clone()),
    }
}

/// What the files of `plan` say of themselves: its spec, profile and network intent.
pub(crate) fn header(plan: &Plan) -> Header {
    Header {
        spec: plan.name.clone(),
        profile: plan.profile.name,
        intent: plan.intent.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::spec;
    use serde_json::json;

    fn template(edit: impl FnOnce(&mut serde_json::Value)) -> Template {
        build(&crate::plan::build(&spec(edit), None))
    }

    #[test]
    fn every_resource_has_a_unique_symbol() {
        let template = template(|_| {});
        let mut symbols: Vec<&str> = template.resources().map(|r| r.symbol.as_str()).collect();
        let count = symbols.len();
        symbols.sort();
        symbols.dedup();
        assert_eq!(symbols.len(), count);
        assert!(symbols.contains(&"vnet") && symbols.contains(&"workspace"));
    }

    /// A compute's `properties.properties`: its kind's settings.
    fn settings(compute: &Resource) -> &Object {
        let Some(Value::Object(properties)) = compute.body.get("properties") else {
            panic!("no properties")
        };
        let Some(Value::Object(settings)) = properties.get("properties") else {
            panic!("no settings")
        };
        settings
    }

    #[test]
    fn computes_join_their_subnet_by_reference_to_the_vnet() {
        let template = template(|_| {});
        let compute = template
            .resources()
            .find(|r| r.kind == ResourceKind::Compute)
            .unwrap();
        let settings = settings(compute);
        assert_eq!(
            settings.get("subnet"),
            Some(&Value::id(Expr::SubnetId {
                vnet: "vnet".into(),
                subnet: "snet-a".into()
            }))
        );
        assert_eq!(compute.parent.as_deref(), Some("workspace"));
    }

    #[test]
    fn an_attached_vm_is_reached_at_its_own_public_ip() {
        let template = template(|v| {
            v["compute"].as_array_mut().unwrap().push(
                json!({"name": "vm-a", "type": "virtualmachine", "subnet": "snet-b", "attach": true}),
            )
        });
        let ip = template
            .resources()
            .find(|r| r.kind == ResourceKind::PublicIpAddress && r.name == Value::from("vm-a-pip"))
            .unwrap();
        let compute = template
            .resources()
            .find(|r| r.kind == ResourceKind::Compute && r.name == Value::from("vm-a"))
            .unwrap();
        let settings = settings(compute);
        assert_eq!(
            settings.get("address"),
            Some(&Value::Expr(Expr::Property(
                ip.symbol.clone(),
                vec![crate::model::Step::Key("ipAddress")]
            )))
        );
    }

    #[test]
    fn the_subnet_join_role_can_join_the_vnet_and_its_subnets() {
        let template = template(
            |v| v["permissions"] = json!({"assign_to": [{"object_id": "00000000-0000-0000-0000-000000000001", "type": "Group"}]}),
        );
        let role = template
            .resources()
            .find(|r| r.kind == ResourceKind::RoleDefinition)
            .unwrap();
        let text = format!("{:?}", role.body);
        assert!(text.contains("\"Microsoft.Network/virtualNetworks/join/action\""));
        assert!(text.contains("\"Microsoft.Network/virtualNetworks/subnets/join/action\""));
    }

    #[test]
    fn a_workspace_elsewhere_puts_the_computes_in_a_module_fed_with_subnet_ids() {
        let template = template(|v| v["workspace"]["resource_group"] = json!("rg-ml"));
        let module = template.modules().next().unwrap();
        assert_eq!(module.resource_group, "rg-ml");
        let (name, value) = module
            .inputs
            .iter()
            .find(|(n, _)| n.ends_with("SubnetId"))
            .unwrap();
        assert_eq!(name, "snetASubnetId");
        assert_eq!(
            value,
            &Value::Expr(Expr::SubnetId {
                vnet: "vnet".into(),
                subnet: "snet-a".into()
            })
        );
        assert!(
            template
                .resources()
                .all(|r| r.kind != ResourceKind::Compute)
        );
        assert!(
            module
                .template
                .resources()
                .any(|r| r.kind == ResourceKind::Compute)
        );
    }
}
