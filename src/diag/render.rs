//! Turns diagnostics into text for people (`human`) or tools (`json`).
//!
//! This is the only place that resolves a label's JSON Pointer to `file:line:col`, so every stage
//! before it stays free of text positions.

use std::fmt::Write as _;

use serde::Serialize;

use super::{At, Diagnostic, Label, Severity};
use crate::source::{Position, Source, Span, SpanIndex};

/// The output format of diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `error[code]: message` with the spec line and a caret under the offending text.
    Human,
    /// One JSON array of objects with `code`, `severity`, `message`, `file`, `line`, `column`.
    Json,
}

/// Renders `diagnostics` found in `source`, in the order given.
pub fn render(
    format: Format,
    source: &Source,
    spans: &SpanIndex,
    diagnostics: &[Diagnostic],
) -> String {
    match format {
        Format::Human => diagnostics
            .iter()
            .map(|d| human(source, spans, d))
            .collect(),
        Format::Json => json(source, spans, diagnostics),
    }
}

fn locate(spans: &SpanIndex, at: &At) -> Span {
    let origin = Position { line: 1, col: 1 };
    match at {
        At::Span(span) => *span,
        At::Key(pointer) => spans.find(pointer).map_or(
            Span {
                start: origin,
                end: origin,
            },
            |(n, _)| n.key.unwrap_or(n.value),
        ),
        // A value that was left out points at the key of the mapping that lacks it.
        At::Value(pointer) => spans.find(pointer).map_or(
            Span {
                start: origin,
                end: origin,
            },
            |(n, exact)| {
                if exact {
                    n.value
                } else {
                    n.key.unwrap_or(n.value)
                }
            },
        ),
    }
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn human(source: &Source, spans: &SpanIndex, diagnostic: &Diagnostic) -> String {
    let mut out = format!(
        "{}[{}]: {}\n",
        severity_word(diagnostic.severity),
        diagnostic.code.as_str(),
        diagnostic.message
    );
    snippet(&mut out, source, spans, &diagnostic.primary, "-->", '^');
    for label in &diagnostic.secondary {
        snippet(&mut out, source, spans, label, ":::", '-');
    }
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "   = help: {help}");
    }
    out.push('\n');
    out
}

fn snippet(
    out: &mut String,
    source: &Source,
    spans: &SpanIndex,
    label: &Label,
    arrow: &str,
    mark: char,
) {
    let span = locate(spans, &label.at);
    let start = span.start;
    let _ = writeln!(
        out,
        "  {arrow} {}:{}:{}",
        source.path, start.line, start.col
    );
    let Some(text) = source.line(start.line) else {
        return;
    };
    let gutter = start.line.to_string();
    let pad = " ".repeat(gutter.len());
    let line_chars = text.chars().count();
    let width = if span.end.line == start.line && span.end.col > start.col {
        span.end.col - start.col
    } else if span.end == start {
        1
    } else {
        line_chars
            .saturating_sub(start.col.saturating_sub(1))
            .max(1)
    };
    let indent: String = text
        .chars()
        .take(start.col.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{gutter} | {text}");
    let marks = mark.to_string().repeat(width);
    let sep = if label.text.is_empty() { "" } else { " " };
    let _ = writeln!(out, "{pad} | {indent}{marks}{sep}{}", label.text);
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    text: &'a str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    label: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonLabel<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

fn json(source: &Source, spans: &SpanIndex, diagnostics: &[Diagnostic]) -> String {
    let items: Vec<JsonDiagnostic<'_>> = diagnostics
        .iter()
        .map(|d| {
            let start = locate(spans, &d.primary.at).start;
            let related = d
                .secondary
                .iter()
                .map(|l| {
                    let at = locate(spans, &l.at).start;
                    JsonLabel {
                        file: &source.path,
                        line: at.line,
                        column: at.col,
                        text: &l.text,
                    }
                })
                .collect();
            JsonDiagnostic {
                code: d.code.as_str(),
                severity: d.severity,
                message: &d.message,
                file: &source.path,
                line: start.line,
                column: start.col,
                label: &d.primary.text,
                related,
                help: d.help.as_deref(),
            }
        })
        .collect();
    // Serializing plain structs of strings and integers cannot fail.
    let mut text = serde_json::to_string_pretty(&items).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::source::NodeSpan;

    fn fixture() -> (Source, SpanIndex) {
        let source = Source::new("spec.yaml", "name: x\nlocation: mars\n");
        let mut spans = SpanIndex::default();
        let key = Span {
            start: Position { line: 2, col: 1 },
            end: Position { line: 2, col: 9 },
        };
        let value = Span {
            start: Position { line: 2, col: 11 },
            end: Position { line: 2, col: 15 },
        };
        spans.insert(
            "/location".into(),
            NodeSpan {
                key: Some(key),
                value,
            },
        );
        (source, spans)
    }

    #[test]
    fn human_output_points_at_the_value() {
        let (source, spans) = fixture();
        let d = Diagnostic::error(
            Code::RegionUnknown,
            "unknown region `mars`",
            Label::value("/location", "not a region"),
        )
        .with_help("run `az account list-locations`");
        let text = render(Format::Human, &source, &spans, &[d]);
        let expected = "error[region-unknown]: unknown region `mars`\n  --> spec.yaml:2:11\n  |\n2 | location: mars\n  |           ^^^^ not a region\n   = help: run `az account list-locations`\n\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn json_output_carries_line_and_column() {
        let (source, spans) = fixture();
        let d = Diagnostic::error(
            Code::SchemaUnknownKey,
            "unknown key",
            Label::key("/location", ""),
        );
        let value: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &source, &spans, &[d])).unwrap();
        assert_eq!(value[0]["code"], "schema-unknown-key");
        assert_eq!(value[0]["line"], 2);
        assert_eq!(value[0]["column"], 1);
    }
}
