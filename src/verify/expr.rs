//! The subset of ARM's template expression language that network templates use.
//!
//! `verify` reads templates amlgen did not write, so values arrive as `[...]` expressions:
//! `parameters()` (with defaults, or the values a nested deployment passes in), `variables()`,
//! `resourceId()`, `subscriptionResourceId()`, `concat()`, `format()`, `toLower()`, `toUpper()`,
//! `string()`, `resourceGroup()`, `subscription()`, property access and indexing. Anything else
//! (`reference()`, `uniqueString()`, `copyIndex()`, ...) is an [`Unknown`] naming the function:
//! verify reports it instead of guessing a value.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The subscription every resource id is built in; verify works on one deployment.
const SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";

/// How deep expressions, and the parameters and variables they refer to, may nest while being
/// evaluated. Network templates nest a handful of levels; a hostile one nests thousands, which
/// would overflow the stack.
const MAX_DEPTH: usize = 128;

/// The longest string or array an expression may build: ARM templates are at most 4 MB, and a
/// name, prefix or ID is far shorter. `concat()` of a variable with itself 40 times, or
/// `format()` with 200,000 placeholders, stops here instead of exhausting memory.
const MAX_VALUE: usize = 1 << 20;

/// An expression verify cannot evaluate, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unknown(pub(crate) String);

type Eval = Result<Value, Unknown>;

/// The resource group a template is deployed to, as `resourceGroup()` returns it.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) name: String,
    /// Its region, when the user says (`--location`); unknown otherwise.
    pub(crate) location: Option<String>,
}

/// What expressions of one template (or one inner-scoped nested template) can see.
#[derive(Debug)]
pub(crate) struct Scope {
    /// Parameter values passed in (a nested deployment's), which win over defaults.
    given: BTreeMap<String, Result<Value, Unknown>>,
    /// The parameter declarations, whose defaults are evaluated when first used.
    declared: Map<String, Value>,
    variables: Map<String, Value>,
    /// Parameters and variables evaluated so far, keyed `parameters/<name>`, `variables/<name>`.
    resolved: RefCell<BTreeMap<String, Eval>>,
    group: Group,
    /// How deep the evaluation under way nests.
    depth: Cell<usize>,
}

impl Scope {
    /// The scope of `template`, deployed to `group`, with the parameter values `given`.
    pub(crate) fn new(
        template: &Value,
        group: Group,
        given: BTreeMap<String, Result<Value, Unknown>>,
    ) -> Scope {
        Scope {
            given,
            declared: lowercase_keys(template.get("parameters")),
            variables: lowercase_keys(template.get("variables")),
            resolved: RefCell::new(BTreeMap::new()),
            group,
            depth: Cell::new(0),
        }
    }

