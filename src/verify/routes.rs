//! Route selection as Azure does it: longest prefix match over the subnet's route table and the
//! system routes; a user route wins a tie with a system route, and a CIDR route a tie with a
//! service-tag route.
//!
//! A flow to a service tag is looked up once per prefix of the tag when a service-tags file
//! says which prefixes it has; otherwise it matches routes that name the tag (or its global tag)
//! and `0.0.0.0/0`.

use ipnet::Ipv4Net;
use serde::Serialize;

use super::tags::{Endpoint, Prefix, Sets, tag_within};

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "address")]
pub(crate) enum NextHop {
    VnetLocal,
    Internet,
    VirtualAppliance(String),
    VirtualNetworkGateway,
    None,
}

impl std::fmt::Display for NextHop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NextHop::VnetLocal => f.write_str("VnetLocal"),
            NextHop::Internet => f.write_str("Internet"),
            NextHop::VirtualAppliance(ip) => write!(f, "VirtualAppliance {ip}"),
            NextHop::VirtualNetworkGateway => f.write_str("VirtualNetworkGateway"),
            NextHop::None => f.write_str("None"),
        }
    }
}

impl NextHop {
    /// Reads an ARM `nextHopType` (and `nextHopIpAddress`). `None` for an unknown type.
    pub(crate) fn parse(kind: &str, ip: Option<String>) -> Option<NextHop> {
        Some(match kind.to_lowercase().as_str() {
            "vnetlocal" => NextHop::VnetLocal,
            "internet" => NextHop::Internet,
            "virtualappliance" => NextHop::VirtualAppliance(ip.unwrap_or_default()),
            "virtualnetworkgateway" => NextHop::VirtualNetworkGateway,
            "none" => NextHop::None,
            _ => return None,
        })
    }
}

/// One route of a route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) name: String,
    pub(crate) prefix: Prefix,
    pub(crate) next_hop: NextHop,
}

/// The route chosen for (part of) a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Chosen {
    pub(crate) route: String,
    pub(crate) prefix: String,
    pub(crate) next_hop: NextHop,
    /// One of Azure's system routes, not the route table's.
    pub(crate) system: bool,
}

/// One address (or a tag's) the route lookup is done for.
enum Point<'a> {
    Net(Ipv4Net, Option<&'a str>),
    Member(&'a str),
}

/// Azure's system routes of a subnet in a VNet with this address space.
fn system_routes(vnet: &[Ipv4Net]) -> Vec<Route> {
    let route = |name: &str, prefix: &str, next_hop| Route {
        name: name.to_string(),
        prefix: Prefix::parse(prefix),
        next_hop,
    };
    let mut routes: Vec<Route> = vnet
        .iter()
        .map(|n| {
            route(
                "system: virtual network",
                &n.to_string(),
                NextHop::VnetLocal,
            )
        })
        .collect();
    routes.push(route("system: default", "0.0.0.0/0", NextHop::Internet));
    for private in [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
    ] {
        routes.push(route("system: private range", private, NextHop::None));
    }
    routes
}

/// A subnet's route table with Azure's system routes for its VNet, built once.
#[derive(Debug)]
pub(crate) struct Table<'a> {
    user: &'a [Route],
    system: Vec<Route>,
}

