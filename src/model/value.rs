//! The values of the resource model: literals, ordered objects, lists, and the typed
//! expressions ARM evaluates at deployment.
//!
//! An expression says what it refers to (a parameter, a resource by symbol, a subnet of a VNet),
//! not how a format spells it; `emit::arm` and `emit::bicep` each print it in their syntax.

use std::collections::BTreeSet;

/// A value in a resource body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    Object(Object),
    Array(Vec<Value>),
    Expr(Expr),
}

/// An object whose keys keep the order they were added in.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Object(pub Vec<(String, Value)>);

/// A value computed at deployment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// A template parameter.
    Param(String),
    /// A string literal, as an argument of a function.
    Str(String),
    /// The resource ID of the resource with this symbol.
    Id(String),
    /// The name of the resource with this symbol.
    Name(String),
    /// A runtime property of the resource with this symbol: `properties` then `path`.
    Property(String, Vec<Step>),
    /// The keys of the storage account with this symbol (`listKeys`), then `path`.
    ListKeys(String, Vec<Step>),
    /// The resource ID of subnet `subnet` of the VNet with symbol `vnet`.
    SubnetId { vnet: String, subnet: String },
    /// Output `output` of the module with symbol `module`.
    ModuleOutput { module: String, output: String },
    /// The ID of a resource group of the deployment's subscription.
    ResourceGroupIdOf(String),
    /// `resourceGroup().id`.
    ResourceGroupId,
    /// `resourceGroup().name`.
    ResourceGroupName,
    /// `resourceGroup().location`.
    ResourceGroupLocation,
    /// The storage endpoint suffix of the cloud deployed to (`core.windows.net` in Azure).
    StorageSuffix,
    /// A GUID derived from the arguments.
    Guid(Vec<Expr>),
    /// A 13-character hash of the arguments.
    UniqueString(Vec<Expr>),
    /// `tenant().tenantId`: the directory the deployment runs in.
    TenantId,
    /// The ID of a resource this template does not declare, from parts checked to be plain
    /// names: `subscription` and `group` default to the deployment's.
    ResourceIdIn {
        subscription: Option<String>,
        group: Option<String>,
        kind: &'static str,
        name: String,
    },
    /// The principal ID of the system-assigned identity of the resource with this symbol.
    PrincipalId(String),
    /// The ID of the built-in role definition with this GUID.
    RoleDefinitionId(&'static str),
    /// Text with expressions spliced in.
    Interpolate(Vec<Part>),
}

/// A step of a property path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Key(&'static str),
    Index(usize),
}

impl Step {
    /// `.key` and `[index]` steps, as both ARM and Bicep write a property path.
    pub(crate) fn path(steps: &[Step]) -> String {
        steps
            .iter()
            .map(|step| match step {
                Step::Key(key) => format!(".{key}"),
                Step::Index(i) => format!("[{i}]"),
            })
            .collect()
    }
}

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Text(String),
    Expr(Expr),
}

impl Object {
    pub(crate) fn new() -> Self {
        Object(Vec::new())
    }

    /// Adds `key: value`.
    pub(crate) fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.push((key.into(), value.into()));
        self
    }

    /// Adds `key: value` when there is a value.
    pub(crate) fn with_some(self, key: impl Into<String>, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    /// Adds `key: value` unless the list is empty.
    pub(crate) fn with_nonempty(self, key: impl Into<String>, values: Vec<Value>) -> Self {
        if values.is_empty() {
            self
        } else {
            self.with(key, Value::Array(values))
        }
    }

    /// The value of `key`.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl Value {
    /// `{"id": <expr>}`: how Azure refers to another resource.
    pub(crate) fn id(expr: Expr) -> Value {
        Value::Object(Object::new().with("id", expr))
    }

    /// Adds the symbols of the resources this value refers to.
    pub(crate) fn symbols<'a>(&'a self, out: &mut BTreeSet<&'a str>) {
        match self {
            Value::Object(object) => object.0.iter().for_each(|(_, v)| v.symbols(out)),
            Value::Array(items) => items.iter().for_each(|v| v.symbols(out)),
            Value::Expr(expr) => expr.symbols(out),
            Value::Str(_) | Value::Int(_) | Value::Bool(_) => {}
        }
    }
}

