//! What lives in the VNet besides the network and Azure ML's own computes: HDInsight clusters
//! with a storage account each, Ubuntu VMs with their network interfaces, and Databricks
//! workspaces injected into their two subnets.

use super::{Builder, Machine};
use crate::azure::hdinsight::CLUSTER_VERSION;
use crate::azure::resource::ResourceKind;
use crate::model::{Expr, Object, Part, Resource, Step, Value};
use crate::plan::{DatabricksWorkspace, HdInsightCluster, SSH_PUBLIC_KEY, VirtualMachine};

/// Each cluster's storage and the cluster, each VM's network interface and the VM, then the
/// Databricks workspaces.
pub(super) fn resources(b: &mut Builder) -> Vec<Resource> {
    let plan = b.plan;
    let mut out = Vec::new();
    for cluster in &plan.hdinsight_clusters {
        out.extend(hdinsight(b, cluster));
    }
    for vm in &plan.virtual_machines {
        out.extend(virtual_machine(b, vm));
    }
    out.extend(plan.databricks.iter().map(|d| databricks(b, d)));
    out
}

fn param(name: &str) -> Expr {
    Expr::Param(name.to_string())
}

fn subnet_id(b: &Builder, subnet: &str) -> Expr {
    Expr::SubnetId {
        vnet: b.refs.vnet.clone(),
        subnet: subnet.to_string(),
    }
}

/// The primary storage account, deterministic and unique per resource group, then the cluster.
fn hdinsight(b: &mut Builder, cluster: &HdInsightCluster) -> [Resource; 2] {
    let symbol = b.symbols.claim("", &cluster.name);
    let storage_symbol = b.symbols.claim("", &format!("{}-storage", cluster.name));
    b.refs.machines.insert(
        cluster.name.clone(),
        Machine {
            symbol: symbol.clone(),
            address: None,
        },
    );
    let storage_name = Expr::prefixed(
        &cluster.storage_prefix,
        Expr::UniqueString(vec![Expr::ResourceGroupId, Expr::Str(cluster.name.clone())]),
    );
    let storage = storage_account(b, cluster, storage_symbol.clone(), storage_name);
    let kind = cluster.definition.kind;
    let (component, version) = cluster.definition.component;
    let definition = Object::new()
        .with("kind", kind)
        .with("componentVersion", Object::new().with(component, version))
        .with(
            "configurations",
            Object::new().with(
                "gateway",
                Object::new()
                    .with("restAuthCredential.isEnabled", true)
                    .with(
                        "restAuthCredential.username",
                        param(&cluster.login_user_parameter),
                    )
                    .with(
                        "restAuthCredential.password",
                        param(&cluster.login_password_parameter),
                    ),
            ),
        );
    let properties = Object::new()
        .with("clusterVersion", CLUSTER_VERSION)
        .with("osType", "Linux")
        .with("tier", "Standard")
        .with("minSupportedTlsVersion", "1.2")
        .with("clusterDefinition", definition)
        .with(
            "storageProfile",
            Object::new().with(
                "storageaccounts",
                vec![primary_storage(cluster, &storage_symbol)],
            ),
        )
        .with(
            "computeProfile",
            Object::new().with("roles", roles(b, cluster)),
        );
    let resource = b
        .located(
            ResourceKind::HdInsightCluster,
            symbol,
            &cluster.name,
            format!("HDInsight {kind} cluster in subnet {}.", cluster.subnet),
        )
        .with("properties", properties);
    [storage, resource]
}

/// The cluster's storage account: HTTPS and TLS 1.2 only, no public blobs, and a firewall that
/// lets in only the cluster's subnet (through its `Microsoft.Storage` service endpoint) and
/// Azure's trusted services, as HDInsight requires of a storage firewall.
fn storage_account(
    b: &Builder,
    cluster: &HdInsightCluster,
    symbol: String,
    name: Expr,
) -> Resource {
    let replication = cluster.storage_replication;
    let subnet_rule = Object::new()
        .with("id", subnet_id(b, &cluster.subnet))
        .with("action", "Allow");
    let firewall = Object::new()
        .with("bypass", "AzureServices")
        .with("defaultAction", "Deny")
        .with("virtualNetworkRules", vec![Value::from(subnet_rule)]);
    let storage = Resource::new(
        ResourceKind::StorageAccount,
        symbol,
        name,
        format!(
            "Primary storage of HDInsight cluster {}; the name is unique per resource group.",
            cluster.name
        ),
    )
    .with_body(b.location_and_tags())
    .with("sku", Object::new().with("name", replication.sku()))
    .with("kind", "StorageV2")
    .with(
        "properties",
        Object::new()
            .with("minimumTlsVersion", "TLS1_2")
            .with("allowBlobPublicAccess", false)
            .with("supportsHttpsTrafficOnly", true)
            .with("networkAcls", firewall),
    )
    .suppress(
        "CKV_AZURE_43",
        "the name is computed at deployment: 'st', at most 9 lowercase letters and digits of the cluster name, and uniqueString(), 24 lowercase characters at most",
    );
    if replication.geo() {
        storage
    } else {
        storage.suppress(
            "CKV_AZURE_206",
            format!(
                "the spec chooses {} (storage_replication); geo-replication is a cost its owner decides",
                replication.sku()
            ),
        )
    }
}

