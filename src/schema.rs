//! Validates a parsed spec against the spec's JSON Schema, embedded in the binary.
//!
//! The schema (`schemas/amlgen.schema.json`, draft-07 so editors can autocomplete specs) is the
//! machine form of the spec contract. Every violation becomes a diagnostic pointing at the
//! offending key or value; unknown keys get a "did you mean" from the schema's own key list.

use std::collections::HashSet;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::diag::{At, Code, Diagnostic, Label, pointer};
use crate::error::Bug;
use crate::suggest::closest;

/// The schema text, exactly as shipped in `schemas/`.
pub(crate) const SCHEMA: &str = include_str!("../schemas/amlgen.schema.json");

fn schema() -> &'static Value {
    static SCHEMA_VALUE: OnceLock<Value> = OnceLock::new();
    SCHEMA_VALUE.get_or_init(|| serde_json::from_str(SCHEMA).unwrap_or(Value::Null))
}

/// The keys the schema requires in the member `name` of the mapping at `at` (a pointer into the
/// spec): what a missing block needs. The schema is followed along the spec's path, through
/// `properties`, `items` and `$ref`s.
fn required_of(at: &str, name: &str) -> Vec<String> {
    let schema = schema();
    let resolve = |node: &'static Value| -> &'static Value {
        match node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(target) => schema.pointer(target).unwrap_or(node),
            None => node,
        }
    };
    let mut node = resolve(schema);
    for token in at.split('/').skip(1).chain([name]) {
        let next = if token.parse::<usize>().is_ok() {
            node.get("items")
        } else {
            node.get("properties").and_then(|p| p.get(token))
        };
        match next {
            Some(next) => node = resolve(next),
            None => return Vec::new(),
        }
    }
    node.get("required")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn validator() -> Result<&'static jsonschema::Validator, Bug> {
    // The compile error borrows the schema, so its text is what is kept.
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::draft7::new(schema()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|why| Bug::Schema(why.clone()))
}

/// Checks `value` against the schema. `Err` only when the embedded schema itself is broken,
/// which is a bug in amlgen.
pub(crate) fn validate(value: &Value) -> Result<Vec<Diagnostic>, Bug> {
    let validator = validator()?;
    let mut found: Vec<Diagnostic> = Vec::new();
    // One diagnostic per code and place: a set, as a spec can hold a hundred thousand of them.
    let mut seen: HashSet<(Code, At)> = HashSet::new();
    for error in validator.iter_errors(value) {
        let at = error.instance_path().as_str().to_string();
        let schema_path = error.schema_path().as_str().to_string();
        for diagnostic in diagnose(&at, &schema_path, error.kind(), &error.to_string(), value) {
            if seen.insert((diagnostic.code, diagnostic.primary.at.clone())) {
                found.push(diagnostic);
            }
        }
    }
    let mut whole = Vec::new();
    if has_float(value) {
        floats(value, String::new(), &mut whole);
    }
    for (at, number) in whole {
        if !covered(&seen, &at) {
            found.push(not_an_integer(&at, number));
        }
    }
    Ok(found)
}

/// Every float in `value`, with its pointer. The schema's `integer` accepts whole floats such as
/// `4.0` (JSON Schema counts them as integers), but every number in a spec is an integer and the
/// typed spec takes none of them.
fn floats(value: &Value, at: String, out: &mut Vec<(String, f64)>) {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => out.push((at, n.as_f64().unwrap_or(0.0))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                floats(item, pointer(&at, i), out);
            }
        }
        Value::Object(members) => {
            for (key, member) in members {
                floats(member, pointer(&at, key), out);
            }
        }
        _ => {}
    }
}

/// Whether `value` holds a float anywhere (most specs do not; their pointers are not built).
fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => !n.is_i64() && !n.is_u64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(members) => members.values().any(has_float),
        _ => false,
    }
}

/// True when a diagnostic of `seen` already says that the value at `at` is wrong: a type error
/// on it, or an unknown key that holds it.
fn covered(seen: &HashSet<(Code, At)>, at: &str) -> bool {
    if seen.contains(&(Code::SchemaType, At::Value(at.to_string()))) {
        return true;
    }
    let mut holder = at;
    loop {
        if seen.contains(&(Code::SchemaUnknownKey, At::Key(holder.to_string()))) {
            return true;
        }
        match holder.rfind('/') {
            Some(end) => holder = &holder[..end],
            None => return false,
        }
    }
}

