//! Expands forced tunnelling into the routes of the compute subnets' route tables.
//!
//! A route whose next hop is `Internet` only leaves the VNet for compute that has a public
//! address: elsewhere (private subnets, no NAT gateway) such traffic is dropped. So subnets whose
//! compute has public IPs get the bypass routes Microsoft documents, and subnets of compute
//! without public IPs send everything to the appliance; one route table cannot serve both.
//! Both the checks (which enforce Azure's route limits and need the service-tags file to hold
//! every prefix) and the plan (which writes the routes) call [`expand`], so the count that is
//! checked is the count that is written.

use std::collections::BTreeSet;

use ipnet::Ipv4Net;

use crate::azure::{regions, service_tags::ServiceTags};
use crate::profile::{self, BypassRoute, DATABRICKS_BYPASS, HDINSIGHT_BYPASS, Profile};
use crate::spec::{Compute, ForcedTunnel, RouteStyle, Spec};

/// Azure's limit of routes per route table.
pub(crate) const MAX_ROUTES: usize = 400;
/// Azure's limit of service-tag routes per route table.
pub(crate) const MAX_SERVICE_TAG_ROUTES: usize = 25;

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
    /// For a prefix taken from the service-tags file, the regional tag it belongs to (which
    /// `amlgen verify` reads back from the template's metadata).
    pub tag: Option<String>,
}

/// A workload with a public address whose traffic must reach its peers directly under forced
/// tunnelling, each with its own bypass routes: one route table per set of workloads, so that no
/// subnet gets a route it does not use (Databricks' Storage route would let an Azure ML cluster's
/// storage traffic skip the firewall).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Workload {
    /// Azure ML clusters and compute instances with public IPs: the profile's bypass routes.
    AzureMl,
    /// VMs and HDInsight clusters attached to the workspace: Azure ML reaches them over SSH, so
    /// the profile's `AzureMachineLearning` routes.
    Attached,
    /// HDInsight's management traffic.
    HdInsight,
    /// Databricks without secure cluster connectivity: the routes Databricks documents.
    Databricks,
}

impl Workload {
    /// The workloads `compute` brings to its subnets' route table; none without a public
    /// address.
    pub(crate) fn of(compute: &Compute) -> Vec<Workload> {
        if !has_public_address(compute) {
            return Vec::new();
        }
        let mut out = Vec::new();
        match compute {
            Compute::Amlcompute(_) | Compute::Computeinstance(_) => out.push(Workload::AzureMl),
            Compute::Hdinsight(_) => out.push(Workload::HdInsight),
            Compute::Databricks(_) => out.push(Workload::Databricks),
            Compute::Virtualmachine(_) => {}
        }
        if compute.attached() {
            out.push(Workload::Attached);
        }
        out
    }

    /// The word for the workload in a route table's name.
    pub(crate) fn slug(self) -> &'static str {
        match self {
            Workload::AzureMl => "aml",
            Workload::Attached => "attached",
            Workload::HdInsight => "hdinsight",
            Workload::Databricks => "databricks",
        }
    }
}

/// What the expansion needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Input<'a> {
    pub profile: &'a Profile,
    pub style: RouteStyle,
    pub next_hop_ip: &'a str,
    pub location: &'a str,
    /// The secondary region, needed by `ip_prefixes`.
    pub secondary: Option<&'a str>,
    pub service_tags: Option<&'a ServiceTags>,
    /// The profile's bypass routes the table needs, written in the spec's route style.
    pub rows: Vec<&'static BypassRoute>,
    /// The bypass routes of other services in the tunnelled subnets (Databricks, HDInsight),
    /// always written as service-tag routes.
    pub services: Vec<&'static BypassRoute>,
    /// The public prefixes of `network.ssh.allow_from`, routed to the internet so that replies
    /// to an administrator's SSH session go back the way it came.
    pub ssh: Vec<Ipv4Net>,
}

