//! The resource model: one typed tree of everything a spec deploys, printed as ARM JSON and as
//! Bicep by `emit`.
//!
//! Builders (`resources`) write each Azure property once, here; the two printers only decide
//! syntax. A resource has its type and API version (from the one table in `azure::resource`), a
//! symbol, a name, an optional parent and scope, a comment and a body of values. Values that ARM
//! computes at deployment are typed expressions (`value::Expr`), never text, so both printers
//! write the same reference. A module (the computes deployed into the workspace's resource
//! group) is a template of its own with its inputs.

mod value;

pub(crate) use value::{Expr, Object, Part, Step, Value};

use std::collections::BTreeSet;

use crate::azure::resource::ResourceKind;

/// What a deployment's files say of themselves beside their resources: the spec they were
/// compiled from, the requirement profile their rules follow, and the spec's network intent,
/// which `amlgen verify` reads back from the ARM template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub spec: String,
    pub profile: &'static str,
    pub intent: crate::plan::Intent,
}

/// One deployment template: `main.bicep` / `azuredeploy.json`, or the computes module.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template {
    pub parameters: Vec<Param>,
    /// Resources and modules, in output order.
    pub items: Vec<Item>,
    /// What the template gives back to a template that uses it as a module.
    pub outputs: Vec<Output>,
}

/// A template output: a string computed at deployment (IDs; never a secret).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Output {
    pub name: String,
    pub description: String,
    pub value: Expr,
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Param {
    pub name: String,
    pub description: String,
    /// `@secure()` / `securestring`; never with a default.
    pub secure: bool,
    /// The value used when the deployment gives none: a literal or an expression.
    pub default: Option<Value>,
    /// The only values accepted; empty when any is.
    pub allowed: Vec<String>,
    /// The value the parameters files give it (the spec's), when the spec has one.
    pub value: Option<String>,
    /// The environment variable `main.bicepparam` reads it from, for a value the spec cannot
    /// hold (a secret).
    pub env: Option<String>,
}

/// What a template declares.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Resource(Resource),
    Module(Module),
}

/// One Azure resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resource {
    pub kind: ResourceKind,
    /// The Bicep symbol; references to the resource use it in both formats.
    pub symbol: String,
    /// The resource's own name (without its parent's).
    pub name: Value,
    /// The symbol of the resource this one is a child of.
    pub parent: Option<String>,
    /// The symbol of the resource an extension resource (a role assignment) applies to.
    pub scope: Option<String>,
    /// Declared to be referred to, not deployed (the existing workspace).
    pub existing: bool,
    /// Symbols of resources this one must wait for although it does not refer to them (a
    /// compute waits for the DNS of the workspace's private endpoint).
    pub after: Vec<String>,
    pub comment: String,
    /// Checks of the scanners teams run (checkov) that do not apply here, each with the reason.
    pub suppressions: Vec<Suppression>,
    /// Everything besides type, name, parent and scope: `location`, `tags`, `sku`, `kind`,
    /// `properties`, in output order.
    pub body: Object,
}

/// A scanner check that a resource deliberately does not meet, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Suppression {
    /// The check's ID, e.g. `CKV_AZURE_50`.
    pub check: &'static str,
    pub reason: String,
}

/// A template deployed into another resource group, with the values passed to its parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Module {
    pub symbol: String,
    /// Symbols of resources the deployment waits for (the private endpoints and their DNS).
    pub after: Vec<String>,
    /// The deployment's name.
    pub name: String,
    /// The Bicep file the module's template is printed to.
    pub file: &'static str,
    pub resource_group: String,
    pub comment: String,
    /// The value of each of `template`'s parameters, in its parameters' order.
    pub inputs: Vec<(String, Value)>,
    pub template: Template,
}

impl Resource {
    /// A resource of `kind` named `name`, with an empty body.
    pub(crate) fn new(
        kind: ResourceKind,
        symbol: String,
        name: impl Into<Value>,
        comment: String,
    ) -> Self {
        Resource {
            kind,
            symbol,
            name: name.into(),
            parent: None,
            scope: None,
            existing: false,
            after: Vec::new(),
            comment,
            suppressions: Vec::new(),
            body: Object::new(),
        }
    }

    /// The same resource with `check` suppressed for `reason`.
    pub(crate) fn suppress(mut self, check: &'static str, reason: impl Into<String>) -> Self {
        self.suppressions.push(Suppression {
            check,
            reason: reason.into(),
        });
        self
    }

    /// The same resource with `body`.
    pub(crate) fn with_body(self, body: Object) -> Self {
        Resource { body, ..self }
    }

    /// The same resource with `key: value` added to its body when there is a value.
    pub(crate) fn with_body_some(mut self, key: &str, value: Option<impl Into<Value>>) -> Self {
        self.body = self.body.with_some(key, value);
        self
    }

    /// The same resource with `key: value` added to its body.
    pub(crate) fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.body = self.body.with(key, value);
        self
    }
}

impl Template {
    /// The resource declared with `symbol`, in this template (not in its modules).
    pub(crate) fn resource(&self, symbol: &str) -> Option<&Resource> {
        self.resources().find(|r| r.symbol == symbol)
    }

    /// The resources of this template, without its modules.
    pub(crate) fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.items.iter().filter_map(|item| match item {
            Item::Resource(r) => Some(r),
            Item::Module(_) => None,
        })
    }

    /// The modules of this template.
    pub(crate) fn modules(&self) -> impl Iterator<Item = &Module> {
        self.items.iter().filter_map(|item| match item {
            Item::Module(m) => Some(m),
            Item::Resource(_) => None,
        })
    }

    /// The resources among `symbols` that this template deploys (not `existing` ones): what ARM
    /// must wait for.
    pub(crate) fn deployed<'a>(&'a self, symbols: &BTreeSet<&str>) -> Vec<&'a Resource> {
        self.resources()
            .filter(|r| !r.existing && symbols.contains(r.symbol.as_str()))
            .collect()
    }
}
