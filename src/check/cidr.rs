//! Address plans: prefixes without host bits, an address space free of the ranges Azure keeps,
//! subnets of at least /29 inside the VNet and apart from each other, subnet names unique
//! without regard to case, and enough addresses in each subnet for the computes placed in it.

use ipnet::Ipv4Net;

use crate::azure::private_link::Target;

use super::{compute_pointer, duplicate_names, subnet_pointer};
use crate::diag::{Code, Diagnostic, Label};
use crate::spec::{Compute, Spec};

/// Addresses Azure keeps in every subnet: network, gateway, two for DNS, broadcast.
pub(crate) const AZURE_RESERVED: u64 = 5;

/// Azure's smallest subnet (Azure Virtual Network FAQ).
const SMALLEST_SUBNET: u8 = 29;

/// Ranges no VNet may use, with what they are (Azure Virtual Network FAQ, "What address ranges
/// can I use in my virtual networks?"). `0.0.0.0/0` and other wide ranges include them.
const NOT_FOR_VNETS: [(&str, &str); 5] = [
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    (
        "168.63.129.16/32",
        "Azure's internal DNS, DHCP and health-probe address",
    ),
];

pub(super) fn check(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let space = parsed(
        spec.network
            .vnet
            .address_space
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("/network/vnet/address_space/{i}"), c.as_str())),
        &mut found,
    );
    found.extend(space.iter().filter_map(|(at, net)| reserved(at, *net)));
    overlaps(&space, "address space range", &mut found);
    let subnets = parsed(
        spec.network.subnets.iter().enumerate().map(|(i, s)| {
            (
                format!("{}/address_prefix", subnet_pointer(i)),
                s.address_prefix.as_str(),
            )
        }),
        &mut found,
    );
    for (at, net) in &subnets {
        if !space.iter().any(|(_, range)| range.contains(net)) {
            found.push(
                Diagnostic::error(
                    Code::CidrOutsideVnet,
                    format!("subnet prefix {net} is outside the VNet's address space"),
                    Label::value(at.clone(), "not inside any address_space range"),
                )
                .with_label(Label::value(
                    "/network/vnet/address_space",
                    "the VNet's address space",
                ))
                .with_help("widen `network.vnet.address_space` or move the subnet into it"),
            );
        }
    }
    overlaps(&subnets, "subnet", &mut found);
    found.extend(
        subnets
            .iter()
            .filter(|(_, net)| net.prefix_len() > SMALLEST_SUBNET)
            .map(|(at, net)| below_smallest(at, *net)),
    );
    parsed(
        spec.network
            .ssh
            .allow_from
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("/network/ssh/allow_from/{i}"), c.as_str())),
        &mut found,
    );
    found.extend(duplicate_names(
        "subnets",
        spec.network
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{}/name", subnet_pointer(i)), s.name.as_str())),
        "subnet names are unique within a VNet",
    ));
    found.extend(capacity(spec));
    found
}

/// Parses each CIDR, reporting host bits; returns the networks that parsed.
fn parsed<'a>(
    cidrs: impl Iterator<Item = (String, &'a str)>,
    found: &mut Vec<Diagnostic>,
) -> Vec<(String, Ipv4Net)> {
    let mut nets = Vec::new();
    for (at, text) in cidrs {
        // The schema's pattern guarantees the syntax; only host bits remain to check.
        let Ok(net) = text.parse::<Ipv4Net>() else {
            continue;
        };
        if net.trunc() != net {
            found.push(
                Diagnostic::error(
                    Code::CidrHostBits,
                    format!("{text} has host bits set"),
                    Label::value(at.clone(), "host bits set"),
                )
                .with_help(format!("write the network address: {}", net.trunc())),
            );
        }
        nets.push((at, net.trunc()));
    }
    nets
}

/// An address-space range that holds or lies in addresses Azure does not allow in a VNet.
fn reserved(at: &str, net: Ipv4Net) -> Option<Diagnostic> {
    let (range, what) = NOT_FOR_VNETS
        .iter()
        .filter_map(|(range, what)| Some((range.parse::<Ipv4Net>().ok()?, *what)))
        .find(|(range, _)| net.contains(range) || range.contains(&net))?;
    let relation = if net.contains(&range) {
        "includes"
    } else {
        "lies in"
    };
    Some(
        Diagnostic::error(
            Code::CidrReserved,
            format!("address space {net} {relation} {range} ({what}), which Azure does not allow in a virtual network"),
            Label::value(at, format!("{relation} {range}")),
        )
        .with_help("use a private range (RFC 1918) such as 10.0.0.0/16, 172.16.0.0/16 or 192.168.0.0/16"),
    )
}

