//! Turns the diagnostics of a whole run into one document, for people (`human`) or tools
//! (`json`, `sarif`).
//!
//! This is the only place that resolves a label's JSON Pointer to `file:line:col`, so every stage
//! before it stays free of text positions. Diagnostics come out sorted by file, line and column.
//! Human text is printed on a terminal, so every character of the input that could steer it
//! (control characters, bidirectional overrides) is escaped, and long quoted values and lines
//! are cut with an ellipsis; the machine formats carry the text whole, escaped by JSON.

use annotate_snippets::{Annotation, AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use serde::Serialize;
use serde_json::json;

use super::{At, Code, Diagnostic, Label, Severity};
use crate::source::{Position, Source, Span, SpanIndex};

/// The output format of diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `error[code]: message` with the spec line and a caret under the offending text.
    Human,
    /// One JSON array of objects with `code`, `severity`, `message`, `file`, `line`, `column`.
    Json,
    /// One SARIF 2.1.0 log, for code-scanning tools (GitHub, Azure DevOps).
    Sarif,
}

/// The diagnostics of one spec, with what locates them in its text.
#[derive(Debug, Clone, Copy)]
pub struct Findings<'a> {
    pub source: &'a Source,
    pub spans: &'a SpanIndex,
    pub diagnostics: &'a [Diagnostic],
}

/// Renders the diagnostics of a whole run as one document. Human text is empty when there is
/// nothing to say; the machine formats always print a document (`[]` when all is valid).
pub fn render(format: Format, findings: &[Findings<'_>]) -> String {
    let mut located: Vec<Located<'_>> = findings
        .iter()
        .flat_map(|f| f.diagnostics.iter().map(move |d| Located::new(f, d)))
        .collect();
    located.sort_by(|a, b| (a.file(), a.start).cmp(&(b.file(), b.start)));
    match format {
        Format::Human => located.iter().map(human).collect(),
        Format::Json => json_document(&json(&located)),
        Format::Sarif => json_document(&sarif(&located)),
    }
}

/// A diagnostic with its primary position resolved.
struct Located<'a> {
    source: &'a Source,
    spans: &'a SpanIndex,
    diagnostic: &'a Diagnostic,
    start: Position,
}

impl<'a> Located<'a> {
    fn new(findings: &Findings<'a>, diagnostic: &'a Diagnostic) -> Self {
        Self {
            source: findings.source,
            spans: findings.spans,
            diagnostic,
            start: locate(findings.spans, &diagnostic.primary.at).start,
        }
    }

    fn file(&self) -> &'a str {
        &self.source.path
    }

    fn span(&self, label: &Label) -> Span {
        locate(self.spans, &label.at)
    }
}

