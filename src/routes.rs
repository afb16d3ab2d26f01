//! Expands forced tunnelling into the routes of the compute subnets' route table.
//!
//! Both the checks (which enforce Azure's route limits and need the service-tags file to hold
//! every prefix) and the plan (which writes the routes) call [`expand`], so the count that is
//! checked is the count that is written.

use ipnet::Ipv4Net;

use crate::azure::service_tags::ServiceTags;
use crate::profile::Profile;
use crate::spec::RouteStyle;

/// Azure's limit of routes per route table.
pub const MAX_ROUTES: usize = 400;
/// Azure's limit of service-tag routes per route table.
pub const MAX_SERVICE_TAG_ROUTES: usize = 25;

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextHop {
    /// The firewall or appliance at this private address.
    Appliance(String),
    Internet,
}

/// The prefix a route matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prefix {
    Cidr(Ipv4Net),
    ServiceTag(String),
}

/// One route, with the reason it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub name: String,
    pub prefix: Prefix,
    pub next_hop: NextHop,
    pub reason: String,
    pub source: String,
}

/// What the expansion needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub profile: &'a Profile,
    pub style: RouteStyle,
    pub next_hop_ip: &'a str,
    pub location: &'a str,
    /// The secondary region, needed by `ip_prefixes`.
    pub secondary: Option<&'a str>,
    pub service_tags: Option<&'a ServiceTags>,
}

/// A `(service, region)` the service-tags file must hold for `input`.
pub fn needed_tags<'a>(input: &Input<'a>) -> Vec<(&'static str, &'a str)> {
    if input.style == RouteStyle::ServiceTags {
        return Vec::new();
    }
    let regions = std::iter::once(input.location).chain(input.secondary);
    regions
        .flat_map(|region| {
            input
                .profile
                .bypass_routes
                .iter()
                .map(move |b| (b.service, region))
        })
        .collect()
}

/// The routes of the forced-tunnel route table: the default route to the appliance first, then
/// the bypass routes in the profile's order (per region, prefixes sorted).
pub fn expand(input: &Input<'_>) -> Vec<Route> {
    let mut routes = vec![Route {
        name: "default-to-appliance".to_string(),
        prefix: Prefix::Cidr(Ipv4Net::default()),
        next_hop: NextHop::Appliance(input.next_hop_ip.to_string()),
        reason: "Forced tunnelling: all other traffic leaves through the firewall or appliance."
            .to_string(),
        source: "amlgen: egress: forced_tunnel".to_string(),
    }];
    match input.style {
        RouteStyle::ServiceTags => routes.extend(input.profile.bypass_routes.iter().map(|b| {
            let tag = if b.regional_tag {
                format!("{}.{}", b.service, input.location)
            } else {
                b.service.to_string()
            };
            Route {
                name: format!("bypass-{}", tag.replace('.', "-")),
                prefix: Prefix::ServiceTag(tag),
                next_hop: NextHop::Internet,
                reason: b.reason.to_string(),
                source: b.source.to_string(),
            }
        })),
        RouteStyle::IpPrefixes => {
            for (service, region) in needed_tags(input) {
                let Some(bypass) = input
                    .profile
                    .bypass_routes
                    .iter()
                    .find(|b| b.service == service)
                else {
                    continue;
                };
                let prefixes = input
                    .service_tags
                    .and_then(|t| t.prefixes(service, region))
                    .into_iter()
                    .flatten();
                routes.extend(prefixes.enumerate().map(|(i, net)| Route {
                    name: format!("bypass-{service}-{region}-{:03}", i + 1),
                    prefix: Prefix::Cidr(*net),
                    next_hop: NextHop::Internet,
                    reason: format!("{} ({service}.{region})", bypass.reason),
                    source: bypass.source.to_string(),
                }));
            }
        }
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{CURRENT_PROFILE, GUIDE_2021_PROFILE};

    fn input(style: RouteStyle, tags: Option<&ServiceTags>) -> Input<'_> {
        Input {
            profile: &GUIDE_2021_PROFILE,
            style,
            next_hop_ip: "10.0.1.4",
            location: "eastus2",
            secondary: Some("centralus"),
            service_tags: tags,
        }
    }

    #[test]
    fn service_tag_routes_use_the_regional_batch_tag() {
        let routes = expand(&Input {
            profile: &CURRENT_PROFILE,
            ..input(RouteStyle::ServiceTags, None)
        });
        let prefixes: Vec<_> = routes.iter().map(|r| r.prefix.clone()).collect();
        assert_eq!(
            prefixes,
            [
                Prefix::Cidr("0.0.0.0/0".parse().unwrap()),
                Prefix::ServiceTag("AzureMachineLearning".into()),
                Prefix::ServiceTag("BatchNodeManagement.eastus2".into())
            ]
        );
        assert_eq!(routes[0].next_hop, NextHop::Appliance("10.0.1.4".into()));
    }

    #[test]
    fn ip_prefix_routes_cover_primary_and_secondary_regions() {
        let text = r#"{"values": [
          {"properties": {"systemService": "BatchNodeManagement", "region": "eastus2", "addressPrefixes": ["20.0.0.0/28"]}},
          {"properties": {"systemService": "BatchNodeManagement", "region": "centralus", "addressPrefixes": ["20.1.0.0/28"]}},
          {"properties": {"systemService": "AzureMachineLearning", "region": "eastus2", "addressPrefixes": ["20.2.0.0/28", "20.2.1.0/28"]}},
          {"properties": {"systemService": "AzureMachineLearning", "region": "centralus", "addressPrefixes": ["20.3.0.0/28"]}}]}"#;
        let tags = ServiceTags::parse(text).unwrap();
        let routes = expand(&input(RouteStyle::IpPrefixes, Some(&tags)));
        let names: Vec<&str> = routes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "default-to-appliance",
                "bypass-BatchNodeManagement-eastus2-001",
                "bypass-AzureMachineLearning-eastus2-001",
                "bypass-AzureMachineLearning-eastus2-002",
                "bypass-BatchNodeManagement-centralus-001",
                "bypass-AzureMachineLearning-centralus-001"
            ]
        );
        assert_eq!(needed_tags(&input(RouteStyle::IpPrefixes, None)).len(), 4);
    }
}
