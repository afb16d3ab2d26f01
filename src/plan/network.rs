//! The network half of the plan: NSGs with the profile's rules, NAT gateway or route table, and
//! the VNet with its subnets written inline. Every subnet that hosts compute (Azure ML, VMs,
//! HDInsight or Databricks) gets an NSG and the egress path.

use crate::azure::service_tags::ServiceTags;
use crate::naming;
use crate::profile::{Access, Context, Direction, NsgRule, Origin, Peer, Profile, Protocol};
use std::collections::{BTreeMap, BTreeSet};

use crate::routes::{self, Route, Workload};
use crate::spec::{Compute, Egress, Outbound, Spec};

/// One side of a security rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A service tag, `*` or one CIDR: `sourceAddressPrefix`.
    One(String),
    /// Several CIDRs: `sourceAddressPrefixes`.
    Many(Vec<String>),
}

/// One NSG security rule, with the reason it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityRule {
    pub name: &'static str,
    pub priority: u16,
    pub direction: Direction,
    pub access: Access,
    pub protocol: Protocol,
    pub source: Address,
    pub destination: Address,
    /// One entry: `destinationPortRange`; several: `destinationPortRanges`.
    pub ports: Vec<&'static str>,
    pub reason: &'static str,
    pub citation: &'static str,
    /// amlgen adds the rule beyond the profile's documentation (`profile::Origin::Amlgen`).
    pub addition: bool,
}

/// The NSG of one compute subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsg {
    pub name: String,
    pub subnet: String,
    /// The subnet hosts compute; other subnets' NSGs hold only Azure's defaults and hardening.
    pub compute: bool,
    /// Inbound rules by priority, then outbound rules by priority.
    pub rules: Vec<SecurityRule>,
}

/// A forced-tunnel route table, shared by the compute subnets of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    pub name: String,
    /// The subnets it is attached to.
    pub subnets: Vec<String>,
    /// It has bypass routes: its subnets' compute has public addresses.
    pub bypass: bool,
    /// What its bypass routes are for, as in its name: `aml`, `attached`, `hdinsight`,
    /// `databricks`, `ssh`; empty for compute without public addresses.
    pub kinds: Vec<&'static str>,
    pub routes: Vec<Route>,
}

/// The NAT gateway shared by the compute subnets, with its public IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatGateway {
    pub name: String,
    pub public_ip: String,
    pub idle_timeout_minutes: u32,
}

/// A subnet, written inline in the VNet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub name: String,
    pub address_prefix: String,
    pub service_endpoints: Vec<String>,
    pub delegation: Option<String>,
    /// Name of the subnet's NSG (every subnet that may carry one).
    pub nsg: Option<String>,
    /// The subnet hosts compute, and so gets the egress path.
    pub compute: bool,
    pub route_table: Option<String>,
    pub nat_gateway: Option<String>,
    /// Written explicitly on every subnet: `true` only where compute relies on default outbound.
    pub default_outbound_access: bool,
    /// Private endpoint and private link service network policies disabled (compute subnets
    /// and the private-endpoint subnet, as Microsoft's private-link guides say).
    pub network_policies_disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualNetwork {
    pub name: String,
    pub address_space: Vec<String>,
    pub subnets: Vec<Subnet>,
}

/// Whether amlgen's private endpoints go into subnet `name`.
fn endpoints_here(spec: &Spec, name: &str) -> bool {
    spec.network
        .private_endpoints
        .as_ref()
        .is_some_and(|p| p.subnet == name)
}

/// The network resources of a plan.
#[derive(Debug, Clone)]
pub(super) struct Network {
    pub(super) nsgs: Vec<Nsg>,
    pub(super) route_tables: Vec<RouteTable>,
    pub(super) nat_gateway: Option<NatGateway>,
    pub(super) vnet: VirtualNetwork,
}

