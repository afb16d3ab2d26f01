//! Address plans: prefixes without host bits, subnets inside the VNet and apart from each other,
//! unique subnet names, and enough addresses in each subnet for the computes placed in it.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;

use super::{compute_pointer, subnet_pointer};
use crate::diag::{Code, Diagnostic, Label};
use crate::spec::{Compute, Spec};

/// Addresses Azure keeps in every subnet: network, gateway, two for DNS, broadcast.
pub(crate) const AZURE_RESERVED: u64 = 5;

pub(super) fn check(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let space = parsed(
        spec.network
            .vnet
            .address_space
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("/network/vnet/address_space/{i}"), c.as_str())),
        &mut found,
    );
    overlaps(&space, "address space range", &mut found);
    let subnets = parsed(
        spec.network.subnets.iter().enumerate().map(|(i, s)| {
            (
                format!("{}/address_prefix", subnet_pointer(i)),
                s.address_prefix.as_str(),
            )
        }),
        &mut found,
    );
    for (at, net) in &subnets {
        if !space.iter().any(|(_, range)| range.contains(net)) {
            found.push(
                Diagnostic::error(
                    Code::CidrOutsideVnet,
                    format!("subnet prefix {net} is outside the VNet's address space"),
                    Label::value(at.clone(), "not inside any address_space range"),
                )
                .with_label(Label::value(
                    "/network/vnet/address_space",
                    "the VNet's address space",
                ))
                .with_help("widen `network.vnet.address_space` or move the subnet into it"),
            );
        }
    }
    overlaps(&subnets, "subnet", &mut found);
    parsed(
        spec.network
            .ssh
            .allow_from
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("/network/ssh/allow_from/{i}"), c.as_str())),
        &mut found,
    );
    found.extend(duplicate_subnet_names(spec));
    found.extend(capacity(spec));
    found
}

/// Parses each CIDR, reporting host bits; returns the networks that parsed.
fn parsed<'a>(
    cidrs: impl Iterator<Item = (String, &'a str)>,
    found: &mut Vec<Diagnostic>,
) -> Vec<(String, Ipv4Net)> {
    let mut nets = Vec::new();
    for (at, text) in cidrs {
        // The schema's pattern guarantees the syntax; only host bits remain to check.
        let Ok(net) = text.parse::<Ipv4Net>() else {
            continue;
        };
        if net.trunc() != net {
            found.push(
                Diagnostic::error(
                    Code::CidrHostBits,
                    format!("{text} has host bits set"),
                    Label::value(at.clone(), "host bits set"),
                )
                .with_help(format!("write the network address: {}", net.trunc())),
            );
        }
        nets.push((at, net.trunc()));
    }
    nets
}

fn overlaps(nets: &[(String, Ipv4Net)], what: &str, found: &mut Vec<Diagnostic>) {
    for (i, (at, net)) in nets.iter().enumerate() {
        if let Some((first_at, first)) = nets[..i]
            .iter()
            .find(|(_, other)| other.contains(net) || net.contains(other))
        {
            found.push(
                Diagnostic::error(
                    Code::CidrOverlap,
                    format!("{what} {net} overlaps {first}"),
                    Label::value(at.clone(), format!("overlaps {first}")),
                )
                .with_label(Label::value(first_at.clone(), "this one")),
            );
        }
    }
}

fn duplicate_subnet_names(spec: &Spec) -> Vec<Diagnostic> {
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    let mut found = Vec::new();
    for (i, subnet) in spec.network.subnets.iter().enumerate() {
        if let Some(previous) = first.get(subnet.name.as_str()) {
            found.push(
                Diagnostic::error(
                    Code::NameDuplicate,
                    format!("two subnets are named `{}`", subnet.name),
                    Label::value(format!("{}/name", subnet_pointer(i)), "second"),
                )
                .with_label(Label::value(
                    format!("{}/name", subnet_pointer(*previous)),
                    "first",
                )),
            );
        } else {
            first.insert(&subnet.name, i);
        }
    }
    found
}

/// Usable addresses of a subnet: all of them but Azure's five.
pub(crate) fn usable(net: Ipv4Net) -> u64 {
    (1u64 << (32 - u32::from(net.prefix_len()))).saturating_sub(AZURE_RESERVED)
}