fn not_an_integer(at: &str, number: f64) -> Diagnostic {
    Diagnostic::error(
        Code::SchemaType,
        format!("{} must be an integer, found {number:?}", display_path(at)),
        Label::value(at, "expected integer"),
    )
    .with_help("write the number without a decimal point or exponent")
}

/// `/network/subnets/0/name` -> `network.subnets[0].name`, as users read their YAML.
pub(crate) fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    if out.is_empty() {
        "the spec".to_string()
    } else {
        format!("`{out}`")
    }
}

fn diagnose(
    at: &str,
    schema_path: &str,
    kind: &ValidationErrorKind,
    text: &str,
    value: &Value,
) -> Vec<Diagnostic> {
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(schema_path);
            unexpected
                .iter()
                .map(|key| unknown_key(at, key, &allowed))
                .collect()
        }
        // A key that breaks `propertyNames` (a tag name Azure refuses) is reported at that key,
        // not at the mapping that holds it.
        ValidationErrorKind::PropertyNames { error } => {
            let key = error.instance().as_str().unwrap_or_default();
            let diagnostic = Diagnostic::error(
                Code::SchemaValue,
                format!("{}: key {error}", display_path(at)),
                Label::key(pointer(at, key), ""),
            );
            vec![match pattern_help(error.schema_path().as_str()) {
                Some(help) => diagnostic.with_help(help),
                None => diagnostic,
            }]
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let label = if at.is_empty() {
                Label::value(at, "")
            } else {
                Label::key(at, format!("needs `{name}`"))
            };
            let needs = match required_of(at, name).as_slice() {
                [] => String::new(),
                keys => format!(
                    " (a mapping with {})",
                    keys.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            vec![Diagnostic::error(
                Code::SchemaMissingKey,
                format!(
                    "{} is missing the required key `{name}`{needs}",
                    display_path(at)
                ),
                label,
            )]
        }
        ValidationErrorKind::Type { kind } => vec![wrong_type(at, kind, value.pointer(at))],
        ValidationErrorKind::Enum { options } => {
            vec![not_an_option(at, text, options, value.pointer(at))]
        }
        // A name's length is checked apart from its characters (cheaper regexes); the
        // description says both in words.
        ValidationErrorKind::Pattern { .. }
        | ValidationErrorKind::MinLength { .. }
        | ValidationErrorKind::MaxLength { .. } => {
            let diagnostic = Diagnostic::error(
                Code::SchemaValue,
                format!("{}: {text}", display_path(at)),
                Label::value(at, ""),
            );
            vec![match pattern_help(schema_path) {
                Some(help) => diagnostic.with_help(help),
                None => diagnostic,
            }]
        }
        // The schema uses `not` only for names Azure reserves (VM administrators).
        ValidationErrorKind::Not { .. } => vec![reserved(at, value.pointer(at))],
        _ => vec![Diagnostic::error(
            Code::SchemaValue,
            format!("{}: {text}", display_path(at)),
            Label::value(at, ""),
        )],
    }
}

fn unknown_key(at: &str, key: &str, allowed: &[String]) -> Diagnostic {
    let diagnostic = Diagnostic::error(
        Code::SchemaUnknownKey,
        format!("unknown key `{key}` in {}", display_path(at)),
        Label::key(pointer(at, key), "not part of the spec format"),
    );
    match closest(key, allowed.iter().map(String::as_str)) {
        Some(guess) => diagnostic.with_help(format!("did you mean `{guess}`?")),
        None if !allowed.is_empty() => {
            diagnostic.with_help(format!("expected one of: {}", allowed.join(", ")))
        }
        None => diagnostic,
    }
}

fn reserved(at: &str, found: Option<&Value>) -> Diagnostic {
    Diagnostic::error(
        Code::SchemaValue,
        format!(
            "{}: {} is a name Azure reserves",
            display_path(at),
            found.unwrap_or(&Value::Null)
        ),
        Label::value(at, "reserved"),
    )
    .with_help("choose another name")
}

