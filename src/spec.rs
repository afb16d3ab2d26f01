//! The typed spec: what the user wrote, with every default applied.
//!
//! These types mirror `../shared/design/spec-format.md` field for field. They are built from a
//! document that already passed the JSON Schema, so a failure here means the schema and these
//! types disagree: a bug in amlgen, reported as such. Nothing here knows Azure resources; the
//! `plan` module expands the spec into them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::azure::hdinsight;
pub(crate) use crate::azure::hdinsight::ClusterType;

/// A whole spec file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub requirements: Requirements,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub workspace: Workspace,
    pub network: Network,
    pub compute: Vec<Compute>,
    pub permissions: Option<Permissions>,
}

/// Which Microsoft rule set the output implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Requirements {
    /// Today's documentation.
    #[default]
    #[serde(rename = "current")]
    Current,
    /// The 2021 guide, exactly.
    #[serde(rename = "guide-2021")]
    Guide2021,
}

impl Requirements {
    pub fn as_str(self) -> &'static str {
        match self {
            Requirements::Current => "current",
            Requirements::Guide2021 => "guide-2021",
        }
    }
}

/// The Azure ML workspace: an existing one, or one amlgen creates (`create: true`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    pub name: String,
    pub resource_group: Option<String>,
    pub location: Option<String>,
    #[serde(default)]
    pub private_endpoint: WorkspaceEndpoint,
    #[serde(default)]
    pub create: bool,
    #[serde(default)]
    pub hbi: bool,
    #[serde(default)]
    pub public_network_access: bool,
    #[serde(default)]
    pub unique_suffix: bool,
    pub image_build_compute: Option<String>,
    pub storage_account: Option<ExistingResource>,
    pub key_vault: Option<ExistingResource>,
    pub container_registry: Option<ExistingResource>,
    pub application_insights: Option<ExistingResource>,
}

impl Workspace {
    /// Whether the workspace has a private endpoint: one amlgen creates, or one the spec says
    /// exists elsewhere.
    pub fn has_private_endpoint(&self) -> bool {
        self.create || self.private_endpoint != WorkspaceEndpoint::None
    }

    /// Whether amlgen creates the workspace's private endpoint in this VNet.
    pub fn creates_private_endpoint(&self) -> bool {
        self.create || self.private_endpoint == WorkspaceEndpoint::Create
    }
}

/// `workspace.private_endpoint`: none, one that exists elsewhere (`true`), or one amlgen
/// creates in this VNet (`create`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(from = "EndpointWord")]
pub enum WorkspaceEndpoint {
    #[default]
    None,
    Elsewhere,
    Create,
}

/// How the spec writes [`WorkspaceEndpoint`]: a boolean or the word `create`.
#[derive(Deserialize)]
#[serde(untagged)]
enum EndpointWord {
    Flag(bool),
    Create(Create),
}

/// The word `create`.
#[derive(Deserialize)]
enum Create {
    #[serde(rename = "create")]
    Create,
}

impl From<EndpointWord> for WorkspaceEndpoint {
    fn from(word: EndpointWord) -> Self {
        match word {
            EndpointWord::Flag(false) => WorkspaceEndpoint::None,
            EndpointWord::Flag(true) => WorkspaceEndpoint::Elsewhere,
            EndpointWord::Create(Create::Create) => WorkspaceEndpoint::Create,
        }
    }
}

/// The cluster that builds a created workspace's images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageBuilder<'a> {
    /// A cluster of the spec, by name (`workspace.image_build_compute`, or the first CPU one).
    Named(&'a str),
    /// None of the spec's clusters is a CPU one: amlgen adds a cluster named `name` (the first
    /// of `image-build`, `image-build-2`, ... no compute of the spec has) to `subnet`.
    Added {
        name: String,
        subnet: &'a str,
        public_ip: bool,
    },
    /// The spec has no Azure ML compute to put one beside: no image can be built until a CPU
    /// cluster joins the workspace.
    Absent,
}

impl ImageBuilder<'_> {
    /// The name of the cluster amlgen adds, when no compute has it.
    pub const NAME: &'static str = "image-build";
    /// Its size: a small general-purpose (CPU) one.
    pub const SIZE: &'static str = "Standard_D2s_v3";

    /// The name of the cluster, named or added.
    pub fn name(&self) -> Option<&str> {
        match self {
            ImageBuilder::Named(name) => Some(name),
            ImageBuilder::Added { name, .. } => Some(name),
            ImageBuilder::Absent => None,
        }
    }
}