    /// Runs `evaluate` one level deeper, or refuses past [`MAX_DEPTH`].
    fn nested(&self, evaluate: impl FnOnce() -> Eval) -> Eval {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return Err(Unknown(format!(
                "expressions, parameters and variables nest more than {MAX_DEPTH} levels deep"
            )));
        }
        self.depth.set(depth + 1);
        let value = evaluate();
        self.depth.set(depth);
        value
    }

    /// The same scope deployed to another resource group (a nested deployment in outer scope).
    pub(crate) fn in_resource_group(&self, name: &str) -> Scope {
        Scope {
            given: self.given.clone(),
            declared: self.declared.clone(),
            variables: self.variables.clone(),
            resolved: RefCell::new(BTreeMap::new()),
            group: Group {
                name: name.to_string(),
                location: self.group.location.clone(),
            },
            depth: Cell::new(self.depth.get()),
        }
    }

    pub(crate) fn group(&self) -> &Group {
        &self.group
    }

    /// Evaluates every expression inside `value`, deeply.
    pub(crate) fn value(&self, value: &Value) -> Eval {
        match value {
            Value::String(text) => self.string_value(text),
            Value::Array(items) => items.iter().map(|v| self.value(v)).collect(),
            Value::Object(members) => members
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.value(v)?)))
                .collect::<Result<Map<_, _>, _>>()
                .map(Value::Object),
            other => Ok(other.clone()),
        }
    }

    /// A string value: an expression when it is `[...]` (and not `[[...`), else itself.
    pub(crate) fn string_value(&self, text: &str) -> Eval {
        if let Some(literal) = text.strip_prefix("[[") {
            return Ok(Value::String(format!("[{literal}")));
        }
        match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(expression) => {
                let mut parser = Parser {
                    text: expression,
                    at: 0,
                    scope: self,
                };
                let value = parser.expression()?;
                parser.skip_spaces();
                if parser.at != expression.len() {
                    return Err(Unknown(format!("cannot parse expression `{text}`")));
                }
                Ok(value)
            }
            None => Ok(Value::String(text.to_string())),
        }
    }

    /// `value` evaluated to a string.
    pub(crate) fn string(&self, value: &Value) -> Result<String, Unknown> {
        match self.value(value)? {
            Value::String(s) => Ok(s),
            other => Err(Unknown(format!("expected a string, found {other}"))),
        }
    }

    fn parameter(&self, name: &str) -> Eval {
        let key = name.to_lowercase();
        if let Some(value) = self.given.get(&key) {
            return value.clone();
        }
        let Some(declaration) = self.declared.get(&key) else {
            return Err(Unknown(format!("parameter `{name}` is not declared")));
        };
        // A parameter that allows one value can only ever be deployed with it.
        let only_allowed = || match declaration.get("allowedValues") {
            Some(Value::Array(values)) if values.len() == 1 => Some(values[0].clone()),
            _ => None,
        };
        match declaration.get("defaultValue") {
            Some(default) => self
                .resolve(&format!("parameters/{key}"), default)
                .or_else(|e| only_allowed().ok_or(e)),
            None => only_allowed().ok_or_else(|| {
                Unknown(format!(
                    "parameter `{name}` has no default value and none is passed in"
                ))
            }),
        }
    }

    fn variable(&self, name: &str) -> Eval {
        let key = name.to_lowercase();
        match self.variables.get(&key) {
            Some(raw) => self.resolve(&format!("variables/{key}"), raw),
            None => Err(Unknown(format!("variable `{name}` is not declared"))),
        }
    }

    /// `raw` evaluated once, as the value named `key`. A value that refers to itself resolves
    /// to an error instead of recursing forever.
    fn resolve(&self, key: &str, raw: &Value) -> Eval {
        if let Some(done) = self.resolved.borrow().get(key) {
            return done.clone();
        }
        self.resolved.borrow_mut().insert(
            key.to_string(),
            Err(Unknown(format!("`{key}` refers to itself"))),
        );
        let value = self.nested(|| self.value(raw));
        self.resolved
            .borrow_mut()
            .insert(key.to_string(), value.clone());
        value
    }

    fn call(&self, function: &str, args: Vec<Value>) -> Eval {
        let text = |i: usize| -> Result<String, Unknown> {
            match args.get(i) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(Value::Bool(b)) => Ok(b.to_string()),
                _ => Err(Unknown(format!(
                    "`{function}()` needs a string argument {i}"
                ))),
            }
        };
        match function.to_lowercase().as_str() {
            "parameters" => self.parameter(&text(0)?),
            "variables" => self.variable(&text(0)?),
            "resourceid" => resource_id(&args, Some(&self.group.name)),
            "subscriptionresourceid" => resource_id(&args, None),
            "concat" => concat(args),
            "format" => {
                let pattern = text(0)?;
                let values = (1..args.len()).map(text).collect::<Result<Vec<_>, _>>()?;
                format_pattern(&pattern, &values).map(Value::String)
            }
            "tolower" => Ok(Value::String(text(0)?.to_lowercase())),
            "toupper" => Ok(Value::String(text(0)?.to_uppercase())),
            "string" => Ok(Value::String(text(0)?)),
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            "resourcegroup" => {
                let mut group = serde_json::json!({
                    "id": format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{}", self.group.name),
                    "name": self.group.name,
                });
                if let Some(location) = &self.group.location {
                    group["location"] = Value::String(location.clone());
                }
                Ok(group)
            }
            "subscription" => Ok(serde_json::json!({
                "id": format!("/subscriptions/{SUBSCRIPTION}"),
                "subscriptionId": SUBSCRIPTION,
            })),
            _ => Err(Unknown(format!(
                "`{function}()` is evaluated at deployment time; verify does not guess its value"
            ))),
        }
    }
}

