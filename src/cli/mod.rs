//! The command line: argument parsing, running the pipeline over the specs, and everything printed.
//!
//! This is the only module that talks to the terminal. It writes to the streams it is given, so
//! tests drive it in-process, and turns outcomes into exit codes: 0 success, 1 invalid spec or
//! stale output, 2 usage, I/O or internal error.
//!
//! A run compiles every spec once, in parallel; each spec that passes is rendered and staged on
//! the thread that checked it (its files go straight to temporary files, so memory holds one
//! spec per thread, not the batch), keeping only its diagnostics, name and file list. Only when
//! every spec passed is everything renamed into place; otherwise what was staged is removed and
//! nothing is written. Diagnostics of the whole run are printed as one document.

mod explain;
mod init;
mod inputs;
mod render;
mod verify;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};

use crate::diag::Format;
use crate::{Compiled, Error};

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
    /// When to colour diagnostics on stderr: `auto` colours a terminal unless `NO_COLOR` is set
    /// (`CLICOLOR_FORCE` colours anything).
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = Colour::Auto)]
    color: Colour,
}

/// The `--color` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Colour {
    Auto,
    Always,
    Never,
}

impl Colour {
    /// Whether to colour, given what `auto` means for the process's stderr.
    fn wanted(self, auto: anstream::ColorChoice) -> bool {
        match self {
            Colour::Auto => !matches!(
                auto,
                anstream::ColorChoice::Never | anstream::ColorChoice::Auto
            ),
            Colour::Always => true,
            Colour::Never => false,
        }
    }
}

const EXAMPLES: &str = "\
Examples:
  amlgen init my-training                         write a starter spec, my-training.yaml
  amlgen render examples/locked-nat.yaml          write out/<name>/ for one spec
  amlgen render examples/ -o infra/generated      every *.yaml / *.yml under a folder
  amlgen render --check 'specs/*.yaml'            exit 1 if committed output is stale
  amlgen validate specs/ --format sarif           one SARIF log for code scanning
  amlgen schema > amlgen.schema.json              the spec's JSON Schema

Exit codes: 0 success, 1 invalid spec or stale output, 2 usage, I/O or internal error,
130 interrupted (no temporary file is left behind).";

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate specs and write their templates to OUT/<name>/.
    ///
    /// Nothing is written unless every spec is valid; files are replaced atomically, unchanged
    /// files are left untouched, and generated files a spec no longer produces are removed.
    /// Files amlgen did not generate (without its header) are never overwritten or removed.
    Render {
        #[command(flatten)]
        inputs: Inputs,
        /// The folder the per-spec output folders go into.
        #[arg(short, long, value_name = "DIR", default_value = "out")]
        out: PathBuf,
        /// Write nothing; exit 1 and list the files that rendering would change or remove (the
        /// amlgen version stamp is ignored).
        #[arg(long)]
        check: bool,
        /// Overwrite files that amlgen did not generate.
        #[arg(long, conflicts_with = "check")]
        force: bool,
    },
    /// Validate specs without rendering: print every error and warning.
    Validate {
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Print the spec's JSON Schema (draft-07), for editors and CI.
    Schema {
        /// The schema of a base (`*.base.yaml`) or a spec that extends one: nothing required,
        /// the blueprint keys allowed.
        #[arg(long)]
        base: bool,
    },
    /// Prove offline that rendered networks let the required flows of their compute through and
    /// stop the forbidden ones; exit 1 when not.
    Verify(verify::Args),
    /// Explain a spec's NSG rules and routes (the reason and source of each, and what the
    /// firewall must allow), or print a diagnostic code's documentation.
    Explain(explain::Args),
    /// Print a spec merged with the bases it extends (and an environment), each value with the
    /// file and line that set it.
    Resolve {
        /// The spec.
        spec: PathBuf,
        /// The environment to merge in (default: the first, when the spec has environments).
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
    },
    /// Write a commented starter spec, NAME.yaml, that renders as it is (and the JSON Schema
    /// its modeline names, amlgen.schema.json, when it is not there yet).
    Init {
        /// The spec's name: 3-40 lowercase letters, digits and hyphens, starting with a letter.
        #[arg(default_value = "my-training")]
        name: String,
    },
    /// Print a shell completion script, e.g. `amlgen completions bash > /etc/bash_completion.d/amlgen`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The specs of a run and how to report on them.
#[derive(Debug, clap::Args)]
struct Inputs {
    /// Spec files, folders (searched recursively for *.yaml and *.yml), globs, or `-` for a
    /// spec on standard input.
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<PathBuf>,
    /// How to print diagnostics: human text on stderr, or one JSON or SARIF document on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// The lowest severity that fails the run (exit 1, nothing written).
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Threads that compile and render specs (default: one per core; at most twice the cores,
    /// 256 in all); output never depends on it.
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Print only the diagnostics: no line per spec or file, no summary.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Print a line per spec (and per file written) however many specs the run has; by
    /// default only a run of at most 8 specs does, and a larger one prints its summary.
    #[arg(short, long)]
    verbose: bool,
}

impl Inputs {
    /// Whether a run of `specs` prints a line per spec and per file.
    fn itemised(&self, specs: usize) -> bool {
        !self.quiet && (self.verbose || specs <= FEW)
    }
}

/// The most specs a run lists one by one without `--verbose`.
const FEW: usize = 8;

/// `1 spec`, `2 specs`: a count with its noun.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
}

/// A stream whose reader may leave early (`| head`): once it has, the rest of what the run
/// prints is dropped and the run goes on, to its own exit code (a render still writes its
/// files; a failed check still exits 1), as ripgrep does. Any other write error (a full disk)
/// reaches the command, which fails with exit 2 and leaves the output folder as it was.
struct Pipe<'a> {
    inner: &'a mut dyn Write,
    closed: bool,
}