/// A dependency of a created workspace that already exists, by resource ID.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExistingResource {
    pub id: String,
}

/// `network.private_endpoints`: where amlgen's private endpoints go and how their names
/// resolve.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateEndpoints {
    pub subnet: String,
    #[serde(default)]
    pub dns: Dns,
    #[serde(default)]
    pub zones: BTreeMap<String, String>,
    #[serde(default)]
    pub batch_endpoints: bool,
}

/// `network.private_endpoints.dns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dns {
    /// Private DNS zones, their VNet links and the endpoints' zone groups.
    #[default]
    Create,
    /// Zone groups in zones that exist (a hub's), given by resource ID.
    Existing,
    /// Endpoints without zone groups: Azure Policy registers their records.
    Policy,
}

/// The network section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub vnet: Vnet,
    pub subnets: Vec<Subnet>,
    #[serde(default)]
    pub outbound: Outbound,
    #[serde(default)]
    pub egress: Egress,
    pub nat: Option<Nat>,
    pub forced_tunnel: Option<ForcedTunnel>,
    #[serde(default)]
    pub ssh: Ssh,
    #[serde(default)]
    pub microsoft_images: bool,
    pub private_endpoints: Option<PrivateEndpoints>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vnet {
    pub name: String,
    pub address_space: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub name: String,
    pub address_prefix: String,
    #[serde(default)]
    pub service_endpoints: Vec<String>,
    pub delegation: Option<String>,
}

/// The lockdown mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outbound {
    #[default]
    Open,
    Locked,
}

/// How compute subnets reach the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Egress {
    #[default]
    Default,
    Nat,
    ForcedTunnel,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nat {
    #[serde(default = "Nat::default_idle_timeout")]
    pub idle_timeout_minutes: u32,
}

impl Nat {
    fn default_idle_timeout() -> u32 {
        4
    }
}

impl Default for Nat {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: Self::default_idle_timeout(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForcedTunnel {
    pub next_hop_ip: String,
    #[serde(default)]
    pub routes: RouteStyle,
    pub service_tags_file: Option<String>,
    pub secondary_region: Option<String>,
}

/// How the bypass routes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteStyle {
    #[default]
    ServiceTags,
    IpPrefixes,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ssh {
    #[serde(default)]
    pub allow_from: Vec<String>,
}

/// One compute entry; `type` selects the kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Compute {
    Amlcompute(AmlCompute),
    Computeinstance(ComputeInstance),
    Databricks(Databricks),
    Virtualmachine(VirtualMachine),
    Hdinsight(HdInsight),
}

impl Compute {
    pub fn name(&self) -> &str {
        match self {
            Compute::Amlcompute(c) => &c.name,
            Compute::Computeinstance(c) => &c.name,
            Compute::Databricks(c) => &c.name,
            Compute::Virtualmachine(c) => &c.name,
            Compute::Hdinsight(c) => &c.name,
        }
    }

    /// The subnets this compute places addresses in, with the spec key naming each.
    pub fn subnets(&self) -> Vec<(&'static str, &str)> {
        match self {
            Compute::Amlcompute(c) => vec![("subnet", c.subnet.as_str())],
            Compute::Computeinstance(c) => vec![("subnet", c.subnet.as_str())],
            Compute::Databricks(c) => vec![
                ("public_subnet", c.public_subnet.as_str()),
                ("private_subnet", c.private_subnet.as_str()),
            ],
            Compute::Virtualmachine(c) => vec![("subnet", c.subnet.as_str())],
            Compute::Hdinsight(c) => vec![("subnet", c.subnet.as_str())],
        }
    }

    /// Addresses this compute may take in its subnet at full scale. Databricks sizes its clusters
    /// at run time inside subnets of its own, so it claims none here.
    pub fn addresses(&self) -> u64 {
        match self {
            Compute::Amlcompute(c) => u64::from(c.max_instances),
            Compute::Computeinstance(_) | Compute::Virtualmachine(_) => 1,
            Compute::Databricks(_) => 0,
            Compute::Hdinsight(c) => c.nodes(),
        }
    }