impl<'a> Input<'a> {
    /// The input for every bypass route `spec` may need in one table (what the checks hold
    /// against Azure's limits and the service-tags file): its profile, and the secondary region
    /// given or the one paired with `location`.
    pub(crate) fn new(
        spec: &'a Spec,
        tunnel: &'a ForcedTunnel,
        service_tags: Option<&'a ServiceTags>,
    ) -> Self {
        let profile = profile::for_requirements(spec.requirements);
        let all: BTreeSet<Workload> = spec.compute.iter().flat_map(Workload::of).collect();
        Input {
            profile,
            style: tunnel.routes,
            next_hop_ip: &tunnel.next_hop_ip,
            location: &spec.location,
            secondary: tunnel
                .secondary_region
                .as_deref()
                .or_else(|| regions::pair(&spec.location)),
            service_tags,
            rows: Vec::new(),
            services: Vec::new(),
            ssh: public_ssh_sources(spec),
        }
        .for_workloads(&all, true)
    }

    /// The input for the route table of subnets hosting `workloads` (none: compute without
    /// public addresses, the default route only); `ssh` when they accept SSH from
    /// `network.ssh.allow_from`.
    pub(crate) fn for_workloads(self, workloads: &BTreeSet<Workload>, ssh: bool) -> Self {
        let has = |w| workloads.contains(&w);
        let rows = if has(Workload::AzureMl) {
            self.profile.bypass_routes.iter().collect()
        } else if has(Workload::Attached) {
            self.profile
                .bypass_routes
                .iter()
                .filter(|b| b.service == "AzureMachineLearning")
                .collect()
        } else {
            Vec::new()
        };
        let mut services: Vec<&'static BypassRoute> = Vec::new();
        if has(Workload::Databricks) {
            services.extend(DATABRICKS_BYPASS);
        }
        if has(Workload::HdInsight) {
            services.push(&HDINSIGHT_BYPASS);
        }
        Input {
            rows,
            services,
            ssh: if ssh { self.ssh } else { Vec::new() },
            ..self
        }
    }
}

/// Whether `compute` has an address the internet can answer, so that an `Internet` next hop
/// works for it: Azure ML nodes with public IPs, attached VMs (which get one), HDInsight (behind
/// its public load balancer), Databricks without secure cluster connectivity.
pub(crate) fn has_public_address(compute: &Compute) -> bool {
    match compute {
        Compute::Amlcompute(c) => c.enable_node_public_ip,
        Compute::Computeinstance(c) => c.enable_node_public_ip,
        Compute::Virtualmachine(vm) => vm.attach,
        Compute::Hdinsight(_) => true,
        Compute::Databricks(d) => !d.no_public_ip,
    }
}

/// The prefixes of `network.ssh.allow_from` on the public internet. A private prefix (a VPN or a
/// peered network) is reached through the appliance or a gateway, which the default route or
/// the routes a gateway learns already cover.
pub(crate) fn public_ssh_sources(spec: &Spec) -> Vec<Ipv4Net> {
    spec.network
        .ssh
        .allow_from
        .iter()
        .filter_map(|p| p.parse::<Ipv4Net>().ok())
        .filter(|net| !PRIVATE_RANGES.iter().any(|r| r.contains(net)))
        .collect()
}

