//! Egress: the settings match the chosen mode, the 2021 lockdown is not silently broken by
//! Batch's retirement of classic node communication, and forced tunnelling can be built: a
//! private next hop in a subnet of its own or outside the VNet, no subnet mixing public and
//! private compute, a secondary region, every needed service tag with sane prefixes, and a route
//! table within Azure's limits; and a warning where the tunnel leaves the firewall as the only
//! egress control of Databricks' subnets despite `outbound: locked`.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::azure::{regions, service_tags::ServiceTags};
use crate::diag::{Code, Diagnostic, Label};
use crate::routes::{self, Prefix};
use crate::spec::{Compute, Egress, ForcedTunnel, Outbound, Requirements, RouteStyle, Spec};

const TUNNEL: &str = "/network/forced_tunnel";

pub(super) fn check(spec: &Spec, service_tags: Option<&ServiceTags>) -> Vec<Diagnostic> {
    let mut found = unused_settings(spec);
    found.extend(guide_2021_locked(spec));
    match (spec.network.egress, &spec.network.forced_tunnel) {
        (Egress::Default, _) => found.push(
            Diagnostic::warning(
                Code::DefaultOutboundAccess,
                "compute subnets rely on Azure's default outbound access, which Azure is retiring (new subnets are private by default from Microsoft.Network 2025-07-01)",
                Label::value("/network/egress", "egress: default"),
            )
            .with_help("set `egress: nat` for a NAT gateway, or `egress: forced_tunnel` to route through your firewall"),
        ),
        (Egress::ForcedTunnel, Some(tunnel)) => found.extend(forced_tunnel(spec, tunnel, service_tags)),
        _ => {}
    }
    found
}

fn guide_2021_locked(spec: &Spec) -> Option<Diagnostic> {
    (spec.requirements == Requirements::Guide2021 && spec.network.outbound == Outbound::Locked).then(|| {
        Diagnostic::warning(
            Code::Guide2021Locked,
            "`guide-2021` with `outbound: locked` cannot work today: Azure Batch retired classic node communication on 2026-03-31, and its nodes now need outbound TCP 443 to `BatchNodeManagement.<region>`, which the 2021 allow-list lacks",
            Label::value("/requirements", "guide-2021"),
        )
        .with_label(Label::value("/network/outbound", "outbound: locked"))
        .with_help("use `requirements: current`, whose lockdown allows Batch's simplified node communication")
    })
}

/// Whether any compute of `spec` has a public address, so forced tunnelling writes bypass routes.
fn any_public(spec: &Spec) -> bool {
    spec.compute.iter().any(routes::has_public_address)
}

fn unused_settings(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if spec.network.nat.is_some() && spec.network.egress != Egress::Nat {
        found.push(unused("nat", "nat"));
    }
    match &spec.network.forced_tunnel {
        Some(_) if spec.network.egress != Egress::ForcedTunnel => {
            found.push(unused("forced_tunnel", "forced_tunnel"));
        }
        Some(tunnel)
            if tunnel.routes == RouteStyle::IpPrefixes
                && tunnel.service_tags_file.is_some()
                && !any_public(spec) =>
        {
            found.push(
                Diagnostic::warning(
                    Code::EgressSettingsUnused,
                    "`network.forced_tunnel.service_tags_file` is set, but no compute has a public address, so there are no bypass routes to read it for",
                    Label::key(format!("{TUNNEL}/service_tags_file"), "no effect"),
                )
                .with_help("remove `service_tags_file`: compute without public addresses sends all its traffic to the appliance"),
            );
        }
        Some(tunnel) if tunnel.routes == RouteStyle::ServiceTags => {
            let keys = [
                ("service_tags_file", tunnel.service_tags_file.is_some()),
                ("secondary_region", tunnel.secondary_region.is_some()),
            ];
            found.extend(
                keys.iter()
                    .filter(|(_, set)| *set)
                    .map(|(key, _)| unread(key)),
            );
        }
        _ => {}
    }
    found
}

/// A `forced_tunnel` key that only `routes: ip_prefixes` reads: a warning, since the routes are
/// complete without it.
fn unread(key: &str) -> Diagnostic {
    Diagnostic::warning(
        Code::EgressSettingsUnused,
        format!("`network.forced_tunnel.{key}` is set, but only `routes: ip_prefixes` reads it, so it has no effect"),
        Label::key(format!("{TUNNEL}/{key}"), "no effect"),
    )
    .with_label(Label::value(format!("{TUNNEL}/routes"), "routes"))
    .with_help(format!("set `routes: ip_prefixes` to route by prefix, or remove `{key}`"))
}

