//! Merges a spec over its bases, and an environment over the spec, keeping where each value was
//! written.
//!
//! The rules (documented with examples in `docs/blueprints.md`):
//! - mappings merge key by key, in the base's order, new keys after;
//! - a scalar, or a value of another kind, replaces the base's;
//! - a list whose entries are all mappings with a `name` (in base and overlay alike) merges entry
//!   by entry on that name: an entry of the overlay changes the base's entry of the same name, or
//!   is added after the base's entries; any other list replaces the base's;
//! - `$remove` deletes what the overlay inherits: in a mapping, `$remove: [key, ...]` deletes
//!   those keys; in a named list, an entry `{name: x, $remove: true}` deletes entry `x`. A
//!   removal that matches nothing is an error, as is a `$remove` beside other keys of the entry.
//!
//! Every node of the result records its [`Origin`]: the layer (file) and the JSON Pointer it was
//! written at there, so a diagnostic can point at the base's line that set a value.

use serde_json::{Map, Value};

use crate::diag::pointer;

/// The key that removes what an overlay inherits.
pub(crate) const REMOVE: &str = "$remove";

/// Where a node of a merged spec was written: the layer, and its pointer in that layer's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) layer: usize,
    pub(crate) pointer: String,
}

/// A node of a merged spec with its origin.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Leaf(Value, Origin),
    Map(Vec<(String, Node)>, Origin),
    List(Vec<Node>, Origin),
}

/// A rule of the merge the overlay broke: which, the message, and the pointer, in the overlay's
/// file, of what broke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Broken {
    pub(crate) rule: Rule,
    pub(crate) layer: usize,
    pub(crate) pointer: String,
    pub(crate) message: String,
}

/// The rules of a blueprint an overlay can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// `$remove` names nothing inherited, or is malformed.
    Remove,
    /// A locked key set to another value, or a malformed `$lock`.
    Lock,
}

impl Node {
    /// The node of `value`, written in `layer` at `at`.
    pub(crate) fn of(value: &Value, layer: usize, at: &str) -> Node {
        let origin = Origin {
            layer,
            pointer: at.to_string(),
        };
        match value {
            Value::Object(members) => Node::Map(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), Node::of(v, layer, &pointer(at, k))))
                    .collect(),
                origin,
            ),
            Value::Array(items) => Node::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Node::of(v, layer, &pointer(at, i)))
                    .collect(),
                origin,
            ),
            other => Node::Leaf(other.clone(), origin),
        }
    }

    pub(crate) fn origin(&self) -> &Origin {
        match self {
            Node::Leaf(_, o) | Node::Map(_, o) | Node::List(_, o) => o,
        }
    }

    /// The plain value.
    pub(crate) fn value(&self) -> Value {
        match self {
            Node::Leaf(v, _) => v.clone(),
            Node::Map(members, _) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.value()))
                    .collect::<Map<_, _>>(),
            ),
            Node::List(items, _) => Value::Array(items.iter().map(Node::value).collect()),
        }
    }

    /// The node at the JSON Pointer `at` of the merged value.
    pub(crate) fn at(&self, at: &str) -> Option<&Node> {
        let mut node = self;
        for token in at.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            node = match node {
                Node::Map(members, _) => &members.iter().find(|(k, _)| *k == token)?.1,
                Node::List(items, _) => items.get(token.parse::<usize>().ok()?)?,
                Node::Leaf(..) => return None,
            };
        }
        Some(node)
    }

    /// Every node with its pointer in the merged value, the root first, depth first.
    pub(crate) fn walk(&self) -> Vec<(String, &Node)> {
        let mut out = Vec::new();
        self.walk_into(String::new(), &mut out);
        out
    }

    fn walk_into<'n>(&'n self, at: String, out: &mut Vec<(String, &'n Node)>) {
        out.push((at.clone(), self));
        match self {
            Node::Map(members, _) => {
                for (k, v) in members {
                    v.walk_into(pointer(&at, k), out);
                }
            }
            Node::List(items, _) => {
                for (i, v) in items.iter().enumerate() {
                    v.walk_into(pointer(&at, i), out);
                }
            }
            Node::Leaf(..) => {}
        }
    }

    /// The entry of a map node named `key`, removed.
    pub(crate) fn take(&mut self, key: &str) -> Option<Node> {
        let Node::Map(members, _) = self else {
            return None;
        };
        let at = members.iter().position(|(k, _)| k == key)?;
        Some(members.remove(at).1)
    }
}

