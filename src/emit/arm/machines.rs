//! ARM wire types of the machines in the VNet: Ubuntu VMs with their network interfaces, and
//! HDInsight clusters with their storage accounts.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    Id, Named, Properties, Resource, Sku, expression, parameter_ref, quoted, resource, resource_id,
    subnet_id, vnet_id,
};
use crate::azure::resource::ResourceKind;
use crate::plan::{HdInsightCluster, Plan, SSH_PUBLIC_KEY, VirtualMachine};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NetworkInterfaceProperties {
    ip_configurations: Vec<Named<IpConfiguration>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IpConfiguration {
    subnet: Id,
    #[serde(rename = "privateIPAllocationMethod")]
    private_ip_allocation_method: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VirtualMachineProperties {
    hardware_profile: HardwareProfile,
    storage_profile: VmStorageProfile,
    os_profile: OsProfile,
    network_profile: NetworkProfile,
    diagnostics_profile: DiagnosticsProfile,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HardwareProfile {
    vm_size: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VmStorageProfile {
    image_reference: ImageReference,
    os_disk: OsDisk,
}

#[derive(Serialize)]
struct ImageReference {
    publisher: &'static str,
    offer: &'static str,
    sku: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OsDisk {
    create_option: &'static str,
    caching: &'static str,
    delete_option: &'static str,
    managed_disk: ManagedDisk,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManagedDisk {
    storage_account_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OsProfile {
    computer_name: String,
    admin_username: String,
    linux_configuration: LinuxConfiguration,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinuxConfiguration {
    disable_password_authentication: bool,
    ssh: SshConfiguration,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SshConfiguration {
    public_keys: Vec<SshPublicKey>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SshPublicKey {
    path: String,
    key_data: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkProfile {
    network_interfaces: Vec<NetworkInterfaceReference>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkInterfaceReference {
    id: String,
    properties: DeleteOption,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeleteOption {
    delete_option: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiagnosticsProfile {
    boot_diagnostics: BootDiagnostics,
}

#[derive(Serialize)]
struct BootDiagnostics {
    enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StorageAccountProperties {
    minimum_tls_version: &'static str,
    allow_blob_public_access: bool,
    supports_https_traffic_only: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HdInsightProperties {
    cluster_version: &'static str,
    os_type: &'static str,
    tier: &'static str,
    min_supported_tls_version: &'static str,
    cluster_definition: ClusterDefinition,
    storage_profile: HdInsightStorageProfile,
    compute_profile: ComputeProfile,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterDefinition {
    kind: &'static str,
    component_version: BTreeMap<&'static str, &'static str>,
    configurations: Configurations,
}

#[derive(Serialize)]
struct Configurations {
    gateway: Gateway,
}

#[derive(Serialize)]
struct Gateway {
    #[serde(rename = "restAuthCredential.isEnabled")]
    enabled: bool,
    #[serde(rename = "restAuthCredential.username")]
    username: String,
    #[serde(rename = "restAuthCredential.password")]
    password: String,
}

#[derive(Serialize)]
struct HdInsightStorageProfile {
    storageaccounts: Vec<HdInsightStorage>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HdInsightStorage {
    name: String,
    is_default: bool,
    container: String,
    key: String,
    resource_id: String,
}

#[derive(Serialize)]
struct ComputeProfile {
    roles: Vec<Role>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Role {
    name: &'static str,
    target_instance_count: u32,
    hardware_profile: HardwareProfile,
    os_profile: RoleOsProfile,
    virtual_network_profile: VirtualNetworkProfile,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    data_disks_groups: Vec<DataDisksGroup>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleOsProfile {
    linux_operating_system_profile: LinuxOperatingSystemProfile,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinuxOperatingSystemProfile {
    username: String,
    ssh_profile: SshProfile,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SshProfile {
    public_keys: Vec<CertificateData>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateData {
    certificate_data: String,
}

#[derive(Serialize)]
struct VirtualNetworkProfile {
    id: String,
    subnet: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DataDisksGroup {
    disks_per_node: u32,
}

/// The storage accounts and HDInsight clusters, then the network interfaces and VMs.
pub(super) fn resources(plan: &Plan, tags: &BTreeMap<String, String>) -> Vec<Resource> {
    let mut out = Vec::new();
    for cluster in &plan.hdinsight_clusters {
        out.push(storage_account(cluster, tags));
        out.push(hdinsight(plan, cluster, tags));
    }
    for vm in &plan.virtual_machines {
        out.push(network_interface(plan, vm, tags));
        out.push(virtual_machine(vm, tags));
    }
    out
}

/// The storage account's name: deterministic and unique per resource group, as an expression.
fn storage_name(cluster: &HdInsightCluster) -> String {
    format!(
        "concat({}, uniqueString(resourceGroup().id, {}))",
        quoted(&cluster.storage_prefix),
        quoted(&cluster.name)
    )
}

fn storage_id(cluster: &HdInsightCluster) -> String {
    format!(
        "resourceId({}, {})",
        quoted(ResourceKind::StorageAccount.arm_type()),
        storage_name(cluster)
    )
}

fn storage_account(cluster: &HdInsightCluster, tags: &BTreeMap<String, String>) -> Resource {
    Resource {
        sku: Some(Sku {
            name: "Standard_LRS",
            tier: None,
        }),
        variant: Some("StorageV2"),
        ..resource(
            ResourceKind::StorageAccount,
            expression(&storage_name(cluster)),
            tags,
            format!("Primary storage of HDInsight cluster {}.", cluster.name),
            Properties::StorageAccount(StorageAccountProperties {
                minimum_tls_version: "TLS1_2",
                allow_blob_public_access: false,
                supports_https_traffic_only: true,
            }),
        )
    }
}

/// The head, worker and ZooKeeper roles, all in the cluster's subnet with the same SSH login.
fn roles(plan: &Plan, cluster: &HdInsightCluster) -> Vec<Role> {
    cluster
        .roles()
        .into_iter()
        .map(|(name, nodes, size, disks)| Role {
            name,
            target_instance_count: nodes,
            hardware_profile: HardwareProfile {
                vm_size: size.to_string(),
            },
            os_profile: RoleOsProfile {
                linux_operating_system_profile: LinuxOperatingSystemProfile {
                    username: parameter_ref(&cluster.ssh_user_parameter),
                    ssh_profile: SshProfile {
                        public_keys: vec![CertificateData {
                            certificate_data: parameter_ref(SSH_PUBLIC_KEY),
                        }],
                    },
                },
            },
            virtual_network_profile: VirtualNetworkProfile {
                id: expression(&vnet_id(plan)),
                subnet: expression(&subnet_id(&vnet_id(plan), &cluster.subnet)),
            },
            data_disks_groups: disks
                .map(|disks_per_node| DataDisksGroup { disks_per_node })
                .into_iter()
                .collect(),
        })
        .collect()
}

/// The cluster's primary storage: the account's blob endpoint, the cluster's container, its key.
fn primary_storage(cluster: &HdInsightCluster) -> HdInsightStorage {
    HdInsightStorage {
        name: expression(&format!(
            "format('{{0}}.blob.{{1}}', {}, environment().suffixes.storage)",
            storage_name(cluster)
        )),
        is_default: true,
        container: cluster.container.clone(),
        key: expression(&format!(
            "listKeys({}, {}).keys[0].value",
            storage_id(cluster),
            quoted(ResourceKind::StorageAccount.api_version())
        )),
        resource_id: expression(&storage_id(cluster)),
    }
}

fn hdinsight(plan: &Plan, cluster: &HdInsightCluster, tags: &BTreeMap<String, String>) -> Resource {
    let definition = &cluster.definition;
    let properties = HdInsightProperties {
        cluster_version: crate::azure::hdinsight::CLUSTER_VERSION,
        os_type: "Linux",
        tier: "Standard",
        min_supported_tls_version: "1.2",
        cluster_definition: ClusterDefinition {
            kind: definition.kind,
            component_version: BTreeMap::from([definition.component]),
            configurations: Configurations {
                gateway: Gateway {
                    enabled: true,
                    username: parameter_ref(&cluster.login_user_parameter),
                    password: parameter_ref(&cluster.login_password_parameter),
                },
            },
        },
        storage_profile: HdInsightStorageProfile {
            storageaccounts: vec![primary_storage(cluster)],
        },
        compute_profile: ComputeProfile {
            roles: roles(plan, cluster),
        },
    };
    Resource {
        depends_on: vec![expression(&storage_id(cluster)), expression(&vnet_id(plan))],
        ..resource(
            ResourceKind::HdInsightCluster,
            cluster.name.clone(),
            tags,
            format!(
                "HDInsight {} cluster in subnet {}.",
                definition.kind, cluster.subnet
            ),
            Properties::HdInsight(Box::new(properties)),
        )
    }
}

fn network_interface(
    plan: &Plan,
    vm: &VirtualMachine,
    tags: &BTreeMap<String, String>,
) -> Resource {
    Resource {
        depends_on: vec![expression(&vnet_id(plan))],
        ..resource(
            ResourceKind::NetworkInterface,
            vm.nic.clone(),
            tags,
            format!(
                "Network interface of VM {} in subnet {}; no public IP.",
                vm.name, vm.subnet
            ),
            Properties::NetworkInterface(NetworkInterfaceProperties {
                ip_configurations: vec![Named {
                    name: "ipconfig1".to_string(),
                    properties: IpConfiguration {
                        subnet: Id {
                            id: expression(&subnet_id(&vnet_id(plan), &vm.subnet)),
                        },
                        private_ip_allocation_method: "Dynamic",
                    },
                }],
            }),
        )
    }
}

/// The Ubuntu image and a managed OS disk deleted with the VM.
fn vm_storage(vm: &VirtualMachine) -> VmStorageProfile {
    VmStorageProfile {
        image_reference: ImageReference {
            publisher: vm.image.publisher,
            offer: vm.image.offer,
            sku: vm.image.sku,
            version: "latest",
        },
        os_disk: OsDisk {
            create_option: "FromImage",
            caching: "ReadWrite",
            delete_option: "Delete",
            managed_disk: ManagedDisk {
                storage_account_type: "StandardSSD_LRS",
            },
        },
    }
}

/// The administrator logs in with the SSH key only.
fn vm_os(vm: &VirtualMachine) -> OsProfile {
    let admin = &vm.admin_parameter;
    OsProfile {
        computer_name: vm.name.clone(),
        admin_username: parameter_ref(admin),
        linux_configuration: LinuxConfiguration {
            disable_password_authentication: true,
            ssh: SshConfiguration {
                public_keys: vec![SshPublicKey {
                    path: expression(&format!(
                        "format('/home/{{0}}/.ssh/authorized_keys', parameters({}))",
                        quoted(admin)
                    )),
                    key_data: parameter_ref(SSH_PUBLIC_KEY),
                }],
            },
        },
    }
}

fn virtual_machine(vm: &VirtualMachine, tags: &BTreeMap<String, String>) -> Resource {
    let nic = resource_id(ResourceKind::NetworkInterface, &[&vm.nic]);
    let properties = VirtualMachineProperties {
        hardware_profile: HardwareProfile {
            vm_size: parameter_ref(&vm.size_parameter),
        },
        storage_profile: vm_storage(vm),
        os_profile: vm_os(vm),
        network_profile: NetworkProfile {
            network_interfaces: vec![NetworkInterfaceReference {
                id: expression(&nic),
                properties: DeleteOption {
                    delete_option: "Delete",
                },
            }],
        },
        diagnostics_profile: DiagnosticsProfile {
            boot_diagnostics: BootDiagnostics { enabled: true },
        },
    };
    Resource {
        depends_on: vec![expression(&nic)],
        ..resource(
            ResourceKind::VirtualMachine,
            vm.name.clone(),
            tags,
            format!(
                "Ubuntu VM {} ({}), SSH key login only.",
                vm.name, vm.image.name
            ),
            Properties::VirtualMachine(Box::new(properties)),
        )
    }
}