    /// The Azure ML node settings shared by clusters and instances, if this is one of them.
    pub fn aml_node(&self) -> Option<AmlNode> {
        match self {
            Compute::Amlcompute(c) => Some(AmlNode {
                public_ip: c.enable_node_public_ip,
                ssh: c.ssh_public_access_enabled,
            }),
            Compute::Computeinstance(c) => Some(AmlNode {
                public_ip: c.enable_node_public_ip,
                ssh: c.ssh_public_access_enabled,
            }),
            Compute::Databricks(_) | Compute::Virtualmachine(_) | Compute::Hdinsight(_) => None,
        }
    }

    /// True for a VM or HDInsight cluster: machines that run SSH and that Azure ML can attach.
    pub fn is_attachable(&self) -> bool {
        matches!(self, Compute::Virtualmachine(_) | Compute::Hdinsight(_))
    }

    /// True when the compute is attached to the workspace, so Azure ML reaches it over SSH.
    pub fn attached(&self) -> bool {
        match self {
            Compute::Virtualmachine(c) => c.attach,
            Compute::Hdinsight(c) => c.attach,
            _ => false,
        }
    }
}

/// The network-relevant settings of an Azure ML cluster or instance.
#[derive(Debug, Clone, Copy)]
pub struct AmlNode {
    pub public_ip: bool,
    pub ssh: bool,
}

fn yes() -> bool {
    true
}

fn default_size() -> String {
    "Standard_DS3_v2".to_string()
}

/// An Azure ML compute cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmlCompute {
    pub name: String,
    #[serde(default = "default_size")]
    pub size: String,
    pub subnet: String,
    #[serde(default)]
    pub min_instances: u32,
    #[serde(default = "AmlCompute::default_max")]
    pub max_instances: u32,
    #[serde(default)]
    pub tier: Tier,
    #[serde(default = "AmlCompute::default_idle")]
    pub idle_time_before_scale_down: u32,
    #[serde(default = "yes")]
    pub enable_node_public_ip: bool,
    #[serde(default)]
    pub ssh_public_access_enabled: bool,
}

impl AmlCompute {
    fn default_max() -> u32 {
        1
    }

    fn default_idle() -> u32 {
        120
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    #[default]
    Dedicated,
    LowPriority,
}

/// An Azure ML compute instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeInstance {
    pub name: String,
    #[serde(default = "default_size")]
    pub size: String,
    pub subnet: String,
    #[serde(default = "yes")]
    pub enable_node_public_ip: bool,
    #[serde(default)]
    pub ssh_public_access_enabled: bool,
    pub idle_time_before_shutdown_minutes: Option<u32>,
    pub create_on_behalf_of: Option<AssignedUser>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignedUser {
    pub user_object_id: String,
    pub user_tenant_id: String,
}

/// An Azure Databricks workspace injected into two delegated subnets of the VNet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Databricks {
    pub name: String,
    pub public_subnet: String,
    pub private_subnet: String,
    #[serde(default)]
    pub sku: DatabricksSku,
    #[serde(default = "yes")]
    pub no_public_ip: bool,
}

/// The Databricks pricing tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabricksSku {
    Standard,
    #[default]
    Premium,
    Trial,
}

impl DatabricksSku {
    /// The value of the workspace's `sku.name`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabricksSku::Standard => "standard",
            DatabricksSku::Premium => "premium",
            DatabricksSku::Trial => "trial",
        }
    }
}

/// An Ubuntu virtual machine in the VNet, optionally attached to the workspace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualMachine {
    pub name: String,
    #[serde(default = "default_size")]
    pub size: String,
    pub subnet: String,
    #[serde(default = "VirtualMachine::default_image")]
    pub image: String,
    #[serde(default = "VirtualMachine::default_admin")]
    pub admin_username: String,
    /// Encryption at host of the temporary and cache disks. Off by default: it needs the
    /// subscription's `Microsoft.Compute/EncryptionAtHost` feature, without which the deployment
    /// fails.
    #[serde(default)]
    pub encryption_at_host: bool,
    #[serde(default)]
    pub attach: bool,
}

impl VirtualMachine {
    fn default_image() -> String {
        "ubuntu-22.04".to_string()
    }

    fn default_admin() -> String {
        "azureuser".to_string()
    }
}

/// An HDInsight cluster in the VNet, optionally attached to the workspace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HdInsight {
    pub name: String,
    pub subnet: String,
    pub cluster_type: ClusterType,
    #[serde(default = "HdInsight::default_workers")]
    pub worker_count: u32,
    #[serde(default = "HdInsight::default_worker_size")]
    pub worker_size: String,
    #[serde(default = "HdInsight::default_head_size")]
    pub head_size: String,
    #[serde(default)]
    pub storage_replication: Replication,
    #[serde(default)]
    pub attach: bool,
}

