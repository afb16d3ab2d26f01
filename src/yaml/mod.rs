//! Reads a spec's YAML into a JSON value and records where every node is written.
//!
//! This is the only module that knows the YAML crate. One walk over `saphyr-parser`'s event
//! stream builds the value (scalars typed by the YAML 1.2 core schema, see [`scalar`]) and the
//! [`SpanIndex`], and catches what a plain YAML loader would hide or report without a useful
//! place: text that is not UTF-8, duplicate keys (both places are shown), keys YAML would read as
//! numbers, booleans or null, tags outside the core schema, nesting deeper than 32 levels
//! (checked before anything deeper is built, aliases included), anchors and aliases that would
//! copy more than [`MAX_COPIED`] nodes or [`MAX_COPIED_BYTES`] bytes of text, `%YAML` directives
//! of another version than 1.2, and several documents. JSON-style UTF-16 surrogate pairs
//! (`"\ud83d\ude00"`), which YAML's scanner refuses, are decoded in double-quoted scalars.

mod scalar;

use std::collections::{BTreeMap, HashMap};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, StrInput, Tag};
use serde_json::{Map, Value};

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

/// The most nodes a spec's anchors (each keeps a copy of its node) and aliases may copy in all:
/// far more than a spec that shares blocks with anchors needs, and a bound on what a few lines
/// of nested aliases could build.
const MAX_COPIED: usize = 100_000;

/// The most bytes of text (keys and scalars) anchors and aliases may copy in all: sixteen times
/// the largest spec amlgen reads. A node budget alone lets one alias of a long string copy it
/// whole, so twenty thousand aliases of a 100 KB string would build 2 GB.
const MAX_COPIED_BYTES: usize = 16 << 20;

/// How many double-quoted scalars with UTF-16 surrogate pairs a spec may hold: each costs one
/// more scan of the spec.
const MAX_SURROGATE_SCALARS: usize = 64;

/// The tags of the YAML 1.2 core schema, the only ones a spec may write (as `!!str` etc.).
const CORE_TAGS: [&str; 7] = ["str", "int", "float", "bool", "null", "seq", "map"];

/// Parses `source`; on failure returns every problem found (syntax errors stop the scan).
pub fn parse(source: &Source) -> Result<Document, Vec<Diagnostic>> {
    if let Some(at) = source.not_utf8 {
        return Err(vec![not_utf8(at)]);
    }
    if let Some(problem) = unsupported_version(&source.text) {
        return Err(vec![problem]);
    }
    // The scanner refuses `\ud83d\ude00`: each double-quoted scalar it stops at for a surrogate
    // is rewritten with `\U0001f600` escapes, and the spec scanned again; `shifts` maps the
    // positions in the rewritten text back to the spec's.
    let mut text = std::borrow::Cow::Borrowed(source.text.as_str());
    let mut shifts = Shifts::default();
    let mut rewrites = 0;
    loop {
        let mut walker = Walker::new(&text);
        let result = walker.stream();
        let Walker {
            mut spans,
            mut problems,
            ..
        } = walker;
        let result = match result {
            Err(error) if rewrites < MAX_SURROGATE_SCALARS => {
                match decode_surrogates(&text, *error.marker(), &mut shifts) {
                    Some(decoded) => {
                        text = std::borrow::Cow::Owned(decoded);
                        rewrites += 1;
                        continue;
                    }
                    None => Err(error),
                }
            }
            other => other,
        };
        if !shifts.0.is_empty() {
            spans.map_positions(|at| shifts.original(at));
            for problem in &mut problems {
                shifts.relocate(problem);
            }
        }
        return match result {
            Err(error) => {
                let mut problem = scan_error(&error, source, &shifts);
                if rewrites == MAX_SURROGATE_SCALARS && error.info().contains("Unicode") {
                    problem = problem.with_help(format!(
                        "at most {MAX_SURROGATE_SCALARS} double-quoted scalars may use UTF-16 surrogate pairs; write the characters themselves"
                    ));
                }
                problems.push(problem);
                Err(problems)
            }
            Ok(_) if !problems.is_empty() => Err(problems),
            Ok(value) => Ok(Document { value, spans }),
        };
    }
}

