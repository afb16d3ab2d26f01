//! Proof that `main.bicep` (+ the module's file) and `azuredeploy.json` deploy the same thing.
//!
//! Both formats are read back and every value is evaluated over one symbolic context: literals
//! stay literals, and each expression (ARM `[...]`, Bicep references, calls and interpolation)
//! becomes a canonical term, e.g. `«id Microsoft.Network/virtualNetworks/subnets/vnet/snet»` for
//! both `resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'snet')` and
//! `resourceId('...', vnet.name, 'snet')`. Then the parameters, every resource (type, API
//! version, name, scope, dependencies and body), every output and every module are compared whole. A
//! reference that points elsewhere in one format, a lost `dependsOn` or a different literal all
//! make the comparison fail.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// An expression, parsed from either format.
#[derive(Debug, Clone, PartialEq)]
enum Ast {
    Str(String),
    /// A Bicep string with `${}` holes.
    Interp(Vec<Ast>),
    Int(i64),
    Bool(bool),
    Ident(String),
    Call(Box<Ast>, Vec<Ast>),
    Member(Box<Ast>, String),
    Index(Box<Ast>, usize),
}

/// Which format's strings the parser reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Syntax {
    /// `'it''s'`.
    Arm,
    /// `'it\'s ${x}'`.
    Bicep,
}

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    syntax: Syntax,
    text: &'a str,
}

impl Parser<'_> {
    fn parse(text: &str, syntax: Syntax) -> Result<Ast, String> {
        let mut parser = Parser {
            chars: text.chars().collect(),
            at: 0,
            syntax,
            text,
        };
        let ast = parser.expr()?;
        parser.space();
        if parser.at != parser.chars.len() {
            return Err(format!("trailing text in `{text}`"));
        }
        Ok(ast)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn space(&mut self) {
        while self.peek() == Some(' ') {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> Result<(), String> {
        self.space();
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected `{c}` at {} in `{}`", self.at, self.text))
        }
    }

    fn expr(&mut self) -> Result<Ast, String> {
        self.space();
        let mut ast = match self.peek() {
            Some('\'') => self.string()?,
            Some(c) if c.is_ascii_digit() => {
                let start = self.at;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.at += 1;
                }
                let digits: String = self.chars[start..self.at].iter().collect();
                Ast::Int(digits.parse().map_err(|e| format!("{e}"))?)
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => match self.ident().as_str() {
                "true" => Ast::Bool(true),
                "false" => Ast::Bool(false),
                name => Ast::Ident(name.to_string()),
            },
            other => return Err(format!("unexpected {other:?} in `{}`", self.text)),
        };
        loop {
            match self.peek() {
                Some('.') => {
                    self.at += 1;
                    ast = Ast::Member(Box::new(ast), self.ident());
                }
                Some('[') => {
                    self.at += 1;
                    let Ast::Int(i) = self.expr()? else {
                        return Err(format!("index in `{}`", self.text));
                    };
                    self.eat(']')?;
                    ast = Ast::Index(Box::new(ast), i as usize);
                }
                Some('(') => {
                    self.at += 1;
                    let mut args = Vec::new();
                    self.space();
                    if self.peek() == Some(')') {
                        self.at += 1;
                    } else {
                        loop {
                            args.push(self.expr()?);
                            self.space();
                            match self.peek() {
                                Some(',') => self.at += 1,
                                Some(')') => {
                                    self.at += 1;
                                    break;
                                }
                                other => return Err(format!("{other:?} in `{}`", self.text)),
                            }
                        }
                    }
                    ast = Ast::Call(Box::new(ast), args);
                }
                _ => return Ok(ast),
            }
        }
    }

    fn ident(&mut self) -> String {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn string(&mut self) -> Result<Ast, String> {
        self.at += 1;
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| format!("open string in `{}`", self.text))?;
            self.at += 1;
            match (self.syntax, c) {
                (Syntax::Arm, '\'') if self.peek() == Some('\'') => {
                    self.at += 1;
                    text.push('\'');
                }
                (_, '\'') => break,
                (Syntax::Bicep, '\\') => {
                    let escaped = self.peek().ok_or("open escape")?;
                    self.at += 1;
                    text.push(match escaped {
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        other => other,
                    });
                }
                (Syntax::Bicep, '$') if self.peek() == Some('{') => {
                    self.at += 1;
                    parts.push(Ast::Str(std::mem::take(&mut text)));
                    parts.push(self.expr()?);
                    self.eat('}')?;
                }
                (_, other) => text.push(other),
            }
        }
        if parts.is_empty() {
            return Ok(Ast::Str(text));
        }
        parts.push(Ast::Str(text));
        Ok(Ast::Interp(parts))
    }
}

