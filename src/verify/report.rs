//! The result of verifying one template, and its shapes: tables and findings for people, JSON
//! and SARIF for machines.

use serde::Serialize;
use serde_json::{Value, json};

use super::finding::{Code, Finding, Level};
use super::flows::{self, Flow, SubnetFlows, Verdict};
use super::template;
use crate::azure::service_tags::ServiceTags;
use crate::profile::{CURRENT_PROFILE, Direction, GUIDE_2021_PROFILE, Profile};

/// What a template is verified against besides itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options<'a> {
    /// The requirement profile; without one, the profile amlgen's metadata names, else
    /// `current`.
    pub(crate) profile: Option<&'static Profile>,
    /// The prefixes of the service tags, to follow routes written as IP prefixes.
    pub(crate) service_tags: Option<&'a ServiceTags>,
    /// The region of the resource group, for `resourceGroup().location`.
    pub(crate) location: Option<&'a str>,
    /// The parameters file the template is deployed with.
    pub(crate) parameters: Option<&'a Value>,
}

/// What verify found in one template.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    input: String,
    profile: &'static str,
    passed: bool,
    /// Findings and assumptions that belong to no subnet (what could not be read).
    findings: Vec<Finding>,
    pub(crate) subnets: Vec<SubnetFlows>,
}

impl Report {
    /// Verifies `template`.
    pub(crate) fn new(input: String, template: &Value, options: &Options<'_>) -> Report {
        let facts = template::read(template, options.location, options.parameters);
        let mut problems = facts.problems.clone();
        let profile = options
            .profile
            .or_else(|| facts.profile.as_deref().and_then(profile_named))
            .unwrap_or(&CURRENT_PROFILE);
        let tags = service_tags(options.service_tags, facts.intent.as_ref());
        let subnets = flows::evaluate(&facts, profile, tags.as_ref(), &mut problems);
        if subnets.is_empty() {
            problems.push("no compute subnet found: no subnet hosts Azure ML compute, a VM NIC, HDInsight or Databricks".into());
        }
        let mut findings: Vec<Finding> = problems
            .into_iter()
            .map(|p| Finding::error(Code::Unreadable, "template".into(), p))
            .collect();
        findings.extend(super::endpoints::check(&facts));
        let passed = findings
            .iter()
            .chain(subnets.iter().flat_map(|s| &s.findings))
            .all(|f| f.level != Level::Error);
        Report {
            input,
            profile: profile.name,
            passed,
            findings,
            subnets,
        }
    }

    /// No finding: every required flow passes, every other allowed flow is justified, and
    /// everything could be read.
    pub(crate) fn passed(&self) -> bool {
        self.passed
    }

    /// Locates every finding at the line of `text` (the template's) that declares its
    /// resource.
    pub(crate) fn locate(&mut self, text: &str) {
        let subnets = self.subnets.iter_mut().flat_map(|s| &mut s.findings);
        for finding in self.findings.iter_mut().chain(subnets) {
            finding.locate(text);
        }
    }

    fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(self.subnets.iter().flat_map(|s| &s.findings))
    }

    /// The report as text: a table per subnet and its findings; with `quiet`, only the
    /// findings that fail it.
    pub(crate) fn to_text(&self, quiet: bool) -> String {
        let errors = self
            .all_findings()
            .filter(|f| f.level == Level::Error)
            .count();
        let notes = self.all_findings().count() - errors;
        let mut out = format!(
            "{} (profile {}): {} ({})\n",
            self.input,
            self.profile,
            if self.passed { "verified" } else { "FAILED" },
            counts(errors, notes)
        );
        if quiet {
            for f in self.all_findings().filter(|f| f.level == Level::Error) {
                out.push_str(&finding_text(f));
            }
            return out;
        }
        for f in &self.findings {
            out.push_str(&finding_text(f));
        }
        for subnet in &self.subnets {
            out.push_str(&subnet_text(subnet));
        }
        out
    }

    /// The report's findings as SARIF results.
    fn sarif_results(&self) -> Vec<Value> {
        self.all_findings()
            .map(|f| {
                json!({
                    "ruleId": f.code.as_str(),
                    "level": match f.level { Level::Error => "error", Level::Note => "note" },
                    "message": {"text": match &f.subnet {
                        Some(s) => format!("subnet {s}: {}", f.message),
                        None => f.message.clone(),
                    }},
                    "locations": [{
                        "physicalLocation": physical(&self.input, f.line),
                        "logicalLocations": [{"fullyQualifiedName": f.resource, "kind": "resource"}]
                    }]
                })
            })
            .collect()
    }
}

/// The service tags verify follows: the file given, and the prefixes amlgen's metadata says its
/// IP-prefix routes were taken from.
fn service_tags(
    given: Option<&ServiceTags>,
    intent: Option<&template::Intent>,
) -> Option<ServiceTags> {
    let stamped = intent
        .map(|i| i.service_tag_prefixes.as_slice())
        .unwrap_or_default();
    if stamped.is_empty() {
        return given.cloned();
    }
    let mut tags = given.cloned().unwrap_or_default();
    for (tag, prefixes) in stamped {
        if let Some((service, region)) = tag.split_once('.') {
            tags.insert(service, region, prefixes);
        }
    }
    Some(tags)
}

