//! ARM's spelling of the model's expressions: `[resourceId(...)]`, `[parameters('x')]`,
//! `[format('...{0}', ...)]`. References resolve in one template, by symbol.
//!
//! This and `emit::bicep::expr` are the two places that can disagree on what a reference means;
//! the integration tests evaluate both over the rendered examples and compare.

use crate::azure::resource::{RESOURCE_GROUP_TYPE, ROLE_DEFINITION_TYPE, SUBNET_TYPE};
use crate::model::{Expr, Part, Resource, Step, Template, Value};

/// Prints expressions whose references resolve in `template`.
#[derive(Debug)]
pub(super) struct Printer<'a> {
    template: &'a Template,
}

/// Appends a string literal inside an expression: single-quoted, quotes doubled.
fn push_quoted(out: &mut String, text: &str) {
    out.push('\'');
    for (i, piece) in text.split('\'').enumerate() {
        if i > 0 {
            out.push_str("''");
        }
        out.push_str(piece);
    }
    out.push('\'');
}

impl<'a> Printer<'a> {
    pub(super) fn new(template: &'a Template) -> Self {
        Printer { template }
    }

    pub(super) fn template(&self) -> &'a Template {
        self.template
    }

    /// `"[...]"`: the whole JSON string value of `expr`.
    pub(super) fn value(&self, expr: &Expr) -> String {
        let mut out = String::from("[");
        self.write(&mut out, expr);
        out.push(']');
        out
    }

    /// A resource's name as ARM writes it: a child's is `parent/child`.
    pub(super) fn full_name(&self, resource: &Resource) -> Value {
        let parent = resource
            .parent
            .as_ref()
            .and_then(|p| self.template.resource(p));
        match (parent, &resource.name) {
            (None, name) => name.clone(),
            (Some(parent), Value::Str(child)) => match &parent.name {
                Value::Str(parent) => Value::Str(format!("{parent}/{child}")),
                _ => Value::Expr(Expr::Interpolate(vec![
                    Part::Expr(Expr::Name(parent.symbol.clone())),
                    Part::Text(format!("/{child}")),
                ])),
            },
            (Some(parent), _) => Value::Expr(Expr::Interpolate(vec![
                Part::Expr(Expr::Name(parent.symbol.clone())),
                Part::Text("/".into()),
                Part::Expr(Expr::Name(resource.symbol.clone())),
            ])),
        }
    }

    fn resource(&self, symbol: &str) -> Option<&'a Resource> {
        self.template.resource(symbol)
    }

    /// Appends the expression without its brackets.
    fn write(&self, out: &mut String, expr: &Expr) {
        match expr {
            Expr::Param(name) => self.call(out, "parameters", &[Arg::Quoted(name)]),
            Expr::Str(text) => push_quoted(out, text),
            Expr::Id(symbol) => self.id(out, symbol),
            Expr::Name(symbol) => self.name(out, symbol),
            Expr::Property(symbol, steps) | Expr::ListKeys(symbol, steps) => {
                let function = match expr {
                    Expr::Property(..) => "reference",
                    _ => "listKeys",
                };
                let version = self.api_version(symbol);
                self.call(out, function, &[Arg::Id(symbol), Arg::Quoted(version)]);
                out.push_str(&Step::path(steps));
            }
            Expr::SubnetId { vnet, subnet } => self.call(
                out,
                "resourceId",
                &[
                    Arg::Quoted(SUBNET_TYPE),
                    Arg::Name(vnet),
                    Arg::Quoted(subnet),
                ],
            ),
            Expr::ModuleOutput { module, output } => self.module_output(out, module, output),
            Expr::ResourceGroupIdOf(group) => self.call(
                out,
                "subscriptionResourceId",
                &[Arg::Quoted(RESOURCE_GROUP_TYPE), Arg::Quoted(group)],
            ),
            Expr::ResourceGroupId
            | Expr::ResourceGroupName
            | Expr::ResourceGroupLocation
            | Expr::StorageSuffix
            | Expr::TenantId => out.push_str(expr.builtin().unwrap_or_default()),
            Expr::ResourceIdIn { .. } => {
                let args: Vec<Arg<'_>> = expr
                    .resource_id_args()
                    .into_iter()
                    .map(Arg::Quoted)
                    .collect();
                self.call(out, "resourceId", &args);
            }
            Expr::PrincipalId(symbol) => {
                let version = self.api_version(symbol);
                self.call(
                    out,
                    "reference",
                    &[Arg::Id(symbol), Arg::Quoted(version), Arg::Quoted("full")],
                );
                out.push_str(".identity.principalId");
            }
            Expr::RoleDefinitionId(role) => self.call(
                out,
                "subscriptionResourceId",
                &[Arg::Quoted(ROLE_DEFINITION_TYPE), Arg::Quoted(role)],
            ),
            Expr::Guid(args) => {
                self.call(out, "guid", &args.iter().map(Arg::Expr).collect::<Vec<_>>())
            }
            Expr::UniqueString(args) => {
                self.call(
                    out,
                    "uniqueString",
                    &args.iter().map(Arg::Expr).collect::<Vec<_>>(),
                );
            }
            Expr::Interpolate(parts) => self.format(out, parts),
        }
    }

    /// Appends `function(arg, ...)`.
    fn call(&self, out: &mut String, function: &str, args: &[Arg<'_>]) {
        out.push_str(function);
        out.push('(');
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match arg {
                Arg::Quoted(text) => push_quoted(out, text),
                Arg::Id(symbol) => self.id(out, symbol),
                Arg::Name(symbol) => self.name(out, symbol),
                Arg::Expr(expr) => self.write(out, expr),
            }
        }
        out.push(')');
    }

    /// `reference(resourceId('<group>', 'Microsoft.Resources/deployments', '<name>'), ...)`,
    /// then the output's value.
    fn module_output(&self, out: &mut String, symbol: &str, output: &str) {
        let kind = crate::azure::resource::ResourceKind::Deployment;
        let (group, name) = self
            .template
            .modules()
            .find(|m| m.symbol == symbol)
            .map_or(("", symbol), |m| {
                (m.resource_group.as_str(), m.name.as_str())
            });
        out.push_str("reference(");
        self.call(
            out,
            "resourceId",
            &[
                Arg::Quoted(group),
                Arg::Quoted(kind.arm_type()),
                Arg::Quoted(name),
            ],
        );
        out.push_str(", ");
        push_quoted(out, kind.api_version());
        out.push_str(").outputs.");
        out.push_str(output);
        out.push_str(".value");
    }

    fn api_version(&self, symbol: &str) -> &'static str {
        self.resource(symbol).map_or("", |r| r.kind.api_version())
    }

    /// Appends `resourceId('type', 'parent', 'name')`.
    fn id(&self, out: &mut String, symbol: &str) {
        let Some(resource) = self.resource(symbol) else {
            return self.call(out, "resourceId", &[Arg::Quoted(symbol)]);
        };
        let kind = Arg::Quoted(resource.kind.arm_type());
        match &resource.parent {
            Some(parent) => self.call(
                out,
                "resourceId",
                &[kind, Arg::Name(parent), Arg::Name(symbol)],
            ),
            None => self.call(out, "resourceId", &[kind, Arg::Name(symbol)]),
        }
    }

    /// Appends a resource's own name, as an expression.
    fn name(&self, out: &mut String, symbol: &str) {
        match self.resource(symbol).map(|r| &r.name) {
            Some(Value::Str(name)) => push_quoted(out, name),
            Some(Value::Expr(e)) => self.write(out, e),
            _ => push_quoted(out, symbol),
        }
    }

    /// Appends text with expressions spliced in, as `format()`; names that are themselves
    /// interpolated are spliced into the one format string. A lone expression is printed as it
    /// is.
    fn format(&self, out: &mut String, parts: &[Part]) {
        let parts = self.flatten(parts);
        if let [Part::Expr(e)] = parts.as_slice() {
            return self.write(out, e);
        }
        let mut pattern = String::new();
        let mut args = Vec::new();
        for part in &parts {
            match part {
                Part::Text(text) => pattern.push_str(&text.replace('{', "{{").replace('}', "}}")),
                Part::Expr(e) => {
                    pattern.push_str(&format!("{{{}}}", args.len()));
                    args.push(Arg::Expr(e));
                }
            }
        }
        args.insert(0, Arg::Quoted(&pattern));
        self.call(out, "format", &args);
    }

    /// The parts with every `Name` of a resource whose name is literal or interpolated replaced
    /// by that name's parts.
    fn flatten(&self, parts: &[Part]) -> Vec<Part> {
        let mut out = Vec::new();
        for part in parts {
            match part {
                Part::Expr(Expr::Name(symbol)) => match self.resource(symbol).map(|r| &r.name) {
                    Some(Value::Str(name)) => out.push(Part::Text(name.clone())),
                    Some(Value::Expr(Expr::Interpolate(inner))) => out.extend(self.flatten(inner)),
                    _ => out.push(part.clone()),
                },
                Part::Expr(Expr::Interpolate(inner)) => out.extend(self.flatten(inner)),
                other => out.push(other.clone()),
            }
        }
        out
    }
}

