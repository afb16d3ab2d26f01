//! The flows each compute subnet needs, their fate, and the accounting of every other flow.
//!
//! Required flows come from the requirement profile's rule table (the rows that apply to what
//! the subnet hosts, judged from the template) and from the spec's SSH sources, so the check
//! states the same requirements the renderer writes, but evaluates them the way Azure does:
//! through every NSG rule by priority, the route table and the system routes, and the subnet's
//! egress path. `coverage` then accounts for every flow the subnet lets through; the structural
//! checks here catch what no flow shows (an appliance inside a compute subnet, a Databricks
//! subnet without its delegation, a tunnelled subnet with no way to the appliance).

mod coverage;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Serialize;

use super::finding::{Code, Finding};
use super::nsg::{self, Decision, Packet, Transport};
use super::routes::{self, Chosen, NextHop};
use super::tags::{Endpoint, Prefix, Sets};
use super::template::{ComputeKind, Facts, Intent, Machine, Subnet, Vnet};
use crate::azure::service_tags::ServiceTags;
use crate::profile::{Access, Context, Direction, NsgRule, Peer, Profile, Protocol, When};

/// Services whose nodes talk to the instance in their own region: a flow to them is a flow to
/// the regional tag, which is within the global one.
const REGIONAL_SERVICES: &[&str] = &["BatchNodeManagement", "AzureMachineLearning"];

/// The API version from which a subnet without `defaultOutboundAccess` is private.
const PRIVATE_BY_DEFAULT: &str = "2025-07-01";

/// What happens to a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// Allowed and delivered: in the VNet, to the internet, or back to its source.
    Allowed,
    /// Allowed by the NSG and sent to the appliance, which must allow it too.
    ToAppliance,
    /// Denied by an NSG rule.
    Denied,
    /// Allowed by the NSG but lost: no route, or no way out to the internet.
    Dropped,
}

/// One required flow and its fate.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Flow {
    #[serde(serialize_with = "direction_name")]
    pub(crate) direction: Direction,
    /// The far end: the source of an inbound flow, the destination of an outbound one.
    pub(crate) peer: Endpoint,
    pub(crate) protocol: Transport,
    pub(crate) port: u16,
    /// Why the flow is required.
    pub(crate) reason: String,
    pub(crate) nsg: Decision,
    /// The routes of an outbound flow, or of the replies to an inbound one.
    pub(crate) routes: Vec<Chosen>,
    pub(crate) verdict: Verdict,
    /// What decided the verdict, in words.
    pub(crate) detail: String,
    pub(crate) ok: bool,
}

fn direction_name<S: serde::Serializer>(d: &Direction, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(d.arm_name())
}

/// The flows of one compute subnet.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SubnetFlows {
    pub(crate) vnet: String,
    pub(crate) subnet: String,
    pub(crate) prefix: String,
    pub(crate) hosts: Vec<String>,
    pub(crate) egress: String,
    /// Outbound is locked: by the template's intent, else judged from its NSG.
    pub(crate) locked: bool,
    /// Under forced tunnelling: by the template's intent, else judged from its routes.
    pub(crate) forced_tunnel: bool,
    pub(crate) flows: Vec<Flow>,
    /// What fails verification, and what the proof assumes.
    pub(crate) findings: Vec<Finding>,
    /// What the appliance must allow for the flows routed to it: `tag protocol/port`.
    pub(crate) appliance_must_allow: Vec<String>,
}

