//! The `README.md` written beside the templates: what was generated, every NSG rule and route
//! with the reason it exists and its source, a diagram of the network and the deploy commands.
//!
//! Reviewers read this file in pull requests, so it explains the templates rather than repeating
//! them. It is rendered with Tera (no escaping: every name in it passed the schema's patterns).

use serde_json::{Value, json};
use tera::Tera;

use super::layout::{Error, Layouts};

use crate::azure::hdinsight::{GATEWAY_NODES, HEAD_NODES, ZOOKEEPER_NODES};
use crate::model::Template;
use crate::plan::{
    Address, Compute, ComputeKind, CreatedWorkspace, DatabricksWorkspace, Dependency, GlobalName,
    HdInsightCluster, Nsg, Plan, RoleName, SecurityRule, VirtualMachine,
};
use crate::profile::{Access, Direction, Protocol};
use crate::routes::{NextHop, Prefix, Route};
use crate::spec::Dns;

const TEMPLATE: &str = include_str!("../../templates/readme.md.tera");

/// The README layout (Markdown: nothing is escaped by Tera; each cell escapes its own text).
pub(super) static LAYOUTS: Layouts = Layouts::new(|| {
    let mut tera = Tera::default();
    tera.add_raw_template("README.md", TEMPLATE)?;
    Ok(tera)
});

/// `` `one` `` or `` `a`, `b` ``.
fn address(address: &Address) -> String {
    let all = match address {
        Address::One(one) => std::slice::from_ref(one),
        Address::Many(many) => many.as_slice(),
    };
    let mut out = String::new();
    for (i, one) in all.iter().enumerate() {
        out.push_str(if i == 0 { "`" } else { ", `" });
        out.push_str(one);
        out.push('`');
    }
    out
}

/// A Markdown table: the header and one row of cells per item. Cells have `|` escaped.
struct Table {
    header: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &'static [&'static str]) -> Self {
        Table {
            header,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table's lines; empty when it has no rows.
    fn text(&self) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let mut out = String::new();
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            out.push('|');
            for cell in cells {
                out.push(' ');
                if cell.contains('|') {
                    out.push_str(&cell.replace('|', "\\|"));
                } else {
                    out.push_str(cell);
                }
                out.push_str(" |");
            }
            out.push('\n');
        };
        line(&mut self.header.iter().copied());
        line(&mut self.header.iter().map(|_| "---"));
        for row in &self.rows {
            line(&mut row.iter().map(String::as_str));
        }
        out.pop();
        out
    }
}

/// `` `text` ``.
fn code(text: &str) -> String {
    format!("`{text}`")
}

/// `` `a`, `b` ``.
fn code_list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| code(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary(profile: &str) -> &'static str {
    if profile == "guide-2021" {
        "the 2021 guide's rules, exactly"
    } else {
        "today's Microsoft documentation"
    }
}

fn nsgs(plan: &Plan) -> Value {
    let nsgs: Vec<Value> = plan
        .nsgs
        .iter()
        .map(|n| {
            let mut table = Table::new(&[
                "Priority",
                "Direction",
                "Access",
                "Protocol",
                "Source",
                "Destination",
                "Ports",
                "Why",
                "Source of the rule",
            ]);
            for r in &n.rules {
                table.row(vec![
                    r.priority.to_string(),
                    r.direction.arm_name().to_string(),
                    if r.access == Access::Allow {
                        "Allow"
                    } else {
                        "**Deny**"
                    }
                    .to_string(),
                    match r.protocol {
                        Protocol::Tcp => "TCP",
                        Protocol::Udp => "UDP",
                        Protocol::Any => "Any",
                    }
                    .to_string(),
                    address(&r.source),
                    address(&r.destination),
                    r.ports.join(", "),
                    r.reason.to_string(),
                    citation(r),
                ]);
            }
            json!({"name": n.name, "subnet": n.subnet, "compute": n.compute, "rules": table.text(), "defaults": defaults(plan, n)})
        })
        .collect();
    Value::Array(nsgs)
}

/// The "Source of the rule" cell: a rule amlgen adds beyond the profile's documentation says so
/// first, then what its reason rests on.
fn citation(rule: &SecurityRule) -> String {
    if rule.addition {
        format!("{ADDITION}; its reason rests on: {}", rule.citation)
    } else {
        rule.citation.to_string()
    }
}

/// The marker of a rule amlgen adds beyond the profile's documentation.
const ADDITION: &str = "**amlgen's addition**";

/// Whether the route table of `subnet` holds a 0.0.0.0/0 route: Azure counts the prefixes of
/// user-defined routes in the `VirtualNetwork` tag, which then holds every address.
fn vnet_tag_is_everything(plan: &Plan, subnet: &str) -> bool {
    let table = plan
        .vnet
        .subnets
        .iter()
        .find(|s| s.name == subnet)
        .and_then(|s| s.route_table.as_ref())
        .and_then(|name| plan.route_tables.iter().find(|t| &t.name == name));
    table.is_some_and(|t| {
        t.routes
            .iter()
            .any(|r| matches!(r.prefix, Prefix::Cidr(net) if net.prefix_len() == 0))
    })
}

