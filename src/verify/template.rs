//! Reads the network facts out of an ARM template: VNets and subnets, NSG rules, route tables,
//! NAT gateways, NICs and their public IPs, VMs, HDInsight clusters, Databricks workspaces, the
//! Azure ML computes, private endpoints with their DNS zone groups, private DNS zones with their
//! VNet links, and what waits for what (`dependsOn`), through nested deployments and child
//! resources.
//!
//! Only the fields verify needs are evaluated; an expression verify cannot evaluate there
//! becomes a problem naming the resource and the field, never a guess.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use serde_json::Value;

use super::expr::{Group, Scope, Unknown};
use super::nsg::{Rule, port_range};
use super::routes::{NextHop, Route};
use super::tags::Prefix;
use crate::profile::{Access, Direction};

/// The resource types verify reads, lower case.
const READ: &[&str] = &[
    "microsoft.network/virtualnetworks",
    "microsoft.network/virtualnetworks/subnets",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/networksecuritygroups/securityrules",
    "microsoft.network/routetables",
    "microsoft.network/routetables/routes",
    "microsoft.network/networkinterfaces",
    "microsoft.compute/virtualmachines",
    "microsoft.hdinsight/clusters",
    "microsoft.databricks/workspaces",
    "microsoft.machinelearningservices/workspaces",
    "microsoft.machinelearningservices/workspaces/computes",
    "microsoft.resources/deployments",
    "microsoft.network/privateendpoints",
    "microsoft.network/privateendpoints/privatednszonegroups",
    "microsoft.network/privatednszones",
    "microsoft.network/privatednszones/virtualnetworklinks",
];

/// A `dependsOn` entry verify cannot evaluate.
pub(crate) const UNKNOWN_DEPENDENCY: &str = "?";

/// A private endpoint: its subnet and the sub-resources (group IDs) it connects to.
#[derive(Debug, Clone)]
pub(crate) struct PrivateEndpoint {
    pub(crate) key: String,
    pub(crate) name: String,
    /// The key of its subnet.
    pub(crate) subnet: String,
    pub(crate) groups: Vec<String>,
}

/// A subnet and what is attached to it.
#[derive(Debug, Clone)]
pub(crate) struct Subnet {
    pub(crate) name: String,
    pub(crate) key: String,
    pub(crate) prefix: Ipv4Net,
    pub(crate) nsg: Option<String>,
    pub(crate) route_table: Option<String>,
    pub(crate) nat_gateway: bool,
    /// `defaultOutboundAccess` as written; `None` when absent.
    pub(crate) default_outbound_access: Option<bool>,
    pub(crate) delegations: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Vnet {
    pub(crate) name: String,
    pub(crate) location: Option<String>,
    pub(crate) api_version: String,
    pub(crate) address_space: Vec<Ipv4Net>,
    pub(crate) subnets: Vec<Subnet>,
}

/// What kind of compute a workspace compute is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ComputeKind {
    Cluster,
    Instance,
    AttachedVm,
    AttachedHdInsight,
}

/// A machine with an address in a subnet: what the flows start and end at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Machine {
    /// `cluster gpu-cluster`, `VM vm-gpu-t4`, ...
    pub(crate) label: String,
    pub(crate) subnet: String,
    pub(crate) public_ip: bool,
    /// The Azure ML compute kind, when the workspace uses it.
    pub(crate) compute: Option<ComputeKind>,
    pub(crate) hdinsight: bool,
    pub(crate) databricks: bool,
    /// The NSG of the machine's NIC, besides the subnet's.
    pub(crate) nic_nsg: Option<String>,
    /// It accepts SSH logins: VMs and HDInsight always, Azure ML compute when its SSH public
    /// access is `Enabled`, Databricks never (its control plane reaches its nodes itself).
    pub(crate) ssh: bool,
}

/// A network interface: its subnet, whether it has a public IP, its own NSG.
#[derive(Debug, Clone, Default)]
struct Nic {
    subnet: Option<String>,
    public_ip: bool,
    nsg: Option<String>,
}

/// What an amlgen template's metadata (`_generator.intent`) says its spec asks of the network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Intent {
    /// `egress: forced_tunnel`: every compute subnet's traffic leaves through the appliance.
    pub(crate) forced_tunnel: bool,
    /// `outbound: locked`.
    pub(crate) locked: bool,
    /// `network.ssh.allow_from`.
    pub(crate) ssh_sources: Vec<Ipv4Net>,
    /// The prefixes of each regional service tag that routes were written from.
    pub(crate) service_tag_prefixes: Vec<(String, Vec<Ipv4Net>)>,
}