/// `overlay` merged over `base`; what it broke goes to `broken`, located by the overlay's
/// origins.
pub(crate) fn merge(base: Node, overlay: Node, broken: &mut Vec<Broken>) -> Node {
    match (base, overlay) {
        (Node::Map(members, origin), Node::Map(over, _)) => {
            Node::Map(merge_map(members, over, broken), origin)
        }
        (Node::List(items, origin), Node::List(over, _)) if named(&items, &over) => {
            Node::List(merge_named(items, over, broken), origin)
        }
        (_, overlay) => {
            reject_removals(&overlay, broken);
            overlay
        }
    }
}

/// The error of a rule `node` (written where its origin says) breaks.
fn broken_at(node: &Node, message: String) -> Broken {
    Broken {
        rule: Rule::Remove,
        layer: node.origin().layer,
        pointer: node.origin().pointer.clone(),
        message,
    }
}

fn merge_map(
    mut members: Vec<(String, Node)>,
    mut over: Vec<(String, Node)>,
    broken: &mut Vec<Broken>,
) -> Vec<(String, Node)> {
    if let Some(at) = over.iter().position(|(k, _)| k == REMOVE) {
        let (_, removed) = over.remove(at);
        let keys: Vec<String> = match removed.value() {
            Value::Array(keys) => keys
                .iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect(),
            Value::String(key) => vec![key],
            _ => Vec::new(),
        };
        if keys.is_empty() {
            broken.push(broken_at(
                &removed,
                "`$remove` in a mapping takes the keys to remove: `$remove: [key, ...]`".into(),
            ));
        }
        for key in keys {
            match members.iter().position(|(k, _)| *k == key) {
                Some(i) => {
                    members.remove(i);
                }
                None => broken.push(broken_at(
                    &removed,
                    format!("`$remove` names `{key}`, which nothing this spec extends sets"),
                )),
            }
        }
    }
    for (key, node) in over {
        match members.iter().position(|(k, _)| *k == key) {
            Some(i) => {
                let (name, base) = members.remove(i);
                members.insert(i, (name, merge(base, node, broken)));
            }
            None => {
                reject_removals(&node, broken);
                members.push((key, node));
            }
        }
    }
    members
}

/// Whether both lists hold only mappings with a string `name`: they merge by name.
fn named(base: &[Node], over: &[Node]) -> bool {
    let all_named = |nodes: &[Node]| nodes.iter().all(|n| name_of_node(n).is_some());
    all_named(base) && all_named(over) && !(base.is_empty() && over.is_empty())
}

fn name_of_node(node: &Node) -> Option<&str> {
    let Node::Map(members, _) = node else {
        return None;
    };
    members.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("name", Node::Leaf(Value::String(s), _)) => Some(s.as_str()),
        _ => None,
    })
}

fn merge_named(mut items: Vec<Node>, over: Vec<Node>, broken: &mut Vec<Broken>) -> Vec<Node> {
    for mut entry in over {
        let name = name_of_node(&entry).unwrap_or_default().to_string();
        let found = items
            .iter()
            .position(|n| name_of_node(n) == Some(name.as_str()));
        let removal = entry.take(REMOVE);
        let alone = matches!(&entry, Node::Map(members, _) if members.len() == 1);
        match (found, removal) {
            (Some(j), Some(Node::Leaf(Value::Bool(true), _))) if alone => {
                items.remove(j);
            }
            (None, Some(removal @ Node::Leaf(Value::Bool(true), _))) if alone => {
                broken.push(broken_at(
                    &removal,
                    format!(
                        "`$remove` names the entry `{name}`, which nothing this spec extends has"
                    ),
                ));
            }
            (_, Some(removal)) => broken.push(broken_at(
                &removal,
                "an entry that removes takes only its `name` and `$remove: true`".into(),
            )),
            (Some(j), None) => {
                let base = items.remove(j);
                items.insert(j, merge(base, entry, broken));
            }
            (None, None) => {
                reject_removals(&entry, broken);
                items.push(entry);
            }
        }
    }
    items
}