fn missing_property(name: &str, value: &Value) -> String {
    if name.eq_ignore_ascii_case("location") {
        return "the resource group's location is known at deployment time: pass --location".into();
    }
    format!("no property `{name}` in {value}")
}

fn lowercase_keys(value: Option<&Value>) -> Map<String, Value> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_lowercase(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// `resourceId([subscriptionId], [resourceGroupName], type, name1, name2...)`; `group` is `None`
/// for `subscriptionResourceId`.
fn resource_id(args: &[Value], group: Option<&str>) -> Eval {
    let args: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
    let Some(type_at) = args.iter().position(|a| a.contains('/')) else {
        return Err(Unknown("`resourceId()` without a resource type".into()));
    };
    let (scope, rest) = args.split_at(type_at);
    let (subscription, group) = match (scope, group) {
        ([s, g], Some(_)) => (*s, Some(*g)),
        ([g], Some(_)) => (SUBSCRIPTION, Some(*g)),
        ([s], None) => (*s, None),
        ([], g) => (SUBSCRIPTION, g),
        _ => {
            return Err(Unknown(
                "`resourceId()` with too many scope arguments".into(),
            ));
        }
    };
    let mut segments = rest[0].split('/');
    let namespace = segments.next().unwrap_or_default();
    let types: Vec<&str> = segments.collect();
    let names = &rest[1..];
    if types.len() != names.len() {
        return Err(Unknown(format!(
            "`resourceId()` of `{}` needs {} names, has {}",
            rest[0],
            types.len(),
            names.len()
        )));
    }
    let mut id = format!("/subscriptions/{subscription}");
    if let Some(group) = group {
        id.push_str(&format!("/resourceGroups/{group}"));
    }
    id.push_str(&format!("/providers/{namespace}"));
    for (t, n) in types.iter().zip(names) {
        id.push_str(&format!("/{t}/{n}"));
    }
    Ok(Value::String(id))
}

/// The error of a value longer than [`MAX_VALUE`].
fn too_long(function: &str) -> Unknown {
    Unknown(format!(
        "`{function}()` builds a value longer than {MAX_VALUE} characters or items"
    ))
}

fn concat(args: Vec<Value>) -> Eval {
    if args.iter().all(Value::is_array) {
        let mut items = Vec::new();
        for arg in args {
            if let Value::Array(more) = arg {
                if items.len() + more.len() > MAX_VALUE {
                    return Err(too_long("concat"));
                }
                items.extend(more);
            }
        }
        return Ok(Value::Array(items));
    }
    let mut out = String::new();
    for arg in args {
        let text = match arg {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            other => return Err(Unknown(format!("`concat()` of {other}"))),
        };
        if out.len() + text.len() > MAX_VALUE {
            return Err(too_long("concat"));
        }
        out.push_str(&text);
    }
    Ok(Value::String(out))
}

/// `format()`'s `{0}`, `{1}`... placeholders; `{{` and `}}` are braces. One pass, within
/// [`MAX_VALUE`].
fn format_pattern(pattern: &str, values: &[String]) -> Result<String, Unknown> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{").or_else(|| tail.strip_prefix("}}")) {
            out.push_str(&tail[..1]);
            rest = after;
        } else if let Some((index, after)) =
            tail[1..].split_once('}').and_then(|(digits, after)| {
                let i: usize = digits.parse().ok()?;
                Some((i, after))
            })
        {
            match values.get(index) {
                Some(value) => out.push_str(value),
                None => out.push_str(&tail[..tail.len() - after.len()]),
            }
            rest = after;
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
        if out.len() > MAX_VALUE {
            return Err(too_long("format"));
        }
    }
    out.push_str(rest);
    if out.len() > MAX_VALUE {
        return Err(too_long("format"));
    }
    Ok(out)
}