impl<'a> Pipe<'a> {
    fn new(inner: &'a mut dyn Write) -> Self {
        Self {
            inner,
            closed: false,
        }
    }

    /// `result`, unless the reader has left: then what was to be written counts as written.
    fn unless_closed<T>(&mut self, result: std::io::Result<T>, written: T) -> std::io::Result<T> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(written)
            }
            other => other,
        }
    }
}

impl Write for Pipe<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.unless_closed(result, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.unless_closed(result, ())
    }
}

/// A stream that drops ANSI styles on the way through: diagnostics without colour.
struct Unstyled<'a> {
    inner: &'a mut dyn Write,
    strip: anstream::adapter::StripBytes,
}

impl Write for Unstyled<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for text in self.strip.strip_next(buf) {
            self.inner.write_all(text)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Parses `args` and runs the command, printing to `out` and `err`. Returns the exit code.
///
/// `auto` is what `--color auto` means for `err`: `main` passes
/// [`anstream::AutoStream::choice`] of the process's stderr (a terminal without `NO_COLOR`
/// colours); tests pass [`anstream::ColorChoice::Never`].
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    auto: anstream::ColorChoice,
) -> u8 {
    let (out, err) = (&mut Pipe::new(out), &mut Pipe::new(err));
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let sink: &mut Pipe<'_> = if e.use_stderr() { err } else { out };
            // Usage text that cannot be printed leaves nothing else to say it with.
            return match write!(sink, "{}", e.render()) {
                Ok(()) => code,
                Err(_) => 2,
            };
        }
    };
    // Diagnostics are drawn with ANSI styles; without colour they are stripped on the way out.
    let mut plain;
    let err: &mut dyn Write = if cli.color.wanted(auto) {
        err
    } else {
        plain = Unstyled {
            inner: err,
            strip: anstream::adapter::StripBytes::new(),
        };
        &mut plain
    };
    let result = match cli.command {
        Command::Schema { base } => out
            .write_all(crate::blueprint_schema(base).as_bytes())
            .and_then(|()| out.flush())
            .map(|()| 0)
            .map_err(Error::Output),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            command.set_bin_name("amlgen");
            command.build();
            clap_complete::Generator::try_generate(&shell, &command, out)
                .map(|()| 0)
                .map_err(Error::Output)
        }
        Command::Init { name } => init::init(&name, out, err),
        Command::Validate { inputs } => render::validate(&inputs, out, err),
        Command::Render {
            inputs,
            out: dir,
            check,
            force,
        } => render::render(&inputs, &dir, check, force, out, err),
        Command::Verify(args) => verify::command(&args, out, err),
        Command::Explain(args) => explain::command(&args, out, err),
        Command::Resolve { spec, env } => resolve(&spec, env.as_deref(), out, err),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Paths and patterns come from the command line: escaped like a spec's text.
            // When stderr fails too, the exit code is all that is left to say it.
            let said = writeln!(err, "error: {}", crate::diag::escape(&e.to_string()));
            drop(said);
            2
        }
    }
}

