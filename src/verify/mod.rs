//! `amlgen verify`: proves, offline, that a rendered network lets every required flow of its
//! compute through and stops the flows it must stop, with Azure's semantics.
//!
//! It reads ARM templates, not amlgen's plan, so it checks templates amlgen did not write as
//! well as its own (a spec is rendered in memory first). `template` reads the network facts
//! (through `expr`, the template expression language), `tags` models address sets, `nsg` and
//! `routes` evaluate rules and routes, `flows` derives the flows from the requirement profile and
//! judges them, `endpoints` holds private endpoints to their DNS and creation order, `report` shapes the result for people (text) and machines (JSON, SARIF). It
//! reads no file and prints nothing: the command line hands it parsed templates and compiled
//! specs.

mod endpoints;
mod expr;
mod finding;
mod flows;
mod nsg;
mod report;
mod routes;
mod tags;
mod template;

use serde_json::Value;

use crate::azure::service_tags::ServiceTags;
use crate::compile::Compiled;
use crate::emit;
use crate::error::{Bug, Error};
use crate::plan::Plan;

pub(crate) use report::{Options, Report, profile_named, to_json, to_sarif, to_text};

/// Every code of a finding or assumption, with its summary.
pub(crate) fn codes() -> impl Iterator<Item = (&'static str, &'static str)> {
    finding::Code::ALL_CODES
        .iter()
        .map(|c| (c.as_str(), c.summary()))
}

/// Verifies the ARM template `text` as `amlgen verify` verifies a template file given alone
/// (the profile its metadata names; no service tags, location or parameters file): whether
/// every flow passed. `false` when `text` is not JSON. For fuzzing and embedding.
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
    verify_template("template.json".into(), text, &template, &options).passed()
}

/// Verifies `template`, read as `text` from `name` (the text locates each finding at the line
/// that declares its resource).
pub(crate) fn verify_template(
    name: String,
    text: &str,
    template: &Value,
    options: &Options<'_>,
) -> Report {
    let mut report = Report::new(name, template, options);
    report.locate(text);
    report
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

/// The units of a compiled spec (one per environment) rendered in memory: each valid one with
/// its label (path and environment), and whether one was invalid.
pub(crate) fn render_units(
    units: Vec<Compiled>,
) -> Result<(Vec<(String, RenderedSpec)>, bool), Error> {
    let mut rendered = Vec::new();
    let mut invalid = false;
    for unit in units {
        let label = unit.label();
        let failed = unit
            .all_diagnostics()
            .any(crate::diag::Diagnostic::is_error);
        match unit.plan.filter(|_| !failed) {
            Some(plan) => rendered.push((label, render_plan(*plan, unit.service_tags)?)),
            None => invalid = true,
        }
    }
    Ok((rendered, invalid))
}

/// `plan` rendered in memory.
fn render_plan(plan: Plan, service_tags: Option<ServiceTags>) -> Result<RenderedSpec, Error> {
    let artifacts =
        emit::render(&plan, emit::VERSION).map_err(|e| Error::Internal(Bug::Emit(e)))?;
    let json = |file: &'static str| -> Result<Value, Error> {
        let artifact = artifacts
            .iter()
            .find(|a| a.name == file)
            .ok_or(Error::Internal(Bug::Rendered { file, source: None }))?;
        serde_json::from_str(&artifact.contents).map_err(|e| {
            Error::Internal(Bug::Rendered {
                file,
                source: Some(e),
            })
        })
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
