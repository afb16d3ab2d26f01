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

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};

use crate::diag::{Format, Severity};
use crate::plan::Plan;
use crate::write::{self, Checking, Output, Report, Staging};
use crate::{Compiled, Error, VERSION, check_files, emit};

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
    Schema,
    /// Prove offline that rendered networks let the required flows of their compute through and
    /// stop the forbidden ones; exit 1 when not.
    Verify(crate::verify::Args),
    /// Explain a spec's NSG rules and routes (the reason and source of each, and what the
    /// firewall must allow), or print a diagnostic code's documentation.
    Explain(crate::explain::Args),
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
    /// Spec files, folders (searched recursively for *.yaml and *.yml), or globs.
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<PathBuf>,
    /// How to print diagnostics: human text on stderr, or one JSON or SARIF document on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// The lowest severity that fails the run (exit 1, nothing written).
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Threads that compile and render specs (default: one per core); output never depends on it.
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
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
        Command::Schema => out
            .write_all(crate::schema::SCHEMA.as_bytes())
            .and_then(|()| out.flush())
            .map(|()| 0)
            .map_err(Error::Output),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            command.set_bin_name("amlgen");
            command.build();
            // Like every print to stdout, a closed pipe is not an error of amlgen's.
            let _ = clap_complete::Generator::try_generate(&shell, &command, out);
            Ok(0)
        }
        Command::Init { name } => init(&name, out, err),
        Command::Validate { inputs } => validate(&inputs, out, err),
        Command::Render {
            inputs,
            out: dir,
            check,
            force,
        } => render(&inputs, &dir, check, force, out, err),
        Command::Verify(args) => crate::verify::command(&args, out, err),
        Command::Explain(args) => crate::explain::command(&args, out, err),
    };
    match result {
        Ok(code) => code,
        // A reader that stops early (`| head`) is not an error of amlgen's, as in ripgrep.
        Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            // Paths and patterns come from the command line: escaped like a spec's text.
            let _ = writeln!(err, "error: {}", crate::diag::escape(&e.to_string()));
            2
        }
    }
}

/// How many folders deep a folder or a `**` glob is searched; deeper folders are an error.
const MAX_WALK_DEPTH: usize = 32;

