//! `amlgen verify`: proves, offline, that a rendered network lets every required flow of its
//! compute through and stops the flows it must stop, with Azure's semantics.
//!
//! It reads ARM templates, not amlgen's plan, so it checks templates amlgen did not write as
//! well as its own (a spec is rendered in memory first). `template` reads the network facts
//! (through `expr`, the template expression language), `tags` models address sets, `nsg` and
//! `routes` evaluate rules and routes, `flows` derives the flows from the requirement profile and
//! judges them, and `report` prints the result.

mod expr;
mod finding;
mod flows;
mod nsg;
mod report;
mod routes;
mod tags;
mod template;

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use crate::azure::service_tags::ServiceTags;
use crate::diag::{self, Format};
use crate::plan::Plan;
use crate::source::{Limit, SERVICE_TAGS_LIMIT, TEMPLATE_LIMIT, read_file};
use crate::{Error, VERSION, emit};

use report::Options;
pub(crate) use report::Report;

/// Every code of a finding or assumption, with its summary.
pub(crate) fn codes() -> impl Iterator<Item = (&'static str, &'static str)> {
    finding::Code::ALL_CODES
        .iter()
        .map(|c| (c.as_str(), c.summary()))
}

/// The arguments of `amlgen verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// ARM templates (`azuredeploy.json`), specs (rendered in memory first), or folders holding
    /// either (an output folder, or a folder of output folders or specs).
    #[arg(required = true, value_name = "TEMPLATE.json|SPEC")]
    inputs: Vec<PathBuf>,
    /// The requirement profile to hold templates to; default: the one amlgen's metadata names,
    /// else `current`. A spec always uses its own `requirements`.
    #[arg(long, value_parser = ["current", "guide-2021"])]
    profile: Option<String>,
    /// A service-tags file ("Azure IP Ranges and Service Tags"), to follow routes written as IP
    /// prefixes; a spec uses its own `forced_tunnel.service_tags_file`.
    #[arg(long, value_name = "FILE")]
    service_tags: Option<PathBuf>,
    /// The parameters file the templates are deployed with; default: the
    /// `<template>.parameters.json` beside each template (`azuredeploy.parameters.json`), if any,
    /// else the templates' default values.
    #[arg(long, value_name = "FILE")]
    parameters: Option<PathBuf>,
    /// The region of the resource group templates are deployed to, for templates whose
    /// `location` defaults to `resourceGroup().location`.
    #[arg(long, value_name = "REGION")]
    location: Option<String>,
    /// Tables and findings for people, one JSON array of reports, or a SARIF log of the
    /// findings.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// Human format: print only each template's summary line and its failing findings.
    #[arg(long, short)]
    quiet: bool,
}

/// How verify prints its reports (and the diagnostics of a spec that is not valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A table per subnet.
    Human,
    /// One JSON array of reports on stdout.
    Json,
    /// One SARIF 2.1.0 log of the findings on stdout.
    Sarif,
}

impl ReportFormat {
    /// The format of the diagnostics of a spec that cannot be verified.
    fn diagnostics(self) -> Format {
        match self {
            ReportFormat::Human => Format::Human,
            ReportFormat::Json => Format::Json,
            ReportFormat::Sarif => Format::Sarif,
        }
    }
}

/// Runs `amlgen verify`. Exit code 1 when a template has a finding (a required flow fails, a
/// flow nothing justifies is let through, a structural fault, something cannot be evaluated),
/// or a spec is invalid. Inputs are verified in parallel; the reports keep their order.
pub fn command(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    let given_tags = args
        .service_tags
        .as_deref()
        .map(read_service_tags)
        .transpose()?;
    let given_parameters = args.parameters.as_deref().map(read_json).transpose()?;
    let options = Options {
        profile: args.profile.as_deref().and_then(report::profile_named),
        service_tags: given_tags.as_ref(),
        location: args.location.as_deref(),
        parameters: given_parameters.as_ref(),
    };
    let outcomes = inputs(&args.inputs)?
        .par_iter()
        .map(|input| verify_input(input, &options, args.format.diagnostics()))
        .collect::<Result<Vec<_>, Error>>()?;
    let mut reports = Vec::new();
    let mut failed = false;
    for (verified, diagnostics, invalid) in outcomes {
        err.write_all(&diagnostics).map_err(Error::Output)?;
        failed |= invalid || verified.iter().any(|r| !r.passed());
        reports.extend(verified);
    }
    let text = match args.format {
        ReportFormat::Human => {
            let texts: Vec<String> = reports.iter().map(|r| r.to_text(args.quiet)).collect();
            let failed = reports.iter().filter(|r| !r.passed()).count();
            let mut text = texts.join(if args.quiet { "" } else { "\n" });
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            text.push_str(&format!(
                "{}{} template{} verified, {failed} failed\n",
                if args.quiet { "" } else { "\n" },
                reports.len() - failed,
                plural(reports.len() - failed)
            ));
            text
        }
        ReportFormat::Json => report::to_json(&reports),
        ReportFormat::Sarif => report::to_sarif(&reports),
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Output)?;
    Ok(u8::from(failed))
}

/// Verifies the ARM template `text` as `amlgen verify` verifies a template file given with no
/// options (the profile its metadata names, no service tags, location or parameters file):
/// whether it passed. `false` when `text` is not JSON. It exists for fuzzing and embedding.
pub fn verify_text(text: &str) -> bool {
    let Ok(template) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let options = Options {
        profile: None,
        service_tags: None,
        location: None,
        parameters: None,
    };
    let mut report = Report::new("template.json".into(), &template, &options);
    report.locate(text);
    report.passed()
}

