//! The result of verifying one template, and its two shapes: a table per subnet for people, JSON
//! for machines.

use serde::Serialize;
use serde_json::Value;

use super::flows::{self, Expect, Flow, SubnetFlows, Verdict};
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
}

/// What verify found in one template.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    input: String,
    profile: &'static str,
    passed: bool,
    /// What could not be read or evaluated: verify cannot vouch for it.
    problems: Vec<String>,
    pub(crate) subnets: Vec<SubnetFlows>,
}

impl Report {
    /// Verifies `template`.
    pub(crate) fn new(input: String, template: &Value, options: &Options<'_>) -> Report {
        let facts = template::read(template, options.location);
        let mut problems = facts.problems.clone();
        let profile = options
            .profile
            .or_else(|| facts.profile.as_deref().and_then(profile_named))
            .unwrap_or(&CURRENT_PROFILE);
        let subnets = flows::evaluate(&facts, profile, options.service_tags, &mut problems);
        if subnets.is_empty() {
            problems.push("no compute subnet found: no subnet hosts Azure ML compute, a VM NIC, HDInsight or Databricks".into());
        }
        let passed = problems.is_empty() && subnets.iter().all(|s| s.flows.iter().all(|f| f.ok));
        Report {
            input,
            profile: profile.name,
            passed,
            problems,
            subnets,
        }
    }

    /// No required flow fails, no forbidden flow passes, and everything could be read.
    pub(crate) fn passed(&self) -> bool {
        self.passed
    }

    /// The report as tables, one per subnet.
    pub(crate) fn to_text(&self) -> String {
        let mut out = format!(
            "{} (profile {}): {}\n",
            self.input,
            self.profile,
            if self.passed { "verified" } else { "FAILED" }
        );
        for problem in &self.problems {
            out.push_str(&format!("  problem: {problem}\n"));
        }
        for subnet in &self.subnets {
            out.push_str(&subnet_text(subnet));
        }
        out
    }
}

/// The profile called `name` (`current`, `guide-2021`).
pub(crate) fn profile_named(name: &str) -> Option<&'static Profile> {
    [&CURRENT_PROFILE, &GUIDE_2021_PROFILE]
        .into_iter()
        .find(|p| p.name == name)
}

/// Every report as one JSON array.
pub(crate) fn to_json(reports: &[Report]) -> String {
    let mut text = serde_json::to_string_pretty(reports).unwrap_or_default();
    text.push('\n');
    text
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
        "expect",
        "flow",
        "verdict",
        "NSG rule (priority)",
        "route",
    ];
    let rows: Vec<[String; 6]> = s.flows.iter().map(row).collect();
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
    out
}

fn row(f: &Flow) -> [String; 6] {
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
        match f.expect {
            Expect::Required => "required",
            Expect::Forbidden => "forbidden",
        }
        .to_string(),
        format!("{arrow} {}/{}", f.protocol, f.port),
        verdict.to_string(),
        flows::rule_text(&f.nsg),
        routes.join(", "),
    ]
}