/// Evaluates every compute subnet of `facts`.
pub(crate) fn evaluate(
    facts: &Facts,
    profile: &Profile,
    service_tags: Option<&ServiceTags>,
    problems: &mut Vec<String>,
) -> Vec<SubnetFlows> {
    let compute_prefixes: Vec<Ipv4Net> = compute_subnets(facts).map(|s| s.prefix).collect();
    let reaches = super::endpoints::reaches(facts);
    let mut out = Vec::new();
    for vnet in &facts.vnets {
        for subnet in &vnet.subnets {
            // A subnet delegated to Databricks hosts its nodes even when the workspace is
            // deployed elsewhere.
            let delegated = Machine {
                label: "Databricks nodes (delegated subnet)".into(),
                subnet: subnet.key.clone(),
                databricks: true,
                ..Machine::default()
            };
            let mut hosts: Vec<&Machine> = facts
                .machines
                .iter()
                .filter(|m| m.subnet == subnet.key)
                .collect();
            if hosts.is_empty() && is_databricks(subnet) {
                hosts.push(&delegated);
            }
            if hosts.is_empty() {
                continue;
            }
            let mut check = SubnetCheck::new(facts, vnet, subnet, &hosts, service_tags, problems);
            check.reaches = &reaches;
            let mut flows = check.run(profile);
            flows.findings.extend(check.structure(&compute_prefixes));
            out.push(flows);
        }
    }
    out
}

/// The subnets that host compute.
fn compute_subnets(facts: &Facts) -> impl Iterator<Item = &Subnet> {
    facts
        .vnets
        .iter()
        .flat_map(|v| &v.subnets)
        .filter(|s| is_databricks(s) || facts.machines.iter().any(|m| m.subnet == s.key))
}

fn is_databricks(subnet: &Subnet) -> bool {
    subnet
        .delegations
        .iter()
        .any(|d| d.eq_ignore_ascii_case("Microsoft.Databricks/workspaces"))
}

struct SubnetCheck<'a> {
    vnet: &'a Vnet,
    subnet: &'a Subnet,
    hosts: &'a [&'a Machine],
    rules: Option<&'a [nsg::Rule]>,
    nsgs: &'a BTreeMap<String, Vec<nsg::Rule>>,
    table: &'a [routes::Route],
    /// The route table with the system routes, for lookups.
    routes: routes::Table<'a>,
    /// The route tables that let a gateway's learned routes in.
    bgp_propagation: &'a [String],
    sets: Sets<'a>,
    region: String,
    intent: SubnetIntent,
    /// The private endpoints the template declares, which Azure ML compute must reach.
    reaches: &'a [super::endpoints::Reach],
}

/// What the template's spec asks of one subnet.
#[derive(Debug, Clone)]
struct SubnetIntent {
    locked: bool,
    forced_tunnel: bool,
    ssh_sources: Vec<Ipv4Net>,
}

