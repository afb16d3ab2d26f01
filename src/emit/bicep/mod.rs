//! The Bicep emitter: `main.bicep`, `computes.bicep` (when the workspace is in another resource
//! group) and `main.bicepparam`.
//!
//! Layout lives in Tera templates (`templates/`, embedded in the binary); the submodules build
//! their view models from the plan, one per family of resources, and this module assembles the
//! files.
//! Autoescaping with a Bicep string escape is on for every template, so no value from a spec can
//! leave its string literal; the only unescaped insertions (`| safe`) are symbols and
//! expressions built here. The output stays inside the Bicep subset that scanners parse (no
//! user-defined types, no imports).

mod compute;
mod machines;
mod network;

use std::sync::OnceLock;

use serde::Serialize;
use tera::{Context, Tera};

use super::Artifact;
use crate::naming::Identifiers as Symbols;
use crate::plan::{Parameter, Plan, VNET_ID};

const TEMPLATES: &[(&str, &str)] = &[
    (
        "macros.bicep",
        include_str!("../../../templates/macros.bicep.tera"),
    ),
    (
        "main.bicep",
        include_str!("../../../templates/main.bicep.tera"),
    ),
    (
        "nsg.bicep",
        include_str!("../../../templates/nsg.bicep.tera"),
    ),
    (
        "route_table.bicep",
        include_str!("../../../templates/route_table.bicep.tera"),
    ),
    (
        "nat_gateway.bicep",
        include_str!("../../../templates/nat_gateway.bicep.tera"),
    ),
    (
        "virtual_network.bicep",
        include_str!("../../../templates/virtual_network.bicep.tera"),
    ),
    (
        "workspace.bicep",
        include_str!("../../../templates/workspace.bicep.tera"),
    ),
    (
        "compute.bicep",
        include_str!("../../../templates/compute.bicep.tera"),
    ),
    (
        "module.bicep",
        include_str!("../../../templates/module.bicep.tera"),
    ),
    (
        "role.bicep",
        include_str!("../../../templates/role.bicep.tera"),
    ),
    (
        "hdinsight.bicep",
        include_str!("../../../templates/hdinsight.bicep.tera"),
    ),
    (
        "virtual_machine.bicep",
        include_str!("../../../templates/virtual_machine.bicep.tera"),
    ),
    (
        "databricks.bicep",
        include_str!("../../../templates/databricks.bicep.tera"),
    ),
    (
        "main.bicepparam",
        include_str!("../../../templates/bicepparam.tera"),
    ),
];

/// The module file holding the computes of a workspace in another resource group.
const COMPUTES_FILE: &str = "computes.bicep";

/// Escapes text for the inside of a single-quoted Bicep string.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("\\$"),
            other => out.push(other),
        }
    }
    out
}

fn engine() -> Result<&'static Tera, String> {
    static ENGINE: OnceLock<Result<Tera, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut tera = Tera::default();
            tera.autoescape_on(vec![".bicep", ".bicepparam"]);
            tera.set_escape_fn(escape);
            tera.add_raw_templates(TEMPLATES.iter().copied())
                .map_err(|e| format!("{e:?}"))?;
            Ok(tera)
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn render(name: &str, view: &impl Serialize) -> Result<String, String> {
    let context = Context::from_serialize(view).map_err(|e| format!("{name}: {e:?}"))?;
    engine()?
        .render(name, &context)
        .map_err(|e| format!("{name}: {e:?}"))
}

/// `'${vnet}/subnets/<name>'`: a subnet of the VNet whose ID is the expression `vnet_id`.
fn subnet_id(vnet_id: &str, subnet: &str) -> String {
    format!("'${{{vnet_id}}}/subnets/{}'", escape(subnet))
}

#[derive(Serialize)]
struct Tag {
    key: String,
    quoted: bool,
    value: String,
}