/// `2 findings, 1 assumption`.
fn counts(errors: usize, notes: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "finding"),
        plural(notes, "assumption")
    )
}

fn finding_text(f: &Finding) -> String {
    let kind = match f.level {
        Level::Error => "error",
        Level::Note => "assumes",
    };
    let subnet = f
        .subnet
        .as_deref()
        .map(|s| format!("subnet {s}: "))
        .unwrap_or_default();
    let line = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
    format!(
        "  {kind}[{}]: {subnet}{}\n      at {}{line}\n",
        f.code.as_str(),
        f.message,
        f.resource
    )
}

/// The SARIF physical location of a finding: the input, and the line when it is known.
fn physical(input: &str, line: Option<usize>) -> Value {
    let mut location = json!({"artifactLocation": {"uri": uri(input)}});
    if let Some(line) = line {
        location["region"] = json!({"startLine": line});
    }
    location
}

/// A relative URI for SARIF: the input path with `/` separators.
fn uri(input: &str) -> String {
    input.replace('\\', "/")
}

/// The profile called `name` (`current`, `guide-2021`).
pub(crate) fn profile_named(name: &str) -> Option<&'static Profile> {
    [&CURRENT_PROFILE, &GUIDE_2021_PROFILE]
        .into_iter()
        .find(|p| p.name == name)
}

/// Every report as text (see [`Report::to_text`]), then a line counting the templates verified
/// and failed.
pub(crate) fn to_text(reports: &[Report], quiet: bool) -> String {
    let texts: Vec<String> = reports.iter().map(|r| r.to_text(quiet)).collect();
    let failed = reports.iter().filter(|r| !r.passed()).count();
    let passed = reports.len() - failed;
    let mut text = texts.join(if quiet { "" } else { "\n" });
    text.push_str(&format!(
        "{}{passed} template{} verified, {failed} failed\n",
        if quiet { "" } else { "\n" },
        if passed == 1 { "" } else { "s" }
    ));
    text
}

/// Every report as one JSON array.
pub(crate) fn to_json(reports: &[Report]) -> String {
    let mut text = serde_json::to_string_pretty(reports).unwrap_or_default();
    text.push('\n');
    text
}

/// Every report's findings as one SARIF 2.1.0 log, one rule per code used.
pub(crate) fn to_sarif(reports: &[Report]) -> String {
    let mut codes: Vec<Code> = reports
        .iter()
        .flat_map(|r| r.all_findings().map(|f| f.code))
        .collect();
    codes.sort();
    codes.dedup();
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "shortDescription": {"text": c.summary()},
                "help": {"text": format!("docs/verify.md, section `{}`", c.as_str())}
            })
        })
        .collect();
    let results: Vec<Value> = reports.iter().flat_map(Report::sarif_results).collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "amlgen verify",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "results": results
        }]
    });
    crate::diag::json_document(&log)
}

fn subnet_text(s: &SubnetFlows) -> String {
    let mut out = format!(
        "\n  subnet {}/{} {}: {}\n  egress: {}{}\n",
        s.vnet,
        s.subnet,
        s.prefix,
        s.hosts.join(", "),
        s.egress,
        if s.locked { "; outbound locked" } else { "" }
    );
    let header = [
        "",
        "required flow",
        "verdict",
        "NSG rule (priority)",
        "route",
    ];
    let rows: Vec<[String; 5]> = s.flows.iter().map(row).collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    out.push_str(&line(&header.map(str::to_string)));
    for (flow, r) in s.flows.iter().zip(&rows) {
        out.push_str(&line(r));
        if !flow.ok {
            out.push_str(&format!("        {}\n", flow.detail));
        }
    }
    if !s.appliance_must_allow.is_empty() {
        out.push_str("  the appliance must allow (flows routed to it):\n");
        for a in &s.appliance_must_allow {
            out.push_str(&format!("    {a}\n"));
        }
    }
    let (errors, notes): (Vec<&Finding>, Vec<&Finding>) =
        s.findings.iter().partition(|f| f.level == Level::Error);
    if errors.is_empty() {
        out.push_str("  every other flow the NSGs and routes let through is justified\n");
    }
    for f in errors.into_iter().chain(notes) {
        out.push_str(&finding_text(&Finding {
            subnet: None,
            ..f.clone()
        }));
    }
    out
}

fn row(f: &Flow) -> [String; 5] {
    let arrow = match f.direction {
        Direction::Inbound => format!("{} -> subnet", f.peer),
        Direction::Outbound => format!("subnet -> {}", f.peer),
    };
    let verdict = match f.verdict {
        Verdict::Allowed => "allowed",
        Verdict::ToAppliance => "to appliance",
        Verdict::Denied => "denied",
        Verdict::Dropped => "dropped",
    };
    let routes: Vec<String> = f
        .routes
        .iter()
        .map(|r| format!("{} -> {}", r.route, r.next_hop))
        .collect();
    [
        if f.ok { "ok" } else { "FAIL" }.to_string(),
        format!("{arrow} {}/{}", f.protocol, f.port),
        verdict.to_string(),
        flows::rule_text(&f.nsg),
        routes.join(", "),
    ]
}