pub(super) fn build(
    spec: &Spec,
    profile: &'static Profile,
    service_tags: Option<&ServiceTags>,
) -> Network {
    let nsgs: Vec<Nsg> = spec
        .network
        .subnets
        .iter()
        .filter(|s| !NO_NSG_SUBNETS.contains(&s.name.as_str()))
        .map(|s| nsg(spec, profile, &s.name))
        .collect();
    let route_tables = route_tables(spec, service_tags);
    let nat_gateway = (spec.network.egress == Egress::Nat).then(|| NatGateway {
        name: naming::nat_gateway(&spec.name),
        public_ip: naming::nat_public_ip(&spec.name),
        idle_timeout_minutes: spec
            .network
            .nat
            .clone()
            .unwrap_or_default()
            .idle_timeout_minutes,
    });
    let subnets = spec
        .network
        .subnets
        .iter()
        .map(|s| {
            let compute = hosts_compute(spec, &s.name);
            Subnet {
                name: s.name.clone(),
                address_prefix: s.address_prefix.clone(),
                service_endpoints: service_endpoints(spec, s),
                delegation: s.delegation.clone(),
                nsg: nsgs
                    .iter()
                    .find(|n| n.subnet == s.name)
                    .map(|n| n.name.clone()),
                route_table: route_tables
                    .iter()
                    .find(|r| r.subnets.contains(&s.name))
                    .map(|r| r.name.clone()),
                nat_gateway: nat_gateway
                    .as_ref()
                    .filter(|_| compute)
                    .map(|n| n.name.clone()),
                compute,
                default_outbound_access: compute && spec.network.egress == Egress::Default,
                network_policies_disabled: (compute && s.delegation.is_none())
                    || endpoints_here(spec, &s.name),
            }
        })
        .collect();
    let vnet = VirtualNetwork {
        name: spec.network.vnet.name.clone(),
        address_space: spec.network.vnet.address_space.clone(),
        subnets,
    };
    Network {
        nsgs,
        route_tables,
        nat_gateway,
        vnet,
    }
}

/// The spec's service endpoints of `subnet`, and `Microsoft.Storage` where an HDInsight cluster
/// reaches its storage account through the account's firewall.
fn service_endpoints(spec: &Spec, subnet: &crate::spec::Subnet) -> Vec<String> {
    let mut endpoints = subnet.service_endpoints.clone();
    let hdinsight = spec
        .compute
        .iter()
        .any(|c| matches!(c, Compute::Hdinsight(h) if h.subnet == subnet.name));
    if hdinsight && !endpoints.iter().any(|e| e == "Microsoft.Storage") {
        endpoints.push("Microsoft.Storage".to_string());
    }
    endpoints
}

/// Subnets Azure reserves for a service that refuses an NSG, or requires rules of its own.
const NO_NSG_SUBNETS: &[&str] = &[
    "GatewaySubnet",
    "AzureFirewallSubnet",
    "AzureFirewallManagementSubnet",
    "RouteServerSubnet",
    "AzureBastionSubnet",
];

fn hosts_compute(spec: &Spec, subnet: &str) -> bool {
    spec.compute
        .iter()
        .any(|c| c.subnets().iter().any(|(_, s)| *s == subnet))
}

/// What the subnet holds, for choosing the profile's rows.
fn context(spec: &Spec, subnet: &str) -> Context {
    let mut context = Context {
        compute: hosts_compute(spec, subnet),
        locked: spec.network.outbound == Outbound::Locked,
        microsoft_images: spec.network.microsoft_images,
        forced_tunnel: spec.network.egress == Egress::ForcedTunnel,
        ..Context::default()
    };
    let ssh_sources = !spec.network.ssh.allow_from.is_empty();
    for compute in computes_in(spec, subnet) {
        if let Some(node) = compute.aml_node() {
            context.aml_compute = true;
            context.compute_instance |= matches!(compute, Compute::Computeinstance(_));
            context.public_ip_compute |= node.public_ip;
            context.ssh |= node.ssh && ssh_sources;
        }
        context.ssh |= compute.is_attachable() && ssh_sources;
        context.attached |= compute.attached();
        context.hdinsight |= matches!(compute, Compute::Hdinsight(_));
        if let Compute::Databricks(workspace) = compute {
            context.databricks = true;
            context.databricks_public_ip |= !workspace.no_public_ip;
        }
    }
    context
}

