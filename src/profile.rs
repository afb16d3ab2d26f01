//! The requirement profiles: Microsoft's network rules for Azure ML training compute, as data.
//!
//! Microsoft changed these rules after the 2021 guide (no-public-IP compute went GA in 2023, Batch
//! moved to simplified node communication, new outbound tags appeared). Each profile is one table
//! of NSG rules and one of bypass routes; every row says when it applies and why, with its
//! source, so the plan selects rows and the output README can explain each one. Priorities are
//! part of the data so that a rule keeps its priority when a conditional neighbour is absent.
//! The rules Databricks and HDInsight require are their own services' and the same under both
//! profiles: they live in one shared table, [`SERVICE_RULES`].

/// Which way traffic flows through an NSG rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    Inbound,
    Outbound,
}

/// The NSG rule protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Any,
}

impl Direction {
    /// The value of an NSG rule's `direction`.
    pub fn arm_name(self) -> &'static str {
        match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        }
    }
}

impl Protocol {
    /// The value of an NSG rule's `protocol`.
    pub fn arm_name(self) -> &'static str {
        match self {
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
            Protocol::Any => "*",
        }
    }
}

impl Access {
    /// The value of an NSG rule's `access`.
    pub fn arm_name(self) -> &'static str {
        match self {
            Access::Allow => "Allow",
            Access::Deny => "Deny",
        }
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allow,
    Deny,
}

/// The far side of a rule: its source when inbound, its destination when outbound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// A service tag, written as is (`AzureMachineLearning`, `Internet`).
    Tag(&'static str),
    /// A regional service tag: `<tag>.<location>` (`Storage.eastus2`).
    Regional(&'static str),
    /// The CIDRs of `network.ssh.allow_from`.
    SshSources,
    /// The VNet's own address space. Not the `VirtualNetwork` tag: Azure counts the prefixes of
    /// user-defined routes in that tag, so under forced tunnelling it would match the internet.
    AddressSpace,
}

/// The near side of a rule: its destination when inbound, its source when outbound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// `VirtualNetwork`: the usual near side.
    VirtualNetwork,
    /// `*`: the guide writes "destination: Any" for the SSH rule of VMs and HDInsight.
    Any,
}

impl Local {
    /// The address prefix of the near side.
    pub fn prefix(self) -> &'static str {
        match self {
            Local::VirtualNetwork => "VirtualNetwork",
            Local::Any => "*",
        }
    }
}

/// When a row applies to a subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The subnet hosts an Azure ML cluster or compute instance.
    AmlCompute,
    /// The subnet hosts an Azure ML compute instance.
    ComputeInstance,
    /// The subnet hosts Azure ML compute with public IPs.
    PublicIpCompute,
    /// A compute in the subnet enables SSH and `ssh.allow_from` names sources.
    Ssh,
    /// The subnet hosts a VM or HDInsight cluster attached to the workspace.
    Attached,
    /// The subnet hosts an HDInsight cluster.
    HdInsight,
    /// The subnet is one of a Databricks workspace's.
    Databricks,
    /// The subnet is one of a Databricks workspace's whose nodes have public IPs.
    DatabricksPublicIp,
    /// `outbound: locked`, in a subnet of Azure ML compute, VMs or HDInsight (the allow-list).
    Locked,
    /// `outbound: locked` and `microsoft_images: true`, in such a subnet.
    LockedMicrosoftImages,
    /// `outbound: locked`, in any compute subnet (the final deny).
    LockedAny,
    /// Any subnet but Databricks' (whose NSG rules Databricks manages).
    NotDatabricks,
    /// `egress: forced_tunnel`, in any compute subnet: its route table's `0.0.0.0/0` puts every
    /// address in the `VirtualNetwork` tag, so Azure's default `AllowVnetInBound` admits anyone.
    ForcedTunnel,
}

/// What a subnet holds and how the spec configures it: the facts `When` is judged against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// The subnet hosts compute of any kind.
    pub compute: bool,
    pub aml_compute: bool,
    pub compute_instance: bool,
    pub public_ip_compute: bool,
    pub ssh: bool,
    pub attached: bool,
    pub hdinsight: bool,
    /// A Databricks subnet; it hosts nothing else.
    pub databricks: bool,
    pub databricks_public_ip: bool,
    pub locked: bool,
    pub microsoft_images: bool,
    /// `egress: forced_tunnel`: the subnet has a route table with a default route.
    pub forced_tunnel: bool,
}