fn tags(plan: &Plan) -> Vec<Tag> {
    plan.tags
        .iter()
        .map(|(key, value)| {
            let identifier = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            Tag {
                key: key.clone(),
                quoted: !identifier,
                value: value.clone(),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct ParamView {
    name: String,
    description: String,
    secure: bool,
    allowed: Vec<String>,
    default: Option<String>,
}

fn param_view(p: &Parameter, with_default: bool) -> ParamView {
    ParamView {
        name: p.name.clone(),
        description: p.description.clone(),
        secure: p.secure,
        allowed: if with_default {
            p.allowed.clone()
        } else {
            Vec::new()
        },
        default: if with_default {
            p.default.clone()
        } else {
            None
        },
    }
}

fn file(
    plan: &Plan,
    version: &str,
    parameters: Vec<ParamView>,
    blocks: Vec<String>,
) -> Result<String, String> {
    let view = serde_json::json!({
        "version": version, "name": plan.name, "profile": plan.profile.name,
        "readme_hint": "README.md explains every rule.", "parameters": parameters, "blocks": blocks,
    });
    render("main.bicep", &view)
}

/// Renders the Bicep files of `plan`.
/// Names no symbol may take: the parameters, and the computes module's VNet input.
fn reserved(plan: &Plan) -> Vec<String> {
    plan.parameters
        .iter()
        .map(|p| p.name.clone())
        .chain([VNET_ID.to_string()])
        .collect()
}

/// `computes.bicep`: the parameters the computes read and the module's inputs, then the computes.
fn computes_file(plan: &Plan, version: &str, tags: &[Tag]) -> Result<Artifact, String> {
    let mut symbols = Symbols::new(reserved(plan));
    let refs = compute::Refs::module(plan);
    let blocks = compute::blocks(plan, &mut symbols, tags, &refs)?;
    let mut parameters: Vec<ParamView> = plan
        .parameters
        .iter()
        .filter(|p| p.computes)
        .map(|p| param_view(p, false))
        .collect();
    parameters.extend(plan.module_inputs().into_iter().map(|input| ParamView {
        name: input.name,
        description: input.description,
        secure: false,
        allowed: Vec::new(),
        default: None,
    }));
    Ok(Artifact::new(
        COMPUTES_FILE,
        file(plan, version, parameters, blocks)?,
    ))
}

/// Renders the Bicep files of `plan`.
pub(super) fn artifacts(plan: &Plan, version: &str) -> Result<Vec<Artifact>, String> {
    let tags = tags(plan);
    let mut symbols = Symbols::new(reserved(plan));
    let (mut blocks, vnet) = network::blocks(plan, &mut symbols, &tags)?;
    blocks.extend(machines::role_blocks(plan, &mut symbols, &vnet)?);
    let (machine_blocks, machines) = machines::blocks(plan, &mut symbols, &tags, &vnet)?;
    blocks.extend(machine_blocks);
    let refs = compute::Refs::main(plan, &vnet, &machines);
    let mut out = Vec::new();
    match &plan.workspace.resource_group {
        None => blocks.extend(compute::blocks(plan, &mut symbols, &tags, &refs)?),
        Some(group) => {
            blocks.push(compute::module_block(plan, &mut symbols, group, &refs)?);
            out.push(computes_file(plan, version, &tags)?);
        }
    }
    let parameters = plan
        .parameters
        .iter()
        .map(|p| param_view(p, true))
        .collect();
    out.insert(
        0,
        Artifact::new("main.bicep", file(plan, version, parameters, blocks)?),
    );
    out.push(Artifact::new("main.bicepparam", bicepparam(plan, version)?));
    Ok(out)
}

fn bicepparam(plan: &Plan, version: &str) -> Result<String, String> {
    let parameters: Vec<serde_json::Value> = plan
        .parameters
        .iter()
        .filter(|p| p.default.is_some() || p.env.is_some())
        .map(|p| {
            serde_json::json!({"name": p.name, "value": p.default, "env": p.env.as_ref().map(|e| &e.name)})
        })
        .collect();
    render(
        "main.bicepparam",
        &serde_json::json!({"version": version, "parameters": parameters}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_values_inside_their_string() {
        assert_eq!(escape("a'b\\c${x}\n"), "a\\'b\\\\c\\${x}\\n");
    }

    #[test]
    fn every_template_compiles() {
        assert!(engine().is_ok(), "{:?}", engine().err());
    }
}