/// What Azure's default rules below `nsg`'s own do, as they really act here: the sentence
/// after its table. Under a 0.0.0.0/0 route the `VirtualNetwork` tag of `AllowVnetInBound` and
/// `AllowVnetOutBound` (and of any rule naming it) covers every address; an NSG without
/// `DenyInternetOutbound` leaves the internet to `AllowInternetOutBound`.
fn defaults(plan: &Plan, nsg: &Nsg) -> String {
    let everything = vnet_tag_is_everything(plan, &nsg.subnet);
    let tag = |a: &Address, name: &str| matches!(a, Address::One(one) if one == name);
    let outbound = || {
        nsg.rules
            .iter()
            .filter(|r| r.direction == Direction::Outbound)
    };
    let deny = outbound().find(|r| r.access == Access::Deny && tag(&r.destination, "Internet"));
    // An earlier allow of `VirtualNetwork` on every port matches every destination first.
    let shadow = deny.and_then(|deny| {
        outbound().find(|r| {
            everything
                && r.access == Access::Allow
                && r.priority < deny.priority
                && tag(&r.destination, "VirtualNetwork")
                && r.protocol == Protocol::Any
                && r.ports == ["*"]
        })
    });
    let inbound_rules = || {
        nsg.rules
            .iter()
            .filter(|r| r.direction == Direction::Inbound)
    };
    let deny_all = inbound_rules().find(|r| r.access == Access::Deny && tag(&r.source, "*"));
    // An earlier allow of `VirtualNetwork` on every port (Databricks' worker-to-worker rule)
    // admits every source first.
    let open_before = inbound_rules().find(|r| {
        everything
            && r.access == Access::Allow
            && deny_all.is_none_or(|d| r.priority < d.priority)
            && tag(&r.source, "VirtualNetwork")
            && r.ports == ["*"]
    });
    let inbound = match (open_before, deny_all) {
        (Some(open), _) => format!(
            "inbound: `{}` (priority {}) allows the `VirtualNetwork` tag, which includes the \
             route table's prefixes, here 0.0.0.0/0, so it allows every source that reaches the \
             subnet",
            open.name, open.priority
        ),
        (None, Some(deny)) if everything => format!(
            "inbound: everything the rules above do not allow is denied by `{}` (priority {}), \
             before Azure's `AllowVnetInBound`, whose `VirtualNetwork` tag here includes the \
             route table's 0.0.0.0/0",
            deny.name, deny.priority
        ),
        (None, _) if everything => "inbound: `AllowVnetInBound` allows the `VirtualNetwork` tag, \
             which includes the route table's prefixes, here 0.0.0.0/0, so it allows every \
             source that reaches the subnet and `DenyAllInBound` denies nothing"
            .to_string(),
        (None, _) => "inbound: VNet and load balancer allowed, everything else denied by \
                      `DenyAllInBound`"
            .to_string(),
    };
    let outbound = match (deny, shadow) {
        (Some(deny), Some(shadow)) => format!(
            "outbound: `{}` never fires, because `{}` (priority {}) above allows the \
             `VirtualNetwork` tag, which here includes the route table's 0.0.0.0/0: every \
             destination is allowed, and the appliance is the only egress control",
            deny.name, shadow.name, shadow.priority
        ),
        (Some(deny), None) if everything => format!(
            "outbound: Internet denied by `{}` above; `AllowVnetOutBound` allows the \
             `VirtualNetwork` tag, which here includes the route table's 0.0.0.0/0, so every \
             address outside the `Internet` tag is allowed",
            deny.name
        ),
        (Some(deny), None) => format!(
            "outbound: VNet allowed, Internet denied by `{}` above",
            deny.name
        ),
        (None, _) => "outbound: VNet allowed by `AllowVnetOutBound`, and Internet allowed by \
                      Azure's default `AllowInternetOutBound`: this NSG has no \
                      `DenyInternetOutbound`"
            .to_string(),
    };
    format!("{inbound}; {outbound}")
}

fn route_tables(plan: &Plan) -> Value {
    let tables = plan.route_tables.iter().map(|t| {
        let mut table = Table::new(&["Route", "Prefix", "Next hop", "Why", "Source of the rule"]);
        for r in &t.routes {
            table.row(vec![
                code(&r.name),
                match &r.prefix {
                    Prefix::Cidr(net) => net.to_string(),
                    Prefix::ServiceTag(tag) => format!("`{tag}` (service tag)"),
                },
                match &r.next_hop {
                    NextHop::Appliance(ip) => format!("appliance {ip}"),
                    NextHop::Internet => "Internet".to_string(),
                },
                r.reason.clone(),
                r.source.clone(),
            ]);
        }
        let subnets = code_list(&t.subnets);
        json!({"name": t.name, "subnets": subnets, "bypass": t.bypass, "routes": table.text()})
    });
    Value::Array(tables.collect())
}

fn egress(plan: &Plan) -> &'static str {
    if plan.nat_gateway.is_some() {
        "NAT gateway"
    } else if !plan.route_tables.is_empty() {
        "route table to the appliance"
    } else {
        "Azure default outbound access"
    }
}

fn subnets(plan: &Plan) -> String {
    let mut table = Table::new(&[
        "Subnet",
        "Prefix",
        "NSG",
        "Egress",
        "Default outbound access",
    ]);
    for s in &plan.vnet.subnets {
        table.row(vec![
            code(&s.name),
            s.address_prefix.clone(),
            s.nsg.as_deref().map_or("none".to_string(), code),
            if s.compute {
                egress(plan)
            } else {
                "(no compute)"
            }
            .to_string(),
            s.default_outbound_access.to_string(),
        ]);
    }
    table.text()
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// One row of the computes table.
struct Row {
    name: String,
    kind: String,
    size: String,
    subnets: Subnets,
    public_ip: &'static str,
    nodes: String,
    ssh: &'static str,
}

/// The subnets a compute is in; written as `` `a`, `b` ``.
struct Subnets(Vec<String>);

impl Subnets {
    fn of(names: &[&str]) -> Self {
        Subnets(names.iter().map(|n| n.to_string()).collect())
    }
}

impl Subnets {
    /// `` `a`, `b` ``.
    fn text(&self) -> String {
        code_list(&self.0)
    }
}

fn enabled(flag: bool) -> &'static str {
    if flag { "enabled" } else { "disabled" }
}