/// Expands folders (recursively) and globs into spec files, in the order given, each once.
/// Hidden files and folders are skipped; a file named on the command line is kept as given (a
/// missing one is then the `spec-unreadable` diagnostic of that spec). A walk never follows a
/// symbolic link to a folder, so a link loop can neither repeat a spec nor run forever.
fn spec_files(specs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files: Vec<PathBuf> = Vec::new();
    for spec in specs {
        let text = spec.display().to_string();
        if spec.is_dir() {
            let yaml = |path: &Path| path.extension().is_some_and(|x| x == "yaml" || x == "yml");
            let mut found = Vec::new();
            let walk = Walk {
                skip_hidden: true,
                deep: true,
                wanted: &yaml,
            };
            walk_folder(&walk, spec, MAX_WALK_DEPTH, &mut found)?;
            found.sort();
            files.extend(found);
        } else if spec.exists() || !text.contains(['*', '?', '[']) {
            files.push(spec.clone());
        } else {
            files.extend(matches(&text)?);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    files.retain(|file| seen.insert(file.clone()));
    if files.is_empty() {
        let given: Vec<String> = specs.iter().map(|s| format!("`{}`", s.display())).collect();
        return Err(Error::NoSpec(given.join(", ")));
    }
    Ok(files)
}

/// The files matching the glob `pattern`, sorted. The folder named before the first wildcard is
/// walked, as deep as the pattern's components reach (or [`MAX_WALK_DEPTH`] with `**`).
fn matches(pattern: &str) -> Result<Vec<PathBuf>, Error> {
    let glob = glob::Pattern::new(pattern).map_err(|e| Error::Glob {
        pattern: pattern.to_string(),
        problem: e.to_string(),
    })?;
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut base = PathBuf::new();
    let mut rest = Vec::new();
    for component in Path::new(pattern).components() {
        let word = component.as_os_str().to_string_lossy().into_owned();
        if rest.is_empty() && !word.contains(['*', '?', '[']) {
            base.push(component);
        } else {
            rest.push(word);
        }
    }
    let deep = rest.iter().any(|c| c.contains("**"));
    let depth = if deep { MAX_WALK_DEPTH } else { rest.len() };
    let wanted = |path: &Path| glob.matches_path_with(path, options);
    let walk = Walk {
        // Hidden entries only where the pattern names them (`.config/*.yaml`).
        skip_hidden: !rest.iter().any(|c| c.starts_with('.')),
        deep,
        wanted: &wanted,
    };
    let mut found = Vec::new();
    walk_folder(&walk, &base, depth, &mut found)?;
    found.sort();
    Ok(found)
}

/// How a folder is searched.
struct Walk<'a> {
    /// Whether hidden entries are skipped.
    skip_hidden: bool,
    /// Whether a folder below the depth bound is an error (a recursive search), or simply
    /// outside the search (a glob's components reach no deeper).
    deep: bool,
    /// Which files are found.
    wanted: &'a dyn Fn(&Path) -> bool,
}

/// Adds to `found` the files under `dir` that the walk wants, at most `depth` levels down (1:
/// `dir`'s own files). A symbolic link to a file is a file; one to a folder is not followed.
fn walk_folder(
    walk: &Walk<'_>,
    dir: &Path,
    depth: usize,
    found: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    if depth == 0 {
        return Ok(());
    }
    let listed = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let unreadable = |source| Error::Read {
        path: listed.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(listed).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name();
        if walk.skip_hidden && name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = dir.join(&name);
        let kind = entry.file_type().map_err(unreadable)?;
        if kind.is_dir() {
            match (depth, walk.deep) {
                (1, true) => return Err(Error::TooDeep(path.display().to_string())),
                (1, false) => {}
                _ => walk_folder(walk, &path, depth - 1, found)?,
            }
        } else if (kind.is_file() || (kind.is_symlink() && path.is_file())) && (walk.wanted)(&path)
        {
            found.push(path);
        }
    }
    Ok(())
}

/// A thread pool of `--jobs` threads.
fn pool(inputs: &Inputs) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(inputs.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::Internal(format!("cannot start threads: {e}")))
}

/// What a run does with each spec that passes, given its plan: render it and stage (or compare)
/// its files.
type Then<'a, T> = dyn Fn(&Plan) -> T + Sync + 'a;

/// The specs of a checked run that pass, in order, with what `then` made of each.
struct Run<T> {
    passed: Vec<(PathBuf, T)>,
    /// How many specs the run has.
    total: usize,
}

impl<T> Run<T> {
    fn failed(&self) -> usize {
        self.total - self.passed.len()
    }
}

/// Checks every spec of `inputs` in parallel and prints the run's diagnostics. Each spec that
/// passes (no diagnostic at `--fail-on` or worse) is handed to `then` as soon as it is checked,
/// on its own thread; a spec can still fail after `then` saw it (a name taken twice).
fn check_specs<T: Send>(
    inputs: &Inputs,
    pool: &rayon::ThreadPool,
    then: &Then<'_, T>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Run<T>, Error> {
    let files = spec_files(&inputs.specs)?;
    let threshold = match inputs.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
    };
    let passes = |compiled: &Compiled| compiled.diagnostics.iter().all(|d| d.severity > threshold);
    let checked = pool.install(|| {
        check_files(&files, &|compiled| {
            let plan = compiled.plan.as_ref().filter(|_| passes(compiled))?;
            Some(then(plan))
        })
    })?;
    let total = checked.len();
    let findings: Vec<_> = checked.iter().map(|(c, _)| c.compiled.findings()).collect();
    let document = crate::diag::render(inputs.format, &findings);
    drop(findings);
    let sink: &mut dyn Write = if inputs.format == Format::Human {
        err
    } else {
        out
    };
    let _ = sink.write_all(document.as_bytes());
    let passed = files
        .into_iter()
        .zip(checked)
        .filter(|(_, (c, _))| c.name.is_some() && passes(&c.compiled))
        .filter_map(|(path, (_, made))| Some((path, made?)))
        .collect();
    Ok(Run { passed, total })
}

