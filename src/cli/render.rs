//! `render` and `validate`: every spec of a run checked in parallel, its diagnostics printed as
//! one document, and (for `render`) its files staged and committed, or compared (`--check`).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use super::{FEW, FailOn, Inputs, count, inputs::spec_files};
use crate::diag::{Format, Severity};
use crate::plan::Plan;
use crate::write::{self, Checking, Output, Report, Staging};
use crate::{Bug, Compiled, Error, VERSION, check_files, emit};

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
        .map_err(|e| Error::Internal(Bug::Threads(e)))
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

/// A bar of the specs checked (and rendered) so far, for a run of more than [`FEW`] specs
/// without `--quiet`. It is drawn on standard error only when that is a terminal, and cleared
/// before the run prints anything.
/// `terminal`: standard error is one. Otherwise not even a hidden bar is kept: its bookkeeping
/// costs every spec a clock read and a lock.
fn progress(inputs: &Inputs, specs: usize, terminal: bool) -> indicatif::ProgressBar {
    if inputs.quiet || specs <= FEW || !terminal {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} specs {elapsed}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let target = indicatif::ProgressDrawTarget::stderr();
    indicatif::ProgressBar::with_draw_target(u64::try_from(specs).ok(), target).with_style(style)
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
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let progress = progress(inputs, files.len(), terminal);
    let checked = pool.install(|| {
        check_files(&files, &roots, &|compiled| {
            progress.inc(1);
            let plan = compiled.plan.as_ref().filter(|_| passes(compiled))?;
            Some(then(plan))
        })
    });
    progress.finish_and_clear();
    let checked = checked?;
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
    sink.write_all(document.as_bytes()).map_err(Error::Output)?;
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

pub(super) fn validate(
    inputs: &Inputs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let pool = pool(inputs)?;
    let run = check_specs(inputs, &pool, &|_| (), out, err)?;
    let log: &mut dyn Write = if inputs.format == Format::Human {
        if inputs.itemised(run.total) {
            for (path, ()) in &run.passed {
                writeln!(out, "{}: valid", crate::diag::escape(path)).map_err(Error::Output)?;
            }
        }
        out
    } else {
        err
    };
    if !inputs.quiet {
        writeln!(
            log,
            "{}: {} valid, {} failed",
            count(run.total, "spec"),
            run.passed.len(),
            run.failed()
        )
        .map_err(Error::Output)?;
    }
    Ok(u8::from(run.failed() > 0))
}

pub(super) fn render(
    inputs: &Inputs,
    dir: &Path,
    check: bool,
    force: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let pool = pool(inputs)?;
    pool.spawn(emit::prepare);
    // Said at most once, while the lock is awaited; a failure to say it fails the run after.
    let mut unsaid = None;
    let mut waiting = || {
        let said = writeln!(
            err,
            "waiting: another amlgen run is using {}; continuing when it ends",
            dir.display()
        );
        unsaid = said.err();
    };
    // A run whose every SPEC is a folder covers the whole output folder: the spec folders no
    // spec of it produces are its specs' that were deleted or renamed.
    let whole = inputs.specs.iter().all(|spec| spec.is_dir());
    // The output folder is locked before the specs are checked, as they are staged as soon as
    // they pass. When it cannot be, the specs are still checked: an invalid spec fails the run
    // with its diagnostics (exit 1), not with the folder's error.
    if check {
        let checking = Checking::begin(dir, &emit::Stamps, &mut waiting);
        unsaid.take().map_or(Ok(()), |e| Err(Error::Output(e)))?;
        let checking = match checking {
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
            out.write_all(&document).map_err(Error::Output)?;
            return Ok(1);
        };
        if whole {
            let orphaned = checking.orphans(&names).map_err(Error::Write)?;
            reports.push(Report {
                orphaned,
                ..Report::default()
            });
        }
        return print_check(&reports, inputs.format, &document, out, err);
    }
    let staging = Staging::begin(dir, &emit::Stamps, force, &mut waiting);
    unsaid.take().map_or(Ok(()), |e| Err(Error::Output(e)))?;
    let staging = match staging {
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
    if inputs.itemised(reports.len()) {
        list(&reports, log, "wrote", "removed")?;
        let pruned = Report {
            orphaned: pruned,
            ..Report::default()
        };
        list(std::slice::from_ref(&pruned), log, "wrote", "removed")?;
    }
    let rendered = reports.iter().filter(|r| touched(r)).count();
    if !inputs.quiet {
        writeln!(
            log,
            "{}: {rendered} rendered, {} unchanged, 0 failed",
            count(reports.len(), "spec"),
            reports.len() - rendered
        )
        .map_err(Error::Output)?;
    }
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
    if say_nothing_done(&run, check, err)? {
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
fn say_nothing_done<T>(run: &Run<T>, check: bool, err: &mut dyn Write) -> Result<bool, Error> {
    if run.failed() == 0 {
        return Ok(false);
    }
    let (what, summary) = if check {
        ("nothing was compared", "0 stale, 0 up to date")
    } else {
        ("nothing was written", "0 rendered, 0 unchanged")
    };
    let (total, failed) = (run.total, run.failed());
    let total = count(total, "spec");
    write!(
        err,
        "error: {what}: fix the problems above\n{total}: {summary}, {failed} failed\n"
    )
    .map_err(Error::Output)?;
    Ok(true)
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
    if say_nothing_done(&run, check, err)? {
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
    let artifacts = emit::render(plan, VERSION).map_err(|e| Error::Internal(Bug::Emit(e)))?;
    let output = Output {
        name: plan.name.clone(),
        artifacts,
    };
    let report = act(&output).map_err(Error::Write)?;
    Ok((output.name, report))
}

/// Prints each changed file after `changed` and each removed file after `removed`.
/// The lines are written at once: a batch lists thousands.
fn list(
    reports: &[Report],
    sink: &mut dyn Write,
    changed: &str,
    removed: &str,
) -> Result<(), Error> {
    let mut text = String::new();
    for report in reports {
        for path in &report.changed {
            text += &format!("{changed} {}\n", path.display());
        }
        for path in &report.removed {
            let why = "(the spec no longer produces it)";
            text += &format!("{removed} {} {why}\n", path.display());
        }
        for path in &report.orphaned {
            let why = "(no spec given produces its folder)";
            text += &format!("{removed} {} {why}\n", path.display());
        }
    }
    sink.write_all(text.as_bytes()).map_err(Error::Output)
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
) -> Result<u8, Error> {
    let findings = Finding::all(reports);
    // The report of the folders no spec produces any more lists removals only.
    let specs = reports
        .iter()
        .filter(|r| r.changed.len() + r.unchanged.len() + r.missing.len() + r.unowned.len() > 0);
    let stale = specs.clone().filter(|r| touched(r)).count();
    let specs = specs.count();
    if format != Format::Human {
        out.write_all(&machine_document(format, document, &findings))
            .map_err(Error::Output)?;
    }
    if findings.is_empty() {
        let files: usize = reports.iter().map(|r| r.unchanged.len()).sum();
        let log: &mut dyn Write = if format == Format::Human { out } else { err };
        let (files, specs_word) = (count(files, "file"), count(specs, "spec"));
        write!(
            log,
            "{files} up to date\n{specs_word}: 0 stale, {specs} up to date\n"
        )
        .map_err(Error::Output)?;
        return Ok(0);
    }
    let mut text = String::new();
    // A machine format's document lists the files; stderr then has the summary only.
    let listed = if format == Format::Human {
        findings.as_slice()
    } else {
        &[]
    };
    for (finding, path, diff) in listed {
        if let Some(diff) = diff {
            out.write_all(diff.as_bytes()).map_err(Error::Output)?;
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
        text += &format!("{word} {}{why}\n", path.display());
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
    let files = count(findings.len(), "file");
    text += &format!("error: {files} would change; {advice}\n");
    let fresh = specs - stale;
    text += &format!(
        "{}: {stale} stale, {fresh} up to date\n",
        count(specs, "spec")
    );
    err.write_all(text.as_bytes()).map_err(Error::Output)?;
    Ok(1)
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
                let text = match diff {
                    Some(diff) => format!("{} {}\n{diff}", file, finding.message()),
                    None => format!("{} {}", file, finding.message()),
                };
                json!({
                    "ruleId": finding.code(),
                    "level": "error",
                    "message": { "text": text },
                    "locations": [{ "physicalLocation": {
                        "artifactLocation": { "uri": crate::diag::sarif_uri(&file) },
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
    crate::diag::json_document(&value).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn inputs(args: &[&str]) -> Inputs {
        let args = ["amlgen", "validate"].iter().chain(args);
        match super::super::Cli::try_parse_from(args).unwrap().command {
            super::super::Command::Validate { inputs } => inputs,
            _ => unreachable!("validate parses as validate"),
        }
    }

    #[test]
    fn a_progress_bar_counts_the_specs_of_a_large_run_unless_quiet() {
        // Its length is set only when it may be drawn: on a terminal, for many specs.
        assert_eq!(progress(&inputs(&["s"]), 300, true).length(), Some(300));
        assert_eq!(progress(&inputs(&["s"]), 300, false).length(), None);
        assert_eq!(progress(&inputs(&["s"]), FEW, true).length(), None);
        assert_eq!(
            progress(&inputs(&["--quiet", "s"]), 300, true).length(),
            None
        );
    }
}