fn attached_suffix(attached: bool) -> &'static str {
    if attached { ", attached" } else { "" }
}

fn attached_ssh(attached: bool) -> &'static str {
    if attached {
        "key; Azure ML attaches over SSH"
    } else {
        "key"
    }
}

/// A cluster or instance of the workspace; attached machines get their own rows.
fn aml_row(c: &Compute) -> Option<Row> {
    let (kind, size, public_ip, nodes, ssh) = match &c.kind {
        ComputeKind::Cluster(k) => {
            let nodes = format!("{}-{} ({})", k.min_nodes, k.max_nodes, k.vm_priority);
            ("cluster", &k.vm_size, k.public_ip, nodes, k.ssh)
        }
        ComputeKind::Instance(i) => ("instance", &i.vm_size, i.public_ip, "1".into(), i.ssh),
        ComputeKind::Attached(_) => return None,
    };
    Some(Row {
        name: c.name.clone(),
        kind: kind.to_string(),
        size: size.clone(),
        subnets: Subnets::of(&[&c.subnet]),
        public_ip: yes_no(public_ip),
        nodes,
        ssh: enabled(ssh),
    })
}

fn vm_row(vm: &VirtualMachine) -> Row {
    Row {
        name: vm.name.clone(),
        kind: format!("VM, {}{}", vm.image.name, attached_suffix(vm.attach)),
        size: vm.size.clone(),
        subnets: Subnets::of(&[&vm.subnet]),
        public_ip: yes_no(vm.public_ip.is_some()),
        nodes: "1".into(),
        ssh: attached_ssh(vm.attach),
    }
}

fn hdinsight_row(hdi: &HdInsightCluster) -> Row {
    Row {
        name: hdi.name.clone(),
        kind: format!(
            "HDInsight {}{}",
            hdi.definition.kind,
            attached_suffix(hdi.attach)
        ),
        size: format!("{} (head), {} (worker)", hdi.head_size, hdi.worker_size),
        subnets: Subnets::of(&[&hdi.subnet]),
        public_ip: "no",
        nodes: format!(
            "{HEAD_NODES} head + {} worker + {ZOOKEEPER_NODES} ZooKeeper (+{GATEWAY_NODES} gateway)",
            hdi.workers
        ),
        ssh: attached_ssh(hdi.attach),
    }
}

fn databricks_row(d: &DatabricksWorkspace) -> Row {
    Row {
        name: d.name.clone(),
        kind: format!("Databricks ({})", d.sku),
        size: "per cluster".into(),
        subnets: Subnets::of(&[&d.public_subnet, &d.private_subnet]),
        public_ip: yes_no(!d.no_public_ip),
        nodes: "per cluster".into(),
        ssh: "no",
    }
}

/// Every compute of the spec: the workspace's own, then VMs, HDInsight and Databricks.
fn computes(plan: &Plan) -> Vec<Row> {
    let mut rows: Vec<Row> = plan.computes.iter().filter_map(aml_row).collect();
    rows.extend(plan.virtual_machines.iter().map(vm_row));
    rows.extend(plan.hdinsight_clusters.iter().map(hdinsight_row));
    rows.extend(plan.databricks.iter().map(databricks_row));
    rows
}

/// The computes table.
fn computes_table(plan: &Plan) -> String {
    let mut table = Table::new(&[
        "Name",
        "Kind",
        "Size",
        "Subnet",
        "Public IP",
        "Nodes",
        "SSH",
    ]);
    for row in computes(plan) {
        table.row(vec![
            code(&row.name),
            row.kind,
            row.size,
            row.subnets.text(),
            row.public_ip.to_string(),
            row.nodes,
            row.ssh.to_string(),
        ]);
    }
    table.text()
}

fn permissions(plan: &Plan) -> Value {
    let Some(role) = &plan.role else {
        return Value::Null;
    };
    let mut actions = Table::new(&["Action", "Why"]);
    for a in role.actions {
        actions.row(vec![code(a.action), a.reason.to_string()]);
    }
    let mut assignments = Table::new(&["Principal", "Type"]);
    for a in &role.assignments {
        assignments.row(vec![code(&a.object_id), a.principal_type.to_string()]);
    }
    json!({
        "name": match role.name() {
            RoleName::Given(name) => name.to_string(),
            RoleName::ResourceGroupSuffixed(prefix) => format!("{prefix}<resource group>"),
        },
        "vnet": role.vnet,
        "actions": actions.text(),
        "assignments": assignments.text(),
    })
}

