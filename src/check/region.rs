//! Regions: every region is a known Azure region, and the workspace is where the compute is. A
//! region written as its display name (`West Europe`) is told its programmatic name.

use crate::azure::regions;
use crate::diag::{Code, Diagnostic, Label};
use crate::spec::Spec;
use crate::suggest::closest;

pub(super) fn check(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    found.extend(known(&spec.location, "/location"));
    if let Some(location) = &spec.workspace.location {
        found.extend(known(location, "/workspace/location"));
        if location != &spec.location {
            found.push(
                Diagnostic::error(
                    Code::RegionMismatch,
                    format!("the workspace is in `{location}`, but the spec's `location` is `{}`", spec.location),
                    Label::value("/workspace/location", "workspace region"),
                )
                .with_label(Label::value("/location", "VNet and compute region"))
                .with_help("compute instances must be in the workspace's region and VNet; use one region for both"),
            );
        }
    }
    if let Some(secondary) = spec
        .network
        .forced_tunnel
        .as_ref()
        .and_then(|f| f.secondary_region.as_deref())
    {
        found.extend(known(secondary, "/network/forced_tunnel/secondary_region"));
    }
    found
}

/// The regions of a spec the schema refused (`value`, as parsed): each unknown one, so that a
/// run reports a misspelt region beside the schema's errors instead of after they are fixed.
pub(crate) fn unknown_in(value: &serde_json::Value) -> Vec<Diagnostic> {
    [
        "/location",
        "/workspace/location",
        "/network/forced_tunnel/secondary_region",
    ]
    .into_iter()
    .filter_map(|at| known(value.pointer(at)?.as_str()?, at))
    .collect()
}

fn known(region: &str, at: &str) -> Option<Diagnostic> {
    if regions::is_known(region) {
        return None;
    }
    let diagnostic = Diagnostic::error(
        Code::RegionUnknown,
        format!("`{region}` is not a known Azure region"),
        Label::value(at, "unknown region"),
    );
    if let Some(name) = programmatic_name(region) {
        return Some(diagnostic.with_help(format!(
            "`{region}` is the region's display name; write its programmatic name, `{name}`"
        )));
    }
    Some(match closest(region, regions::names()) {
        Some(guess) => diagnostic.with_help(format!("did you mean `{guess}`? (`az account list-locations -o table` lists regions)")),
        None => diagnostic.with_help("use a programmatic region name such as `eastus2` (`az account list-locations -o table`)"),
    })
}

/// The known region whose display name `region` is: the programmatic name is the display name
/// in lowercase without spaces (`West US 2` -> `westus2`).
fn programmatic_name(region: &str) -> Option<String> {
    let name: String = region
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    regions::is_known(&name).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::{codes, spec};

    #[test]
    fn unknown_regions_get_a_suggestion() {
        let found = check(&spec(|v| v["location"] = "eastus3".into()));
        assert_eq!(codes(&found), ["region-unknown"]);
        assert!(found[0].help.as_deref().unwrap().contains("did you mean"));
    }

    #[test]
    fn shortened_names_and_display_names_are_explained() {
        let found = check(&spec(|v| v["location"] = "westeu".into()));
        assert!(
            found[0]
                .help
                .as_deref()
                .unwrap()
                .contains("did you mean `westeurope`?")
        );
        let found = check(&spec(|v| v["location"] = "West Europe".into()));
        assert_eq!(codes(&found), ["region-unknown"]);
        assert_eq!(
            found[0].help.as_deref(),
            Some(
                "`West Europe` is the region's display name; write its programmatic name, `westeurope`"
            )
        );
        let found = check(&spec(|v| v["location"] = "West US 2".into()));
        assert!(found[0].help.as_deref().unwrap().ends_with("`westus2`"));
    }

    #[test]
    fn workspace_must_share_the_region() {
        let found = check(&spec(|v| v["workspace"]["location"] = "westus".into()));
        assert_eq!(codes(&found), ["region-mismatch"]);
    }
}
