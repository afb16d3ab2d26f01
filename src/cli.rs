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

use std::collections::BTreeSet;
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
    Schema {
        /// The schema of a base (`*.base.yaml`) or a spec that extends one: nothing required,
        /// the blueprint keys allowed.
        #[arg(long)]
        base: bool,
    },
    /// Prove offline that rendered networks let the required flows of their compute through and
    /// stop the forbidden ones; exit 1 when not.
    Verify(crate::verify::Args),
    /// Explain a spec's NSG rules and routes (the reason and source of each, and what the
    /// firewall must allow), or print a diagnostic code's documentation.
    Explain(crate::explain::Args),
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
    /// Spec files, folders (searched recursively for *.yaml and *.yml), or globs.
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
        Command::Schema { base } => out
            .write_all(crate::blueprint_schema(base).as_bytes())
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
        Command::Resolve { spec, env } => resolve(&spec, env.as_deref(), out, err),
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
/// Hidden files and folders, and bases (`*.base.yaml`), are skipped in folders; a file named on the
/// command line is kept as given (a
/// missing one is then the `spec-unreadable` diagnostic of that spec). A walk never follows a
/// symbolic link to a folder, so a link loop can neither repeat a spec nor run forever.
fn spec_files(specs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files: Vec<PathBuf> = Vec::new();
    for spec in specs {
        let text = spec.display().to_string();
        if spec.is_dir() {
            // A base (`*.base.yaml`) is checked as part of the specs that extend it.
            let yaml = |path: &Path| {
                path.extension().is_some_and(|x| x == "yaml" || x == "yml") && !is_base(path)
            };
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

/// Whether `path` names a base, `*.base.yaml` or `*.base.yml`.
fn is_base(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|stem| stem.ends_with(".base"))
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

/// The most threads `-j` starts: twice the cores, at most [`MAX_JOBS`]. More only cost memory
/// and start-up time (each thread has its own stack; `-j 10000` used to take minutes).
fn max_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.saturating_mul(2).clamp(1, MAX_JOBS)
}

/// The ceiling of [`max_jobs`], whatever the machine.
const MAX_JOBS: usize = 256;

/// A thread pool of `--jobs` threads (one per core when not given), capped at [`max_jobs`].
fn pool(inputs: &Inputs) -> Result<rayon::ThreadPool, Error> {
    let threads = inputs.jobs.unwrap_or(0).min(max_jobs());
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Internal(format!("cannot start threads: {e}")))
}

/// What a run does with each spec that passes, given its plan: render it and stage (or compare)
/// its files.
type Then<'a, T> = dyn Fn(&Plan) -> T + Sync + 'a;

/// The specs of a checked run that pass (by path, with their environment), in order, with what
/// `then` made of each.
struct Run<T> {
    passed: Vec<(String, T)>,
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
    let passes = |compiled: &Compiled| compiled.all_diagnostics().all(|d| d.severity > threshold);
    let roots = crate::roots(&inputs.specs);
    let checked = pool.install(|| {
        check_files(&files, &roots, &|compiled| {
            let plan = compiled.plan.as_ref().filter(|_| passes(compiled))?;
            Some(then(plan))
        })
    })?;
    let total = checked.len();
    let bases = in_bases(checked.iter().map(|(c, _)| &c.compiled));
    let mut findings: Vec<_> = checked.iter().map(|(c, _)| c.compiled.findings()).collect();
    findings.extend(bases.iter().map(|b| crate::diag::Findings {
        source: &b.source,
        spans: &b.spans,
        diagnostics: &b.diagnostics,
    }));
    let document = crate::diag::render(inputs.format, &findings);
    drop(findings);
    let sink: &mut dyn Write = if inputs.format == Format::Human {
        err
    } else {
        out
    };
    let _ = sink.write_all(document.as_bytes());
    let passed = checked
        .into_iter()
        .filter(|(c, _)| c.name.is_some() && passes(&c.compiled))
        .filter_map(|(c, made)| Some((c.compiled.label(), made?)))
        .collect();
    Ok(Run { passed, total })
}

/// The diagnostics of a run found in bases, each once however many specs reached it, with
/// the specs (and environments) it was found through in its help.
fn in_bases<'c>(specs: impl Iterator<Item = &'c Compiled>) -> Vec<crate::Located> {
    let mut bases: Vec<(crate::Located, Vec<Vec<String>>)> = Vec::new();
    for spec in specs {
        for located in &spec.elsewhere {
            let at = match bases
                .iter()
                .position(|(b, _)| b.source.path == located.source.path)
            {
                Some(at) => at,
                None => {
                    let empty = crate::Located {
                        diagnostics: Vec::new(),
                        reached: Vec::new(),
                        ..located.clone()
                    };
                    bases.push((empty, Vec::new()));
                    bases.len() - 1
                }
            };
            let (base, reached) = &mut bases[at];
            for diagnostic in &located.diagnostics {
                match base.diagnostics.iter().position(|d| d == diagnostic) {
                    Some(i) => reached[i].extend(located.reached.iter().cloned()),
                    None => {
                        base.diagnostics.push(diagnostic.clone());
                        reached.push(located.reached.clone());
                    }
                }
            }
        }
    }
    bases
        .into_iter()
        .map(|(mut base, reached)| {
            for (diagnostic, specs) in base.diagnostics.iter_mut().zip(reached) {
                let through = through(&specs);
                diagnostic.help = Some(match diagnostic.help.take() {
                    Some(help) => format!("{help}; {through}"),
                    None => through,
                });
            }
            base
        })
        .collect()
}