impl When {
    pub fn holds(self, c: &Context) -> bool {
        match self {
            When::AmlCompute => c.aml_compute,
            When::ComputeInstance => c.compute_instance,
            When::PublicIpCompute => c.public_ip_compute,
            When::Ssh => c.ssh,
            When::Attached => c.attached,
            When::HdInsight => c.hdinsight,
            When::Databricks => c.databricks,
            When::DatabricksPublicIp => c.databricks_public_ip,
            When::Locked => c.compute && c.locked && !c.databricks,
            When::LockedMicrosoftImages => {
                c.compute && c.locked && !c.databricks && c.microsoft_images
            }
            When::LockedAny => c.compute && c.locked,
            When::NotDatabricks => !c.databricks,
            When::ForcedTunnel => c.compute && c.forced_tunnel,
        }
    }
}

/// Who asks for a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The documentation its `source` cites asks for it.
    Documented,
    /// amlgen adds it beyond the profile's documentation: `reason` says why, `source` what the
    /// reason rests on. The output README marks it.
    Amlgen,
}

/// One NSG rule of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsgRule {
    pub name: &'static str,
    pub priority: u16,
    pub direction: Direction,
    pub access: Access,
    pub protocol: Protocol,
    /// Destination ports: `*`, one port, or a range `a-b`; several become `destinationPortRanges`.
    pub ports: &'static [&'static str],
    pub peer: Peer,
    pub local: Local,
    pub when: When,
    pub reason: &'static str,
    pub source: &'static str,
    pub origin: Origin,
}

/// One bypass route of a forced-tunnel route table: traffic to a service goes straight to the
/// internet instead of through the appliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BypassRoute {
    /// The service tag, without region.
    pub service: &'static str,
    /// With `routes: service_tags`, write the regional tag (`BatchNodeManagement.eastus2`) rather
    /// than the global one. With `routes: ip_prefixes` every service is expanded per region.
    pub regional_tag: bool,
    /// With `routes: ip_prefixes`, the secondary region's prefixes are routed too.
    pub paired: bool,
    pub reason: &'static str,
    pub source: &'static str,
}

/// A requirement profile.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    pub name: &'static str,
    pub nsg_rules: &'static [NsgRule],
    pub bypass_routes: &'static [BypassRoute],
}

impl Profile {
    /// Every NSG rule that may apply under this profile: its own, then the shared service rules.
    pub fn all_nsg_rules(&self) -> impl Iterator<Item = &'static NsgRule> + use<> {
        self.nsg_rules.iter().chain(SERVICE_RULES)
    }
}

const GUIDE_2021: &str = "Microsoft Learn, \"Secure an Azure Machine Learning training environment with virtual networks\" (2021)";

/// The source of an outbound allow-list rule of the 2021 guide: the guide names the service tag
/// but gives no port ("limit outbound traffic to the following items: ... by using Service Tag
/// of ..."); the port is the one its companion page of the time, "Use workspace behind a
/// Firewall for Azure Machine Learning" (ms.date 2021-07-29), gives the tag in its table of
/// network rules (`$entry`, as written there).
macro_rules! guide_2021_tag {
    ($entry:literal) => {
        concat!(
            "Microsoft Learn, \"Secure an Azure Machine Learning training environment with virtual networks\" (2021) names the tag; the port: \"Use workspace behind a Firewall for Azure Machine Learning\" (2021-07-29), network rule \"",
            $entry,
            "\""
        )
    };
}
const GUIDE_2021_UDR: &str =
    "Microsoft Learn, include \"machine-learning-compute-user-defined-routes\" (2021-08-26)";
const DOC_NOW: &str = "Microsoft Learn, \"Secure an Azure Machine Learning training environment with virtual networks\" (2025-06-12)";
const FIREWALL_NOW: &str =
    "Microsoft Learn, \"Configure inbound and outbound network traffic\" (2026-03-19)";
const AZURE_TRE_2780: &str = "Microsoft Learn, \"Configure inbound and outbound network traffic\" (2026-03-19): 445 where a firewall sits between the VNet and the storage's private endpoint; microsoft/AzureTRE#2780: Azure ML's pre-provisioning NSG check requires outbound 445 to Storage";
const VNET_SOURCES: &str = "Microsoft Learn, \"Configure inbound and outbound network traffic\" (443 to private endpoints), \"Secure an Azure Machine Learning training environment with virtual networks\" (445 to the default storage), \"Virtual network service tags\" (the tag includes route prefixes)";

