//! Diagnostics: every problem amlgen finds in a user's spec.
//!
//! A [`Diagnostic`] carries a stable [`Code`], a message, a primary [`Label`] that points into the
//! spec, optional secondary labels and a help line. The stages that inspect a spec (YAML parsing,
//! the JSON Schema, the semantic checks) collect diagnostics instead of stopping at the first; the
//! pipeline refuses to emit anything while an error stands. Labels point at JSON Pointers into the
//! spec, resolved to `line:col` only when rendered, so checks never deal with text positions.

mod code;
mod render;

pub use code::Code;
pub use render::{Findings, Format, escape, render};
pub(crate) use render::{json_document, sarif_uri};

use std::borrow::Cow;

use crate::source::Span;

/// How bad a diagnostic is: errors block rendering, warnings never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Where in the spec a label points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum At {
    /// The key of the member at this JSON Pointer (for unknown or duplicate keys).
    Key(String),
    /// The value at this JSON Pointer.
    Value(String),
    /// A raw range of text, for problems found before there is a document (YAML syntax).
    Span(Span),
}

/// A pointer into the spec with a short text shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub at: At,
    pub text: String,
}

impl Label {
    /// A label on the value at `pointer`.
    pub fn value(pointer: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            at: At::Value(pointer.into()),
            text: text.into(),
        }
    }

    /// A label on the key of the member at `pointer`.
    pub fn key(pointer: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            at: At::Key(pointer.into()),
            text: text.into(),
        }
    }
}

/// One problem in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with the given code, message and primary label.
    pub fn error(code: Code, message: impl Into<String>, primary: Label) -> Self {
        Self::new(code, Severity::Error, message, primary)
    }

    /// A warning with the given code, message and primary label.
    pub fn warning(code: Code, message: impl Into<String>, primary: Label) -> Self {
        Self::new(code, Severity::Warning, message, primary)
    }

    /// A diagnostic whose severity depends on the spec.
    pub fn new(code: Code, severity: Severity, message: impl Into<String>, primary: Label) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
            primary,
            secondary: Vec::new(),
            help: None,
        }
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.secondary.push(label);
        self
    }

    /// Adds the help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// True when any diagnostic in `diagnostics` is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

/// The most diagnostics of one code that one spec reports; the rest are counted in one more.
pub const MAX_PER_CODE: usize = 100;

/// `diagnostics` with at most [`MAX_PER_CODE`] of each code, in their order; each code with
/// more gets one diagnostic that says how many were left out, at the first of them. A spec of a
/// hundred thousand unknown keys is reported in a moment, not in minutes.
pub fn cap(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut count: std::collections::BTreeMap<Code, usize> = std::collections::BTreeMap::new();
    let mut kept = Vec::new();
    let mut first_left_out: Vec<Diagnostic> = Vec::new();
    for diagnostic in diagnostics {
        let seen = count.entry(diagnostic.code).or_default();
        *seen += 1;
        if *seen <= MAX_PER_CODE {
            kept.push(diagnostic);
        } else if *seen == MAX_PER_CODE + 1 {
            first_left_out.push(diagnostic);
        }
    }
    for left_out in first_left_out {
        let more = count[&left_out.code] - MAX_PER_CODE;
        let code = left_out.code;
        kept.push(Diagnostic::new(
            code,
            left_out.severity,
            format!(
                "and {more} more `{}` diagnostics in this spec, from here on (only the first {MAX_PER_CODE} of a code are listed)",
                code.as_str()
            ),
            Label {
                at: left_out.primary.at,
                text: "the first one left out".into(),
            },
        ));
    }
    kept
}

/// Escapes one reference token of a JSON Pointer (RFC 6901); most need no escape and are
/// borrowed.
pub fn pointer_token(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Joins a JSON Pointer and one more token.
pub fn pointer(parent: &str, token: impl std::fmt::Display) -> String {
    let token = token.to_string();
    let token = pointer_token(&token);
    let mut out = String::with_capacity(parent.len() + 1 + token.len());
    out.push_str(parent);
    out.push('/');
    out.push_str(&token);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(pointer("/tags", "a/b~c"), "/tags/a~1b~0c");
        assert_eq!(pointer("", 3), "/3");
    }

    #[test]
    fn each_code_is_capped_with_a_count_of_the_rest() {
        let many: Vec<Diagnostic> = (0..250)
            .map(|i| {
                Diagnostic::error(
                    Code::SchemaUnknownKey,
                    "k",
                    Label::key(format!("/k{i}"), ""),
                )
            })
            .chain([Diagnostic::error(
                Code::CidrOverlap,
                "o",
                Label::value("", ""),
            )])
            .collect();
        let capped = cap(many);
        assert_eq!(capped.len(), MAX_PER_CODE + 2);
        let last = capped.last().unwrap();
        assert_eq!(
            last.message,
            "and 150 more `schema-unknown-key` diagnostics in this spec, from here on (only the first 100 of a code are listed)"
        );
        assert_eq!(last.primary.at, At::Key("/k100".into()));
    }

    #[test]
    fn warnings_do_not_count_as_errors() {
        let warning = Diagnostic::warning(Code::DefaultOutboundAccess, "w", Label::value("", ""));
        assert!(!has_errors(std::slice::from_ref(&warning)));
        let error = Diagnostic::error(Code::CidrOverlap, "e", Label::value("", ""));
        assert!(has_errors(&[warning, error]));
    }
}
