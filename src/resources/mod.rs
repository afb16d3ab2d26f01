//! The builders: from the plan to the resource model, one function per kind of resource.
//!
//! Each Azure property amlgen sets is written here, once; `emit` prints the result as ARM JSON
//! and as Bicep. Symbols are handed out in one place for the whole deployment (main template and
//! module), so no symbol can shadow a parameter or another resource in either file.

mod access;
mod compute;
mod machines;
mod network;

use std::collections::BTreeMap;

use crate::azure::resource::ResourceKind;
use crate::model::{Expr, Item, Object, Param, Resource, Template, Value};
use crate::naming::Identifiers;
use crate::plan::{Parameter, Plan};

/// The symbols of the resources that others refer to.
#[derive(Debug, Default)]
struct Refs {
    vnet: String,
    /// NSG symbols by subnet.
    nsgs: BTreeMap<String, String>,
    /// Route table symbols by name.
    route_tables: BTreeMap<String, String>,
    nat_gateway: Option<String>,
    /// The resource an attached compute stands for, by compute name.
    machines: BTreeMap<String, Machine>,
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
    fn located(&self, kind: ResourceKind, symbol: String, name: &str, comment: String) -> Resource {
        Resource::new(kind, symbol, name, comment).with_body(self.location_and_tags())
    }

    /// `location` and, when the spec has any, `tags`.
    fn location_and_tags(&self) -> Object {
        Object::new()
            .with("location", Expr::Param("location".into()))
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
        .map(Item::Resource)
        .collect();
    items.extend(compute::items(&mut builder));
    Template {
        parameters: plan.parameters.iter().map(param).collect(),
        items,
    }
}

/// A parameter of the main template, with its default and allowed values.
fn param(parameter: &Parameter) -> Param {
    Param {
        name: parameter.name.clone(),
        description: parameter.description.clone(),
        secure: parameter.secure,
        default: parameter.default.clone(),
        allowed: parameter.allowed.clone(),
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

    #[test]
    fn computes_join_their_subnet_by_reference_to_the_vnet() {
        let template = template(|_| {});
        let compute = template
            .resources()
            .find(|r| r.kind == ResourceKind::Compute)
            .unwrap();
        let Some(Value::Object(properties)) = compute.body.get("properties") else {
            panic!("no properties")
        };
        let Some(Value::Object(settings)) = properties.get("properties") else {
            panic!("no settings")
        };
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
        let Some(Value::Object(properties)) = compute.body.get("properties") else {
            panic!("no properties")
        };
        let Some(Value::Object(settings)) = properties.get("properties") else {
            panic!("no settings")
        };
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
