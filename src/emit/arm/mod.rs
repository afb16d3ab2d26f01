//! The ARM printer: `azuredeploy.json` and `azuredeploy.parameters.json`, serialized with serde
//! from the resource model.
//!
//! The template envelope follows ARM's conventions (`$schema`, `contentVersion`, `metadata`,
//! `parameters`, `resources`, language version 1 so that scanners read it). Each resource is
//! written as `type`, `apiVersion`, `name`, `scope`, `dependsOn`, `comments`, then its body in
//! the model's order. `dependsOn` is derived from the references in the resource, sorted. A
//! module becomes an inner-scoped nested deployment. Expressions are printed by `expr`.

mod expr;

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::Error;
use crate::azure::resource::ResourceKind;
use crate::model::{Expr, Header, Module, Object, Output, Param, Part, Resource, Template, Value};
use crate::plan::Intent;
use expr::Printer;

const TEMPLATE_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";
const PARAMETERS_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#";

/// A literal string as ARM reads it: one that starts with `[` and ends with `]` would be an
/// expression, so its first bracket is doubled (ARM's escape). Any other string is as it is.
fn literal(text: &str) -> Cow<'_, str> {
    if text.starts_with('[') && text.ends_with(']') {
        Cow::Owned(format!("[{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A model value in ARM JSON, with the template its references resolve in.
struct Json<'a> {
    value: &'a Value,
    printer: &'a Printer<'a>,
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Str(text) => serializer.serialize_str(&literal(text)),
            Value::Int(n) => serializer.serialize_i64(*n),
            Value::Bool(flag) => serializer.serialize_bool(*flag),
            Value::Expr(e) => serializer.serialize_str(&self.printer.value(e)),
            Value::Array(items) => serializer.collect_seq(items.iter().map(|value| Json {
                value,
                printer: self.printer,
            })),
            Value::Object(object) => JsonObject {
                object,
                printer: self.printer,
            }
            .serialize(serializer),
        }
    }
}

/// An object of the model, keys in the model's order.
struct JsonObject<'a> {
    object: &'a Object,
    printer: &'a Printer<'a>,
}

impl Serialize for JsonObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.object.0.len()))?;
        for (key, value) in &self.object.0 {
            let value = Json {
                value,
                printer: self.printer,
            };
            map.serialize_entry(&literal(key), &value)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    content_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
    parameters: Parameters<'a>,
    resources: Vec<ResourceJson<'a>>,
    #[serde(skip_serializing_if = "Outputs::is_empty")]
    outputs: Outputs<'a>,
}

/// The template's outputs, in the model's order.
struct Outputs<'a>(&'a [Output], &'a Printer<'a>);

impl Outputs<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Serialize)]
struct OutputJson {
    #[serde(rename = "type")]
    kind: &'static str,
    metadata: Description,
    value: String,
}

impl Serialize for Outputs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|o| {
            let json = OutputJson {
                kind: "string",
                metadata: Description {
                    description: o.description.clone(),
                },
                value: self.1.value(&o.value),
            };
            (o.name.as_str(), json)
        }))
    }
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(rename = "_generator")]
    generator: Generator<'a>,
}

#[derive(Serialize)]
struct Generator<'a> {
    name: &'static str,
    version: String,
    /// The requirement profile the rules follow, so `amlgen verify` holds the template to it.
    requirements: &'static str,
    /// What the spec asks of the network, for `amlgen verify`.
    intent: &'a Intent,
}

/// The template's parameters, in the model's order.
struct Parameters<'a>(&'a [Param], &'a Printer<'a>);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParameterJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_value: Option<Json<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_values: Vec<Cow<'a, str>>,
    metadata: Description,
}

#[derive(Serialize)]
struct Description {
    description: String,
}

impl Serialize for Parameters<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|p| {
            let json = ParameterJson {
                kind: if p.secure { "securestring" } else { "string" },
                default_value: p.default.as_ref().map(|value| Json {
                    value,
                    printer: self.1,
                }),
                allowed_values: p.allowed.iter().map(|v| literal(v)).collect(),
                metadata: Description {
                    description: p.description.clone(),
                },
            };
            (p.name.as_str(), json)
        }))
    }
}

/// A resource or a nested deployment.
enum ResourceJson<'a> {
    Resource(&'a Resource, &'a Printer<'a>),
    Deployment(&'a Module, &'a Printer<'a>),
}

impl Serialize for ResourceJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            ResourceJson::Resource(resource, printer) => {
                write_resource(&mut map, resource, printer)?
            }
            ResourceJson::Deployment(module, printer) => {
                write_deployment(&mut map, module, printer)?
            }
        }
        map.end()
    }
}

/// The ID expressions of the resources `symbols` names that the template deploys, sorted.
fn depends_on(printer: &Printer, symbols: &BTreeSet<&str>) -> Vec<String> {
    let mut ids: Vec<String> = printer
        .template()
        .deployed(symbols)
        .into_iter()
        .map(|r| printer.value(&Expr::Id(r.symbol.clone())))
        .collect();
    ids.sort();
    ids
}