fn unused(section: &str, mode: &str) -> Diagnostic {
    Diagnostic::error(
        Code::EgressSettingsUnused,
        format!("`network.{section}` is set, but `network.egress` is not `{mode}`, so it would be ignored"),
        Label::key(format!("/network/{section}"), "ignored"),
    )
    .with_label(Label::value("/network/egress", "egress mode"))
    .with_help(format!("set `egress: {mode}` or remove `network.{section}`"))
}

fn forced_tunnel(
    spec: &Spec,
    tunnel: &ForcedTunnel,
    service_tags: Option<&ServiceTags>,
) -> Vec<Diagnostic> {
    let mut found: Vec<Diagnostic> = next_hop(spec, tunnel).into_iter().collect();
    found.extend(mixed_subnets(spec));
    found.extend(databricks_firewall_only(spec, tunnel));
    found.extend(databricks_public_ip(spec));
    if !any_public(spec) {
        return found;
    }
    let secondary = tunnel
        .secondary_region
        .as_deref()
        .or_else(|| regions::pair(&spec.location));
    if tunnel.routes == RouteStyle::IpPrefixes
        && secondary.is_none()
        && regions::is_known(&spec.location)
    {
        found.push(
            Diagnostic::error(Code::RegionNoPair, format!("`{}` has no paired region, so the secondary region's prefixes cannot be chosen", spec.location), Label::value("/location", "no published pair"))
                .with_label(Label::key(format!("{TUNNEL}/routes"), "ip_prefixes routes cover the primary and the secondary region"))
                .with_help("set `network.forced_tunnel.secondary_region`, or use `routes: service_tags`"),
        );
        return found;
    }
    let input = routes::Input::new(spec, tunnel, service_tags);
    if let Some(tags) = service_tags {
        found.extend(routes::needed_tags(&input).into_iter().filter(|(s, r)| tags.prefixes(s, r).is_none()).map(|(service, region)| {
            Diagnostic::error(Code::ServiceTagMissing, format!("the service-tags file has no `{service}.{region}` tag"), Label::value(format!("{TUNNEL}/service_tags_file"), "read here"))
                .with_help("download the current \"Azure IP Ranges and Service Tags - Public Cloud\" file, or run `az network list-service-tags --location <region> -o json`")
        }));
    }
    if let (Some(tags), Some(file)) = (service_tags, tunnel.service_tags_file.as_deref()) {
        found.extend(prefixes(spec, &input, tags, file));
    }
    found.extend(limits(&routes::expand(&input)));
    found
}

/// `databricks-firewall-only` once per spec with Databricks under forced tunnelling and
/// `outbound: locked`. Databricks' mandatory worker-to-worker rule (`VirtualNetwork` to
/// `VirtualNetwork`, any port, priority 100) comes before `DenyInternetOutbound`, and Azure counts
/// the prefixes of user-defined routes in the `VirtualNetwork` tag: with the tunnel's 0.0.0.0/0
/// route it matches every destination, so the NSG denies nothing on the Databricks subnets.
fn databricks_firewall_only(spec: &Spec, tunnel: &ForcedTunnel) -> Option<Diagnostic> {
    if spec.network.outbound != Outbound::Locked {
        return None;
    }
    let (i, workspace) = spec
        .compute
        .iter()
        .enumerate()
        .find(|(_, c)| matches!(c, Compute::Databricks(_)))?;
    Some(
        Diagnostic::warning(
            Code::DatabricksFirewallOnly,
            format!("the NSG lockdown does not hold on the subnets of Databricks workspace `{}`: Databricks' mandatory worker-to-worker rule (`VirtualNetwork` to `VirtualNetwork`, any port, priority 100) matches every destination once the forced tunnel's 0.0.0.0/0 route puts all addresses in the `VirtualNetwork` tag (Azure counts the prefixes of user-defined routes in it), so `DenyInternetOutbound` never fires there and the firewall at {} is their only egress control", workspace.name(), tunnel.next_hop_ip),
            Label::value("/network/outbound", "outbound: locked"),
        )
        .with_label(Label::value(format!("{}/type", super::compute_pointer(i)), "Databricks"))
        .with_label(Label::value(format!("{TUNNEL}/next_hop_ip"), "the only egress control"))
        .with_help("allow only Databricks' documented destinations on the firewall (its control plane, secure cluster connectivity relay, web application, metastore, artifact and log storage, and Event Hubs of the region)"),
    )
}