/// A `$remove` in a value that merges with nothing (added, or replacing a value of another kind)
/// removes nothing: an error.
fn reject_removals(node: &Node, broken: &mut Vec<Broken>) {
    for (_, n) in node.walk() {
        if let Node::Map(members, _) = n {
            for (k, v) in members {
                if k == REMOVE {
                    broken.push(Broken {
                        rule: Rule::Remove,
                        layer: v.origin().layer,
                        pointer: v.origin().pointer.clone(),
                        message: "`$remove` here removes nothing: nothing this spec extends is at this place".into(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(base: Value, overlay: Value) -> (Value, Vec<Broken>) {
        let mut broken = Vec::new();
        let node = merge(
            Node::of(&base, 0, ""),
            Node::of(&overlay, 1, ""),
            &mut broken,
        );
        (node.value(), broken)
    }

    #[test]
    fn mappings_merge_key_by_key_and_scalars_replace() {
        let (value, broken) = merged(
            json!({"name": "base", "network": {"outbound": "locked", "egress": "nat"}}),
            json!({"network": {"egress": "forced_tunnel"}, "location": "eastus2"}),
        );
        assert!(broken.is_empty());
        assert_eq!(
            value,
            json!({"name": "base", "network": {"outbound": "locked", "egress": "forced_tunnel"}, "location": "eastus2"})
        );
    }

    #[test]
    fn named_lists_merge_by_name_and_other_lists_replace() {
        let (value, broken) = merged(
            json!({
                "compute": [
                    {"name": "cpu", "type": "amlcompute", "max_instances": 4},
                    {"name": "gpu", "type": "amlcompute", "max_instances": 2}
                ],
                "address_space": ["10.0.0.0/16", "10.1.0.0/16"]
            }),
            json!({
                "compute": [
                    {"name": "gpu", "max_instances": 8},
                    {"name": "ci", "type": "computeinstance"}
                ],
                "address_space": ["10.9.0.0/16"]
            }),
        );
        assert!(broken.is_empty());
        assert_eq!(
            value,
            json!({
                "compute": [
                    {"name": "cpu", "type": "amlcompute", "max_instances": 4},
                    {"name": "gpu", "type": "amlcompute", "max_instances": 8},
                    {"name": "ci", "type": "computeinstance"}
                ],
                "address_space": ["10.9.0.0/16"]
            })
        );
    }

    #[test]
    fn removals_delete_inherited_entries_and_keys_and_must_match() {
        let (value, broken) = merged(
            json!({"compute": [{"name": "cpu"}, {"name": "gpu"}], "tags": {"a": "1", "b": "2"}}),
            json!({"compute": [{"name": "gpu", "$remove": true}], "tags": {"$remove": ["a"]}}),
        );
        assert!(broken.is_empty(), "{broken:?}");
        assert_eq!(
            value,
            json!({"compute": [{"name": "cpu"}], "tags": {"b": "2"}})
        );
        let (_, broken) = merged(
            json!({"compute": [{"name": "cpu"}], "tags": {"a": "1"}}),
            json!({"compute": [{"name": "gpu", "$remove": true}], "tags": {"$remove": ["z"]}, "new": {"$remove": ["x"]}}),
        );
        let places: Vec<&str> = broken.iter().map(|b| b.pointer.as_str()).collect();
        // serde_json's maps keep their keys sorted: `new` before `tags`.
        assert_eq!(
            places,
            ["/compute/0/$remove", "/new/$remove", "/tags/$remove"]
        );
        assert!(broken[0].message.contains("`gpu`"));
        assert!(broken[2].message.contains("`z`"));
    }

    #[test]
    fn every_node_knows_the_layer_and_place_it_was_written() {
        let mut broken = Vec::new();
        let base = json!({"compute": [{"name": "cpu", "max_instances": 4, "size": "D4"}]});
        let overlay = json!({"compute": [{"name": "cpu", "max_instances": 16}]});
        let node = merge(
            Node::of(&base, 0, ""),
            Node::of(&overlay, 1, ""),
            &mut broken,
        );
        let origin = |at: &str| node.at(at).unwrap().origin().clone();
        assert_eq!(
            origin("/compute/0/max_instances"),
            Origin {
                layer: 1,
                pointer: "/compute/0/max_instances".into()
            }
        );
        assert_eq!(
            origin("/compute/0/size"),
            Origin {
                layer: 0,
                pointer: "/compute/0/size".into()
            }
        );
        // An environment overlay is written under its own key of the spec's file.
        let dev = json!({"compute": [{"name": "cpu", "size": "D8"}]});
        let env = merge(node, Node::of(&dev, 1, "/environments/dev"), &mut broken);
        assert_eq!(
            env.at("/compute/0/size").unwrap().origin().pointer,
            "/environments/dev/compute/0/size"
        );
    }
}
