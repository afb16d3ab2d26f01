//! The Bicep printer: `main.bicep`, the computes module's file (when the workspace is in another
//! resource group) and `main.bicepparam`.
//!
//! Tera lays out each file (the header, the parameters, the order of the resource blocks, the
//! parameters file); every block is the model printed by `expr`, so no template names an Azure
//! property. Tera's autoescape uses the Bicep string escape, so no parameter text can leave its
//! string. The output stays inside the Bicep subset that scanners parse (no user-defined types,
//! no imports).

mod expr;

use serde::Serialize;
use tera::Tera;

use super::Artifact;
use super::layout::{Error, Layouts};
use crate::model::{Header, Item, Module, Object, Param, Resource, Template, Value};
pub(super) use expr::escape;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "main.bicep",
        include_str!("../../../templates/main.bicep.tera"),
    ),
    (
        "main.bicepparam",
        include_str!("../../../templates/bicepparam.tera"),
    ),
];

/// The Bicep layouts, escaped by [`escape`].
pub(super) static LAYOUTS: Layouts = Layouts::new(|| {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".bicep", ".bicepparam"]);
    tera.set_escape_fn(escape);
    tera.add_raw_templates(TEMPLATES.iter().copied())?;
    Ok(tera)
});

/// Renders the layout `name` with `view`, a JSON object (taken whole: nothing is copied).
fn render(name: &str, view: serde_json::Value) -> Result<String, Error> {
    LAYOUTS.render(name, view)
}

/// A resource declaration with its comment.
fn resource_block(resource: &Resource) -> String {
    let mut out = format!(
        "// {}\nresource {} '{}'{} = {{\n",
        resource.comment,
        resource.symbol,
        resource.kind.bicep_type(),
        if resource.existing { " existing" } else { "" }
    );
    for s in &resource.suppressions {
        out.push_str(&format!("  // checkov:skip={}: {}\n", s.check, s.reason));
    }
    if let Some(parent) = &resource.parent {
        out.push_str(&format!("  parent: {parent}\n"));
    }
    out.push_str("  name: ");
    expr::write_value(&mut out, &resource.name, 2);
    out.push('\n');
    if let Some(scope) = &resource.scope {
        out.push_str(&format!("  scope: {scope}\n"));
    }
    depends_on(&mut out, &resource.after);
    expr::write_entries(&mut out, &resource.body, 2);
    out.push('}');
    out
}

/// `dependsOn: [...]` for what a declaration waits for without referring to it; nothing when
/// there is no such thing (Bicep infers the rest from references).
fn depends_on(out: &mut String, symbols: &[String]) {
    if symbols.is_empty() {
        return;
    }
    out.push_str("  dependsOn: [\n");
    for symbol in symbols {
        out.push_str(&format!("    {symbol}\n"));
    }
    out.push_str("  ]\n");
}

/// A module declaration with its comment.
fn module_block(module: &Module) -> String {
    let mut out = format!(
        "// {}\nmodule {} '{}' = {{\n  name: {}\n  scope: resourceGroup({})\n",
        module.comment,
        module.symbol,
        module.file,
        expr::value(&Value::from(&module.name), 2),
        expr::value(&Value::from(&module.resource_group), 2),
    );
    depends_on(&mut out, &module.after);
    out.push_str("  params: ");
    expr::write_value(&mut out, &Value::Object(Object(module.inputs.clone())), 2);
    out.push_str("\n}");
    out
}

#[derive(Serialize)]
struct ParamView<'a> {
    name: &'a str,
    description: &'a str,
    secure: bool,
    allowed: &'a [String],
    /// Printed as Bicep: a quoted literal or an expression.
    default: Option<String>,
}

/// One Bicep file: the header, the parameters, then every declaration.
fn file(header: &Header, version: &str, template: &Template) -> Result<String, Error> {
    let parameters: Vec<ParamView> = template
        .parameters
        .iter()
        .map(|p: &Param| ParamView {
            name: &p.name,
            description: &p.description,
            secure: p.secure,
            allowed: &p.allowed,
            default: p.default.as_ref().map(|v| expr::value(v, 0)),
        })
        .collect();
    let blocks: Vec<String> = template
        .items
        .iter()
        .map(|item| match item {
            Item::Resource(r) => resource_block(r),
            Item::Module(m) => module_block(m),
        })
        .collect();
    let outputs: Vec<serde_json::Value> = template
        .outputs
        .iter()
        .map(|o| serde_json::json!({"name": o.name, "description": o.description, "value": expr::expr(&o.value)}))
        .collect();
    let mut view = serde_json::json!({
        "version": version, "name": header.spec, "profile": header.profile,
        "parameters": parameters, "outputs": outputs,
    });
    // The blocks are most of the file: moved in, not copied as `json!` would.
    view["blocks"] = serde_json::Value::from(blocks);
    render("main.bicep", view)
}

/// A resource's name as Bicep writes it, a child's after its parent's: for listings.
pub(super) fn name_text(template: &Template, resource: &Resource) -> String {
    let own = match &resource.name {
        Value::Str(name) => name.clone(),
        other => expr::value(other, 0),
    };
    match resource.parent.as_ref().and_then(|p| template.resource(p)) {
        Some(parent) => format!("{}/{own}", name_text(template, parent)),
        None => own,
    }
}

/// Renders the Bicep files of the model `template`, with its `header`.
pub(super) fn artifacts(
    header: &Header,
    template: &Template,
    version: &str,
) -> Result<Vec<Artifact>, Error> {
    let mut out = vec![Artifact::new(
        "main.bicep",
        file(header, version, template)?,
    )];
    for module in template.modules() {
        out.push(Artifact::new(
            module.file,
            file(header, version, &module.template)?,
        ));
    }
    out.push(Artifact::new(
        "main.bicepparam",
        bicepparam(&template.parameters, version)?,
    ));
    Ok(out)
}

fn bicepparam(parameters: &[Param], version: &str) -> Result<String, Error> {
    let parameters: Vec<serde_json::Value> = parameters
        .iter()
        .filter(|p| p.value.is_some() || p.env.is_some())
        .map(|p| serde_json::json!({"name": p.name, "value": p.value, "env": p.env}))
        .collect();
    render(
        "main.bicepparam",
        serde_json::json!({"version": version, "parameters": parameters}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        assert!(LAYOUTS.engine().is_ok(), "{:?}", LAYOUTS.engine().err());
    }
}