/// `found through teams/a.yaml`, or `found through 200 specs: a, b, c and 197 more`.
fn through(specs: &[String]) -> String {
    const SHOWN: usize = 3;
    match specs {
        [one] => format!("found through {one}"),
        _ => {
            let shown = specs
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = specs.len().saturating_sub(SHOWN);
            let rest = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("found through {} specs: {shown}{rest}", specs.len())
        }
    }
}

fn validate(inputs: &Inputs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    let pool = pool(inputs)?;
    let run = check_specs(inputs, &pool, &|_| (), out, err)?;
    let log: &mut dyn Write = if inputs.format == Format::Human {
        for (path, ()) in &run.passed {
            let _ = writeln!(out, "{}: valid", crate::diag::escape(path));
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
    // A run whose every SPEC is a folder covers the whole output folder: the spec folders no
    // spec of it produces are its specs' that were deleted or renamed.
    let whole = inputs.specs.iter().all(|spec| spec.is_dir());
    // The output folder is locked before the specs are checked, as they are staged as soon as
    // they pass. When it cannot be, the specs are still checked: an invalid spec fails the run
    // with its diagnostics (exit 1), not with the folder's error.
    if check {
        let checking = match Checking::begin(dir, &mut waiting) {
            Ok(checking) => checking,
            Err(e) => return unusable(e, inputs, &pool, check, out, err),
        };
        let then = |plan: &Plan| emit_into(plan, &|output| checking.check(output));
        // A machine format's document is completed with the files found stale.
        let mut document = Vec::new();
        let sink: &mut dyn Write = if inputs.format == Format::Human {
            out
        } else {
            &mut document
        };
        let run = check_specs(inputs, &pool, &then, sink, err)?;
        let Some((names, mut reports)) = reports(run, check, err)? else {
            let _ = out.write_all(&document);
            return Ok(1);
        };
        if whole {
            let orphaned = checking.orphans(&names).map_err(Error::Write)?;
            reports.push(Report {
                orphaned,
                ..Report::default()
            });
        }
        return Ok(print_check(&reports, inputs.format, &document, out, err));
    }
    let staging = match Staging::begin(dir, force, &mut waiting) {
        Ok(staging) => staging,
        Err(e) => return unusable(e, inputs, &pool, check, out, err),
    };
    let then = |plan: &Plan| emit_into(plan, &|output| staging.stage(output));
    // An uncommitted staging, dropped on any return below, removes what it staged.
    let run = check_specs(inputs, &pool, &then, out, err)?;
    let Some((names, reports)) = reports(run, check, err)? else {
        return Ok(1);
    };
    let pruned = if whole {
        staging.prune(&names).map_err(Error::Write)?
    } else {
        Vec::new()
    };
    pool.install(|| staging.commit()).map_err(Error::Write)?;
    let log: &mut dyn Write = if inputs.format == Format::Human {
        out
    } else {
        err
    };
    list(&reports, log, "wrote", "removed");
    let pruned = Report {
        orphaned: pruned,
        ..Report::default()
    };
    list(std::slice::from_ref(&pruned), log, "wrote", "removed");
    let rendered = reports.iter().filter(|r| touched(r)).count();
    let _ = writeln!(
        log,
        "{} specs: {rendered} rendered, {} unchanged, 0 failed",
        reports.len(),
        reports.len() - rendered
    );
    Ok(0)
}

/// The names of the spec folders a run renders, and their reports.
type Passed = (BTreeSet<String>, Vec<Report>);

/// The spec folders and reports of a run whose every spec passed, or `None` (after saying that
/// nothing was written) when one failed; the first write error otherwise.
fn reports(
    run: Run<Result<(String, Report), Error>>,
    check: bool,
    err: &mut dyn Write,
) -> Result<Option<Passed>, Error> {
    if say_nothing_done(&run, check, err) {
        return Ok(None);
    }
    let mut names = BTreeSet::new();
    let mut reports = Vec::with_capacity(run.passed.len());
    for (_, made) in run.passed {
        let (name, report) = made?;
        names.insert(name);
        reports.push(report);
    }
    Ok(Some((names, reports)))
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
    !report.changed.is_empty()
        || !report.orphaned.is_empty()
        || !report.missing.is_empty()
        || !report.unowned.is_empty()
        || !report.removed.is_empty()
}

/// Renders `plan` and hands its files, for the folder named after the spec, to `act`; the
/// folder's name and what `act` did.
fn emit_into(
    plan: &Plan,
    act: &dyn Fn(&Output) -> Result<Report, write::Error>,
) -> Result<(String, Report), Error> {
    let artifacts = emit::render(plan, VERSION).map_err(Error::Internal)?;
    let output = Output {
        name: plan.name.clone(),
        artifacts,
    };
    let report = act(&output).map_err(Error::Write)?;
    Ok((output.name, report))
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
        for path in &report.orphaned {
            let why = "(no spec given produces its folder)";
            let _ = writeln!(text, "{removed} {} {why}", path.display());
        }
    }
    let _ = sink.write_all(text.as_bytes());
}

/// What `render --check` found wrong with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    /// amlgen's, and different from what a render writes.
    Stale,
    Missing,
    /// In the way and not amlgen's: only `render --force` replaces it.
    Unowned,
    /// amlgen's, and its spec no longer produces it: a render removes it.
    Removed,
    /// amlgen's, in the folder of a spec no longer given: a render removes it.
    Orphaned,
}

