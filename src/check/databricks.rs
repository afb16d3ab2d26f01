//! Databricks VNet injection: each workspace needs two subnets of its own, delegated to
//! Databricks and at least /26, in an address range of /16 to /24, and the guide asks for a
//! `default` subnet beside them.

use ipnet::Ipv4Net;

use super::{compute_pointer, subnet_pointer};
use crate::diag::{Code, Diagnostic, Label, Severity};
use crate::spec::{Compute, Databricks, Requirements, Spec};

/// The delegation Databricks subnets need.
pub(crate) const DELEGATION: &str = "Microsoft.Databricks/workspaces";
/// The longest prefix Databricks accepts for its subnets.
const SMALLEST_SUBNET: u8 = 26;
/// Databricks accepts VNet ranges from /16 to /24.
const VNET_PREFIXES: std::ops::RangeInclusive<u8> = 16..=24;

pub(super) fn check(spec: &Spec) -> Vec<Diagnostic> {
    let workspaces: Vec<(usize, &Databricks)> = spec
        .compute
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Compute::Databricks(d) => Some((i, d)),
            _ => None,
        })
        .collect();
    let mut found = Vec::new();
    for (i, workspace) in &workspaces {
        if workspace.public_subnet == workspace.private_subnet {
            found.push(same_subnet_twice(*i, workspace));
        }
        for (key, name) in spec.compute[*i].subnets() {
            found.extend(subnet(spec, *i, key, name));
        }
    }
    if let Some((i, _)) = workspaces.first() {
        found.extend(default_subnet(spec, *i));
    }
    found.extend(vnet_ranges(spec, &workspaces));
    found
}

fn same_subnet_twice(i: usize, workspace: &Databricks) -> Diagnostic {
    Diagnostic::error(
        Code::SubnetShared,
        format!(
            "Databricks workspace `{}` uses subnet `{}` as both its public and its private subnet",
            workspace.name, workspace.public_subnet
        ),
        Label::value(
            format!("{}/private_subnet", compute_pointer(i)),
            "same subnet",
        ),
    )
    .with_label(Label::value(
        format!("{}/public_subnet", compute_pointer(i)),
        "public subnet",
    ))
    .with_help("give the workspace two subnets of its own, each at least /26")
}

/// The rules for one of a workspace's subnets: `name`, given under `key` (`public_subnet` or
/// `private_subnet`).
fn subnet(spec: &Spec, i: usize, key: &str, name: &str) -> Vec<Diagnostic> {
    let compute = &spec.compute[i];
    // An unknown subnet is reported by the compute checks.
    let Some((si, subnet)) = spec.subnet(name) else {
        return Vec::new();
    };
    let at = format!("{}/{key}", compute_pointer(i));
    let mut found = Vec::new();
    if subnet.delegation.as_deref() != Some(DELEGATION) {
        found.push(not_delegated(compute.name(), name, &at, si));
    }
    if let Ok(net) = subnet.address_prefix.parse::<Ipv4Net>() {
        if net.prefix_len() > SMALLEST_SUBNET {
            found.push(
                Diagnostic::error(
                    Code::DatabricksSubnetSize,
                    format!("Databricks subnet `{name}` is a /{}, smaller than the /26 Databricks needs", net.prefix_len()),
                    Label::value(format!("{}/address_prefix", subnet_pointer(si)), format!("/{}", net.prefix_len())),
                )
                .with_label(Label::value(at.clone(), format!("used by `{}`", compute.name())))
                .with_help("give each Databricks subnet a /26 or larger prefix"),
            );
        }
    }
    found.extend(shared(spec, i, name, &at));
    found
}

fn not_delegated(workspace: &str, name: &str, at: &str, si: usize) -> Diagnostic {
    Diagnostic::error(
        Code::SubnetNotDelegated,
        format!(
            "subnet `{name}` of Databricks workspace `{workspace}` is not delegated to {DELEGATION}"
        ),
        Label::value(at.to_string(), "Databricks subnet"),
    )
    .with_label(Label::key(subnet_pointer(si), "this subnet"))
    .with_help(format!("add `delegation: {DELEGATION}` to the subnet"))
}

/// Each address-space range holding Databricks subnets must be /16 to /24; reported once per
/// range, at the first Databricks subnet in it.
fn vnet_ranges(spec: &Spec, workspaces: &[(usize, &Databricks)]) -> Vec<Diagnostic> {
    let databricks_subnets: Vec<(usize, Ipv4Net)> = spec
        .network
        .subnets
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            workspaces
                .iter()
                .any(|(_, w)| w.public_subnet == s.name || w.private_subnet == s.name)
        })
        .filter_map(|(si, s)| Some((si, s.address_prefix.parse().ok()?)))
        .collect();
    let ranges = spec.network.vnet.address_space.iter().enumerate();
    ranges
        .filter_map(|(ri, range)| {
            let range: Ipv4Net = range.parse().ok()?;
            if VNET_PREFIXES.contains(&range.prefix_len()) {
                return None;
            }
            let (si, _) = databricks_subnets.iter().find(|(_, net)| range.contains(net))?;
            Some(
                Diagnostic::error(
                    Code::DatabricksVnetSize,
                    format!("Databricks subnets lie in the VNet range {range}, but Databricks accepts only /16 to /24 ranges"),
                    Label::value(format!("/network/vnet/address_space/{ri}"), format!("/{}", range.prefix_len())),
                )
                .with_label(Label::value(format!("{}/address_prefix", subnet_pointer(*si)), "Databricks subnet"))
                .with_help("split the address space so that the Databricks subnets lie in a range from /16 to /24"),
            )
        })
        .collect()
}