/// A resource declared in a template, as both formats name it.
#[derive(Debug, Clone)]
struct Declared {
    /// `Type@apiVersion`.
    kind: String,
    /// The evaluated name, a child's after its parent's (`ws/compute`).
    name: String,
    existing: bool,
}

impl Declared {
    fn kind_and_version(&self) -> (&str, &str) {
        self.kind.split_once('@').unwrap_or((&self.kind, ""))
    }

    /// The canonical ID: `«id Type/name/child»`.
    fn id(&self) -> String {
        format!("«id {}/{}»", self.kind_and_version().0, self.name)
    }
}

/// What expressions resolve against: the resources of one Bicep file by symbol (empty for ARM,
/// whose references are by type and name), and the symbols a value referred to.
#[derive(Default)]
struct Scope {
    symbols: BTreeMap<String, Declared>,
    /// Bicep modules: `symbol -> (deployment name, resource group)`.
    modules: BTreeMap<String, (String, String)>,
    referenced: BTreeSet<String>,
}

impl Scope {
    fn eval(&mut self, ast: &Ast) -> Result<String, String> {
        Ok(match ast {
            Ast::Str(s) => s.clone(),
            Ast::Int(n) => n.to_string(),
            Ast::Bool(b) => b.to_string(),
            Ast::Interp(parts) => {
                let mut out = String::new();
                for p in parts {
                    out.push_str(&self.eval(p)?);
                }
                out
            }
            Ast::Ident(name) => match self.symbols.get(name) {
                Some(_) => return Err(format!("bare resource symbol `{name}`")),
                None => format!("«param {name}»"),
            },
            Ast::Index(base, i) => format!("{}[{i}]", self.eval(base)?),
            Ast::Member(base, key) => self.member(base, key)?,
            Ast::Call(callee, args) => self.call(callee, args)?,
        })
    }

    /// The resource a Bicep symbol names, noting the reference.
    fn resource(&mut self, symbol: &str) -> Option<Declared> {
        let declared = self.symbols.get(symbol)?.clone();
        self.referenced.insert(symbol.to_string());
        Some(declared)
    }

    fn member(&mut self, base: &Ast, key: &str) -> Result<String, String> {
        if let Ast::Member(module, outputs) = base
            && outputs == "outputs"
            && let Ast::Ident(symbol) = module.as_ref()
            && let Some((name, group)) = self.modules.get(symbol)
        {
            let kind = amlgen::azure::resource::ResourceKind::Deployment;
            return Ok(format!(
                "«ref «id {}/{name} in {group}»@{}».outputs.{key}.value",
                kind.arm_type(),
                kind.api_version()
            ));
        }
        if let Ast::Ident(symbol) = base
            && let Some(r) = self.resource(symbol)
        {
            return Ok(match key {
                "id" => r.id(),
                "name" => r.name.rsplit('/').next().unwrap_or_default().to_string(),
                "properties" => format!("«ref {}@{}»", r.id(), r.kind_and_version().1),
                "identity" => format!("«ref {}@{} full».identity", r.id(), r.kind_and_version().1),
                other => return Err(format!("{symbol}.{other}")),
            });
        }
        Ok(format!("{}.{key}", self.eval(base)?))
    }

