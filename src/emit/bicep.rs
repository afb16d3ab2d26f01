//! The Bicep emitter: `main.bicep`, `computes.bicep` (when the workspace is in another resource
//! group) and `main.bicepparam`.
//!
//! Layout lives in Tera templates (`templates/`, embedded in the binary); this module builds
//! their view models from the plan and picks the template per resource with an exhaustive match.
//! Autoescaping with a Bicep string escape is on for every template, so no value from a spec can
//! leave its string literal; the only unescaped insertions (`| safe`) are symbols and
//! expressions built here. The output stays inside the Bicep subset that scanners parse (no
//! user-defined types, no imports).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Serialize;
use tera::{Context, Tera};

use super::Artifact;
use crate::azure::resource::ResourceKind;
use crate::plan::{Address, Compute, ComputeKind, Nsg, Parameter, Plan, SecurityRule};
use crate::routes::{NextHop, Prefix};

const TEMPLATES: &[(&str, &str)] = &[
    (
        "macros.bicep",
        include_str!("../../templates/macros.bicep.tera"),
    ),
    (
        "main.bicep",
        include_str!("../../templates/main.bicep.tera"),
    ),
    ("nsg.bicep", include_str!("../../templates/nsg.bicep.tera")),
    (
        "route_table.bicep",
        include_str!("../../templates/route_table.bicep.tera"),
    ),
    (
        "nat_gateway.bicep",
        include_str!("../../templates/nat_gateway.bicep.tera"),
    ),
    (
        "virtual_network.bicep",
        include_str!("../../templates/virtual_network.bicep.tera"),
    ),
    (
        "workspace.bicep",
        include_str!("../../templates/workspace.bicep.tera"),
    ),
    (
        "compute.bicep",
        include_str!("../../templates/compute.bicep.tera"),
    ),
    (
        "module.bicep",
        include_str!("../../templates/module.bicep.tera"),
    ),
    (
        "main.bicepparam",
        include_str!("../../templates/bicepparam.tera"),
    ),
];

/// The module file holding the computes of a workspace in another resource group.
const COMPUTES_FILE: &str = "computes.bicep";

/// Escapes text for the inside of a single-quoted Bicep string.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("\\$"),
            other => out.push(other),
        }
    }
    out
}

fn engine() -> Result<&'static Tera, String> {
    static ENGINE: OnceLock<Result<Tera, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut tera = Tera::default();
            tera.autoescape_on(vec![".bicep", ".bicepparam"]);
            tera.set_escape_fn(escape);
            tera.add_raw_templates(TEMPLATES.iter().copied())
                .map_err(|e| format!("{e:?}"))?;
            Ok(tera)
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn render(name: &str, view: &impl Serialize) -> Result<String, String> {
    let context = Context::from_serialize(view).map_err(|e| format!("{name}: {e:?}"))?;
    engine()?
        .render(name, &context)
        .map_err(|e| format!("{name}: {e:?}"))
}

/// Hands out Bicep identifiers, unique within one file.
#[derive(Debug, Default)]
struct Symbols {
    taken: BTreeSet<String>,
}

impl Symbols {
    fn new(reserved: impl IntoIterator<Item = &'static str>) -> Self {
        Self {
            taken: reserved.into_iter().map(String::from).collect(),
        }
    }

    /// `prefix` + the camel-cased `name`: (`nsg`, `snet-training`) -> `nsgSnetTraining`.
    fn claim(&mut self, prefix: &str, name: &str) -> String {
        let mut base = prefix.to_string();
        for part in name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|p| !p.is_empty())
        {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                base.push(first.to_ascii_uppercase());
                base.extend(chars);
            }
        }
        let mut symbol = base.clone();
        let mut n = 2;
        while !self.taken.insert(symbol.clone()) {
            symbol = format!("{base}{n}");
            n += 1;
        }
        symbol
    }
}

#[derive(Serialize)]
struct Tag {
    key: String,
    quoted: bool,
    value: String,
}

fn tags(plan: &Plan) -> Vec<Tag> {
    plan.tags
        .iter()
        .map(|(key, value)| {
            let identifier = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            Tag {
                key: key.clone(),
                quoted: !identifier,
                value: value.clone(),
            }
        })
        .collect()
}

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

