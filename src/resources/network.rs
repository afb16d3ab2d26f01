//! The network: an NSG per compute subnet with the profile's rules, the forced-tunnel route
//! table or the NAT gateway with its public IP, and the VNet with its subnets inline (so that
//! redeployments never delete them).

use super::Builder;
use crate::azure::resource::ResourceKind;
use crate::model::{Expr, Object, Resource, Value};
use crate::plan::{Address, NatGateway, Nsg, RouteTable, SecurityRule, Subnet};
use crate::routes::{NextHop, Prefix};

/// The NSGs, the route table or NAT gateway, then the VNet.
pub(super) fn resources(b: &mut Builder) -> Vec<Resource> {
    let plan = b.plan;
    let mut out: Vec<Resource> = plan.nsgs.iter().map(|n| nsg(b, n)).collect();
    out.extend(plan.route_tables.iter().map(|t| route_table(b, t)));
    if let Some(nat) = &plan.nat_gateway {
        out.extend(nat_gateway(b, nat));
    }
    out.push(virtual_network(b));
    out
}

fn nsg(b: &mut Builder, nsg: &Nsg) -> Resource {
    let symbol = b.symbols.claim("nsg", &nsg.subnet);
    b.refs.nsgs.insert(nsg.name.clone(), symbol.clone());
    let rules = nsg.rules.iter().map(security_rule).collect();
    b.located(
        ResourceKind::NetworkSecurityGroup,
        symbol,
        &nsg.name,
        format!("Rules for subnet {}.", nsg.subnet),
    )
    .with(
        "properties",
        Object::new().with_nonempty("securityRules", rules),
    )
}

/// `<key>` for one value, `<key>s` for several: Azure's two spellings of ports and prefixes.
fn one_or_many(object: Object, key: &str, values: Vec<String>) -> Object {
    match <[String; 1]>::try_from(values) {
        Ok([one]) => object.with(key, one),
        Err(many) => object.with(
            format!("{key}s"),
            many.into_iter().map(Value::from).collect::<Vec<_>>(),
        ),
    }
}

fn addresses(address: &Address) -> Vec<String> {
    match address {
        Address::One(one) => vec![one.clone()],
        Address::Many(many) => many.clone(),
    }
}

fn security_rule(rule: &SecurityRule) -> Value {
    let properties = Object::new()
        .with("description", rule.reason)
        .with("protocol", rule.protocol.arm_name())
        .with("sourcePortRange", "*");
    let ports = rule.ports.iter().map(|p| p.to_string()).collect();
    let properties = one_or_many(properties, "destinationPortRange", ports);
    let properties = one_or_many(properties, "sourceAddressPrefix", addresses(&rule.source));
    let properties = one_or_many(
        properties,
        "destinationAddressPrefix",
        addresses(&rule.destination),
    )
    .with("access", rule.access.arm_name())
    .with("priority", rule.priority)
    .with("direction", rule.direction.arm_name());
    named(rule.name, properties)
}

/// `{name, properties}`: how Azure writes inline children (rules, routes, subnets).
fn named(name: &str, properties: Object) -> Value {
    Value::Object(
        Object::new()
            .with("name", name)
            .with("properties", properties),
    )
}

fn route_table(b: &mut Builder, table: &RouteTable) -> Resource {
    let symbol = b.symbols.claim("routeTable", &table.kinds.join("-"));
    b.refs
        .route_tables
        .insert(table.name.clone(), symbol.clone());
    let routes = table
        .routes
        .iter()
        .map(|r| {
            let prefix = match &r.prefix {
                Prefix::Cidr(net) => net.to_string(),
                Prefix::ServiceTag(tag) => tag.clone(),
            };
            let (hop, ip) = match &r.next_hop {
                NextHop::Appliance(ip) => ("VirtualAppliance", Some(ip)),
                NextHop::Internet => ("Internet", None),
            };
            let properties = Object::new()
                .with("addressPrefix", prefix)
                .with("nextHopType", hop)
                .with_some("nextHopIpAddress", ip);
            named(&r.name, properties)
        })
        .collect();
    b.located(
        ResourceKind::RouteTable,
        symbol,
        &table.name,
        if table.bypass {
            format!(
                "Forced tunnelling of the compute subnets with public addresses, with the bypass routes of: {}.",
                table.kinds.join(", ")
            )
        } else {
            "Forced tunnelling of the compute subnets without public addresses.".to_string()
        },
    )
    .with(
        "properties",
        Object::new()
            .with("disableBgpRoutePropagation", true)
            .with("routes", Value::Array(routes)),
    )
}