fn below_smallest(at: &str, net: Ipv4Net) -> Diagnostic {
    Diagnostic::error(
        Code::SubnetTooSmall,
        format!(
            "subnet prefix {net} is smaller than Azure's smallest subnet, a /{SMALLEST_SUBNET}"
        ),
        Label::value(at, format!("/{} is too small", net.prefix_len())),
    )
    .with_help(format!(
        "use a /{SMALLEST_SUBNET} or larger (Azure keeps {AZURE_RESERVED} addresses of every subnet)"
    ))
}

/// Reports overlapping ranges, each pair on the range written later, naming the other; every
/// range that overlaps another is in a pair. Two CIDR ranges overlap only when one holds the
/// other, so one pass over the ranges in address order (widest first at equal addresses)
/// compares each with the widest-reaching range seen so far: O(n log n), where comparing all
/// pairs took 40 s for 100,000 ranges.
fn overlaps(nets: &[(String, Ipv4Net)], what: &str, found: &mut Vec<Diagnostic>) {
    let mut order: Vec<usize> = (0..nets.len()).collect();
    order.sort_by_key(|&i| (nets[i].1.network(), nets[i].1.prefix_len(), i));
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut reach: Option<usize> = None;
    for i in order {
        match reach {
            Some(r) if nets[r].1.contains(&nets[i].1) => pairs.push((r.max(i), r.min(i))),
            _ => reach = Some(i),
        }
    }
    pairs.sort_unstable();
    for (later, earlier) in pairs {
        let ((at, net), (first_at, first)) = (&nets[later], &nets[earlier]);
        found.push(
            Diagnostic::error(
                Code::CidrOverlap,
                format!("{what} {net} overlaps {first}"),
                Label::value(at.clone(), format!("overlaps {first}")),
            )
            .with_label(Label::value(first_at.clone(), "this one")),
        );
    }
}

/// Usable addresses of a subnet: all of them but Azure's five.
pub(crate) fn usable(net: Ipv4Net) -> u64 {
    (1u64 << (32 - u32::from(net.prefix_len()))).saturating_sub(AZURE_RESERVED)
}

fn capacity(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (i, subnet) in spec.network.subnets.iter().enumerate() {
        // A subnet below Azure's smallest is reported as such, not for its capacity.
        let Some(net) = subnet
            .address_prefix
            .parse::<Ipv4Net>()
            .ok()
            .filter(|n| n.prefix_len() <= SMALLEST_SUBNET)
        else {
            continue;
        };
        let users: Vec<(usize, &str, u64)> = spec
            .compute
            .iter()
            .enumerate()
            .filter(|(_, c)| c.subnets().iter().any(|(_, s)| *s == subnet.name))
            .map(|(ci, c)| (ci, c.name(), c.addresses()))
            .collect();
        // The image-build cluster amlgen adds for a created workspace takes one node here.
        let builder = match spec.image_builder() {
            Some(crate::spec::ImageBuilder::Added { subnet: s, .. }) => s == subnet.name,
            _ => false,
        };
        // Each private endpoint takes an address; the registry's takes two (its data endpoint).
        let endpoints = endpoint_addresses(spec, &subnet.name);
        let needed: u64 =
            users.iter().map(|(_, _, n)| n).sum::<u64>() + u64::from(builder) + endpoints;
        let available = usable(net);
        if needed <= available {
            continue;
        }
        let mut diagnostic = Diagnostic::error(
            Code::SubnetTooSmall,
            format!(
                "subnet `{}` ({net}) has {available} usable addresses, but its {} need {needed}",
                subnet.name,
                if endpoints > 0 {
                    "private endpoints and computes"
                } else {
                    "computes"
                }
            ),
            Label::value(
                format!("{}/address_prefix", subnet_pointer(i)),
                format!("{available} usable (Azure reserves {AZURE_RESERVED})"),
            ),
        )
        .with_help(capacity_help(spec, &users, needed));
        for (ci, name, n) in users {
            diagnostic = diagnostic.with_label(Label::value(
                compute_pointer(ci),
                format!("`{name}` needs {n}"),
            ));
        }
        if builder {
            diagnostic = diagnostic.with_label(Label::value(
                "/workspace/create",
                "the image-build cluster amlgen adds needs 1",
            ));
        }
        if endpoints > 0 {
            diagnostic = diagnostic.with_label(Label::value(
                "/network/private_endpoints/subnet",
                format!("the private endpoints need {endpoints}"),
            ));
        }
        found.push(diagnostic);
    }
    found
}

/// The addresses amlgen's private endpoints take in subnet `name`: one each, two for the
/// registry's (its data endpoint has an address of its own).
fn endpoint_addresses(spec: &Spec, name: &str) -> u64 {
    let here = spec
        .network
        .private_endpoints
        .as_ref()
        .is_some_and(|p| p.subnet == name);
    if !here {
        return 0;
    }
    crate::plan::endpoint_targets(spec)
        .iter()
        .map(|t| if *t == Target::Registry { 2 } else { 1 })
        .sum()
}