fn capacity(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (i, subnet) in spec.network.subnets.iter().enumerate() {
        let Ok(net) = subnet.address_prefix.parse::<Ipv4Net>() else {
            continue;
        };
        let users: Vec<(usize, &str, u64)> = spec
            .compute
            .iter()
            .enumerate()
            .filter(|(_, c)| c.subnets().iter().any(|(_, s)| *s == subnet.name))
            .map(|(ci, c)| (ci, c.name(), c.addresses()))
            .collect();
        let needed: u64 = users.iter().map(|(_, _, n)| n).sum();
        let available = usable(net);
        if needed <= available {
            continue;
        }
        let mut diagnostic = Diagnostic::error(
            Code::SubnetTooSmall,
            format!("subnet `{}` ({net}) has {available} usable addresses, but its computes need {needed}", subnet.name),
            Label::value(format!("{}/address_prefix", subnet_pointer(i)), format!("{available} usable (Azure reserves {AZURE_RESERVED})")),
        )
        .with_help(capacity_help(spec, &users, needed));
        for (ci, name, n) in users {
            diagnostic = diagnostic.with_label(Label::value(
                compute_pointer(ci),
                format!("`{name}` needs {n}"),
            ));
        }
        found.push(diagnostic);
    }
    found
}

/// What to change: a larger prefix, or fewer nodes through the keys that set them.
fn capacity_help(spec: &Spec, users: &[(usize, &str, u64)], needed: u64) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for (ci, _, _) in users {
        let key = match &spec.compute[*ci] {
            Compute::Amlcompute(_) => "max_instances",
            Compute::Hdinsight(_) => "worker_count",
            _ => continue,
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let fewer = match keys.as_slice() {
        [] => String::new(),
        keys => format!(", or lower {}", keys.join(" or ")),
    };
    format!(
        "a cluster would be only partly allocated; use a /{} or larger{fewer}",
        smallest_prefix(needed)
    )
}

/// The longest prefix length whose subnet still has `needed` usable addresses.
fn smallest_prefix(needed: u64) -> u8 {
    (0..=29u8)
        .rev()
        .find(|p| (1u64 << (32 - u32::from(*p))) - AZURE_RESERVED >= needed)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::{codes, spec};
    use serde_json::json;

    #[test]
    fn usable_addresses_exclude_azures_five() {
        assert_eq!(usable("10.0.0.0/24".parse().unwrap()), 251);
        assert_eq!(usable("10.0.0.0/29".parse().unwrap()), 3);
        assert_eq!(smallest_prefix(251), 24);
        assert_eq!(smallest_prefix(252), 23);
    }

    #[test]
    fn a_valid_plan_passes() {
        assert!(check(&spec(|_| {})).is_empty());
    }

    #[test]
    fn host_bits_outside_and_overlap_are_found() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][1]["address_prefix"] = json!("10.0.0.128/25");
            v["network"]["subnets"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "c", "address_prefix": "10.1.0.1/24"}));
        }));
        assert_eq!(
            codes(&found),
            ["cidr-host-bits", "cidr-outside-vnet", "cidr-overlap"]
        );
    }

    #[test]
    fn a_cluster_that_does_not_fit_is_reported_with_every_user() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][0]["address_prefix"] = json!("10.0.0.0/28");
            v["compute"][0]["max_instances"] = json!(11);
        }));
        assert_eq!(codes(&found), ["subnet-too-small"]);
        assert!(
            found[0]
                .message
                .contains("11 usable addresses, but its computes need 12")
        );
        assert_eq!(found[0].secondary.len(), 2);
    }

    #[test]
    fn hdinsight_nodes_count_and_the_help_names_worker_count() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][1]["address_prefix"] = json!("10.0.1.0/28");
            v["compute"].as_array_mut().unwrap().push(json!({
                "name": "hdi", "type": "hdinsight", "subnet": "snet-b", "cluster_type": "spark", "worker_count": 5
            }));
        }));
        assert_eq!(codes(&found), ["subnet-too-small"]);
        assert!(
            found[0]
                .message
                .contains("11 usable addresses, but its computes need 12")
        );
        assert_eq!(
            found[0].help.as_deref(),
            Some(
                "a cluster would be only partly allocated; use a /27 or larger, or lower worker_count"
            )
        );
    }

    #[test]
    fn exactly_full_subnets_pass() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][0]["address_prefix"] = json!("10.0.0.0/28");
            v["compute"][0]["max_instances"] = json!(10);
        }));
        assert!(found.is_empty());
    }

    #[test]
    fn duplicate_subnet_names_are_reported() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][1]["name"] = json!("snet-a")
        }));
        assert_eq!(codes(&found), ["name-duplicate"]);
    }
}
