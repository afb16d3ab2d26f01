//! Reads a spec's YAML into a JSON value and records where every node is written.
//!
//! This is the only module that knows the YAML crates. `serde_yaml` (the design card's parser)
//! produces the value with YAML 1.2 scalar typing; `saphyr-parser`'s event stream, which carries
//! positions, builds the [`SpanIndex`] and catches what `serde_yaml` would hide or report without
//! a useful place: text that is not UTF-8, duplicate keys (both places are shown), keys YAML would
//! read as numbers, booleans or null, tags outside the core schema, nesting deeper than 32 levels
//! (checked on the event stream, before any recursive value is built) and several documents.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, StrInput, Tag};
use serde_json::Value;

use crate::diag::{At, Code, Diagnostic, Label, pointer};
use crate::source::{NodeSpan, Position, Source, Span, SpanIndex};

/// A parsed spec: its value as JSON, and where each node is.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub spans: SpanIndex,
}

/// The deepest nesting of mappings and lists a spec may use; real specs use five levels.
const MAX_DEPTH: usize = 32;

/// The tags of the YAML 1.2 core schema, the only ones a spec may write (as `!!str` etc.).
const CORE_TAGS: [&str; 7] = ["str", "int", "float", "bool", "null", "seq", "map"];

/// Parses `source`; on failure returns every problem found (syntax errors stop the scan).
pub fn parse(source: &Source) -> Result<Document, Vec<Diagnostic>> {
    if let Some(at) = source.not_utf8 {
        return Err(vec![not_utf8(at)]);
    }
    let mut walker = Walker {
        parser: Parser::new_from_str(&source.text),
        spans: SpanIndex::default(),
        problems: Vec::new(),
        depth: 0,
    };
    if let Err(error) = walker.stream() {
        walker.problems.push(scan_error(&error, source));
        return Err(walker.problems);
    }
    if !walker.problems.is_empty() {
        return Err(walker.problems);
    }
    let value = serde_yaml::from_str::<serde_yaml::Value>(&source.text)
        .map_err(|e| vec![yaml_error(&e)])?;
    Ok(Document {
        value: to_json(value),
        spans: walker.spans,
    })
}

fn position(marker: Marker) -> Position {
    Position {
        line: marker.line(),
        col: marker.col() + 1,
    }
}

fn span(s: saphyr_parser::Span) -> Span {
    Span {
        start: position(s.start),
        end: position(s.end),
    }
}

fn syntax(message: impl Into<String>, at: Span) -> Diagnostic {
    Diagnostic::error(
        Code::YamlSyntax,
        message,
        Label {
            at: At::Span(at),
            text: String::new(),
        },
    )
}

fn not_utf8(at: Position) -> Diagnostic {
    Diagnostic::error(
        Code::YamlEncoding,
        "the spec is not UTF-8 text",
        Label {
            at: At::Span(Span { start: at, end: at }),
            text: "this byte is not UTF-8".into(),
        },
    )
    .with_help("save the file as UTF-8")
}

/// A scan error at its place; one about a tab points at the tab, which the scanner may report
/// at the end of the line before it.
fn scan_error(error: &ScanError, source: &Source) -> Diagnostic {
    let mut at = position(*error.marker());
    // The scanner's own limit: flow collections (`[[[...`) nested more than 255 deep, which it
    // scans ahead of the events that would reach `MAX_DEPTH`.
    if error.info() == "recursion limit exceeded" {
        return too_deep(Span { start: at, end: at });
    }
    let about_tab = error.info().contains("tab");
    if let Some(tab) = about_tab.then(|| first_tab(source, at)).flatten() {
        at = tab;
    }
    let diagnostic = syntax(
        format!("invalid YAML: {}", error.info()),
        Span { start: at, end: at },
    );
    if about_tab {
        diagnostic.with_help("YAML indents with spaces only; replace the tab")
    } else {
        diagnostic
    }
}

/// The first tab on the line of `from`, or else on a later line.
fn first_tab(source: &Source, from: Position) -> Option<Position> {
    source
        .text
        .lines()
        .enumerate()
        .skip(from.line.saturating_sub(1))
        .find_map(|(i, line)| {
            line.chars().position(|c| c == '\t').map(|col| Position {
                line: i + 1,
                col: col + 1,
            })
        })
}

fn yaml_error(error: &serde_yaml::Error) -> Diagnostic {
    let at = error
        .location()
        .map_or(Position { line: 1, col: 1 }, |l| Position {
            line: l.line(),
            col: l.column(),
        });
    syntax(
        format!("invalid YAML: {error}"),
        Span { start: at, end: at },
    )
}