    fn call(&mut self, callee: &Ast, args: &[Ast]) -> Result<String, String> {
        if let Ast::Member(base, method) = callee
            && let Ast::Ident(symbol) = base.as_ref()
            && let Some(r) = self.resource(symbol)
        {
            return match method.as_str() {
                "listKeys" => Ok(format!("«listKeys {}@{}»", r.id(), r.kind_and_version().1)),
                other => Err(format!("{symbol}.{other}()")),
            };
        }
        let Ast::Ident(function) = callee else {
            return Err(format!("call of {callee:?}"));
        };
        let values = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match (function.as_str(), values.as_slice()) {
            ("parameters", [name]) => format!("«param {name}»"),
            ("resourceId", [subscription, group, kind, names @ ..])
                if !subscription.contains('/') && !group.contains('/') && kind.contains('/') =>
            {
                format!("«id {kind}/{} in {subscription}/{group}»", names.join("/"))
            }
            ("resourceId", [group, kind, names @ ..]) if !group.contains('/') => {
                format!("«id {kind}/{} in {group}»", names.join("/"))
            }
            ("resourceId", [kind, names @ ..]) => format!("«id {kind}/{}»", names.join("/")),
            ("subscriptionResourceId", [kind, names @ ..]) => {
                format!("«subscription-id {kind}/{}»", names.join("/"))
            }
            ("reference" | "listKeys", [id, version]) => {
                let kind = if function == "reference" {
                    "ref"
                } else {
                    "listKeys"
                };
                format!("«{kind} {id}@{version}»")
            }
            ("reference", [id, version, full]) if full == "full" => {
                format!("«ref {id}@{version} full»")
            }
            ("resourceGroup" | "environment" | "tenant", []) => format!("«{function}»"),
            ("guid" | "uniqueString", _) => format!("«{function}({})»", values.join("|")),
            ("concat", _) => values.concat(),
            ("format", [pattern, rest @ ..]) => format_text(pattern, rest)?,
            _ => return Err(format!("unknown call {function}({values:?})")),
        })
    }
}

