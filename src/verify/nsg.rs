//! NSG rule evaluation as Azure does it: per direction, by priority, first match wins; the
//! default rules (65000-65500) after the template's own.

use serde::Serialize;

use super::tags::{Endpoint, Prefix, Sets};
use crate::profile::{Access, Direction};

/// A flow's transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Transport {
    Tcp,
    Udp,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        })
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

/// Azure's default rules, which no template can remove.
fn defaults(direction: Direction) -> Vec<Rule> {
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
        let protocol = match packet.transport {
            Transport::Tcp => "Tcp",
            Transport::Udp => "Udp",
        };
        self.direction == packet.direction
            && self
                .protocol
                .as_deref()
                .is_none_or(|p| p == "*" || p.eq_ignore_ascii_case(protocol))
            && self
                .sources
                .iter()
                .any(|p| sets.contains(p, &packet.source))
            && self
                .destinations
                .iter()
                .any(|p| sets.contains(p, &packet.destination))
            && self
                .ports
                .iter()
                .any(|(a, b)| (*a..=*b).contains(&packet.port))
            && (self.source_ports.is_empty()
                || self
                    .source_ports
                    .iter()
                    .any(|(a, b)| (*a..=*b).contains(&EPHEMERAL_PORT)))
    }
}

/// The rule of `rules` (then the defaults) that decides `packet`. With no NSG (`rules` is
/// `None`) everything is allowed.
pub(crate) fn decide(rules: Option<&[Rule]>, packet: &Packet, sets: &Sets<'_>) -> Decision {
    let Some(rules) = rules else {
        return Decision {
            nic_nsg: None,
            rule: "no NSG".into(),
            priority: 0,
            access: Access::Allow,
            default: true,
        };
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
    Decision {
        nic_nsg: None,
        rule: rule.name.clone(),
        priority: rule.priority,
        access: rule.access,
        default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets() -> Sets<'static> {
        Sets {
            vnet: vec!["10.0.0.0/16".parse().unwrap()],
            route_prefixes: vec![],
            service_tags: None,
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
    fn port_ranges() {
        assert_eq!(port_range("29876-29877"), Some((29876, 29877)));
        assert_eq!(port_range("*"), Some((0, 65535)));
        assert_eq!(port_range("x"), None);
    }
}