/// A Mermaid flowchart: computes in their subnets inside the VNet, and each compute subnet's
/// egress path: the NAT gateway, Azure's default outbound access, or under forced tunnelling its
/// route table (bypass tables included) with the appliance it sends traffic to and the routes
/// that leave directly.
fn diagram(plan: &Plan) -> Vec<String> {
    let mut lines = vec![format!(
        "subgraph vnet[\"VNet {} ({})\"]",
        plan.vnet.name,
        plan.vnet.address_space.join(", ")
    )];
    for (i, s) in plan.vnet.subnets.iter().enumerate() {
        lines.push(format!("  s{i}[\"{} {}\"]", s.name, s.address_prefix));
    }
    lines.push("end".to_string());
    let compute_subnets = || {
        plan.vnet
            .subnets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.compute)
    };
    if let Some(nat) = &plan.nat_gateway {
        lines.push(format!(
            "nat[\"NAT gateway {}\"] --> internet((Internet))",
            nat.name
        ));
    }
    if compute_subnets().any(|(_, s)| s.nat_gateway.is_none() && s.route_table.is_none()) {
        lines.push("default[\"default outbound access\"] --> internet((Internet))".to_string());
    }
    lines.extend(route_table_lines(plan));
    for (i, s) in compute_subnets() {
        let table = s
            .route_table
            .as_ref()
            .and_then(|name| plan.route_tables.iter().position(|t| &t.name == name));
        let exit = match (&s.nat_gateway, table) {
            (Some(_), _) => "nat".to_string(),
            (None, Some(k)) => format!("rt{k}"),
            (None, None) => "default".to_string(),
        };
        lines.push(format!("s{i} --> {exit}"));
    }
    lines.extend(endpoint_lines(plan));
    for (i, row) in computes(plan).iter().enumerate() {
        let mut node = format!("c{i}([\"{}\"])", row.name);
        for subnet in &row.subnets.0 {
            if let Some(s) = plan.vnet.subnets.iter().position(|s| &s.name == subnet) {
                lines.push(format!("{node} --- s{s}"));
                node = format!("c{i}");
            }
        }
    }
    lines
}

/// The private endpoints in their subnet, each to the DNS that resolves it.
fn endpoint_lines(plan: &Plan) -> Vec<String> {
    let Some(endpoints) = &plan.private_endpoints else {
        return Vec::new();
    };
    let Some(s) = plan
        .vnet
        .subnets
        .iter()
        .position(|s| s.name == endpoints.subnet)
    else {
        return Vec::new();
    };
    let dns = match endpoints.dns {
        Dns::Create => "private DNS zones, linked to the VNet",
        Dns::Existing => "the hub's private DNS zones",
        Dns::Policy => "records Azure Policy registers",
    };
    let mut lines = vec![format!("dns[(\"{dns}\")]")];
    for (i, endpoint) in endpoints.endpoints.iter().enumerate() {
        lines.push(format!(
            "pe{i}[[\"endpoint {}\"]] --- s{s}",
            endpoint.target.group_id()
        ));
        lines.push(format!("pe{i} -.- dns"));
    }
    lines
}

/// The route tables of the diagram: each appliance once (`applianceN`, leading to the
/// internet), each table (`rtK`) with an edge per appliance it routes to, labelled with the
/// prefixes, and one edge to the internet for its bypass routes.
fn route_table_lines(plan: &Plan) -> Vec<String> {
    let label = |routes: &[&Route]| {
        let tags: Vec<&str> = routes
            .iter()
            .filter_map(|r| match &r.prefix {
                Prefix::ServiceTag(tag) => Some(tag.as_str()),
                Prefix::Cidr(_) => None,
            })
            .collect();
        let cidrs: Vec<String> = routes
            .iter()
            .filter_map(|r| match &r.prefix {
                Prefix::Cidr(net) => Some(net.to_string()),
                Prefix::ServiceTag(_) => None,
            })
            .collect();
        let mut parts: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        match cidrs.len() {
            0 => {}
            1 | 2 => parts.extend(cidrs),
            n => parts.push(format!("{n} prefixes")),
        }
        parts.join(", ")
    };
    let mut appliances: Vec<&str> = Vec::new();
    let mut lines = Vec::new();
    for (k, table) in plan.route_tables.iter().enumerate() {
        lines.push(format!("rt{k}{{{{\"route table {}\"}}}}", table.name));
        let mut hops: Vec<&str> = Vec::new();
        for route in &table.routes {
            if let NextHop::Appliance(ip) = &route.next_hop {
                if !hops.contains(&ip.as_str()) {
                    hops.push(ip);
                }
            }
        }
        for ip in hops {
            let n = match appliances.iter().position(|a| *a == ip) {
                Some(n) => n,
                None => {
                    appliances.push(ip);
                    lines.push(format!(
                        "appliance{}[\"appliance {ip}\"] --> internet((Internet))",
                        appliances.len() - 1
                    ));
                    appliances.len() - 1
                }
            };
            let to: Vec<&Route> = table
                .routes
                .iter()
                .filter(|r| r.next_hop == NextHop::Appliance(ip.to_string()))
                .collect();
            lines.push(format!("rt{k} -->|{}| appliance{n}", label(&to)));
        }
        let bypass: Vec<&Route> = table
            .routes
            .iter()
            .filter(|r| r.next_hop == NextHop::Internet)
            .collect();
        if !bypass.is_empty() {
            lines.push(format!(
                "rt{k} -->|bypass: {}| internet((Internet))",
                label(&bypass)
            ));
        }
    }
    lines
}

/// Every resource the deployment creates, the module's included, in output order, named as
/// Bicep writes them.
fn resources(template: &Template) -> String {
    let mut table = Table::new(&["Type", "Name", "API version"]);
    for t in std::iter::once(template).chain(template.modules().map(|m| &m.template)) {
        for r in t.resources().filter(|r| !r.existing) {
            table.row(vec![
                code(r.kind.arm_type()),
                code(&super::bicep::name_text(t, r)),
                r.kind.api_version().to_string(),
            ]);
        }
    }
    table.text()
}

/// Every scanner check a resource suppresses, with its reason, as the templates write it.
fn suppressions(template: &Template) -> String {
    let mut table = Table::new(&["Resource", "Check", "Reason"]);
    for t in std::iter::once(template).chain(template.modules().map(|m| &m.template)) {
        for r in t.resources() {
            for s in &r.suppressions {
                let name = super::bicep::name_text(t, r);
                table.row(vec![code(&name), code(s.check), s.reason.clone()]);
            }
        }
    }
    table.text()
}

