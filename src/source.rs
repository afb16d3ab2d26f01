//! A spec file's text and the map from JSON Pointers to positions in it.
//!
//! The YAML stage records where every key and value starts and ends; everything later names
//! places by JSON Pointer, and this module turns a pointer back into `line:col` for rendering.

use std::collections::BTreeMap;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub col: usize,
}

/// A range of text, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

/// The key span (absent for sequence items and the root) and value span of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    pub key: Option<Span>,
    pub value: Span,
}

/// JSON Pointer -> where that node is written.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    nodes: BTreeMap<String, NodeSpan>,
}

impl SpanIndex {
    pub fn insert(&mut self, pointer: String, span: NodeSpan) {
        self.nodes.insert(pointer, span);
    }

    /// The span of the node at `pointer`, or of its nearest ancestor that was written down (a
    /// key that was left out, and took its default, points at the mapping that lacks it). The
    /// flag is `true` when the node itself was found.
    pub fn find(&self, pointer: &str) -> Option<(NodeSpan, bool)> {
        let mut current = pointer;
        loop {
            if let Some(span) = self.nodes.get(current) {
                return Some((*span, current.len() == pointer.len()));
            }
            current = &current[..current.rfind('/')?];
        }
    }
}

/// A spec file as read from disk.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as the user gave it (never made absolute: it appears in messages).
    pub path: String,
    pub text: String,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    /// The text of 1-based line `line`, without its line ending.
    pub fn line(&self, line: usize) -> Option<&str> {
        self.text.lines().nth(line.checked_sub(1)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(line: usize) -> NodeSpan {
        let at = Position { line, col: 1 };
        NodeSpan {
            key: None,
            value: Span { start: at, end: at },
        }
    }

    #[test]
    fn find_falls_back_to_the_nearest_ancestor() {
        let mut index = SpanIndex::default();
        index.insert(String::new(), span(1));
        index.insert("/network".into(), span(4));
        assert_eq!(
            index.find("/network/vnet/name").unwrap().0.value.start.line,
            4
        );
        assert!(index.find("/network").unwrap().1);
        assert_eq!(index.find("/compute").unwrap().0.value.start.line, 1);
    }

    #[test]
    fn lines_are_one_based() {
        let source = Source::new("s.yaml", "a: 1\r\nb: 2\n");
        assert_eq!(source.line(2), Some("b: 2"));
        assert_eq!(source.line(0), None);
    }
}