#[allow(clippy::too_many_arguments)] // One argument per column of the table.
const fn rule(
    name: &'static str,
    priority: u16,
    direction: Direction,
    protocol: Protocol,
    ports: &'static [&'static str],
    peer: Peer,
    when: When,
    reason: &'static str,
    source: &'static str,
) -> NsgRule {
    NsgRule {
        name,
        priority,
        direction,
        access: Access::Allow,
        protocol,
        ports,
        peer,
        local: Local::VirtualNetwork,
        when,
        reason,
        source,
        origin: Origin::Documented,
    }
}

/// A row amlgen adds beyond the documentation.
const fn addition(rule: NsgRule) -> NsgRule {
    NsgRule {
        origin: Origin::Amlgen,
        ..rule
    }
}

/// A row whose near side is `*` instead of `VirtualNetwork`.
const fn to_any(rule: NsgRule) -> NsgRule {
    NsgRule {
        local: Local::Any,
        ..rule
    }
}

use Direction::{Inbound, Outbound};
use Peer::{Regional, SshSources, Tag};
use Protocol::{Any, Tcp, Udp};

/// Inbound SSH from `network.ssh.allow_from`, in both profiles.
const fn ssh_rule(priority: u16, source: &'static str) -> NsgRule {
    rule(
        "AllowSshInbound",
        priority,
        Inbound,
        Tcp,
        &["22"],
        SshSources,
        When::Ssh,
        "Optional remote login (SSH) from the sources in network.ssh.allow_from.",
        source,
    )
}

const ALLOW_VNET_OUT: NsgRule = addition(rule(
    "AllowVirtualNetworkOutbound",
    100,
    Outbound,
    Tcp,
    &["443", "445"],
    Peer::AddressSpace,
    When::Locked,
    "Private endpoints (workspace, storage over HTTPS and SMB, key vault, registry) in the VNet's own address space, not the VirtualNetwork tag, which includes the route table's prefixes; peered VNets stay reachable through Azure's default AllowVnetOutBound.",
    VNET_SOURCES,
));

const DENY_INTERNET_OUT: NsgRule = NsgRule {
    name: "DenyInternetOutbound",
    priority: 4096,
    direction: Outbound,
    access: Access::Deny,
    protocol: Any,
    ports: &["*"],
    peer: Tag("Internet"),
    local: Local::VirtualNetwork,
    when: When::LockedAny,
    reason: "Enforces the lockdown: internet destinations the rules above do not allow are denied, instead of only documented.",
    source: "amlgen: outbound: locked",
    origin: Origin::Amlgen,
};

/// The 2021 guide's first lockdown step, "Deny outbound internet connection by using the NSG
/// rules", as [`DENY_INTERNET_OUT`] writes it.
const GUIDE_2021_DENY_INTERNET_OUT: NsgRule = NsgRule {
    reason: "The lockdown's first step: internet destinations the rules above do not allow are denied.",
    source: "Microsoft Learn, \"Secure an Azure Machine Learning training environment with virtual networks\" (2021): \"Deny outbound internet connection by using the NSG rules\"; name and priority are amlgen's",
    origin: Origin::Documented,
    ..DENY_INTERNET_OUT
};

