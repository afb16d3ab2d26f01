//! amlgen compiles one YAML spec of an Azure ML training environment into Bicep and ARM
//! templates for its virtual network, NSGs, egress and compute.
//!
//! Two layers (`docs/architecture.md` draws them): `cli` owns every command's arguments, which
//! files it reads and everything printed; below it, the library, whose front door is `compile`
//! (a spec and its bases to a plan, a batch in parallel), `emit` (a plan to files), `verify` (a
//! template to its proof) and `explain` (the reasons, as text). The pipeline, one module per
//! stage, imports flowing down only:
//!
//! ```text
//! source -> yaml (value + positions) -> blueprint (bases, environments) -> schema
//!        -> spec (typed) -> check -> plan -> resources (the model)
//!        -> emit (ARM | Bicep | README) -> write
//! ```
//!
//! Stages up to `check` collect diagnostics (`diag`); nothing is emitted while an error stands.
//! `plan` expands the spec into Azure resources using the requirement `profile` tables and the
//! `azure` data; `resources` turns the plan into one typed tree of resources (`model`), which
//! `emit` prints as ARM JSON (serde) and Bicep (one printer, Tera for the layout); `write` puts
//! files on disk atomically.

pub mod azure;
mod blueprint;
mod check;
pub mod cli;
mod compile;
pub mod diag;
pub mod emit;
mod explain;
mod model;
mod naming;
pub mod plan;
mod profile;
mod resources;
mod routes;
mod schema;
pub mod source;
mod spec;
mod suggest;
mod verify;
pub mod write;
pub mod yaml;

pub use compile::{
    Checked, Compiled, Located, blueprint_schema, check_files, compile, compile_file, resolve_file,
    roots,
};
pub use verify::verify_text;

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
    /// `resolve --env` named an environment the spec does not have.
    NoEnvironment {
        spec: String,
        environment: String,
        known: Vec<String>,
    },
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
    /// A defect in amlgen itself, never in its input.
    Internal(Bug),
}

/// A defect in amlgen itself: what went wrong, for the bug report.
#[derive(Debug)]
pub enum Bug {
    /// The embedded JSON Schema does not compile.
    Schema(String),
    /// The schema accepted a spec that the typed model refuses.
    Model(serde_json::Error),
    /// A template's layout or model does not print.
    Emit(emit::Error),
    /// A file amlgen rendered is missing or does not parse back.
    Rendered {
        file: &'static str,
        source: Option<serde_json::Error>,
    },
    /// The threads of a run could not start.
    Threads(rayon::ThreadPoolBuildError),
}

impl std::fmt::Display for Bug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bug::Schema(why) => write!(f, "the embedded JSON Schema does not compile: {why}"),
            Bug::Model(why) => write!(
                f,
                "the schema accepted a spec the typed model refuses: {why}"
            ),
            Bug::Emit(why) => write!(f, "{why}"),
            Bug::Rendered { file, source: None } => write!(f, "no {file} was rendered"),
            Bug::Rendered {
                file,
                source: Some(why),
            } => write!(f, "the rendered {file} is not JSON: {why}"),
            Bug::Threads(why) => write!(f, "cannot start threads: {why}"),
        }
    }
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
            Error::NoEnvironment {
                spec,
                environment,
                known,
            } => match known.as_slice() {
                [] => write!(
                    f,
                    "{spec} has no environments, so none named `{environment}`"
                ),
                _ => write!(
                    f,
                    "{spec} has no environment `{environment}`; it has {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            Error::NoSpec(given) => write!(
                f,
                "no spec found in {given}: give spec files, folders holding *.yaml or *.yml \
                 files, or globs"
            ),
            Error::Internal(bug) => write!(
                f,
                "internal error: {bug} (this is a bug in amlgen; please report it)"
            ),
        }
    }
}

impl std::error::Error for Error {}