impl<'a> Table<'a> {
    /// The routes of a subnet with route table `user` in a VNet with address space `vnet`.
    pub(crate) fn new(user: &'a [Route], vnet: &[Ipv4Net]) -> Table<'a> {
        Table {
            user,
            system: system_routes(vnet),
        }
    }
}

/// How specific `route` is for `point`: `None` when it does not match; a larger key wins.
fn rank(route: &Route, point: &Point<'_>, sets: &Sets<'_>, system: bool) -> Option<(u8, u8)> {
    let kind = if system { 0 } else { 1 };
    match (&route.prefix, point) {
        (Prefix::Cidr(n), Point::Net(p, _)) => {
            (n.contains(p)).then_some((n.prefix_len(), kind * 2))
        }
        (Prefix::Cidr(n), Point::Member(_)) => (n.prefix_len() == 0).then_some((0, kind * 2)),
        (Prefix::Tag(t), Point::Net(p, origin)) => {
            let listed = origin.is_some_and(|o| tag_within(o, t))
                || sets
                    .tag_prefixes(t)
                    .is_some_and(|ps| ps.iter().any(|q| q.contains(p)));
            listed.then_some((p.prefix_len(), 1))
        }
        (Prefix::Tag(t), Point::Member(m)) => tag_within(m, t).then_some((33, 1)),
        (Prefix::Any, _) => None,
    }
}

/// The routes a flow to `destination` takes, one per distinct choice. For a service tag whose
/// prefixes are unknown, that is the route the tag itself chooses and every route of the table
/// for public addresses that could hold some of them (a `0.0.0.0/1` to the internet would take
/// them around the appliance).
pub(crate) fn lookup(table: &Table<'_>, destination: &Endpoint, sets: &Sets<'_>) -> Vec<Chosen> {
    let (table, system) = (table.user, &table.system);
    let points: Vec<Point<'_>> = match destination {
        Endpoint::Ip(ip) => vec![Point::Net(Ipv4Net::from(*ip), None)],
        Endpoint::Tag(tag) => match sets.tag_prefixes(tag) {
            Some(prefixes) if !prefixes.is_empty() => prefixes
                .into_iter()
                .map(|p| Point::Net(p, Some(tag.as_str())))
                .collect(),
            _ => vec![Point::Member(tag)],
        },
    };
    let candidates = table
        .iter()
        .map(|r| (r, false))
        .chain(system.iter().map(|r| (r, true)));
    let mut chosen: Vec<Chosen> = Vec::new();
    for point in &points {
        let best = candidates
            .clone()
            .filter_map(|(r, s)| rank(r, point, sets, s).map(|k| (k, r, s)))
            .max_by_key(|(k, _, _)| *k);
        let possible = match point {
            Point::Member(tag) => table
                .iter()
                .filter(|r| {
                    matches!(&r.prefix, Prefix::Cidr(n) if n.prefix_len() > 0 && sets.may_hold(tag, n))
                })
                .collect(),
            Point::Net(..) => Vec::new(),
        };
        let routes = best
            .map(|(_, route, system)| (route, system))
            .into_iter()
            .chain(possible.into_iter().map(|r| (r, false)));
        for (route, system) in routes {
            let c = Chosen {
                route: route.name.clone(),
                prefix: route.prefix.to_string(),
                next_hop: route.next_hop.clone(),
                system,
            };
            if !chosen.contains(&c) {
                chosen.push(c);
            }
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(name: &str, prefix: &str, next_hop: NextHop) -> Route {
        Route {
            name: name.into(),
            prefix: Prefix::parse(prefix),
            next_hop,
        }
    }

    fn sets() -> Sets<'static> {
        Sets {
            vnet: vec!["10.60.0.0/20".parse().unwrap()],
            route_prefixes: vec![],
            service_tags: None,
            others: Vec::new(),
        }
    }

    #[test]
    fn longest_prefix_wins_and_service_tag_routes_beat_the_default_route() {
        let table = [
            route(
                "default",
                "0.0.0.0/0",
                NextHop::VirtualAppliance("10.0.1.4".into()),
            ),
            route("bypass-aml", "AzureMachineLearning", NextHop::Internet),
        ];
        let names = |d: Endpoint| -> Vec<String> {
            lookup(&Table::new(&table, &sets().vnet), &d, &sets())
                .into_iter()
                .map(|c| c.route)
                .collect()
        };
        assert_eq!(
            names(Endpoint::Tag("AzureMachineLearning.westus2".into())),
            ["bypass-aml"]
        );
        assert_eq!(names(Endpoint::Tag("Storage.westus2".into())), ["default"]);
        assert_eq!(
            names(Endpoint::Ip("10.60.1.4".parse().unwrap())),
            ["system: virtual network"]
        );
        assert_eq!(
            names(Endpoint::Ip("203.0.113.10".parse().unwrap())),
            ["default"]
        );
    }

    #[test]
    fn without_a_route_table_private_ranges_outside_the_vnet_go_nowhere() {
        let empty = Table::new(&[], &sets().vnet);
        let chosen = lookup(
            &empty,
            &Endpoint::Ip("192.168.1.1".parse().unwrap()),
            &sets(),
        );
        assert_eq!(chosen[0].next_hop, NextHop::None);
        let chosen = lookup(&empty, &Endpoint::Tag("Storage".into()), &sets());
        assert_eq!(
            (chosen[0].next_hop.clone(), chosen[0].system),
            (NextHop::Internet, true)
        );
    }
}
