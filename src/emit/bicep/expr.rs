//! Bicep's spelling of the model's values and expressions: single-quoted strings with `${}`
//! interpolation, symbolic references (`vnet.id`, `nic.properties...`), and object keys quoted
//! only where Bicep requires it.
//!
//! This and `emit::arm::expr` are the two places that can disagree on what a reference means;
//! the integration tests evaluate both over the rendered examples and compare.

use crate::azure::resource::{RESOURCE_GROUP_TYPE, ROLE_DEFINITION_TYPE, SUBNET_TYPE};
use crate::model::{Expr, Object, Part, Step, Value};

/// Escapes text for the inside of a single-quoted Bicep string: the escapes Bicep knows, `$` so
/// that no `${` can start an interpolation, and every other control character as `\u{..}`.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// Appends `text` escaped for the inside of a single-quoted Bicep string.
fn push_escaped(out: &mut String, text: &str) {
    // Most text needs no escape: copied whole. Every character below starts with one of these
    // bytes (0xC2 leads U+0080-U+00BF, which holds the C1 controls).
    let special = |b: &u8| matches!(b, 0..=0x1F | b'\\' | b'\'' | b'$' | 0x7F | 0xC2);
    if !text.as_bytes().iter().any(special) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("\\$"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", u32::from(c))),
            other => out.push(other),
        }
    }
}

fn quoted(text: &str) -> String {
    format!("'{}'", escape(text))
}

/// Whether an object key can be written bare: an identifier that is not a keyword, at most 255
/// characters long.
fn bare_key(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && text.len() <= 255
        && !matches!(text, "true" | "false" | "null")
}

/// Appends an object key: bare where Bicep accepts it, quoted otherwise.
fn push_key(out: &mut String, text: &str) {
    if bare_key(text) {
        out.push_str(text);
    } else {
        out.push('\'');
        push_escaped(out, text);
        out.push('\'');
    }
}

/// Appends `indent` spaces.
fn pad(out: &mut String, indent: usize) {
    const SPACES: &str = "                                ";
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        left -= n;
    }
}

/// Appends `value`, its nested lines indented by `indent` spaces more than the line it starts
/// on.
pub(super) fn write_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Str(text) => {
            out.push('\'');
            push_escaped(out, text);
            out.push('\'');
        }
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Expr(e) => out.push_str(&expr(e)),
        Value::Object(o) if o.0.is_empty() => out.push_str("{}"),
        Value::Object(o) => {
            out.push_str("{\n");
            write_entries(out, o, indent + 2);
            pad(out, indent);
            out.push('}');
        }
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for item in items {
                pad(out, indent + 2);
                write_value(out, item, indent + 2);
                out.push('\n');
            }
            pad(out, indent);
            out.push(']');
        }
    }
}

/// Appends the `key: value` lines of `object`, at `indent` spaces.
pub(super) fn write_entries(out: &mut String, object: &Object, indent: usize) {
    for (k, v) in &object.0 {
        pad(out, indent);
        push_key(out, k);
        out.push_str(": ");
        write_value(out, v, indent);
        out.push('\n');
    }
}

/// `value` as text, nested lines indented by `indent` spaces.
pub(super) fn value(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_value(&mut out, value, indent);
    out
}

/// An expression.
pub(super) fn expr(expr: &Expr) -> String {
    match expr {
        Expr::Param(name) => name.clone(),
        Expr::Str(text) => quoted(text),
        Expr::Id(symbol) => format!("{symbol}.id"),
        Expr::Name(symbol) => format!("{symbol}.name"),
        Expr::Property(symbol, steps) => format!("{symbol}.properties{}", Step::path(steps)),
        Expr::ListKeys(symbol, steps) => format!("{symbol}.listKeys(){}", Step::path(steps)),
        Expr::SubnetId { vnet, subnet } => format!(
            "resourceId('{SUBNET_TYPE}', {vnet}.name, {})",
            quoted(subnet)
        ),
        Expr::ModuleOutput { module, output } => format!("{module}.outputs.{output}"),
        Expr::ResourceGroupIdOf(group) => format!(
            "subscriptionResourceId('{RESOURCE_GROUP_TYPE}', {})",
            quoted(group)
        ),
        Expr::ResourceGroupId
        | Expr::ResourceGroupName
        | Expr::ResourceGroupLocation
        | Expr::StorageSuffix
        | Expr::TenantId => expr.builtin().unwrap_or_default().to_string(),
        Expr::ResourceIdIn { .. } => {
            let args: Vec<String> = expr.resource_id_args().into_iter().map(quoted).collect();
            format!("resourceId({})", args.join(", "))
        }
        Expr::PrincipalId(symbol) => format!("{symbol}.identity.principalId"),
        Expr::RoleDefinitionId(role) => format!(
            "subscriptionResourceId('{ROLE_DEFINITION_TYPE}', {})",
            quoted(role)
        ),
        Expr::Guid(args) => format!("guid({})", list(args)),
        Expr::UniqueString(args) => format!("uniqueString({})", list(args)),
        Expr::Interpolate(parts) => interpolate(parts),
    }
}

fn list(args: &[Expr]) -> String {
    args.iter().map(expr).collect::<Vec<_>>().join(", ")
}

/// `'text${expr}text'`; a lone expression is printed as it is.
fn interpolate(parts: &[Part]) -> String {
    if let [Part::Expr(e)] = parts {
        return expr(e);
    }
    let mut out = String::from("'");
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(&escape(text)),
            Part::Expr(e) => {
                out.push_str("${");
                out.push_str(&expr(e));
                out.push('}');
            }
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_values_inside_their_string() {
        assert_eq!(escape("a'b\\c${x}\n\u{1b}"), "a\\'b\\\\c\\${x}\\n\\u{1B}");
        assert_eq!(escape("é\u{a0}plain"), "é\u{a0}plain");
        for control in (0..0x20).chain(0x7F..0xA0).filter_map(char::from_u32) {
            let escaped = escape(&format!("a{control}"));
            assert!(
                escaped.starts_with("a\\") && !escaped.contains(control),
                "{escaped:?}"
            );
        }
    }

    #[test]
    fn keys_are_quoted_only_where_bicep_requires_it() {
        let key = |text: &str| {
            let mut out = String::new();
            push_key(&mut out, text);
            out
        };
        assert_eq!(key("costCenter"), "costCenter");
        assert_eq!(key("_x1"), "_x1");
        assert_eq!(key("cost-center"), "'cost-center'");
        assert_eq!(key("1st"), "'1st'");
        assert_eq!(key("true"), "'true'");
        assert_eq!(key("null"), "'null'");
        assert_eq!(
            key("restAuthCredential.isEnabled"),
            "'restAuthCredential.isEnabled'"
        );
        assert_eq!(key("it's"), "'it\\'s'");
        assert_eq!(key(&"a".repeat(255)), "a".repeat(255));
        assert_eq!(key(&"a".repeat(256)), format!("'{}'", "a".repeat(256)));
    }

    #[test]
    fn nested_values_are_indented_one_level_per_depth() {
        let v = Value::from(
            Object::new()
                .with(
                    "a",
                    vec![Value::from(
                        Object::new().with("id", Expr::Id("nic".into())),
                    )],
                )
                .with(
                    "b",
                    Expr::prefixed("st", Expr::UniqueString(vec![Expr::ResourceGroupId])),
                ),
        );
        assert_eq!(
            value(&v, 0),
            "{\n  a: [\n    {\n      id: nic.id\n    }\n  ]\n  b: 'st${uniqueString(resourceGroup().id)}'\n}"
        );
    }
}
