//! What stops a run other than a problem in a spec: a file that cannot be read or written, and
//! amlgen's own defects. Exit code 2; kept at the bottom of the library so that every stage can
//! return it.

use crate::{emit, write};

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
