//! NSG rule evaluation as Azure does it: per direction, by priority, first match wins; the
//! default rules (65000-65500) after the template's own. [`decide`] judges one packet;
//! [`Ordered::decide_all`] judges every protocol and port between two addresses at once, as sets of
//! ports, which is what lets `coverage` account for every flow.

use serde::Serialize;

use super::tags::{Endpoint, Prefix, Sets};
use crate::profile::{Access, Direction};

/// A flow's protocol, as NSG rules name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Transport {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Ah,
}

impl Transport {
    /// Every protocol an NSG rule can name.
    pub(crate) const ALL: [Transport; 5] = [
        Transport::Tcp,
        Transport::Udp,
        Transport::Icmp,
        Transport::Esp,
        Transport::Ah,
    ];

    /// The ARM name of the protocol.
    fn arm_name(self) -> &'static str {
        match self {
            Transport::Tcp => "Tcp",
            Transport::Udp => "Udp",
            Transport::Icmp => "Icmp",
            Transport::Esp => "Esp",
            Transport::Ah => "Ah",
        }
    }

    /// TCP and UDP have ports; a rule with port ranges matches the others only when its ranges
    /// cover every port.
    pub(crate) fn has_ports(self) -> bool {
        matches!(self, Transport::Tcp | Transport::Udp)
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.arm_name().to_lowercase())
    }
}

/// A set of ports: sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Ports(Vec<(u16, u16)>);

impl Ports {
    /// Every port.
    pub(crate) fn all() -> Ports {
        Ports(vec![(0, u16::MAX)])
    }

    /// The union of `ranges`, in any order (a range whose start is past its end is empty).
    pub(crate) fn of(ranges: &[(u16, u16)]) -> Ports {
        let mut sorted: Vec<(u16, u16)> = ranges.iter().copied().filter(|(a, b)| a <= b).collect();
        sorted.sort_unstable();
        let mut out: Vec<(u16, u16)> = Vec::with_capacity(sorted.len());
        for (a, b) in sorted {
            match out.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        Ports(out)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn is_all(&self) -> bool {
        self.0 == [(0, u16::MAX)]
    }

    pub(crate) fn intersect(&self, other: &Ports) -> Ports {
        let mut out = Vec::new();
        for &(a, b) in &self.0 {
            for &(c, d) in &other.0 {
                let (lo, hi) = (a.max(c), b.min(d));
                if lo <= hi {
                    out.push((lo, hi));
                }
            }
        }
        Ports::of(&out)
    }

    pub(crate) fn minus(&self, other: &Ports) -> Ports {
        let mut out = self.0.clone();
        for &(c, d) in &other.0 {
            out = out
                .into_iter()
                .flat_map(|(a, b)| {
                    let below = (a < c).then(|| (a, b.min(c.saturating_sub(1))));
                    let above = (b > d).then(|| (a.max(d.saturating_add(1)), b));
                    below.into_iter().chain(above).filter(|(x, y)| x <= y)
                })
                .collect();
        }
        Ports::of(&out)
    }

    pub(crate) fn union(&self, other: &Ports) -> Ports {
        Ports::of(&[self.0.as_slice(), other.0.as_slice()].concat())
    }
}

impl std::fmt::Display for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_all() {
            return f.write_str("*");
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// The ports of one protocol that one rule decides between two addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment<'r> {
    pub(crate) transport: Transport,
    /// For a protocol without ports, every port: the segment is the whole protocol.
    pub(crate) ports: Ports,
    /// The rule that decides; `None` when there is no NSG (everything is allowed).
    pub(crate) rule: Option<&'r Rule>,
    /// The rule is one of Azure's defaults.
    pub(crate) default: bool,
    /// The NSG the rule is in, when it is a NIC's.
    pub(crate) nic_nsg: Option<&'r str>,
}

impl Segment<'_> {
    pub(crate) fn access(&self) -> Access {
        self.rule.map_or(Access::Allow, |r| r.access)
    }

    /// The decision, as reports name it.
    pub(crate) fn decision(&self) -> Decision {
        let decision = self.rule.map_or_else(no_nsg, |r| r.decision(self.default));
        Decision {
            nic_nsg: self.nic_nsg.map(str::to_string),
            ..decision
        }
    }
}

/// One security rule, read from a template or one of Azure's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) name: String,
    pub(crate) priority: u32,
    pub(crate) direction: Direction,
    pub(crate) access: Access,
    /// `None` is `*`; else the ARM protocol name, compared without case.
    pub(crate) protocol: Option<String>,
    pub(crate) sources: Vec<Prefix>,
    pub(crate) destinations: Vec<Prefix>,
    /// Destination port ranges, inclusive.
    pub(crate) ports: Vec<(u16, u16)>,
    /// Source port ranges, inclusive; empty for any.
    pub(crate) source_ports: Vec<(u16, u16)>,
}