fn nsg(spec: &Spec, profile: &Profile, subnet: &str) -> Nsg {
    let context = context(spec, subnet);
    let mut rules: Vec<SecurityRule> = profile
        .all_nsg_rules()
        .filter(|r| r.when.holds(&context))
        .map(|r| security_rule(spec, r))
        .collect();
    rules.sort_by_key(|r| (r.direction, r.priority));
    Nsg {
        name: naming::nsg(&spec.name, subnet),
        subnet: subnet.to_string(),
        compute: context.compute,
        rules,
    }
}

fn one_or_many(prefixes: &[String]) -> Address {
    match prefixes {
        [one] => Address::One(one.clone()),
        many => Address::Many(many.to_vec()),
    }
}

fn security_rule(spec: &Spec, rule: &NsgRule) -> SecurityRule {
    let peer = match rule.peer {
        Peer::Tag(tag) => Address::One(tag.to_string()),
        Peer::Regional(tag) => Address::One(format!("{tag}.{}", spec.location)),
        Peer::SshSources => one_or_many(&spec.network.ssh.allow_from),
        Peer::AddressSpace => one_or_many(&spec.network.vnet.address_space),
    };
    let local = Address::One(rule.local.prefix().to_string());
    let (source, destination) = match rule.direction {
        Direction::Inbound => (peer, local),
        Direction::Outbound => (local, peer),
    };
    SecurityRule {
        name: rule.name,
        priority: rule.priority,
        direction: rule.direction,
        access: rule.access,
        protocol: rule.protocol,
        source,
        destination,
        ports: rule.ports.to_vec(),
        reason: rule.reason,
        citation: rule.source,
        addition: rule.origin == Origin::Amlgen,
    }
}

/// The route tables of forced tunnelling: one per set of workloads a compute subnet hosts
/// (`routes::Workload`), each with only the bypass routes those workloads need. Compute without a
/// public address gets the default route only.
fn route_tables(spec: &Spec, service_tags: Option<&ServiceTags>) -> Vec<RouteTable> {
    let Some(tunnel) = spec
        .network
        .forced_tunnel
        .as_ref()
        .filter(|_| spec.network.egress == Egress::ForcedTunnel)
    else {
        return Vec::new();
    };
    let mut tables: BTreeMap<(BTreeSet<Workload>, bool), Vec<String>> = BTreeMap::new();
    for subnet in spec
        .network
        .subnets
        .iter()
        .filter(|s| hosts_compute(spec, &s.name))
    {
        let workloads: BTreeSet<Workload> = computes_in(spec, &subnet.name)
            .flat_map(Workload::of)
            .collect();
        let ssh = context(spec, &subnet.name).ssh
            && !workloads.is_empty()
            && !routes::public_ssh_sources(spec).is_empty();
        tables
            .entry((workloads, ssh))
            .or_default()
            .push(subnet.name.clone());
    }
    tables
        .into_iter()
        .map(|((workloads, ssh), subnets)| {
            let input =
                routes::Input::new(spec, tunnel, service_tags).for_workloads(&workloads, ssh);
            let mut kinds: Vec<&str> = workloads.iter().map(|w| w.slug()).collect();
            if ssh {
                kinds.push("ssh");
            }
            RouteTable {
                name: naming::route_table(&spec.name, &kinds),
                subnets,
                bypass: !kinds.is_empty(),
                kinds,
                routes: routes::expand(&input),
            }
        })
        .collect()
}