/// ARM's `format()`: `{n}` placeholders, `{{` and `}}` for braces.
fn format_text(pattern: &str, args: &[String]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let index: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let i: usize = index.parse().map_err(|_| format!("format `{pattern}`"))?;
                out.push_str(args.get(i).ok_or("format argument missing")?);
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// What one template deploys, evaluated: comparable across the formats.
#[derive(Debug, PartialEq)]
struct Deployment {
    /// `name -> (secure, default, allowed, description)`.
    parameters: BTreeMap<String, Value>,
    /// `(type@version, name) -> {scope, dependsOn, body...}`.
    resources: BTreeMap<(String, String), Value>,
    /// The modules: `name -> {resourceGroup, parameters, dependsOn, template}`.
    modules: BTreeMap<String, Value>,
    /// `name -> {description, value}`.
    outputs: BTreeMap<String, Value>,
}

impl Deployment {
    fn new() -> Self {
        Deployment {
            parameters: BTreeMap::new(),
            resources: BTreeMap::new(),
            modules: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }
}

// ---- ARM ----

/// Evaluates every `[...]` string of an ARM value; `[[` is the escape of a literal `[`.
fn eval_arm(scope: &mut Scope, value: &Value) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) if s.starts_with("[[") => Value::String(s[1..].to_string()),
        Value::String(s) if s.starts_with('[') && s.ends_with(']') => {
            Value::String(scope.eval(&Parser::parse(&s[1..s.len() - 1], Syntax::Arm)?)?)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| eval_arm(scope, v))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.clone(), eval_arm(scope, v)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn arm_parameters(template: &Value) -> Result<BTreeMap<String, Value>, String> {
    let mut out = BTreeMap::new();
    let mut scope = Scope::default();
    for (name, p) in template["parameters"].as_object().into_iter().flatten() {
        let mut literal = |key: &str| p.get(key).map(|v| eval_arm(&mut scope, v)).transpose();
        let (default, allowed) = (literal("defaultValue")?, literal("allowedValues")?);
        out.insert(
            name.clone(),
            json!({
                "secure": p["type"] == "securestring",
                "default": default,
                "allowed": allowed,
                "description": p["metadata"]["description"],
            }),
        );
    }
    Ok(out)
}

fn arm_deployment(template: &Value) -> Result<Deployment, String> {
    let mut out = Deployment::new();
    out.parameters = arm_parameters(template)?;
    for r in template["resources"].as_array().ok_or("no resources")? {
        let mut scope = Scope::default();
        let kind = format!(
            "{}@{}",
            r["type"].as_str().unwrap_or_default(),
            r["apiVersion"].as_str().unwrap_or_default()
        );
        let name = eval_arm(&mut scope, &r["name"])?;
        let name = name.as_str().unwrap_or_default().to_string();
        let depends: BTreeSet<String> = r["dependsOn"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| eval_arm(&mut scope, d).map(|v| v.as_str().unwrap_or_default().to_string()))
            .collect::<Result<_, _>>()?;
        if r["type"] == "Microsoft.Resources/deployments" {
            let parameters = eval_arm(&mut scope, &r["properties"]["parameters"])?;
            let parameters: Map<String, Value> = parameters
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v["value"].clone()))
                .collect();
            let inner = arm_deployment(&r["properties"]["template"])?;
            out.modules.insert(
                name,
                json!({
                    "resourceGroup": r["resourceGroup"], "parameters": parameters,
                    "dependsOn": depends, "template": format!("{inner:#?}"),
                }),
            );
            continue;
        }
        let mut body = Map::new();
        for key in ["location", "tags", "sku", "kind", "properties", "scope"] {
            if let Some(v) = r.get(key) {
                body.insert(key.to_string(), eval_arm(&mut scope, v)?);
            }
        }
        body.insert("dependsOn".into(), json!(depends));
        out.resources.insert((kind, name), Value::Object(body));
    }
    for (name, o) in template["outputs"].as_object().into_iter().flatten() {
        let value = eval_arm(&mut Scope::default(), &o["value"])?;
        let output =
            json!({"type": o["type"], "description": o["metadata"]["description"], "value": value});
        out.outputs.insert(name.clone(), output);
    }
    Ok(out)
}

// ---- Bicep ----

/// A declaration's lines: `resource sym 'T@v' [existing ]= {` or `module sym 'file' = {`.
struct Block {
    symbol: String,
    kind: String,
    existing: bool,
    module: bool,
    /// `key: raw value` with nested blocks kept as JSON of raw strings.
    body: Map<String, Value>,
}

fn unquote_key(key: &str) -> String {
    match Parser::parse(key, Syntax::Bicep) {
        Ok(Ast::Str(s)) => s,
        _ => key.to_string(),
    }
}

/// Reads the value starting with `first` (the text after `key: `); `lines[*at..]` follow it.
/// Scalars stay raw text, to be evaluated once every symbol is known.
fn raw_value(first: &str, lines: &[&str], at: &mut usize) -> Result<Value, String> {
    match first {
        "{" => {
            let mut object = Map::new();
            while lines.get(*at).ok_or("open object")?.trim() != "}" {
                let line = lines[*at].trim();
                *at += 1;
                let (key, rest) = line
                    .split_once(": ")
                    .ok_or_else(|| format!("not a property: {line}"))?;
                let value = raw_value(rest, lines, at)?;
                if object.insert(unquote_key(key), value).is_some() {
                    return Err(format!("duplicate key {key}"));
                }
            }
            *at += 1;
            Ok(Value::Object(object))
        }
        "[" => {
            let mut items = Vec::new();
            while lines.get(*at).ok_or("open array")?.trim() != "]" {
                let line = lines[*at].trim();
                *at += 1;
                items.push(raw_value(line, lines, at)?);
            }
            *at += 1;
            Ok(Value::Array(items))
        }
        "{}" => Ok(json!({})),
        "[]" => Ok(json!([])),
        scalar => Ok(json!({ "$raw": scalar })),
    }
}