/// A `%YAML` directive of another version than 1.2, which amlgen's scanner implements: a 1.1
/// document would be read with other rules (`yes` a boolean) than its author meant.
fn unsupported_version(text: &str) -> Option<Diagnostic> {
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        // Directives come before the document; the first other line ends them.
        let directive = trimmed.strip_prefix('%')?;
        let mut words = directive.split_whitespace();
        if words.next() != Some("YAML") {
            continue;
        }
        let version = words.next().unwrap_or_default();
        if version == "1.2" {
            continue;
        }
        let at = Span {
            start: Position {
                line: i + 1,
                col: 1,
            },
            end: Position {
                line: i + 1,
                col: trimmed.chars().count() + 1,
            },
        };
        return Some(
            syntax(
                format!("`%YAML {version}` is not supported: amlgen reads YAML 1.2"),
                at,
            )
            .with_help("remove the directive, or write `%YAML 1.2`"),
        );
    }
    None
}

/// Where the rewriting of surrogate pairs moved text: each `(line, col, by)` says that on
/// `line`, the rewritten text from `col` on is `by` characters left of the spec's.
#[derive(Debug, Default)]
struct Shifts(Vec<(usize, usize, usize)>);

impl Shifts {
    fn original(&self, at: Position) -> Position {
        let by: usize = self
            .0
            .iter()
            .filter(|(line, col, _)| *line == at.line && *col <= at.col)
            .map(|(_, _, by)| by)
            .sum();
        Position {
            line: at.line,
            col: at.col + by,
        }
    }

    fn relocate(&self, diagnostic: &mut Diagnostic) {
        if self.0.is_empty() {
            return;
        }
        let labels = std::iter::once(&mut diagnostic.primary).chain(&mut diagnostic.secondary);
        for label in labels {
            if let At::Span(span) = &mut label.at {
                span.start = self.original(span.start);
                span.end = self.original(span.end);
            }
        }
    }
}

/// `text` with every UTF-16 surrogate pair (`\ud83d\ude00`) of the double-quoted scalar that
/// starts at `at` written as one `\U0001f600` escape, or `None` when no scalar starts there or
/// it has no pair (a lone surrogate stays the scanner's error).
fn decode_surrogates(text: &str, at: Marker, shifts: &mut Shifts) -> Option<String> {
    let line_start = if at.line() <= 1 {
        0
    } else {
        text.match_indices('\n').nth(at.line() - 2)?.0 + 1
    };
    let start = line_start
        + text[line_start..]
            .char_indices()
            .nth(at.col())
            .map_or(text.len() - line_start, |(i, _)| i);
    if !text[start..].starts_with('"') {
        return None;
    }
    let hex = |from: usize| -> Option<u32> {
        let digits = text.get(from..from + 6)?.strip_prefix("\\u")?;
        u32::from_str_radix(digits, 16).ok()
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..=start]);
    let (mut line, mut col) = (at.line(), at.col() + 2);
    let mut decoded = false;
    let mut i = start + 1;
    // After a backslash, the character it escapes, which may be a `"`.
    let mut escaping = false;
    while let Some(c) = text[i..].chars().next() {
        if c == '"' && !escaping {
            break;
        }
        let high = hex(i).filter(|h| (0xD800..0xDC00).contains(h));
        let low = hex(i + 6).filter(|l| (0xDC00..0xE000).contains(l));
        if let (false, Some(high), Some(low)) = (escaping, high, low) {
            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            out.push_str(&format!("\\U{code:08x}"));
            shifts.0.push((line, col + 10, 2));
            decoded = true;
            i += 12;
            col += 10;
            continue;
        }
        escaping = c == '\\' && !escaping;
        out.push(c);
        i += c.len_utf8();
        if c == '\n' {
            (line, col) = (line + 1, 1);
        } else {
            col += 1;
        }
    }
    out.push_str(&text[i..]);
    decoded.then_some(out)
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
fn scan_error(error: &ScanError, source: &Source, shifts: &Shifts) -> Diagnostic {
    let mut at = shifts.original(position(*error.marker()));
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

struct Walker<'a> {
    parser: Parser<'a, StrInput<'a>>,
    spans: SpanIndex,
    problems: Vec<Diagnostic>,
    /// How many collections enclose the node being read.
    depth: usize,
    /// Each anchored node read so far.
    anchors: HashMap<usize, Anchored>,
    /// How many nodes anchors and aliases have copied so far.
    copied: usize,
    /// How many bytes of text anchors and aliases have copied so far.
    copied_bytes: usize,
}