fn validate(inputs: &Inputs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    let pool = pool(inputs)?;
    let run = check_specs(inputs, &pool, &|_| (), out, err)?;
    let log: &mut dyn Write = if inputs.format == Format::Human {
        for (path, ()) in &run.passed {
            let _ = writeln!(
                out,
                "{}: valid",
                crate::diag::escape(&path.display().to_string())
            );
        }
        out
    } else {
        err
    };
    let _ = writeln!(
        log,
        "{} specs: {} valid, {} failed",
        run.total,
        run.passed.len(),
        run.failed()
    );
    Ok(u8::from(run.failed() > 0))
}

fn render(
    inputs: &Inputs,
    dir: &Path,
    check: bool,
    force: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let pool = pool(inputs)?;
    pool.spawn(emit::prepare);
    let mut waiting = || {
        let _ = writeln!(
            err,
            "waiting: another amlgen run is using {}; continuing when it ends",
            dir.display()
        );
    };
    // The output folder is locked before the specs are checked, as they are staged as soon as
    // they pass. When it cannot be, the specs are still checked: an invalid spec fails the run
    // with its diagnostics (exit 1), not with the folder's error.
    if check {
        let checking = match Checking::begin(dir, &mut waiting) {
            Ok(checking) => checking,
            Err(e) => return unusable(e, inputs, &pool, check, out, err),
        };
        let then = |plan: &Plan| emit_into(plan, dir, &|output| checking.check(output));
        let run = check_specs(inputs, &pool, &then, out, err)?;
        let Some(reports) = reports(run, check, err)? else {
            return Ok(1);
        };
        return Ok(print_check(&reports, inputs.format, out, err));
    }
    let staging = match Staging::begin(dir, force, &mut waiting) {
        Ok(staging) => staging,
        Err(e) => return unusable(e, inputs, &pool, check, out, err),
    };
    let then = |plan: &Plan| emit_into(plan, dir, &|output| staging.stage(output));
    // An uncommitted staging, dropped on any return below, removes what it staged.
    let run = check_specs(inputs, &pool, &then, out, err)?;
    let Some(reports) = reports(run, check, err)? else {
        return Ok(1);
    };
    pool.install(|| staging.commit()).map_err(Error::Write)?;
    let log: &mut dyn Write = if inputs.format == Format::Human {
        out
    } else {
        err
    };
    list(&reports, log, "wrote", "removed");
    let rendered = reports.iter().filter(|r| touched(r)).count();
    let _ = writeln!(
        log,
        "{} specs: {rendered} rendered, {} unchanged, 0 failed",
        reports.len(),
        reports.len() - rendered
    );
    Ok(0)
}