/// A Databricks subnet used by any other compute, or by an earlier Databricks workspace.
fn shared(spec: &Spec, i: usize, name: &str, at: &str) -> Vec<Diagnostic> {
    spec.compute
        .iter()
        .enumerate()
        .filter(|(other, c)| {
            *other != i
                && (*other > i || !matches!(c, Compute::Databricks(_)))
                && c.subnets().iter().any(|(_, s)| *s == name)
        })
        .map(|(other, c)| {
            let key = c
                .subnets()
                .into_iter()
                .find_map(|(k, s)| (s == name).then_some(k))
                .unwrap_or("subnet");
            Diagnostic::error(
                Code::SubnetShared,
                format!("subnet `{name}` belongs to Databricks workspace `{}`, but `{}` uses it too", spec.compute[i].name(), c.name()),
                Label::value(format!("{}/{key}", compute_pointer(other)), "shares the subnet"),
            )
            .with_label(Label::value(at.to_string(), "Databricks subnet"))
            .with_help("Databricks subnets cannot be shared with other computes or workspaces; give each its own subnet")
        })
        .collect()
}

/// Both the 2021 guide and the 2025 one `current` follows require a `default` subnet beside the
/// Databricks subnets; under `current` its absence is a warning, as it always was.
fn default_subnet(spec: &Spec, first: usize) -> Option<Diagnostic> {
    if spec.subnet("default").is_some() {
        return None;
    }
    let (severity, rule) = match spec.requirements {
        Requirements::Guide2021 => (Severity::Error, "the 2021 guide requires it"),
        Requirements::Current => (
            Severity::Warning,
            "Microsoft's current guide, \"Secure an Azure Machine Learning training environment with virtual networks\" (2025-06-12), still requires it beside the Databricks subnets",
        ),
    };
    Some(
        Diagnostic::new(
            Code::DefaultSubnetMissing,
            severity,
            format!("the VNet has Databricks but no subnet named `default` ({rule})"),
            Label::key("/network/subnets", "no `default` subnet"),
        )
        .with_label(Label::key(compute_pointer(first), "Databricks workspace"))
        .with_help("add a subnet named `default` to `network.subnets`"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::{codes, spec};
    use serde_json::json;

    fn with_databricks(v: &mut serde_json::Value) {
        v["network"]["subnets"] = json!([
            {"name": "snet-a", "address_prefix": "10.0.0.0/24"},
            {"name": "dbw-public", "address_prefix": "10.0.1.0/26", "delegation": DELEGATION},
            {"name": "dbw-private", "address_prefix": "10.0.1.64/26", "delegation": DELEGATION},
            {"name": "default", "address_prefix": "10.0.2.0/24"}
        ]);
        v["compute"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "dbw", "type": "databricks", "public_subnet": "dbw-public", "private_subnet": "dbw-private"}));
    }

    #[test]
    fn a_well_formed_workspace_passes() {
        assert!(check(&spec(with_databricks)).is_empty());
    }

    #[test]
    fn subnets_must_be_delegated_and_large_enough() {
        let found = check(&spec(|v| {
            with_databricks(v);
            v["network"]["subnets"][1]["delegation"] = json!(null);
            v["network"]["subnets"][2]["address_prefix"] = json!("10.0.1.64/27");
        }));
        assert_eq!(
            codes(&found),
            ["subnet-not-delegated", "databricks-subnet-size"]
        );
    }

    #[test]
    fn sharing_is_reported_once_per_intruder() {
        let found = check(&spec(|v| {
            with_databricks(v);
            v["compute"][0]["subnet"] = json!("dbw-public");
            v["compute"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "dbw2", "type": "databricks", "public_subnet": "dbw-private", "private_subnet": "dbw-private"}));
        }));
        assert_eq!(
            codes(&found),
            ["subnet-shared", "subnet-shared", "subnet-shared"]
        );
        assert!(found[0].message.contains("`cpu` uses it too"));
    }

    #[test]
    fn the_default_subnet_is_an_error_only_under_the_2021_guide() {
        let missing = |v: &mut serde_json::Value| {
            with_databricks(v);
            v["network"]["subnets"].as_array_mut().unwrap().pop();
        };
        let found = check(&spec(missing));
        assert_eq!(codes(&found), ["default-subnet-missing"]);
        assert_eq!(found[0].severity, Severity::Warning);
        // The 2025 guide `current` cites still requires the subnet.
        assert!(
            found[0].message.contains("still requires it") && found[0].message.contains("2025"),
            "{}",
            found[0].message
        );
        assert!(
            !found[0].message.contains("no longer"),
            "{}",
            found[0].message
        );
        let found = check(&spec(|v| {
            missing(v);
            v["requirements"] = json!("guide-2021");
        }));
        assert_eq!(found[0].severity, Severity::Error);
    }

    #[test]
    fn the_vnet_range_must_be_16_to_24() {
        let found = check(&spec(|v| {
            with_databricks(v);
            v["network"]["vnet"]["address_space"] = json!(["10.0.0.0/8"]);
        }));
        assert_eq!(codes(&found), ["databricks-vnet-size"]);
    }
}