/// `databricks-public-ip-tunnel` for each Databricks workspace without secure cluster
/// connectivity under forced tunnelling. Its mandatory worker-to-worker inbound rule
/// (`VirtualNetwork` to `VirtualNetwork`, any port, priority 100) then admits every source,
/// because the tunnel's 0.0.0.0/0 route is in the `VirtualNetwork` tag, and its nodes have public
/// IPs: the internet reaches them on every port, before any deny amlgen can write.
fn databricks_public_ip(spec: &Spec) -> Vec<Diagnostic> {
    spec.compute
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Compute::Databricks(d) if !d.no_public_ip => Some((i, d)),
            _ => None,
        })
        .map(|(i, workspace)| {
            Diagnostic::error(
                Code::DatabricksPublicIpTunnel,
                format!("Databricks workspace `{}` has public IPs on its nodes (no secure cluster connectivity) under forced tunnelling: Databricks' mandatory worker-to-worker inbound rule (`VirtualNetwork` to `VirtualNetwork`, any port, priority 100) admits every source once the tunnel's 0.0.0.0/0 route puts all addresses in the `VirtualNetwork` tag, so the internet reaches the nodes on every port and no NSG rule amlgen writes comes first", workspace.name),
                Label::value(format!("{}/no_public_ip", super::compute_pointer(i)), "public IPs on the nodes"),
            )
            .with_label(Label::value("/network/egress", "forced_tunnel"))
            .with_help("set `no_public_ip: true` (secure cluster connectivity: no public IPs, no inbound ports), or use `egress: nat`")
        })
        .collect()
}

/// `route-table-mixed` for each subnet holding compute with a public address and compute
/// without one: the bypass routes the first needs would drop the second's traffic.
fn mixed_subnets(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (si, subnet) in spec.network.subnets.iter().enumerate() {
        let in_subnet =
            |(_, c): &(usize, &Compute)| c.subnets().iter().any(|(_, s)| *s == subnet.name);
        let computes: Vec<(usize, &Compute)> =
            spec.compute.iter().enumerate().filter(in_subnet).collect();
        let public = computes.iter().find(|(_, c)| routes::has_public_address(c));
        let private = computes
            .iter()
            .find(|(_, c)| !routes::has_public_address(c));
        let (Some((pi, public)), Some((qi, private))) = (public, private) else {
            continue;
        };
        found.push(
            Diagnostic::error(Code::RouteTableMixed, format!("subnet `{}` holds `{}`, which has a public address, and `{}`, which has none; under forced tunnelling one route table cannot serve both (its bypass routes would drop the traffic of `{}`, and without them `{}` would lose its inbound path)", subnet.name, public.name(), private.name(), private.name(), public.name()), Label::value(format!("{}/name", super::compute_pointer(*qi)), "no public address"))
                .with_label(Label::value(format!("{}/name", super::compute_pointer(*pi)), "public address"))
                .with_label(Label::value(format!("{}/name", super::subnet_pointer(si)), "shared subnet"))
                .with_help("put compute with public addresses and compute without them in separate subnets"),
        );
    }
    found
}

/// `service-tag-prefix-invalid` for each needed tag of the service-tags `file` with no IPv4
/// prefix, and each prefix with host bits set or overlapping the VNet (`0.0.0.0/0` included).
fn prefixes(
    spec: &Spec,
    input: &routes::Input<'_>,
    tags: &ServiceTags,
    file: &str,
) -> Vec<Diagnostic> {
    let vnet: Vec<Ipv4Net> = spec
        .network
        .vnet
        .address_space
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect();
    let mut found = Vec::new();
    let problem = |tag: String, why: String| {
        Diagnostic::error(Code::ServiceTagPrefixInvalid, format!("service-tags file `{file}`, tag `{tag}`: {why}"), Label::value(format!("{TUNNEL}/service_tags_file"), "read here"))
            .with_help("use Microsoft's unmodified \"Azure IP Ranges and Service Tags - Public Cloud\" file, or `routes: service_tags`")
    };
    for (service, region) in routes::needed_tags(input) {
        let Some(set) = tags.prefixes(service, region) else {
            continue;
        };
        let tag = format!("{service}.{region}");
        for written in tags.malformed(service, region) {
            found.push(problem(
                tag.clone(),
                format!("`{written}` is not an IP prefix"),
            ));
        }
        if set.is_empty() {
            found.push(problem(
                tag.clone(),
                "no IPv4 prefix, so the compute would get no bypass route for it".to_string(),
            ));
        }
        for net in set {
            if net.addr() != net.network() {
                found.push(problem(
                    tag.clone(),
                    format!("prefix {net} has host bits set"),
                ));
            } else if let Some(space) = vnet
                .iter()
                .find(|v| v.contains(&net.network()) || net.contains(&v.network()))
            {
                found.push(problem(tag.clone(), format!("prefix {net} overlaps the VNet's address space {space}, so it would route the VNet itself to the internet")));
            }
        }
    }
    found
}

