//! Proof that `main.bicep` (+ `computes.bicep`) and `azuredeploy.json` describe the same
//! resources: same type, API version and name, and the same `location`, `sku`, `kind`, `tags` and
//! `properties`, with every expression (symbol references in Bicep, `[...]` in ARM) compared as
//! an opaque `<expr>`; names computed at deployment (GUIDs, unique storage names) are `<expr>`
//! too, so resources are compared as sorted lists. A small reader for the Bicep subset amlgen
//! writes turns Bicep into JSON.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// `(name, type@apiVersion, essence)` of every resource, sorted.
type Resources = Vec<(String, String, Value)>;

/// A resource name with an expression replaced by `<expr>`.
fn name_key(name: &str) -> String {
    match normalize(&json!(name)) {
        Value::String(s) => s,
        _ => EXPR.to_string(),
    }
}

const EXPR: &str = "<expr>";

/// A `resource` or `module` declaration.
#[derive(Debug)]
struct Declared {
    symbol: String,
    kind: String,
    existing: bool,
    body: Value,
}

fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.contains("${") {
        return None;
    }
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn scalar(text: &str) -> Value {
    if let Some(s) = unquote(text) {
        return Value::String(s);
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => text
            .parse::<i64>()
            .map_or_else(|_| Value::String(format!("<expr:{text}>")), Value::from),
    }
}

/// Parses the value starting with `first` (the text after `key:`); `lines[*at..]` follow it.
fn value(first: &str, lines: &[&str], at: &mut usize) -> Value {
    match first {
        "{" => {
            let mut object = Map::new();
            while lines[*at].trim() != "}" {
                let line = lines[*at].trim();
                *at += 1;
                let (key, rest) = line
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("not a property: {line}"));
                let key = unquote(key).unwrap_or_else(|| key.to_string());
                let parsed = value(rest, lines, at);
                object.insert(key, parsed);
            }
            *at += 1;
            Value::Object(object)
        }
        "[" => {
            let mut items = Vec::new();
            while lines[*at].trim() != "]" {
                let line = lines[*at].trim();
                *at += 1;
                items.push(value(line, lines, at));
            }
            *at += 1;
            Value::Array(items)
        }
        other => scalar(other),
    }
}

fn declarations(text: &str) -> Vec<Declared> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        at += 1;
        let Some(rest) = line
            .strip_prefix("resource ")
            .or_else(|| line.strip_prefix("module "))
        else {
            continue;
        };
        let mut words = rest.split(' ');
        let symbol = words.next().unwrap().to_string();
        let kind = unquote(words.next().unwrap()).unwrap();
        let existing = rest.contains(" existing = {");
        let body = value("{", &lines, &mut at);
        out.push(Declared {
            symbol,
            kind,
            existing,
            body,
        });
    }
    out
}

/// Replaces every expression by `<expr>`: ARM `[...]` strings (not `[[` escapes) and Bicep's.
fn normalize(value: &Value) -> Value {
    match value {
        Value::String(s)
            if (s.starts_with('[') && !s.starts_with("[[")) || s.starts_with("<expr:") =>
        {
            json!(EXPR)
        }
        Value::String(s) if s.starts_with("[[") => Value::String(s[1..].to_string()),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

/// The comparable part of a resource body.
fn essence(body: &Value) -> Value {
    let keys = ["location", "sku", "kind", "tags", "properties"];
    Value::Object(
        keys.iter()
            .filter_map(|k| body.get(*k).map(|v| (k.to_string(), normalize(v))))
            .collect(),
    )
}

/// The resources of the Bicep files; modules appear as deployments.
fn bicep_resources(files: &[String]) -> Resources {
    let mut out = Vec::new();
    for text in files {
        let declared = declarations(text);
        let names: BTreeMap<&str, String> = declared
            .iter()
            .map(|d| {
                (
                    d.symbol.as_str(),
                    d.body["name"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        for d in declared.iter().filter(|d| !d.existing) {
            let mut name = d.body["name"].as_str().unwrap().to_string();
            let parent = d
                .body
                .get("parent")
                .and_then(Value::as_str)
                .and_then(|p| p.strip_prefix("<expr:")?.strip_suffix('>'));
            if let Some(symbol) = parent {
                name = format!("{}/{name}", names[symbol]);
            }
            let kind = if d.kind.ends_with(".bicep") {
                "Microsoft.Resources/deployments".to_string()
            } else {
                d.kind.clone()
            };
            let essence = if kind.starts_with("Microsoft.Resources/") {
                Value::Null
            } else {
                essence(&d.body)
            };
            out.push((name_key(&name), kind, essence));
        }
    }
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out
}

/// The same list from an ARM template, following nested deployments (unsorted).
fn arm_resources(template: &Value, out: &mut Resources) {
    for r in template["resources"].as_array().unwrap() {
        let kind = format!(
            "{}@{}",
            r["type"].as_str().unwrap(),
            r["apiVersion"].as_str().unwrap()
        );
        let name = r["name"].as_str().unwrap().to_string();
        if r["type"] == "Microsoft.Resources/deployments" {
            out.push((
                name_key(&name),
                "Microsoft.Resources/deployments".to_string(),
                Value::Null,
            ));
            arm_resources(&r["properties"]["template"], out);
        } else {
            out.push((name_key(&name), kind, essence(r)));
        }
    }
}

/// Asserts that the Bicep and ARM texts of one output folder agree.
pub(crate) fn assert_agree(bicep: &[String], arm: &str) {
    let mut from_arm = Vec::new();
    arm_resources(&serde_json::from_str(arm).unwrap(), &mut from_arm);
    from_arm.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    let from_bicep = bicep_resources(bicep);
    let names = |r: &Resources| {
        r.iter()
            .map(|(n, k, _)| format!("{n} {k}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&from_bicep), names(&from_arm), "resources differ");
    for (bicep, arm) in from_bicep.iter().zip(&from_arm) {
        assert_eq!(
            bicep, arm,
            "resource {} differs between Bicep and ARM",
            bicep.0
        );
    }
}

#[test]
fn the_reader_sees_through_escapes_and_expressions() {
    let text = "resource a 'T@1' = {\n  name: 'it\\'s'\n  properties: {\n    id: b.id\n    list: [\n      'x'\n      {\n        n: 1\n      }\n    ]\n  }\n}\n";
    let declared = declarations(text);
    assert_eq!(declared[0].body["name"], "it's");
    assert_eq!(
        normalize(&declared[0].body["properties"]),
        json!({"id": EXPR, "list": ["x", {"n": 1}]})
    );
}