/// The VMs with encryption at host on, as `` `a`, `b` `` (empty when none): their deployment
/// needs the subscription's `Microsoft.Compute/EncryptionAtHost` feature.
fn encryption_at_host(plan: &Plan) -> String {
    let names: Vec<&str> = plan
        .virtual_machines
        .iter()
        .filter(|vm| vm.encryption_at_host)
        .map(|vm| vm.name.as_str())
        .collect();
    match names.len() {
        0 => String::new(),
        1 => format!("VM {}", code_list(&names)),
        _ => format!("VMs {}", code_list(&names)),
    }
}

/// How a global name reads: `kv-fraud` or `kv-fraud` + `uniqueString(resourceGroup().id)`.
fn global_name(name: &GlobalName) -> String {
    if name.unique {
        format!(
            "`{}` + 13 characters of `uniqueString(resourceGroup().id)`",
            name.text
        )
    } else {
        code(&name.text)
    }
}

/// One row per dependency of a created workspace: what it is, its name, how it is hardened.
fn dependency_rows(created: &CreatedWorkspace, table: &mut Table) {
    let rows = [
        (
            "Storage account",
            &created.storage,
            "StorageV2, Standard_GRS, TLS 1.2, HTTPS only, no public blob access; firewall denies all networks, admits the workspace (resource-instance rule) and trusted Azure services",
        ),
        (
            "Key vault",
            &created.key_vault,
            "Azure RBAC, purge protection, soft delete 90 days, public access off",
        ),
        (
            "Container registry",
            &created.registry,
            "Premium, admin user off, public access off, trusted Azure services allowed",
        ),
        (
            "Application Insights",
            &created.insights,
            "workspace-based, on Log Analytics workspace below",
        ),
    ];
    for (kind, dependency, settings) in rows {
        let (name, settings) = match dependency {
            Dependency::Create(name) => (global_name(name), settings.to_string()),
            Dependency::Existing(id) => (
                code(&id.name),
                format!(
                    "existing, in resource group `{}` of subscription `{}`: its settings and private endpoint are its owner's",
                    id.resource_group, id.subscription
                ),
            ),
        };
        table.row(vec![kind.to_string(), name, settings]);
    }
    if matches!(created.insights, Dependency::Create(_)) {
        table.row(vec![
            "Log Analytics workspace".to_string(),
            code(&created.log_analytics),
            "PerGB2018, 30 days".to_string(),
        ]);
    }
}

/// The roles the template assigns for a created workspace, one line each.
fn roles(plan: &Plan, created: &CreatedWorkspace) -> Vec<String> {
    let storage_here = matches!(created.storage, Dependency::Create(_));
    let mut lines = Vec::new();
    if storage_here && plan.private_endpoints.is_some() {
        lines.push("the workspace's identity: Reader on the storage's blob and file endpoints (studio reaches data through them)".to_string());
    }
    let data = storage_here && created.identity_datastores;
    if data {
        let clusters: Vec<&str> = plan
            .computes
            .iter()
            .filter(|c| matches!(c.kind, ComputeKind::Cluster(_)))
            .map(|c| c.name.as_str())
            .collect();
        if !clusters.is_empty() {
            lines.push(format!(
                "the identity of each cluster ({}): Storage Blob Data Contributor on the storage",
                code_list(&clusters)
            ));
        }
    }
    for person in plan.role.iter().flat_map(|r| &r.assignments) {
        let storage = if data {
            ", Storage Blob Data Contributor and Storage File Data Privileged Contributor on the storage"
        } else {
            ""
        };
        lines.push(format!(
            "{} `{}`: AzureML Data Scientist on the workspace{storage}",
            person.principal_type, person.object_id
        ));
    }
    lines
}

/// The created workspace's settings, its dependencies, the private endpoints with their zones,
/// and what the deployer must know; `Null` when the template creates neither.
fn secured_workspace(plan: &Plan) -> Value {
    let created = plan.workspace.created.as_ref();
    let Some(endpoints) = &plan.private_endpoints else {
        return Value::Null;
    };
    let mut dependencies = Table::new(&["Resource", "Name", "Settings"]);
    if let Some(created) = created {
        let access = if created.public_network_access {
            "public network access on"
        } else {
            "public network access off"
        };
        let mode = match (&created.storage, created.identity_datastores) {
            (Dependency::Create(_), true) => "`Identity` (the storage's shared keys are off)",
            (Dependency::Existing(_), true) => "`Identity`",
            (_, false) => "`AccessKey` (a compute instance needs the storage's keys)",
        };
        let builds = match &created.image_build_compute {
            Some(cluster) => format!("images built on cluster `{cluster}`"),
            None => "no cluster to build images on (the spec has no Azure ML compute)".to_string(),
        };
        let serverless = match &created.serverless {
            Some(s) if s.no_public_ip => {
                format!(", serverless compute in `{}` without public IPs", s.subnet)
            }
            Some(s) => format!(", serverless compute in `{}`", s.subnet),
            None => String::new(),
        };
        dependencies.row(vec![
            "Azure ML workspace".to_string(),
            code(&plan.workspace.name),
            format!(
                "{access}, system-assigned identity, v1 legacy mode off, HBI {}, system datastores {mode}, {builds}{serverless}",
                yes_no(created.hbi),
            ),
        ]);
        dependency_rows(created, &mut dependencies);
    }
    let mut table = Table::new(&["Endpoint", "Sub-resource", "DNS zones"]);
    for endpoint in &endpoints.endpoints {
        let zones = endpoint.target.zones(crate::plan::CLOUD);
        let zones = match endpoints.dns {
            Dns::Policy => "registered by Azure Policy".to_string(),
            _ => code_list(zones),
        };
        table.row(vec![
            code(&endpoint.name),
            code(endpoint.target.group_id()),
            zones,
        ]);
    }
    let dns = match endpoints.dns {
        Dns::Create => format!(
            "The template creates each zone, links it to `{}` and registers every endpoint in its zones (zone groups). A VNet can link only one zone of a name: if a hub's zones are already linked to this VNet, use `dns: existing`.",
            plan.vnet.name
        ),
        Dns::Existing => "The endpoints register in existing zones, given by resource ID (a hub's). Those zones must resolve in this VNet: linked to it, or reached through the hub's DNS forwarding; `amlgen verify` lists this as an assumption.".to_string(),
        Dns::Policy => "The endpoints have no zone groups: Azure Policy (a `deployIfNotExists` policy of the landing zone) must register their records, or their names resolve to public addresses; `amlgen verify` lists this as an assumption.".to_string(),
    };
    json!({
        "created": created.is_some(),
        "roles": created.map(|c| roles(plan, c)).unwrap_or_default(),
        "dependencies": dependencies.text(),
        "endpoints": table.text(),
        "subnet": endpoints.subnet,
        "dns": dns,
        "locked": plan.intent.outbound == "locked",
        "private_only": created.is_some_and(|c| !c.public_network_access),
        "image_build_compute": created.and_then(|c| c.image_build_compute.clone()),
        "vault_created": created.is_some_and(|c| matches!(c.key_vault, Dependency::Create(_))),
        "storage_existing": created.is_some_and(|c| matches!(c.storage, Dependency::Existing(_)) && c.identity_datastores),
    })
}