fn next_hop(spec: &Spec, tunnel: &ForcedTunnel) -> Option<Diagnostic> {
    let at = format!("{TUNNEL}/next_hop_ip");
    let Ok(address) = tunnel.next_hop_ip.parse::<Ipv4Addr>() else {
        return None;
    };
    let private = [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
    ]
    .iter()
    .filter_map(|r| r.parse::<Ipv4Net>().ok())
    .any(|r| r.contains(&address));
    if !private {
        return Some(
            Diagnostic::error(Code::NextHopInvalid, format!("next hop {address} is not a private address"), Label::value(at, "public address"))
                .with_help("use the private IP of your firewall or network virtual appliance, in this VNet or a peered one"),
        );
    }
    let compute_subnets = spec
        .compute
        .iter()
        .flat_map(|c| c.subnets().into_iter().map(|(_, s)| s));
    for name in compute_subnets {
        let Some((i, subnet)) = spec.subnet(name) else {
            continue;
        };
        if subnet
            .address_prefix
            .parse::<Ipv4Net>()
            .is_ok_and(|n| n.contains(&address))
        {
            return Some(
                Diagnostic::error(Code::NextHopInvalid, format!("next hop {address} is inside compute subnet `{name}`, whose own route table would loop back to it"), Label::value(at, "inside a compute subnet"))
                    .with_label(Label::value(format!("/network/subnets/{i}/address_prefix"), "compute subnet"))
                    .with_help("place the appliance in its own subnet (for Azure Firewall, `AzureFirewallSubnet`) or a peered hub VNet"),
            );
        }
    }
    let in_vnet = spec
        .network
        .vnet
        .address_space
        .iter()
        .filter_map(|a| a.parse::<Ipv4Net>().ok())
        .any(|v| v.contains(&address));
    let in_subnet = spec
        .network
        .subnets
        .iter()
        .filter_map(|s| s.address_prefix.parse::<Ipv4Net>().ok())
        .any(|n| n.contains(&address));
    (in_vnet && !in_subnet).then(|| {
        Diagnostic::error(Code::NextHopInvalid, format!("next hop {address} is inside the VNet's address space but in none of its subnets, so no appliance can hold it and all egress would be dropped"), Label::value(at, "in no subnet"))
            .with_help("add the appliance's subnet (for Azure Firewall, `AzureFirewallSubnet`) to `network.subnets`, or use the address of a firewall in a peered hub VNet")
    })
}