fn write_resource<M: SerializeMap>(
    map: &mut M,
    resource: &Resource,
    printer: &Printer,
) -> Result<(), M::Error> {
    map.serialize_entry("type", resource.kind.arm_type())?;
    map.serialize_entry("apiVersion", resource.kind.api_version())?;
    let name = printer.full_name(resource);
    map.serialize_entry(
        "name",
        &Json {
            value: &name,
            printer,
        },
    )?;
    let mut symbols = BTreeSet::new();
    resource.name.symbols(&mut symbols);
    resource
        .body
        .0
        .iter()
        .for_each(|(_, v)| v.symbols(&mut symbols));
    symbols.extend(resource.parent.as_deref());
    symbols.extend(resource.after.iter().map(String::as_str));
    if let Some(scope) = &resource.scope {
        symbols.insert(scope);
        let target = printer.template().resource(scope);
        let kind = target.map_or("", |r| r.kind.arm_type());
        let scope = Value::Expr(Expr::Interpolate(vec![
            Part::Text(format!("{kind}/")),
            Part::Expr(Expr::Name(scope.clone())),
        ]));
        map.serialize_entry(
            "scope",
            &Json {
                value: &scope,
                printer,
            },
        )?;
    }
    let dependencies = depends_on(printer, &symbols);
    if !dependencies.is_empty() {
        map.serialize_entry("dependsOn", &dependencies)?;
    }
    map.serialize_entry("comments", &resource.comment)?;
    if !resource.suppressions.is_empty() {
        let skips: Vec<String> = resource
            .suppressions
            .iter()
            .map(|s| format!("checkov:skip={}: {}", s.check, s.reason))
            .collect();
        map.serialize_entry("metadata", &serde_json::json!({ "checkov": skips }))?;
    }
    for (key, value) in &resource.body.0 {
        map.serialize_entry(&literal(key), &Json { value, printer })?;
    }
    Ok(())
}

fn write_deployment<M: SerializeMap>(
    map: &mut M,
    module: &Module,
    printer: &Printer,
) -> Result<(), M::Error> {
    let kind = ResourceKind::Deployment;
    map.serialize_entry("type", kind.arm_type())?;
    map.serialize_entry("apiVersion", kind.api_version())?;
    map.serialize_entry("name", &literal(&module.name))?;
    map.serialize_entry("resourceGroup", &literal(&module.resource_group))?;
    let mut symbols = BTreeSet::new();
    module
        .inputs
        .iter()
        .for_each(|(_, v)| v.symbols(&mut symbols));
    symbols.extend(module.after.iter().map(String::as_str));
    let dependencies = depends_on(printer, &symbols);
    if !dependencies.is_empty() {
        map.serialize_entry("dependsOn", &dependencies)?;
    }
    map.serialize_entry("comments", &module.comment)?;
    let parameters = Object(
        module
            .inputs
            .iter()
            .map(|(name, value)| {
                (
                    name.clone(),
                    Object::new().with("value", value.clone()).into(),
                )
            })
            .collect(),
    );
    let inner = Printer::new(&module.template);
    let properties = DeploymentProperties {
        mode: "Incremental",
        expression_evaluation_options: EvaluationOptions { scope: "inner" },
        parameters: JsonObject {
            object: &parameters,
            printer,
        },
        template: envelope(&module.template, &inner, None),
    };
    map.serialize_entry("properties", &properties)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentProperties<'a> {
    mode: &'static str,
    expression_evaluation_options: EvaluationOptions,
    parameters: JsonObject<'a>,
    template: Envelope<'a>,
}

#[derive(Serialize)]
struct EvaluationOptions {
    scope: &'static str,
}

fn envelope<'a>(
    template: &'a Template,
    printer: &'a Printer<'a>,
    metadata: Option<Metadata<'a>>,
) -> Envelope<'a> {
    let resources = template
        .items
        .iter()
        .filter_map(|item| match item {
            crate::model::Item::Resource(r) if r.existing => None,
            crate::model::Item::Resource(r) => Some(ResourceJson::Resource(r, printer)),
            crate::model::Item::Module(m) => Some(ResourceJson::Deployment(m, printer)),
        })
        .collect();
    Envelope {
        schema: TEMPLATE_SCHEMA,
        content_version: "1.0.0.0",
        metadata,
        parameters: Parameters(&template.parameters, printer),
        resources,
        outputs: Outputs(&template.outputs, printer),
    }
}

/// Pretty JSON with a final newline. `Err` is a bug in amlgen: the model holds strings, numbers,
/// booleans, lists and objects with string keys, which always serialize.
fn to_text(file: &'static str, value: &impl Serialize) -> Result<String, Error> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|source| Error::Json { file, source })?;
    text.push('\n');
    Ok(text)
}

/// Renders `azuredeploy.json`, stamped with amlgen's `version` and the `header`'s requirement
/// profile and network intent.
pub(super) fn template(
    header: &Header,
    template: &Template,
    version: &str,
) -> Result<String, Error> {
    let printer = Printer::new(template);
    let metadata = Metadata {
        generator: Generator {
            name: "amlgen",
            version: version.to_string(),
            requirements: header.profile,
            intent: &header.intent,
        },
    };
    to_text(
        "azuredeploy.json",
        &envelope(template, &printer, Some(metadata)),
    )
}

/// Renders `azuredeploy.parameters.json`: the value of every parameter that has one in the spec
/// (its region, user names, sizes). Parameters without one (secrets) are left to the deployer,
/// never written down.
pub(super) fn parameters_file(parameters: &[Param]) -> Result<String, Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct File {
        #[serde(rename = "$schema")]
        schema: &'static str,
        content_version: &'static str,
        parameters: serde_json::Map<String, serde_json::Value>,
    }
    let parameters = parameters
        .iter()
        .filter_map(|p| {
            let value = literal(p.value.as_ref()?).into_owned();
            Some((p.name.clone(), serde_json::json!({ "value": value })))
        })
        .collect();
    to_text(
        "azuredeploy.parameters.json",
        &File {
            schema: PARAMETERS_SCHEMA,
            content_version: "1.0.0.0",
            parameters,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strings_that_would_be_expressions_are_escaped() {
        assert_eq!(literal("[concat('a')]"), "[[concat('a')]");
        assert_eq!(literal("[x"), "[x");
        assert_eq!(literal("a]"), "a]");
    }
}