/// Prints the merged spec with its origins (exit 0), or the diagnostics of a chain that does not
/// load or merge (exit 1).
fn resolve(
    spec: &Path,
    env: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    match crate::resolve_file(spec, env)? {
        Ok(text) => {
            out.write_all(text.as_bytes()).map_err(Error::Output)?;
            Ok(0)
        }
        Err(units) => {
            let mut findings: Vec<_> = units.iter().map(Compiled::findings).collect();
            findings.extend(units.iter().flat_map(|u| &u.elsewhere).map(|l| {
                crate::diag::Findings {
                    source: &l.source,
                    spans: &l.spans,
                    diagnostics: &l.diagnostics,
                }
            }));
            let text = crate::diag::render(Format::Human, &findings);
            err.write_all(text.as_bytes()).map_err(Error::Output)?;
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A standard stream that refuses every write with `kind`.
    struct Refusing(std::io::ErrorKind);

    impl Write for Refusing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run_into(args: &[&str], out: &mut dyn Write) -> (u8, String) {
        let mut err = Vec::new();
        let args = args.iter().map(OsString::from);
        let code = run(args, out, &mut err, anstream::ColorChoice::Never);
        (code, String::from_utf8(err).unwrap())
    }

    #[test]
    fn a_reader_that_stops_early_is_not_an_error() {
        let spec = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/secured-workspace.yaml"
        );
        let mut closed = Refusing(std::io::ErrorKind::BrokenPipe);
        for args in [
            &["amlgen", "schema"][..],
            &["amlgen", "--help"],
            &["amlgen", "validate", spec],
        ] {
            assert_eq!(run_into(args, &mut closed), (0, String::new()), "{args:?}");
        }
    }

    #[test]
    fn a_run_whose_reader_left_still_does_its_work_and_exits_with_its_code() {
        let root = env!("CARGO_MANIFEST_DIR");
        let invalid = format!("{root}/tests/fixtures/invalid/cidr-host-bits.yaml");
        let mut closed = Refusing(std::io::ErrorKind::BrokenPipe);
        let (code, _) = run_into(
            &["amlgen", "validate", "--format", "json", &invalid],
            &mut closed,
        );
        assert_eq!(code, 1, "the invalid spec still fails the run");
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let spec = format!("{root}/examples/minimal.yaml");
        let args = ["amlgen", "render", "--format", "json", &spec, "-o"];
        let args: Vec<&str> = args.into_iter().chain([target.to_str().unwrap()]).collect();
        let (code, _) = run_into(&args, &mut closed);
        assert_eq!(code, 0);
        assert!(
            target.join("minimal/main.bicep").is_file(),
            "the render was committed"
        );
    }

    #[test]
    fn output_that_cannot_be_written_fails_the_run_and_says_why() {
        let spec = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/secured-workspace.yaml"
        );
        let mut full = Refusing(std::io::ErrorKind::StorageFull);
        for args in [
            &["amlgen", "schema"][..],
            &["amlgen", "validate", spec],
            &["amlgen", "completions", "bash"],
        ] {
            let (code, err) = run_into(args, &mut full);
            assert_eq!(code, 2, "{args:?}");
            assert!(err.starts_with("error: "), "{args:?}: {err}");
            assert!(err.contains("cannot write the output"), "{args:?}: {err}");
        }
    }
}