/// The schema of an ARM parameters file.
const PARAMETERS_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#";

/// Renders `README.md` for `plan`, whose model is `template`.
pub(super) fn render(plan: &Plan, template: &Template, version: &str) -> Result<String, Error> {
    let secrets: Vec<_> = plan
        .parameters
        .iter()
        .filter_map(|p| Some((p, p.env.as_ref()?)))
        .collect();
    let secrets_setup: Vec<String> = secrets
        .iter()
        .map(|(_, env)| format!("{}   # read by main.bicepparam", env.setup))
        .collect();
    // The ARM path reads the secrets from a parameters file that jq builds from the
    // environment ($ENV), so no secret is ever an argument of a process.
    let members: Vec<String> = secrets
        .iter()
        .map(|(p, env)| format!("{}: {{value: $ENV.{}}}", p.name, env.name))
        .collect();
    let arm_secrets = (!members.is_empty()).then(|| {
        format!(
            "(umask 077; jq -n '{{\"$schema\": \"{PARAMETERS_SCHEMA}\", contentVersion: \"1.0.0.0\", parameters: {{{}}}}}' > secrets.parameters.json)",
            members.join(", ")
        )
    });
    let resources = resources(template);
    let view = json!({
        "name": plan.name, "version": version, "profile": plan.profile.name, "profile_summary": summary(plan.profile.name),
        "location": plan.location, "workspace": plan.workspace.name, "workspace_group": plan.workspace.resource_group,
        "module": plan.workspace.resource_group.is_some(),
        "secrets_setup": secrets_setup, "arm_secrets": arm_secrets, "encryption_at_host": encryption_at_host(plan),
        "private_compute": plan.private_endpoints.is_none() && plan.computes.iter().any(|c| matches!(&c.kind, ComputeKind::Cluster(k) if !k.public_ip) || matches!(&c.kind, ComputeKind::Instance(i) if !i.public_ip)),
        "diagram": diagram(plan), "subnets": subnets(plan), "nsgs": nsgs(plan),
        "additions": plan.nsgs.iter().flat_map(|n| &n.rules).any(|r| r.addition), "addition": ADDITION,
        "empty_nsg_reason": "the computes here need no inbound rule, and outbound is open.",
        "route_tables": route_tables(plan),
        "computes": computes_table(plan), "suppressions": suppressions(template), "resources": resources, "permissions": permissions(plan),
        "databricks": plan.databricks.iter().map(|d| json!({"name": d.name, "managed_group": d.managed_group})).collect::<Vec<_>>(),
        "secured": secured_workspace(plan),
    });
    LAYOUTS.render("README.md", view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::spec;
    use serde_json::json;

    /// The README of the fixture spec changed by `patch`.
    fn readme(patch: impl FnOnce(&mut serde_json::Value)) -> String {
        let plan = crate::plan::build(&spec(patch), None);
        let template = crate::resources::build(&plan);
        render(&plan, &template, "0").unwrap()
    }

    fn push(v: &mut serde_json::Value, compute: serde_json::Value) {
        v["compute"].as_array_mut().unwrap().push(compute);
    }

    fn secured(v: &mut serde_json::Value, dns: &str) {
        v["workspace"] = serde_json::json!({"name": "mlw-demo", "create": true});
        v["network"]["subnets"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": "snet-pe", "address_prefix": "10.0.9.0/27"}));
        v["network"]["private_endpoints"] = serde_json::json!({"subnet": "snet-pe", "dns": dns});
    }

    #[test]
    fn a_created_workspace_is_listed_with_its_endpoints_zones_and_what_to_know() {
        let text = readme(|v| secured(v, "create"));
        for part in [
            "## Workspace and private endpoints",
            "| `pe-demo-amlworkspace` | `amlworkspace` | `privatelink.api.azureml.ms`, `privatelink.notebooks.azure.net` |",
            "| `pe-demo-vault` | `vault` | `privatelink.vaultcore.azure.net` |",
            "system datastores `AccessKey` (a compute instance needs the storage's keys)",
            "links it to `vnet-demo`",
            "its name stays taken for 90",
            "pe0[[\"endpoint amlworkspace\"]] --- s2",
        ] {
            assert!(text.contains(part), "{part}\n{text}");
        }
        assert!(!text.contains("need the workspace's private endpoint to exist first"));
        let policy = readme(|v| secured(v, "policy"));
        assert!(
            policy.contains("| `pe-demo-blob` | `blob` | registered by Azure Policy |"),
            "{policy}"
        );
        assert!(!readme(|_| {}).contains("## Workspace and private endpoints"));
    }

    #[test]
    fn deploys_preview_first_remove_what_is_no_longer_declared_and_keep_secrets_off_arguments() {
        let text = readme(|v| {
            push(
                v,
                json!({"name": "vm-a", "type": "virtualmachine", "subnet": "snet-b", "attach": true}),
            );
            v["network"]["ssh"] = json!({"allow_from": ["198.51.100.0/24"]});
        });
        let deploy = &text[text.find("## Deploy").unwrap()..text.find("## Network").unwrap()];
        for block in deploy.split("```sh").skip(1) {
            let block = &block[..block.find("```").unwrap()];
            let what_if = block.find("az deployment group what-if").unwrap();
            let stack = block.find("az stack group create").unwrap();
            assert!(what_if < stack, "{block}");
            assert!(
                block.contains(
                    "--action-on-unmanage deleteResources --deny-settings-mode denyDelete"
                )
            );
            assert!(!block.contains("az deployment group create"), "{block}");
            // A secret is never a value on a command line.
            for line in block.lines().filter(|l| l.starts_with("az ")) {
                assert!(!line.contains("=\"$"), "{line}");
            }
        }
        assert!(
            deploy.contains("sshPrivateKey: {value: $ENV.AMLGEN_SSH_PRIVATE_KEY}"),
            "{deploy}"
        );
        assert!(deploy.contains("(umask 077; jq -n"), "{deploy}");
    }

    #[test]
    fn encryption_at_host_is_off_by_default_and_when_on_the_deploy_section_registers_it() {
        let vm = json!({"name": "vm-a", "type": "virtualmachine", "subnet": "snet-b"});
        let off = readme(|v| push(v, vm.clone()));
        assert!(!off.contains("az feature"), "{off}");
        // checkov's encryption-at-host checks are suppressed, with the reason, only when it is off.
        assert!(
            off.contains("| `CKV_AZURE_97` | encryption at host is off"),
            "{off}"
        );
        let on = readme(|v| {
            push(v, vm.clone());
            v["compute"][2]["encryption_at_host"] = json!(true);
        });
        let deploy = &on[on.find("## Deploy").unwrap()..on.find("## Network").unwrap()];
        let steps = [
            "az feature register --namespace Microsoft.Compute --name EncryptionAtHost\n",
            "az feature show --namespace Microsoft.Compute --name EncryptionAtHost",
            "az provider register --namespace Microsoft.Compute\n",
            "az deployment group create",
        ];
        let at: Vec<usize> = steps
            .iter()
            .map(|s| deploy.find(s).unwrap_or_else(|| panic!("{s}\n{deploy}")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{deploy}");
        assert!(deploy.contains("`vm-a`"), "{deploy}");
        assert!(!on.contains("CKV_AZURE_97"), "{on}");
    }

    fn tunnel(v: &mut serde_json::Value) {
        v["network"]["egress"] = json!("forced_tunnel");
        v["network"]["forced_tunnel"] = json!({"next_hop_ip": "10.9.0.4"});
    }

    /// A public-IP cluster in `snet-a` (bypass table) and a no-public-IP instance in `snet-b`.
    fn two_tables(v: &mut serde_json::Value) {
        tunnel(v);
        v["compute"][1]["subnet"] = json!("snet-b");
        v["compute"][1]["enable_node_public_ip"] = json!(false);
    }

    /// The lines of the README's Mermaid diagram.
    fn diagram_of(readme: &str) -> Vec<String> {
        let start = readme.find("```mermaid\n").unwrap();
        let end = start + readme[start..].find("\n```\n").unwrap();
        readme[start..end]
            .lines()
            .map(|l| l.trim().to_string())
            .collect()
    }

    /// The section of the NSG of `subnet`, up to the next heading.
    fn nsg_section<'a>(readme: &'a str, subnet: &str) -> &'a str {
        let start = readme
            .find(&format!("(subnet `{subnet}`)"))
            .unwrap_or_else(|| panic!("no NSG for {subnet}"));
        let end = readme[start..]
            .find("\n#")
            .map_or(readme.len(), |e| start + e);
        &readme[start..end]
    }

    #[test]
    fn the_diagram_shows_every_route_table_with_its_subnets_and_appliance() {
        let spec = spec(two_tables);
        let plan = crate::plan::build(&spec, None);
        assert_eq!(plan.route_tables.len(), 2);
        let template = crate::resources::build(&plan);
        let lines = diagram_of(&render(&plan, &template, "0").unwrap());
        assert!(
            lines.contains(&"appliance0[\"appliance 10.9.0.4\"] --> internet((Internet))".into()),
            "{lines:#?}"
        );
        for (k, table) in plan.route_tables.iter().enumerate() {
            let expected = [
                format!("rt{k}{{{{\"route table {}\"}}}}", table.name),
                format!("rt{k} -->|0.0.0.0/0| appliance0"),
            ];
            for line in expected {
                assert!(lines.contains(&line), "{line}\n{lines:#?}");
            }
            for subnet in &table.subnets {
                let i = plan.vnet.subnets.iter().position(|s| &s.name == subnet);
                let line = format!("s{} --> rt{k}", i.unwrap());
                assert!(lines.contains(&line), "{line}\n{lines:#?}");
            }
            let bypass = format!("rt{k} -->|bypass: AzureMachineLearning| internet((Internet))");
            assert_eq!(lines.contains(&bypass), table.bypass, "{lines:#?}");
        }
        assert!(
            !lines
                .iter()
                .any(|l| l.starts_with('s') && l.ends_with("--> appliance0")),
            "{lines:#?}"
        );
        let nat = diagram_of(&readme(|_| {}));
        assert!(nat.contains(&"s0 --> nat".to_string()), "{nat:#?}");
        assert!(!nat.iter().any(|l| l.starts_with("rt")), "{nat:#?}");
    }

    /// Asserts that `section` holds each of `present` and none of `absent`.
    fn holds(section: &str, present: &[&str], absent: &[&str]) {
        for text in present {
            assert!(section.contains(text), "lacks {text}:\n{section}");
        }
        for text in absent {
            assert!(!section.contains(text), "has {text}:\n{section}");
        }
    }

    #[test]
    fn the_sentence_after_each_nsg_says_what_the_default_rules_really_do() {
        let deny_holds = "Internet denied by `DenyInternetOutbound` above";
        // Open outbound: no DenyInternetOutbound, so Azure's AllowInternetOutBound allows it.
        let open = readme(|_| {});
        let allowed = "Internet allowed by Azure's default `AllowInternetOutBound`";
        holds(
            nsg_section(&open, "snet-a"),
            &[allowed],
            &["`DenyInternetOutbound` above"],
        );
        // Locked outbound without a tunnel: the deny holds, and inbound really is denied.
        let locked = readme(|v| v["network"]["outbound"] = json!("locked"));
        let inbound_denied = "everything else denied by `DenyAllInBound`";
        holds(
            nsg_section(&locked, "snet-a"),
            &[deny_holds, inbound_denied],
            &[],
        );
        // Under a 0.0.0.0/0 route the VirtualNetwork tag holds every address: nothing is
        // "everything else denied" inbound.
        let tunnelled = readme(|v| {
            two_tables(v);
            v["network"]["outbound"] = json!("locked");
        });
        holds(&tunnelled, &[], &["everything else denied"]);
        for subnet in ["snet-a", "snet-b"] {
            let denied = "everything the rules above do not allow is denied by `DenyAllInbound` (priority 4096)";
            holds(
                nsg_section(&tunnelled, subnet),
                &[denied, deny_holds],
                &["denies nothing"],
            );
        }
        // Databricks' VirtualNetwork rule at 100 matches everything first: the deny never fires.
        let databricks = readme(|v| {
            tunnel(v);
            v["network"]["outbound"] = json!("locked");
            let dbw = json!({"name": "dbw", "type": "databricks", "public_subnet": "dbw-public", "private_subnet": "dbw-private"});
            push(v, dbw);
            for (name, prefix) in [
                ("dbw-public", "10.0.2.0/26"),
                ("dbw-private", "10.0.2.64/26"),
            ] {
                let subnet = json!({"name": name, "address_prefix": prefix, "delegation": "Microsoft.Databricks/workspaces"});
                v["network"]["subnets"].as_array_mut().unwrap().push(subnet);
            }
        });
        for subnet in ["dbw-public", "dbw-private"] {
            let never = "`DenyInternetOutbound` never fires";
            let admitted =
                "worker-to-worker-inbound` (priority 100) allows the `VirtualNetwork` tag";
            holds(
                nsg_section(&databricks, subnet),
                &[never, admitted],
                &["Internet denied", "do not allow is denied"],
            );
        }
        holds(nsg_section(&databricks, "snet-a"), &[deny_holds], &[]);
    }

    #[test]
    fn rules_amlgen_adds_are_marked_and_the_documented_ones_are_not() {
        let marked = |section: &str, rule: &str| {
            let row = section
                .lines()
                .find(|l| l.contains(rule))
                .unwrap_or_else(|| panic!("no row for {rule}:\n{section}"));
            row.contains("| **amlgen's addition**; its reason rests on: ")
        };
        for requirements in ["guide-2021", "current"] {
            let locked = readme(|v| {
                tunnel(v);
                v["requirements"] = json!(requirements);
                v["network"]["outbound"] = json!("locked");
            });
            assert!(
                locked.contains("Rules marked **amlgen's addition**"),
                "{locked}"
            );
            let section = nsg_section(&locked, "snet-a");
            // Rows are told apart by their reasons' opening words.
            for addition in [
                "Private endpoints (workspace, storage over HTTPS and SMB",
                "Against lateral movement",
                "Traffic between hosts of the VNet, named by its own address space",
                "Azure's load balancer health probes",
                "Forced tunnelling puts 0.0.0.0/0 in the VirtualNetwork tag",
            ] {
                assert!(
                    marked(section, addition),
                    "{requirements}: {addition}\n{section}"
                );
            }
            assert!(!marked(section, "Azure Resource Manager."), "{section}");
            // The guide asks to deny outbound internet itself; today's documentation does not.
            let deny = marked(
                section,
                "internet destinations the rules above do not allow",
            );
            assert_eq!(deny, requirements == "current", "{section}");
        }
    }

    #[test]
    fn tables_escape_pipes_and_vanish_without_rows() {
        let mut table = Table::new(&["A", "B"]);
        assert_eq!(table.text(), "");
        table.row(vec!["x|y".into(), "`z`".into()]);
        assert_eq!(table.text(), "| A | B |\n| --- | --- |\n| x\\|y | `z` |");
    }
}