/// How the storage account of an HDInsight cluster is replicated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Replication {
    #[default]
    Lrs,
    Zrs,
    Grs,
    Ragrs,
    Gzrs,
    Ragzrs,
}

impl Replication {
    /// The storage account's SKU name.
    pub fn sku(self) -> &'static str {
        match self {
            Replication::Lrs => "Standard_LRS",
            Replication::Zrs => "Standard_ZRS",
            Replication::Grs => "Standard_GRS",
            Replication::Ragrs => "Standard_RAGRS",
            Replication::Gzrs => "Standard_GZRS",
            Replication::Ragzrs => "Standard_RAGZRS",
        }
    }

    /// Whether a copy is kept in the paired region.
    pub fn geo(self) -> bool {
        matches!(
            self,
            Replication::Grs | Replication::Ragrs | Replication::Gzrs | Replication::Ragzrs
        )
    }
}

impl HdInsight {
    fn default_workers() -> u32 {
        2
    }

    fn default_worker_size() -> String {
        "Standard_E8_v3".to_string()
    }

    fn default_head_size() -> String {
        "Standard_E4_v3".to_string()
    }

    /// Every VM of the cluster that takes an address in its subnet.
    pub fn nodes(&self) -> u64 {
        u64::from(hdinsight::HEAD_NODES + hdinsight::ZOOKEEPER_NODES + hdinsight::GATEWAY_NODES)
            + u64::from(self.worker_count)
    }
}

/// The optional `permissions` section: who may join the VNet's subnets without owning it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    pub role_name: Option<String>,
    pub assign_to: Vec<Principal>,
}

/// A Microsoft Entra principal that receives the subnet-join role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    pub object_id: String,
    #[serde(rename = "type")]
    pub kind: PrincipalType,
}

/// The kind of principal (`principalType` of the role assignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PrincipalType {
    User,
    Group,
    ServicePrincipal,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "User",
            PrincipalType::Group => "Group",
            PrincipalType::ServicePrincipal => "ServicePrincipal",
        }
    }
}

impl Spec {
    /// Builds the typed spec from a schema-valid document. `Err` means the schema let through
    /// something these types refuse: a bug in amlgen.
    pub fn from_value(value: &Value) -> Result<Spec, serde_json::Error> {
        Spec::deserialize(value)
    }

    /// The workspace region (defaults to `location`).
    pub fn workspace_location(&self) -> &str {
        self.workspace.location.as_deref().unwrap_or(&self.location)
    }

    /// The cluster that builds a created workspace's environment images: the one
    /// `workspace.image_build_compute` names, else the first CPU cluster, else one amlgen adds
    /// beside the first Azure ML compute; `None` without `create: true`.
    pub fn image_builder(&self) -> Option<ImageBuilder<'_>> {
        if !self.workspace.create {
            return None;
        }
        let clusters = || {
            self.compute.iter().filter_map(|c| match c {
                Compute::Amlcompute(cluster) => Some(cluster),
                _ => None,
            })
        };
        if let Some(name) = &self.workspace.image_build_compute {
            return Some(ImageBuilder::Named(name));
        }
        if let Some(cluster) = clusters().find(|c| !crate::azure::sizes::is_gpu(&c.size)) {
            return Some(ImageBuilder::Named(&cluster.name));
        }
        // Beside the first Azure ML compute, reaching the internet as it does.
        let beside = self.compute.iter().find_map(|c| {
            let node = c.aml_node()?;
            Some((c.subnets()[0].1, node.public_ip))
        });
        let Some((subnet, public_ip)) = beside else {
            return Some(ImageBuilder::Absent);
        };
        let taken = |name: &str| {
            self.compute
                .iter()
                .any(|c| c.name().eq_ignore_ascii_case(name))
        };
        let name = std::iter::once(ImageBuilder::NAME.to_string())
            .chain((2..).map(|n| format!("{}-{n}", ImageBuilder::NAME)))
            .find(|name| !taken(name))
            .unwrap_or_default();
        Some(ImageBuilder::Added {
            name,
            subnet,
            public_ip,
        })
    }

    /// The subnet named `name`, with its index in `network.subnets`.
    pub fn subnet(&self, name: &str) -> Option<(usize, &Subnet)> {
        self.network
            .subnets
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
    }
}
