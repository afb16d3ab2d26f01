//! ARM wire types of the network: NSGs, the route table, the NAT gateway with its public IP, and
//! the VNet with its subnets inline.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Id, Named, Properties, Resource, Sku, expression, resource, resource_id};
use crate::azure::resource::ResourceKind;
use crate::plan::{
    Address, NatGateway, Nsg, Plan, RouteTable, SecurityRule, Subnet, VirtualNetwork,
};
use crate::routes::{NextHop, Prefix};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NsgProperties {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    security_rules: Vec<Named<RuleProperties>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RuleProperties {
    description: String,
    protocol: &'static str,
    source_port_range: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_port_range: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    destination_port_ranges: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_address_prefix: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_address_prefixes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination_address_prefix: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    destination_address_prefixes: Vec<String>,
    access: &'static str,
    priority: u16,
    direction: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RouteTableProperties {
    disable_bgp_route_propagation: bool,
    routes: Vec<Named<RouteProperties>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RouteProperties {
    address_prefix: String,
    next_hop_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_hop_ip_address: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PublicIpProperties {
    #[serde(rename = "publicIPAllocationMethod")]
    allocation_method: &'static str,
    #[serde(rename = "publicIPAddressVersion")]
    address_version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NatGatewayProperties {
    idle_timeout_in_minutes: u32,
    public_ip_addresses: Vec<Id>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VirtualNetworkProperties {
    address_space: AddressSpace,
    subnets: Vec<Named<SubnetProperties>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AddressSpace {
    address_prefixes: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SubnetProperties {
    address_prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_security_group: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route_table: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nat_gateway: Option<Id>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    service_endpoints: Vec<ServiceEndpoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    delegations: Vec<Named<Delegation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_endpoint_network_policies: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_link_service_network_policies: Option<&'static str>,
    default_outbound_access: bool,
}

#[derive(Serialize)]
pub(super) struct ServiceEndpoint {
    service: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Delegation {
    service_name: String,
}

/// The NSGs, route table, NAT gateway and VNet of `plan`.
pub(super) fn resources(plan: &Plan, tags: &BTreeMap<String, String>) -> Vec<Resource> {
    let mut out: Vec<Resource> = plan
        .nsgs
        .iter()
        .map(|n| {
            resource(
                ResourceKind::NetworkSecurityGroup,
                n.name.clone(),
                tags,
                format!("Rules for subnet {}.", n.subnet),
                Properties::Nsg(nsg(n)),
            )
        })
        .collect();
    if let Some(table) = &plan.route_table {
        out.push(resource(
            ResourceKind::RouteTable,
            table.name.clone(),
            tags,
            "Forced tunnelling of the compute subnets.".to_string(),
            Properties::RouteTable(route_table(table)),
        ));
    }
    if let Some(nat) = &plan.nat_gateway {
        out.push(Resource {
            sku: Some(Sku {
                name: "Standard",
                tier: Some("Regional"),
            }),
            ..resource(
                ResourceKind::PublicIpAddress,
                nat.public_ip.clone(),
                tags,
                "Outbound address of the NAT gateway.".to_string(),
                Properties::PublicIp(PublicIpProperties {
                    allocation_method: "Static",
                    address_version: "IPv4",
                }),
            )
        });
        out.push(Resource {
            sku: Some(Sku {
                name: "Standard",
                tier: None,
            }),
            depends_on: vec![expression(&resource_id(
                ResourceKind::PublicIpAddress,
                &[&nat.public_ip],
            ))],
            ..resource(
                ResourceKind::NatGateway,
                nat.name.clone(),
                tags,
                "Outbound internet access of the compute subnets.".to_string(),
                Properties::NatGateway(nat_gateway(nat)),
            )
        });
    }
    out.push(Resource {
        depends_on: vnet_dependencies(plan),
        ..resource(
            ResourceKind::VirtualNetwork,
            plan.vnet.name.clone(),
            tags,
            "The training VNet; subnets inline so redeployments never delete them.".to_string(),
            Properties::VirtualNetwork(virtual_network(&plan.vnet)),
        )
    });
    out
}

fn vnet_dependencies(plan: &Plan) -> Vec<String> {
    let mut ids: Vec<String> = plan
        .nsgs
        .iter()
        .map(|n| resource_id(ResourceKind::NetworkSecurityGroup, &[&n.name]))
        .collect();
    ids.extend(
        plan.route_table
            .iter()
            .map(|r| resource_id(ResourceKind::RouteTable, &[&r.name])),
    );
    ids.extend(
        plan.nat_gateway
            .iter()
            .map(|n| resource_id(ResourceKind::NatGateway, &[&n.name])),
    );
    ids.sort();
    ids.into_iter().map(|id| expression(&id)).collect()
}

fn nsg(nsg: &Nsg) -> NsgProperties {
    NsgProperties {
        security_rules: nsg
            .rules
            .iter()
            .map(|r| Named {
                name: r.name.to_string(),
                properties: rule(r),
            })
            .collect(),
    }
}

fn split(address: &Address) -> (Option<String>, Vec<String>) {
    match address {
        Address::One(one) => (Some(one.clone()), Vec::new()),
        Address::Many(many) => (None, many.clone()),
    }
}

fn rule(rule: &SecurityRule) -> RuleProperties {
    let (source_address_prefix, source_address_prefixes) = split(&rule.source);
    let (destination_address_prefix, destination_address_prefixes) = split(&rule.destination);
    let (destination_port_range, destination_port_ranges) = match rule.ports.as_slice() {
        [one] => (Some(*one), Vec::new()),
        many => (None, many.to_vec()),
    };
    RuleProperties {
        description: rule.reason.to_string(),
        protocol: rule.protocol.arm_name(),
        source_port_range: "*",
        destination_port_range,
        destination_port_ranges,
        source_address_prefix,
        source_address_prefixes,
        destination_address_prefix,
        destination_address_prefixes,
        access: rule.access.arm_name(),
        priority: rule.priority,
        direction: rule.direction.arm_name(),
    }
}

fn route_table(table: &RouteTable) -> RouteTableProperties {
    RouteTableProperties {
        disable_bgp_route_propagation: true,
        routes: table
            .routes
            .iter()
            .map(|r| {
                let (next_hop_type, next_hop_ip_address) = match &r.next_hop {
                    NextHop::Appliance(ip) => ("VirtualAppliance", Some(ip.clone())),
                    NextHop::Internet => ("Internet", None),
                };
                let address_prefix = match &r.prefix {
                    Prefix::Cidr(net) => net.to_string(),
                    Prefix::ServiceTag(tag) => tag.clone(),
                };
                Named {
                    name: r.name.clone(),
                    properties: RouteProperties {
                        address_prefix,
                        next_hop_type,
                        next_hop_ip_address,
                    },
                }
            })
            .collect(),
    }
}

fn nat_gateway(nat: &NatGateway) -> NatGatewayProperties {
    NatGatewayProperties {
        idle_timeout_in_minutes: nat.idle_timeout_minutes,
        public_ip_addresses: vec![Id::of(ResourceKind::PublicIpAddress, &nat.public_ip)],
    }
}

fn id_of(kind: ResourceKind, name: &Option<String>) -> Option<Id> {
    name.as_ref().map(|n| Id::of(kind, n))
}

fn virtual_network(vnet: &VirtualNetwork) -> VirtualNetworkProperties {
    VirtualNetworkProperties {
        address_space: AddressSpace {
            address_prefixes: vnet.address_space.clone(),
        },
        subnets: vnet
            .subnets
            .iter()
            .map(|s| Named {
                name: s.name.clone(),
                properties: subnet(s),
            })
            .collect(),
    }
}

fn subnet(subnet: &Subnet) -> SubnetProperties {
    let disabled = subnet.network_policies_disabled.then_some("Disabled");
    SubnetProperties {
        address_prefix: subnet.address_prefix.clone(),
        network_security_group: id_of(ResourceKind::NetworkSecurityGroup, &subnet.nsg),
        route_table: id_of(ResourceKind::RouteTable, &subnet.route_table),
        nat_gateway: id_of(ResourceKind::NatGateway, &subnet.nat_gateway),
        service_endpoints: subnet
            .service_endpoints
            .iter()
            .map(|s| ServiceEndpoint { service: s.clone() })
            .collect(),
        delegations: subnet
            .delegation
            .iter()
            .map(|d| Named {
                name: "delegation".to_string(),
                properties: Delegation {
                    service_name: d.clone(),
                },
            })
            .collect(),
        private_endpoint_network_policies: disabled,
        private_link_service_network_policies: disabled,
        default_outbound_access: subnet.default_outbound_access,
    }
}
