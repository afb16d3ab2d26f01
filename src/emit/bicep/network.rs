//! Bicep view models of the network: NSGs, the route table, the NAT gateway with its public IP,
//! and the VNet with its subnets inline.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Symbols, Tag, render};
use crate::azure::resource::ResourceKind;
use crate::plan::{Address, Nsg, Plan, SecurityRule};
use crate::routes::{NextHop, Prefix};

#[derive(Serialize)]
struct Rule {
    name: &'static str,
    description: &'static str,
    protocol: &'static str,
    ports: Vec<&'static str>,
    sources: Vec<String>,
    destinations: Vec<String>,
    access: &'static str,
    priority: u16,
    direction: &'static str,
}

fn addresses(address: &Address) -> Vec<String> {
    match address {
        Address::One(one) => vec![one.clone()],
        Address::Many(many) => many.clone(),
    }
}

fn rule(rule: &SecurityRule) -> Rule {
    Rule {
        name: rule.name,
        description: rule.reason,
        protocol: rule.protocol.arm_name(),
        ports: rule.ports.clone(),
        sources: addresses(&rule.source),
        destinations: addresses(&rule.destination),
        access: rule.access.arm_name(),
        priority: rule.priority,
        direction: rule.direction.arm_name(),
    }
}

/// The symbols of the network resources, by resource name.
#[derive(Debug, Default)]
struct NetworkSymbols {
    nsgs: BTreeMap<String, String>,
    route_table: Option<String>,
    nat_gateway: Option<String>,
    vnet: String,
}

fn nsg_block(nsg: &Nsg, symbol: &str, tags: &[Tag]) -> Result<String, String> {
    #[derive(Serialize)]
    struct View<'a> {
        symbol: &'a str,
        r#type: String,
        name: &'a str,
        comment: String,
        tags: &'a [Tag],
        rules: Vec<Rule>,
    }
    render(
        "nsg.bicep",
        &View {
            symbol,
            r#type: ResourceKind::NetworkSecurityGroup.bicep_type(),
            name: &nsg.name,
            comment: format!("Rules for subnet {}.", nsg.subnet),
            tags,
            rules: nsg.rules.iter().map(rule).collect(),
        },
    )
}

/// The NSGs, route table, NAT gateway and VNet; returns the VNet's symbol too.
pub(super) fn blocks(
    plan: &Plan,
    symbols: &mut Symbols,
    tags: &[Tag],
) -> Result<(Vec<String>, String), String> {
    let mut blocks = Vec::new();
    let mut network = NetworkSymbols::default();
    for nsg in &plan.nsgs {
        let symbol = symbols.claim("nsg", &nsg.subnet);
        blocks.push(nsg_block(nsg, &symbol, tags)?);
        network.nsgs.insert(nsg.name.clone(), symbol);
    }
    if let Some(table) = &plan.route_table {
        #[derive(Serialize)]
        struct RouteView {
            name: String,
            prefix: String,
            next_hop_type: &'static str,
            next_hop_ip: Option<String>,
        }
        let symbol = symbols.claim("routeTable", "");
        let routes: Vec<RouteView> = table
            .routes
            .iter()
            .map(|r| RouteView {
                name: r.name.clone(),
                prefix: match &r.prefix {
                    Prefix::Cidr(net) => net.to_string(),
                    Prefix::ServiceTag(tag) => tag.clone(),
                },
                next_hop_type: match r.next_hop {
                    NextHop::Appliance(_) => "VirtualAppliance",
                    NextHop::Internet => "Internet",
                },
                next_hop_ip: match &r.next_hop {
                    NextHop::Appliance(ip) => Some(ip.clone()),
                    NextHop::Internet => None,
                },
            })
            .collect();
        let view = serde_json::json!({
            "symbol": symbol, "type": ResourceKind::RouteTable.bicep_type(), "name": table.name,
            "comment": "Forced tunnelling of the compute subnets.", "tags": tags, "routes": routes,
        });
        blocks.push(render("route_table.bicep", &view)?);
        network.route_table = Some(symbol);
    }
    if let Some(nat) = &plan.nat_gateway {
        let ip_symbol = symbols.claim("natPublicIp", "");
        let symbol = symbols.claim("natGateway", "");
        let view = serde_json::json!({
            "symbol": symbol, "type": ResourceKind::NatGateway.bicep_type(), "name": nat.name,
            "ip_symbol": ip_symbol, "ip_type": ResourceKind::PublicIpAddress.bicep_type(), "ip_name": nat.public_ip,
            "idle_timeout": nat.idle_timeout_minutes, "tags": tags,
        });
        blocks.push(render("nat_gateway.bicep", &view)?);
        network.nat_gateway = Some(symbol);
    }
    network.vnet = symbols.claim("vnet", "");
    blocks.push(vnet_block(plan, &network, tags)?);
    Ok((blocks, network.vnet))
}

fn vnet_block(plan: &Plan, network: &NetworkSymbols, tags: &[Tag]) -> Result<String, String> {
    let subnets: Vec<serde_json::Value> = plan
        .vnet
        .subnets
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name, "address_prefix": s.address_prefix,
                "nsg": s.nsg.as_ref().and_then(|n| network.nsgs.get(n)),
                "route_table": s.route_table.as_ref().and(network.route_table.as_ref()),
                "nat_gateway": s.nat_gateway.as_ref().and(network.nat_gateway.as_ref()),
                "service_endpoints": s.service_endpoints, "delegation": s.delegation,
                "network_policies_disabled": s.network_policies_disabled,
                "default_outbound_access": s.default_outbound_access,
            })
        })
        .collect();
    let view = serde_json::json!({
        "symbol": network.vnet, "type": ResourceKind::VirtualNetwork.bicep_type(), "name": plan.vnet.name,
        "tags": tags, "address_space": plan.vnet.address_space, "subnets": subnets,
    });
    render("virtual_network.bicep", &view)
}