impl Finding {
    /// Its code in the JSON and SARIF documents.
    fn code(self) -> &'static str {
        match self {
            Self::Stale => "output-stale",
            Self::Missing => "output-missing",
            Self::Unowned => "output-unowned",
            Self::Removed => "output-removed",
            Self::Orphaned => "output-orphaned",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::Stale => "differs from what `amlgen render` writes",
            Self::Missing => "is missing; `amlgen render` writes it",
            Self::Unowned => {
                "is in the way and was not generated by amlgen; `amlgen render --force` \
                 replaces it"
            }
            Self::Removed => {
                "was generated by amlgen and its spec no longer produces it; `amlgen render` \
                 removes it"
            }
            Self::Orphaned => {
                "was generated by amlgen for a spec no longer given (deleted or renamed); \
                 `amlgen render` of the specs' folder removes it"
            }
        }
    }

    /// Every file of `reports` with what is wrong with it and, when stale, its diff.
    fn all(reports: &[Report]) -> Vec<(Self, &Path, Option<&str>)> {
        let mut found = Vec::new();
        for report in reports {
            let diffs = report.diffs.iter().map(|d| Some(d.as_str()));
            let stale = report.changed.iter().zip(diffs);
            found.extend(stale.map(|(path, diff)| (Self::Stale, path.as_path(), diff)));
            for (finding, paths) in [
                (Self::Missing, &report.missing),
                (Self::Unowned, &report.unowned),
                (Self::Removed, &report.removed),
                (Self::Orphaned, &report.orphaned),
            ] {
                found.extend(paths.iter().map(|path| (finding, path.as_path(), None)));
            }
        }
        found
    }
}