/// A recursive-descent parser that evaluates as it reads.
struct Parser<'a> {
    text: &'a str,
    at: usize,
    scope: &'a Scope,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        while self.rest().starts_with(' ') {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        if self.rest().starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), Unknown> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(Unknown(format!(
                "cannot parse expression `[{}]`: expected `{c}`",
                self.text
            )))
        }
    }

    fn expression(&mut self) -> Eval {
        let scope = self.scope;
        scope.nested(|| self.postfix())
    }

    fn postfix(&mut self) -> Eval {
        let mut value = self.primary()?;
        loop {
            if self.eat('.') {
                let name = self.identifier();
                value = value
                    .as_object()
                    .and_then(|m| {
                        m.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                            .map(|(_, v)| v.clone())
                    })
                    .ok_or_else(|| Unknown(missing_property(&name, &value)))?;
            } else if self.eat('[') {
                let index = self.expression()?;
                self.expect(']')?;
                value = match (&value, &index) {
                    (Value::Array(items), Value::Number(n)) => {
                        n.as_u64().and_then(|i| items.get(i as usize)).cloned()
                    }
                    (Value::Object(_), Value::String(key)) => value.get(key).cloned(),
                    _ => None,
                }
                .ok_or_else(|| Unknown(format!("cannot index {value} with {index}")))?;
            } else {
                return Ok(value);
            }
        }
    }

    fn primary(&mut self) -> Eval {
        self.skip_spaces();
        if self.rest().starts_with('\'') {
            return self.string_literal();
        }
        let number: String = self
            .rest()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        if !number.is_empty() {
            self.at += number.len();
            return number
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| Unknown(format!("bad number `{number}`")));
        }
        let name = self.identifier();
        if name.is_empty() {
            return Err(Unknown(format!(
                "cannot parse expression `[{}]`",
                self.text
            )));
        }
        self.expect('(')?;
        let mut args = Vec::new();
        if !self.eat(')') {
            loop {
                args.push(self.expression()?);
                if self.eat(')') {
                    break;
                }
                self.expect(',')?;
            }
        }
        self.scope.call(&name, args)
    }

    fn identifier(&mut self) -> String {
        self.skip_spaces();
        let name: String = self
            .rest()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        self.at += name.len();
        name
    }

    fn string_literal(&mut self) -> Eval {
        self.at += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.rest().chars().next() else {
                return Err(Unknown(format!("unterminated string in `[{}]`", self.text)));
            };
            self.at += c.len_utf8();
            if c == '\'' {
                if self.rest().starts_with('\'') {
                    self.at += 1;
                    out.push('\'');
                } else {
                    return Ok(Value::String(out));
                }
            } else {
                out.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(template: Value) -> Scope {
        let group = Group {
            name: "rg".into(),
            location: None,
        };
        Scope::new(&template, group, BTreeMap::new())
    }

    #[test]
    fn parameters_variables_and_resource_ids_resolve() {
        let s = scope(json!({
            "parameters": {"vnetName": {"type": "string", "defaultValue": "vnet1"}},
            "variables": {"subnetId": "[resourceId('Microsoft.Network/virtualNetworks/subnets', parameters('vnetName'), 'default')]"}
        }));
        assert_eq!(
            s.string(&json!("[variables('subnetId')]")).unwrap(),
            format!(
                "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default"
            )
        );
        assert_eq!(
            s.string(&json!("[format('{0}/subnets/{1}', resourceId('Microsoft.Network/virtualNetworks', 'vnet1'), 'default')]")).unwrap(),
            s.string(&json!("[concat(resourceId('Microsoft.Network/virtualNetworks', 'vnet1'), '/subnets/', 'default')]")).unwrap(),
        );
    }

    #[test]
    fn literals_escapes_and_indexing() {
        let s = scope(json!({"variables": {"p": ["10.0.0.0/16"], "o": {"a": {"b": "x"}}}}));
        assert_eq!(
            s.string(&json!("[[not an expression]")).unwrap(),
            "[not an expression]"
        );
        assert_eq!(
            s.string(&json!("[concat('it''s', ' ok')]")).unwrap(),
            "it's ok"
        );
        assert_eq!(
            s.string(&json!("[variables('p')[0]]")).unwrap(),
            "10.0.0.0/16"
        );
        assert_eq!(s.string(&json!("[variables('o').a.b]")).unwrap(), "x");
    }

    #[test]
    fn hostile_nesting_and_growth_are_refused_not_followed() {
        let deep = format!("[{}'a'{}]", "concat(".repeat(20_000), ")".repeat(20_000));
        let unknown = scope(json!({})).string(&json!(deep)).unwrap_err();
        assert!(
            unknown.0.contains("nest more than 128 levels"),
            "{unknown:?}"
        );
        let chain: Map<String, Value> = (0..5_000)
            .map(|i| (format!("v{i}"), json!(format!("[variables('v{}')]", i + 1))))
            .collect();
        let unknown = scope(json!({ "variables": chain }))
            .string(&json!("[variables('v0')]"))
            .unwrap_err();
        assert!(unknown.0.contains("nest more than"), "{unknown:?}");
        let mut doubling = Map::new();
        doubling.insert("v0".into(), json!("x".repeat(1000)));
        for i in 1..12 {
            let twice = format!("[concat(variables('v{0}'), variables('v{0}'))]", i - 1);
            doubling.insert(format!("v{i}"), json!(twice));
        }
        let unknown = scope(json!({ "variables": doubling }))
            .string(&json!("[variables('v11')]"))
            .unwrap_err();
        assert!(
            unknown.0.contains("`concat()` builds a value longer"),
            "{unknown:?}"
        );
        let bomb = format!(
            "[format('{}', '{}')]",
            "{0}".repeat(200_000),
            "x".repeat(100)
        );
        let unknown = scope(json!({})).string(&json!(bomb)).unwrap_err();
        assert!(
            unknown.0.contains("`format()` builds a value longer"),
            "{unknown:?}"
        );
    }

    #[test]
    fn format_fills_placeholders_and_keeps_escaped_braces() {
        let s = scope(json!({}));
        let text = s
            .string(&json!("[format('{0}-{{1}}-{1}-{2}', 'a', 'b')]"))
            .unwrap();
        assert_eq!(text, "a-{1}-b-{2}");
    }

    #[test]
    fn deployment_time_functions_and_cycles_are_unknown_not_guessed() {
        let s = scope(json!({"variables": {"a": "[variables('a')]"}}));
        let unknown = s.string(&json!("[reference('x').ipAddress]")).unwrap_err();
        assert!(unknown.0.contains("`reference()`"), "{unknown:?}");
        assert!(s.string(&json!("[variables('a')]")).is_err());
        assert!(s.string(&json!("[parameters('missing')]")).is_err());
    }

    #[test]
    fn defaults_may_use_other_parameters_and_the_resource_group_location_when_given() {
        let template = json!({"parameters": {
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
            "vnetName": {"type": "string", "defaultValue": "[concat('vnet-', parameters('location'))]"}
        }});
        let unknown = scope(template.clone()).string(&json!("[parameters('vnetName')]"));
        assert!(unknown.unwrap_err().0.contains("pass --location"));
        let group = Group {
            name: "rg".into(),
            location: Some("eastus".into()),
        };
        let known = Scope::new(&template, group, BTreeMap::new());
        assert_eq!(
            known.string(&json!("[parameters('vnetName')]")).unwrap(),
            "vnet-eastus"
        );
    }
}