/// An `output name type = expression` line, with its description, not yet evaluated.
struct RawOutput {
    name: String,
    kind: String,
    description: Option<Value>,
    expression: String,
}

/// What one Bicep file declares: parameters, resources and modules, outputs.
type BicepFile = (BTreeMap<String, Value>, Vec<Block>, Vec<RawOutput>);

/// The parameters, declarations and outputs of one Bicep file.
fn bicep_blocks(text: &str) -> Result<BicepFile, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut parameters = BTreeMap::new();
    let mut blocks = Vec::new();
    let mut outputs = Vec::new();
    let mut decorators: Map<String, Value> = Map::new();
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        at += 1;
        if let Some(rest) = line.strip_prefix("@description(") {
            let text = rest.strip_suffix(')').ok_or("description")?;
            decorators.insert("description".into(), bicep_literal(text)?);
        } else if line == "@secure()" {
            decorators.insert("secure".into(), json!(true));
        } else if line == "@allowed([" {
            let mut allowed = Vec::new();
            while lines[at] != "])" {
                allowed.push(bicep_literal(lines[at].trim())?);
                at += 1;
            }
            at += 1;
            decorators.insert("allowed".into(), Value::Array(allowed));
        } else if let Some(rest) = line.strip_prefix("param ") {
            let (name, default) = match rest.split_once(" = ") {
                Some((head, default)) => {
                    let ast = Parser::parse(default, Syntax::Bicep)?;
                    (head, Some(Value::String(Scope::default().eval(&ast)?)))
                }
                None => (rest, None),
            };
            let name = name.split(' ').next().unwrap_or_default().to_string();
            let d = std::mem::take(&mut decorators);
            parameters.insert(
                name,
                json!({
                    "secure": d.get("secure").is_some(), "default": default,
                    "allowed": d.get("allowed"), "description": d.get("description"),
                }),
            );
        } else if let Some(rest) = line.strip_prefix("output ") {
            let (head, expression) = rest.split_once(" = ").ok_or("output")?;
            let (name, kind) = head.split_once(' ').ok_or("output type")?;
            outputs.push(RawOutput {
                name: name.to_string(),
                kind: kind.to_string(),
                description: std::mem::take(&mut decorators).remove("description"),
                expression: expression.to_string(),
            });
        } else if let Some(block) = declaration(line, &lines, &mut at)? {
            blocks.push(block);
        }
    }
    Ok((parameters, blocks, outputs))
}

fn bicep_literal(text: &str) -> Result<Value, String> {
    match Parser::parse(text, Syntax::Bicep)? {
        Ast::Str(s) => Ok(Value::String(s)),
        other => Err(format!("not a literal: {other:?}")),
    }
}

fn declaration(line: &str, lines: &[&str], at: &mut usize) -> Result<Option<Block>, String> {
    let (module, rest) = match (line.strip_prefix("resource "), line.strip_prefix("module ")) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ => return Ok(None),
    };
    let mut words = rest.split(' ');
    let symbol = words.next().unwrap_or_default().to_string();
    let Ok(Ast::Str(kind)) = Parser::parse(words.next().unwrap_or_default(), Syntax::Bicep) else {
        return Err(format!("no type in `{line}`"));
    };
    let Value::Object(body) = raw_value("{", lines, at)? else {
        return Err("body".into());
    };
    Ok(Some(Block {
        symbol,
        kind,
        existing: rest.contains(" existing = {"),
        module,
        body,
    }))
}

/// The raw text of a scalar property.
fn raw<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key)?.get("$raw")?.as_str()
}