/// The cluster's primary storage: the account's blob endpoint, the cluster's container, its key.
fn primary_storage(cluster: &HdInsightCluster, storage: &str) -> Value {
    let host = Expr::Interpolate(vec![
        Part::Expr(Expr::Name(storage.to_string())),
        Part::Text(".blob.".into()),
        Part::Expr(Expr::StorageSuffix),
    ]);
    let keys = vec![Step::Key("keys"), Step::Index(0), Step::Key("value")];
    Value::from(
        Object::new()
            .with("name", host)
            .with("isDefault", true)
            .with("container", &cluster.container)
            .with("key", Expr::ListKeys(storage.to_string(), keys))
            .with("resourceId", Expr::Id(storage.to_string())),
    )
}

/// The head, worker and ZooKeeper roles, all in the cluster's subnet with the same SSH login.
fn roles(b: &Builder, cluster: &HdInsightCluster) -> Value {
    let roles = cluster
        .roles()
        .into_iter()
        .map(|(name, nodes, size, disks)| {
            let login = Object::new()
                .with("username", param(&cluster.ssh_user_parameter))
                .with(
                    "sshProfile",
                    Object::new().with(
                        "publicKeys",
                        vec![Value::from(
                            Object::new().with("certificateData", param(SSH_PUBLIC_KEY)),
                        )],
                    ),
                );
            let disks: Vec<Value> = disks
                .map(|n| Value::from(Object::new().with("disksPerNode", n)))
                .into_iter()
                .collect();
            Value::from(
                Object::new()
                    .with("name", name)
                    .with("targetInstanceCount", nodes)
                    .with("hardwareProfile", Object::new().with("vmSize", size))
                    .with(
                        "osProfile",
                        Object::new().with("linuxOperatingSystemProfile", login),
                    )
                    .with(
                        "virtualNetworkProfile",
                        Object::new()
                            .with("id", Expr::Id(b.refs.vnet.clone()))
                            .with("subnet", subnet_id(b, &cluster.subnet)),
                    )
                    .with_nonempty("dataDisksGroups", disks),
            )
        });
    Value::Array(roles.collect())
}

/// A Standard static public IP: the NAT gateway's, or the one Azure ML reaches an attached VM at.
pub(super) fn public_ip(b: &Builder, symbol: String, name: &str, comment: String) -> Resource {
    b.located(ResourceKind::PublicIpAddress, symbol, name, comment)
        .with(
            "sku",
            Object::new()
                .with("name", "Standard")
                .with("tier", "Regional"),
        )
        .with(
            "properties",
            Object::new()
                .with("publicIPAllocationMethod", "Static")
                .with("publicIPAddressVersion", "IPv4"),
        )
}

/// An attached VM's public IP, its network interface, then the VM with SSH key login only.
fn virtual_machine(b: &mut Builder, vm: &VirtualMachine) -> Vec<Resource> {
    let symbol = b.symbols.claim("", &vm.name);
    let nic_symbol = b.symbols.claim("", &vm.nic);
    let address = vm.public_ip.as_ref().map(|ip| {
        let ip_symbol = b.symbols.claim("", ip);
        let comment = format!(
            "Public IP of VM {}: Azure ML attaches it here over SSH.",
            vm.name
        );
        public_ip(b, ip_symbol, ip, comment)
    });
    b.refs.machines.insert(
        vm.name.clone(),
        Machine {
            symbol: symbol.clone(),
            address: address.as_ref().map(|ip| ip.symbol.clone()),
        },
    );
    let ip_configuration = Object::new().with("name", "ipconfig1").with(
        "properties",
        Object::new()
            .with("subnet", Value::id(subnet_id(b, &vm.subnet)))
            .with("privateIPAllocationMethod", "Dynamic")
            .with_some(
                "publicIPAddress",
                address
                    .as_ref()
                    .map(|ip| Value::id(Expr::Id(ip.symbol.clone()))),
            ),
    );
    let exposure = match &vm.public_ip {
        Some(ip) => format!("public IP {ip}"),
        None => "no public IP".to_string(),
    };
    let nic = b
        .located(
            ResourceKind::NetworkInterface,
            nic_symbol.clone(),
            &vm.nic,
            format!(
                "Network interface of VM {} in subnet {}; {exposure}.",
                vm.name, vm.subnet
            ),
        )
        .with(
            "properties",
            Object::new().with("ipConfigurations", vec![Value::from(ip_configuration)]),
        );
    let interface = Object::new()
        .with("id", Expr::Id(nic_symbol))
        .with("properties", Object::new().with("deleteOption", "Delete"));
    let security = vm
        .encryption_at_host
        .then(|| Object::new().with("encryptionAtHost", true));
    let properties = Object::new()
        .with(
            "hardwareProfile",
            Object::new().with("vmSize", param(&vm.size_parameter)),
        )
        .with_some("securityProfile", security)
        .with("storageProfile", vm_storage(vm))
        .with("osProfile", vm_os(vm))
        .with(
            "networkProfile",
            Object::new().with("networkInterfaces", vec![Value::from(interface)]),
        )
        .with(
            "diagnosticsProfile",
            Object::new().with("bootDiagnostics", Object::new().with("enabled", true)),
        );
    let machine = b
        .located(
            ResourceKind::VirtualMachine,
            symbol,
            &vm.name,
            format!(
                "Ubuntu VM {} ({}), SSH key login only.",
                vm.name, vm.image.name
            ),
        )
        .with("properties", properties)
        .suppress(
            "CKV_AZURE_50",
            "GPU drivers and monitoring agents are installed as VM extensions",
        );
    let machine = if vm.encryption_at_host {
        machine
    } else {
        let reason = "encryption at host is off (encryption_at_host: false, the default: it needs the subscription's EncryptionAtHost feature)";
        machine
            .suppress("CKV_AZURE_97", reason)
            .suppress("CKV_AZURE_151", reason)
    };
    address.into_iter().chain([nic, machine]).collect()
}