impl Intent {
    /// Reads `_generator.intent`; `None` when it is absent or not in amlgen's shape.
    fn read(generator: &Value) -> Option<Intent> {
        let intent = generator.get("intent")?;
        let nets = |v: Option<&Value>| -> Option<Vec<Ipv4Net>> {
            v.map_or(Some(Vec::new()), |v| {
                v.as_array()?
                    .iter()
                    .map(|p| p.as_str()?.parse().ok())
                    .collect()
            })
        };
        let tags = match intent.get("serviceTagPrefixes") {
            None => Vec::new(),
            Some(map) => map
                .as_object()?
                .iter()
                .map(|(tag, prefixes)| Some((tag.clone(), nets(Some(prefixes))?)))
                .collect::<Option<_>>()?,
        };
        Some(Intent {
            forced_tunnel: intent.get("egress")?.as_str()? == "forced_tunnel",
            locked: intent.get("outbound")?.as_str()? == "locked",
            ssh_sources: nets(intent.get("sshSources"))?,
            service_tag_prefixes: tags,
        })
    }
}

/// Everything verify reads from one template.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// `metadata._generator.requirements` of an amlgen template.
    pub(crate) profile: Option<String>,
    /// `metadata._generator.intent` of an amlgen template.
    pub(crate) intent: Option<Intent>,
    pub(crate) vnets: Vec<Vnet>,
    pub(crate) nsgs: BTreeMap<String, Vec<Rule>>,
    pub(crate) route_tables: BTreeMap<String, Vec<Route>>,
    /// The route tables that let a gateway's learned routes in (`disableBgpRoutePropagation`
    /// not `true`).
    pub(crate) bgp_propagation: Vec<String>,
    pub(crate) machines: Vec<Machine>,
    pub(crate) problems: Vec<String>,
    nics: BTreeMap<String, Nic>,
    vms: BTreeMap<String, (String, Vec<String>)>,
    hdinsight: BTreeMap<String, (String, Vec<String>)>,
    attached: Vec<(String, ComputeKind, String)>,
    subnet_children: Vec<(String, Subnet)>,
    rule_children: Vec<(String, Rule)>,
    route_children: Vec<(String, Route)>,
    pub(crate) endpoints: Vec<PrivateEndpoint>,
    /// The keys of the zones each endpoint's zone groups register it in, by endpoint key.
    pub(crate) zone_groups: BTreeMap<String, Vec<String>>,
    /// The private DNS zones the template declares, by key.
    pub(crate) zones: Vec<String>,
    /// `(zone key, VNet key)` of each virtual network link.
    pub(crate) zone_links: Vec<(String, String)>,
    /// Each read resource's `dependsOn`, as keys; a resource of a nested deployment also waits
    /// for what its deployment waits for.
    pub(crate) depends: BTreeMap<String, Vec<String>>,
    /// The Azure ML computes, `(key, label)`.
    pub(crate) computes: Vec<(String, String)>,
    /// The nested deployments being read, innermost last.
    enclosing: Vec<String>,
}

/// The lower-case resource path after `/providers/`: the same for an id built by
/// `resourceId()` and one built by `format('{0}/subnets/{1}', vnetId, name)`.
pub(crate) fn key(id: &str) -> String {
    let lower = id.to_lowercase();
    match lower.rfind("/providers/") {
        Some(at) => lower[at + "/providers/".len()..].to_string(),
        None => lower.trim_start_matches('/').to_string(),
    }
}

/// The key of a declared resource: its type's segments interleaved with its name's.
pub(crate) fn declared_key(kind: &str, name: &str) -> String {
    let mut segments = kind.split('/');
    let mut out = segments.next().unwrap_or_default().to_string();
    for (t, n) in segments.zip(name.split('/')) {
        out.push_str(&format!("/{t}/{n}"));
    }
    out.to_lowercase()
}

fn at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, p| v.get(p))
}