/// The address ranges that are not on the public internet: private (RFC 1918) and shared
/// (RFC 6598) space.
const PRIVATE_RANGES: [Ipv4Net; 4] = [
    Ipv4Net::new_assert(std::net::Ipv4Addr::new(10, 0, 0, 0), 8),
    Ipv4Net::new_assert(std::net::Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(std::net::Ipv4Addr::new(192, 168, 0, 0), 16),
    Ipv4Net::new_assert(std::net::Ipv4Addr::new(100, 64, 0, 0), 10),
];

/// A `(service, region)` the service-tags file must hold for `input`.
pub(crate) fn needed_tags<'a>(input: &Input<'a>) -> Vec<(&'static str, &'a str)> {
    if input.style == RouteStyle::ServiceTags {
        return Vec::new();
    }
    let primary = input.rows.iter().map(|b| (b.service, input.location));
    let secondary = input.secondary.into_iter().flat_map(|region| {
        input
            .rows
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
        tag: None,
    }
}

/// The routes of a forced-tunnel route table: the default route to the appliance first, then
/// the profile's bypass routes the table needs in the profile's order (per region, prefixes
/// sorted), then those of the other services, always as service-tag routes, then the public SSH
/// sources.
pub(crate) fn expand(input: &Input<'_>) -> Vec<Route> {
    let mut routes = vec![Route {
        name: "default-to-appliance".to_string(),
        prefix: Prefix::Cidr(Ipv4Net::default()),
        next_hop: NextHop::Appliance(input.next_hop_ip.to_string()),
        reason: "Forced tunnelling: all other traffic leaves through the firewall or appliance."
            .to_string(),
        source: "amlgen: egress: forced_tunnel".to_string(),
        tag: None,
    }];
    match input.style {
        RouteStyle::ServiceTags => routes.extend(input.rows.iter().map(|b| {
            let tag = if b.regional_tag {
                format!("{}.{}", b.service, input.location)
            } else {
                b.service.to_string()
            };
            service_tag_route(b, tag)
        })),
        RouteStyle::IpPrefixes => {
            for (service, region) in needed_tags(input) {
                let Some(bypass) = input.rows.iter().find(|b| b.service == service) else {
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
                    tag: Some(format!("{service}.{region}")),
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
    routes.extend(input.ssh.iter().enumerate().map(|(i, net)| Route {
        name: format!("ssh-source-{:03}", i + 1),
        prefix: Prefix::Cidr(*net),
        next_hop: NextHop::Internet,
        reason: format!(
            "Replies to SSH sessions from {net} (network.ssh.allow_from) go back to the internet, not through the appliance, which would drop them as asymmetric."
        ),
        source: "amlgen: network.ssh.allow_from under egress: forced_tunnel".to_string(),
        tag: None,
    }));
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
            rows: GUIDE_2021_PROFILE.bypass_routes.iter().collect(),
            services: Vec::new(),
            ssh: Vec::new(),
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
            rows: CURRENT_PROFILE.bypass_routes.iter().collect(),
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
                ssh: vec!["198.51.100.0/24".parse().unwrap()],
                ..input(RouteStyle::ServiceTags, None)
            }
            .for_workloads(&BTreeSet::new(), false),
        );
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].prefix, Prefix::Cidr(Ipv4Net::default()));
    }

    #[test]
    fn each_workload_gets_only_its_own_bypass_routes() {
        let names = |workloads: &[Workload]| -> Vec<String> {
            let set = workloads.iter().copied().collect();
            expand(&input(RouteStyle::ServiceTags, None).for_workloads(&set, false))
                .into_iter()
                .skip(1)
                .map(|r| r.name)
                .collect()
        };
        assert_eq!(
            names(&[Workload::AzureMl]),
            [
                "bypass-BatchNodeManagement-eastus2",
                "bypass-AzureMachineLearning"
            ]
        );
        assert_eq!(
            names(&[Workload::Attached]),
            ["bypass-AzureMachineLearning"]
        );
        assert_eq!(names(&[Workload::HdInsight]), ["bypass-HDInsight"]);
        assert_eq!(
            names(&[Workload::Databricks]),
            [
                "bypass-AzureDatabricks",
                "bypass-Sql",
                "bypass-Storage",
                "bypass-EventHub"
            ]
        );
    }

    #[test]
    fn public_ssh_sources_are_routed_to_the_internet_and_private_ones_are_not() {
        let spec = crate::check::fixture::spec(|v| {
            v["network"]["ssh"] =
                serde_json::json!({"allow_from": ["198.51.100.0/24", "172.16.20.0/24"]});
        });
        let sources = public_ssh_sources(&spec);
        assert_eq!(sources, ["198.51.100.0/24".parse::<Ipv4Net>().unwrap()]);
        let routes = expand(&Input {
            ssh: sources,
            ..input(RouteStyle::ServiceTags, None).for_workloads(&BTreeSet::new(), true)
        });
        let last = routes.last().unwrap();
        assert_eq!(
            (last.name.as_str(), &last.next_hop),
            ("ssh-source-001", &NextHop::Internet)
        );
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