/// Prints what `render --check` found: in the human format, the diff of each stale file on
/// `out` and the list on `err`; in a machine format, `document` (the run's diagnostics) with
/// the files found, on `out`. The exit code: 0 when everything is up to date, else 1.
fn print_check(
    reports: &[Report],
    format: Format,
    document: &[u8],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let findings = Finding::all(reports);
    // The report of the folders no spec produces any more lists removals only.
    let specs = reports
        .iter()
        .filter(|r| r.changed.len() + r.unchanged.len() + r.missing.len() + r.unowned.len() > 0);
    let stale = specs.clone().filter(|r| touched(r)).count();
    let specs = specs.count();
    if format != Format::Human {
        let _ = out.write_all(&machine_document(format, document, &findings));
    }
    if findings.is_empty() {
        let files: usize = reports.iter().map(|r| r.unchanged.len()).sum();
        let log: &mut dyn Write = if format == Format::Human { out } else { err };
        let _ = writeln!(log, "{files} files up to date");
        let _ = writeln!(log, "{specs} specs: 0 stale, {specs} up to date");
        return 0;
    }
    use std::fmt::Write as _;
    let mut text = String::new();
    // A machine format's document lists the files; stderr then has the summary only.
    let listed = if format == Format::Human {
        findings.as_slice()
    } else {
        &[]
    };
    for (finding, path, diff) in listed {
        if let Some(diff) = diff {
            let _ = out.write_all(diff.as_bytes());
        }
        let word = match finding {
            Finding::Stale | Finding::Removed | Finding::Orphaned => "stale:",
            Finding::Missing => "missing:",
            Finding::Unowned => "not amlgen's:",
        };
        let why = match finding {
            Finding::Removed => " (the spec no longer produces it)",
            Finding::Orphaned => " (no spec given produces its folder)",
            Finding::Unowned => " (no amlgen header, or not a regular file)",
            Finding::Stale | Finding::Missing => "",
        };
        let _ = writeln!(text, "{word} {}{why}", path.display());
    }
    let unowned = findings
        .iter()
        .filter(|(f, ..)| *f == Finding::Unowned)
        .count();
    let advice = if unowned == 0 {
        "run `amlgen render` and commit the result".to_string()
    } else {
        format!(
            "{unowned} of them amlgen did not generate: move them away, or run \
             `amlgen render --force` to replace them; then commit the result"
        )
    };
    let _ = writeln!(
        text,
        "error: {} files would change; {advice}",
        findings.len()
    );
    let _ = writeln!(
        text,
        "{specs} specs: {stale} stale, {} up to date",
        specs - stale
    );
    let _ = err.write_all(text.as_bytes());
    1
}

/// The run's JSON or SARIF `document` with one entry per file `render --check` found.
fn machine_document(
    format: Format,
    document: &[u8],
    findings: &[(Finding, &Path, Option<&str>)],
) -> Vec<u8> {
    use serde_json::{Value, json};
    let Ok(mut value) = serde_json::from_slice::<Value>(document) else {
        return document.to_vec();
    };
    let entries = findings.iter().map(|(finding, path, diff)| {
        let file = path.display().to_string();
        match format {
            Format::Sarif => {
                let uri = file.replace('\\', "/");
                let text = match diff {
                    Some(diff) => format!("{} {}\n{diff}", file, finding.message()),
                    None => format!("{} {}", file, finding.message()),
                };
                json!({
                    "ruleId": finding.code(),
                    "level": "error",
                    "message": { "text": text },
                    "locations": [{ "physicalLocation": {
                        "artifactLocation": { "uri": sarif_uri(&uri) },
                    }}],
                })
            }
            _ => {
                let mut entry = json!({
                    "code": finding.code(),
                    "severity": "error",
                    "message": format!("{} {}", file, finding.message()),
                    "file": file,
                    "line": 1,
                    "column": 1,
                    "label": "",
                });
                if let Some(diff) = diff {
                    entry["diff"] = json!(diff);
                }
                entry
            }
        }
    });
    let entries: Vec<Value> = entries.collect();
    match format {
        Format::Sarif => {
            let run = &mut value["runs"][0];
            if let Some(rules) = run["tool"]["driver"]["rules"].as_array_mut() {
                let all = [
                    Finding::Stale,
                    Finding::Missing,
                    Finding::Unowned,
                    Finding::Removed,
                    Finding::Orphaned,
                ];
                rules.extend(all.iter().map(|finding| {
                    json!({
                        "id": finding.code(),
                        "shortDescription": { "text": format!("an output file {}", finding.message()) },
                    })
                }));
            }
            if let Some(results) = run["results"].as_array_mut() {
                results.extend(entries);
            }
        }
        _ => {
            if let Some(array) = value.as_array_mut() {
                array.extend(entries);
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

/// A path as a SARIF URI reference: relative paths stay relative, absolute ones become
/// `file://` URIs.
fn sarif_uri(path: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(path, KEEP).to_string();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
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
    let named = compiled
        .first()
        .and_then(|c| c.plan.as_ref())
        .map(|p| p.name.as_str());
    if named != Some(name) {
        let findings: Vec<_> = compiled.iter().map(Compiled::findings).collect();
        let document = crate::diag::render(Format::Human, &findings);
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
