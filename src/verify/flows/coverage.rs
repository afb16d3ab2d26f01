//! Accounts for every flow a compute subnet's NSGs and routes let through, not a sample.
//!
//! The addresses a subnet's rules and routes can tell apart are cut into classes: the IPv4 space
//! split at every boundary of a prefix that a rule, a route, the VNet, the non-internet ranges,
//! the spec's SSH sources or the service-tags file names, plus one class per service tag whose
//! addresses are unknown ("an address of this tag and of no narrower tag named"). Each class is
//! judged both ways, for every protocol and every port at once (`nsg::Ordered::decide_all`), through the
//! subnet's NSG and each host's NIC NSG, and, outbound, through the routes. Every flow that gets
//! through must be justified: by staying in the VNet, by Azure's load balancer probes, by a row
//! of the requirement profile that applies to what the subnet hosts, or by a spec setting in the
//! template's intent (`outbound: open`, `ssh.allow_from`). What is not is a finding, grouped by
//! the rule or route that lets it through. Under forced tunnelling a flow that leaves for the
//! internet directly must also be one a bypass route of the subnet's workloads is for.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::{ComputeKind, Machine, SubnetCheck};
use crate::profile::{Access, Context, DATABRICKS_BYPASS, Direction, HDINSIGHT_BYPASS, Peer};
use crate::profile::{Profile, Protocol};
use crate::verify::finding::{Code, Finding, Level};
use crate::verify::nsg::{self, Decision, Ordered, Ports, Segment, Transport};
use crate::verify::routes::{self, Chosen, NextHop};
use crate::verify::tags::{self, Endpoint, Prefix};

/// The address of Azure's load balancer probes (the `AzureLoadBalancer` tag), also the
/// platform's DNS and DHCP server.
const LOAD_BALANCER: Ipv4Addr = Ipv4Addr::new(168, 63, 129, 16);

/// Addresses no packet leaves or enters a VNet with: "this network", loopback, link-local, and
/// multicast with the reserved space above it. Azure does not route them.
const UNROUTABLE: [Ipv4Net; 4] = [
    Ipv4Net::new_assert(Ipv4Addr::new(0, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16),
    Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 3),
];

/// A class of addresses the subnet's rules and routes cannot tell apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// The addresses from the first to the last, inclusive.
    Range(u32, u32),
    /// An address of this service tag and of no narrower tag the rules and routes name.
    Tag(String),
}

impl Class {
    fn endpoint(&self) -> Endpoint {
        match self {
            Class::Range(first, _) => Endpoint::Ip(Ipv4Addr::from(*first)),
            Class::Tag(tag) => Endpoint::Tag(tag.clone()),
        }
    }

    /// The class lies inside `net`.
    fn within(&self, net: &Ipv4Net) -> bool {
        match self {
            Class::Range(a, b) => {
                net.contains(&Ipv4Addr::from(*a)) && net.contains(&Ipv4Addr::from(*b))
            }
            Class::Tag(_) => false,
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Class::Tag(tag) => f.write_str(tag),
            Class::Range(a, b) if a == b => write!(f, "{}", Ipv4Addr::from(*a)),
            Class::Range(a, b) => {
                let nets: Vec<Ipv4Net> =
                    ipnet::Ipv4Subnets::new(Ipv4Addr::from(*a), Ipv4Addr::from(*b), 0).collect();
                match nets.as_slice() {
                    [one] => write!(f, "{one}"),
                    _ => write!(f, "{}-{}", Ipv4Addr::from(*a), Ipv4Addr::from(*b)),
                }
            }
        }
    }
}

/// Addresses a requirement or a spec setting lets a flow reach or come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    Tag(String),
    Nets(Vec<Ipv4Net>),
}

/// One justification: flows in `direction` with `peer`, `transport` (`None`: any) and `ports`.
#[derive(Debug, Clone)]
struct Allowance {
    direction: Direction,
    peer: Allowed,
    transport: Option<Transport>,
    ports: Ports,
}

/// The unjustified flows of one kind, let through by one rule or route.
#[derive(Debug, Default)]
struct Group {
    level: Option<Level>,
    resource: String,
    peers: Vec<String>,
    ports: BTreeMap<Transport, Ports>,
}

