//! Every Azure resource type amlgen writes, with the one API version it uses.
//!
//! This is the only place API versions live. Each is the newest stable version that both the
//! official ARM schemas and Azure's Bicep type definitions (in `../shared/conformance`) know.
//! Microsoft.Network 2025-07-01 makes new subnets private by default; amlgen always writes
//! `defaultOutboundAccess` explicitly, so the change cannot surprise a deployment.

/// A resource type amlgen emits.
/// The type of a subnet, which amlgen declares inside its VNet and refers to by ID.
pub const SUBNET_TYPE: &str = "Microsoft.Network/virtualNetworks/subnets";
/// The type of a resource group, referred to by ID (another group's, for role scopes).
pub const RESOURCE_GROUP_TYPE: &str = "Microsoft.Resources/resourceGroups";
/// The type of a role definition, referred to by ID (Azure's built-in roles).
pub const ROLE_DEFINITION_TYPE: &str = "Microsoft.Authorization/roleDefinitions";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResourceKind {
    NetworkSecurityGroup,
    RouteTable,
    PublicIpAddress,
    NatGateway,
    VirtualNetwork,
    RoleDefinition,
    RoleAssignment,
    StorageAccount,
    HdInsightCluster,
    NetworkInterface,
    VirtualMachine,
    DatabricksWorkspace,
    Workspace,
    Compute,
    Deployment,
    KeyVault,
    ContainerRegistry,
    LogAnalytics,
    ApplicationInsights,
    PrivateEndpoint,
    PrivateDnsZoneGroup,
    PrivateDnsZone,
    VirtualNetworkLink,
}

impl ResourceKind {
    /// The ARM resource type, e.g. `Microsoft.Network/virtualNetworks`.
    pub fn arm_type(self) -> &'static str {
        match self {
            ResourceKind::NetworkSecurityGroup => "Microsoft.Network/networkSecurityGroups",
            ResourceKind::RouteTable => "Microsoft.Network/routeTables",
            ResourceKind::PublicIpAddress => "Microsoft.Network/publicIPAddresses",
            ResourceKind::NatGateway => "Microsoft.Network/natGateways",
            ResourceKind::VirtualNetwork => "Microsoft.Network/virtualNetworks",
            ResourceKind::RoleDefinition => "Microsoft.Authorization/roleDefinitions",
            ResourceKind::RoleAssignment => "Microsoft.Authorization/roleAssignments",
            ResourceKind::StorageAccount => "Microsoft.Storage/storageAccounts",
            ResourceKind::HdInsightCluster => "Microsoft.HDInsight/clusters",
            ResourceKind::NetworkInterface => "Microsoft.Network/networkInterfaces",
            ResourceKind::VirtualMachine => "Microsoft.Compute/virtualMachines",
            ResourceKind::DatabricksWorkspace => "Microsoft.Databricks/workspaces",
            ResourceKind::Workspace => "Microsoft.MachineLearningServices/workspaces",
            ResourceKind::Compute => "Microsoft.MachineLearningServices/workspaces/computes",
            ResourceKind::Deployment => "Microsoft.Resources/deployments",
            ResourceKind::KeyVault => "Microsoft.KeyVault/vaults",
            ResourceKind::ContainerRegistry => "Microsoft.ContainerRegistry/registries",
            ResourceKind::LogAnalytics => "Microsoft.OperationalInsights/workspaces",
            ResourceKind::ApplicationInsights => "Microsoft.Insights/components",
            ResourceKind::PrivateEndpoint => "Microsoft.Network/privateEndpoints",
            ResourceKind::PrivateDnsZoneGroup => {
                "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
            }
            ResourceKind::PrivateDnsZone => "Microsoft.Network/privateDnsZones",
            ResourceKind::VirtualNetworkLink => {
                "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
            }
        }
    }

    /// The API version amlgen writes for this type.
    pub fn api_version(self) -> &'static str {
        match self {
            ResourceKind::NetworkSecurityGroup
            | ResourceKind::RouteTable
            | ResourceKind::PublicIpAddress
            | ResourceKind::NatGateway
            | ResourceKind::VirtualNetwork
            | ResourceKind::NetworkInterface
            | ResourceKind::PrivateEndpoint
            | ResourceKind::PrivateDnsZoneGroup => "2025-07-01",
            ResourceKind::PrivateDnsZone | ResourceKind::VirtualNetworkLink => "2024-06-01",
            ResourceKind::KeyVault => "2026-02-01",
            ResourceKind::ContainerRegistry => "2025-11-01",
            ResourceKind::LogAnalytics => "2025-07-01",
            ResourceKind::ApplicationInsights => "2020-02-02",
            ResourceKind::RoleDefinition | ResourceKind::RoleAssignment => "2022-04-01",
            ResourceKind::StorageAccount => "2025-01-01",
            ResourceKind::HdInsightCluster => "2021-06-01",
            ResourceKind::VirtualMachine => "2025-04-01",
            ResourceKind::DatabricksWorkspace => "2026-01-01",
            ResourceKind::Workspace | ResourceKind::Compute => "2026-05-01",
            ResourceKind::Deployment => "2025-04-01",
        }
    }

    /// What the resource is, in words: `virtual network`.
    pub fn noun(self) -> &'static str {
        match self {
            ResourceKind::NetworkSecurityGroup => "network security group",
            ResourceKind::RouteTable => "route table",
            ResourceKind::PublicIpAddress => "public IP",
            ResourceKind::NatGateway => "NAT gateway",
            ResourceKind::VirtualNetwork => "virtual network",
            ResourceKind::RoleDefinition => "role definition",
            ResourceKind::RoleAssignment => "role assignment",
            ResourceKind::StorageAccount => "storage account",
            ResourceKind::HdInsightCluster => "HDInsight cluster",
            ResourceKind::NetworkInterface => "network interface",
            ResourceKind::VirtualMachine => "virtual machine",
            ResourceKind::DatabricksWorkspace => "Databricks workspace",
            ResourceKind::Workspace => "Azure ML workspace",
            ResourceKind::Compute => "Azure ML compute",
            ResourceKind::Deployment => "deployment",
            ResourceKind::KeyVault => "key vault",
            ResourceKind::ContainerRegistry => "container registry",
            ResourceKind::LogAnalytics => "Log Analytics workspace",
            ResourceKind::ApplicationInsights => "Application Insights component",
            ResourceKind::PrivateEndpoint => "private endpoint",
            ResourceKind::PrivateDnsZoneGroup => "private DNS zone group",
            ResourceKind::PrivateDnsZone => "private DNS zone",
            ResourceKind::VirtualNetworkLink => "virtual network link",
        }
    }

    /// `Type@apiVersion`, as Bicep writes it.
    pub fn bicep_type(self) -> String {
        format!("{}@{}", self.arm_type(), self.api_version())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bicep_type_joins_type_and_version() {
        assert_eq!(
            ResourceKind::VirtualNetwork.bicep_type(),
            "Microsoft.Network/virtualNetworks@2025-07-01"
        );
    }
}