/// The source port of a flow's first packet: an ephemeral port, in both the IANA range
/// (49152-65535) and Linux's (32768-60999).
const EPHEMERAL_PORT: u16 = 50000;

/// A flow as an NSG sees it: the source and destination of the first packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Packet {
    pub(crate) direction: Direction,
    pub(crate) transport: Transport,
    pub(crate) source: Endpoint,
    pub(crate) destination: Endpoint,
    pub(crate) port: u16,
}

/// The rule that decided a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Decision {
    /// The NSG the rule is in, when it is a NIC's rather than the subnet's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nic_nsg: Option<String>,
    pub(crate) rule: String,
    pub(crate) priority: u32,
    #[serde(serialize_with = "access_name")]
    pub(crate) access: Access,
    /// One of Azure's default rules, not the template's.
    pub(crate) default: bool,
}

fn access_name<S: serde::Serializer>(access: &Access, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(access.arm_name())
}

/// Parses a port range: `*`, `443` or `29876-29877`. `None` when it is neither.
pub(crate) fn port_range(text: &str) -> Option<(u16, u16)> {
    let text = text.trim();
    if text == "*" {
        return Some((0, u16::MAX));
    }
    match text.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => text.parse().ok().map(|p| (p, p)),
    }
}

/// Azure's default rules of `direction`, which no template can remove.
fn defaults(direction: Direction) -> &'static [Rule] {
    static DEFAULTS: std::sync::LazyLock<[Vec<Rule>; 2]> = std::sync::LazyLock::new(|| {
        [
            default_rules(Direction::Inbound),
            default_rules(Direction::Outbound),
        ]
    });
    match direction {
        Direction::Inbound => &DEFAULTS[0],
        Direction::Outbound => &DEFAULTS[1],
    }
}

fn default_rules(direction: Direction) -> Vec<Rule> {
    let rule = |name: &str, priority, access, source: &str, destination: &str| Rule {
        name: name.to_string(),
        priority,
        direction,
        access,
        protocol: None,
        sources: vec![Prefix::parse(source)],
        destinations: vec![Prefix::parse(destination)],
        ports: vec![(0, u16::MAX)],
        source_ports: Vec::new(),
    };
    match direction {
        Direction::Inbound => vec![
            rule(
                "AllowVnetInBound",
                65000,
                Access::Allow,
                "VirtualNetwork",
                "VirtualNetwork",
            ),
            rule(
                "AllowAzureLoadBalancerInBound",
                65001,
                Access::Allow,
                "AzureLoadBalancer",
                "*",
            ),
            rule("DenyAllInBound", 65500, Access::Deny, "*", "*"),
        ],
        Direction::Outbound => vec![
            rule(
                "AllowVnetOutBound",
                65000,
                Access::Allow,
                "VirtualNetwork",
                "VirtualNetwork",
            ),
            rule(
                "AllowInternetOutBound",
                65001,
                Access::Allow,
                "*",
                "Internet",
            ),
            rule("DenyAllOutBound", 65500, Access::Deny, "*", "*"),
        ],
    }
}

impl Rule {
    fn matches(&self, packet: &Packet, sets: &Sets<'_>) -> bool {
        self.direction == packet.direction
            && self.matches_addresses(&packet.source, &packet.destination, sets)
            && self.protocol_matches(packet.transport)
            && !self
                .ports_of(packet.transport)
                .intersect(&Ports::of(&[(packet.port, packet.port)]))
                .is_empty()
    }

    /// Both sides match, and the flow's ephemeral source port is among the source ports.
    fn matches_addresses(
        &self,
        source: &Endpoint,
        destination: &Endpoint,
        sets: &Sets<'_>,
    ) -> bool {
        self.matches_sides(source, destination, sets)
            && (self.source_ports.is_empty()
                || self
                    .source_ports
                    .iter()
                    .any(|(a, b)| (*a..=*b).contains(&EPHEMERAL_PORT)))
    }

    fn matches_sides(&self, source: &Endpoint, destination: &Endpoint, sets: &Sets<'_>) -> bool {
        self.sources.iter().any(|p| sets.contains(p, source))
            && self
                .destinations
                .iter()
                .any(|p| sets.contains(p, destination))
    }

    fn protocol_matches(&self, transport: Transport) -> bool {
        self.protocol
            .as_deref()
            .is_none_or(|p| p == "*" || p.eq_ignore_ascii_case(transport.arm_name()))
    }

