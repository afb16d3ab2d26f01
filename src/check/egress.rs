//! Egress: the settings match the chosen mode, and forced tunnelling can be built: a private next
//! hop outside the compute subnets, a secondary region, every needed service tag, and a route
//! table within Azure's limits.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::azure::{regions, service_tags::ServiceTags};
use crate::diag::{Code, Diagnostic, Label};
use crate::routes::{self, Prefix};
use crate::spec::{Egress, ForcedTunnel, RouteStyle, Spec};

const TUNNEL: &str = "/network/forced_tunnel";

pub(super) fn check(spec: &Spec, service_tags: Option<&ServiceTags>) -> Vec<Diagnostic> {
    let mut found = unused_settings(spec);
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

fn unused_settings(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if spec.network.nat.is_some() && spec.network.egress != Egress::Nat {
        found.push(unused("nat", "nat"));
    }
    if spec.network.forced_tunnel.is_some() && spec.network.egress != Egress::ForcedTunnel {
        found.push(unused("forced_tunnel", "forced_tunnel"));
    }
    found
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
    found.extend(limits(&routes::expand(&input)));
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
    None
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
