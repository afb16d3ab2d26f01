//! `amlgen resolve`: a merged spec printed as YAML, each value with the file and line that set
//! it, as `git blame` does for text.

use std::sync::Arc;

use serde_json::Value;

use super::Layer;
use super::merge::{Node, Origin};

/// `node` as YAML, with `# file:line` after every scalar (and after the first line of every list
/// entry that is a mapping, for the entry itself).
pub(crate) fn blame(node: &Node, layers: &[Arc<Layer>]) -> String {
    let mut out = String::new();
    match node {
        Node::Map(members, _) => map(members, 0, layers, &mut out),
        other => line(&mut out, 0, &scalar(&other.value()), other.origin(), layers),
    }
    out
}

fn map(members: &[(String, Node)], indent: usize, layers: &[Arc<Layer>], out: &mut String) {
    for (key, value) in members {
        let key = scalar(&Value::String(key.clone()));
        match value {
            Node::Leaf(v, origin) => {
                line(
                    out,
                    indent,
                    &format!("{key}: {}", scalar(v)),
                    origin,
                    layers,
                );
            }
            Node::Map(inner, _) if inner.is_empty() => {
                line(out, indent, &format!("{key}: {{}}"), value.origin(), layers);
            }
            Node::List(items, _) if items.is_empty() => {
                line(out, indent, &format!("{key}: []"), value.origin(), layers);
            }
            Node::Map(inner, _) => {
                out.push_str(&format!("{}{key}:\n", "  ".repeat(indent)));
                map(inner, indent + 1, layers, out);
            }
            Node::List(items, _) => {
                out.push_str(&format!("{}{key}:\n", "  ".repeat(indent)));
                list(items, indent + 1, layers, out);
            }
        }
    }
}

fn list(items: &[Node], indent: usize, layers: &[Arc<Layer>], out: &mut String) {
    for item in items {
        match item {
            Node::Map(members, _) if !members.is_empty() => {
                // The entry's first member on the dash's line, the rest indented under it.
                let mut entry = String::new();
                map(members, indent + 1, layers, &mut entry);
                let pad = "  ".repeat(indent + 1);
                let first = entry.strip_prefix(&pad).unwrap_or(&entry);
                out.push_str(&format!("{}- {first}", "  ".repeat(indent)));
            }
            Node::List(inner, _) if !inner.is_empty() => {
                out.push_str(&format!("{}-\n", "  ".repeat(indent)));
                list(inner, indent + 1, layers, out);
            }
            other => line(
                out,
                indent,
                &format!("- {}", scalar(&other.value())),
                other.origin(),
                layers,
            ),
        }
    }
}

/// One line of YAML with the place its value was written.
fn line(out: &mut String, indent: usize, text: &str, origin: &Origin, layers: &[Arc<Layer>]) {
    out.push_str(&format!(
        "{}{text}  # {}\n",
        "  ".repeat(indent),
        place(origin, layers)
    ));
}

/// `file:line` of `origin`, or the file alone when its positions do not hold it.
fn place(origin: &Origin, layers: &[Arc<Layer>]) -> String {
    let Some(layer) = layers.get(origin.layer) else {
        return "?".into();
    };
    match layer.document.spans.find(&origin.pointer) {
        Some((span, _)) => format!("{}:{}", layer.source.path, span.value.start.line),
        None => layer.source.path.clone(),
    }
}

/// A scalar as YAML: plain when it reads back as the same string, else double-quoted (JSON's
/// quoting is YAML's).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) if plain(s) => s.clone(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        other => other.to_string(),
    }
}

/// Whether `text` can be written unquoted and read back as a string.
fn plain(text: &str) -> bool {
    let reserved = ["true", "false", "null", "yes", "no", "on", "off", "~"];
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && !reserved.iter().any(|r| r.eq_ignore_ascii_case(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;
    use serde_json::json;

    #[test]
    fn every_value_is_printed_with_the_line_that_set_it() {
        let text =
            "name: demo\ntags:\n  owner: \"1234\"\ncompute:\n  - name: cpu\n    max_instances: 4\n";
        let source = Source::new("spec.yaml", text);
        let document = crate::yaml::parse(&source).unwrap();
        let node = Node::of(&document.value, 0, "");
        let layers = vec![Arc::new(Layer { source, document })];
        assert_eq!(
            blame(&node, &layers),
            "compute:\n  - max_instances: 4  # spec.yaml:6\n    name: cpu  # spec.yaml:5\nname: demo  # spec.yaml:1\ntags:\n  owner: \"1234\"  # spec.yaml:3\n"
        );
        assert_eq!(scalar(&json!("10.0.0.0/16")), "\"10.0.0.0/16\"");
        assert_eq!(scalar(&json!("true")), "\"true\"");
        assert_eq!(scalar(&json!("eastus2")), "eastus2");
    }
}