/// The 2021 guide, exactly.
pub(crate) const GUIDE_2021_PROFILE: Profile = Profile {
    name: "guide-2021",
    nsg_rules: &[
        rule(
            "AllowBatchNodeManagementInbound",
            100,
            Inbound,
            Tcp,
            &["29876-29877"],
            Tag("BatchNodeManagement"),
            When::AmlCompute,
            "Azure Batch manages the nodes of Azure ML compute over TCP 29876-29877; without it nodes are unusable.",
            GUIDE_2021,
        ),
        rule(
            "AllowAzureMachineLearningInbound",
            110,
            Inbound,
            Tcp,
            &["44224"],
            Tag("AzureMachineLearning"),
            When::ComputeInstance,
            "Azure ML talks to applications on compute instances over TCP 44224.",
            GUIDE_2021,
        ),
        ssh_rule(120, GUIDE_2021),
        to_any(rule(
            "AllowAzureMachineLearningSshInbound",
            130,
            Inbound,
            Any,
            &["22"],
            Tag("AzureMachineLearning"),
            When::Attached,
            "Azure ML reaches attached VMs and HDInsight clusters over SSH; the guide's rule allows any protocol to any destination.",
            GUIDE_2021,
        )),
        ALLOW_VNET_OUT,
        rule(
            "AllowStorageOutbound",
            110,
            Outbound,
            Tcp,
            &["443"],
            Regional("Storage"),
            When::Locked,
            "Lockdown allow-list: Azure Storage in the region.",
            guide_2021_tag!("Storage.region TCP 443"),
        ),
        rule(
            "AllowAzureContainerRegistryOutbound",
            120,
            Outbound,
            Tcp,
            &["443"],
            Regional("AzureContainerRegistry"),
            When::Locked,
            "Lockdown allow-list: Azure Container Registry in the region.",
            guide_2021_tag!("ContainerRegistry.region TCP 443"),
        ),
        rule(
            "AllowAzureMachineLearningOutbound",
            130,
            Outbound,
            Tcp,
            &["443"],
            Tag("AzureMachineLearning"),
            When::Locked,
            "Lockdown allow-list: the Azure ML service.",
            guide_2021_tag!("AzureMachineLearning TCP 443"),
        ),
        rule(
            "AllowAzureResourceManagerOutbound",
            140,
            Outbound,
            Tcp,
            &["443"],
            Tag("AzureResourceManager"),
            When::Locked,
            "Lockdown allow-list: Azure Resource Manager.",
            guide_2021_tag!("AzureResourceManager TCP 443"),
        ),
        rule(
            "AllowAzureActiveDirectoryOutbound",
            150,
            Outbound,
            Tcp,
            &["*"],
            Tag("AzureActiveDirectory"),
            When::Locked,
            "Lockdown allow-list: Microsoft Entra ID (Azure Active Directory), on any TCP port, as the 2021 firewall page gives it.",
            guide_2021_tag!("AzureActiveDirectory TCP *"),
        ),
        rule(
            "AllowMicrosoftContainerRegistryOutbound",
            160,
            Outbound,
            Tcp,
            &["443"],
            Tag("MicrosoftContainerRegistry"),
            When::LockedMicrosoftImages,
            "Microsoft base images with user-managed dependencies come from Microsoft Container Registry.",
            guide_2021_tag!("MicrosoftContainerRegistry.region TCP 443"),
        ),
        rule(
            "AllowAzureFrontDoorFirstPartyOutbound",
            170,
            Outbound,
            Tcp,
            &["443"],
            Tag("AzureFrontDoor.FirstParty"),
            When::LockedMicrosoftImages,
            "Microsoft Container Registry serves image layers through Azure Front Door.",
            "Microsoft Learn, \"Secure an Azure Machine Learning training environment with virtual networks\" (2021) names the tag; the port is amlgen's: \"Use workspace behind a Firewall for Azure Machine Learning\" (2021-07-29) does not list this tag, and gives TCP 443 to MicrosoftContainerRegistry.region, whose layers it serves",
        ),
        GUIDE_2021_DENY_INTERNET_OUT,
    ],
    // The UDR include (ms.date 2021-08-26), both tabs, next hop Internet. Service tags: "Create
    // user-defined routes for the following service tags: `AzureMachineLearning`,
    // `BatchNodeManagement.<region>`". IP addresses: "For the Azure Machine Learning service, you
    // must add the IP address of both the primary and secondary regions"; its CLI example reads
    // Batch's prefixes for the primary region only (`[?properties.region=='eastus2']`) and
    // AzureMachineLearning's for East US 2 and Central US. Hence Batch regional and unpaired.
    bypass_routes: &[
        BypassRoute {
            service: "BatchNodeManagement",
            regional_tag: true,
            paired: false,
            reason: "Azure Batch must reach the nodes directly, not through the appliance (the region of the resources only).",
            source: GUIDE_2021_UDR,
        },
        BypassRoute {
            service: "AzureMachineLearning",
            regional_tag: false,
            paired: true,
            reason: "Azure ML must reach the compute directly, not through the appliance (primary and secondary region).",
            source: GUIDE_2021_UDR,
        },
    ],
};