/// A value outside an enumeration, with the closest option as a suggestion.
fn not_an_option(at: &str, text: &str, options: &Value, found: Option<&Value>) -> Diagnostic {
    let diagnostic = Diagnostic::error(
        Code::SchemaValue,
        format!("{}: {text}", display_path(at)),
        Label::value(at, ""),
    );
    let options: Vec<&str> = options
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match found
        .and_then(Value::as_str)
        .and_then(|f| closest(f, options.iter().copied()))
    {
        Some(guess) => diagnostic.with_help(format!("did you mean `{guess}`?")),
        // The message names at most three options.
        None if options.len() > 3 => {
            diagnostic.with_help(format!("expected one of: {}", options.join(", ")))
        }
        None => diagnostic,
    }
}

fn wrong_type(at: &str, expected: &TypeKind, found: Option<&Value>) -> Diagnostic {
    let expected = match expected {
        TypeKind::Single(t) => t.to_string(),
        TypeKind::Multiple(set) => format!("{set:?}"),
    };
    let found_name = match found {
        Some(Value::Null) | None => "nothing",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "a list",
        Some(Value::Object(_)) => "a mapping",
    };
    let diagnostic = Diagnostic::error(
        Code::SchemaType,
        format!(
            "{} must be {} {expected}, found {found_name}",
            display_path(at),
            article(&expected)
        ),
        Label::value(at, format!("expected {expected}")),
    );
    if expected == "string" && matches!(found, Some(Value::Number(_) | Value::Bool(_))) {
        diagnostic.with_help("quote the value: YAML reads unquoted 1.10 as the number 1.1 and true/false as booleans")
    } else {
        diagnostic
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The schema node holding the keyword `schema_path` ends in, following `$ref`s through the
/// embedded schema.
fn keyword_owner(schema_path: &str) -> Option<&'static Value> {
    let root = schema();
    let mut node = root;
    let tokens: Vec<&str> = schema_path.split('/').skip(1).collect();
    for token in tokens.iter().take(tokens.len().saturating_sub(1)) {
        node = if *token == "$ref" {
            let target = node.get("$ref")?.as_str()?.strip_prefix('#')?;
            root.pointer(target)?
        } else {
            node.get(*token)?
        };
    }
    Some(node)
}

/// The property names the schema allows where `schema_path` (ending in `additionalProperties`)
/// was violated.
fn allowed_keys(schema_path: &str) -> Vec<String> {
    keyword_owner(schema_path)
        .and_then(|node| node.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The description of the value whose `pattern` or length was violated: it says the rule in
/// words.
fn pattern_help(schema_path: &str) -> Option<&'static str> {
    keyword_owner(schema_path)?.get("description")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes(value: &Value) -> Vec<(Code, String)> {
        validate(value)
            .unwrap()
            .into_iter()
            .map(|d| (d.code, d.message))
            .collect()
    }

    fn minimal() -> Value {
        json!({
            "name": "demo", "location": "eastus2", "workspace": {"name": "mlw-demo"},
            "network": {"vnet": {"name": "vnet", "address_space": ["10.0.0.0/16"]},
                        "subnets": [{"name": "snet", "address_prefix": "10.0.0.0/24"}]},
            "compute": [{"name": "cpu", "type": "amlcompute", "subnet": "snet"}]
        })
    }

    #[test]
    fn the_embedded_schema_is_valid_draft_07() {
        assert!(jsonschema::meta::is_valid(schema()));
        assert!(validate(&minimal()).unwrap().is_empty());
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let mut spec = minimal();
        spec["network"]["subnets"][0]["adress_prefix"] = json!("x");
        let found = validate(&spec).unwrap();
        assert_eq!(found[0].code, Code::SchemaUnknownKey);
        assert_eq!(
            found[0].help.as_deref(),
            Some("did you mean `address_prefix`?")
        );
        assert_eq!(
            found[0].primary,
            Label::key(
                "/network/subnets/0/adress_prefix",
                "not part of the spec format"
            )
        );
    }

    #[test]
    fn unknown_keys_in_a_compute_entry_are_found_through_the_ref() {
        let mut spec = minimal();
        spec["compute"][0]["max_instance"] = json!(3);
        let found = validate(&spec).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].help.as_deref(),
            Some("did you mean `max_instances`?")
        );
    }

    #[test]
    fn numbers_where_strings_belong_are_type_errors_with_help() {
        let mut spec = minimal();
        spec["network"]["vnet"]["name"] = json!(1.1);
        let found = validate(&spec).unwrap();
        assert_eq!(found[0].code, Code::SchemaType);
        assert!(found[0].help.as_deref().unwrap().contains("quote"));
    }

    #[test]
    fn missing_and_invalid_values_have_their_codes() {
        let mut spec = minimal();
        spec.as_object_mut().unwrap().remove("location");
        spec["network"]["subnets"][0]["address_prefix"] = json!("10.0.0.0/33");
        let found = codes(&spec);
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == Code::SchemaMissingKey && m.contains("`location`")),
            "{found:?}"
        );
        assert!(found.iter().any(
            |(c, m)| *c == Code::SchemaValue && m.contains("network.subnets[0].address_prefix")
        ));
    }

    #[test]
    fn a_missing_block_names_the_keys_it_needs() {
        let mut spec = minimal();
        spec["network"]["egress"] = json!("forced_tunnel");
        let found = validate(&spec).unwrap();
        assert!(
            found.iter().any(|d| d.message
                == "`network` is missing the required key `forced_tunnel` (a mapping with `next_hop_ip`)"),
            "{found:?}"
        );
    }

    #[test]
    fn whole_floats_where_integers_belong_are_type_errors() {
        let mut spec = minimal();
        spec["compute"][0]["max_instances"] = json!(4.0);
        let found = validate(&spec).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, Code::SchemaType);
        assert_eq!(
            found[0].message,
            "`compute[0].max_instances` must be an integer, found 4.0"
        );
        spec["compute"][0]["max_instances"] = json!(4.5);
        spec["tags"] = json!({"a": 1.0});
        spec["workspace"]["extra"] = json!({"n": 2.0});
        spec["network"]["nat"] = json!({"idle_timeout_minutes": 0.0});
        let found = codes(&spec);
        assert_eq!(found.len(), 5, "one per float, and the range: {found:?}");
    }

    #[test]
    fn compute_names_follow_azure_mls_rule() {
        let name_errors = |kind: &str, name: &str, attach: bool| {
            let mut spec = minimal();
            spec["compute"][0] = json!({"name": name, "type": kind, "subnet": "snet"});
            if kind == "virtualmachine" {
                spec["compute"][0]["attach"] = json!(attach);
            }
            validate(&spec).unwrap().len()
        };
        for name in ["ab", "cpu-1", "gpu-2024", "1cpu", "cpu_a", "cpu-"] {
            assert_eq!(name_errors("amlcompute", name, false), 1, "{name}");
            assert_eq!(name_errors("computeinstance", name, false), 1, "{name}");
        }
        for name in ["cpu", "cpu-a1", "gpu2024", "a-1b"] {
            assert_eq!(name_errors("amlcompute", name, false), 0, "{name}");
        }
        assert_eq!(name_errors("virtualmachine", "vm-1", false), 0);
        assert_eq!(name_errors("virtualmachine", "vm-1", true), 1);
        assert_eq!(name_errors("virtualmachine", "vm-a", true), 0);
    }

    #[test]
    fn a_mistyped_option_gets_the_closest_one() {
        let mut spec = minimal();
        spec["compute"][0]["type"] = json!("virtualmachin");
        let found = validate(&spec).unwrap();
        assert_eq!(
            found[0].help.as_deref(),
            Some("did you mean `virtualmachine`?")
        );
    }

    #[test]
    fn reserved_names_are_called_so() {
        let mut spec = minimal();
        spec["compute"][0] = json!({"name": "vm", "type": "virtualmachine", "subnet": "a", "admin_username": "root"});
        let found = validate(&spec).unwrap();
        assert_eq!(
            found[0].message,
            "`compute[0].admin_username`: \"root\" is a name Azure reserves"
        );
    }

    #[test]
    fn a_pattern_or_length_mismatch_explains_the_rule_in_words() {
        for name in ["Demo", "ab", &"a".repeat(41)] {
            let mut spec = minimal();
            spec["name"] = json!(name);
            let found = validate(&spec).unwrap();
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            let help = found[0].help.as_deref().unwrap_or_default();
            assert!(
                help.starts_with("Output folder and resource-name prefix: 3-40"),
                "{name}"
            );
        }
    }
}
