//! Puts the diagnostics of a merged spec back where their values were written.
//!
//! The checks see the merged spec and name places by JSON Pointer into it; each pointer is
//! followed through the merged tree to the node (or its nearest written ancestor) and so to the
//! layer and the pointer in that layer's file. A diagnostic is shown in the file of its primary
//! label; a secondary label in another file becomes a line of help naming that file, line and
//! column.

use crate::diag::{At, Diagnostic, Label};

use super::Layer;
use super::merge::{Node, Origin};

/// A diagnostic, moved to the layer it belongs to.
#[derive(Debug)]
pub(crate) struct Placed {
    pub(crate) layer: usize,
    pub(crate) diagnostic: Diagnostic,
}

/// `diagnostic` (about the merged spec `node`) moved to the file of its primary label.
pub(crate) fn place(
    diagnostic: Diagnostic,
    node: &Node,
    layers: &[std::sync::Arc<Layer>],
) -> Placed {
    let (layer, primary) = relabel(&diagnostic.primary, node);
    let mut secondary = Vec::new();
    let mut elsewhere = Vec::new();
    for label in &diagnostic.secondary {
        let (at, moved) = relabel(label, node);
        if at == layer {
            secondary.push(moved);
        } else if let Some(where_) = position(&moved, &layers[at]) {
            elsewhere.push(format!("{} ({where_})", moved.text));
        }
    }
    let help = match (diagnostic.help, elsewhere.is_empty()) {
        (help, true) => help,
        (Some(help), false) => Some(format!("{help}; see also {}", elsewhere.join(", "))),
        (None, false) => Some(format!("see also {}", elsewhere.join(", "))),
    };
    Placed {
        layer,
        diagnostic: Diagnostic {
            primary,
            secondary,
            help,
            ..diagnostic
        },
    }
}

/// The layer `label` points into, and the label with its pointer in that layer's file.
fn relabel(label: &Label, node: &Node) -> (usize, Label) {
    let (pointer, key) = match &label.at {
        At::Key(p) => (p, true),
        At::Value(p) => (p, false),
        At::Span(_) => return (node.origin().layer, label.clone()),
    };
    let (origin, rest) = origin_of(node, pointer);
    let moved = format!("{}{rest}", origin.pointer);
    let at = if key {
        At::Key(moved)
    } else {
        At::Value(moved)
    };
    (
        origin.layer,
        Label {
            at,
            text: label.text.clone(),
        },
    )
}

/// The origin of the deepest node on the way to `pointer`, and the part of `pointer` below it
/// (a key left out, which took its default, is located at the mapping that lacks it).
fn origin_of<'n>(node: &'n Node, pointer: &str) -> (&'n Origin, String) {
    let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut found = node;
    let mut depth = 0;
    for token in &tokens {
        let decoded = token.replace("~1", "/").replace("~0", "~");
        let next = match found {
            Node::Map(members, _) => members.iter().find(|(k, _)| *k == decoded).map(|(_, v)| v),
            Node::List(items, _) => decoded.parse::<usize>().ok().and_then(|i| items.get(i)),
            Node::Leaf(..) => None,
        };
        match next {
            Some(n) => {
                found = n;
                depth += 1;
            }
            None => break,
        }
    }
    let rest: String = tokens[depth..].iter().map(|t| format!("/{t}")).collect();
    (found.origin(), rest)
}

/// `path:line:col` of `label` in `layer`, when the layer's positions hold it.
fn position(label: &Label, layer: &Layer) -> Option<String> {
    let pointer = match &label.at {
        At::Key(p) | At::Value(p) => p,
        At::Span(_) => return None,
    };
    let (span, _) = layer.document.spans.find(pointer)?;
    let start = span.key.unwrap_or(span.value).start;
    Some(format!(
        "{}:{}:{}",
        layer.source.path, start.line, start.col
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use serde_json::json;

    #[test]
    fn a_pointer_into_the_merged_spec_points_into_the_file_that_wrote_it() {
        let base = Node::of(
            &json!({"compute": [{"name": "a", "max_instances": 4}]}),
            0,
            "",
        );
        let overlay = Node::of(
            &json!({"compute": [{"name": "b"}, {"name": "a", "size": "x"}]}),
            1,
            "",
        );
        let node = super::super::merge::merge(base, overlay, &mut Vec::new());
        let (origin, rest) = origin_of(&node, "/compute/0/max_instances");
        assert_eq!(
            (origin.layer, origin.pointer.as_str(), rest.as_str()),
            (0, "/compute/0/max_instances", "")
        );
        let (origin, rest) = origin_of(&node, "/compute/0/size");
        assert_eq!(
            (origin.layer, origin.pointer.as_str(), rest.as_str()),
            (1, "/compute/1/size", "")
        );
        let (origin, rest) = origin_of(&node, "/compute/1/tier");
        assert_eq!(
            (origin.layer, origin.pointer.as_str(), rest.as_str()),
            (1, "/compute/0", "/tier")
        );
        let d = Diagnostic::error(
            Code::SchemaValue,
            "bad",
            Label::value("/compute/0/max_instances", "here"),
        );
        let placed = place(d, &node, &[]);
        assert_eq!(placed.layer, 0);
        assert_eq!(
            placed.diagnostic.primary.at,
            At::Value("/compute/0/max_instances".into())
        );
    }
}
