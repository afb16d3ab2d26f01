//! The `README.md` written beside the templates: what was generated, every NSG rule and route
//! with the reason it exists and its source, a diagram of the network and the deploy commands.
//!
//! Reviewers read this file in pull requests, so it explains the templates rather than repeating
//! them. It is rendered with Tera (no escaping: every name in it passed the schema's patterns).

use std::sync::OnceLock;

use serde_json::{Value, json};
use tera::{Context, Tera};

use crate::azure::hdinsight::{GATEWAY_NODES, HEAD_NODES, ZOOKEEPER_NODES};
use crate::model::Template;
use crate::plan::{
    Address, Compute, ComputeKind, DatabricksWorkspace, HdInsightCluster, Plan, RoleName,
    VirtualMachine,
};
use crate::profile::{Access, Protocol};
use crate::routes::{NextHop, Prefix};

const TEMPLATE: &str = include_str!("../../templates/readme.md.tera");

pub(super) fn engine() -> Result<&'static Tera, String> {
    static ENGINE: OnceLock<Result<Tera, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut tera = Tera::default();
            tera.add_raw_template("README.md", TEMPLATE)
                .map_err(|e| format!("{e:?}"))?;
            Ok(tera)
        })
        .as_ref()
        .map_err(Clone::clone)
}

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
                    r.citation.to_string(),
                ]);
            }
            json!({"name": n.name, "subnet": n.subnet, "compute": n.compute, "rules": table.text()})
        })
        .collect();
    Value::Array(nsgs)
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

/// A Mermaid flowchart: computes in their subnets inside the VNet, and the egress path.
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
    let exit = match (&plan.nat_gateway, plan.route_tables.first()) {
        (Some(nat), _) => format!("nat[\"NAT gateway {}\"] --> internet((Internet))", nat.name),
        (None, Some(table)) => {
            let hop = table
                .routes
                .iter()
                .find_map(|r| {
                    if let NextHop::Appliance(ip) = &r.next_hop {
                        Some(ip.as_str())
                    } else {
                        None
                    }
                })
                .unwrap_or("");
            format!("appliance[\"appliance {hop}\"] --> internet((Internet))")
        }
        (None, None) => "default[\"default outbound access\"] --> internet((Internet))".to_string(),
    };
    let exit_node = exit.split('[').next().unwrap_or("internet").to_string();
    lines.push(exit);
    for (i, s) in plan.vnet.subnets.iter().enumerate() {
        if s.compute {
            lines.push(format!("s{i} --> {exit_node}"));
        }
    }
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

/// Renders `README.md` for `plan`, whose model is `template`.
pub(super) fn render(plan: &Plan, template: &Template, version: &str) -> Result<String, String> {
    let secrets: Vec<_> = plan
        .parameters
        .iter()
        .filter_map(|p| Some((p, p.env.as_ref()?)))
        .collect();
    let secrets_setup: Vec<String> = secrets
        .iter()
        .map(|(_, env)| format!("{}   # read by main.bicepparam", env.setup))
        .collect();
    let arm_extra: String = secrets
        .iter()
        .map(|(p, env)| format!(" \\\n  --parameters {}=\"${}\"", p.name, env.name))
        .collect();
    let resources = resources(template);
    let view = json!({
        "name": plan.name, "version": version, "profile": plan.profile.name, "profile_summary": summary(plan.profile.name),
        "location": plan.location, "workspace": plan.workspace.name, "workspace_group": plan.workspace.resource_group,
        "module": plan.workspace.resource_group.is_some(),
        "secrets_setup": secrets_setup, "arm_extra": arm_extra, "encryption_at_host": encryption_at_host(plan),
        "private_compute": plan.computes.iter().any(|c| matches!(&c.kind, ComputeKind::Cluster(k) if !k.public_ip) || matches!(&c.kind, ComputeKind::Instance(i) if !i.public_ip)),
        "diagram": diagram(plan), "subnets": subnets(plan), "nsgs": nsgs(plan),
        "empty_nsg_reason": "the computes here need no inbound rule, and outbound is open.",
        "locked": plan.nsgs.iter().any(|n| n.rules.iter().any(|r| r.access == Access::Deny)),
        "route_tables": route_tables(plan),
        "computes": computes_table(plan), "suppressions": suppressions(template), "resources": resources, "permissions": permissions(plan),
        "databricks": plan.databricks.iter().map(|d| json!({"name": d.name, "managed_group": d.managed_group})).collect::<Vec<_>>(),
    });
    let context = Context::from_value(view).map_err(|e| format!("README.md: {e:?}"))?;
    engine()?
        .render("README.md", &context)
        .map(|text| super::tidy(&text))
        .map_err(|e| format!("README.md: {e:?}"))
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

    #[test]
    fn tables_escape_pipes_and_vanish_without_rows() {
        let mut table = Table::new(&["A", "B"]);
        assert_eq!(table.text(), "");
        table.row(vec!["x|y".into(), "`z`".into()]);
        assert_eq!(table.text(), "| A | B |\n| --- | --- |\n| x\\|y | `z` |");
    }
}
