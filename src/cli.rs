//! The command line: argument parsing, running the pipeline per spec, and everything printed.
//!
//! This is the only module that talks to the terminal. It writes to the streams it is given, so
//! tests drive it in-process, and turns outcomes into exit codes: 0 success, 1 invalid spec or
//! stale output, 2 usage, I/O or internal error.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::diag::{self, Format, has_errors};
use crate::write::{self, Output};
use crate::{Compiled, Error, VERSION, compile_file, emit};

/// Compile a YAML spec of an Azure ML training environment into Bicep and ARM templates.
///
/// amlgen validates the spec against its JSON Schema and the network rules of Microsoft's guide
/// "Secure an Azure Machine Learning training environment with virtual networks", then writes the
/// VNet and subnets, NSGs with exactly the required rules, a NAT gateway or a forced-tunnel route
/// table, and the compute resources.
#[derive(Debug, Parser)]
#[command(name = "amlgen", version, propagate_version = true, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  amlgen render examples/locked-nat.yaml          write out/<name>/ for one spec
  amlgen render examples/ -o infra/generated      every *.yaml of a folder
  amlgen render --check examples/                 exit 1 if committed output is stale
  amlgen validate spec.yaml --format json         diagnostics for editors and CI
  amlgen schema > amlgen.schema.json              the spec's JSON Schema

Exit codes: 0 success, 1 invalid spec or stale output, 2 usage, I/O or internal error.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate specs and write their templates to OUT/<name>/.
    ///
    /// Nothing is written unless every spec is valid; files are replaced atomically and
    /// unchanged files are left untouched.
    Render {
        /// Spec files, or folders whose *.yaml / *.yml files are specs.
        #[arg(required = true, value_name = "SPEC")]
        specs: Vec<PathBuf>,
        /// The folder the per-spec output folders go into.
        #[arg(short, long, value_name = "DIR", default_value = "out")]
        out: PathBuf,
        /// Write nothing; exit 1 and list the files that rendering would change (the amlgen
        /// version stamp is ignored).
        #[arg(long)]
        check: bool,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Validate specs without rendering: print every error and warning.
    Validate {
        /// Spec files, or folders whose *.yaml / *.yml files are specs.
        #[arg(required = true, value_name = "SPEC")]
        specs: Vec<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the spec's JSON Schema (draft-07), for editors and CI.
    Schema,
    /// Prove offline that rendered networks let the required flows of their compute through and
    /// stop the forbidden ones; exit 1 when not.
    Verify(crate::verify::Args),
    /// Explain a spec's NSG rules and routes (the reason and source of each, and what the
    /// firewall must allow), or print a diagnostic code's documentation.
    Explain(crate::explain::Args),
}

/// Parses `args` and runs the command, printing to `out` and `err`. Returns the exit code.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let sink: &mut dyn Write = if e.use_stderr() { err } else { out };
            let _ = write!(sink, "{}", e.render());
            return code;
        }
    };
    let result = match cli.command {
        Command::Schema => {
            let _ = out.write_all(crate::schema::SCHEMA.as_bytes());
            Ok(0)
        }
        Command::Validate { specs, format } => validate(&specs, format, out, err),
        Command::Render {
            specs,
            out: dir,
            check,
            format,
        } => render(&specs, &dir, check, format, out, err),
        Command::Verify(args) => crate::verify::command(&args, out, err),
        Command::Explain(args) => crate::explain::command(&args, out, err),
    };
    result.unwrap_or_else(|e| {
        let _ = writeln!(err, "error: {e}");
        2
    })
}

/// Expands folders into their spec files, sorted; files are kept as given.
fn spec_files(specs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for spec in specs {
        if spec.is_dir() {
            let entries = std::fs::read_dir(spec).map_err(|source| Error::Read {
                path: spec.display().to_string(),
                source,
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(spec.clone());
        }
    }
    Ok(files)
}

/// Compiles every spec, printing its diagnostics. `None` when any has an error.
fn compile_all(
    specs: &[PathBuf],
    format: Format,
    err: &mut dyn Write,
) -> Result<Option<Vec<Compiled>>, Error> {
    let mut compiled = Vec::new();
    let mut failed = false;
    for path in spec_files(specs)? {
        let result = compile_file(&path)?;
        if !result.diagnostics.is_empty() {
            let _ = err.write_all(
                diag::render(format, &result.source, &result.spans, &result.diagnostics).as_bytes(),
            );
        }
        failed |= has_errors(&result.diagnostics);
        compiled.push(result);
    }
    Ok((!failed).then_some(compiled))
}

fn validate(
    specs: &[PathBuf],
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let Some(compiled) = compile_all(specs, format, err)? else {
        return Ok(1);
    };
    if format == Format::Human {
        for c in &compiled {
            let _ = writeln!(out, "{}: valid", c.source.path);
        }
    }
    Ok(0)
}

fn render(
    specs: &[PathBuf],
    dir: &Path,
    check: bool,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let Some(compiled) = compile_all(specs, format, err)? else {
        let _ = writeln!(err, "error: nothing was written: fix the errors above");
        return Ok(1);
    };
    let outputs = outputs(&compiled, dir)?;
    if check {
        let report = write::check(&outputs).map_err(Error::Write)?;
        if report.changed.is_empty() {
            let _ = writeln!(out, "{} files up to date", report.unchanged.len());
            return Ok(0);
        }
        for path in &report.changed {
            let _ = writeln!(err, "stale: {}", path.display());
        }
        let _ = writeln!(
            err,
            "error: {} of {} files would change; run `amlgen render` and commit the result",
            report.changed.len(),
            report.changed.len() + report.unchanged.len()
        );
        return Ok(1);
    }
    let report = write::write(&outputs).map_err(Error::Write)?;
    for path in &report.changed {
        let _ = writeln!(out, "wrote {}", path.display());
    }
    if !report.unchanged.is_empty() {
        let _ = writeln!(out, "{} files unchanged", report.unchanged.len());
    }
    Ok(0)
}

/// Renders every compiled spec into memory, one output folder each.
fn outputs(compiled: &[Compiled], dir: &Path) -> Result<Vec<Output>, Error> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut outputs = Vec::new();
    for c in compiled {
        let Some(plan) = &c.plan else { continue };
        if let Some(first) = seen.insert(&plan.name, &c.source.path) {
            return Err(Error::Internal(format!(
                "specs {first} and {} share the name `{}` and would write the same folder",
                c.source.path, plan.name
            )));
        }
        let artifacts = emit::render(plan, VERSION).map_err(Error::Internal)?;
        outputs.push(Output {
            dir: dir.join(&plan.name),
            artifacts,
        });
    }
    Ok(outputs)
}
