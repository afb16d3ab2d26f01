//! Expands forced tunnelling into the routes of the compute subnets' route tables.
//!
//! A route whose next hop is `Internet` only leaves the VNet for compute that has a public
//! address: elsewhere (private subnets, no NAT gateway) such traffic is dropped. So subnets whose
//! compute has public IPs get the bypass routes Microsoft documents, and subnets of compute
//! without public IPs send everything to the appliance; one route table cannot serve both.
//! Both the checks (which enforce Azure's route limits and need the service-tags file to hold
//! every prefix) and the plan (which writes the routes) call [`expand`], so the count that is
//! checked is the count that is written.

use ipnet::Ipv4Net;

use crate::azure::{regions, service_tags::ServiceTags};
use crate::profile::{self, BypassRoute, DATABRICKS_BYPASS, HDINSIGHT_BYPASS, Profile};
use crate::spec::{Compute, ForcedTunnel, RouteStyle, Spec};

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
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub profile: &'a Profile,
    pub style: RouteStyle,
    pub next_hop_ip: &'a str,
    pub location: &'a str,
    /// The secondary region, needed by `ip_prefixes`.
    pub secondary: Option<&'a str>,
    pub service_tags: Option<&'a ServiceTags>,
    /// The bypass routes of other services in the tunnelled subnets (Databricks, HDInsight),
    /// always written as service-tag routes.
    pub services: Vec<&'static BypassRoute>,
    /// Whether the table has bypass routes: it serves compute with public IPs.
    pub bypass: bool,
}

impl<'a> Input<'a> {
    /// The input for the route table of `spec`'s compute with public IPs (the one with bypass
    /// routes): its profile, and the secondary region given or the one paired with `location`.
    pub fn new(
        spec: &'a Spec,
        tunnel: &'a ForcedTunnel,
        service_tags: Option<&'a ServiceTags>,
    ) -> Self {
        Input {
            profile: profile::for_requirements(spec.requirements),
            style: tunnel.routes,
            next_hop_ip: &tunnel.next_hop_ip,
            location: &spec.location,
            secondary: tunnel
                .secondary_region
                .as_deref()
                .or_else(|| regions::pair(&spec.location)),
            service_tags,
            services: service_bypasses(spec),
            bypass: true,
        }
    }

    /// The input for the route table of compute without public IPs: the default route only.
    pub fn private(self) -> Self {
        Input {
            bypass: false,
            services: Vec::new(),
            ..self
        }
    }
}

/// Whether `compute` has an address the internet can answer, so that an `Internet` next hop
/// works for it: Azure ML nodes with public IPs, attached VMs (which get one), HDInsight (behind
/// its public load balancer), Databricks without secure cluster connectivity.
pub fn has_public_address(compute: &Compute) -> bool {
    match compute {
        Compute::Amlcompute(c) => c.enable_node_public_ip,
        Compute::Computeinstance(c) => c.enable_node_public_ip,
        Compute::Virtualmachine(vm) => vm.attach,
        Compute::Hdinsight(_) => true,
        Compute::Databricks(d) => !d.no_public_ip,
    }
}

/// The services among `spec`'s compute with public addresses whose traffic must bypass the
/// appliance, each once.
fn service_bypasses(spec: &Spec) -> Vec<&'static BypassRoute> {
    let public =
        |f: fn(&Compute) -> bool| spec.compute.iter().any(|c| f(c) && has_public_address(c));
    let mut out = Vec::new();
    if public(|c| matches!(c, Compute::Databricks(_))) {
        out.extend(DATABRICKS_BYPASS);
    }
    if public(|c| matches!(c, Compute::Hdinsight(_))) {
        out.push(&HDINSIGHT_BYPASS);
    }
    out
}

/// A `(service, region)` the service-tags file must hold for `input`.
pub fn needed_tags<'a>(input: &Input<'a>) -> Vec<(&'static str, &'a str)> {
    if input.style == RouteStyle::ServiceTags || !input.bypass {
        return Vec::new();
    }
    let primary = input
        .profile
        .bypass_routes
        .iter()
        .map(|b| (b.service, input.location));
    let secondary = input.secondary.into_iter().flat_map(|region| {
        input
            .profile
            .bypass_routes
            .iter()
            .filter(|b| b.paired)
            .map(move |b| (b.service, region))
    });
    primary.chain(secondary).collect()
}

/// A route sending the service tag `tag` straight to the internet.
fn service_tag_route(bypass: &BypassRoute, tag: String) -> Route {
    Route {
        name: format!("bypass-{}", tag.replace('.', "-")),
        prefix: Prefix::ServiceTag(tag),
        next_hop: NextHop::Internet,
        reason: bypass.reason.to_string(),
        source: bypass.source.to_string(),
    }
}

/// The routes of a forced-tunnel route table: the default route to the appliance first, then,
/// for compute with public addresses, the bypass routes in the profile's order (per region,
/// prefixes sorted), then those of the other services, always as service-tag routes.
pub fn expand(input: &Input<'_>) -> Vec<Route> {
    let mut routes = vec![Route {
        name: "default-to-appliance".to_string(),
        prefix: Prefix::Cidr(Ipv4Net::default()),
        next_hop: NextHop::Appliance(input.next_hop_ip.to_string()),
        reason: "Forced tunnelling: all other traffic leaves through the firewall or appliance."
            .to_string(),
        source: "amlgen: egress: forced_tunnel".to_string(),
    }];
    if !input.bypass {
        return routes;
    }
    match input.style {
        RouteStyle::ServiceTags => routes.extend(input.profile.bypass_routes.iter().map(|b| {
            let tag = if b.regional_tag {
                format!("{}.{}", b.service, input.location)
            } else {
                b.service.to_string()
            };
            service_tag_route(b, tag)
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
    routes.extend(
        input
            .services
            .iter()
            .map(|b| service_tag_route(b, b.service.to_string())),
    );
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
            services: Vec::new(),
            bypass: true,
        }
    }

    #[test]
    fn other_services_add_service_tag_routes() {
        let routes = expand(&Input {
            services: vec![&HDINSIGHT_BYPASS, &DATABRICKS_BYPASS[0]],
            ..input(RouteStyle::IpPrefixes, None)
        });
        let last = routes.last().unwrap();
        assert_eq!(
            (last.name.as_str(), &last.prefix),
            (
                "bypass-AzureDatabricks",
                &Prefix::ServiceTag("AzureDatabricks".into())
            )
        );
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
            ]
        );
        assert_eq!(routes[0].next_hop, NextHop::Appliance("10.0.1.4".into()));
        let guide = expand(&input(RouteStyle::ServiceTags, None));
        assert_eq!(
            guide[1].prefix,
            Prefix::ServiceTag("BatchNodeManagement.eastus2".into())
        );
    }

    #[test]
    fn compute_without_public_addresses_gets_the_default_route_only() {
        let routes = expand(
            &Input {
                services: vec![&HDINSIGHT_BYPASS],
                ..input(RouteStyle::ServiceTags, None)
            }
            .private(),
        );
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].prefix, Prefix::Cidr(Ipv4Net::default()));
    }

    #[test]
    fn ip_prefix_routes_cover_batch_of_the_primary_and_azure_ml_of_both_regions() {
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
                "bypass-AzureMachineLearning-centralus-001"
            ]
        );
        assert_eq!(needed_tags(&input(RouteStyle::IpPrefixes, None)).len(), 3);
    }
}