fn computes_in<'s>(spec: &'s Spec, subnet: &'s str) -> impl Iterator<Item = &'s Compute> {
    spec.compute
        .iter()
        .filter(move |c| c.subnets().iter().any(|(_, s)| *s == subnet))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::spec;
    use crate::profile::{CURRENT_PROFILE, GUIDE_2021_PROFILE};
    use crate::routes::NextHop;
    use serde_json::json;

    fn rule_names(nsg: &Nsg) -> Vec<&'static str> {
        nsg.rules.iter().map(|r| r.name).collect()
    }

    #[test]
    fn every_subnet_gets_an_nsg_and_only_compute_subnets_egress_and_rules() {
        let network = build(
            &spec(|v| v["network"]["outbound"] = json!("locked")),
            &CURRENT_PROFILE,
            None,
        );
        assert_eq!(network.nsgs.len(), 2);
        let rules: Vec<&str> = network.nsgs[1].rules.iter().map(|r| r.name).collect();
        assert_eq!(
            rules,
            ["DenyRemoteDesktopOutbound"],
            "no allow-list without compute"
        );
        assert_eq!(
            network.vnet.subnets[0].nsg.as_deref(),
            Some("demo-snet-a-nsg")
        );
        assert_eq!(
            network.vnet.subnets[0].nat_gateway.as_deref(),
            Some("demo-nat")
        );
        assert_eq!(
            network.vnet.subnets[1].nsg.as_deref(),
            Some("demo-snet-b-nsg")
        );
        assert!(!network.vnet.subnets[1].compute && network.vnet.subnets[1].nat_gateway.is_none());
        assert!(!network.vnet.subnets[0].default_outbound_access);
    }

    #[test]
    fn locked_current_profile_allows_its_tags_then_denies_internet() {
        let spec = spec(|v| v["network"]["outbound"] = json!("locked"));
        let nsg = &build(&spec, &CURRENT_PROFILE, None).nsgs[0];
        assert_eq!(nsg.rules[0].name, "AllowAzureMachineLearningInbound");
        let last = nsg.rules.last().unwrap();
        assert_eq!(
            (last.name, last.access, last.priority),
            ("DenyInternetOutbound", Access::Deny, 4096)
        );
        let storage = nsg
            .rules
            .iter()
            .find(|r| r.name == "AllowStorageOutbound")
            .unwrap();
        assert_eq!(storage.destination, Address::One("Storage.eastus2".into()));
    }

    #[test]
    fn guide_2021_open_outbound_has_its_inbound_rules_and_the_remote_desktop_deny() {
        let nsg = &build(&spec(|_| {}), &GUIDE_2021_PROFILE, None).nsgs[0];
        assert_eq!(
            rule_names(nsg),
            [
                "AllowBatchNodeManagementInbound",
                "AllowAzureMachineLearningInbound",
                "DenyRemoteDesktopOutbound"
            ]
        );
    }

    #[test]
    fn no_public_ip_compute_needs_no_inbound_rule_today() {
        let spec = spec(|v| {
            v["compute"][0]["enable_node_public_ip"] = json!(false);
            v["compute"][1]["enable_node_public_ip"] = json!(false);
        });
        assert!(
            build(&spec, &CURRENT_PROFILE, None).nsgs[0]
                .rules
                .iter()
                .all(|r| r.direction == Direction::Outbound)
        );
    }

    #[test]
    fn ssh_sources_become_one_rule() {
        let spec = spec(|v| {
            v["compute"][0]["ssh_public_access_enabled"] = json!(true);
            v["network"]["ssh"] = json!({"allow_from": ["203.0.113.0/24", "198.51.100.0/24"]});
        });
        let nsg = &build(&spec, &CURRENT_PROFILE, None).nsgs[0];
        let ssh = nsg
            .rules
            .iter()
            .find(|r| r.name == "AllowSshInbound")
            .unwrap();
        assert_eq!(
            ssh.source,
            Address::Many(vec!["203.0.113.0/24".into(), "198.51.100.0/24".into()])
        );
    }

    #[test]
    fn default_egress_is_written_explicitly() {
        let network = build(
            &spec(|v| v["network"]["egress"] = json!("default")),
            &CURRENT_PROFILE,
            None,
        );
        assert!(network.vnet.subnets[0].default_outbound_access);
        assert!(!network.vnet.subnets[1].default_outbound_access);
        assert!(network.nat_gateway.is_none() && network.route_tables.is_empty());
    }

    fn tunnelled(v: &mut serde_json::Value) {
        v["network"]["egress"] = json!("forced_tunnel");
        v["network"]["forced_tunnel"] =
            json!({"next_hop_ip": "10.9.0.4", "routes": "service_tags"});
    }

    #[test]
    fn only_subnets_of_public_ip_compute_get_internet_bypass_routes() {
        let private = build(
            &spec(|v| {
                tunnelled(v);
                v["compute"][0]["enable_node_public_ip"] = json!(false);
                v["compute"][1]["enable_node_public_ip"] = json!(false);
            }),
            &CURRENT_PROFILE,
            None,
        );
        let [table] = private.route_tables.as_slice() else {
            panic!("one table expected")
        };
        assert_eq!((table.name.as_str(), table.bypass), ("demo-rt", false));
        assert!(table.routes.iter().all(|r| r.next_hop != NextHop::Internet));
        let public = build(&spec(tunnelled), &CURRENT_PROFILE, None);
        let [table] = public.route_tables.as_slice() else {
            panic!("one table expected")
        };
        assert_eq!((table.name.as_str(), table.bypass), ("demo-aml-rt", true));
        assert!(table.routes.iter().any(|r| r.next_hop == NextHop::Internet));
        assert_eq!(
            public.vnet.subnets[0].route_table.as_deref(),
            Some("demo-aml-rt")
        );
    }

    #[test]
    fn each_workload_gets_a_route_table_with_only_its_bypass_routes() {
        let network = build(
            &spec(|v| {
                tunnelled(v);
                v["network"]["subnets"] = json!([
                    {"name": "snet-a", "address_prefix": "10.0.0.0/24"},
                    {"name": "snet-dbw-pub", "address_prefix": "10.0.1.0/26", "delegation": "Microsoft.Databricks/workspaces"},
                    {"name": "snet-dbw-prv", "address_prefix": "10.0.1.64/26", "delegation": "Microsoft.Databricks/workspaces"},
                    {"name": "default", "address_prefix": "10.0.2.0/24"}
                ]);
                v["compute"] = json!([
                    {"name": "gpu", "type": "amlcompute", "subnet": "snet-a", "max_instances": 2, "enable_node_public_ip": true},
                    {"name": "dbw", "type": "databricks", "public_subnet": "snet-dbw-pub", "private_subnet": "snet-dbw-prv", "no_public_ip": false}
                ]);
            }),
            &CURRENT_PROFILE,
            None,
        );
        let tables: Vec<(&str, Vec<&str>)> = network
            .route_tables
            .iter()
            .map(|t| {
                let prefixes = t.routes.iter().skip(1).map(|r| r.name.as_str()).collect();
                (t.name.as_str(), prefixes)
            })
            .collect();
        assert_eq!(
            tables,
            [
                ("demo-aml-rt", vec!["bypass-AzureMachineLearning"]),
                (
                    "demo-databricks-rt",
                    vec![
                        "bypass-AzureDatabricks",
                        "bypass-Sql",
                        "bypass-Storage",
                        "bypass-EventHub"
                    ]
                ),
            ]
        );
        assert_eq!(
            network.route_tables[1].subnets,
            ["snet-dbw-pub", "snet-dbw-prv"]
        );
    }

    #[test]
    fn forced_tunnel_subnets_deny_every_source_the_vnet_tag_would_admit() {
        let network = build(&spec(tunnelled), &CURRENT_PROFILE, None);
        let inbound: Vec<(&str, u16)> = network.nsgs[0]
            .rules
            .iter()
            .filter(|r| r.direction == Direction::Inbound)
            .map(|r| (r.name, r.priority))
            .collect();
        assert_eq!(
            &inbound[inbound.len() - 3..],
            [
                ("AllowVnetAddressSpaceInbound", 4000),
                ("AllowAzureLoadBalancerInbound", 4001),
                ("DenyAllInbound", 4096)
            ]
        );
        let nat = build(&spec(|_| {}), &CURRENT_PROFILE, None);
        assert!(nat.nsgs[0].rules.iter().all(|r| r.name != "DenyAllInbound"));
    }

    #[test]
    fn the_intra_vnet_allow_names_the_address_space_not_the_tag() {
        let spec = spec(|v| {
            tunnelled(v);
            v["network"]["outbound"] = json!("locked");
        });
        let nsg = &build(&spec, &CURRENT_PROFILE, None).nsgs[0];
        let rule = nsg
            .rules
            .iter()
            .find(|r| r.name == "AllowVirtualNetworkOutbound")
            .unwrap();
        assert_eq!(rule.destination, Address::One("10.0.0.0/16".into()));
        assert_eq!(rule.ports, ["443", "445"]);
    }

    fn push(v: &mut serde_json::Value, compute: serde_json::Value) {
        v["compute"].as_array_mut().unwrap().push(compute);
    }

    #[test]
    fn attached_machines_accept_ssh_from_azure_ml_only() {
        let spec = spec(|v| {
            push(
                v,
                json!({"name": "vm-a", "type": "virtualmachine", "subnet": "snet-b", "attach": true}),
            );
            push(
                v,
                json!({"name": "hdi-a", "type": "hdinsight", "subnet": "snet-b", "cluster_type": "spark"}),
            );
        });
        let network = build(&spec, &CURRENT_PROFILE, None);
        let nsg = &network.nsgs[1];
        assert_eq!(nsg.subnet, "snet-b");
        assert_eq!(
            rule_names(nsg),
            [
                "AllowAzureMachineLearningSshInbound",
                "AllowHDInsightManagementInbound",
                "DenyRemoteDesktopOutbound"
            ]
        );
        let ssh = &nsg.rules[0];
        assert_eq!(
            (
                ssh.protocol,
                &ssh.source,
                &ssh.destination,
                ssh.ports.as_slice()
            ),
            (
                Protocol::Tcp,
                &Address::One("AzureMachineLearning".into()),
                &Address::One("*".into()),
                ["22"].as_slice()
            )
        );
        let guide = build(&spec, &GUIDE_2021_PROFILE, None);
        assert_eq!(guide.nsgs[1].rules[0].protocol, Protocol::Any);
    }

    #[test]
    fn an_unattached_vm_needs_no_inbound_rule() {
        let spec = spec(|v| {
            push(
                v,
                json!({"name": "vm-a", "type": "virtualmachine", "subnet": "snet-b"}),
            )
        });
        assert!(
            build(&spec, &CURRENT_PROFILE, None).nsgs[1]
                .rules
                .iter()
                .all(|r| r.direction == Direction::Outbound)
        );
    }

    #[test]
    fn databricks_subnets_carry_databricks_rules_and_no_network_policies() {
        let spec = spec(|v| {
            v["network"]["subnets"][1]["delegation"] = json!("Microsoft.Databricks/workspaces");
            v["network"]["subnets"].as_array_mut().unwrap().push(json!({"name": "snet-c", "address_prefix": "10.0.2.0/26", "delegation": "Microsoft.Databricks/workspaces"}));
            push(
                v,
                json!({"name": "dbw", "type": "databricks", "public_subnet": "snet-b", "private_subnet": "snet-c", "no_public_ip": false}),
            );
        });
        let network = build(&spec, &CURRENT_PROFILE, None);
        assert_eq!(network.nsgs.len(), 3);
        let inbound: Vec<u16> = network.nsgs[1]
            .rules
            .iter()
            .filter(|r| r.direction == Direction::Inbound)
            .map(|r| r.priority)
            .collect();
        assert_eq!(inbound, [100, 101, 102]);
        let subnet = &network.vnet.subnets[1];
        assert!(!subnet.network_policies_disabled && subnet.nat_gateway.is_some());
    }
}