/// Reads `template`, deployed to a resource group in `location` when it is known, with the
/// parameter values of a parameters file (`parameters`: its `parameters` object) where given.
pub(crate) fn read(template: &Value, location: Option<&str>, parameters: Option<&Value>) -> Facts {
    let generator = at(template, &["metadata", "_generator"])
        .filter(|g| g.get("name").and_then(Value::as_str) == Some("amlgen"));
    let mut facts = Facts {
        profile: generator
            .and_then(|g| g.get("requirements"))
            .and_then(Value::as_str)
            .map(str::to_string),
        intent: generator.and_then(Intent::read),
        ..Facts::default()
    };
    let group = Group {
        name: "rg".into(),
        location: location.map(str::to_string),
    };
    let given = parameters
        .and_then(|p| p.get("parameters"))
        .and_then(Value::as_object)
        .map(|values| {
            values
                .iter()
                .map(|(name, p)| {
                    let value = p.get("value").cloned().ok_or_else(|| {
                        Unknown(format!(
                            "parameter `{name}` of the parameters file has no `value` (a Key Vault reference is resolved at deployment time)"
                        ))
                    });
                    (name.to_lowercase(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    let scope = Scope::new(template, group, given);
    facts.resources(template, &scope, None);
    facts.finish();
    facts
}

/// One resource being read: its evaluated type and name, for messages.
struct Resource<'a> {
    kind: String,
    name: String,
    json: &'a Value,
    scope: &'a Scope,
}

impl Resource<'_> {
    fn eval(&self, path: &[&str]) -> Result<Option<Value>, String> {
        match at(self.json, path) {
            None => Ok(None),
            Some(v) => self.scope.value(v).map(Some).map_err(|e| self.why(path, e)),
        }
    }

    fn string(&self, path: &[&str]) -> Result<Option<String>, String> {
        match self.eval(path)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(self.why(path, Unknown(format!("expected a string, found {other}"))))
            }
        }
    }

    /// The items of the array at `path`, unevaluated (evaluated when the array is an expression).
    fn items(&self, path: &[&str]) -> Result<Vec<Value>, String> {
        match at(self.json, path) {
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(v @ Value::String(_)) => {
                match self.scope.value(v).map_err(|e| self.why(path, e))? {
                    Value::Array(items) => Ok(items),
                    other => {
                        Err(self.why(path, Unknown(format!("expected an array, found {other}"))))
                    }
                }
            }
            _ => Ok(Vec::new()),
        }
    }

    /// `path` of `item` (an element of [`Resource::items`]), evaluated.
    fn sub(&self, item: &Value, path: &[&str]) -> Result<Option<Value>, String> {
        match at(item, path) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.scope.value(v).map(Some).map_err(|e| self.why(path, e)),
        }
    }

    /// `path` of `item`, evaluated to a string.
    fn sub_string(&self, item: &Value, path: &[&str]) -> Result<Option<String>, String> {
        Ok(self
            .sub(item, path)?
            .and_then(|v| v.as_str().map(str::to_string)))
    }

    fn why(&self, path: &[&str], e: Unknown) -> String {
        format!("{} `{}`, {}: {}", self.kind, self.name, path.join("."), e.0)
    }
}

impl Facts {
    fn resources(&mut self, template: &Value, scope: &Scope, parent: Option<(&str, &str)>) {
        let Some(resources) = template.get("resources") else {
            return;
        };
        // Language version 2 templates hold resources in an object keyed by symbolic name.
        let list: Vec<&Value> = match resources {
            Value::Array(items) => items.iter().collect(),
            Value::Object(members) => members.values().collect(),
            _ => Vec::new(),
        };
        for json in list {
            if let Err(problem) = self.resource(json, scope, parent) {
                self.problems.push(problem);
            }
        }
    }

    fn resource(
        &mut self,
        json: &Value,
        scope: &Scope,
        parent: Option<(&str, &str)>,
    ) -> Result<(), String> {
        let declared = json.get("type").and_then(Value::as_str).unwrap_or_default();
        // A child resource declared inside its parent may give its type and name short.
        let short = parent.filter(|_| !declared.contains('.'));
        let kind = match short {
            Some((pk, _)) => format!("{pk}/{declared}"),
            None => declared.to_string(),
        };
        // Resources verify does not read may name themselves with `guid()` or `uniqueString()`.
        if !READ.contains(&kind.to_lowercase().as_str()) {
            return Ok(());
        }
        let own = match json.get("name") {
            Some(n) => scope
                .string(n)
                .map_err(|e| format!("{kind}: name: {}", e.0))?,
            None => String::new(),
        };
        let name = match short {
            Some((_, pn)) => format!("{pn}/{own}"),
            None => own,
        };
        let r = Resource {
            kind: kind.clone(),
            name: name.clone(),
            json,
            scope,
        };
        if json.get("copy").is_some() {
            return Err(r.why(&["copy"], Unknown("copy loops are not expanded".into())));
        }
        if let Some(condition) = r.eval(&["condition"])? {
            if condition == Value::Bool(false) {
                return Ok(());
            }
        }
        let key = declared_key(&kind, &name);
        self.dependencies(&r, &key)?;
        match kind.to_lowercase().as_str() {
            "microsoft.network/virtualnetworks" => self.vnet(&r)?,
            "microsoft.network/virtualnetworks/subnets" => {
                let (vnet, subnet) = name.split_once('/').unwrap_or_default();
                let vnet_key = declared_key("Microsoft.Network/virtualNetworks", vnet);
                let subnet = subnet_of(&r, subnet, &key, &["properties"])?;
                self.subnet_children.push((vnet_key, subnet));
            }
            "microsoft.network/networksecuritygroups" => {
                let rules = r
                    .items(&["properties", "securityRules"])?
                    .iter()
                    .map(|rule| security_rule(&r, rule))
                    .collect::<Result<Vec<_>, _>>()?;
                self.nsgs.entry(key).or_default().extend(rules);
            }
            "microsoft.network/networksecuritygroups/securityrules" => {
                let parent = key
                    .rsplit_once("/securityrules/")
                    .map(|(p, _)| p.to_string());
                let rule = security_rule(&r, json)?;
                self.rule_children.push((parent.unwrap_or_default(), rule));
            }
            "microsoft.network/routetables" => {
                let routes = r
                    .items(&["properties", "routes"])?
                    .iter()
                    .map(|route| route_of(&r, route))
                    .collect::<Result<Vec<_>, _>>()?;
                let disabled = r.eval(&["properties", "disableBgpRoutePropagation"])?;
                if disabled != Some(Value::Bool(true)) {
                    self.bgp_propagation.push(key.clone());
                }
                self.route_tables.entry(key).or_default().extend(routes);
            }
            "microsoft.network/routetables/routes" => {
                let parent = key.rsplit_once("/routes/").map(|(p, _)| p.to_string());
                let route = route_of(&r, json)?;
                self.route_children
                    .push((parent.unwrap_or_default(), route));
            }
            "microsoft.network/networkinterfaces" => self.nic(&r, key)?,
            "microsoft.compute/virtualmachines" => {
                let mut nics = Vec::new();
                for nic in r.items(&["properties", "networkProfile", "networkInterfaces"])? {
                    nics.extend(r.sub_string(&nic, &["id"])?.map(|id| self::key(&id)));
                }
                self.vms.insert(key, (name.clone(), nics));
            }
            "microsoft.hdinsight/clusters" => {
                let mut subnets = Vec::new();
                for role in r.items(&["properties", "computeProfile", "roles"])? {
                    let subnet = r.sub_string(&role, &["virtualNetworkProfile", "subnet"])?;
                    subnets.extend(subnet.map(|s| self::key(&s)));
                }
                self.hdinsight.insert(key, (name.clone(), subnets));
            }
            "microsoft.databricks/workspaces" => self.databricks(&r)?,
            "microsoft.machinelearningservices/workspaces/computes" => self.compute(&r)?,
            "microsoft.resources/deployments" => self.deployment(&r, &key)?,
            "microsoft.network/privateendpoints" => self.private_endpoint(&r, key)?,
            "microsoft.network/privateendpoints/privatednszonegroups" => {
                let endpoint = key
                    .rsplit_once("/privatednszonegroups/")
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_default();
                let mut zones = Vec::new();
                for config in r.items(&["properties", "privateDnsZoneConfigs"])? {
                    let id = r.sub_string(&config, &["properties", "privateDnsZoneId"])?;
                    zones.extend(id.map(|id| self::key(&id)));
                }
                self.zone_groups.entry(endpoint).or_default().extend(zones);
            }
            "microsoft.network/privatednszones" => self.zones.push(key),
            "microsoft.network/privatednszones/virtualnetworklinks" => {
                let zone = key
                    .rsplit_once("/virtualnetworklinks/")
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_default();
                if let Some(vnet) = r.string(&["properties", "virtualNetwork", "id"])? {
                    self.zone_links.push((zone, self::key(&vnet)));
                }
            }
            _ => {}
        }
        let parent_kind = kind.clone();
        self.resources(json, scope, Some((&parent_kind, &name)));
        Ok(())
    }

    fn vnet(&mut self, r: &Resource<'_>) -> Result<(), String> {
        let address_space = match r.eval(&["properties", "addressSpace", "addressPrefixes"])? {
            Some(Value::Array(prefixes)) => prefixes
                .iter()
                .map(|p| cidr(r, &["properties", "addressSpace"], p))
                .collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        let mut subnets = Vec::new();
        for (i, item) in r.items(&["properties", "subnets"])?.iter().enumerate() {
            let name = r
                .sub_string(item, &["name"])?
                .unwrap_or_else(|| format!("#{i}"));
            let key = declared_key(
                "Microsoft.Network/virtualNetworks/subnets",
                &format!("{}/{name}", r.name),
            );
            let subnet = Resource {
                json: item,
                kind: r.kind.clone(),
                name: format!("{}, subnet {name}", r.name),
                scope: r.scope,
            };
            subnets.push(subnet_of(&subnet, &name, &key, &["properties"])?);
        }
        // Regional service tags (`Storage.eastus2`) are named after it.
        let location = match r.string(&["location"]) {
            Ok(Some(location)) => Some(location),
            Ok(None) => {
                self.problems
                    .push(r.why(&["location"], Unknown("no location".into())));
                None
            }
            Err(why) => {
                self.problems.push(why);
                None
            }
        };
        self.vnets.push(Vnet {
            name: r.name.clone(),
            location,
            api_version: r
                .json
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            address_space,
            subnets,
        });
        Ok(())
    }

    fn nic(&mut self, r: &Resource<'_>, nic: String) -> Result<(), String> {
        let mut facts = Nic {
            nsg: r
                .string(&["properties", "networkSecurityGroup", "id"])?
                .map(|id| key(&id)),
            ..Nic::default()
        };
        for config in r.items(&["properties", "ipConfigurations"])? {
            if let Some(id) = r.sub_string(&config, &["properties", "subnet", "id"])? {
                facts.subnet = Some(key(&id));
            }
            facts.public_ip |=
                at(&config, &["properties", "publicIPAddress"]).is_some_and(|p| !p.is_null());
        }
        self.nics.insert(nic, facts);
        Ok(())
    }

    fn databricks(&mut self, r: &Resource<'_>) -> Result<(), String> {
        let param = |n: &str| r.eval(&["properties", "parameters", n, "value"]);
        let Some(Value::String(vnet)) = param("customVirtualNetworkId")? else {
            return Ok(());
        };
        let public_ip = param("enableNoPublicIp")? != Some(Value::Bool(true));
        for side in ["customPublicSubnetName", "customPrivateSubnetName"] {
            if let Some(Value::String(subnet)) = param(side)? {
                self.machines.push(Machine {
                    label: format!("Databricks {}", r.name),
                    subnet: format!("{}/subnets/{}", key(&vnet), subnet.to_lowercase()),
                    public_ip,
                    databricks: true,
                    ..Machine::default()
                });
            }
        }
        Ok(())
    }

    /// Records what the resource `key` waits for: its `dependsOn`, its parent, and the nested
    /// deployment it is in.
    fn dependencies(&mut self, r: &Resource<'_>, key: &str) -> Result<(), String> {
        let mut waits: Vec<String> = Vec::new();
        for item in r.items(&["dependsOn"])? {
            // A name only the deployment computes (`uniqueString()`) is kept as unknown: it
            // matters only if a check needs it, and then that check says so.
            let id = r.scope.value(&item).ok();
            let id = id.as_ref().and_then(Value::as_str);
            waits.push(id.map_or_else(|| UNKNOWN_DEPENDENCY.to_string(), self::key));
        }
        waits.extend(self.enclosing.last().cloned());
        self.depends
            .entry(key.to_string())
            .or_default()
            .extend(waits);
        Ok(())
    }

    fn private_endpoint(&mut self, r: &Resource<'_>, key: String) -> Result<(), String> {
        let subnet = r
            .string(&["properties", "subnet", "id"])?
            .map(|id| self::key(&id))
            .unwrap_or_default();
        let mut groups = Vec::new();
        for list in [
            "privateLinkServiceConnections",
            "manualPrivateLinkServiceConnections",
        ] {
            for connection in r.items(&["properties", list])? {
                if let Some(Value::Array(ids)) = r.sub(&connection, &["properties", "groupIds"])? {
                    groups.extend(ids.iter().filter_map(Value::as_str).map(str::to_string));
                }
            }
        }
        self.endpoints.push(PrivateEndpoint {
            key,
            name: r.name.clone(),
            subnet,
            groups,
        });
        Ok(())
    }

    fn compute(&mut self, r: &Resource<'_>) -> Result<(), String> {
        let short = r.name.rsplit('/').next().unwrap_or_default().to_string();
        self.computes
            .push((declared_key(&r.kind, &r.name), format!("compute {short}")));
        let kind = r
            .string(&["properties", "computeType"])?
            .unwrap_or_default();
        let (kind, label) = match kind.to_lowercase().as_str() {
            "amlcompute" => (ComputeKind::Cluster, "cluster"),
            "computeinstance" => (ComputeKind::Instance, "compute instance"),
            "virtualmachine" => (ComputeKind::AttachedVm, "attached VM"),
            "hdinsight" => (ComputeKind::AttachedHdInsight, "attached HDInsight"),
            _ => return Ok(()),
        };
        if matches!(kind, ComputeKind::Cluster | ComputeKind::Instance) {
            let Some(subnet) = r.string(&["properties", "properties", "subnet", "id"])? else {
                return Ok(());
            };
            // Azure ML gives nodes a public IP unless told otherwise.
            let public_ip = r.eval(&["properties", "properties", "enableNodePublicIp"])?
                != Some(Value::Bool(false));
            let access = match kind {
                ComputeKind::Instance => {
                    r.string(&["properties", "properties", "sshSettings", "sshPublicAccess"])?
                }
                _ => r.string(&["properties", "properties", "remoteLoginPortPublicAccess"])?,
            };
            self.machines.push(Machine {
                label: format!("{label} {short}"),
                subnet: key(&subnet),
                public_ip,
                compute: Some(kind),
                ssh: access.is_some_and(|a| a.eq_ignore_ascii_case("Enabled")),
                ..Machine::default()
            });
        } else if let Some(target) = r.string(&["properties", "resourceId"])? {
            self.attached
                .push((key(&target), kind, format!("{label} {short}")));
        }
        Ok(())
    }

    fn deployment(&mut self, r: &Resource<'_>, key: &str) -> Result<(), String> {
        if at(r.json, &["properties", "templateLink"]).is_some() {
            return Err(r.why(
                &["properties", "templateLink"],
                Unknown("linked templates are not read".into()),
            ));
        }
        let Some(template) = at(r.json, &["properties", "template"]) else {
            return Ok(());
        };
        let group = r
            .string(&["resourceGroup"])?
            .unwrap_or_else(|| r.scope.group().name.clone());
        let inner = r
            .string(&["properties", "expressionEvaluationOptions", "scope"])?
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
        let scope = if inner {
            let mut given = BTreeMap::new();
            if let Some(Value::Object(params)) = at(r.json, &["properties", "parameters"]) {
                for (name, p) in params {
                    let value = p.get("value").map(|v| r.scope.value(v)).unwrap_or_else(|| {
                        Err(Unknown(format!(
                            "parameter `{name}` is not passed as a value"
                        )))
                    });
                    given.insert(name.to_lowercase(), value);
                }
            }
            let group = Group {
                name: group,
                location: r.scope.group().location.clone(),
            };
            Scope::new(template, group, given)
        } else {
            r.scope.in_resource_group(&group)
        };
        self.enclosing.push(key.to_string());
        self.resources(template, &scope, None);
        self.enclosing.pop();
        Ok(())
    }

    /// Joins child resources to their parents and machines to their subnets.
    fn finish(&mut self) {
        for (vnet, subnet) in std::mem::take(&mut self.subnet_children) {
            match self
                .vnets
                .iter_mut()
                .find(|v| declared_key("Microsoft.Network/virtualNetworks", &v.name) == vnet)
            {
                Some(v) => v.subnets.push(subnet),
                None => self.problems.push(format!(
                    "subnet `{}` of a VNet this template does not declare",
                    subnet.name
                )),
            }
        }
        for (nsg, rule) in std::mem::take(&mut self.rule_children) {
            self.nsgs.entry(nsg).or_default().push(rule);
        }
        for (table, route) in std::mem::take(&mut self.route_children) {
            self.route_tables.entry(table).or_default().push(route);
        }
        for (vm_key, (name, nics)) in &self.vms {
            let Some((nic, subnet)) = nics
                .iter()
                .filter_map(|n| self.nics.get(n))
                .find_map(|n| n.subnet.clone().map(|s| (n, s)))
            else {
                continue;
            };
            let attached = self.attached.iter().find(|(t, _, _)| t == vm_key);
            self.machines.push(Machine {
                label: attached.map_or(format!("VM {name}"), |(_, _, l)| l.clone()),
                subnet,
                public_ip: nic.public_ip,
                compute: attached.map(|(_, k, _)| *k),
                nic_nsg: nic.nsg.clone(),
                ssh: true,
                ..Machine::default()
            });
        }
        for (cluster_key, (name, subnets)) in &self.hdinsight {
            let attached = self.attached.iter().find(|(t, _, _)| t == cluster_key);
            for subnet in dedup(subnets) {
                // HDInsight nodes are reached through the cluster's public gateway.
                self.machines.push(Machine {
                    label: attached.map_or(format!("HDInsight {name}"), |(_, _, l)| l.clone()),
                    subnet,
                    public_ip: true,
                    compute: attached.map(|(_, k, _)| *k),
                    hdinsight: true,
                    ssh: true,
                    ..Machine::default()
                });
            }
        }
    }
}

fn dedup(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}

fn cidr(r: &Resource<'_>, path: &[&str], value: &Value) -> Result<Ipv4Net, String> {
    let text = value.as_str().unwrap_or_default();
    match Prefix::parse(text) {
        Prefix::Cidr(net) => Ok(net),
        _ => Err(r.why(path, Unknown(format!("`{text}` is not an IPv4 prefix")))),
    }
}

/// A subnet whose properties are at `path` of `r.json`.
fn subnet_of(r: &Resource<'_>, name: &str, key: &str, path: &[&str]) -> Result<Subnet, String> {
    let field = |f: &[&'static str]| -> Vec<&str> { path.iter().chain(f).copied().collect() };
    let id = |f: &'static str| -> Result<Option<String>, String> {
        Ok(r.string(&field(&[f, "id"]))?.map(|s| self::key(&s)))
    };
    let prefix = match r.eval(&field(&["addressPrefix"]))? {
        Some(p) => cidr(r, &field(&["addressPrefix"]), &p)?,
        None => match r.eval(&field(&["addressPrefixes"]))? {
            Some(Value::Array(ps)) if !ps.is_empty() => {
                cidr(r, &field(&["addressPrefixes"]), &ps[0])?
            }
            _ => {
                return Err(r.why(
                    &field(&["addressPrefix"]),
                    Unknown(format!("subnet `{name}` has no address prefix")),
                ));
            }
        },
    };
    let mut delegations = Vec::new();
    for d in r.items(&field(&["delegations"]))? {
        delegations.extend(r.sub_string(&d, &["properties", "serviceName"])?);
    }
    Ok(Subnet {
        name: name.to_string(),
        key: key.to_string(),
        prefix,
        nsg: id("networkSecurityGroup")?,
        route_table: id("routeTable")?,
        nat_gateway: id("natGateway")?.is_some(),
        default_outbound_access: r
            .eval(&field(&["defaultOutboundAccess"]))?
            .and_then(|v| v.as_bool()),
        delegations,
    })
}

fn security_rule(r: &Resource<'_>, rule: &Value) -> Result<Rule, String> {
    let name = r.sub_string(rule, &["name"])?.unwrap_or_default();
    let p = r.sub(rule, &["properties"])?.unwrap_or_default();
    let bad = |what: &str| {
        r.why(
            &["properties", "securityRules", &name],
            Unknown(what.to_string()),
        )
    };
    let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
    let list = |one: &str, many: &str| -> Vec<String> {
        let mut out: Vec<String> = text(one).into_iter().collect();
        if let Some(Value::Array(items)) = p.get(many) {
            out.extend(items.iter().filter_map(Value::as_str).map(str::to_string));
        }
        out
    };
    let direction = match text("direction")
        .unwrap_or_default()
        .to_lowercase()
        .as_str()
    {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        _ => return Err(bad("no direction")),
    };
    let access = match text("access").unwrap_or_default().to_lowercase().as_str() {
        "allow" => Access::Allow,
        "deny" => Access::Deny,
        _ => return Err(bad("no access")),
    };
    let priority = p
        .get("priority")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("no priority"))?;
    let ports = |one, many| {
        list(one, many)
            .iter()
            .map(|s| port_range(s).ok_or_else(|| bad(&format!("port range `{s}`"))))
            .collect::<Result<Vec<_>, _>>()
    };
    let prefixes = |one, many| list(one, many).iter().map(|s| Prefix::parse(s)).collect();
    if p.get("sourceApplicationSecurityGroups").is_some()
        || p.get("destinationApplicationSecurityGroups").is_some()
    {
        return Err(bad("application security groups are not evaluated"));
    }
    let destination_ports = ports("destinationPortRange", "destinationPortRanges")?;
    let source_ports = ports("sourcePortRange", "sourcePortRanges")?;
    Ok(Rule {
        name,
        priority: priority as u32,
        direction,
        access,
        protocol: text("protocol"),
        sources: prefixes("sourceAddressPrefix", "sourceAddressPrefixes"),
        destinations: prefixes("destinationAddressPrefix", "destinationAddressPrefixes"),
        ports: destination_ports,
        source_ports,
    })
}

fn route_of(r: &Resource<'_>, route: &Value) -> Result<Route, String> {
    let name = r.sub_string(route, &["name"])?.unwrap_or_default();
    let p = r.sub(route, &["properties"])?.unwrap_or_default();
    let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
    let bad = |what: &str| r.why(&["properties", "routes", &name], Unknown(what.to_string()));
    let kind = text("nextHopType").ok_or_else(|| bad("no nextHopType"))?;
    let next_hop = NextHop::parse(&kind, text("nextHopIpAddress"))
        .ok_or_else(|| bad(&format!("next hop type `{kind}`")))?;
    let prefix = Prefix::parse(&text("addressPrefix").ok_or_else(|| bad("no addressPrefix"))?);
    Ok(Route {
        name,
        prefix,
        next_hop,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts_of(template: Value) -> Facts {
        read(&template, None, None)
    }

    fn vnet_with(subnet: Value) -> Value {
        json!({"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "vnet",
               "location": "eastus",
               "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [subnet]}})
    }

    #[test]
    fn ids_built_by_resource_id_and_by_format_are_the_same_key() {
        assert_eq!(
            key(
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/V/subnets/S"
            ),
            declared_key("Microsoft.Network/virtualNetworks/subnets", "v/s")
        );
    }

    #[test]
    fn a_vm_nic_puts_its_vm_in_the_subnet_with_its_public_ip_and_nsg() {
        let facts = facts_of(json!({"resources": [
            vnet_with(json!({"name": "s", "properties": {"addressPrefix": "10.0.1.0/24"}})),
            {"type": "Microsoft.Network/networkInterfaces", "name": "nic", "properties": {
                "networkSecurityGroup": {"id": "[resourceId('Microsoft.Network/networkSecurityGroups', 'nsg')]"},
                "ipConfigurations": [{"name": "c", "properties": {
                    "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 's')]"},
                    "publicIPAddress": {"id": "[resourceId('Microsoft.Network/publicIPAddresses', 'pip')]"}}}]}},
            {"type": "Microsoft.Compute/virtualMachines", "name": "vm", "properties": {
                "osProfile": {"adminPassword": "[parameters('secret')]"},
                "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', 'nic')]"}]}}}
        ]}));
        assert_eq!(facts.problems, Vec::<String>::new());
        assert_eq!(
            facts.machines,
            [Machine {
                label: "VM vm".into(),
                subnet: "microsoft.network/virtualnetworks/vnet/subnets/s".into(),
                public_ip: true,
                nic_nsg: Some("microsoft.network/networksecuritygroups/nsg".into()),
                ssh: true,
                ..Machine::default()
            }]
        );
    }

    #[test]
    fn child_resources_join_their_parents_and_false_conditions_are_skipped() {
        let facts = facts_of(json!({"resources": [
            {"type": "Microsoft.Network/networkSecurityGroups", "name": "nsg", "resources": [
                {"type": "securityRules", "name": "deny", "properties": {"access": "Deny", "direction": "Outbound",
                 "priority": 4096, "protocol": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "Internet",
                 "destinationPortRange": "*"}}]},
            {"type": "Microsoft.Network/routeTables", "name": "rt", "condition": "[false()]", "properties": {"routes": []}},
            {"type": "Microsoft.Network/routeTables/routes", "name": "rt2/r", "properties": {
                "addressPrefix": "0.0.0.0/0", "nextHopType": "None"}}
        ]}));
        assert_eq!(
            facts.nsgs["microsoft.network/networksecuritygroups/nsg"][0].name,
            "deny"
        );
        assert!(
            !facts
                .route_tables
                .contains_key("microsoft.network/routetables/rt")
        );
        assert_eq!(
            facts.route_tables["microsoft.network/routetables/rt2"][0].next_hop,
            NextHop::None
        );
    }

    #[test]
    fn what_verify_cannot_read_is_a_problem_naming_the_resource_and_field() {
        let facts = facts_of(json!({"resources": [
            vnet_with(json!({"name": "s", "properties": {"addressPrefix": "[parameters('prefix')]"}})),
            {"type": "Microsoft.Network/networkSecurityGroups", "name": "nsg", "copy": {"name": "c", "count": 2}},
            {"type": "Microsoft.Resources/deployments", "name": "linked", "properties": {"templateLink": {"uri": "https://example.org/t.json"}}}
        ]}));
        assert_eq!(facts.problems.len(), 3, "{:#?}", facts.problems);
        assert!(facts.problems[0].contains("parameter `prefix` is not declared"));
        assert!(facts.problems[1].contains("copy loops are not expanded"));
        assert!(facts.problems[2].contains("linked templates are not read"));
    }

    #[test]
    fn inner_scoped_deployments_see_the_values_passed_in() {
        let facts = facts_of(json!({
            "parameters": {"name": {"type": "string", "defaultValue": "outer"}},
            "resources": [
                vnet_with(json!({"name": "s", "properties": {"addressPrefix": "10.0.1.0/24"}})),
                {"type": "Microsoft.Resources/deployments", "name": "d", "resourceGroup": "other", "properties": {
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "parameters": {"vnetId": {"value": "[resourceId('Microsoft.Network/virtualNetworks', 'vnet')]"}},
                    "template": {"parameters": {"vnetId": {"type": "string"}}, "resources": [
                        {"type": "Microsoft.MachineLearningServices/workspaces/computes", "name": "w/c", "properties": {
                            "computeType": "AmlCompute", "properties": {
                                "enableNodePublicIp": false,
                                "subnet": {"id": "[format('{0}/subnets/{1}', parameters('vnetId'), 's')]"}}}}]}}}
            ]
        }));
        assert_eq!(facts.problems, Vec::<String>::new());
        assert_eq!(
            facts.machines[0].subnet,
            "microsoft.network/virtualnetworks/vnet/subnets/s"
        );
        assert_eq!(
            (
                facts.machines[0].label.as_str(),
                facts.machines[0].public_ip
            ),
            ("cluster c", false)
        );
    }
}