/// The NAT gateway's static public IP, then the gateway.
fn nat_gateway(b: &mut Builder, nat: &NatGateway) -> [Resource; 2] {
    let ip_symbol = b.symbols.claim("natPublicIp", "");
    let symbol = b.symbols.claim("natGateway", "");
    b.refs.nat_gateway = Some(symbol.clone());
    let ip = super::machines::public_ip(
        b,
        ip_symbol.clone(),
        &nat.public_ip,
        "Outbound address of the NAT gateway.".to_string(),
    );
    let gateway = b
        .located(
            ResourceKind::NatGateway,
            symbol,
            &nat.name,
            "Outbound internet access of the compute subnets.".to_string(),
        )
        .with("sku", Object::new().with("name", "Standard"))
        .with(
            "properties",
            Object::new()
                .with("idleTimeoutInMinutes", nat.idle_timeout_minutes)
                .with("publicIpAddresses", vec![Value::id(Expr::Id(ip_symbol))]),
        );
    [ip, gateway]
}

fn virtual_network(b: &mut Builder) -> Resource {
    let vnet = &b.plan.vnet;
    let symbol = b.symbols.claim("vnet", "");
    b.refs.vnet = symbol.clone();
    let subnets = vnet.subnets.iter().map(|s| subnet(b, s)).collect();
    let prefixes: Vec<Value> = vnet.address_space.iter().map(Value::from).collect();
    b.located(
        ResourceKind::VirtualNetwork,
        symbol,
        &vnet.name,
        "The training VNet; subnets inline so redeployments never delete them.".to_string(),
    )
    .with(
        "properties",
        Object::new()
            .with(
                "addressSpace",
                Object::new().with("addressPrefixes", prefixes),
            )
            .with("subnets", Value::Array(subnets)),
    )
}

fn subnet(b: &Builder, subnet: &Subnet) -> Value {
    let refs = &b.refs;
    let id = |symbol: Option<&String>| symbol.map(|s| Value::id(Expr::Id(s.clone())));
    let disabled = subnet.network_policies_disabled.then_some("Disabled");
    let endpoints = subnet
        .service_endpoints
        .iter()
        .map(|s| Value::from(Object::new().with("service", s)))
        .collect();
    let delegations = subnet
        .delegation
        .iter()
        .map(|d| named("delegation", Object::new().with("serviceName", d)))
        .collect();
    let properties = Object::new()
        .with("addressPrefix", &subnet.address_prefix)
        .with_some(
            "networkSecurityGroup",
            id(subnet.nsg.as_ref().and_then(|n| refs.nsgs.get(n))),
        )
        .with_some(
            "routeTable",
            id(subnet
                .route_table
                .as_ref()
                .and_then(|t| refs.route_tables.get(t))),
        )
        .with_some(
            "natGateway",
            id(subnet.nat_gateway.as_ref().and(refs.nat_gateway.as_ref())),
        )
        .with_nonempty("serviceEndpoints", endpoints)
        .with_nonempty("delegations", delegations)
        .with_some("privateEndpointNetworkPolicies", disabled)
        .with_some("privateLinkServiceNetworkPolicies", disabled)
        .with("defaultOutboundAccess", subnet.default_outbound_access);
    named(&subnet.name, properties)
}