    /// The destination ports of `transport` the rule covers: for a protocol without ports,
    /// all of them when the rule names every port, else none.
    fn ports_of(&self, transport: Transport) -> Ports {
        let ports = Ports::of(&self.ports);
        if transport.has_ports() || ports.is_all() {
            ports
        } else {
            Ports::default()
        }
    }

    fn decision(&self, default: bool) -> Decision {
        Decision {
            nic_nsg: None,
            rule: self.name.clone(),
            priority: self.priority,
            access: self.access,
            default,
        }
    }
}

/// What an NSG with `rules` does when there is none: allows everything.
fn no_nsg() -> Decision {
    Decision {
        nic_nsg: None,
        rule: "no NSG".into(),
        priority: 0,
        access: Access::Allow,
        default: true,
    }
}

/// One NSG's rules of one direction, in priority order with Azure's defaults after them, each
/// with the ports it covers per kind of protocol, for deciding every flow at once.
///
/// Where a rule could match some flows of a class and not others, it is read the way that lets
/// more through: an allow limited to some source ports (or an ICMP, ESP or AH allow that names
/// ports, which Azure documents nowhere) is taken as matching every flow, and such a deny as
/// matching none. A flow chooses its own source port, so the proof must not rely on it.
#[derive(Debug)]
pub(crate) struct Ordered<'r> {
    /// `None`: no NSG, everything is allowed.
    rules: Option<Vec<OrderedRule<'r>>>,
}

#[derive(Debug)]
struct OrderedRule<'r> {
    rule: &'r Rule,
    default: bool,
    /// The ports of TCP and UDP it matches.
    ports: Ports,
    /// It matches ICMP, ESP and AH.
    portless: bool,
}

impl<'r> Ordered<'r> {
    /// The rules of `direction` of an NSG with `rules` (`None`: no NSG).
    pub(crate) fn new(rules: Option<&'r [Rule]>, direction: Direction) -> Ordered<'r> {
        let rules = rules.map(|rules| {
            let mut own: Vec<&Rule> = rules.iter().filter(|r| r.direction == direction).collect();
            own.sort_by_key(|r| r.priority);
            let own = own.into_iter().map(|r| (r, false));
            let defaults = defaults(direction).iter().map(|r| (r, true));
            own.chain(defaults)
                .filter_map(|(rule, default)| {
                    let allow = rule.access == Access::Allow;
                    let any_source =
                        rule.source_ports.is_empty() || Ports::of(&rule.source_ports).is_all();
                    if !any_source && !allow {
                        return None;
                    }
                    let ports = Ports::of(&rule.ports);
                    let portless = allow || ports.is_all();
                    Some(OrderedRule {
                        rule,
                        default,
                        ports,
                        portless,
                    })
                })
                .collect()
        });
        Ordered { rules }
    }

    /// How the rules decide every flow from `source` to `destination`: for each protocol, the
    /// ports each rule decides, in priority order. The segments of one protocol partition its
    /// ports.
    pub(crate) fn decide_all(
        &self,
        source: &Endpoint,
        destination: &Endpoint,
        sets: &Sets<'_>,
    ) -> Vec<Segment<'r>> {
        let Some(rules) = &self.rules else {
            return Transport::ALL
                .into_iter()
                .map(|transport| Segment {
                    transport,
                    ports: Ports::all(),
                    rule: None,
                    default: true,
                    nic_nsg: None,
                })
                .collect();
        };
        let mut remaining: Vec<(Transport, Ports)> = Transport::ALL
            .into_iter()
            .map(|t| (t, Ports::all()))
            .collect();
        let mut out = Vec::new();
        for ordered in rules {
            if remaining.iter().all(|(_, p)| p.is_empty()) {
                break;
            }
            let rule = ordered.rule;
            if !rule.matches_sides(source, destination, sets) {
                continue;
            }
            for (transport, left) in &mut remaining {
                if left.is_empty() || !rule.protocol_matches(*transport) {
                    continue;
                }
                let taken = match (transport.has_ports(), ordered.portless) {
                    (true, _) => left.intersect(&ordered.ports),
                    (false, true) => std::mem::take(left),
                    (false, false) => continue,
                };
                if taken.is_empty() {
                    continue;
                }
                *left = left.minus(&taken);
                out.push(Segment {
                    transport: *transport,
                    ports: taken,
                    rule: Some(rule),
                    default: ordered.default,
                    nic_nsg: None,
                });
            }
        }
        out
    }
}