/// The unjustified flows of a subnet, grouped by code, direction and what lets them through.
#[derive(Debug, Default)]
struct Tally(BTreeMap<(Code, String), Group>);

impl Tally {
    fn add(
        &mut self,
        code: Code,
        level: Level,
        what: String,
        resource: String,
        class: &Class,
        segment: (Transport, &Ports),
    ) {
        let group = self.0.entry((code, what)).or_default();
        group.level = Some(level);
        group.resource = resource;
        let peer = class.to_string();
        if !group.peers.contains(&peer) {
            group.peers.push(peer);
        }
        let (transport, ports) = segment;
        let entry = group.ports.entry(transport).or_default();
        *entry = entry.union(ports);
    }

    fn findings(self, subnet: &str) -> Vec<Finding> {
        self.0
            .into_iter()
            .map(|((code, what), g)| {
                let message = format!("{what}: {} on {}", peer_list(&g.peers), port_list(&g.ports));
                let finding = match g.level {
                    Some(Level::Note) => Finding::note(code, g.resource, message),
                    _ => Finding::error(code, g.resource, message),
                };
                finding.in_subnet(subnet)
            })
            .collect()
    }
}

/// `a, b, c and 4 more`.
fn peer_list(peers: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut text = peers
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if peers.len() > SHOWN {
        text.push_str(&format!(" and {} more", peers.len() - SHOWN));
    }
    text
}

