//! Emitters: turn one plan into the files of its output folder.
//!
//! The plan becomes one resource model (`resources::build`) and its header (spec, profile,
//! network intent: `resources::header`); ARM JSON is that model serialized with serde and Bicep
//! the same model through one Bicep printer, each reading the model and the header only. The
//! README is rendered for reviewers from the plan's reasons and the model's resources (the
//! design note "Why the README reads the plan" in `docs/architecture.md` says why). Emitting
//! happens in memory: the `write` module decides what reaches the disk.

mod arm;
mod bicep;
mod layout;
mod readme;
mod stamp;

pub use crate::write::Artifact;
pub use layout::Error;

/// The version stamped into generated files: amlgen's own.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub use stamp::Stamps;

use crate::plan::Plan;

/// Parses the templates, once per process. A run calls it on a second thread while its first
/// spec is checked; a render that needs them first waits for the parse under way.
pub fn prepare() {
    // Each parse's result is kept: a template that does not parse fails the render that
    // needs it, with the parse's error.
    let _ = bicep::LAYOUTS.engine();
    let _ = readme::LAYOUTS.engine();
}

/// Renders every file of `plan`. `Err` is a bug in amlgen (a layout that does not render).
pub fn render(plan: &Plan, version: &str) -> Result<Vec<Artifact>, Error> {
    let header = crate::resources::header(plan);
    let template = crate::resources::build(plan);
    let mut artifacts = bicep::artifacts(&header, &template, version)?;
    artifacts.push(Artifact::new(
        "azuredeploy.json",
        arm::template(&header, &template, version)?,
    ));
    artifacts.push(Artifact::new(
        "azuredeploy.parameters.json",
        arm::parameters_file(&template.parameters)?,
    ));
    artifacts.push(Artifact::new(
        "README.md",
        readme::render(plan, &template, version)?,
    ));
    artifacts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(artifacts)
}

/// LF endings, no trailing spaces, no runs of blank lines, exactly one final newline: the shape
/// `bicep format` and reviewers expect, whatever the templates' whitespace control left. Every
/// file Tera lays out goes through it; serde's JSON has that shape already.
///
/// Lines that are already in shape are copied in runs, so text that needs nothing (nearly all of
/// it) costs one scan and one copy.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    // `text[run..at]`: lines kept exactly as written, not yet copied.
    let (mut run, mut at) = (0, 0);
    // The last line kept is blank, or none is kept yet: a blank line here is dropped.
    let mut blank = true;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1);
    let last = (!text.ends_with('\n')).then_some(text.len());
    for end in ends.chain(last) {
        let line = &text[at..end];
        let body = line.strip_suffix('\n').unwrap_or(line);
        let trimmed = body.trim_end();
        let keep = !trimmed.is_empty() || !blank;
        if !keep || trimmed.len() < body.len() || body.len() == line.len() {
            out.push_str(&text[run..at]);
            if keep {
                out.push_str(trimmed);
                out.push('\n');
            }
            run = end;
        }
        if keep {
            blank = trimmed.is_empty();
        }
        at = end;
    }
    out.push_str(&text[run..]);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::check::fixture::spec;
    use crate::model::{Expr, Item, Value};

    /// Points every reference to subnet `from` at subnet `to`, in the model only.
    fn repoint(value: &mut Value, from: &str, to: &str) {
        match value {
            Value::Expr(Expr::SubnetId { subnet, .. }) if subnet == from => *subnet = to.into(),
            Value::Object(object) => object.0.iter_mut().for_each(|(_, v)| repoint(v, from, to)),
            Value::Array(items) => items.iter_mut().for_each(|v| repoint(v, from, to)),
            _ => {}
        }
    }

    #[test]
    fn one_reference_changed_in_the_model_changes_both_formats() {
        let plan = crate::plan::build(&spec(|_| {}), None);
        let header = crate::resources::header(&plan);
        let mut template = crate::resources::build(&plan);
        let arm = arm::template(&header, &template, "0").unwrap();
        let bicep = bicep::artifacts(&header, &template, "0").unwrap()[0]
            .contents
            .clone();
        for item in &mut template.items {
            if let Item::Resource(r) = item {
                r.body
                    .0
                    .iter_mut()
                    .for_each(|(_, v)| repoint(v, "snet-a", "snet-b"));
            }
        }
        let arm_after = arm::template(&header, &template, "0").unwrap();
        let bicep_after = bicep::artifacts(&header, &template, "0").unwrap()[0]
            .contents
            .clone();
        let subnets = "resourceId('Microsoft.Network/virtualNetworks/subnets'";
        let count = |text: &str, reference: &str| text.matches(reference).count();
        for (before, after, vnet) in [
            (&arm, &arm_after, "'vnet-demo'"),
            (&bicep, &bicep_after, "vnet.name"),
        ] {
            let a = format!("{subnets}, {vnet}, 'snet-a')");
            let b = format!("{subnets}, {vnet}, 'snet-b')");
            // Two computes join snet-a; the subnet outputs name both subnets.
            assert_eq!((count(before, &a), count(before, &b)), (3, 1), "{before}");
            assert_eq!((count(after, &a), count(after, &b)), (1, 3), "{after}");
        }
    }

    #[test]
    fn suppressions_reach_both_formats_and_the_readme_with_their_reason() {
        let plan = crate::plan::build(
            &spec(|v| {
                v["compute"].as_array_mut().unwrap().push(serde_json::json!(
                    {"name": "hdi", "type": "hdinsight", "subnet": "snet-b", "cluster_type": "spark"}
                ))
            }),
            None,
        );
        let files = render(&plan, "0").unwrap();
        let text = |name: &str| &files.iter().find(|a| a.name == name).unwrap().contents;
        let reason = "the spec chooses Standard_LRS (storage_replication)";
        assert!(text("main.bicep").contains(&format!("  // checkov:skip=CKV_AZURE_206: {reason}")));
        assert!(
            text("azuredeploy.json").contains(&format!("\"checkov:skip=CKV_AZURE_206: {reason}"))
        );
        assert!(text("README.md").contains(&format!("| `CKV_AZURE_206` | {reason}")));
    }

    #[test]
    fn tidy_folds_blank_runs_and_ends_with_one_newline() {
        assert_eq!(tidy("\na  \r\n\n\n\nb\n\n"), "a\n\nb\n");
        assert_eq!(tidy("a\nb"), "a\nb\n");
        assert_eq!(tidy(" \n\u{a0}\n"), "");
    }

    /// What `tidy` does, line by line: the definition its runs of copied lines must agree with.
    fn tidy_line_by_line(text: &str) -> String {
        let mut out = String::new();
        let mut blank = false;
        for line in text.lines().map(str::trim_end) {
            if line.is_empty() && (blank || out.is_empty()) {
                continue;
            }
            blank = line.is_empty();
            out.push_str(line);
            out.push('\n');
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn tidy_agrees_with_its_line_by_line_definition(text in "([a \t\r\n]|\u{a0}|\u{2028}|é){0,40}") {
            proptest::prop_assert_eq!(tidy(&text), tidy_line_by_line(&text));
        }
    }
}
