//! Addresses as Azure's NSGs and routes see them: CIDRs, `*`, and service tags as named sets.
//!
//! A flow's far end is an [`Endpoint`]: one IPv4 address, or "an address of service tag T" when
//! the flow is to a service. A rule or route side is a [`Prefix`]. Containment follows Azure's
//! definitions: a regional tag (`Storage.eastus2`) is within its global tag (`Storage`); every
//! public service tag is within `Internet`; `VirtualNetwork` is the VNet's address space plus the
//! prefixes of the routes on the subnet's route table (Microsoft: "address prefixes used on
//! user-defined routes"), so a `0.0.0.0/0` route puts every address in it. Which addresses a
//! service tag holds is only known from a service-tags file; without one a tag is within no CIDR
//! but `0.0.0.0/0`.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Serialize;

use crate::azure::service_tags::ServiceTags;

/// An address prefix of an NSG rule side or a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prefix {
    Any,
    Cidr(Ipv4Net),
    Tag(String),
}

impl Prefix {
    /// Reads an ARM address prefix: `*`, a CIDR or address, or a service tag.
    pub(crate) fn parse(text: &str) -> Prefix {
        let text = text.trim();
        if text == "*" || text.eq_ignore_ascii_case("Any") {
            return Prefix::Any;
        }
        if let Ok(net) = text.parse::<Ipv4Net>() {
            return Prefix::Cidr(net.trunc());
        }
        if let Ok(ip) = text.parse::<Ipv4Addr>() {
            return Prefix::Cidr(Ipv4Net::from(ip));
        }
        Prefix::Tag(text.to_string())
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Prefix::Any => f.write_str("*"),
            Prefix::Cidr(net) => write!(f, "{net}"),
            Prefix::Tag(tag) => f.write_str(tag),
        }
    }
}

/// The far (or near) end of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum Endpoint {
    Ip(Ipv4Addr),
    /// Some address of this service tag, and of no narrower tag.
    Tag(String),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Ip(ip) => write!(f, "{ip}"),
            Endpoint::Tag(tag) => f.write_str(tag),
        }
    }
}

/// Tags that are not public address space, hence not within `Internet`.
const NOT_PUBLIC: &[&str] = &["VirtualNetwork", "AzureLoadBalancer", "GatewayManager"];

/// The address ranges that are not the internet: private, shared, loopback, link-local.
const NOT_INTERNET: [Ipv4Net; 7] = [
    Ipv4Net::new_assert(Ipv4Addr::new(0, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10),
    Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16),
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
];

/// The address ranges that are not the internet.
pub(crate) fn not_internet() -> impl Iterator<Item = Ipv4Net> {
    NOT_INTERNET.into_iter()
}

/// Whether `text` names a service tag whose addresses are a service's, not a pseudo-tag that
/// stands for the VNet, the internet, the load balancer or anything.
pub(crate) fn is_service_tag(text: &str) -> bool {
    ![
        "VirtualNetwork",
        "Internet",
        "AzureLoadBalancer",
        "*",
        "Any",
    ]
    .iter()
    .any(|t| t.eq_ignore_ascii_case(text))
}

/// The address sets of one subnet.
#[derive(Debug, Clone)]
pub(crate) struct Sets<'a> {
    /// The VNet's address space.
    pub(crate) vnet: Vec<Ipv4Net>,
    /// The prefixes of the routes on the subnet's route table: part of `VirtualNetwork`.
    pub(crate) route_prefixes: Vec<Prefix>,
    pub(crate) service_tags: Option<&'a ServiceTags>,
    /// Prefixes the template's intent gives to something that is no service (the spec's SSH
    /// sources): no service tag's addresses are assumed to lie in them.
    pub(crate) others: Vec<Ipv4Net>,
}