/// Verifies one template, or one spec rendered in memory (once per environment): the reports,
/// the spec's diagnostics, rendered, and whether the spec (or one of its environments) is
/// invalid.
fn verify_input(
    input: &Path,
    options: &Options<'_>,
    format: Format,
) -> Result<(Vec<Report>, Vec<u8>, bool), Error> {
    let name = input.display().to_string();
    if is_template(input) {
        let text = read_text(input, TEMPLATE_LIMIT)?;
        let template = parse_json(input, &text)?;
        let beside = parameters_beside(input)
            .filter(|_| options.parameters.is_none())
            .map(|p| read_json(&p))
            .transpose()?;
        let options = Options {
            parameters: options.parameters.or(beside.as_ref()),
            ..*options
        };
        let mut report = Report::new(name, &template, &options);
        report.locate(&text);
        return Ok((vec![report], Vec::new(), false));
    }
    let mut diagnostics = Vec::new();
    let (rendered, invalid) = render_spec(input, format, &mut diagnostics)?;
    let reports = rendered
        .iter()
        .map(|(label, r)| r.report(label.clone()))
        .collect();
    Ok((reports, diagnostics, invalid))
}

/// The parameters file that goes with the template at `path`: `X.parameters.json` beside
/// `X.json`, when it is a file.
fn parameters_beside(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_str()?;
    let file = path.with_file_name(format!("{stem}.parameters.json"));
    file.is_file().then_some(file)
}

fn is_template(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "json")
}

/// Expands folders: an output folder is its `azuredeploy.json`; any other folder gives its
/// output folders and specs, sorted.
fn inputs(given: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for path in given {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        if path.join("azuredeploy.json").is_file() {
            out.push(path.join("azuredeploy.json"));
            continue;
        }
        let read = std::fs::read_dir(path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut found: Vec<PathBuf> = read
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter_map(|p| {
                if p.join("azuredeploy.json").is_file() {
                    Some(p.join("azuredeploy.json"))
                } else {
                    let spec =
                        p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml");
                    spec.then_some(p)
                }
            })
            .collect();
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Reads a template or service-tags file: a regular file within `limit`, UTF-8.
fn read_text(path: &Path, limit: Limit) -> Result<String, Error> {
    let error = |source| Error::Read {
        path: path.display().to_string(),
        source,
    };
    let bytes = read_file(path, limit).map_err(error)?;
    String::from_utf8(bytes)
        .map_err(|e| error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

fn read_json(path: &Path) -> Result<Value, Error> {
    parse_json(path, &read_text(path, TEMPLATE_LIMIT)?)
}

/// `text`, read from `path`, as JSON.
fn parse_json(path: &Path, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::Read {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}

fn read_service_tags(path: &Path) -> Result<ServiceTags, Error> {
    ServiceTags::parse(&read_text(path, SERVICE_TAGS_LIMIT)?).map_err(|why| Error::Read {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
    })
}

/// A valid spec rendered in memory.
#[derive(Debug)]
pub(crate) struct RenderedSpec {
    pub(crate) plan: Plan,
    /// Its `azuredeploy.json`.
    pub(crate) template: Value,
    /// Its `azuredeploy.parameters.json`.
    pub(crate) parameters: Value,
    /// The service-tags file the spec names.
    pub(crate) service_tags: Option<ServiceTags>,
}

impl RenderedSpec {
    /// The verification of the rendered template under the spec's own profile.
    pub(crate) fn report(&self, input: String) -> Report {
        let options = Options {
            profile: Some(self.plan.profile),
            service_tags: self.service_tags.as_ref(),
            location: None,
            parameters: Some(&self.parameters),
        };
        Report::new(input, &self.template, &options)
    }
}

/// Compiles and renders a spec in memory, once per environment: each valid one with its label
/// (path and environment), and whether one was invalid (its diagnostics printed to `err`).
pub(crate) fn render_spec(
    path: &Path,
    format: Format,
    err: &mut dyn Write,
) -> Result<(Vec<(String, RenderedSpec)>, bool), Error> {
    let units = crate::compile_file(path, &crate::roots(&[path.to_path_buf()]))?;
    let mut findings: Vec<diag::Findings<'_>> =
        units.iter().map(crate::Compiled::findings).collect();
    for unit in &units {
        findings.extend(unit.elsewhere.iter().map(|l| diag::Findings {
            source: &l.source,
            spans: &l.spans,
            diagnostics: &l.diagnostics,
        }));
    }
    if findings.iter().any(|f| !f.diagnostics.is_empty()) {
        let text = diag::render(format, &findings);
        err.write_all(text.as_bytes()).map_err(Error::Output)?;
    }
    drop(findings);
    let mut rendered = Vec::new();
    let mut invalid = false;
    for unit in units {
        let label = unit.label();
        let failed = unit.all_diagnostics().any(diag::Diagnostic::is_error);
        match unit.plan.filter(|_| !failed) {
            Some(plan) => rendered.push((label, render_plan(plan, unit.service_tags)?)),
            None => invalid = true,
        }
    }
    Ok((rendered, invalid))
}

/// `plan` rendered in memory.
fn render_plan(plan: Plan, service_tags: Option<ServiceTags>) -> Result<RenderedSpec, Error> {
    let artifacts = emit::render(&plan, VERSION).map_err(Error::Internal)?;
    let json = |name: &str| -> Result<Value, Error> {
        let artifact = artifacts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| Error::Internal(format!("no {name} rendered")))?;
        serde_json::from_str(&artifact.contents)
            .map_err(|e| Error::Internal(format!("rendered {name} is not JSON: {e}")))
    };
    let template = json("azuredeploy.json")?;
    let parameters = json("azuredeploy.parameters.json")?;
    Ok(RenderedSpec {
        plan,
        template,
        parameters,
        service_tags,
    })
}