/// The rule of `rules` (then the defaults) that decides `packet`. With no NSG (`rules` is
/// `None`) everything is allowed.
pub(crate) fn decide(rules: Option<&[Rule]>, packet: &Packet, sets: &Sets<'_>) -> Decision {
    let Some(rules) = rules else {
        return no_nsg();
    };
    let mut own: Vec<&Rule> = rules.iter().collect();
    own.sort_by_key(|r| r.priority);
    let defaults = defaults(packet.direction);
    let chosen = own
        .into_iter()
        .map(|r| (r, false))
        .chain(defaults.iter().map(|r| (r, true)))
        .find(|(r, _)| r.matches(packet, sets));
    let (rule, default) = chosen.expect("DenyAll matches every packet");
    rule.decision(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets() -> Sets<'static> {
        Sets {
            vnet: vec!["10.0.0.0/16".parse().unwrap()],
            route_prefixes: vec![],
            service_tags: None,
            others: Vec::new(),
        }
    }

    fn rule(name: &str, priority: u32, access: Access, destination: &str, port: &str) -> Rule {
        Rule {
            name: name.into(),
            priority,
            direction: Direction::Outbound,
            access,
            protocol: Some("Tcp".into()),
            sources: vec![Prefix::Any],
            destinations: vec![Prefix::parse(destination)],
            ports: vec![port_range(port).unwrap()],
            source_ports: Vec::new(),
        }
    }

    fn to(tag: &str, port: u16) -> Packet {
        Packet {
            direction: Direction::Outbound,
            transport: Transport::Tcp,
            source: Endpoint::Ip("10.0.0.4".parse().unwrap()),
            destination: Endpoint::Tag(tag.into()),
            port,
        }
    }

    #[test]
    fn the_lowest_priority_number_that_matches_wins() {
        let rules = [
            rule("DenyInternet", 4096, Access::Deny, "Internet", "*"),
            rule("AllowStorage", 100, Access::Allow, "Storage", "443"),
        ];
        let d = decide(Some(&rules), &to("Storage.eastus2", 443), &sets());
        assert_eq!((d.rule.as_str(), d.access), ("AllowStorage", Access::Allow));
        let d = decide(Some(&rules), &to("Storage.eastus2", 80), &sets());
        assert_eq!((d.rule.as_str(), d.priority), ("DenyInternet", 4096));
    }

    #[test]
    fn without_a_deny_the_default_internet_rule_allows() {
        let d = decide(Some(&[]), &to("AzureCloud", 22), &sets());
        assert_eq!(
            (d.rule.as_str(), d.default),
            ("AllowInternetOutBound", true)
        );
    }

    #[test]
    fn a_rule_for_a_fixed_source_port_misses_flows_from_ephemeral_ports() {
        let mut allow = rule("AllowFromPort443", 100, Access::Allow, "Storage", "443");
        allow.source_ports = vec![(443, 443)];
        let d = decide(Some(&[allow]), &to("Storage.eastus2", 443), &sets());
        assert_eq!(d.rule, "AllowInternetOutBound");
    }

    #[test]
    fn every_port_of_every_protocol_is_decided_once_in_priority_order() {
        let rules = [
            rule("DenyInternet", 4096, Access::Deny, "Internet", "*"),
            rule("AllowStorage", 100, Access::Allow, "Storage", "443-445"),
        ];
        let source = Endpoint::Ip("10.0.0.4".parse().unwrap());
        let segments = Ordered::new(Some(&rules), Direction::Outbound).decide_all(
            &source,
            &Endpoint::Tag("Storage.eastus2".into()),
            &sets(),
        );
        let text: Vec<String> = segments
            .iter()
            .map(|s| format!("{} {} {}", s.transport, s.ports, s.decision().rule))
            .collect();
        assert_eq!(
            text,
            [
                "tcp 443-445 AllowStorage",
                "tcp 0-442,446-65535 DenyInternet",
                // The deny is a TCP rule: every other protocol falls to Azure's default allow.
                "udp * AllowInternetOutBound",
                "icmp * AllowInternetOutBound",
                "esp * AllowInternetOutBound",
                "ah * AllowInternetOutBound",
            ]
        );
    }

    #[test]
    fn port_sets_subtract_and_merge() {
        let all = Ports::all();
        let web = Ports::of(&[(443, 443), (80, 80), (444, 450)]);
        assert_eq!(web.to_string(), "80,443-450");
        assert_eq!(all.minus(&web).to_string(), "0-79,81-442,451-65535");
        assert_eq!(all.minus(&web).union(&web), all);
        assert!(web.minus(&all).is_empty());
        assert_eq!(web.intersect(&Ports::of(&[(0, 443)])).to_string(), "80,443");
    }

    #[test]
    fn port_ranges() {
        assert_eq!(port_range("29876-29877"), Some((29876, 29877)));
        assert_eq!(port_range("*"), Some((0, 65535)));
        assert_eq!(port_range("x"), None);
    }
}