struct Walker<'a> {
    parser: Parser<'a, StrInput<'a>>,
    spans: SpanIndex,
    problems: Vec<Diagnostic>,
    /// How many collections enclose the node being read.
    depth: usize,
}

type Step<'a> = (Event<'a>, saphyr_parser::Span);

impl<'a> Walker<'a> {
    fn next(&mut self) -> Result<Step<'a>, ScanError> {
        match self.parser.next_event() {
            Some(step) => step,
            None => Ok((Event::StreamEnd, saphyr_parser::Span::default())),
        }
    }

    /// Walks the whole stream: at most one document.
    fn stream(&mut self) -> Result<(), ScanError> {
        let mut documents = 0;
        loop {
            let (event, at) = self.next()?;
            match event {
                Event::StreamEnd => return Ok(()),
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        self.problems.push(syntax(
                            "a spec file holds one YAML document; found a second one",
                            span(at),
                        ));
                        return Ok(());
                    }
                    let first = self.next()?;
                    self.node(String::new(), None, first)?;
                }
                _ => {}
            }
        }
    }

    fn node(
        &mut self,
        here: String,
        key: Option<Span>,
        (event, at): Step<'a>,
    ) -> Result<(), ScanError> {
        match event {
            Event::Scalar(_, _, _, tag) => {
                self.refuse_tag(tag.as_deref(), at);
                self.spans.insert(
                    here,
                    NodeSpan {
                        key,
                        value: span(at),
                    },
                );
            }
            Event::Alias(_) => self.spans.insert(
                here,
                NodeSpan {
                    key,
                    value: span(at),
                },
            ),
            Event::SequenceStart(_, ref tag) | Event::MappingStart(_, ref tag) => {
                self.refuse_tag(tag.as_deref(), at);
                if self.depth == MAX_DEPTH {
                    self.problems.push(too_deep(span(at)));
                    return self.skip_node(event);
                }
                self.depth += 1;
                let end = if matches!(event, Event::MappingStart(..)) {
                    self.mapping(&here)
                } else {
                    self.sequence(&here)
                }?;
                self.depth -= 1;
                let value = Span {
                    start: span(at).start,
                    end,
                };
                self.spans.insert(here, NodeSpan { key, value });
            }
            // The parser yields no other event where a node is expected.
            _ => {}
        }
        Ok(())
    }

    fn sequence(&mut self, here: &str) -> Result<Position, ScanError> {
        let mut index = 0usize;
        loop {
            let step = self.next()?;
            if let Event::SequenceEnd = step.0 {
                return Ok(span(step.1).end);
            }
            self.node(pointer(here, index), None, step)?;
            index += 1;
        }
    }

    fn mapping(&mut self, here: &str) -> Result<Position, ScanError> {
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        loop {
            let (event, at) = self.next()?;
            let name = match event {
                Event::MappingEnd => return Ok(span(at).end),
                Event::Scalar(text, style, _, tag) => {
                    if style == ScalarStyle::Plain && tag.is_none() {
                        self.refuse_typed_key(&text, span(at));
                    }
                    text.into_owned()
                }
                _ => {
                    self.problems
                        .push(syntax("mapping keys must be plain strings", span(at)));
                    self.skip_node(event)?;
                    String::from("\u{0}complex")
                }
            };
            let key = span(at);
            if let Some(first) = seen.get(&name) {
                self.problems.push(
                    Diagnostic::error(
                        Code::YamlDuplicateKey,
                        format!("duplicate key `{name}`"),
                        Label {
                            at: At::Span(key),
                            text: "written again here".into(),
                        },
                    )
                    .with_label(Label {
                        at: At::Span(*first),
                        text: "first written here".into(),
                    })
                    .with_help("remove one of the two; YAML parsers silently keep only one value"),
                );
            } else {
                seen.insert(name.clone(), key);
            }
            let value = self.next()?;
            self.node(pointer(here, &name), Some(key), value)?;
        }
    }

    /// Consumes the rest of a collection whose start event was already read.
    fn skip_node(&mut self, start: Event<'a>) -> Result<(), ScanError> {
        let mut depth = usize::from(matches!(
            start,
            Event::MappingStart(..) | Event::SequenceStart(..)
        ));
        while depth > 0 {
            match self.next()?.0 {
                Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
                Event::MappingEnd | Event::SequenceEnd => depth -= 1,
                _ => {}
            }
        }
        Ok(())
    }

    fn refuse_tag(&mut self, tag: Option<&Tag>, at: saphyr_parser::Span) {
        let Some(tag) = tag else { return };
        let written = if tag.is_yaml_core_schema() {
            if CORE_TAGS.contains(&tag.suffix.as_str()) {
                return;
            }
            format!("!!{}", tag.suffix)
        } else {
            tag.to_string()
        };
        self.problems.push(
            syntax(
                format!("YAML tag `{written}` is not supported in a spec"),
                span(at),
            )
            .with_help("remove the tag; a spec may use only the core schema's `!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!seq` and `!!map`"),
        );
    }

    /// Refuses a plain key that YAML reads as a number, boolean or null (`1.50`, `0x1F`, `True`,
    /// `~`): its characters would be lost (`1.5`, `31`, `true`, `null`) and two keys could become
    /// one. `serde_yaml`, which builds the value, decides how the key is read; keys that cannot
    /// be anything but text are not handed to it.
    fn refuse_typed_key(&mut self, text: &str, at: Span) {
        if !may_be_typed(text) {
            return;
        }
        let read = match serde_yaml::from_str::<serde_yaml::Value>(text) {
            Ok(serde_yaml::Value::Null) => "null",
            Ok(serde_yaml::Value::Bool(_)) => "a boolean",
            Ok(serde_yaml::Value::Number(_)) => "a number",
            _ => return,
        };
        self.problems.push(
            Diagnostic::error(
                Code::YamlKeyType,
                format!("YAML reads the key `{text}` as {read}, not as the text written"),
                Label {
                    at: At::Span(at),
                    text: format!("read as {read}"),
                },
            )
            .with_help(format!("quote the key to keep it as written: '{text}'")),
        );
    }
}

