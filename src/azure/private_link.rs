//! The private-link sub-resources amlgen creates private endpoints for, with the private DNS
//! zones each one's names resolve in, per Azure cloud.
//!
//! Source: Microsoft Learn, "Azure Private Endpoint private DNS zone values" (Commercial, Government
//! and China tables: "AI + Machine Learning", "Storage", "Security", "Containers"), and "Configure
//! a private endpoint for an Azure Machine Learning workspace", which names both workspace zones:
//! without `privatelink.notebooks.azure.net` studio's notebooks do not resolve. The registry's
//! data endpoint (`<registry>.<region>.data.azurecr.io`) is a record in the registry's own zone,
//! which the one zone group entry registers (MicrosoftDocs/azure-docs#118511), not a zone of its
//! own.

/// An Azure cloud, whose zones have their own suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Public,
    UsGovernment,
    China,
}

impl Cloud {
    /// Every cloud, in the order of Microsoft's tables.
    pub const ALL: [Cloud; 3] = [Cloud::Public, Cloud::UsGovernment, Cloud::China];

    /// The cloud, as a person names it.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Public => "Azure public cloud",
            Cloud::UsGovernment => "Azure US Government",
            Cloud::China => "Azure operated by 21Vianet (China)",
        }
    }
}

/// A private-link sub-resource: the group ID of a private endpoint's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Workspace,
    Blob,
    File,
    Queue,
    Table,
    Vault,
    Registry,
}

impl Target {
    /// Every target, in the order endpoints are created.
    pub const ALL: [Target; 7] = [
        Target::Workspace,
        Target::Blob,
        Target::File,
        Target::Queue,
        Target::Table,
        Target::Vault,
        Target::Registry,
    ];

    /// The group ID of the endpoint's connection (`amlworkspace`, `blob`, ...).
    pub fn group_id(self) -> &'static str {
        match self {
            Target::Workspace => "amlworkspace",
            Target::Blob => "blob",
            Target::File => "file",
            Target::Queue => "queue",
            Target::Table => "table",
            Target::Vault => "vault",
            Target::Registry => "registry",
        }
    }

    /// The target whose group ID is `group` (compared without regard to case).
    pub fn of_group(group: &str) -> Option<Target> {
        Target::ALL
            .into_iter()
            .find(|t| t.group_id().eq_ignore_ascii_case(group))
    }

    /// The TCP ports compute uses to reach the endpoint: HTTPS, and SMB for Azure Files.
    pub fn ports(self) -> &'static [u16] {
        match self {
            Target::File => &[443, 445],
            _ => &[443],
        }
    }

    /// The private DNS zones the endpoint's names resolve in, in `cloud`.
    pub fn zones(self, cloud: Cloud) -> &'static [&'static str] {
        use Cloud::{China, Public, UsGovernment};
        match (self, cloud) {
            (Target::Workspace, Public) => &[
                "privatelink.api.azureml.ms",
                "privatelink.notebooks.azure.net",
            ],
            (Target::Workspace, UsGovernment) => &[
                "privatelink.api.ml.azure.us",
                "privatelink.notebooks.usgovcloudapi.net",
            ],
            (Target::Workspace, China) => &[
                "privatelink.api.ml.azure.cn",
                "privatelink.notebooks.chinacloudapi.cn",
            ],
            (Target::Blob, Public) => &["privatelink.blob.core.windows.net"],
            (Target::Blob, UsGovernment) => &["privatelink.blob.core.usgovcloudapi.net"],
            (Target::Blob, China) => &["privatelink.blob.core.chinacloudapi.cn"],
            (Target::File, Public) => &["privatelink.file.core.windows.net"],
            (Target::File, UsGovernment) => &["privatelink.file.core.usgovcloudapi.net"],
            (Target::File, China) => &["privatelink.file.core.chinacloudapi.cn"],
            (Target::Queue, Public) => &["privatelink.queue.core.windows.net"],
            (Target::Queue, UsGovernment) => &["privatelink.queue.core.usgovcloudapi.net"],
            (Target::Queue, China) => &["privatelink.queue.core.chinacloudapi.cn"],
            (Target::Table, Public) => &["privatelink.table.core.windows.net"],
            (Target::Table, UsGovernment) => &["privatelink.table.core.usgovcloudapi.net"],
            (Target::Table, China) => &["privatelink.table.core.chinacloudapi.cn"],
            (Target::Vault, Public) => &["privatelink.vaultcore.azure.net"],
            (Target::Vault, UsGovernment) => &["privatelink.vaultcore.usgovcloudapi.net"],
            (Target::Vault, China) => &["privatelink.vaultcore.azure.cn"],
            (Target::Registry, Public) => &["privatelink.azurecr.io"],
            (Target::Registry, UsGovernment) => &["privatelink.azurecr.us"],
            (Target::Registry, China) => &["privatelink.azurecr.cn"],
        }
    }

    /// The cloud and target whose zone is `zone` (compared without regard to case, as DNS
    /// does), if any.
    pub fn of_zone(zone: &str) -> Option<(Cloud, Target)> {
        Cloud::ALL.into_iter().find_map(|cloud| {
            Target::ALL.into_iter().find_map(|target| {
                target
                    .zones(cloud)
                    .iter()
                    .any(|z| z.eq_ignore_ascii_case(zone))
                    .then_some((cloud, target))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_resolves_in_both_its_zones_and_the_vault_in_vaultcore() {
        assert_eq!(
            Target::Workspace.zones(Cloud::Public),
            [
                "privatelink.api.azureml.ms",
                "privatelink.notebooks.azure.net"
            ]
        );
        assert_eq!(
            Target::Vault.zones(Cloud::Public),
            ["privatelink.vaultcore.azure.net"]
        );
        assert_eq!(Target::of_zone("privatelink.vault.azure.net"), None);
    }

    #[test]
    fn every_zone_names_one_cloud_and_target() {
        let mut seen = std::collections::BTreeSet::new();
        for cloud in Cloud::ALL {
            for target in Target::ALL {
                for zone in target.zones(cloud) {
                    assert!(zone.starts_with("privatelink."), "{zone}");
                    assert!(seen.insert(*zone), "{zone} twice");
                    assert_eq!(Target::of_zone(zone), Some((cloud, target)));
                }
            }
        }
        assert_eq!(
            Target::of_zone("PrivateLink.AzureCR.us"),
            Some((Cloud::UsGovernment, Target::Registry))
        );
    }
}