/// `tcp 0-21,23-65535; udp *; icmp`.
fn port_list(ports: &BTreeMap<Transport, Ports>) -> String {
    ports
        .iter()
        .map(|(t, p)| {
            if t.has_ports() {
                format!("{t} {p}")
            } else {
                t.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl SubnetCheck<'_> {
    /// Every flow the subnet lets through that nothing justifies, as findings; what the proof
    /// assumes, as notes.
    pub(super) fn coverage(
        &self,
        profile: &Profile,
        contexts: &[(&Machine, Context)],
    ) -> Vec<Finding> {
        let allowances = self.allowances(profile, contexts);
        let bypasses = self.bypasses(profile);
        let classes = self.classes(&allowances, &bypasses);
        let locals: Vec<&Class> = classes.iter().filter(|c| self.is_host_class(c)).collect();
        let mut keys: Vec<Option<&String>> =
            self.hosts.iter().map(|m| m.nic_nsg.as_ref()).collect();
        keys.sort();
        keys.dedup();
        let own = both_ways(self.rules);
        let nics: Vec<Option<Nic<'_>>> = keys
            .into_iter()
            .map(|key| {
                key.map(|key| Nic {
                    name: key.rsplit('/').next().unwrap_or_default(),
                    rules: both_ways(Some(
                        self.nsgs.get(key).map(Vec::as_slice).unwrap_or_default(),
                    )),
                })
            })
            .collect();
        let mut tally = Tally::default();
        let locals: Vec<Endpoint> = locals.iter().map(|c| c.endpoint()).collect();
        for peer in &classes {
            let far = peer.endpoint();
            let routes = routes::lookup(&self.routes, &far, &self.sets);
            for near in &locals {
                for nic in &nics {
                    for direction in [Direction::Inbound, Direction::Outbound] {
                        let ends = match direction {
                            Direction::Inbound => (&far, near),
                            Direction::Outbound => (near, &far),
                        };
                        for segment in self.segments(direction, ends, &own, nic.as_ref()) {
                            if segment.access() == Access::Deny {
                                continue;
                            }
                            let judged = Judged {
                                class: peer,
                                segment: &segment,
                                allowances: &allowances,
                            };
                            match direction {
                                Direction::Inbound => self.judge_inbound(&judged, &mut tally),
                                Direction::Outbound => {
                                    self.judge_outbound(&judged, &routes, &bypasses, &mut tally)
                                }
                            }
                        }
                    }
                }
            }
        }
        tally.findings(&self.subnet.name)
    }

    /// The segments of the subnet's NSG and, when a host has one, its NIC's NSG, combined: a
    /// flow passes both (the subnet's first inbound, the NIC's first outbound).
    fn segments<'r>(
        &self,
        direction: Direction,
        (source, destination): (&Endpoint, &Endpoint),
        own: &[Ordered<'r>; 2],
        nic: Option<&Nic<'r>>,
    ) -> Vec<Segment<'r>> {
        let at = usize::from(direction == Direction::Outbound);
        let subnet = own[at].decide_all(source, destination, &self.sets);
        let Some(nic) = nic else {
            return subnet;
        };
        let nic: Vec<Segment> = nic.rules[at]
            .decide_all(source, destination, &self.sets)
            .into_iter()
            .map(|s| Segment {
                nic_nsg: Some(nic.name),
                ..s
            })
            .collect();
        let (first, second) = match direction {
            Direction::Inbound => (&subnet, &nic),
            Direction::Outbound => (&nic, &subnet),
        };
        let mut out = Vec::new();
        for a in first {
            for b in second.iter().filter(|b| b.transport == a.transport) {
                let ports = a.ports.intersect(&b.ports);
                if ports.is_empty() {
                    continue;
                }
                let decider = if a.access() == Access::Deny { a } else { b };
                out.push(Segment {
                    ports,
                    ..decider.clone()
                });
            }
        }
        out
    }

    fn judge_inbound(&self, j: &Judged<'_>, tally: &mut Tally) {
        if !self.in_vnet(j.class) && !is_platform(j.class) {
            self.file_unjustified(j, Direction::Inbound, None, tally);
        }
    }

    fn judge_outbound(
        &self,
        j: &Judged<'_>,
        routes: &[Chosen],
        bypasses: &[Allowed],
        tally: &mut Tally,
    ) {
        if self.in_vnet(j.class) || is_platform(j.class) {
            return;
        }
        for chosen in routes {
            match &chosen.next_hop {
                NextHop::VnetLocal | NextHop::None => {}
                NextHop::Internet => {
                    if self.egress().is_none() {
                        continue;
                    }
                    if self.intent.forced_tunnel
                        && !bypasses.iter().any(|b| self.covers(b, j.class))
                    {
                        let what = format!(
                            "under forced tunnelling, leaves for the internet without the appliance through {}, which no workload of the subnet needs",
                            route_text(chosen)
                        );
                        tally.add(
                            Code::TunnelBypassed,
                            Level::Error,
                            what,
                            self.route_resource(chosen),
                            j.class,
                            (j.segment.transport, &j.segment.ports),
                        );
                    }
                    self.judge_egress(j, chosen, tally);
                }
                NextHop::VirtualAppliance(_) | NextHop::VirtualNetworkGateway => {
                    self.judge_egress(j, chosen, tally);
                }
            }
        }
    }

    /// A flow that leaves the VNet, directly or through the appliance: under a lockdown it must
    /// be one a requirement asks for.
    fn judge_egress(&self, j: &Judged<'_>, chosen: &Chosen, tally: &mut Tally) {
        if self.intent.locked {
            self.file_unjustified(j, Direction::Outbound, Some(chosen), tally);
        }
    }

    /// Files the ports of an allowed segment that nothing justifies: an assumption when
    /// Databricks' mandatory rules, or Azure's default rules toward private ranges outside the
    /// VNet, let them through; else a finding.
    fn file_unjustified(
        &self,
        j: &Judged<'_>,
        direction: Direction,
        via: Option<&Chosen>,
        tally: &mut Tally,
    ) {
        let left = j.unjustified(direction, self);
        if left.is_empty() {
            return;
        }
        let decision = &j.segment.decision();
        let rule = super::rule_text(decision);
        let way = match via {
            Some(chosen) => format!("outbound through {}", route_text(chosen)),
            None => "inbound".to_string(),
        };
        let outside_reach = via.is_some() || self.hosts.iter().all(|m| !m.public_ip);
        let (code, level, what) = if self.intent.forced_tunnel
            && outside_reach
            && self.databricks()
            && self.is_worker_to_worker(decision)
        {
            let what = format!(
                "{way}, let through by Databricks' rule {rule}, which matches every address the route table puts in the VirtualNetwork tag: only the appliance controls it"
            );
            (Code::DatabricksFirewall, Level::Note, what)
        } else if self.private_outside(j.class) && decision.default {
            let what = format!(
                "{way}, private ranges outside the VNet let through by Azure's default rule {rule}: peerings or gateways outside the template decide"
            );
            (Code::OutsideTemplate, Level::Note, what)
        } else {
            let (code, why) = match direction {
                Direction::Inbound => (
                    Code::InboundUnjustified,
                    "no requirement of what the subnet hosts and no spec setting admits it",
                ),
                Direction::Outbound => (
                    Code::OutboundUnjustified,
                    "outbound is locked and no requirement asks for it",
                ),
            };
            let mut what = format!("{way}, allowed by {rule}: {why}");
            if decision.default && decision.rule.starts_with("AllowVnet") {
                what.push_str(
                    " (the VirtualNetwork tag includes the prefixes of the subnet's routes)",
                );
            }
            (code, Level::Error, what)
        };
        let segment = (j.segment.transport, &left);
        let resource = self.nsg_resource(decision);
        tally.add(code, level, what, resource, j.class, segment);
    }

    /// What the profile's rows for the subnet's hosts, and the spec's SSH sources (where a host
    /// accepts SSH), let through.
    fn allowances(&self, profile: &Profile, contexts: &[(&Machine, Context)]) -> Vec<Allowance> {
        let mut out: Vec<Allowance> = profile
            .all_nsg_rules()
            .filter(|row| {
                row.access == Access::Allow && contexts.iter().any(|(_, c)| row.when.holds(c))
            })
            .filter_map(|row| {
                // A row for `VirtualNetwork` justifies the VNet (which needs no justification),
                // not every address a route table adds to the tag.
                let peer = match row.peer {
                    Peer::Tag(t) if t.eq_ignore_ascii_case("VirtualNetwork") => return None,
                    Peer::Tag(t) => Allowed::Tag(t.to_string()),
                    Peer::Regional(t) => Allowed::Tag(format!("{t}.{}", self.region)),
                    Peer::SshSources | Peer::AddressSpace => return None,
                };
                let transport = match row.protocol {
                    Protocol::Tcp => Some(Transport::Tcp),
                    Protocol::Udp => Some(Transport::Udp),
                    Protocol::Any => None,
                };
                let ranges: Vec<(u16, u16)> = row
                    .ports
                    .iter()
                    .filter_map(|p| nsg::port_range(p))
                    .collect();
                Some(Allowance {
                    direction: row.direction,
                    peer,
                    transport,
                    ports: Ports::of(&ranges),
                })
            })
            .collect();
        if !self.intent.ssh_sources.is_empty() && self.hosts.iter().any(|m| m.ssh) {
            out.push(Allowance {
                direction: Direction::Inbound,
                peer: Allowed::Nets(self.intent.ssh_sources.clone()),
                transport: Some(Transport::Tcp),
                ports: Ports::of(&[(22, 22)]),
            });
        }
        out
    }

    /// Where the subnet's workloads may go without the appliance under forced tunnelling: the
    /// bypass routes each workload with a public address needs, and the spec's SSH sources.
    fn bypasses(&self, profile: &Profile) -> Vec<Allowed> {
        let mut tags: BTreeSet<String> = BTreeSet::new();
        let bypass_tag = |service: &str, regional: bool| {
            if regional {
                format!("{service}.{}", self.region)
            } else {
                service.to_string()
            }
        };
        for host in self.hosts.iter().filter(|m| m.public_ip) {
            let rows = profile.bypass_routes.iter();
            match host.compute {
                Some(ComputeKind::Cluster | ComputeKind::Instance) => {
                    tags.extend(rows.map(|b| bypass_tag(b.service, b.regional_tag)));
                }
                Some(ComputeKind::AttachedVm | ComputeKind::AttachedHdInsight) => tags.extend(
                    rows.filter(|b| b.service == "AzureMachineLearning")
                        .map(|b| bypass_tag(b.service, b.regional_tag)),
                ),
                None => {}
            }
            if host.hdinsight {
                tags.insert(HDINSIGHT_BYPASS.service.to_string());
            }
            if host.databricks {
                tags.extend(DATABRICKS_BYPASS.iter().map(|b| b.service.to_string()));
            }
        }
        let mut out: Vec<Allowed> = tags.into_iter().map(Allowed::Tag).collect();
        if self.hosts.iter().any(|m| m.ssh) {
            out.push(Allowed::Nets(self.intent.ssh_sources.clone()));
        }
        out
    }

    /// The classes of addresses the subnet's rules, routes and justifications tell apart.
    fn classes(&self, allowances: &[Allowance], bypasses: &[Allowed]) -> Vec<Class> {
        let mut cuts: BTreeSet<u32> = BTreeSet::from([0]);
        let mut cut = |net: &Ipv4Net| {
            cuts.insert(u32::from(net.network()));
            if let Some(next) = u32::from(net.broadcast()).checked_add(1) {
                cuts.insert(next);
            }
        };
        let mut tags: BTreeMap<String, String> = BTreeMap::new();
        let mut name_tag = |tag: &str, cut: &mut dyn FnMut(&Ipv4Net)| {
            for net in self.sets.known_prefixes(tag) {
                cut(&net);
            }
            if tags::is_service_tag(tag) {
                tags.entry(tag.to_lowercase())
                    .or_insert_with(|| tag.to_string());
                if let Some((service, _)) = tag.split_once('.') {
                    tags.entry(service.to_lowercase())
                        .or_insert_with(|| service.to_string());
                }
            }
        };
        let own = self.rules.unwrap_or_default().iter();
        let nics = self
            .hosts
            .iter()
            .filter_map(|m| m.nic_nsg.as_ref())
            .filter_map(|k| self.nsgs.get(k))
            .flatten();
        let mut prefixes: Vec<&Prefix> = own
            .chain(nics)
            .flat_map(|r| r.sources.iter().chain(&r.destinations))
            .collect();
        prefixes.extend(self.table.iter().map(|r| &r.prefix));
        for prefix in prefixes {
            match prefix {
                Prefix::Any => {}
                Prefix::Cidr(net) => cut(net),
                Prefix::Tag(tag) => name_tag(tag, &mut cut),
            }
        }
        let peers = allowances.iter().map(|a| &a.peer).chain(bypasses);
        for peer in peers {
            match peer {
                Allowed::Tag(tag) => name_tag(tag, &mut cut),
                Allowed::Nets(nets) => nets.iter().for_each(&mut cut),
            }
        }
        for net in self
            .sets
            .vnet
            .iter()
            .chain(self.vnet.subnets.iter().map(|s| &s.prefix))
        {
            cut(net);
        }
        tags::not_internet().chain(UNROUTABLE).for_each(|n| cut(&n));
        cut(&Ipv4Net::from(LOAD_BALANCER));
        let cuts: Vec<u32> = cuts.into_iter().collect();
        let ranges = cuts
            .iter()
            .enumerate()
            .map(|(i, start)| {
                let end = cuts.get(i + 1).map_or(u32::MAX, |next| next - 1);
                Class::Range(*start, end)
            })
            .filter(|c| !UNROUTABLE.iter().any(|n| c.within(n)));
        ranges.chain(tags.into_values().map(Class::Tag)).collect()
    }

    /// A class of host addresses of the subnet (not the five Azure reserves).
    fn is_host_class(&self, class: &Class) -> bool {
        let Class::Range(a, b) = class else {
            return false;
        };
        let first = u32::from(self.subnet.prefix.network()) + 4;
        let last = u32::from(self.subnet.prefix.broadcast()).saturating_sub(1);
        class.within(&self.subnet.prefix) && *b >= first && *a <= last
    }

    fn in_vnet(&self, class: &Class) -> bool {
        self.sets.vnet.iter().any(|n| class.within(n))
    }

    /// A class of private or shared addresses outside the VNet: a peered network, on-premises.
    fn private_outside(&self, class: &Class) -> bool {
        !self.in_vnet(class) && tags::not_internet().any(|n| class.within(&n))
    }

    fn covers(&self, allowed: &Allowed, class: &Class) -> bool {
        match allowed {
            Allowed::Tag(tag) => self
                .sets
                .contains(&Prefix::Tag(tag.clone()), &class.endpoint()),
            Allowed::Nets(nets) => nets.iter().any(|n| class.within(n)),
        }
    }

    fn databricks(&self) -> bool {
        self.hosts.iter().any(|m| m.databricks)
    }

    /// The rule that decided has the shape of Databricks' mandatory worker-to-worker rule:
    /// `VirtualNetwork` to `VirtualNetwork`, any protocol, any port, in the subnet's own NSG.
    /// Under forced tunnelling it matches every address; no other rule earns that excuse.
    fn is_worker_to_worker(&self, decision: &Decision) -> bool {
        let vnet = |sides: &[Prefix]| {
            sides
                .iter()
                .all(|p| matches!(p, Prefix::Tag(t) if t.eq_ignore_ascii_case("VirtualNetwork")))
        };
        decision.nic_nsg.is_none()
            && !decision.default
            && self
                .rules
                .unwrap_or_default()
                .iter()
                .filter(|r| r.name == decision.rule)
                .any(|r| {
                    vnet(&r.sources)
                        && vnet(&r.destinations)
                        && r.protocol.as_deref().is_none_or(|p| p == "*")
                        && Ports::of(&r.ports).is_all()
                })
    }

    fn nsg_resource(&self, decision: &Decision) -> String {
        let name = decision.nic_nsg.clone().or_else(|| {
            self.subnet
                .nsg
                .as_ref()
                .map(|k| k.rsplit('/').next().unwrap_or_default().to_string())
        });
        match name {
            Some(name) => format!("Microsoft.Network/networkSecurityGroups/{name}"),
            None => self.subnet_resource(),
        }
    }

    fn route_resource(&self, chosen: &Chosen) -> String {
        match (&self.subnet.route_table, chosen.system) {
            (Some(key), false) => format!(
                "Microsoft.Network/routeTables/{}",
                key.rsplit('/').next().unwrap_or_default()
            ),
            _ => self.subnet_resource(),
        }
    }

    pub(super) fn subnet_resource(&self) -> String {
        format!(
            "Microsoft.Network/virtualNetworks/{}/subnets/{}",
            self.vnet.name, self.subnet.name
        )
    }
}

/// Azure's own address (probes, DNS, DHCP), which every host reaches without routes.
fn is_platform(class: &Class) -> bool {
    *class == Class::Range(LOAD_BALANCER.into(), LOAD_BALANCER.into())
}

/// `route bypass-Storage (Storage -> Internet)`, or the system route.
fn route_text(chosen: &Chosen) -> String {
    format!(
        "route {} ({} -> {})",
        chosen.route, chosen.prefix, chosen.next_hop
    )
}

/// An NSG's rules ordered for each direction: inbound, then outbound.
fn both_ways(rules: Option<&[nsg::Rule]>) -> [Ordered<'_>; 2] {
    [Direction::Inbound, Direction::Outbound].map(|d| Ordered::new(rules, d))
}

/// A host's NIC NSG, by name, ordered both ways.
struct Nic<'r> {
    name: &'r str,
    rules: [Ordered<'r>; 2],
}

/// One allowed segment of one class, being judged.
struct Judged<'a> {
    class: &'a Class,
    segment: &'a Segment<'a>,
    allowances: &'a [Allowance],
}

impl Judged<'_> {
    /// The segment's ports that no allowance in `direction` covers.
    fn unjustified(&self, direction: Direction, check: &SubnetCheck<'_>) -> Ports {
        self.allowances
            .iter()
            .filter(|a| {
                a.direction == direction
                    && a.transport.is_none_or(|t| t == self.segment.transport)
                    && check.covers(&a.peer, self.class)
            })
            .fold(self.segment.ports.clone(), |left, a| {
                // A requirement for any protocol on named ports lets ICMP, ESP and AH through
                // as the rule written from it does (see `nsg::Ordered`).
                if self.segment.transport.has_ports() {
                    left.minus(&a.ports)
                } else if a.ports.is_all() || a.transport.is_none() {
                    Ports::default()
                } else {
                    left
                }
            })
    }
}