/// Evaluates every raw scalar of a Bicep value.
fn eval_bicep(scope: &mut Scope, value: &Value) -> Result<Value, String> {
    Ok(match value {
        Value::Object(map) if map.contains_key("$raw") => {
            let text = map["$raw"].as_str().unwrap_or_default();
            match Parser::parse(text, Syntax::Bicep)? {
                Ast::Int(n) => json!(n),
                Ast::Bool(b) => json!(b),
                ast => Value::String(scope.eval(&ast)?),
            }
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.clone(), eval_bicep(scope, v)?);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| eval_bicep(scope, v))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// The symbol table of one file: each resource's type and evaluated full name.
fn symbols(blocks: &[Block]) -> Result<BTreeMap<String, Declared>, String> {
    let mut table = BTreeMap::new();
    for block in blocks.iter().filter(|b| !b.module) {
        let mut scope = Scope {
            symbols: table.clone(),
            ..Scope::default()
        };
        let own = eval_bicep(&mut scope, &block.body["name"])?;
        let own = own.as_str().unwrap_or_default();
        let name = match raw(&block.body, "parent") {
            Some(parent) => {
                let parent: &Declared = table.get(parent).ok_or("unknown parent")?;
                format!("{}/{own}", parent.name)
            }
            None => own.to_string(),
        };
        let declared = Declared {
            kind: block.kind.clone(),
            name,
            existing: block.existing,
        };
        table.insert(block.symbol.clone(), declared);
    }
    Ok(table)
}

/// The IDs of the deployed resources `scope` referred to: Bicep's implicit `dependsOn`.
fn implicit_dependencies(scope: &Scope) -> BTreeSet<String> {
    scope
        .referenced
        .iter()
        .filter_map(|s| scope.symbols.get(s))
        .filter(|d| !d.existing)
        .map(Declared::id)
        .collect()
}

/// `files[0]` is the main file; a module's declaration names the file its template is in.
fn bicep_deployment(files: &BTreeMap<String, String>, file: &str) -> Result<Deployment, String> {
    let text = files.get(file).ok_or_else(|| format!("no file {file}"))?;
    let (parameters, blocks, outputs) = bicep_blocks(text)?;
    let table = symbols(&blocks)?;
    let mut modules = BTreeMap::new();
    for block in blocks.iter().filter(|b| b.module) {
        let name = eval_bicep(&mut Scope::default(), &block.body["name"])?;
        let group = raw(&block.body, "scope")
            .and_then(|s| s.strip_prefix("resourceGroup(")?.strip_suffix(')'))
            .ok_or("module scope")?;
        let group = bicep_literal(group)?;
        modules.insert(
            block.symbol.clone(),
            (
                name.as_str().unwrap_or_default().to_string(),
                group.as_str().unwrap_or_default().to_string(),
            ),
        );
    }
    let mut out = Deployment::new();
    out.parameters = parameters;
    for o in outputs {
        let mut scope = Scope {
            symbols: table.clone(),
            modules: modules.clone(),
            ..Scope::default()
        };
        let value = scope.eval(&Parser::parse(&o.expression, Syntax::Bicep)?)?;
        let kind = match o.kind.as_str() {
            "string" => "string",
            other => return Err(format!("output type {other}")),
        };
        out.outputs.insert(
            o.name,
            json!({"type": kind, "description": o.description, "value": value}),
        );
    }
    for block in blocks.iter().filter(|b| !b.existing) {
        let mut scope = Scope {
            symbols: table.clone(),
            ..Scope::default()
        };
        // An explicit `dependsOn` lists symbols: each is a dependency.
        let explicit = block.body.get("dependsOn").and_then(Value::as_array);
        for symbol in explicit
            .into_iter()
            .flatten()
            .filter_map(|v| v.get("$raw")?.as_str())
        {
            scope.referenced.insert(symbol.to_string());
        }
        if block.module {
            let name = eval_bicep(&mut scope, &block.body["name"])?;
            let group = raw(&block.body, "scope")
                .and_then(|s| s.strip_prefix("resourceGroup(")?.strip_suffix(')'))
                .ok_or("module scope")?;
            let parameters = eval_bicep(&mut scope, &block.body["params"])?;
            let inner = bicep_deployment(files, &block.kind)?;
            out.modules.insert(
                name.as_str().unwrap_or_default().to_string(),
                json!({
                    "resourceGroup": bicep_literal(group)?, "parameters": parameters,
                    "dependsOn": implicit_dependencies(&scope), "template": format!("{inner:#?}"),
                }),
            );
            continue;
        }
        eval_bicep(&mut scope, &block.body["name"])?;
        let mut body = Map::new();
        for key in ["location", "tags", "sku", "kind", "properties"] {
            if let Some(v) = block.body.get(key) {
                body.insert(key.to_string(), eval_bicep(&mut scope, v)?);
            }
        }
        if let Some(symbol) = raw(&block.body, "scope") {
            let target = scope.resource(symbol).ok_or("unknown scope")?;
            let kind = target.kind_and_version().0;
            body.insert("scope".into(), json!(format!("{kind}/{}", target.name)));
        }
        if let Some(parent) = raw(&block.body, "parent") {
            scope.referenced.insert(parent.to_string());
        }
        body.insert("dependsOn".into(), json!(implicit_dependencies(&scope)));
        let declared = &table[&block.symbol];
        out.resources.insert(
            (declared.kind.clone(), declared.name.clone()),
            Value::Object(body),
        );
    }
    Ok(out)
}

/// Where the Bicep and ARM texts of one output folder disagree, if they do. `bicep` holds
/// `main.bicep` first, then the module files in the order `(file name, text)`.
pub(crate) fn disagreement(bicep: &[(&str, &str)], arm: &str) -> Option<String> {
    let files: BTreeMap<String, String> = bicep
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let from_bicep = match bicep_deployment(&files, bicep.first()?.0) {
        Ok(d) => d,
        Err(e) => return Some(format!("cannot read the Bicep: {e}")),
    };
    let from_arm = match serde_json::from_str(arm)
        .map_err(|e| e.to_string())
        .and_then(|v| arm_deployment(&v))
    {
        Ok(d) => d,
        Err(e) => return Some(format!("cannot read the ARM: {e}")),
    };
    (from_bicep != from_arm).then(|| first_difference(&from_bicep, &from_arm))
}

/// The first place the two deployments differ, for the failure message.
fn first_difference(bicep: &Deployment, arm: &Deployment) -> String {
    if bicep.parameters != arm.parameters {
        return format!(
            "parameters differ:\nBicep {:#?}\nARM {:#?}",
            bicep.parameters, arm.parameters
        );
    }
    let keys = |d: &Deployment| d.resources.keys().cloned().collect::<Vec<_>>();
    if keys(bicep) != keys(arm) {
        return format!(
            "resources differ:\nBicep {:#?}\nARM {:#?}",
            keys(bicep),
            keys(arm)
        );
    }
    for (key, value) in &bicep.resources {
        if arm.resources[key] != *value {
            return format!(
                "resource {key:?} differs:\nBicep {:#}\nARM {:#}",
                value, arm.resources[key]
            );
        }
    }
    if bicep.outputs != arm.outputs {
        return format!(
            "outputs differ:\nBicep {:#?}\nARM {:#?}",
            bicep.outputs, arm.outputs
        );
    }
    format!(
        "modules differ:\nBicep {:#?}\nARM {:#?}",
        bicep.modules, arm.modules
    )
}

/// Asserts that the Bicep files (`main.bicep` first, then `computes.bicep`) and the ARM text of
/// one output folder agree.
pub(crate) fn assert_agree(bicep: &[String], arm: &str) {
    let names = ["main.bicep", "computes.bicep"];
    let files: Vec<(&str, &str)> = names
        .iter()
        .copied()
        .zip(bicep.iter().map(String::as_str))
        .collect();
    if let Some(difference) = disagreement(&files, arm) {
        panic!("{difference}");
    }
}

#[test]
fn both_syntaxes_evaluate_to_the_same_terms() {
    let mut scope = Scope::default();
    scope.symbols.insert(
        "vnet".into(),
        Declared {
            kind: "Microsoft.Network/virtualNetworks@1".into(),
            name: "vnet-a".into(),
            existing: false,
        },
    );
    let pairs = [
        (
            "resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet-a', 'it''s')",
            "resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'it\\'s')",
        ),
        (
            "format('/home/{0}/.ssh/{{x}}', parameters('admin'))",
            "'/home/${admin}/.ssh/{x}'",
        ),
        (
            "reference(resourceId('Microsoft.Network/virtualNetworks', 'vnet-a'), '1').subnets[0]",
            "vnet.properties.subnets[0]",
        ),
        (
            "guid(resourceGroup().id, 'x')",
            "guid(resourceGroup().id, 'x')",
        ),
    ];
    for (arm, bicep) in pairs {
        let arm = scope
            .eval(&Parser::parse(arm, Syntax::Arm).unwrap())
            .unwrap();
        let bicep = scope
            .eval(&Parser::parse(bicep, Syntax::Bicep).unwrap())
            .unwrap();
        assert_eq!(arm, bicep);
    }
    assert_eq!(scope.referenced.iter().collect::<Vec<_>>(), ["vnet"]);
}

/// An example's Bicep and ARM, as rendered.
fn example(name: &str) -> (Vec<(String, String)>, String) {
    let path = crate::harness::root().join("examples").join(name);
    let compiled = amlgen::compile_file(&path, &[]).unwrap().remove(0);
    let artifacts = amlgen::emit::render(&compiled.plan.unwrap(), amlgen::VERSION).unwrap();
    let text = |n: &str| {
        artifacts
            .iter()
            .find(|a| a.name == n)
            .map(|a| a.contents.clone())
    };
    let bicep = ["main.bicep", "computes.bicep"]
        .iter()
        .filter_map(|n| Some((n.to_string(), text(n)?)))
        .collect();
    (bicep, text("azuredeploy.json").unwrap())
}

fn disagrees(bicep: &[(String, String)], arm: &str) -> bool {
    let files: Vec<(&str, &str)> = bicep
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    disagreement(&files, arm).is_some()
}

#[test]
fn a_wrong_reference_in_either_format_is_caught() {
    let (bicep, arm) = example("forced-tunnel.yaml");
    assert!(!disagrees(&bicep, &arm));
    // A subnet reference pointed elsewhere in the ARM only.
    let wrong = arm.replacen("'snet-cpu')]", "'snet-WRONG')]", 1);
    assert_ne!(wrong, arm);
    assert!(disagrees(&bicep, &wrong));
    // A parameter swapped for another in the Bicep only.
    let mut swapped = bicep.clone();
    swapped[0].1 = swapped[0]
        .1
        .replacen("location: location", "location: sshPublicKey", 1);
    assert_ne!(swapped, bicep);
    assert!(disagrees(&swapped, &arm));
    // A lost dependency.
    let (bicep, arm) = example("locked-nat.yaml");
    let lost = arm.replacen(
        "\"[resourceId('Microsoft.Network/natGateways', 'contoso-train-prod-nat')]\",",
        "",
        1,
    );
    assert_ne!(lost, arm);
    assert!(disagrees(&bicep, &lost));
    // A module input pointed at another resource.
    let (bicep, arm) = example("gpu-vm.yaml");
    let mut moved = bicep.clone();
    moved[0].1 = moved[0].1.replacen(
        "vmGpuT4ResourceId: vmGpuT4.id",
        "vmGpuT4ResourceId: vmGpuT4Nic.id",
        1,
    );
    assert_ne!(moved, bicep);
    assert!(disagrees(&moved, &arm));
}