/// What to change: a larger prefix, or fewer nodes through the keys that set them.
fn capacity_help(spec: &Spec, users: &[(usize, &str, u64)], needed: u64) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for (ci, _, _) in users {
        let key = match &spec.compute[*ci] {
            Compute::Amlcompute(_) => "max_instances",
            Compute::Hdinsight(_) => "worker_count",
            _ => continue,
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let fewer = match keys.as_slice() {
        [] => String::new(),
        keys => format!(", or lower {}", keys.join(" or ")),
    };
    format!(
        "a cluster would be only partly allocated; use a /{} or larger{fewer}",
        smallest_prefix(needed)
    )
}

/// The longest prefix length whose subnet still has `needed` usable addresses.
fn smallest_prefix(needed: u64) -> u8 {
    (0..=29u8)
        .rev()
        .find(|p| (1u64 << (32 - u32::from(*p))) - AZURE_RESERVED >= needed)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::{codes, spec};
    use crate::diag::At;
    use serde_json::json;

    #[test]
    fn usable_addresses_exclude_azures_five() {
        assert_eq!(usable("10.0.0.0/24".parse().unwrap()), 251);
        assert_eq!(usable("10.0.0.0/29".parse().unwrap()), 3);
        assert_eq!(smallest_prefix(251), 24);
        assert_eq!(smallest_prefix(252), 23);
    }

    #[test]
    fn a_valid_plan_passes() {
        assert!(check(&spec(|_| {})).is_empty());
    }

    #[test]
    fn host_bits_outside_and_overlap_are_found() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][1]["address_prefix"] = json!("10.0.0.128/25");
            v["network"]["subnets"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "c", "address_prefix": "10.1.0.1/24"}));
        }));
        assert_eq!(
            codes(&found),
            ["cidr-host-bits", "cidr-outside-vnet", "cidr-overlap"]
        );
    }

    #[test]
    fn a_cluster_that_does_not_fit_is_reported_with_every_user() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][0]["address_prefix"] = json!("10.0.0.0/28");
            v["compute"][0]["max_instances"] = json!(11);
        }));
        assert_eq!(codes(&found), ["subnet-too-small"]);
        assert!(
            found[0]
                .message
                .contains("11 usable addresses, but its computes need 12")
        );
        assert_eq!(found[0].secondary.len(), 2);
    }

    #[test]
    fn hdinsight_nodes_count_and_the_help_names_worker_count() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][1]["address_prefix"] = json!("10.0.1.0/28");
            v["compute"].as_array_mut().unwrap().push(json!({
                "name": "hdi", "type": "hdinsight", "subnet": "snet-b", "cluster_type": "spark", "worker_count": 5
            }));
        }));
        assert_eq!(codes(&found), ["subnet-too-small"]);
        assert!(
            found[0]
                .message
                .contains("11 usable addresses, but its computes need 12")
        );
        assert_eq!(
            found[0].help.as_deref(),
            Some(
                "a cluster would be only partly allocated; use a /27 or larger, or lower worker_count"
            )
        );
    }

    #[test]
    fn the_image_builder_amlgen_adds_counts_against_its_subnet() {
        let full = |v: &mut serde_json::Value| {
            v["network"]["subnets"][0]["address_prefix"] = json!("10.0.0.0/28");
            v["compute"] = json!([{"name": "gpu", "type": "amlcompute", "size": "Standard_NC24ads_A100_v4", "subnet": "snet-a", "max_instances": 11}]);
        };
        assert!(check(&spec(full)).is_empty());
        let created = check(&spec(|v| {
            full(v);
            v["workspace"]["create"] = json!(true);
        }));
        assert_eq!(created.len(), 1, "{created:?}");
        assert!(
            created[0].message.contains("need 12"),
            "{}",
            created[0].message
        );
    }

    #[test]
    fn private_endpoints_count_against_their_subnet() {
        let endpoints = |v: &mut serde_json::Value, prefix: &str| {
            v["workspace"] = json!({"name": "mlw-demo", "create": true});
            v["network"]["subnets"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "snet-pe", "address_prefix": prefix}));
            v["network"]["private_endpoints"] =
                json!({"subnet": "snet-pe", "batch_endpoints": true});
        };
        // Workspace, blob, file, queue, table, vault, and the registry's two: 8 addresses.
        let small = check(&spec(|v| endpoints(v, "10.0.9.0/29")));
        assert_eq!(small.len(), 1, "{small:?}");
        assert!(small[0].message.contains("need 8"), "{}", small[0].message);
        assert!(check(&spec(|v| endpoints(v, "10.0.9.0/28"))).is_empty());
    }

    #[test]
    fn exactly_full_subnets_pass() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][0]["address_prefix"] = json!("10.0.0.0/28");
            v["compute"][0]["max_instances"] = json!(10);
        }));
        assert!(found.is_empty());
    }

    #[test]
    fn duplicate_subnet_names_are_reported_without_regard_to_case() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][1]["name"] = json!("snet-a")
        }));
        assert_eq!(codes(&found), ["name-duplicate"]);
        let found = check(&spec(|v| {
            v["network"]["subnets"][1]["name"] = json!("SNET-A")
        }));
        assert_eq!(codes(&found), ["name-duplicate"]);
        assert!(found[0].message.contains("`snet-a` and `SNET-A`"));
    }

    #[test]
    fn ranges_azure_keeps_are_refused_in_the_address_space() {
        for range in [
            "0.0.0.0/0",
            "127.0.0.0/8",
            "224.0.0.0/4",
            "169.254.0.0/16",
            "168.63.0.0/16",
            "255.255.255.255/32",
            "128.0.0.0/1",
        ] {
            let found = check(&spec(|v| {
                v["network"]["vnet"]["address_space"] = json!(["10.0.0.0/16", range]);
            }));
            let reserved = codes(&found).into_iter().filter(|c| *c == "cidr-reserved");
            assert_eq!(reserved.count(), 1, "{range}: {found:?}");
        }
        let found = check(&spec(|v| {
            v["network"]["vnet"]["address_space"] = json!(["10.0.0.0/16", "224.1.0.0/16"]);
        }));
        assert!(
            found[0]
                .message
                .contains("224.1.0.0/16 lies in 224.0.0.0/4 (multicast)")
        );
    }

    #[test]
    fn subnets_below_a_29_are_refused_once() {
        let found = check(&spec(|v| {
            v["network"]["subnets"][0]["address_prefix"] = json!("10.0.0.0/30");
        }));
        assert_eq!(codes(&found), ["subnet-too-small"]);
        assert!(found[0].message.contains("smallest subnet, a /29"));
    }

    proptest::proptest! {
        /// The sorted sweep finds every range that overlaps another, as comparing all pairs does.
        #[test]
        fn the_sweep_flags_exactly_the_ranges_that_overlap_another(
            raw in proptest::collection::vec((0u32..1 << 12, 20u8..=30), 0..40)
        ) {
            let nets: Vec<(String, Ipv4Net)> = raw
                .iter()
                .enumerate()
                .map(|(i, (host, len))| {
                    let address = std::net::Ipv4Addr::from(0x0a00_0000 | (host << 8));
                    (format!("/{i}"), Ipv4Net::new(address, *len).unwrap().trunc())
                })
                .collect();
            let mut found = Vec::new();
            overlaps(&nets, "range", &mut found);
            let flagged: std::collections::BTreeSet<String> = found
                .iter()
                .flat_map(|d| [&d.primary, &d.secondary[0]])
                .map(|label| format!("{:?}", label.at))
                .collect();
            let expected: std::collections::BTreeSet<String> = nets
                .iter()
                .enumerate()
                .filter(|(i, (_, a))| {
                    nets.iter().enumerate().any(|(j, (_, b))| *i != j && (a.contains(b) || b.contains(a)))
                })
                .map(|(_, (at, _))| format!("{:?}", Label::value(at.clone(), "").at))
                .collect();
            proptest::prop_assert_eq!(flagged, expected);
            for d in &found {
                let (At::Value(later), At::Value(earlier)) = (&d.primary.at, &d.secondary[0].at) else {
                    unreachable!()
                };
                let index = |p: &str| p[1..].parse::<usize>().unwrap();
                proptest::prop_assert!(index(later) > index(earlier), "reported on the later entry");
            }
        }
    }

    #[test]
    fn overlaps_are_found_in_address_order_and_reported_on_the_later_entry() {
        let nets: Vec<(String, Ipv4Net)> = [
            "10.0.1.0/24",
            "10.0.0.0/16",
            "10.1.0.0/16",
            "10.0.2.0/24",
            "10.1.0.0/16",
        ]
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("/{i}"), n.parse().unwrap()))
        .collect();
        let mut found = Vec::new();
        overlaps(&nets, "range", &mut found);
        let places: Vec<(&Label, &Label)> = found
            .iter()
            .map(|d| (&d.primary, &d.secondary[0]))
            .collect();
        assert_eq!(
            places,
            [
                (
                    &Label::value("/1", "overlaps 10.0.1.0/24"),
                    &Label::value("/0", "this one")
                ),
                (
                    &Label::value("/3", "overlaps 10.0.0.0/16"),
                    &Label::value("/1", "this one")
                ),
                (
                    &Label::value("/4", "overlaps 10.1.0.0/16"),
                    &Label::value("/2", "this one")
                ),
            ]
        );
    }
}
