//! Private endpoints as compute needs them: their names resolve in every VNet that holds compute
//! (a zone group registers each in every zone its sub-resource resolves in, and each zone the
//! template declares is linked to the VNet), compute subnets reach them on their ports (the
//! required flows `flows` judges with the profile's), and the computes wait for them and their
//! DNS, so none is created while the workspace does not yet resolve privately.
//!
//! A zone outside the template (a hub's, by ID) or an endpoint without a zone group (Azure Policy
//! registers it) is an assumption, listed and not failed: verify cannot see who links the zone.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use super::finding::{Code, Finding};
use super::template::{Facts, PrivateEndpoint, UNKNOWN_DEPENDENCY};
use crate::azure::private_link::{Cloud, Target};

/// What a compute subnet must reach of one private endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Reach {
    /// `private endpoint pe-x (blob)`.
    pub(crate) label: String,
    /// The first address Azure gives out in the endpoint's subnet (it assigns the endpoint's
    /// address there dynamically; the subnet's rules decide for all of them alike).
    pub(crate) address: Ipv4Addr,
    pub(crate) ports: &'static [u16],
}

/// The endpoints of `facts` in a subnet verify knows, each with the ports of its sub-resource.
pub(crate) fn reaches(facts: &Facts) -> Vec<Reach> {
    let subnets = facts.vnets.iter().flat_map(|v| &v.subnets);
    let mut out = Vec::new();
    for endpoint in &facts.endpoints {
        let Some(subnet) = subnets.clone().find(|s| s.key == endpoint.subnet) else {
            continue;
        };
        let address = Ipv4Addr::from(u32::from(subnet.prefix.network()) + 4);
        for group in &endpoint.groups {
            let ports = Target::of_group(group).map_or(&[443][..], Target::ports);
            out.push(Reach {
                label: format!("private endpoint {} ({group})", short(&endpoint.name)),
                address,
                ports,
            });
        }
    }
    out
}

fn short(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

fn resource(endpoint: &PrivateEndpoint) -> String {
    format!(
        "Microsoft.Network/privateEndpoints/{}",
        short(&endpoint.name)
    )
}

/// DNS and creation order of every private endpoint.
pub(crate) fn check(facts: &Facts) -> Vec<Finding> {
    let mut found = Vec::new();
    for endpoint in &facts.endpoints {
        found.extend(dns(facts, endpoint));
    }
    found.extend(order(facts));
    found
}

/// The VNets that hold compute, by key.
fn compute_vnets(facts: &Facts) -> Vec<(String, &str)> {
    facts
        .vnets
        .iter()
        .filter(|v| {
            v.subnets
                .iter()
                .any(|s| facts.machines.iter().any(|m| m.subnet == s.key))
        })
        .map(|v| (vnet_key(&v.name), v.name.as_str()))
        .collect()
}

fn vnet_key(name: &str) -> String {
    format!("microsoft.network/virtualnetworks/{}", name.to_lowercase())
}

/// `verify-dns-unresolved` or `verify-assumes-dns` for one endpoint.
fn dns(facts: &Facts, endpoint: &PrivateEndpoint) -> Vec<Finding> {
    let Some(registered) = facts.zone_groups.get(&endpoint.key) else {
        return vec![Finding::note(
            Code::DnsOutside,
            resource(endpoint),
            "the endpoint has no DNS zone group: its records must be registered outside the template (Azure Policy, or by hand) in zones that resolve in the compute VNet".into(),
        )];
    };
    let zone_name = |key: &str| key.rsplit('/').next().unwrap_or_default().to_string();
    let registered: BTreeSet<String> = registered.iter().map(|k| zone_name(k)).collect();
    let mut found = Vec::new();
    for group in &endpoint.groups {
        let Some(target) = Target::of_group(group) else {
            continue;
        };
        // The template does not say its cloud: the one whose zones it registers most.
        let cloud = Cloud::ALL
            .into_iter()
            .max_by_key(|c| {
                let hits = target
                    .zones(*c)
                    .iter()
                    .filter(|z| registered.contains(**z))
                    .count();
                (hits, *c == Cloud::Public)
            })
            .unwrap_or(Cloud::Public);
        for zone in target.zones(cloud) {
            if !registered.contains(*zone) {
                found.push(Finding::error(
                    Code::DnsUnresolved,
                    resource(endpoint),
                    format!("the endpoint's zone group does not register it in {zone}, which its `{group}` names resolve in: from the VNet they resolve to public addresses"),
                ));
            }
        }
    }
    for key in facts.zone_groups.get(&endpoint.key).into_iter().flatten() {
        let name = zone_name(key);
        if !facts.zones.contains(key) {
            found.push(Finding::note(
                Code::DnsOutside,
                resource(endpoint),
                format!("zone {name} is not declared in the template (a hub's): it must be linked to, or forwarded from, each VNet that holds compute"),
            ));
            continue;
        }
        for (vnet, vnet_name) in compute_vnets(facts) {
            let linked = facts.zone_links.iter().any(|(z, v)| z == key && *v == vnet);
            if !linked {
                found.push(Finding::error(
                    Code::DnsUnresolved,
                    format!("Microsoft.Network/privateDnsZones/{name}"),
                    format!("zone {name} is not linked to VNet {vnet_name}, which holds compute: the endpoint's names do not resolve there"),
                ));
            }
        }
    }
    found
}

/// `verify-endpoint-race`: each compute waits, directly or through what it waits for, for every
/// zone group and VNet link the template declares, or for the endpoint when it has no group.
fn order(facts: &Facts) -> Vec<Finding> {
    let mut awaited: Vec<String> = facts
        .zone_links
        .iter()
        .filter_map(|(zone, _)| {
            facts
                .depends
                .keys()
                .find(|k| k.starts_with(&format!("{zone}/virtualnetworklinks/")))
                .cloned()
        })
        .collect();
    for endpoint in &facts.endpoints {
        let group = facts
            .depends
            .keys()
            .find(|k| k.starts_with(&format!("{}/privatednszonegroups/", endpoint.key)));
        awaited.push(group.cloned().unwrap_or_else(|| endpoint.key.clone()));
    }
    let mut found = Vec::new();
    for (compute, label) in &facts.computes {
        let waits = waits_for(facts, compute);
        let missing: Vec<&String> = awaited.iter().filter(|k| !waits.contains(*k)).collect();
        if missing.is_empty() {
            continue;
        }
        let names: Vec<&str> = missing
            .iter()
            .map(|k| k.rsplit('/').next().unwrap_or_default())
            .collect();
        let unknown = if waits.contains(UNKNOWN_DEPENDENCY) {
            " (some of its `dependsOn` entries could not be evaluated)"
        } else {
            ""
        };
        found.push(Finding::error(
            Code::EndpointRace,
            format!("Microsoft.MachineLearningServices/workspaces/computes/{}", short(compute)),
            format!("{label} does not wait for {}{unknown}: it may be created before the workspace's names resolve privately, and fail", names.join(", ")),
        ));
    }
    found
}

/// Every key `key` waits for, directly or through what it waits for.
fn waits_for(facts: &Facts, key: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![key.to_string()];
    while let Some(next) = todo.pop() {
        for dependency in facts.depends.get(&next).into_iter().flatten() {
            if seen.insert(dependency.clone()) {
                todo.push(dependency.clone());
            }
        }
    }
    seen
}