fn locate(spans: &SpanIndex, at: &At) -> Span {
    let origin = Position { line: 1, col: 1 };
    let found = match at {
        At::Span(span) => return *span,
        At::Key(pointer) => spans.find(pointer).map(|(n, _)| n.key.unwrap_or(n.value)),
        // A value that was left out points at the key of the mapping that lacks it.
        At::Value(pointer) => spans.find(pointer).map(|(n, exact)| {
            if exact {
                n.value
            } else {
                n.key.unwrap_or(n.value)
            }
        }),
    };
    found.unwrap_or(Span {
        start: origin,
        end: origin,
    })
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Quoted values longer than this many characters are cut in human text.
const QUOTED_MAX: usize = 60;

/// One diagnostic as `annotate-snippets` draws it (rustc's layout): the title with its code, the
/// spec lines its labels mark (lines between them folded, long lines cut around the mark), and
/// the help. Styled with ANSI colours; `cli` strips them where colour is off.
fn human(located: &Located<'_>) -> String {
    let diagnostic = located.diagnostic;
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level
        .primary_title(readable(&diagnostic.message))
        .id(diagnostic.code.as_str());
    let file = escape(located.file());
    let labels: Vec<(&Label, Span)> = std::iter::once(&diagnostic.primary)
        .chain(&diagnostic.secondary)
        .map(|label| (label, located.span(label)))
        .collect();
    let excerpt = Excerpt::new(located.source, &labels);
    let mut group = Group::with_title(title);
    group = match &excerpt {
        Some(excerpt) => group.element(excerpt.snippet(&file, &labels)),
        None => {
            let at = labels[0].1.start;
            group.element(
                Origin::path(file.as_str())
                    .line(at.line)
                    .char_column(at.col),
            )
        }
    };
    if let Some(help) = &diagnostic.help {
        group = group.element(Level::HELP.message(readable(help)));
    }
    let mut out = Renderer::styled().render(&[group]);
    out.push_str("\n\n");
    out
}

/// The spec lines that a diagnostic's labels mark, escaped as [`escape`] does, with the offsets
/// of each label in the escaped text (a label is cut at the end of its first line).
struct Excerpt {
    first: usize,
    text: String,
    /// Byte offset in `text` of each line's start, from line `first` on.
    starts: Vec<usize>,
    lines: Vec<Vec<char>>,
}

impl Excerpt {
    fn new(source: &Source, labels: &[(&Label, Span)]) -> Option<Self> {
        let first = labels.iter().map(|(_, s)| s.start.line).min()?;
        let last = labels.iter().map(|(_, s)| s.start.line).max()?;
        let mut excerpt = Self {
            first,
            text: String::new(),
            starts: Vec::new(),
            lines: Vec::new(),
        };
        for number in first..=last {
            let line = source.line(number)?;
            excerpt.starts.push(excerpt.text.len());
            excerpt.text += &escape(line);
            excerpt.text.push('\n');
            excerpt.lines.push(line.chars().collect());
        }
        Some(excerpt)
    }

    /// The byte offset in `text` of character column `col` (1-based) of `line`, at most its end.
    fn offset(&self, line: usize, col: usize) -> usize {
        let index = line - self.first;
        let chars = &self.lines[index];
        let before: String = chars[..col.saturating_sub(1).min(chars.len())]
            .iter()
            .collect();
        self.starts[index] + escape(&before).len()
    }

    fn snippet<'a>(
        &'a self,
        file: &'a str,
        labels: &[(&'a Label, Span)],
    ) -> Snippet<'a, Annotation<'a>> {
        let marks = labels.iter().enumerate().map(|(i, (label, span))| {
            let line = span.start.line;
            let start = self.offset(line, span.start.col);
            let end = if span.end.line == line && span.end.col > span.start.col {
                self.offset(line, span.end.col)
            } else if span.end == span.start {
                start
            } else {
                self.offset(line, usize::MAX)
            };
            let kind = if i == 0 {
                AnnotationKind::Primary
            } else {
                AnnotationKind::Context
            };
            let text = readable(&label.text);
            let annotation = kind.span(start..end);
            if text.is_empty() {
                annotation
            } else {
                annotation.label(text)
            }
        });
        Snippet::source(self.text.as_str())
            .line_start(self.first)
            .path(file)
            .annotations(marks)
    }
}

/// Text from the input made safe for a terminal: characters that could move the cursor, end
/// the line, reorder the text or hide in it are written as escapes (`\n`, `\u{1b}`,
/// `\u{200b}`); a tab stays a tab.
pub fn escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if steering(c) {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Control characters (C0, DEL, C1), bidirectional marks, embeddings, overrides and isolates
/// (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), line and paragraph separators
/// (U+2028, U+2029), and invisible characters: zero-width spaces and joiners, word joiners and
/// invisible operators (U+200B-U+200D, U+2060-U+206F), the byte-order mark, the soft hyphen,
/// the Mongolian vowel separator, variation selectors, fillers, interlinear annotation marks
/// and tag characters.
fn steering(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e0fff}'
        )
}

/// Messages longer than this many characters (after quoted values are cut) are cut too.
const MESSAGE_MAX: usize = 400;

/// A message escaped, with every `quoted` or "quoted" value longer than [`QUOTED_MAX`] cut with
/// an ellipsis, and the whole cut at [`MESSAGE_MAX`] characters.
fn readable(text: &str) -> String {
    let cut = |part: &str, max: usize| {
        if part.chars().count() > max {
            part.chars().take(max).chain(['…']).collect()
        } else {
            part.to_string()
        }
    };
    let quoted = |text: &str, quote: char| -> String {
        let parts: Vec<String> = text
            .split(quote)
            .enumerate()
            .map(|(i, part)| {
                if i % 2 == 1 {
                    cut(part, QUOTED_MAX)
                } else {
                    part.to_string()
                }
            })
            .collect();
        parts.join(&quote.to_string())
    };
    let text = quoted(&quoted(text, '`'), '"');
    escape(&cut(&text, MESSAGE_MAX))
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

fn json(located: &[Located<'_>]) -> serde_json::Value {
    let items: Vec<JsonDiagnostic<'_>> = located
        .iter()
        .map(|l| {
            let d = l.diagnostic;
            let related = d
                .secondary
                .iter()
                .map(|label| {
                    let at = l.span(label).start;
                    JsonLabel {
                        file: l.file(),
                        line: at.line,
                        column: at.col,
                        text: &label.text,
                    }
                })
                .collect();
            JsonDiagnostic {
                code: d.code.as_str(),
                severity: d.severity,
                message: &d.message,
                file: l.file(),
                line: l.start.line,
                column: l.start.col,
                label: &d.primary.text,
                related,
                help: d.help.as_deref(),
            }
        })
        .collect();
    // Plain structs of strings and integers always convert.
    serde_json::to_value(items).unwrap_or_default()
}

/// A SARIF 2.1.0 log of one run: every code is a rule, every diagnostic a result on the spec's
/// lines (`uri` is the spec's path as given, with `/` separators, percent-encoded).
fn sarif(located: &[Located<'_>]) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "shortDescription": { "text": code.summary() },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = located
        .iter()
        .map(|l| {
            let d = l.diagnostic;
            let message = match &d.help {
                Some(help) => format!("{}\nhelp: {help}", d.message),
                None => d.message.clone(),
            };
            let related: Vec<serde_json::Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(id, label)| sarif_location(l, label, Some(id)))
                .collect();
            let mut result = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": Code::ALL.iter().position(|c| *c == d.code),
                "level": severity_word(d.severity),
                "message": { "text": message },
                "locations": [sarif_location(l, &d.primary, None)],
            });
            if !related.is_empty() {
                result["relatedLocations"] = related.into();
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "amlgen",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn sarif_location(located: &Located<'_>, label: &Label, id: Option<usize>) -> serde_json::Value {
    let span = located.span(label);
    let mut region = json!({ "startLine": span.start.line, "startColumn": span.start.col });
    if span.end.line > span.start.line
        || (span.end.line == span.start.line && span.end.col > span.start.col)
    {
        region["endLine"] = span.end.line.into();
        region["endColumn"] = span.end.col.into();
    }
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": sarif_uri(located.file()) },
            "region": region,
        },
    });
    if !label.text.is_empty() {
        location["message"] = json!({ "text": label.text });
    }
    if let Some(id) = id {
        location["id"] = id.into();
    }
    location
}

/// A path as a URI reference: relative paths stay relative (code scanning resolves them against
/// the repository), absolute ones become `file://` URIs.
pub(crate) fn sarif_uri(path: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let slashed = path.replace('\\', "/");
    let encoded = percent_encoding::utf8_percent_encode(&slashed, KEEP).to_string();
    if slashed.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

/// `value` as pretty JSON with a final newline: every JSON document amlgen prints. (A `Value`'s
/// alternate `Display` is `serde_json`'s pretty printer, and cannot fail.)
pub(crate) fn json_document(value: &serde_json::Value) -> String {
    format!("{value:#}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::NodeSpan;

    fn fixture(path: &str, text: &str) -> (Source, SpanIndex) {
        let source = Source::new(path, text);
        let mut spans = SpanIndex::default();
        let span = |col, end| Span {
            start: Position { line: 2, col },
            end: Position { line: 2, col: end },
        };
        spans.insert(
            "/location".into(),
            NodeSpan {
                key: Some(span(1, 9)),
                value: span(11, 15),
            },
        );
        (source, spans)
    }

    /// The document, without the ANSI styles that `cli` strips when colour is off.
    fn one(format: Format, source: &Source, spans: &SpanIndex, d: &[Diagnostic]) -> String {
        let styled = render(
            format,
            &[Findings {
                source,
                spans,
                diagnostics: d,
            }],
        );
        anstream::adapter::strip_str(&styled).to_string()
    }

    fn region(message: &str) -> Diagnostic {
        Diagnostic::error(
            Code::RegionUnknown,
            message,
            Label::value("/location", "not a region"),
        )
    }

    #[test]
    fn human_output_points_at_the_value() {
        let (source, spans) = fixture("spec.yaml", "name: x\nlocation: mars\n");
        let d = region("unknown region `mars`").with_help("run `az account list-locations`");
        let text = one(Format::Human, &source, &spans, &[d]);
        let expected = "error[region-unknown]: unknown region `mars`\n --> spec.yaml:2:11\n  |\n2 | location: mars\n  |           ^^^^ not a region\n  |\n  = help: run `az account list-locations`\n\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn human_output_is_styled_for_a_terminal_to_colour() {
        let (source, spans) = fixture("spec.yaml", "name: x\nlocation: mars\n");
        let d = [region("unknown region `mars`")];
        let styled = render(
            Format::Human,
            &[Findings {
                source: &source,
                spans: &spans,
                diagnostics: &d,
            }],
        );
        assert!(styled.starts_with("\u{1b}["), "{styled:?}");
        assert_ne!(styled, one(Format::Human, &source, &spans, &d));
    }

    #[test]
    fn labels_on_other_lines_share_one_gutter() {
        let text =
            "name: x\nlocation: mars\n".to_string() + &"# filler\n".repeat(120) + "other: y\n";
        let (source, mut spans) = fixture("spec.yaml", &text);
        let at = Span {
            start: Position { line: 123, col: 1 },
            end: Position { line: 123, col: 6 },
        };
        spans.insert(
            "/other".into(),
            NodeSpan {
                key: Some(at),
                value: at,
            },
        );
        let d = region("unknown region `mars`").with_label(Label::key("/other", "set here"));
        let text = one(Format::Human, &source, &spans, &[d]);
        assert!(text.contains("  2 | location: mars\n"), "{text}");
        assert!(
            text.contains("123 | other: y\n    | ----- set here\n"),
            "{text}"
        );
        assert!(text.contains("...\n"), "{text}");
    }

    #[test]
    fn human_output_escapes_what_could_steer_a_terminal() {
        let (source, spans) = fixture("spec\n.yaml", "name: x\nlocation: \u{1b}[2Jmars\n");
        let d = region("unknown region `\u{1b}[2J\n --> /etc/shadow:1:1`");
        let text = one(Format::Human, &source, &spans, &[d]);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(
            text.contains(r"`\u{1b}[2J\n --> /etc/shadow:1:1`"),
            "{text}"
        );
        assert!(text.contains(r" --> spec\n.yaml:2:11"), "{text}");
        assert_eq!(
            text.lines()
                .filter(|l| l.trim_start().starts_with("-->"))
                .count(),
            1
        );
    }

    #[test]
    fn human_output_cuts_long_values() {
        let long = "x".repeat(500);
        let (source, spans) = fixture("spec.yaml", &format!("name: x\nlocation: {long}\n"));
        let text = one(
            Format::Human,
            &source,
            &spans,
            &[region(&format!("unknown region `{long}`"))],
        );
        assert!(text.lines().all(|l| l.chars().count() < 200), "{text}");
        assert!(text.contains(&format!("`{}…`", "x".repeat(QUOTED_MAX))));
        assert!(text.contains("2 | location: xxxx"), "{text}");
        assert!(text.contains("..."), "{text}");
        // A value quoted by JSON Schema's message, and any message however written, is cut too.
        let huge = "y".repeat(900_000);
        let messages = [
            format!("`tags.x`: \"{huge}\" is longer than 256 characters"),
            format!("tags.x: {huge}"),
        ];
        for message in messages {
            let text = one(Format::Human, &source, &spans, &[region(&message)]);
            assert!(
                text.lines().all(|l| l.chars().count() <= 2 * MESSAGE_MAX),
                "{}",
                text.len()
            );
        }
    }

    #[test]
    fn invisible_and_reordering_characters_are_escaped() {
        for c in [
            '\u{061c}',
            '\u{200b}',
            '\u{2028}',
            '\u{2029}',
            '\u{202e}',
            '\u{2066}',
            '\u{feff}',
            '\u{85}',
            '\u{e0041}',
        ] {
            let escaped = escape(&format!("a{c}b"));
            assert_eq!(escaped, format!("a{}b", c.escape_default()), "{:?}", c);
            assert!(escaped.contains("\\u{"), "{escaped}");
        }
        assert_eq!(escape("é\tü 😀"), "é\tü 😀");
    }

    #[test]
    fn diagnostics_are_sorted_by_file_line_and_column() {
        let (a, spans) = fixture("a.yaml", "name: x\nlocation: mars\n");
        let b = Source::new("b.yaml", "x\n");
        let later = region("second");
        let earlier = Diagnostic::error(Code::YamlSyntax, "first", Label::key("/location", ""));
        let b_diags = [region("third")];
        let a_diags = [later, earlier];
        let findings = [
            Findings {
                source: &b,
                spans: &spans,
                diagnostics: &b_diags,
            },
            Findings {
                source: &a,
                spans: &spans,
                diagnostics: &a_diags,
            },
        ];
        let value: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &findings)).unwrap();
        let messages: Vec<&str> = value
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap())
            .collect();
        assert_eq!(messages, ["first", "second", "third"]);
    }

    #[test]
    fn json_output_carries_line_and_column_and_is_an_empty_array_when_valid() {
        let (source, spans) = fixture("spec.yaml", "name: x\nlocation: mars\n");
        let d = Diagnostic::error(
            Code::SchemaUnknownKey,
            "unknown key",
            Label::key("/location", ""),
        );
        let value: serde_json::Value =
            serde_json::from_str(&one(Format::Json, &source, &spans, &[d])).unwrap();
        assert_eq!(value[0]["code"], "schema-unknown-key");
        assert_eq!(value[0]["line"], 2);
        assert_eq!(value[0]["column"], 1);
        assert_eq!(one(Format::Json, &source, &spans, &[]), "[]\n");
    }

    #[test]
    fn sarif_results_point_at_the_spec_lines() {
        let (source, spans) = fixture("specs/my spec.yaml", "name: x\nlocation: mars\n");
        let value: serde_json::Value = serde_json::from_str(&one(
            Format::Sarif,
            &source,
            &spans,
            &[region("unknown region")],
        ))
        .unwrap();
        let result = &value["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "region-unknown");
        assert_eq!(result["level"], "error");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "specs/my%20spec.yaml");
        assert_eq!(location["region"]["startLine"], 2);
        assert_eq!(location["region"]["startColumn"], 11);
        assert_eq!(location["region"]["endColumn"], 15);
        let rules = &value["runs"][0]["tool"]["driver"]["rules"];
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], "region-unknown");
        assert_eq!(sarif_uri("/abs/x.yaml"), "file:///abs/x.yaml");
    }
}