/// Whether the YAML 1.2 core schema could read the plain scalar `text` as other than a string:
/// every null, boolean and number of the schema is empty, starts with a digit, a sign, a dot or
/// `~`, or is one of the words below.
fn may_be_typed(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        None | Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'~')
    ) || matches!(
        text,
        "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    )
}

fn too_deep(at: Span) -> Diagnostic {
    Diagnostic::error(
        Code::YamlTooDeep,
        format!("the spec nests mappings and lists more than {MAX_DEPTH} levels deep"),
        Label {
            at: At::Span(at),
            text: "too deep".into(),
        },
    )
    .with_help("a spec needs at most five levels; remove the extra nesting")
}

fn to_json(value: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => number(&n),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other)
                            .unwrap_or_default()
                            .trim_end()
                            .to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => to_json(tagged.value),
    }
}

fn number(n: &serde_yaml::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        // Floats never satisfy the schema (every number in a spec is an integer); keep the value so
        // the schema error can show it. NaN and infinities have no JSON form and become text.
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(n.to_string()), Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Document, Vec<Diagnostic>> {
        parse(&Source::new("t.yaml", text))
    }

    proptest::proptest! {
        /// Any bytes at all are a document or diagnostics, never a panic.
        #[test]
        fn any_bytes_parse_or_are_diagnosed(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse(&Source::from_bytes("t.yaml", bytes));
        }

        /// A plain scalar `may_be_typed` lets pass is one `serde_yaml` reads as a string.
        #[test]
        fn only_scalars_that_may_be_typed_are_read_as_other_types(text in "[a-zA-Z0-9_.+~-]{0,8}") {
            if !may_be_typed(&text) {
                let read = serde_yaml::from_str::<serde_yaml::Value>(&text);
                proptest::prop_assert!(matches!(read, Ok(serde_yaml::Value::String(_))), "{text}: {read:?}");
            }
        }

        /// Text made of YAML's structural characters, nested at random.
        #[test]
        fn yaml_like_text_parses_or_is_diagnosed(text in "([-:\\[\\]{},#&*!|>'\"%@` \t\n]|a|1|~){0,120}") {
            let _ = parse(&Source::new("t.yaml", text));
        }
    }

    #[test]
    fn values_and_spans_are_recorded() {
        let doc = parse_text(
            "name: x\nnetwork:\n  subnets:\n    - name: é-a\n      address_prefix: 10.0.0.0/24\n",
        )
        .unwrap();
        assert_eq!(doc.value["network"]["subnets"][0]["name"], "é-a");
        let (node, _) = doc.spans.find("/network/subnets/0/address_prefix").unwrap();
        assert_eq!(node.key.unwrap().start, Position { line: 5, col: 7 });
        assert_eq!(node.value.start, Position { line: 5, col: 23 });
        assert_eq!(node.value.end, Position { line: 5, col: 34 });
    }

    #[test]
    fn duplicate_keys_are_reported_with_both_places() {
        let errors = parse_text("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, Code::YamlDuplicateKey);
        assert_eq!(
            errors[0].primary.at,
            At::Span(Span {
                start: Position { line: 3, col: 1 },
                end: Position { line: 3, col: 2 }
            })
        );
        assert_eq!(errors[0].secondary.len(), 1);
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let errors = parse_text("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(errors[0].code, Code::YamlSyntax);
        assert!(matches!(errors[0].primary.at, At::Span(s) if s.start.line >= 1));
    }

    #[test]
    fn yaml_1_1_words_stay_strings_and_floats_stay_numbers() {
        let doc = parse_text("a: no\nb: 1.10\nc: '1.10'\n").unwrap();
        assert_eq!(doc.value["a"], "no");
        assert!(doc.value["b"].is_f64());
        assert_eq!(doc.value["c"], "1.10");
    }

    /// The code and start of the first problem in a parse that must fail.
    fn located(result: Result<Document, Vec<Diagnostic>>) -> (Code, Position) {
        let errors = result.unwrap_err();
        match errors[0].primary.at {
            At::Span(span) => (errors[0].code, span.start),
            _ => panic!("{errors:?}"),
        }
    }

    fn first_error(text: &str) -> (Code, Position) {
        located(parse_text(text))
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_reported_where_it_starts() {
        let block: String = (0..40).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert_eq!(
            first_error(&block),
            (Code::YamlTooDeep, Position { line: 33, col: 33 })
        );
        let flow = format!("a: {}{}\n", "[".repeat(6600), "]".repeat(6600));
        assert_eq!(first_error(&flow).0, Code::YamlTooDeep);
        let within: String = (0..MAX_DEPTH)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert!(parse_text(&within).is_ok());
    }

    #[test]
    fn keys_yaml_reads_as_other_types_are_refused() {
        for key in ["1.50", "0x1F", "True", "~", "null", "12"] {
            let (code, at) = first_error(&format!("tags:\n  {key}: a\n"));
            assert_eq!(
                (code, at),
                (Code::YamlKeyType, Position { line: 2, col: 3 })
            );
        }
        let doc = parse_text("tags:\n  '1.50': a\n  \"True\": b\n  1.5x: c\n").unwrap();
        assert_eq!(doc.value["tags"]["1.50"], "a");
        assert_eq!(doc.value["tags"]["True"], "b");
        assert_eq!(doc.value["tags"]["1.5x"], "c");
    }

    #[test]
    fn words_that_only_look_typed_stay_keys() {
        for word in [
            "inf", "nan", "NaN", "Infinity", "yes", "on", "Off", "y", "e5", "x1",
        ] {
            assert!(!may_be_typed(word), "{word}");
            assert_eq!(
                serde_yaml::from_str::<serde_yaml::Value>(word).unwrap(),
                serde_yaml::Value::String(word.into())
            );
        }
    }

    #[test]
    fn a_tab_is_reported_on_its_own_line() {
        assert_eq!(
            first_error("a:\n  b: 1\n\tc: 2\n"),
            (Code::YamlSyntax, Position { line: 3, col: 1 })
        );
    }

    #[test]
    fn text_that_is_not_utf8_is_reported_at_its_byte() {
        let source = Source::from_bytes("t.yaml", b"a: 1\nb: \xff\n".to_vec());
        assert_eq!(
            located(parse(&source)),
            (Code::YamlEncoding, Position { line: 2, col: 4 })
        );
    }

    #[test]
    fn core_schema_tags_pass_and_other_tags_are_refused() {
        assert!(parse_text("a: !!str 5\nb: !!int 5\n").is_ok());
        for tag in [
            "!Ref",
            "!!binary",
            "!!timestamp",
            "!!set",
            "!<tag:example.com,2000:x>",
        ] {
            let errors = parse_text(&format!("a: {tag} x\n")).unwrap_err();
            assert_eq!(errors[0].code, Code::YamlSyntax, "{tag}");
        }
    }

    #[test]
    fn custom_tags_and_second_documents_are_refused() {
        assert_eq!(
            parse_text("a: !Ref x\n").unwrap_err()[0].code,
            Code::YamlSyntax
        );
        assert_eq!(
            parse_text("a: 1\n---\nb: 2\n").unwrap_err()[0].code,
            Code::YamlSyntax
        );
    }
}
