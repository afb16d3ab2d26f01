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
use super::template::{Facts, PrivateEndpoint, UNKNOWN_DEPENDENCY, declared_key};
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
        // The fourth host: Azure keeps .1 to .3 (and a /29 is the smallest subnet it allows).
        let Some(address) = subnet.prefix.hosts().nth(3) else {
            continue;
        };
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
        .map(|v| {
            (
                declared_key("Microsoft.Network/virtualNetworks", &v.name),
                v.name.as_str(),
            )
        })
        .collect()
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
    // `(key, what it is)` of everything a compute must wait for.
    let mut awaited: Vec<(String, String)> = Vec::new();
    for (zone, _) in &facts.zone_links {
        let prefix = format!("{zone}/virtualnetworklinks/");
        let zone_name = zone.rsplit('/').next().unwrap_or_default();
        for link in facts.depends.keys().filter(|k| k.starts_with(&prefix)) {
            awaited.push((link.clone(), format!("the VNet link of zone {zone_name}")));
        }
    }
    for endpoint in &facts.endpoints {
        let prefix = format!("{}/privatednszonegroups/", endpoint.key);
        let group = facts.depends.keys().find(|k| k.starts_with(&prefix));
        let name = short(&endpoint.name);
        awaited.push(match group {
            Some(group) => (
                group.clone(),
                format!("the DNS zone group of endpoint {name}"),
            ),
            None => (endpoint.key.clone(), format!("endpoint {name}")),
        });
    }
    let mut found = Vec::new();
    for (compute, label) in &facts.computes {
        let waits = waits_for(facts, compute);
        let missing: Vec<&str> = awaited
            .iter()
            .filter(|(key, _)| !waits.iter().any(|w| same_resource(w, key)))
            .map(|(_, what)| what.as_str())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let unknown = if waits.contains(UNKNOWN_DEPENDENCY) {
            " (some of its `dependsOn` entries could not be evaluated)"
        } else {
            ""
        };
        found.push(Finding::error(
            Code::EndpointRace,
            format!("Microsoft.MachineLearningServices/workspaces/computes/{}", short(compute)),
            format!("{label} does not wait for {}{unknown}: it may be created before the workspace's names resolve privately, and fail", missing.join(", ")),
        ));
    }
    found
}

/// Whether the `dependsOn` entry `entry` names the resource `key`: by its key, or (as ARM
/// allows) by its name alone, `pe-x/default`.
fn same_resource(entry: &str, key: &str) -> bool {
    if entry == key {
        return true;
    }
    // A key interleaves type segments and names after the namespace:
    // `microsoft.network/privateendpoints/pe-x/privatednszonegroups/default`.
    let names: Vec<&str> = key.split('/').skip(2).step_by(2).collect();
    !entry.starts_with("microsoft.") && entry == names.join("/")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependency_names_a_resource_by_key_or_by_name_alone() {
        let key = "microsoft.network/privateendpoints/pe-x/privatednszonegroups/default";
        assert!(same_resource(key, key));
        assert!(same_resource("pe-x/default", key));
        assert!(!same_resource("pe-y/default", key));
        assert!(!same_resource("default", key));
    }

    #[test]
    fn an_endpoint_at_the_top_of_the_address_space_is_no_crash() {
        let template = serde_json::json!({
            "resources": [
                {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2025-07-01", "name": "v",
                 "location": "eastus2",
                 "properties": {"addressSpace": {"addressPrefixes": ["255.255.255.0/24"]},
                  "subnets": [{"name": "pe", "properties": {"addressPrefix": "255.255.255.254/31"}}]}},
                {"type": "Microsoft.Network/privateEndpoints", "apiVersion": "2025-07-01", "name": "p",
                 "properties": {"subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 'pe')]"},
                  "privateLinkServiceConnections": [{"name": "c", "properties": {"groupIds": ["blob"]}}]}}
            ]
        });
        let facts = super::super::template::read(&template, None, None);
        assert_eq!(facts.endpoints.len(), 1);
        assert!(reaches(&facts).is_empty());
    }
}