impl Expr {
    /// Adds the symbols of the resources this expression refers to.
    pub(crate) fn symbols<'a>(&'a self, out: &mut BTreeSet<&'a str>) {
        match self {
            Expr::Id(s)
            | Expr::Name(s)
            | Expr::Property(s, _)
            | Expr::ListKeys(s, _)
            | Expr::PrincipalId(s) => {
                out.insert(s);
            }
            Expr::SubnetId { vnet, .. } => {
                out.insert(vnet);
            }
            Expr::Guid(args) | Expr::UniqueString(args) => {
                args.iter().for_each(|a| a.symbols(out));
            }
            Expr::Interpolate(parts) => {
                for part in parts {
                    if let Part::Expr(e) = part {
                        e.symbols(out);
                    }
                }
            }
            Expr::Param(_)
            | Expr::Str(_)
            | Expr::ModuleOutput { .. }
            | Expr::ResourceGroupIdOf(_)
            | Expr::ResourceGroupId
            | Expr::ResourceGroupName
            | Expr::ResourceGroupLocation
            | Expr::StorageSuffix
            | Expr::TenantId
            | Expr::ResourceIdIn { .. }
            | Expr::RoleDefinitionId(_) => {}
        }
    }

    /// The deployment functions ARM and Bicep spell alike (`resourceGroup().id`,
    /// `environment().suffixes.storage`); `None` for every other expression.
    pub(crate) fn builtin(&self) -> Option<&'static str> {
        match self {
            Expr::ResourceGroupId => Some("resourceGroup().id"),
            Expr::ResourceGroupName => Some("resourceGroup().name"),
            Expr::ResourceGroupLocation => Some("resourceGroup().location"),
            Expr::StorageSuffix => Some("environment().suffixes.storage"),
            Expr::TenantId => Some("tenant().tenantId"),
            _ => None,
        }
    }

    /// The arguments of `resourceId(...)` for [`Expr::ResourceIdIn`], in order.
    pub(crate) fn resource_id_args(&self) -> Vec<&str> {
        match self {
            Expr::ResourceIdIn {
                subscription,
                group,
                kind,
                name,
            } => subscription
                .iter()
                .chain(group)
                .map(String::as_str)
                .chain([*kind, name.as_str()])
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `text` followed by `expr`, as one string: `'st${uniqueString(...)}'`.
    pub(crate) fn prefixed(text: impl Into<String>, expr: Expr) -> Expr {
        Expr::Interpolate(vec![Part::Text(text.into()), Part::Expr(expr)])
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Str(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Str(text)
    }
}

impl From<&String> for Value {
    fn from(text: &String) -> Self {
        Value::Str(text.clone())
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Value::Bool(flag)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(n.into())
    }
}

impl From<u16> for Value {
    fn from(n: u16) -> Self {
        Value::Int(n.into())
    }
}

impl From<Expr> for Value {
    fn from(expr: Expr) -> Self {
        Value::Expr(expr)
    }
}

impl From<Object> for Value {
    fn from(object: Object) -> Self {
        Value::Object(object)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_found_wherever_a_value_refers_to_a_resource() {
        let value = Value::from(
            Object::new()
                .with("a", Expr::Id("nic".into()))
                .with(
                    "b",
                    vec![Value::from(Expr::SubnetId {
                        vnet: "vnet".into(),
                        subnet: "s".into(),
                    })],
                )
                .with(
                    "c",
                    Expr::prefixed("st", Expr::UniqueString(vec![Expr::Name("hdi".into())])),
                )
                .with("d", Expr::Param("location".into())),
        );
        let mut symbols = BTreeSet::new();
        value.symbols(&mut symbols);
        assert_eq!(
            symbols.into_iter().collect::<Vec<_>>(),
            ["hdi", "nic", "vnet"]
        );
    }
}