/// A copy of an anchored node, for its aliases.
struct Anchored {
    value: Value,
    /// How many nodes it holds, itself included.
    nodes: usize,
    /// How many collections deep it nests.
    depth: usize,
    /// How many bytes of text (keys and scalars) it holds.
    bytes: usize,
}

type Step<'a> = (Event<'a>, saphyr_parser::Span);

impl<'a> Walker<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            parser: Parser::new_from_str(text),
            spans: SpanIndex::default(),
            problems: Vec::new(),
            depth: 0,
            anchors: HashMap::new(),
            copied: 0,
            copied_bytes: 0,
        }
    }

    fn next(&mut self) -> Result<Step<'a>, ScanError> {
        match self.parser.next_event() {
            Some(step) => step,
            None => Ok((Event::StreamEnd, saphyr_parser::Span::default())),
        }
    }

    /// Walks the whole stream, at most one document, into its value (null when there is none).
    fn stream(&mut self) -> Result<Value, ScanError> {
        let mut document = None;
        loop {
            let (event, at) = self.next()?;
            match event {
                Event::StreamEnd => return Ok(document.unwrap_or(Value::Null)),
                Event::DocumentStart(_) if document.is_some() => {
                    self.problems.push(syntax(
                        "a spec file holds one YAML document; found a second one",
                        span(at),
                    ));
                    return Ok(Value::Null);
                }
                Event::DocumentStart(_) => {
                    let first = self.next()?;
                    document = Some(self.node(String::new(), None, first)?);
                }
                _ => {}
            }
        }
    }

    /// Reads the node that starts with `event` into its value and notes where it is written.
    /// After a problem the value is a placeholder: a document with problems has no value.
    fn node(
        &mut self,
        here: String,
        key: Option<Span>,
        (event, at): Step<'a>,
    ) -> Result<Value, ScanError> {
        let (value, anchor, end) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.refuse_tag(tag.as_deref(), at);
                let value = self.scalar(&text, style, tag.as_deref(), at);
                (value, anchor, span(at).end)
            }
            Event::Alias(anchor) => (self.alias(anchor, at), 0, span(at).end),
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                self.refuse_tag(tag.as_deref(), at);
                if self.depth == MAX_DEPTH {
                    self.problems.push(too_deep(span(at)));
                    self.skip_node(event)?;
                    return Ok(Value::Null);
                }
                self.depth += 1;
                let (value, end) = if matches!(event, Event::MappingStart(..)) {
                    self.mapping(&here)
                } else {
                    self.sequence(&here)
                }?;
                self.depth -= 1;
                (value, anchor, end)
            }
            // The parser yields no other event where a node is expected.
            _ => return Ok(Value::Null),
        };
        if anchor != 0 {
            self.anchor(anchor, &value, at);
        }
        let value_at = Span {
            start: span(at).start,
            end,
        };
        self.spans.insert(
            here,
            NodeSpan {
                key,
                value: value_at,
            },
        );
        Ok(value)
    }

    /// A scalar's value: typed by its text when plain and untagged, by its tag when it has a
    /// core one, else text.
    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        at: saphyr_parser::Span,
    ) -> Value {
        match tag {
            Some(tag) if tag.is_yaml_core_schema() => scalar::tagged(&tag.suffix, text)
                .unwrap_or_else(|expected| {
                    self.problems.push(mismatch(tag, expected, text, at));
                    Value::Null
                }),
            None if style == ScalarStyle::Plain => scalar::plain(text),
            _ => Value::String(text.to_owned()),
        }
    }

    /// Keeps a copy of `value`, the node anchored as `anchor`, within the budget.
    fn anchor(&mut self, anchor: usize, value: &Value, at: saphyr_parser::Span) {
        let (nodes, depth, bytes) = shape(value);
        if self.copy(nodes, bytes, at) {
            let value = value.clone();
            let anchored = Anchored {
                value,
                nodes,
                depth,
                bytes,
            };
            self.anchors.insert(anchor, anchored);
        }
    }

    /// A copy of the node anchored as `anchor`, within the budget and the nesting limit.
    fn alias(&mut self, anchor: usize, at: saphyr_parser::Span) -> Value {
        let Some((nodes, depth, bytes)) = self
            .anchors
            .get(&anchor)
            .map(|a| (a.nodes, a.depth, a.bytes))
        else {
            // The parser knows the anchor: its node is still being read, or was skipped or not
            // kept after a problem already reported.
            if self.problems.is_empty() {
                self.problems.push(syntax(
                    "this alias refers to the node that contains it",
                    span(at),
                ));
            }
            return Value::Null;
        };
        if self.depth + depth > MAX_DEPTH {
            self.problems.push(too_deep(span(at)));
            return Value::Null;
        }
        if !self.copy(nodes, bytes, at) {
            return Value::Null;
        }
        self.anchors
            .get(&anchor)
            .map_or(Value::Null, |anchored| anchored.value.clone())
    }

    /// Counts `nodes` more copied nodes holding `bytes` bytes of text; false, with the problem
    /// reported once, past [`MAX_COPIED`] nodes or [`MAX_COPIED_BYTES`] bytes.
    fn copy(&mut self, nodes: usize, bytes: usize, at: saphyr_parser::Span) -> bool {
        let within = |n: usize, b: usize| n <= MAX_COPIED && b <= MAX_COPIED_BYTES;
        let before = within(self.copied, self.copied_bytes);
        self.copied = self.copied.saturating_add(nodes);
        self.copied_bytes = self.copied_bytes.saturating_add(bytes);
        if within(self.copied, self.copied_bytes) {
            return true;
        }
        if before {
            let what = if self.copied > MAX_COPIED {
                format!("more than {MAX_COPIED} nodes")
            } else {
                format!("more than {} MiB of text", MAX_COPIED_BYTES >> 20)
            };
            self.problems.push(
                Diagnostic::error(
                    Code::YamlAliasBudget,
                    format!("the spec's anchors and aliases copy {what}"),
                    Label {
                        at: At::Span(span(at)),
                        text: "the copy that passes the limit".into(),
                    },
                )
                .with_help("write the repeated blocks out, or alias fewer or smaller ones"),
            );
        }
        false
    }

    fn sequence(&mut self, here: &str) -> Result<(Value, Position), ScanError> {
        let mut items = Vec::new();
        loop {
            let step = self.next()?;
            if let Event::SequenceEnd = step.0 {
                return Ok((Value::Array(items), span(step.1).end));
            }
            items.push(self.node(pointer(here, items.len()), None, step)?);
        }
    }

    fn mapping(&mut self, here: &str) -> Result<(Value, Position), ScanError> {
        let mut members = Map::new();
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        loop {
            let (event, at) = self.next()?;
            let name = match event {
                Event::MappingEnd => return Ok((Value::Object(members), span(at).end)),
                Event::Scalar(text, style, anchor, tag) => {
                    self.refuse_tag(tag.as_deref(), at);
                    self.refuse_typed_key(&text, style, tag.as_deref(), at);
                    if anchor != 0 {
                        self.anchor(anchor, &Value::String(text.to_string()), at);
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
            let step = self.next()?;
            let value = self.node(pointer(here, &name), Some(key), step)?;
            members.insert(name, value);
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

    /// Refuses a key that YAML reads as a number, boolean or null (plain `1.50`, `0x1F`, `True`,
    /// `~`, or tagged `!!int 5`): its characters would be lost (`1.5`, `31`, `true`, `null`) and
    /// two keys could become one.
    fn refuse_typed_key(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        at: saphyr_parser::Span,
    ) {
        let read = match tag {
            None if style == ScalarStyle::Plain => match scalar::typed(text) {
                None => return,
                Some(Value::Null) => "null",
                Some(Value::Bool(_)) => "a boolean",
                // Numbers, and `.inf` and `.nan`, which JSON cannot hold.
                Some(_) => "a number",
            },
            Some(tag) if tag.is_yaml_core_schema() => {
                let read = match tag.suffix.as_str() {
                    "null" => "null",
                    "bool" => "a boolean",
                    "int" | "float" => "a number",
                    _ => return,
                };
                if let Err(expected) = scalar::tagged(&tag.suffix, text) {
                    self.problems.push(mismatch(tag, expected, text, at));
                    return;
                }
                read
            }
            _ => return,
        };
        let help = tag.map_or_else(String::new, |t| {
            format!("remove the `!!{}` tag and ", t.suffix)
        });
        let at = span(at);
        self.problems.push(
            Diagnostic::error(
                Code::YamlKeyType,
                format!("YAML reads the key `{text}` as {read}, not as the text written"),
                Label {
                    at: At::Span(at),
                    text: format!("read as {read}"),
                },
            )
            .with_help(format!(
                "{help}quote the key to keep it as written: '{text}'"
            )),
        );
    }
}

/// How many nodes `value` holds, itself included, how many collections deep it nests, and how
/// many bytes of text its keys and scalars hold.
fn shape(value: &Value) -> (usize, usize, usize) {
    let children: Box<dyn Iterator<Item = (usize, &Value)>> = match value {
        Value::Array(items) => Box::new(items.iter().map(|item| (0, item))),
        Value::Object(members) => Box::new(members.iter().map(|(key, v)| (key.len(), v))),
        Value::String(text) => return (1, 0, text.len()),
        _ => return (1, 0, 0),
    };
    children.fold((1, 1, 0), |(nodes, depth, bytes), (key, child)| {
        let (n, d, b) = shape(child);
        (nodes + n, depth.max(d + 1), bytes + key + b)
    })
}

/// A scalar whose core tag does not fit its text (`!!bool yes`).
fn mismatch(tag: &Tag, expected: &str, text: &str, at: saphyr_parser::Span) -> Diagnostic {
    let message = format!("`!!{}` needs {expected}, not `{text}`", tag.suffix);
    syntax(message, span(at))
        .with_help("write a value of the tag's type, or remove the tag and quote the text")
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

        /// Documents of mappings, lists, anchors, aliases and scalars of every type read to the
        /// value `serde_yaml` (the crate amlgen read values with before) reads, whenever both
        /// take the document. (Not where an anchor is defined twice: `serde_yaml` resolves some
        /// aliases to such an anchor to another node.)
        #[test]
        fn documents_read_as_serde_yaml_reads_them(text in flow_document()) {
            let redefined = ["&a", "&b"].iter().any(|anchor| text.matches(anchor).count() > 1);
            if redefined {
                return Ok(());
            }
            if let (Ok(doc), Ok(theirs)) = (parse_text(&text), serde_yaml::from_str::<serde_yaml::Value>(&text)) {
                proptest::prop_assert_eq!(doc.value, serde_yaml_json(theirs), "{}", text);
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

    /// A YAML document in flow style: mappings and lists nested three deep, some anchored,
    /// with plain, quoted and tagged scalars of every type and aliases as leaves.
    fn flow_document() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            // Not the scalars YAML 1.1 (serde_yaml) and 1.2 read differently: leading zeros,
            // `0b`, signed `0x` and `0o`; the scalar tests hold those to YAML 1.2.
            "[-+]?[1-9][0-9.eE_]{0,4}|0|0[xo][0-9a-f]{1,4}|~|null|True|FALSE|yes|\\.inf|-\\.Inf|\\.nan|x y",
            "'[a-z0-9 ]{0,3}'|\"[a-z0-9\\\\]{0,3}\"",
            "!!(int|float|str|bool) [1-9a-z.][0-9a-z.]{0,2}",
            "\\*[ab]",
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            let anchor = "(&[ab] )?";
            prop_oneof![
                (anchor, prop::collection::vec(inner.clone(), 0..4))
                    .prop_map(|(a, items)| format!("{a}[{}]", items.join(", "))),
                (anchor, prop::collection::vec(("[a-c]", inner), 0..4)).prop_map(|(a, members)| {
                    let members: Vec<String> =
                        members.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    format!("{a}{{{}}}", members.join(", "))
                }),
            ]
        })
    }

    /// `serde_yaml`'s value as JSON, as amlgen converted it when `serde_yaml` read specs.
    fn serde_yaml_json(value: serde_yaml::Value) -> Value {
        use serde_yaml::Value as Y;
        match value {
            Y::Null => Value::Null,
            Y::Bool(b) => Value::Bool(b),
            Y::Number(n) => n
                .as_i64()
                .map(Value::from)
                .or_else(|| n.as_u64().map(Value::from))
                .or_else(|| {
                    n.as_f64()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                })
                .unwrap_or_else(|| Value::String(n.to_string())),
            Y::String(s) => Value::String(s),
            Y::Sequence(items) => Value::Array(items.into_iter().map(serde_yaml_json).collect()),
            Y::Mapping(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let key = match k {
                            Y::String(s) => s,
                            other => serde_yaml::to_string(&other)
                                .unwrap()
                                .trim_end()
                                .to_string(),
                        };
                        (key, serde_yaml_json(v))
                    })
                    .collect(),
            ),
            Y::Tagged(tagged) => serde_yaml_json(tagged.value),
        }
    }

    #[test]
    fn words_that_only_look_typed_stay_keys() {
        for word in [
            "inf", "nan", "NaN", "Infinity", "yes", "on", "Off", "y", "e5", "x1", "0b101", "-0x1F",
            "1_000",
        ] {
            let doc = parse_text(&format!("{word}: {word}\n")).unwrap();
            assert_eq!(doc.value[word], Value::String(word.into()), "{word}");
        }
    }

    #[test]
    fn tagged_keys_that_are_not_text_are_refused() {
        for key in ["!!int 5", "!!float 1.50", "!!bool true", "!!null ~"] {
            let errors = parse_text(&format!("tags:\n  {key}: a\n")).unwrap_err();
            assert_eq!(errors[0].code, Code::YamlKeyType, "{key}");
            assert!(
                errors[0]
                    .help
                    .as_deref()
                    .unwrap()
                    .starts_with("remove the `!!"),
                "{key}"
            );
        }
        let doc = parse_text("tags:\n  !!str 1.50: a\n").unwrap();
        assert_eq!(doc.value["tags"]["1.50"], "a");
        for (key, message) in [
            ("!Ref a", "YAML tag `!Ref` is not supported in a spec"),
            ("!!int abc", "`!!int` needs an integer, not `abc`"),
        ] {
            let errors = parse_text(&format!("tags:\n  {key}: a\n")).unwrap_err();
            assert_eq!(
                (errors[0].code, errors[0].message.as_str()),
                (Code::YamlSyntax, message)
            );
        }
    }

    #[test]
    fn a_tagged_scalar_of_another_type_is_refused_at_its_place() {
        let errors = parse_text("a: 1\nb: !!bool yes\n").unwrap_err();
        assert_eq!(errors[0].code, Code::YamlSyntax);
        assert_eq!(errors[0].message, "`!!bool` needs true or false, not `yes`");
        assert_eq!(located(Err(errors)).1, Position { line: 2, col: 4 });
    }

    #[test]
    fn aliases_copy_their_anchor_within_a_budget() {
        let doc = parse_text("a: &x {b: [1, 2]}\nc: *x\n").unwrap();
        assert_eq!(doc.value["c"], serde_json::json!({"b": [1, 2]}));
        // Nine levels of ten aliases each would copy a billion nodes.
        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (name, previous) in "bcdefghij".chars().zip("abcdefghi".chars()) {
            let row = vec![format!("*{previous}"); 10].join(", ");
            laughs.push_str(&format!("{name}: &{name} [{row}]\n"));
        }
        let errors = parse_text(&laughs).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, Code::YamlAliasBudget);
        assert_eq!(
            errors[0].message,
            "the spec's anchors and aliases copy more than 100000 nodes"
        );
        assert_eq!(
            parse_text("a: &x [*x]\n").unwrap_err()[0].code,
            Code::YamlSyntax
        );
        // A key can be anchored too.
        let doc = parse_text("&k a: 1\nb: *k\n").unwrap();
        assert_eq!(doc.value["b"], "a");
    }

    /// A node budget alone let twenty thousand aliases of one 100 KB string build 2 GB (and
    /// 99,000 aliases of a 500 KB one abort on allocation): the bytes copied are budgeted too.
    #[test]
    fn aliases_copy_their_anchor_within_a_budget_of_bytes() {
        let mut text = format!("a: &s {}\nb: [", "x".repeat(100_000));
        text.push_str(&vec!["*s"; 20_000].join(","));
        text.push_str("]\n");
        let started = std::time::Instant::now();
        let errors = parse_text(&text).unwrap_err();
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, Code::YamlAliasBudget);
        assert_eq!(
            errors[0].message,
            "the spec's anchors and aliases copy more than 16 MiB of text"
        );
        // The 161st alias is the one past the budget: 16 MiB / 100,000 bytes, less the anchor.
        assert_eq!(
            located(Err(errors)).1,
            Position {
                line: 2,
                col: 5 + 3 * 166
            }
        );
        // Keys count too.
        let keys = format!(
            "a: &m {{{}: 1}}\nb: [{}]\n",
            "k".repeat(100_000),
            vec!["*m"; 200].join(",")
        );
        assert_eq!(first_error(&keys).0, Code::YamlAliasBudget);
        // What a spec that shares blocks needs passes.
        let shared = format!(
            "a: &s {}\nb: [{}]\n",
            "x".repeat(1000),
            vec!["*s"; 1000].join(",")
        );
        assert!(parse_text(&shared).is_ok());
    }

    #[test]
    fn an_alias_may_not_nest_deeper_than_the_limit() {
        let deep = format!("{}1{}", "[".repeat(30), "]".repeat(30));
        let ok = format!("a: &d {deep}\nb: *d\n");
        assert!(parse_text(&ok).is_ok());
        let too_deep = format!("a: &d {deep}\nb: [[[*d]]]\n");
        let errors = parse_text(&too_deep).unwrap_err();
        assert_eq!(
            located(Err(errors)),
            (Code::YamlTooDeep, Position { line: 2, col: 7 })
        );
    }

    #[test]
    fn json_style_surrogate_pairs_are_decoded_in_double_quoted_scalars() {
        let doc =
            parse_text("a: \"\\ud83d\\ude00 \\uD83D\\uDE01\"\nb: '\\ud83d\\ude00'\n").unwrap();
        assert_eq!(doc.value["a"], "\u{1f600} \u{1f601}");
        // Single-quoted and plain scalars have no escapes: their text is kept as written.
        assert_eq!(doc.value["b"], "\\ud83d\\ude00");
        // Positions after a decoded pair are the spec's, not the rewritten text's.
        let doc = parse_text("t: {a: \"\\ud83d\\ude00\", b: \"\\ud83d\\ude00\", c: 1}\n").unwrap();
        let (node, _) = doc.spans.find("/t/c").unwrap();
        assert_eq!(node.key.unwrap().start, Position { line: 1, col: 43 });
        let errors = parse_text("a: \"\\ud83d\\ude00\"\nb: [\n").unwrap_err();
        assert_eq!(errors[0].code, Code::YamlSyntax);
        // A lone surrogate is not a character.
        assert_eq!(
            first_error("a: x\nb: \"\\ud83d x\"\n"),
            (Code::YamlSyntax, Position { line: 2, col: 4 })
        );
        // Many scalars with pairs are decoded up to a bound on rescans, then refused.
        let many: String = (0..MAX_SURROGATE_SCALARS + 1)
            .map(|i| format!("k{i}: \"\\ud83d\\ude00\"\n"))
            .collect();
        let errors = parse_text(&many).unwrap_err();
        assert!(errors[0].help.as_deref().unwrap().starts_with("at most 64"));
    }

    #[test]
    fn only_yaml_1_2_is_read() {
        assert!(parse_text("%YAML 1.2\n---\na: 1\n").is_ok());
        for version in ["9.9", "1.1", "2.0"] {
            let errors = parse_text(&format!("# c\n%YAML {version}\n---\na: 1\n")).unwrap_err();
            assert_eq!(errors[0].code, Code::YamlSyntax);
            assert_eq!(
                errors[0].message,
                format!("`%YAML {version}` is not supported: amlgen reads YAML 1.2")
            );
            assert_eq!(located(Err(errors)).1, Position { line: 2, col: 1 });
        }
        // Only a directive is one: text that starts with `%` later is not.
        assert!(parse_text("a: 1\nb: '%YAML 9.9'\n").is_ok());
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