/// Today's documentation.
pub(crate) const CURRENT_PROFILE: Profile = Profile {
    name: "current",
    nsg_rules: &[
        rule(
            "AllowAzureMachineLearningInbound",
            100,
            Inbound,
            Tcp,
            &["44224"],
            Tag("AzureMachineLearning"),
            When::PublicIpCompute,
            "Azure ML manages compute with public IPs over TCP 44224; no-public-IP compute needs no inbound rule.",
            DOC_NOW,
        ),
        ssh_rule(110, DOC_NOW),
        to_any(rule(
            "AllowAzureMachineLearningSshInbound",
            120,
            Inbound,
            Tcp,
            &["22"],
            Tag("AzureMachineLearning"),
            When::Attached,
            "Azure ML reaches attached VMs and HDInsight clusters over SSH, from its service tag only.",
            DOC_NOW,
        )),
        ALLOW_VNET_OUT,
        rule(
            "AllowAzureActiveDirectoryOutbound",
            110,
            Outbound,
            Tcp,
            &["80", "443"],
            Tag("AzureActiveDirectory"),
            When::Locked,
            "Authentication with Microsoft Entra ID.",
            FIREWALL_NOW,
        ),
        rule(
            "AllowAzureMachineLearningOutbound",
            120,
            Outbound,
            Tcp,
            &["443", "8787", "18881"],
            Tag("AzureMachineLearning"),
            When::Locked,
            "The Azure ML service (443), RStudio (8787) and the language server for IntelliSense (18881).",
            FIREWALL_NOW,
        ),
        rule(
            "AllowAzureMachineLearningUdpOutbound",
            130,
            Outbound,
            Udp,
            &["5831"],
            Tag("AzureMachineLearning"),
            When::Locked,
            "Creating, updating and deleting compute instances (required since no-public-IP compute went GA).",
            DOC_NOW,
        ),
        rule(
            "AllowBatchNodeManagementOutbound",
            140,
            Outbound,
            Any,
            &["443"],
            Regional("BatchNodeManagement"),
            When::Locked,
            "Azure Batch node communication: nodes call the Batch service in the region.",
            DOC_NOW,
        ),
        rule(
            "AllowAzureResourceManagerOutbound",
            150,
            Outbound,
            Tcp,
            &["443"],
            Tag("AzureResourceManager"),
            When::Locked,
            "Azure Resource Manager.",
            FIREWALL_NOW,
        ),
        rule(
            "AllowStorageOutbound",
            160,
            Outbound,
            Tcp,
            &["443"],
            Regional("Storage"),
            When::Locked,
            "Azure Storage in the region: the workspace's default storage and Batch's.",
            FIREWALL_NOW,
        ),
        rule(
            "AllowStorageSmbOutbound",
            170,
            Outbound,
            Tcp,
            &["445"],
            Regional("Storage"),
            When::Locked,
            "Azure Files (SMB 445) of the default storage account, where it is reached through the firewall or its public endpoint; Azure ML's pre-provisioning check requires it.",
            AZURE_TRE_2780,
        ),
        rule(
            "AllowAzureFrontDoorFrontEndOutbound",
            180,
            Outbound,
            Tcp,
            &["443"],
            Tag("AzureFrontDoor.FrontEnd"),
            When::Locked,
            "Azure ML studio and AutoML resources.",
            FIREWALL_NOW,
        ),
        rule(
            "AllowMicrosoftContainerRegistryOutbound",
            190,
            Outbound,
            Tcp,
            &["443"],
            Tag("MicrosoftContainerRegistry"),
            When::Locked,
            "Curated environments and base images from Microsoft Container Registry.",
            FIREWALL_NOW,
        ),
        rule(
            "AllowAzureFrontDoorFirstPartyOutbound",
            200,
            Outbound,
            Tcp,
            &["443"],
            Tag("AzureFrontDoor.FirstParty"),
            When::Locked,
            "Microsoft Container Registry serves image layers through Azure Front Door.",
            FIREWALL_NOW,
        ),
        rule(
            "AllowAzureMonitorOutbound",
            210,
            Outbound,
            Tcp,
            &["443"],
            Tag("AzureMonitor"),
            When::Locked,
            "Metrics and logs of the compute (unless Azure Monitor is behind a private link scope).",
            FIREWALL_NOW,
        ),
        DENY_INTERNET_OUT,
    ],
    bypass_routes: &[BypassRoute {
        service: "AzureMachineLearning",
        regional_tag: false,
        paired: true,
        reason: "Azure ML reaches compute with public IPs directly; its replies must not go through the appliance.",
        source: FIREWALL_NOW,
    }],
};

const HDINSIGHT_NSG: &str =
    "Microsoft Learn, \"Network security groups and service tags for Azure HDInsight\"";
const DATABRICKS_VNET: &str = "Microsoft Learn, \"Deploy Azure Databricks in your Azure virtual network (VNet injection)\" and \"Intra-VNet NSG rule hardening\" (priority 100 both ways); rule names, ports and priorities as Databricks writes them on delegated subnets";

const SERVICE_TAGS_DOC: &str = "Microsoft Learn, \"Virtual network service tags\": VirtualNetwork includes \"address prefixes used on user-defined routes. This tag might also contain default routes\"";