impl Sets<'_> {
    /// Whether every address `endpoint` may stand for is within `prefix`.
    pub(crate) fn contains(&self, prefix: &Prefix, endpoint: &Endpoint) -> bool {
        match prefix {
            Prefix::Any => true,
            Prefix::Cidr(net) => self.cidr_contains(net, endpoint),
            Prefix::Tag(tag) => self.tag_contains(tag, endpoint),
        }
    }

    fn cidr_contains(&self, net: &Ipv4Net, endpoint: &Endpoint) -> bool {
        match endpoint {
            Endpoint::Ip(ip) => net.contains(ip),
            Endpoint::Tag(tag) => {
                net.prefix_len() == 0
                    || self
                        .tag_prefixes(tag)
                        .is_some_and(|ps| !ps.is_empty() && ps.iter().all(|p| net.contains(p)))
            }
        }
    }

    /// Whether every address `endpoint` may stand for is within the service tag `tag`.
    pub(crate) fn tag_contains(&self, tag: &str, endpoint: &Endpoint) -> bool {
        if tag.eq_ignore_ascii_case("VirtualNetwork") {
            return self.virtual_network_contains(endpoint);
        }
        match endpoint {
            Endpoint::Ip(ip) => {
                if tag.eq_ignore_ascii_case("Internet") {
                    is_internet(ip) && !self.vnet.iter().any(|n| n.contains(ip))
                } else if tag.eq_ignore_ascii_case("AzureLoadBalancer") {
                    *ip == Ipv4Addr::new(168, 63, 129, 16)
                } else {
                    self.known_prefixes(tag).iter().any(|p| p.contains(ip))
                }
            }
            Endpoint::Tag(member) => tag_within(member, tag),
        }
    }

    fn virtual_network_contains(&self, endpoint: &Endpoint) -> bool {
        let in_space = match endpoint {
            Endpoint::Ip(ip) => self.vnet.iter().any(|n| n.contains(ip)),
            Endpoint::Tag(tag) => tag.eq_ignore_ascii_case("VirtualNetwork"),
        };
        in_space
            || self
                .route_prefixes
                .iter()
                .filter(
                    |p| !matches!(p, Prefix::Tag(t) if t.eq_ignore_ascii_case("VirtualNetwork")),
                )
                .any(|p| self.contains(p, endpoint))
    }

    /// Whether addresses of `tag`, whose prefixes are unknown, may lie in `net`: it is public
    /// space outside the VNet, none of the intent's other prefixes, and no prefix the
    /// service-tags file gives an unrelated tag (service tags of different services are taken
    /// to be disjoint).
    pub(crate) fn may_hold(&self, tag: &str, net: &Ipv4Net) -> bool {
        let private = NOT_INTERNET.iter().any(|n| n.contains(net))
            || self.vnet.iter().any(|v| v.contains(net));
        let other = self.others.iter().any(|o| o.contains(net));
        let owned = self.service_tags.is_some_and(|file| {
            file.owners(net)
                .any(|owner| !tag_within(tag, &owner) && !tag_within(&owner, tag))
        });
        !private && !other && !owned
    }

    /// The IPv4 prefixes the service-tags file gives `tag`: a regional tag's own, a global
    /// tag's in every region the file holds.
    pub(crate) fn known_prefixes(&self, tag: &str) -> Vec<Ipv4Net> {
        match (tag.contains('.'), self.service_tags) {
            (true, _) => self.tag_prefixes(tag).unwrap_or_default(),
            (false, Some(file)) => file.service_prefixes(tag).copied().collect(),
            (false, None) => Vec::new(),
        }
    }

    /// The IPv4 prefixes of a regional tag (`Service.region`) in the service-tags file.
    pub(crate) fn tag_prefixes(&self, tag: &str) -> Option<Vec<Ipv4Net>> {
        let (service, region) = tag.split_once('.')?;
        let prefixes = self.service_tags?.prefixes(service, region)?;
        Some(prefixes.iter().copied().collect())
    }
}

