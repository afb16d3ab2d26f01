//! amlgen compiles one YAML spec of an Azure ML training environment into Bicep and ARM
//! templates for its virtual network, NSGs, egress and compute.
//!
//! The pipeline, one module per stage, imports flowing down only:
//!
//! ```text
//! source -> yaml (value + positions) -> schema -> spec (typed) -> check -> plan
//!        -> resources (the model) -> emit (ARM | Bicep | README) -> write
//! ```
//!
//! Stages up to `check` collect diagnostics (`diag`); nothing is emitted while an error stands.
//! `plan` expands the spec into Azure resources using the requirement `profile` tables and the
//! `azure` data; `resources` turns the plan into one typed tree of resources (`model`), which
//! `emit` prints as ARM JSON (serde) and Bicep (one printer, Tera for the layout); `write` puts
//! files on disk atomically. `cli` is the only module that talks to the terminal.
//!
//! Beside the pipeline, `verify` reads rendered ARM templates back (amlgen's or anyone's) and
//! proves with Azure's semantics that the required flows pass and the forbidden ones do not;
//! `explain` prints why each rule and route of a spec exists.

pub mod azure;
pub mod check;
pub mod cli;
pub mod diag;
pub mod emit;
pub mod explain;
pub mod model;
pub mod naming;
pub mod plan;
pub mod profile;
mod resources;
pub mod routes;
pub mod schema;
pub mod source;
pub mod spec;
pub mod suggest;
pub mod verify;
pub mod write;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use azure::service_tags::ServiceTags;
use diag::{Code, Diagnostic, Label, has_errors};
use rayon::prelude::*;
use source::{Source, SpanIndex};
use spec::{Egress, RouteStyle, Spec};