/// The reports of a run whose every spec passed, or `None` (after saying that nothing was
/// written) when one failed; the first write error otherwise.
fn reports(
    run: Run<Result<Report, Error>>,
    check: bool,
    err: &mut dyn Write,
) -> Result<Option<Vec<Report>>, Error> {
    if say_nothing_done(&run, check, err) {
        return Ok(None);
    }
    run.passed
        .into_iter()
        .map(|(_, report)| report)
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Says that nothing was written (or compared) when a spec of `run` failed; true then.
fn say_nothing_done<T>(run: &Run<T>, check: bool, err: &mut dyn Write) -> bool {
    if run.failed() == 0 {
        return false;
    }
    let (what, summary) = if check {
        ("nothing was compared", "0 stale, 0 up to date")
    } else {
        ("nothing was written", "0 rendered, 0 unchanged")
    };
    let _ = writeln!(err, "error: {what}: fix the problems above");
    let (total, failed) = (run.total, run.failed());
    let _ = writeln!(err, "{total} specs: {summary}, {failed} failed");
    true
}

/// A run whose output folder cannot be locked: exit 1 when a spec fails, else the folder's
/// error.
fn unusable(
    error: write::Error,
    inputs: &Inputs,
    pool: &rayon::ThreadPool,
    check: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let run = check_specs(inputs, pool, &|_| (), out, err)?;
    if say_nothing_done(&run, check, err) {
        return Ok(1);
    }
    Err(Error::Write(error))
}

fn touched(report: &Report) -> bool {
    !report.changed.is_empty() || !report.removed.is_empty()
}

/// Renders `plan` and hands its folder, `dir/<name>`, to `act`.
fn emit_into(
    plan: &Plan,
    dir: &Path,
    act: &dyn Fn(&Output) -> Result<Report, write::Error>,
) -> Result<Report, Error> {
    let artifacts = emit::render(plan, VERSION).map_err(Error::Internal)?;
    let output = Output {
        dir: dir.join(&plan.name),
        artifacts,
    };
    act(&output).map_err(Error::Write)
}

/// Prints each changed file after `changed` and each removed file after `removed`.
/// The lines are written at once: a batch lists thousands.
fn list(reports: &[Report], sink: &mut dyn Write, changed: &str, removed: &str) {
    use std::fmt::Write as _;
    let mut text = String::new();
    for report in reports {
        for path in &report.changed {
            let _ = writeln!(text, "{changed} {}", path.display());
        }
        for path in &report.removed {
            let why = "(the spec no longer produces it)";
            let _ = writeln!(text, "{removed} {} {why}", path.display());
        }
    }
    let _ = sink.write_all(text.as_bytes());
}

/// Prints what `render --check` found (on stderr when stale); the exit code.
fn print_check(reports: &[Report], format: Format, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let stale = reports.iter().filter(|r| touched(r)).count();
    let files: usize = reports
        .iter()
        .map(|r| r.changed.len() + r.unchanged.len())
        .sum();
    let changed: usize = reports
        .iter()
        .map(|r| r.changed.len() + r.removed.len())
        .sum();
    if stale == 0 {
        let log: &mut dyn Write = if format == Format::Human { out } else { err };
        let _ = writeln!(log, "{files} files up to date");
        let _ = writeln!(
            log,
            "{} specs: 0 stale, {} up to date",
            reports.len(),
            reports.len()
        );
        return 0;
    }
    list(reports, err, "stale:", "stale:");
    let _ = writeln!(
        err,
        "error: {changed} files would change; run `amlgen render` and commit the result"
    );
    let _ = writeln!(
        err,
        "{} specs: {stale} stale, {} up to date",
        reports.len(),
        reports.len() - stale
    );
    1
}

/// The starter spec `init` writes; `{name}` is replaced by the spec's name.
const STARTER: &str = include_str!("starter.yaml");
/// The file the starter spec's modeline names.
const SCHEMA_FILE: &str = "amlgen.schema.json";

/// Writes `NAME.yaml` (never over an existing file) after checking that it compiles, and the
/// JSON Schema beside it when missing.
fn init(name: &str, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    let file = PathBuf::from(format!("{name}.yaml"));
    let text = STARTER.replace("{name}", name);
    let source = crate::source::Source::new(file.display().to_string(), text.clone());
    let compiled = crate::compile(source, Path::new("."))?;
    if compiled.plan.as_ref().map(|plan| plan.name.as_str()) != Some(name) {
        let document = crate::diag::render(Format::Human, &[compiled.findings()]);
        let _ = err.write_all(document.as_bytes());
        let _ = writeln!(
            err,
            "error: `{name}` cannot name a spec; nothing was written"
        );
        return Ok(1);
    }
    create_new(&file, &text)?;
    let _ = writeln!(out, "wrote {}", file.display());
    if !Path::new(SCHEMA_FILE).exists() {
        create_new(Path::new(SCHEMA_FILE), crate::schema::SCHEMA)?;
        let _ = writeln!(
            out,
            "wrote {SCHEMA_FILE} (the schema editors read for completion)"
        );
    }
    let _ = writeln!(out, "next: amlgen render {}", file.display());
    Ok(0)
}

fn create_new(path: &Path, text: &str) -> Result<(), Error> {
    let failed = |e: std::io::Error| {
        Error::Write(write::Error {
            path: path.to_path_buf(),
            problem: write::Problem::Io(e),
        })
    };
    let mut file = std::fs::File::create_new(path).map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)
}
