//! ARM's spelling of the model's expressions: `[resourceId(...)]`, `[parameters('x')]`,
//! `[format('...{0}', ...)]`. References resolve in one template, by symbol.
//!
//! This and `emit::bicep::expr` are the two places that can disagree on what a reference means;
//! the integration tests evaluate both over the rendered examples and compare.

use crate::model::{Expr, Part, Resource, Step, Template, Value};

/// Prints expressions whose references resolve in `template`.
#[derive(Debug)]
pub(super) struct Printer<'a> {
    template: &'a Template,
}

/// A string literal inside an expression: single-quoted, quotes doubled.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
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
        format!("[{}]", self.expr(expr))
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

    /// The expression without its brackets.
    fn expr(&self, expr: &Expr) -> String {
        match expr {
            Expr::Param(name) => format!("parameters({})", quoted(name)),
            Expr::Str(text) => quoted(text),
            Expr::Id(symbol) => self.id(symbol),
            Expr::Name(symbol) => self.name(symbol),
            Expr::Property(symbol, steps) => format!(
                "reference({}, {}){}",
                self.id(symbol),
                quoted(self.api_version(symbol)),
                Step::path(steps)
            ),
            Expr::ListKeys(symbol, steps) => format!(
                "listKeys({}, {}){}",
                self.id(symbol),
                quoted(self.api_version(symbol)),
                Step::path(steps)
            ),
            Expr::SubnetId { vnet, subnet } => format!(
                "resourceId('Microsoft.Network/virtualNetworks/subnets', {}, {})",
                self.name(vnet),
                quoted(subnet)
            ),
            Expr::ModuleOutput { module, output } => self.module_output(module, output),
            Expr::ResourceGroupIdOf(group) => format!(
                "subscriptionResourceId('Microsoft.Resources/resourceGroups', {})",
                quoted(group)
            ),
            Expr::ResourceGroupId
            | Expr::ResourceGroupName
            | Expr::ResourceGroupLocation
            | Expr::StorageSuffix => expr.builtin().unwrap_or_default().to_string(),
            Expr::Guid(args) => format!("guid({})", self.args(args)),
            Expr::UniqueString(args) => format!("uniqueString({})", self.args(args)),
            Expr::Interpolate(parts) => self.format(parts),
        }
    }

    /// `reference(resourceId('<group>', 'Microsoft.Resources/deployments', '<name>'), ...)`,
    /// then the output's value.
    fn module_output(&self, symbol: &str, output: &str) -> String {
        let kind = crate::azure::resource::ResourceKind::Deployment;
        let (group, name) = self
            .template
            .modules()
            .find(|m| m.symbol == symbol)
            .map_or(("", symbol), |m| {
                (m.resource_group.as_str(), m.name.as_str())
            });
        format!(
            "reference(resourceId({}, {}, {}), {}).outputs.{output}.value",
            quoted(group),
            quoted(kind.arm_type()),
            quoted(name),
            quoted(kind.api_version())
        )
    }

    fn args(&self, args: &[Expr]) -> String {
        args.iter()
            .map(|a| self.expr(a))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn api_version(&self, symbol: &str) -> &'static str {
        self.resource(symbol).map_or("", |r| r.kind.api_version())
    }

    /// `resourceId('type', 'parent', 'name')`.
    fn id(&self, symbol: &str) -> String {
        let Some(resource) = self.resource(symbol) else {
            return format!("resourceId({})", quoted(symbol));
        };
        let mut args = vec![quoted(resource.kind.arm_type())];
        if let Some(parent) = &resource.parent {
            args.push(self.name(parent));
        }
        args.push(self.name(symbol));
        format!("resourceId({})", args.join(", "))
    }

    /// A resource's own name, as an expression.
    fn name(&self, symbol: &str) -> String {
        match self.resource(symbol).map(|r| &r.name) {
            Some(Value::Str(name)) => quoted(name),
            Some(Value::Expr(e)) => self.expr(e),
            _ => quoted(symbol),
        }
    }

    /// Text with expressions spliced in, as `format()`; names that are themselves interpolated
    /// are spliced into the one format string. A lone expression is printed as it is.
    fn format(&self, parts: &[Part]) -> String {
        let parts = self.flatten(parts);
        if let [Part::Expr(e)] = parts.as_slice() {
            return self.expr(e);
        }
        let mut pattern = String::new();
        let mut args = Vec::new();
        for part in &parts {
            match part {
                Part::Text(text) => pattern.push_str(&text.replace('{', "{{").replace('}', "}}")),
                Part::Expr(e) => {
                    pattern.push_str(&format!("{{{}}}", args.len()));
                    args.push(self.expr(e));
                }
            }
        }
        let mut call = format!("format({}", quoted(&pattern));
        for arg in args {
            call.push_str(", ");
            call.push_str(&arg);
        }
        call.push(')');
        call
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