/// The Ubuntu image and a managed OS disk deleted with the VM.
fn vm_storage(vm: &VirtualMachine) -> Object {
    Object::new()
        .with(
            "imageReference",
            Object::new()
                .with("publisher", vm.image.publisher)
                .with("offer", vm.image.offer)
                .with("sku", vm.image.sku)
                .with("version", "latest"),
        )
        .with(
            "osDisk",
            Object::new()
                .with("createOption", "FromImage")
                .with("caching", "ReadWrite")
                .with("deleteOption", "Delete")
                .with(
                    "managedDisk",
                    Object::new().with("storageAccountType", "StandardSSD_LRS"),
                ),
        )
}

/// The administrator logs in with the SSH key only.
fn vm_os(vm: &VirtualMachine) -> Object {
    let admin = &vm.admin_parameter;
    let key_path = Expr::Interpolate(vec![
        Part::Text("/home/".into()),
        Part::Expr(param(admin)),
        Part::Text("/.ssh/authorized_keys".into()),
    ]);
    let key = Object::new()
        .with("path", key_path)
        .with("keyData", param(SSH_PUBLIC_KEY));
    Object::new()
        .with("computerName", &vm.name)
        .with("adminUsername", param(admin))
        .with(
            "linuxConfiguration",
            Object::new()
                .with("disablePasswordAuthentication", true)
                .with(
                    "ssh",
                    Object::new().with("publicKeys", vec![Value::from(key)]),
                ),
        )
}

/// A Databricks workspace injected into its two subnets, with secure cluster connectivity when
/// its nodes have no public IPs.
fn databricks(b: &mut Builder, workspace: &DatabricksWorkspace) -> Resource {
    let symbol = b.symbols.claim("", &workspace.name);
    let value = |v: Value| Value::from(Object::new().with("value", v));
    let parameters = Object::new()
        .with(
            "customVirtualNetworkId",
            value(Expr::Id(b.refs.vnet.clone()).into()),
        )
        .with(
            "customPublicSubnetName",
            value((&workspace.public_subnet).into()),
        )
        .with(
            "customPrivateSubnetName",
            value((&workspace.private_subnet).into()),
        )
        .with("enableNoPublicIp", value(workspace.no_public_ip.into()));
    let properties = Object::new()
        .with("computeMode", "Hybrid")
        .with(
            "managedResourceGroupId",
            Expr::ResourceGroupIdOf(workspace.managed_group.clone()),
        )
        .with("parameters", parameters)
        .with("publicNetworkAccess", "Enabled")
        .with("requiredNsgRules", "AllRules");
    b.located(
        ResourceKind::DatabricksWorkspace,
        symbol,
        &workspace.name,
        format!(
            "Databricks workspace in subnets {} (public) and {} (private).",
            workspace.public_subnet, workspace.private_subnet
        ),
    )
    .with("sku", Object::new().with("name", workspace.sku))
    .with("properties", properties)
    .suppress(
        "CKV2_AZURE_48",
        "customer-managed keys need a Key Vault key the spec does not describe; Microsoft-managed keys encrypt the DBFS root",
    )
    .suppress(
        "CKV_AZURE_158",
        "Private Link to the control plane needs private endpoints the spec does not describe; secure cluster connectivity keeps the nodes without public IPs",
    )
}