fn limits(routes: &[routes::Route]) -> Vec<Diagnostic> {
    let tags = routes
        .iter()
        .filter(|r| matches!(r.prefix, Prefix::ServiceTag(_)))
        .count();
    let mut found = Vec::new();
    if routes.len() > routes::MAX_ROUTES {
        found.push(
            Diagnostic::error(
                Code::RouteLimit,
                format!(
                    "the route table would hold {} routes; Azure allows {}",
                    routes.len(),
                    routes::MAX_ROUTES
                ),
                Label::value(format!("{TUNNEL}/routes"), "expands to too many routes"),
            )
            .with_help(
                "use `routes: service_tags`: one route per service tag instead of one per prefix",
            ),
        );
    }
    if tags > routes::MAX_SERVICE_TAG_ROUTES {
        found.push(Diagnostic::error(
            Code::RouteLimit,
            format!(
                "the route table would hold {tags} service-tag routes; Azure allows {}",
                routes::MAX_SERVICE_TAG_ROUTES
            ),
            Label::value(format!("{TUNNEL}/routes"), "too many service-tag routes"),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::{codes, spec};
    use serde_json::json;

    fn tunnel(v: &mut serde_json::Value, settings: serde_json::Value) {
        v["network"]["egress"] = json!("forced_tunnel");
        v["network"]["forced_tunnel"] = settings;
    }

    #[test]
    fn default_egress_warns_and_unused_sections_are_errors() {
        let found = check(&spec(|v| v["network"]["egress"] = json!("default")), None);
        assert_eq!(codes(&found), ["default-outbound-access"]);
        let found = check(
            &spec(|v| v["network"]["forced_tunnel"] = json!({"next_hop_ip": "10.9.0.4"})),
            None,
        );
        assert_eq!(codes(&found), ["egress-settings-unused"]);
    }

    #[test]
    fn keys_only_ip_prefixes_read_are_warned_with_service_tag_routes() {
        let found = check(
            &spec(|v| {
                tunnel(
                    v,
                    json!({"next_hop_ip": "10.9.0.4", "service_tags_file": "t.json", "secondary_region": "westus"}),
                )
            }),
            None,
        );
        assert_eq!(
            codes(&found),
            ["egress-settings-unused", "egress-settings-unused"]
        );
        assert!(found.iter().all(|d| !d.is_error()));
        assert_eq!(
            found[1].primary,
            Label::key(format!("{TUNNEL}/secondary_region"), "no effect")
        );
    }

    #[test]
    fn databricks_behind_a_tunnel_and_a_lockdown_is_warned_that_only_the_firewall_holds() {
        let databricks = |v: &mut serde_json::Value| {
            v["network"]["subnets"] = json!([
                {"name": "snet-a", "address_prefix": "10.0.0.0/24"},
                {"name": "dbw-public", "address_prefix": "10.0.1.0/26", "delegation": "Microsoft.Databricks/workspaces"},
                {"name": "dbw-private", "address_prefix": "10.0.1.64/26", "delegation": "Microsoft.Databricks/workspaces"}
            ]);
            v["compute"].as_array_mut().unwrap().push(json!({"name": "dbw", "type": "databricks", "public_subnet": "dbw-public", "private_subnet": "dbw-private"}));
            v["network"]["outbound"] = json!("locked");
            tunnel(v, json!({"next_hop_ip": "10.9.0.4"}));
        };
        let found = check(&spec(databricks), None);
        assert_eq!(codes(&found), ["databricks-firewall-only"]);
        assert!(!found[0].is_error());
        assert_eq!(
            found[0].primary,
            Label::value("/network/outbound", "outbound: locked")
        );
        assert!(
            found[0].message.contains("10.9.0.4"),
            "{}",
            found[0].message
        );
        // Each of the three conditions is needed.
        let open = |v: &mut serde_json::Value| {
            databricks(v);
            v["network"]["outbound"] = json!("open");
        };
        let nat = |v: &mut serde_json::Value| {
            databricks(v);
            v["network"]["egress"] = json!("nat");
            v["network"]["forced_tunnel"] = json!(null);
        };
        let no_databricks = |v: &mut serde_json::Value| {
            databricks(v);
            v["compute"].as_array_mut().unwrap().pop();
        };
        for patch in [
            &open as &dyn Fn(&mut serde_json::Value),
            &nat,
            &no_databricks,
        ] {
            let found = check(&spec(patch), None);
            assert!(
                !codes(&found).contains(&"databricks-firewall-only"),
                "{found:?}"
            );
        }
    }

    #[test]
    fn next_hop_must_be_private_and_outside_compute_subnets() {
        let found = check(
            &spec(|v| tunnel(v, json!({"next_hop_ip": "8.8.8.8"}))),
            None,
        );
        assert_eq!(codes(&found), ["next-hop-invalid"]);
        let found = check(
            &spec(|v| tunnel(v, json!({"next_hop_ip": "10.0.0.4"}))),
            None,
        );
        assert_eq!(codes(&found), ["next-hop-invalid"]);
        assert!(
            check(
                &spec(|v| tunnel(v, json!({"next_hop_ip": "10.0.1.4"}))),
                None
            )
            .is_empty()
        );
    }

    #[test]
    fn ip_prefixes_need_a_pair_and_every_tag() {
        let found = check(
            &spec(|v| {
                v["location"] = json!("italynorth");
                tunnel(
                    v,
                    json!({"next_hop_ip": "10.9.0.4", "routes": "ip_prefixes", "service_tags_file": "t.json"}),
                );
            }),
            None,
        );
        assert_eq!(codes(&found), ["region-no-pair"]);
        let tags = ServiceTags::parse(r#"{"values": [{"properties": {"systemService": "BatchNodeManagement", "region": "eastus2", "addressPrefixes": ["20.0.0.0/28"]}}]}"#).unwrap();
        let found = check(
            &spec(|v| {
                tunnel(
                    v,
                    json!({"next_hop_ip": "10.9.0.4", "routes": "ip_prefixes", "service_tags_file": "t.json"}),
                )
            }),
            Some(&tags),
        );
        assert_eq!(
            codes(&found),
            ["service-tag-missing", "service-tag-missing"]
        );
    }

    #[test]
    fn guide_2021_with_a_lockdown_is_warned() {
        let found = check(
            &spec(|v| {
                v["requirements"] = json!("guide-2021");
                v["network"]["outbound"] = json!("locked");
            }),
            None,
        );
        assert_eq!(codes(&found), ["guide-lockdown-blocks-batch"]);
        assert!(!found[0].is_error());
    }

    #[test]
    fn next_hop_in_the_vnet_needs_a_subnet_and_subnets_cannot_mix() {
        let found = check(
            &spec(|v| tunnel(v, json!({"next_hop_ip": "10.0.200.4"}))),
            None,
        );
        assert_eq!(codes(&found), ["next-hop-invalid"]);
        let found = check(
            &spec(|v| {
                tunnel(v, json!({"next_hop_ip": "10.0.1.4"}));
                v["compute"][1]["enable_node_public_ip"] = json!(false);
            }),
            None,
        );
        assert_eq!(codes(&found), ["route-table-mixed"]);
        assert!(found[0].message.contains("`cpu`") && found[0].message.contains("`ci-alice`"));
    }

    fn prefix_tags(prefixes: serde_json::Value) -> ServiceTags {
        let entries: Vec<serde_json::Value> = [("BatchNodeManagement", "eastus2", json!(["20.0.0.0/28"])), ("AzureMachineLearning", "eastus2", prefixes), ("AzureMachineLearning", "centralus", json!(["20.3.0.0/28"]))]
            .into_iter()
            .map(|(s, r, p)| json!({"properties": {"systemService": s, "region": r, "addressPrefixes": p}}))
            .collect();
        ServiceTags::parse(&json!({"values": entries}).to_string()).unwrap()
    }

    #[test]
    fn hostile_or_empty_prefixes_are_refused() {
        let ip_prefixes = |v: &mut serde_json::Value| {
            tunnel(
                v,
                json!({"next_hop_ip": "10.9.0.4", "routes": "ip_prefixes", "service_tags_file": "t.json"}),
            )
        };
        let with = |prefixes| check(&spec(ip_prefixes), Some(&prefix_tags(prefixes)));
        assert!(with(json!(["20.2.0.0/28"])).is_empty());
        assert_eq!(
            codes(&with(json!(["2603:1030::/64"]))),
            ["service-tag-prefix-invalid"]
        );
        let found = with(json!(["0.0.0.0/0", "10.0.5.0/24", "20.2.0.1/28"]));
        assert_eq!(codes(&found), ["service-tag-prefix-invalid"; 3]);
        assert!(
            found[0]
                .message
                .contains("`t.json`, tag `AzureMachineLearning.eastus2`"),
            "{}",
            found[0].message
        );
        let private = check(
            &spec(|v| {
                ip_prefixes(v);
                v["compute"][0]["enable_node_public_ip"] = json!(false);
                v["compute"][1]["enable_node_public_ip"] = json!(false);
            }),
            Some(&ServiceTags::default()),
        );
        assert_eq!(codes(&private), ["egress-settings-unused"]);
        assert!(!private[0].is_error());
    }

    #[test]
    fn more_than_400_routes_are_refused() {
        let prefixes: Vec<String> = (0..200)
            .map(|i| format!("20.{}.{}.0/24", i / 200, i % 200))
            .collect();
        let entries: Vec<serde_json::Value> = ["eastus2", "centralus"]
            .iter()
            .flat_map(|r| ["BatchNodeManagement", "AzureMachineLearning"].map(|s| json!({"properties": {"systemService": s, "region": r, "addressPrefixes": prefixes}})))
            .collect();
        let tags = ServiceTags::parse(&json!({"values": entries}).to_string()).unwrap();
        let found = check(
            &spec(|v| {
                tunnel(
                    v,
                    json!({"next_hop_ip": "10.9.0.4", "routes": "ip_prefixes", "service_tags_file": "t.json"}),
                )
            }),
            Some(&tags),
        );
        assert_eq!(codes(&found), ["route-limit"]);
    }
}