fn network_blocks(
    plan: &Plan,
    symbols: &mut Symbols,
    tags: &[Tag],
) -> Result<(Vec<String>, NetworkSymbols), String> {
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
    Ok((blocks, network))
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

/// The workspace reference and the computes, for a file whose VNet ID expression is `vnet_id`.
fn compute_blocks(
    plan: &Plan,
    symbols: &mut Symbols,
    tags: &[Tag],
    vnet_id: &str,
) -> Result<Vec<String>, String> {
    let workspace = symbols.claim("workspace", "");
    let mut blocks = vec![render(
        "workspace.bicep",
        &serde_json::json!({"symbol": workspace, "type": ResourceKind::Workspace.bicep_type(), "name": plan.workspace.name}),
    )?];
    for compute in &plan.computes {
        blocks.push(compute_block(
            compute,
            symbols.claim("compute", &compute.name),
            &workspace,
            tags,
            vnet_id,
        )?);
    }
    Ok(blocks)
}

fn compute_block(
    compute: &Compute,
    symbol: String,
    workspace: &str,
    tags: &[Tag],
    vnet_id: &str,
) -> Result<String, String> {
    let (compute_type, what) = match &compute.kind {
        ComputeKind::Cluster(_) => ("AmlCompute", "Azure ML compute cluster"),
        ComputeKind::Instance(_) => ("ComputeInstance", "Azure ML compute instance"),
    };
    let (cluster, instance) = match &compute.kind {
        ComputeKind::Cluster(c) => (
            Some(serde_json::json!({
                "vm_size": c.vm_size, "vm_priority": c.vm_priority, "min_nodes": c.min_nodes, "max_nodes": c.max_nodes,
                "idle_before_scale_down": c.idle_before_scale_down, "public_ip": c.public_ip, "ssh": c.ssh,
            })),
            None,
        ),
        ComputeKind::Instance(i) => (
            None,
            Some(serde_json::json!({
                "vm_size": i.vm_size, "public_ip": i.public_ip, "ssh": i.ssh,
                "idle_before_shutdown": i.idle_before_shutdown, "assigned_user": i.assigned_user,
            })),
        ),
    };
    let view = serde_json::json!({
        "symbol": symbol, "type": ResourceKind::Compute.bicep_type(), "name": compute.name,
        "comment": format!("{what} in subnet {}.", compute.subnet), "workspace": workspace, "tags": tags,
        "compute_type": compute_type,
        "subnet_id": format!("'${{{vnet_id}}}/subnets/{}'", escape(&compute.subnet)),
        "cluster": cluster, "instance": instance,
    });
    render("compute.bicep", &view)
}

#[derive(Serialize)]
struct ParamView {
    name: &'static str,
    description: String,
    secure: bool,
    allowed: Vec<String>,
    default: Option<String>,
}

fn param_view(p: &Parameter, with_default: bool) -> ParamView {
    ParamView {
        name: p.name,
        description: p.description.clone(),
        secure: p.secure,
        allowed: if with_default {
            p.allowed.clone()
        } else {
            Vec::new()
        },
        default: if with_default {
            p.default.clone()
        } else {
            None
        },
    }
}

fn file(
    plan: &Plan,
    version: &str,
    parameters: Vec<ParamView>,
    blocks: Vec<String>,
) -> Result<String, String> {
    let view = serde_json::json!({
        "version": version, "name": plan.name, "profile": plan.profile.name,
        "readme_hint": "README.md explains every rule.", "parameters": parameters, "blocks": blocks,
    });
    render("main.bicep", &view)
}

/// Renders the Bicep files of `plan`.
pub(super) fn artifacts(plan: &Plan, version: &str) -> Result<Vec<Artifact>, String> {
    let tags = tags(plan);
    let reserved = plan.parameters.iter().map(|p| p.name).chain(["vnetId"]);
    let mut symbols = Symbols::new(reserved.clone());
    let (mut blocks, network) = network_blocks(plan, &mut symbols, &tags)?;
    let mut out = Vec::new();
    let vnet_id = format!("{}.id", network.vnet);
    match &plan.workspace.resource_group {
        None => blocks.extend(compute_blocks(plan, &mut symbols, &tags, &vnet_id)?),
        Some(group) => {
            let mut params: Vec<serde_json::Value> = plan
                .parameters
                .iter()
                .map(|p| serde_json::json!({"name": p.name, "value": p.name}))
                .collect();
            params.push(serde_json::json!({"name": "vnetId", "value": vnet_id}));
            let view = serde_json::json!({
                "symbol": symbols.claim("computes", ""), "path": COMPUTES_FILE, "group": group,
                "name": super::arm::computes_deployment_name(plan), "params": params,
            });
            blocks.push(render("module.bicep", &view)?);
            let mut module_symbols = Symbols::new(reserved);
            let module_blocks = compute_blocks(plan, &mut module_symbols, &tags, "vnetId")?;
            let mut module_params: Vec<ParamView> = plan
                .parameters
                .iter()
                .map(|p| param_view(p, false))
                .collect();
            module_params.push(ParamView {
                name: "vnetId",
                description: "Resource ID of the VNet whose subnets the computes join.".into(),
                secure: false,
                allowed: Vec::new(),
                default: None,
            });
            out.push(Artifact::new(
                COMPUTES_FILE,
                file(plan, version, module_params, module_blocks)?,
            ));
        }
    }
    let main = file(
        plan,
        version,
        plan.parameters
            .iter()
            .map(|p| param_view(p, true))
            .collect(),
        blocks,
    )?;
    out.insert(0, Artifact::new("main.bicep", main));
    out.push(Artifact::new("main.bicepparam", bicepparam(plan, version)?));
    Ok(out)
}

fn bicepparam(plan: &Plan, version: &str) -> Result<String, String> {
    let parameters: Vec<serde_json::Value> = plan
        .parameters
        .iter()
        .filter(|p| p.default.is_some() || p.env.is_some())
        .map(|p| serde_json::json!({"name": p.name, "value": p.default, "env": p.env}))
        .collect();
    render(
        "main.bicepparam",
        &serde_json::json!({"version": version, "parameters": parameters}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_values_inside_their_string() {
        assert_eq!(escape("a'b\\c${x}\n"), "a\\'b\\\\c\\${x}\\n");
    }

    #[test]
    fn symbols_are_camel_case_and_unique() {
        let mut symbols = Symbols::new(["location"]);
        assert_eq!(symbols.claim("nsg", "snet-training"), "nsgSnetTraining");
        assert_eq!(symbols.claim("nsg", "snet_training"), "nsgSnetTraining2");
        assert_eq!(symbols.claim("vnet", ""), "vnet");
        assert_eq!(symbols.claim("location", ""), "location2");
    }

    #[test]
    fn every_template_compiles() {
        assert!(engine().is_ok(), "{:?}", engine().err());
    }
}
