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
mod error;
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
pub use error::{Bug, Error};
pub use verify::verify_text;

pub use emit::VERSION;