/// The inbound lockdown of a forced-tunnel subnet. Its route table's `0.0.0.0/0` is part of the
/// `VirtualNetwork` tag, so Azure's default `AllowVnetInBound` (65000) would admit every source;
/// these rules admit the VNet's own range and Azure's load balancer, then deny everything else,
/// without relying on how the `Internet` tag resolves when the default route is in the VNet tag.
const FORCED_TUNNEL_INBOUND: [NsgRule; 3] = [
    NsgRule {
        name: "AllowVnetAddressSpaceInbound",
        priority: 4000,
        direction: Inbound,
        access: Access::Allow,
        protocol: Any,
        ports: &["*"],
        peer: Peer::AddressSpace,
        local: Local::VirtualNetwork,
        when: When::ForcedTunnel,
        reason: "Traffic between hosts of the VNet, named by its own address space: the VirtualNetwork tag includes the route table's 0.0.0.0/0 here.",
        source: SERVICE_TAGS_DOC,
        origin: Origin::Amlgen,
    },
    NsgRule {
        name: "AllowAzureLoadBalancerInbound",
        priority: 4001,
        direction: Inbound,
        access: Access::Allow,
        protocol: Any,
        ports: &["*"],
        peer: Tag("AzureLoadBalancer"),
        local: Local::Any,
        when: When::ForcedTunnel,
        reason: "Azure's load balancer health probes, as Azure's default AllowAzureLoadBalancerInBound (65001) allows them; the deny below would otherwise come first.",
        source: "Microsoft Learn, \"Network security groups\" (default security rules)",
        origin: Origin::Amlgen,
    },
    NsgRule {
        name: "DenyAllInbound",
        priority: 4096,
        direction: Inbound,
        access: Access::Deny,
        protocol: Any,
        ports: &["*"],
        peer: Tag("*"),
        local: Local::Any,
        when: When::ForcedTunnel,
        reason: "Forced tunnelling puts 0.0.0.0/0 in the VirtualNetwork tag, so Azure's default AllowVnetInBound (65000) would admit any source on any port; everything not allowed above is denied.",
        source: SERVICE_TAGS_DOC,
        origin: Origin::Amlgen,
    },
];

/// The rules other services require in their subnets, the same under every profile. Databricks
/// adds its rules to the subnet NSGs itself and refuses changes to them, so they are declared
/// with Databricks' exact names and priorities and a redeploy changes nothing.
pub(crate) const SERVICE_RULES: &[NsgRule] = &[
    FORCED_TUNNEL_INBOUND[0],
    FORCED_TUNNEL_INBOUND[1],
    FORCED_TUNNEL_INBOUND[2],
    NsgRule {
        name: "DenyRemoteDesktopOutbound",
        priority: 4000,
        direction: Outbound,
        access: Access::Deny,
        protocol: Tcp,
        ports: &["3389"],
        peer: Tag("VirtualNetwork"),
        local: Local::VirtualNetwork,
        when: When::NotDatabricks,
        reason: "Against lateral movement: no compute here uses Remote Desktop, so none may open it to other hosts. SSH stays open: Azure ML and HDInsight reach their nodes over it.",
        source: "PSRule for Azure, Azure.NSG.LateralTraversal",
        origin: Origin::Amlgen,
    },
    to_any(rule(
        "AllowHDInsightManagementInbound",
        140,
        Inbound,
        Tcp,
        &["443"],
        Tag("HDInsight"),
        When::HdInsight,
        "HDInsight's health and management services reach the cluster nodes over TCP 443.",
        HDINSIGHT_NSG,
    )),
    rule(
        "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-worker-inbound",
        100,
        Inbound,
        Any,
        &["*"],
        Tag("VirtualNetwork"),
        When::Databricks,
        "Databricks cluster nodes talk to each other.",
        DATABRICKS_VNET,
    ),
    rule(
        "Microsoft.Databricks-workspaces_UseOnly_databricks-control-plane-to-worker-ssh",
        101,
        Inbound,
        Tcp,
        &["22"],
        Tag("AzureDatabricks"),
        When::DatabricksPublicIp,
        "Without secure cluster connectivity, the Databricks control plane manages nodes over SSH.",
        DATABRICKS_VNET,
    ),
    rule(
        "Microsoft.Databricks-workspaces_UseOnly_databricks-control-plane-to-worker-proxy",
        102,
        Inbound,
        Tcp,
        &["5557"],
        Tag("AzureDatabricks"),
        When::DatabricksPublicIp,
        "Without secure cluster connectivity, the Databricks control plane reaches the node proxy.",
        DATABRICKS_VNET,
    ),
    rule(
        "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-worker-outbound",
        100,
        Outbound,
        Any,
        &["*"],
        Tag("VirtualNetwork"),
        When::Databricks,
        "Databricks cluster nodes talk to each other.",
        DATABRICKS_VNET,
    ),
    rule(
        "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-databricks-webapp",
        101,
        Outbound,
        Tcp,
        &["443", "3306", "8443-8451"],
        Tag("AzureDatabricks"),
        When::Databricks,
        "Nodes reach the Databricks control plane, its secure cluster connectivity relay, web application and metastore.",
        DATABRICKS_VNET,
    ),
    rule(
        "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-sql",
        102,
        Outbound,
        Tcp,
        &["3306"],
        Tag("Sql"),
        When::Databricks,
        "Nodes reach the Databricks metastore.",
        DATABRICKS_VNET,
    ),
    rule(
        "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-storage",
        103,
        Outbound,
        Tcp,
        &["443"],
        Tag("Storage"),
        When::Databricks,
        "Nodes reach Databricks artifact, log and DBFS storage.",
        DATABRICKS_VNET,
    ),
    rule(
        "Microsoft.Databricks-workspaces_UseOnly_databricks-worker-to-eventhub",
        104,
        Outbound,
        Tcp,
        &["9093"],
        Tag("EventHub"),
        When::Databricks,
        "Nodes send logs to Databricks through Event Hubs.",
        DATABRICKS_VNET,
    ),
];