/// The version stamped into generated files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A failure that is not a problem in the spec: a file cannot be read or written, or amlgen has
/// a bug. Exit code 2.
#[derive(Debug)]
pub enum Error {
    Read {
        path: String,
        source: std::io::Error,
    },
    Write(write::Error),
    /// The command line named no spec file, or only folders and globs without one.
    NoSpec(String),
    /// A glob on the command line is not a valid pattern.
    Glob {
        pattern: String,
        problem: String,
    },
    /// A folder searched for specs nests folders deeper than the search goes.
    TooDeep(String),
    /// Standard output or error could not be written (a full disk; a closed pipe is not
    /// reported).
    Output(std::io::Error),
    Internal(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Read { path, source } => write!(f, "cannot read {path}: {source}"),
            Error::Write(error) => write!(f, "{error}"),
            Error::Output(error) => write!(f, "cannot write the output: {error}"),
            Error::Glob { pattern, problem } => write!(
                f,
                "invalid glob `{pattern}`: {problem} (quote a file name holding `[`, `*` or `?` as `[[]`, `[*]` or `[?]`)"
            ),
            Error::TooDeep(folder) => write!(
                f,
                "cannot search {folder}: folders nest more than 32 levels deep below the one given; name a deeper folder"
            ),
            Error::NoSpec(given) => write!(
                f,
                "no spec found in {given}: give spec files, folders holding *.yaml or *.yml \
                 files, or globs"
            ),
            Error::Internal(message) => write!(
                f,
                "internal error: {message} (this is a bug in amlgen; please report it)"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// One spec taken through the pipeline as far as it goes.
#[derive(Debug)]
pub struct Compiled {
    pub source: Source,
    pub spans: SpanIndex,
    /// Every problem found, errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// The plan, when no error stands.
    pub plan: Option<plan::Plan>,
    /// The service-tags file the spec's routes were read from, kept for `verify`, which follows
    /// them.
    pub service_tags: Option<ServiceTags>,
}

impl Compiled {
    /// The diagnostics with what locates them, for [`diag::render`].
    pub fn findings(&self) -> diag::Findings<'_> {
        diag::Findings {
            source: &self.source,
            spans: &self.spans,
            diagnostics: &self.diagnostics,
        }
    }
}

/// A spec of a batch after checking: its diagnostics and, when it is valid, its `name`. The plan
/// is dropped (a render has emitted it by then), and so are the text and positions of a spec
/// without diagnostics: a batch holds little more than a path per spec.
#[derive(Debug)]
pub struct Checked {
    pub compiled: Compiled,
    /// The spec's `name` when no error stands.
    pub name: Option<String>,
}

impl From<Compiled> for Checked {
    fn from(mut compiled: Compiled) -> Self {
        let name = compiled.plan.take().map(|plan| plan.name);
        if compiled.diagnostics.is_empty() {
            compiled.spans = SpanIndex::default();
            compiled.source.text = String::new();
        }
        Self { compiled, name }
    }
}

/// Reads and compiles the spec at `path`.
pub fn compile_file(path: &Path) -> Result<Compiled, Error> {
    let display = path.display().to_string();
    let bytes = source::read_file(path, source::SPEC_LIMIT).map_err(|source| Error::Read {
        path: display.clone(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    compile(Source::from_bytes(display, bytes), base)
}

/// Reads and checks the specs at `paths` in parallel (on the current rayon pool), returned in
/// the order given, each with what `then` made of it. `then` sees each spec on the thread that
/// compiled it, before its plan is dropped, so a batch holds one plan per thread, never the
/// batch's. A valid spec whose `name` an earlier spec already has gets a `spec-name-duplicate`
/// error, as the two would render into the same folder (after `then` has seen both).
pub fn check_files<T: Send>(
    paths: &[PathBuf],
    then: &(dyn Fn(&Compiled) -> Option<T> + Sync),
) -> Result<Vec<(Checked, Option<T>)>, Error> {
    let results: Vec<Result<(Checked, Option<T>), Error>> = paths
        .par_iter()
        .map(|p| {
            let compiled = compile_or_unreadable(p)?;
            let made = then(&compiled);
            Ok((Checked::from(compiled), made))
        })
        .collect();
    let mut checked = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut first: BTreeMap<String, String> = BTreeMap::new();
    for ((spec, _), path) in checked.iter_mut().zip(paths) {
        let Some(name) = spec.name.take() else {
            continue;
        };
        let Some(earlier) = first.get(&name) else {
            first.insert(name.clone(), spec.compiled.source.path.clone());
            spec.name = Some(name);
            continue;
        };
        // Compiled again for the text and positions the diagnostic points into.
        let mut compiled = compile_or_unreadable(path)?;
        compiled.plan = None;
        compiled.diagnostics.push(
            Diagnostic::error(
                Code::SpecNameDuplicate,
                format!("spec name `{name}` is also the name of {earlier}; both would render into the folder `{name}`"),
                Label::value("/name", format!("also in {earlier}")),
            )
            .with_help("give each spec its own `name`"),
        );
        spec.compiled = compiled;
    }
    Ok(checked)
}

/// [`compile_file`], with a spec that cannot be read (missing, a folder, unreadable, too large)
/// as its `spec-unreadable` diagnostic: one such spec does not stop a batch.
fn compile_or_unreadable(path: &Path) -> Result<Compiled, Error> {
    match compile_file(path) {
        Err(Error::Read { path, source }) => Ok(Compiled {
            diagnostics: vec![
                Diagnostic::error(
                    Code::SpecUnreadable,
                    format!("cannot read {path}: {source}"),
                    Label::value("", "the spec"),
                )
                .with_help("name a readable YAML file of at most 1 MiB"),
            ],
            source: Source::new(path, ""),
            spans: SpanIndex::default(),
            plan: None,
            service_tags: None,
        }),
        other => other,
    }
}

/// Compiles a spec's text; `base` is the folder relative paths in the spec start from.
pub fn compile(source: Source, base: &Path) -> Result<Compiled, Error> {
    let document = match yaml::parse(&source) {
        Ok(document) => document,
        Err(diagnostics) => {
            return Ok(Compiled {
                source,
                spans: SpanIndex::default(),
                diagnostics: diag::cap(diagnostics),
                plan: None,
                service_tags: None,
            });
        }
    };
    let mut diagnostics = schema::validate(&document.value).map_err(Error::Internal)?;
    let stop = |source, diagnostics| {
        Ok(Compiled {
            source,
            spans: document.spans.clone(),
            diagnostics: diag::cap(diagnostics),
            plan: None,
            service_tags: None,
        })
    };
    if has_errors(&diagnostics) {
        return stop(source, diagnostics);
    }
    let spec = Spec::from_value(&document.value).map_err(|e| {
        Error::Internal(format!(
            "the schema accepted a spec the typed model refuses: {e}"
        ))
    })?;
    let service_tags = match load_service_tags(&spec, base) {
        Ok(tags) => tags,
        Err(diagnostic) => {
            diagnostics.push(*diagnostic);
            None
        }
    };
    diagnostics.extend(check::run(&spec, service_tags.as_ref()));
    if has_errors(&diagnostics) {
        return stop(source, diagnostics);
    }
    let plan = plan::build(&spec, service_tags.as_ref());
    Ok(Compiled {
        source,
        spans: document.spans,
        diagnostics: diag::cap(diagnostics),
        plan: Some(plan),
        service_tags,
    })
}

/// Reads `forced_tunnel.service_tags_file` when the routes need it; a file that cannot be used
/// becomes a diagnostic on the spec's `service_tags_file` value.
fn load_service_tags(spec: &Spec, base: &Path) -> Result<Option<ServiceTags>, Box<Diagnostic>> {
    let Some(tunnel) = spec.network.forced_tunnel.as_ref() else {
        return Ok(None);
    };
    let (Egress::ForcedTunnel, RouteStyle::IpPrefixes, Some(file)) = (
        spec.network.egress,
        tunnel.routes,
        tunnel.service_tags_file.as_deref(),
    ) else {
        return Ok(None);
    };
    let read = source::read_file(&base.join(file), source::SERVICE_TAGS_LIMIT)
        .map_err(|e| e.to_string())
        .and_then(|bytes| String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({e})")));
    read.and_then(|text| ServiceTags::parse(&text)).map(Some).map_err(|why| {
        Box::new(
            Diagnostic::error(
                Code::ServiceTagsUnreadable,
                format!("cannot use service-tags file `{file}`: {why}"),
                Label::value("/network/forced_tunnel/service_tags_file", "read relative to the spec"),
            )
            .with_help("download \"Azure IP Ranges and Service Tags - Public Cloud\" from Microsoft, or run `az network list-service-tags --location <region> -o json > ServiceTags_Public.json`"),
        )
    })
}