impl<'a> SubnetCheck<'a> {
    fn new(
        facts: &'a Facts,
        vnet: &'a Vnet,
        subnet: &'a Subnet,
        hosts: &'a [&'a Machine],
        service_tags: Option<&'a ServiceTags>,
        problems: &mut Vec<String>,
    ) -> Self {
        let mut declared = |kind: &str, key: &Option<String>, found: bool| {
            if key.is_some() && !found {
                problems.push(format!(
                    "subnet `{}`: its {kind} is not declared in the template; verify cannot see it",
                    subnet.name
                ));
            }
        };
        let rules = subnet.nsg.as_ref().and_then(|k| facts.nsgs.get(k));
        declared("NSG", &subnet.nsg, rules.is_some());
        let table = subnet
            .route_table
            .as_ref()
            .and_then(|k| facts.route_tables.get(k));
        declared("route table", &subnet.route_table, table.is_some());
        let table = table.map(Vec::as_slice).unwrap_or_default();
        let mut check = SubnetCheck {
            vnet,
            subnet,
            hosts,
            rules: rules.map(Vec::as_slice),
            nsgs: &facts.nsgs,
            table,
            routes: routes::Table::new(table, &vnet.address_space),
            bgp_propagation: &facts.bgp_propagation,
            sets: Sets {
                vnet: vnet.address_space.clone(),
                route_prefixes: table.iter().map(|r| r.prefix.clone()).collect(),
                service_tags,
                others: Vec::new(),
            },
            // An unknown location is already a problem of the template.
            region: vnet.location.clone().unwrap_or_else(|| "unknown".into()),
            intent: SubnetIntent {
                locked: false,
                forced_tunnel: false,
                ssh_sources: Vec::new(),
            },
            reaches: &[],
        };
        check.sets.others = facts
            .intent
            .as_ref()
            .map(|i| i.ssh_sources.clone())
            .unwrap_or_default();
        check.intent = match &facts.intent {
            Some(Intent {
                locked,
                forced_tunnel,
                ssh_sources,
                ..
            }) => SubnetIntent {
                locked: *locked,
                forced_tunnel: *forced_tunnel,
                ssh_sources: ssh_sources.clone(),
            },
            None => SubnetIntent {
                locked: check.locked(),
                forced_tunnel: check.tunnelled(),
                ssh_sources: Vec::new(),
            },
        };
        check
    }

    /// The route table sends the default route to an appliance or gateway.
    fn tunnelled(&self) -> bool {
        self.table.iter().any(|r| {
            matches!(&r.prefix, Prefix::Cidr(n) if n.prefix_len() == 0)
                && matches!(
                    r.next_hop,
                    NextHop::VirtualAppliance(_) | NextHop::VirtualNetworkGateway
                )
        })
    }

    fn run(&self, profile: &Profile) -> SubnetFlows {
        let locked = self.intent.locked;
        let contexts: Vec<(&Machine, Context)> = self
            .hosts
            .iter()
            .map(|m| (*m, self.host_context(m, locked)))
            .collect();
        let mut flows: Vec<Flow> = Vec::new();
        for row in profile.all_nsg_rules() {
            if row.access != Access::Allow {
                continue;
            }
            // A service reaches only hosts with public IPs: compute without one is managed over
            // its own outbound connections (the 2021 guide predates it, yet its rows apply).
            // An attached machine is the exception: Azure ML attaches it at its public IP.
            let from_service = row.direction == Direction::Inbound
                && row.when != When::Attached
                && matches!(row.peer, Peer::Tag(t) if !t.eq_ignore_ascii_case("VirtualNetwork"));
            let hosts: Vec<&Machine> = contexts
                .iter()
                .filter(|(m, c)| row.when.holds(c) && (m.public_ip || !from_service))
                .map(|(m, _)| *m)
                .collect();
            if !hosts.is_empty() {
                flows.extend(self.required(row, hosts));
            }
        }
        flows.extend(self.ssh_flows());
        flows.extend(self.endpoint_flows());
        let mut appliance_must_allow: Vec<String> = Vec::new();
        for f in &flows {
            if f.verdict == Verdict::ToAppliance {
                let line = format!("{} {}/{}", f.peer, f.protocol, f.port);
                if !appliance_must_allow.contains(&line) {
                    appliance_must_allow.push(line);
                }
            }
        }
        let mut findings: Vec<Finding> = flows
            .iter()
            .filter(|f| !f.ok)
            .map(|f| self.blocked(f))
            .collect();
        findings.extend(self.coverage(profile, &contexts));
        findings.extend(self.private_ssh_sources());
        SubnetFlows {
            vnet: self.vnet.name.clone(),
            subnet: self.subnet.name.clone(),
            prefix: self.subnet.prefix.to_string(),
            hosts: self.hosts.iter().map(|m| m.label.clone()).collect(),
            egress: self.egress_text(),
            locked,
            forced_tunnel: self.intent.forced_tunnel,
            flows,
            findings,
            appliance_must_allow,
        }
    }

    /// HTTPS (and SMB for Azure Files) from the subnet's Azure ML compute to each private
    /// endpoint in its VNet: the workspace, its storage, key vault and registry.
    fn endpoint_flows(&self) -> Vec<Flow> {
        let aml: Vec<&Machine> = self
            .hosts
            .iter()
            .copied()
            .filter(|m| {
                matches!(
                    m.compute,
                    Some(ComputeKind::Cluster | ComputeKind::Instance)
                )
            })
            .collect();
        if aml.is_empty() {
            return Vec::new();
        }
        let in_vnet = |address| self.vnet.address_space.iter().any(|n| n.contains(&address));
        // One flow per address and port, naming every endpoint it stands for.
        let mut wanted: BTreeMap<(Ipv4Addr, u16), Vec<&str>> = BTreeMap::new();
        for r in self.reaches.iter().filter(|r| in_vnet(r.address)) {
            for port in r.ports {
                wanted.entry((r.address, *port)).or_default().push(&r.label);
            }
        }
        wanted
            .into_iter()
            .map(|((address, port), labels)| {
                self.flow(
                    Direction::Outbound,
                    Endpoint::Ip(address),
                    Transport::Tcp,
                    port,
                    format!(
                        "{}: Azure ML compute reaches them privately",
                        labels.join(", ")
                    ),
                    aml.clone(),
                )
            })
            .collect()
    }

    /// One host as the profile's `When` conditions read it; a row applies to the subnet when
    /// it holds for one of its hosts.
    fn host_context(&self, m: &Machine, locked: bool) -> Context {
        let aml = matches!(
            m.compute,
            Some(ComputeKind::Cluster | ComputeKind::Instance)
        );
        Context {
            compute: true,
            aml_compute: aml,
            compute_instance: m.compute == Some(ComputeKind::Instance),
            public_ip_compute: aml && m.public_ip,
            // SSH sources are the spec's choice, not a requirement.
            ssh: false,
            attached: matches!(
                m.compute,
                Some(ComputeKind::AttachedVm | ComputeKind::AttachedHdInsight)
            ),
            hdinsight: m.hdinsight,
            databricks: m.databricks,
            databricks_public_ip: m.databricks && m.public_ip,
            locked,
            // Only guide-2021 has rows for it, and a template does not say.
            microsoft_images: false,
            forced_tunnel: self.intent.forced_tunnel,
        }
    }

    /// An explicit deny of the internet outbound, or an outbound allow-list of service tags (the
    /// intent of a lockdown, even when its deny is missing), in the subnet's NSG or a host's NIC
    /// NSG. Databricks' own rules are not an allow-list: Databricks writes them in every subnet
    /// it is injected into.
    fn locked(&self) -> bool {
        let databricks = self.hosts.iter().any(|m| m.databricks);
        let nics = self
            .hosts
            .iter()
            .filter_map(|m| m.nic_nsg.as_ref().and_then(|k| self.nsgs.get(k)));
        let rules: Vec<&nsg::Rule> = self
            .rules
            .unwrap_or_default()
            .iter()
            .chain(nics.flatten())
            .collect();
        let outbound = || rules.iter().filter(|r| r.direction == Direction::Outbound);
        let covers_internet = |p: &Prefix| match p {
            Prefix::Any => true,
            Prefix::Cidr(n) => n.prefix_len() == 0,
            Prefix::Tag(t) => t.eq_ignore_ascii_case("Internet"),
        };
        let deny = outbound().any(|r| {
            r.access == Access::Deny
                && r.destinations.iter().any(covers_internet)
                && r.ports.contains(&(0, u16::MAX))
        });
        let allow_list = !databricks
            && outbound().any(|r| {
                r.access == Access::Allow
                    && r.destinations.iter().all(|p| {
                        matches!(p, Prefix::Tag(t) if !t.eq_ignore_ascii_case("VirtualNetwork") && !t.eq_ignore_ascii_case("Internet"))
                    })
            });
        deny || allow_list
    }

    /// How outbound traffic with an `Internet` next hop leaves, for every host; `None` when some
    /// host has no way out.
    fn egress(&self) -> Option<String> {
        if self.subnet.nat_gateway {
            return Some("NAT gateway".into());
        }
        let default_access = self
            .subnet
            .default_outbound_access
            .unwrap_or_else(|| self.vnet.api_version.as_str() < PRIVATE_BY_DEFAULT);
        if default_access {
            return Some("default outbound access".into());
        }
        let public = !self.hosts.is_empty() && self.hosts.iter().all(|m| m.public_ip);
        public.then(|| "public IPs of the nodes".into())
    }

    /// The subnet's way out, in words: the appliance its default route goes to, and how the
    /// routes with an `Internet` next hop leave.
    fn egress_text(&self) -> String {
        let appliance = self.table.iter().find(|r| {
            matches!(&r.prefix, Prefix::Cidr(n) if n.prefix_len() == 0)
                && r.next_hop != NextHop::Internet
        });
        match (appliance, self.egress()) {
            (Some(r), Some(direct)) => format!(
                "forced tunnel to {}; routes to the internet leave through the {direct}",
                r.next_hop
            ),
            (Some(r), None) => format!("forced tunnel to {}", r.next_hop),
            (None, Some(direct)) => direct,
            (None, None) => "none".into(),
        }
    }

    /// A host address of the subnet (Azure reserves the first four).
    fn node(&self) -> Endpoint {
        Endpoint::Ip(nth(self.subnet.prefix.network(), 4))
    }

    /// An address in the VNet, in another subnet when there is one.
    fn vnet_peer(&self) -> Endpoint {
        let other = self
            .vnet
            .subnets
            .iter()
            .find(|s| s.key != self.subnet.key)
            .map(|s| nth(s.prefix.network(), 4));
        Endpoint::Ip(other.unwrap_or_else(|| nth(self.subnet.prefix.network(), 5)))
    }

    /// The far end of a row's flows; `None` for the spec's SSH sources (`ssh_flows`).
    fn peer(&self, peer: Peer) -> Option<Endpoint> {
        Some(match peer {
            Peer::AddressSpace => self.vnet_peer(),
            Peer::Tag(t) if t.eq_ignore_ascii_case("VirtualNetwork") => self.vnet_peer(),
            Peer::Tag(t) if REGIONAL_SERVICES.contains(&t) => {
                Endpoint::Tag(format!("{t}.{}", self.region))
            }
            Peer::Tag(t) => Endpoint::Tag(t.to_string()),
            Peer::Regional(t) => Endpoint::Tag(format!("{t}.{}", self.region)),
            Peer::SshSources => return None,
        })
    }

    /// SSH from each public source of `network.ssh.allow_from` that the subnet's NSG admits,
    /// to hosts with public IPs that accept SSH: it must reach them and its replies must go back the way they
    /// came. A private source is reached through peerings or gateways outside the template, an
    /// assumption `coverage` reports.
    fn ssh_flows(&self) -> Vec<Flow> {
        let hosts: Vec<&Machine> = self
            .hosts
            .iter()
            .copied()
            .filter(|m| m.public_ip && m.ssh)
            .collect();
        if hosts.is_empty() {
            return Vec::new();
        }
        self.intent
            .ssh_sources
            .iter()
            .filter(|net| !super::tags::not_internet().any(|n| n.contains(*net)))
            .map(|net| {
                let source = Endpoint::Ip(net.network());
                let packet = Packet {
                    direction: Direction::Inbound,
                    transport: Transport::Tcp,
                    source: source.clone(),
                    destination: self.node(),
                    port: 22,
                };
                (source, self.decide(&packet, &hosts))
            })
            .filter(|(_, decision)| decision.access == Access::Allow)
            .map(|(source, _)| {
                self.flow(
                    Direction::Inbound,
                    source,
                    Transport::Tcp,
                    22,
                    "network.ssh.allow_from: SSH from an administrator's source".into(),
                    hosts.clone(),
                )
            })
            .collect()
    }

    /// SSH sources in private ranges that the subnet's NSG admits: reached through peerings or
    /// gateways outside the template, an assumption.
    fn private_ssh_sources(&self) -> Vec<Finding> {
        self.intent
            .ssh_sources
            .iter()
            .filter(|net| super::tags::not_internet().any(|n| n.contains(*net)))
            .filter(|net| {
                let packet = Packet {
                    direction: Direction::Inbound,
                    transport: Transport::Tcp,
                    source: Endpoint::Ip(net.network()),
                    destination: self.node(),
                    port: 22,
                };
                self.decide(&packet, self.hosts).access == Access::Allow
            })
            .map(|net| {
                Finding::note(
                    Code::OutsideTemplate,
                    self.subnet_resource(),
                    format!("SSH from {net} (network.ssh.allow_from) reaches the subnet and gets its replies only through a peering or a VPN or ExpressRoute gateway outside the template"),
                )
                .in_subnet(&self.subnet.name)
            })
            .collect()
    }

    /// The finding of a required flow that fails.
    fn blocked(&self, flow: &Flow) -> Finding {
        let arrow = match flow.direction {
            Direction::Inbound => format!("{} -> subnet", flow.peer),
            Direction::Outbound => format!("subnet -> {}", flow.peer),
        };
        let resource = match flow.verdict {
            Verdict::Denied => match &flow.nsg.nic_nsg {
                Some(nic) => format!("Microsoft.Network/networkSecurityGroups/{nic}"),
                None => self.subnet.nsg.as_ref().map_or_else(
                    || self.subnet_resource(),
                    |k| format!("Microsoft.Network/networkSecurityGroups/{}", last(k)),
                ),
            },
            _ => self.subnet.route_table.as_ref().map_or_else(
                || self.subnet_resource(),
                |k| format!("Microsoft.Network/routeTables/{}", last(k)),
            ),
        };
        Finding::error(
            Code::RequiredFlow,
            resource,
            format!(
                "required flow {arrow} {}/{} ({}): {}",
                flow.protocol, flow.port, flow.reason, flow.detail
            ),
        )
        .in_subnet(&self.subnet.name)
    }

    /// What no flow shows: an appliance inside a compute subnet, a Databricks subnet without
    /// its delegation, a tunnelled subnet whose default route does not reach the appliance.
    fn structure(&self, compute_prefixes: &[Ipv4Net]) -> Vec<Finding> {
        let mut found = Vec::new();
        let table = self.subnet.route_table.as_ref().map_or_else(
            || self.subnet_resource(),
            |k| format!("Microsoft.Network/routeTables/{}", last(k)),
        );
        for route in self.table {
            let NextHop::VirtualAppliance(ip) = &route.next_hop else {
                continue;
            };
            let inside = ip
                .parse::<Ipv4Addr>()
                .ok()
                .and_then(|ip| compute_prefixes.iter().find(|p| p.contains(&ip)));
            if let Some(prefix) = inside {
                found.push(Finding::error(
                    Code::NextHopInCompute,
                    table.clone(),
                    format!("route {} sends traffic to {ip}, inside the compute subnet {prefix}: compute nodes would be the appliance", route.name),
                ));
            }
        }
        let databricks = self.hosts.iter().any(|m| m.databricks);
        if databricks && !is_databricks(self.subnet) {
            found.push(Finding::error(
                Code::DatabricksNotDelegated,
                self.subnet_resource(),
                "a Databricks workspace injects its nodes here, but the subnet is not delegated to Microsoft.Databricks/workspaces".into(),
            ));
        }
        let learned = self
            .subnet
            .route_table
            .as_ref()
            .is_some_and(|k| self.bgp_propagation.contains(k));
        if self.intent.forced_tunnel && learned {
            found.push(Finding::note(
                Code::OutsideTemplate,
                table.clone(),
                "BGP route propagation is on: routes a VPN or ExpressRoute gateway learns could take traffic around the appliance; verify sees only the template's routes".into(),
            ));
        }
        if self.intent.forced_tunnel && !self.tunnelled() {
            found.push(Finding::error(
                Code::TunnelBypassed,
                self.subnet_resource(),
                "under forced tunnelling, the subnet has no route sending 0.0.0.0/0 to the appliance: its traffic leaves without the firewall".into(),
            ));
        }
        found
            .into_iter()
            .map(|f| f.in_subnet(&self.subnet.name))
            .collect()
    }

    /// The flows one profile row requires of `hosts`: one per port entry.
    fn required(&self, row: &NsgRule, hosts: Vec<&Machine>) -> Vec<Flow> {
        let Some(peer) = self.peer(row.peer) else {
            return Vec::new();
        };
        let transport = if row.protocol == Protocol::Udp {
            Transport::Udp
        } else {
            Transport::Tcp
        };
        row.ports
            .iter()
            .filter_map(|p| nsg::port_range(p))
            // Any port: a flow to a private endpoint or a peer node is HTTPS.
            .map(|range| if range == (0, u16::MAX) { 443 } else { range.0 })
            .map(|port| {
                self.flow(
                    row.direction,
                    peer.clone(),
                    transport,
                    port,
                    format!("{}: {}", row.name, row.reason),
                    hosts.clone(),
                )
            })
            .collect()
    }

    fn flow(
        &self,
        direction: Direction,
        peer: Endpoint,
        transport: Transport,
        port: u16,
        reason: String,
        hosts: Vec<&Machine>,
    ) -> Flow {
        let (source, destination) = match direction {
            Direction::Inbound => (peer.clone(), self.node()),
            Direction::Outbound => (self.node(), peer.clone()),
        };
        let packet = Packet {
            direction,
            transport,
            source,
            destination,
            port,
        };
        let decision = self.decide(&packet, &hosts);
        let routes = routes::lookup(&self.routes, &peer, &self.sets);
        let (verdict, detail) = if decision.access == Access::Deny {
            (
                Verdict::Denied,
                format!("denied by {}", rule_text(&decision)),
            )
        } else {
            match direction {
                Direction::Outbound => self.outbound_fate(&routes, &hosts),
                Direction::Inbound => self.inbound_fate(&peer, &routes, &hosts),
            }
        };
        let ok = matches!(verdict, Verdict::Allowed | Verdict::ToAppliance);
        Flow {
            direction,
            peer,
            protocol: transport,
            port,
            reason,
            nsg: decision,
            routes,
            verdict,
            detail,
            ok,
        }
    }

    /// The decision of the subnet's NSG and of the hosts' NIC NSGs: a packet passes both (Azure
    /// checks the subnet's first inbound, the NIC's first outbound). The first deny decides;
    /// else the NIC's allow, which is the narrower.
    fn decide(&self, packet: &Packet, hosts: &[&Machine]) -> Decision {
        let subnet = nsg::decide(self.rules, packet, &self.sets);
        let nics = hosts.iter().filter_map(|m| m.nic_nsg.as_ref()).map(|key| {
            let rules = self.nsgs.get(key).map(Vec::as_slice).unwrap_or_default();
            Decision {
                nic_nsg: Some(key.rsplit('/').next().unwrap_or_default().to_string()),
                ..nsg::decide(Some(rules), packet, &self.sets)
            }
        });
        let mut all: Vec<Decision> = self
            .rules
            .map(|_| subnet.clone())
            .into_iter()
            .chain(nics)
            .collect();
        if let Some(deny) = all.iter().position(|d| d.access == Access::Deny) {
            return all.swap_remove(deny);
        }
        all.pop().unwrap_or(subnet)
    }

    /// The fate of an outbound flow the NSG allows: the worst over its routes.
    fn outbound_fate(&self, routes: &[Chosen], hosts: &[&Machine]) -> (Verdict, String) {
        let mut fate = (Verdict::Allowed, String::new());
        for chosen in routes {
            let this = match &chosen.next_hop {
                NextHop::Internet => match self.egress() {
                    Some(way) => (Verdict::Allowed, format!("leaves through the {way}")),
                    None => (
                        Verdict::Dropped,
                        format!(
                            "route {} sends it to the internet, but {} no public IP, the subnet has no NAT gateway and no default outbound access",
                            chosen.route,
                            lacking(hosts.iter().copied())
                        ),
                    ),
                },
                NextHop::VirtualAppliance(ip) => (
                    Verdict::ToAppliance,
                    format!("route {} sends it to the appliance {ip}", chosen.route),
                ),
                NextHop::None => (
                    Verdict::Dropped,
                    format!("route {} drops it (next hop None)", chosen.route),
                ),
                NextHop::VnetLocal => (Verdict::Allowed, "delivered in the VNet".into()),
                NextHop::VirtualNetworkGateway => (
                    Verdict::ToAppliance,
                    format!("route {} sends it to the VNet gateway", chosen.route),
                ),
            };
            if severity(this.0) > severity(fate.0) || fate.1.is_empty() {
                fate = this;
            }
        }
        fate
    }

    /// The fate of an inbound flow the NSG allows: the hosts must be reachable from the source,
    /// and the replies must go back the way the flow came.
    fn inbound_fate(
        &self,
        peer: &Endpoint,
        routes: &[Chosen],
        hosts: &[&Machine],
    ) -> (Verdict, String) {
        let in_vnet = self
            .sets
            .vnet
            .iter()
            .any(|n| matches!(peer, Endpoint::Ip(ip) if n.contains(ip)));
        if in_vnet {
            return (Verdict::Allowed, "delivered in the VNet".into());
        }
        if matches!(peer, Endpoint::Tag(t) if t.eq_ignore_ascii_case("AzureLoadBalancer")) {
            return (
                Verdict::Allowed,
                "Azure's probes come from 168.63.129.16 on the host, not through routes".into(),
            );
        }
        if hosts.is_empty() || hosts.iter().any(|m| !m.public_ip) {
            let who = if hosts.is_empty() {
                "no host of the subnet has".to_string()
            } else {
                lacking(hosts.iter().copied())
            };
            return (
                Verdict::Dropped,
                format!("{peer} cannot reach the subnet: {who} no public IP"),
            );
        }
        for chosen in routes {
            if chosen.next_hop != NextHop::Internet {
                return (
                    Verdict::Dropped,
                    format!(
                        "replies to {peer} take route {} to {}: asymmetric, they never reach {peer}",
                        chosen.route, chosen.next_hop
                    ),
                );
            }
        }
        (
            Verdict::Allowed,
            "reaches the public IPs; replies go back to the internet".into(),
        )
    }
}

/// `Rule (priority)`, with the NSG when it is a NIC's.
pub(crate) fn rule_text(d: &Decision) -> String {
    match &d.nic_nsg {
        Some(nsg) => format!("{} ({}) of NIC NSG {nsg}", d.rule, d.priority),
        None => format!("{} ({})", d.rule, d.priority),
    }
}

/// "cluster a and VM b have": the hosts without a public IP.
fn lacking<'m>(hosts: impl Iterator<Item = &'m Machine>) -> String {
    let mut names: Vec<&str> = Vec::new();
    for m in hosts.filter(|m| !m.public_ip) {
        if !names.contains(&m.label.as_str()) {
            names.push(&m.label);
        }
    }
    match names.len() {
        0 => "its hosts have".into(),
        1 => format!("{} has", names[0]),
        _ => format!("{} have", names.join(", ")),
    }
}

fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::Allowed => 0,
        Verdict::ToAppliance => 1,
        Verdict::Denied | Verdict::Dropped => 2,
    }
}

/// The last segment of a resource key: the resource's own name.
fn last(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or_default()
}

fn nth(network: Ipv4Addr, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(network).saturating_add(n))
}