const DATABRICKS_UDR: &str =
    "Microsoft Learn, \"User-defined route settings for Azure Databricks\"";

/// The routes Databricks documents for forced tunnelling, in either profile: its control plane
/// (with the secure cluster connectivity relay and web application), the metastore, artifact and
/// log storage, and Event Hubs go straight to the internet.
pub(crate) const DATABRICKS_BYPASS: &[BypassRoute] = &[
    BypassRoute {
        service: "AzureDatabricks",
        regional_tag: false,
        paired: false,
        reason: "Databricks nodes reach the control plane, the secure cluster connectivity relay and the web application directly.",
        source: DATABRICKS_UDR,
    },
    BypassRoute {
        service: "Sql",
        regional_tag: false,
        paired: false,
        reason: "Databricks nodes reach the Databricks metastore directly.",
        source: DATABRICKS_UDR,
    },
    BypassRoute {
        service: "Storage",
        regional_tag: false,
        paired: false,
        reason: "Databricks nodes reach artifact and log Blob storage directly.",
        source: DATABRICKS_UDR,
    },
    BypassRoute {
        service: "EventHub",
        regional_tag: false,
        paired: false,
        reason: "Databricks nodes send their logs to Event Hubs directly.",
        source: DATABRICKS_UDR,
    },
];

/// The route that lets HDInsight's management services reach the cluster and get their replies
/// directly, in either profile.
pub(crate) const HDINSIGHT_BYPASS: BypassRoute = BypassRoute {
    service: "HDInsight",
    regional_tag: false,
    paired: false,
    reason: "HDInsight's health and management traffic must not return through the appliance.",
    source: "Microsoft Learn, \"Configure outbound network traffic restriction for Azure HDInsight clusters\"",
};

