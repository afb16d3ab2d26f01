//! Semantic checks: the network rules a schema cannot express.
//!
//! Each submodule checks one family of rules from the end of `spec-format.md` and returns every
//! problem it finds, so a user sees all of them at once. The checks read the typed spec and the
//! Azure data; they point at the spec through JSON Pointers built from the entries' indexes. The
//! duplicate check for names Azure compares without regard to case (subnets, computes, tags) is
//! shared from here.

mod cidr;
mod compute;
mod databricks;
mod egress;
pub(crate) mod region;
mod workspace;

use std::collections::BTreeMap;

use crate::azure::service_tags::ServiceTags;
use crate::diag::{Code, Diagnostic, Label, pointer};
use crate::spec::Spec;

/// Runs every check on `spec`. `service_tags` is the parsed `forced_tunnel.service_tags_file`,
/// when the spec names one and it could be read.
pub(crate) fn run(spec: &Spec, service_tags: Option<&ServiceTags>) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    found.extend(region::check(spec));
    found.extend(cidr::check(spec));
    found.extend(compute::check(spec));
    found.extend(databricks::check(spec));
    found.extend(egress::check(spec, service_tags));
    found.extend(workspace::check(spec));
    found.extend(duplicate_names(
        "tags",
        spec.tags
            .keys()
            .map(|key| (pointer("/tags", key), key.as_str())),
        "tag names are unique on a resource",
    ));
    found
}

/// `name-duplicate` for each entry named like an earlier one. Azure compares resource names
/// without regard to case, so `snet-A` and `snet-a` are one name. `entries` yields the pointer
/// and the name of each of the `what` (e.g. "subnets"); `rule` is the help line.
fn duplicate_names<'a>(
    what: &str,
    entries: impl Iterator<Item = (String, &'a str)>,
    rule: &str,
) -> Vec<Diagnostic> {
    let mut first: BTreeMap<String, (String, &str)> = BTreeMap::new();
    let mut found = Vec::new();
    for (at, name) in entries {
        let Some((first_at, first_name)) = first.get(&name.to_lowercase()) else {
            first.insert(name.to_lowercase(), (at, name));
            continue;
        };
        let message = if name == *first_name {
            format!("two {what} are named `{name}`")
        } else {
            format!(
                "two {what} are named `{first_name}` and `{name}`, one name to Azure, which ignores case"
            )
        };
        found.push(
            Diagnostic::error(Code::NameDuplicate, message, Label::value(at, "second"))
                .with_label(Label::value(first_at.clone(), "first"))
                .with_help(format!("{rule}, compared without regard to case")),
        );
    }
    found
}

/// `/network/subnets/<i>` for the subnet at index `i`.
fn subnet_pointer(index: usize) -> String {
    format!("/network/subnets/{index}")
}

/// `/compute/<i>` for the compute at index `i`.
fn compute_pointer(index: usize) -> String {
    format!("/compute/{index}")
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A valid spec for the checks' unit tests to break one rule at a time.

    use crate::spec::Spec;

    pub(crate) fn spec(patch: impl FnOnce(&mut serde_json::Value)) -> Spec {
        let mut value = serde_json::json!({
            "name": "demo", "location": "eastus2",
            "workspace": {"name": "mlw-demo", "private_endpoint": true},
            "network": {
                "vnet": {"name": "vnet-demo", "address_space": ["10.0.0.0/16"]},
                "subnets": [
                    {"name": "snet-a", "address_prefix": "10.0.0.0/24"},
                    {"name": "snet-b", "address_prefix": "10.0.1.0/24"}
                ],
                "egress": "nat"
            },
            "compute": [
                {"name": "cpu", "type": "amlcompute", "subnet": "snet-a", "max_instances": 4},
                {"name": "ci-alice", "type": "computeinstance", "subnet": "snet-a"}
            ]
        });
        patch(&mut value);
        Spec::from_value(&value).unwrap()
    }

    pub(crate) fn codes(found: &[crate::diag::Diagnostic]) -> Vec<&'static str> {
        found.iter().map(|d| d.code.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{codes, spec};

    #[test]
    fn tag_names_that_differ_only_in_case_are_duplicates() {
        let found = super::run(
            &spec(|v| v["tags"] = serde_json::json!({"Env": "a", "env": "b"})),
            None,
        );
        assert_eq!(codes(&found), ["name-duplicate"]);
        assert!(
            found[0].message.contains("`Env` and `env`"),
            "{}",
            found[0].message
        );
    }
}