/// An argument of a function call in an expression.
enum Arg<'a> {
    Quoted(&'a str),
    /// A resource's id, by symbol.
    Id(&'a str),
    /// A resource's name, by symbol.
    Name(&'a str),
    Expr(&'a Expr),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::resource::ResourceKind;
    use crate::model::{Item, Resource};

    fn template() -> Template {
        let storage = Resource::new(
            ResourceKind::StorageAccount,
            "st".into(),
            Expr::prefixed("st", Expr::UniqueString(vec![Expr::ResourceGroupId])),
            String::new(),
        );
        let vnet = Resource::new(
            ResourceKind::VirtualNetwork,
            "vnet".into(),
            "vnet-a",
            String::new(),
        );
        Template {
            parameters: Vec::new(),
            items: vec![Item::Resource(storage), Item::Resource(vnet)],
            outputs: Vec::new(),
        }
    }

    #[test]
    fn references_resolve_to_resource_ids() {
        let template = template();
        let printer = Printer::new(&template);
        assert_eq!(
            printer.value(&Expr::SubnetId {
                vnet: "vnet".into(),
                subnet: "it's".into()
            }),
            "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet-a', 'it''s')]"
        );
        assert_eq!(
            printer.value(&Expr::ListKeys(
                "st".into(),
                vec![Step::Key("keys"), Step::Index(0)]
            )),
            "[listKeys(resourceId('Microsoft.Storage/storageAccounts', format('st{0}', uniqueString(resourceGroup().id))), '2025-01-01').keys[0]]"
        );
    }

    #[test]
    fn interpolation_becomes_one_format_with_braces_escaped() {
        let template = template();
        let printer = Printer::new(&template);
        let host = Expr::Interpolate(vec![
            Part::Expr(Expr::Name("st".into())),
            Part::Text(".{blob}.".into()),
            Part::Expr(Expr::StorageSuffix),
        ]);
        assert_eq!(
            printer.value(&host),
            "[format('st{0}.{{blob}}.{1}', uniqueString(resourceGroup().id), environment().suffixes.storage)]"
        );
        assert_eq!(
            printer.value(&Expr::Interpolate(vec![Part::Expr(Expr::Param(
                "p".into()
            ))])),
            "[parameters('p')]"
        );
    }
}