/// The profile named by the spec's `requirements`.
pub(crate) fn for_requirements(requirements: crate::spec::Requirements) -> &'static Profile {
    match requirements {
        crate::spec::Requirements::Current => &CURRENT_PROFILE,
        crate::spec::Requirements::Guide2021 => &GUIDE_2021_PROFILE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every context a subnet can be in: each flag on or off, except that a Databricks subnet
    /// hosts nothing else.
    fn contexts() -> Vec<Context> {
        (0u16..1 << 11)
            .map(|bits| {
                let on = |i: u16| bits & (1 << i) != 0;
                Context {
                    compute: true,
                    aml_compute: on(0),
                    compute_instance: on(1),
                    public_ip_compute: on(2),
                    ssh: on(3),
                    attached: on(4),
                    hdinsight: on(5),
                    databricks: on(6),
                    databricks_public_ip: on(6) && on(7),
                    locked: on(8),
                    microsoft_images: on(9),
                    forced_tunnel: on(10),
                }
            })
            .filter(|c| {
                !c.databricks
                    || !(c.aml_compute
                        || c.compute_instance
                        || c.public_ip_compute
                        || c.ssh
                        || c.attached
                        || c.hdinsight)
            })
            .collect()
    }

    #[test]
    fn priorities_are_unique_per_direction_and_in_range_in_every_subnet() {
        for profile in [&CURRENT_PROFILE, &GUIDE_2021_PROFILE] {
            for context in contexts() {
                let mut seen = BTreeSet::new();
                for rule in profile.all_nsg_rules().filter(|r| r.when.holds(&context)) {
                    assert!(
                        (100..=4096).contains(&rule.priority),
                        "{} {}",
                        profile.name,
                        rule.name
                    );
                    assert!(
                        seen.insert((rule.direction, rule.priority)),
                        "{} {} in {context:?}",
                        profile.name,
                        rule.name
                    );
                }
            }
        }
    }

    #[test]
    fn names_fit_azures_80_characters() {
        for profile in [&CURRENT_PROFILE, &GUIDE_2021_PROFILE] {
            assert!(profile.all_nsg_rules().all(|r| r.name.len() <= 80));
        }
    }

    #[test]
    fn databricks_subnets_get_databricks_rules_and_the_deny_only() {
        let subnet = Context {
            compute: true,
            databricks: true,
            locked: true,
            ..Context::default()
        };
        let names: Vec<&str> = CURRENT_PROFILE
            .all_nsg_rules()
            .filter(|r| r.when.holds(&subnet))
            .map(|r| r.name)
            .collect();
        assert_eq!(names.len(), 7);
        assert!(names.contains(&"DenyInternetOutbound"));
        assert!(
            names
                .iter()
                .filter(|n| **n != "DenyInternetOutbound")
                .all(|n| n.starts_with("Microsoft.Databricks-workspaces_UseOnly_"))
        );
    }

    #[test]
    fn names_are_unique_and_the_deny_comes_last() {
        for profile in [&CURRENT_PROFILE, &GUIDE_2021_PROFILE] {
            let names: BTreeSet<_> = profile.all_nsg_rules().map(|r| r.name).collect();
            assert_eq!(names.len(), profile.all_nsg_rules().count());
            let deny = profile
                .nsg_rules
                .iter()
                .find(|r| r.access == Access::Deny)
                .unwrap();
            assert!(
                profile
                    .nsg_rules
                    .iter()
                    .filter(|r| r.direction == Outbound)
                    .all(|r| r.priority <= deny.priority)
            );
        }
    }

    #[test]
    fn the_2021_guide_has_its_five_tag_allow_list() {
        let tags: Vec<Peer> = GUIDE_2021_PROFILE
            .nsg_rules
            .iter()
            .filter(|r| {
                r.direction == Outbound && r.when == When::Locked && r.access == Access::Allow
            })
            .map(|r| r.peer)
            .collect();
        assert_eq!(
            tags,
            [
                Peer::AddressSpace,
                Regional("Storage"),
                Regional("AzureContainerRegistry"),
                Tag("AzureMachineLearning"),
                Tag("AzureResourceManager"),
                Tag("AzureActiveDirectory")
            ]
        );
    }

    #[test]
    fn the_2021_allow_list_ports_are_the_2021_firewall_pages_and_say_so() {
        // The guide names the tags without ports; "Use workspace behind a Firewall" (2021-07-29)
        // gives them: AzureActiveDirectory TCP *, the others TCP 443.
        let ports: Vec<(Peer, &[&str])> = GUIDE_2021_PROFILE
            .nsg_rules
            .iter()
            .filter(|r| r.direction == Outbound && r.access == Access::Allow)
            .filter(|r| matches!(r.peer, Tag(_) | Regional(_)))
            .inspect(|r| {
                let port_from = r.source.contains("the port: \"Use workspace behind a Firewall for Azure Machine Learning\" (2021-07-29)")
                    || r.source.contains("the port is amlgen's");
                assert!(port_from, "{}: {}", r.name, r.source);
                assert!(r.source.contains("(2021) names the tag"), "{}", r.name);
            })
            .map(|r| (r.peer, r.ports))
            .collect();
        assert_eq!(
            ports,
            [
                (Regional("Storage"), &["443"][..]),
                (Regional("AzureContainerRegistry"), &["443"]),
                (Tag("AzureMachineLearning"), &["443"]),
                (Tag("AzureResourceManager"), &["443"]),
                (Tag("AzureActiveDirectory"), &["*"]),
                (Tag("MicrosoftContainerRegistry"), &["443"]),
                (Tag("AzureFrontDoor.FirstParty"), &["443"]),
            ]
        );
    }

    #[test]
    fn current_inbound_rules_only_apply_to_public_ip_compute() {
        let private = Context {
            compute: true,
            aml_compute: true,
            compute_instance: true,
            ..Context::default()
        };
        assert!(
            CURRENT_PROFILE
                .nsg_rules
                .iter()
                .filter(|r| r.direction == Inbound)
                .all(|r| !r.when.holds(&private))
        );
    }
}