/// Whether `member` (a tag) is within `tag`: the same tag, its regional part, `Internet` for
/// every public tag, and `AzureCloud` (Azure's public address space, Microsoft: "all datacenter
/// public IP addresses") for every public tag but `Internet`, a regional `AzureCloud.<region>`
/// for the tags of that region.
pub(crate) fn tag_within(member: &str, tag: &str) -> bool {
    let public = !NOT_PUBLIC.iter().any(|t| t.eq_ignore_ascii_case(member));
    let azure = public
        && !member.eq_ignore_ascii_case("internet")
        && strip_prefix_ignore_case(member, "azurecloud.").is_none();
    member.eq_ignore_ascii_case(tag)
        || strip_prefix_ignore_case(member, tag).is_some_and(|r| r.starts_with('.'))
        || (tag.eq_ignore_ascii_case("internet") && public)
        || (tag.eq_ignore_ascii_case("azurecloud") && azure)
        || strip_prefix_ignore_case(tag, "azurecloud.").is_some_and(|region| {
            azure
                && member
                    .rsplit_once('.')
                    .is_some_and(|(_, r)| r.eq_ignore_ascii_case(region))
        })
}

/// `text` without `prefix`, compared without ASCII case.
fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn is_internet(ip: &Ipv4Addr) -> bool {
    !NOT_INTERNET.iter().any(|n| n.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(route_prefixes: &[&str]) -> Sets<'static> {
        Sets {
            vnet: vec!["10.60.0.0/20".parse().unwrap()],
            route_prefixes: route_prefixes.iter().map(|p| Prefix::parse(p)).collect(),
            service_tags: None,
            others: Vec::new(),
        }
    }

    fn tag(t: &str) -> Endpoint {
        Endpoint::Tag(t.into())
    }

    #[test]
    fn regional_tags_are_within_their_tag_and_public_tags_within_internet() {
        let s = sets(&[]);
        assert!(s.contains(&Prefix::parse("Storage"), &tag("Storage.eastus2")));
        assert!(!s.contains(&Prefix::parse("Storage.westus2"), &tag("Storage.eastus2")));
        assert!(!s.contains(&Prefix::parse("Storage"), &tag("StorageSyncService")));
        assert!(s.contains(&Prefix::parse("Internet"), &tag("AzureMachineLearning")));
        assert!(!s.contains(&Prefix::parse("Internet"), &tag("VirtualNetwork")));
        assert!(!s.contains(&Prefix::parse("10.0.0.0/8"), &tag("Storage")));
        assert!(s.contains(&Prefix::parse("AzureCloud"), &tag("Storage")));
        assert!(s.contains(
            &Prefix::parse("AzureCloud.eastus2"),
            &tag("Storage.eastus2")
        ));
        assert!(!s.contains(&Prefix::parse("AzureCloud.eastus2"), &tag("Storage")));
        assert!(!s.contains(&Prefix::parse("AzureCloud"), &tag("VirtualNetwork")));
        assert!(s.contains(&Prefix::parse("0.0.0.0/0"), &tag("Storage")));
    }

    #[test]
    fn virtual_network_is_the_address_space_plus_the_route_prefixes() {
        let internet = Endpoint::Ip("203.0.113.10".parse().unwrap());
        let vnet = Prefix::parse("VirtualNetwork");
        assert!(sets(&[]).contains(&vnet, &Endpoint::Ip("10.60.1.4".parse().unwrap())));
        assert!(!sets(&[]).contains(&vnet, &internet));
        assert!(sets(&["0.0.0.0/0"]).contains(&vnet, &internet));
        assert!(
            sets(&["AzureMachineLearning"]).contains(&vnet, &tag("AzureMachineLearning.westus2"))
        );
        assert!(sets(&[]).contains(&Prefix::parse("Internet"), &internet));
        assert!(!sets(&[]).contains(
            &Prefix::parse("Internet"),
            &Endpoint::Ip("10.60.0.4".parse().unwrap())
        ));
    }
}
