//! The machines amlgen creates in the VNet for the workspace to use: Ubuntu VMs with a network
//! interface (and, when attached, a public IP Azure ML reaches them at), and HDInsight clusters
//! with a storage account of their own.

use super::parameters::{self, EnvVar, Names};
use crate::azure::hdinsight::{self, Definition};
use crate::azure::images::{self, Image};
use crate::naming;
use crate::spec::{self, Spec};

/// An Ubuntu VM with its network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualMachine {
    pub name: String,
    /// The size as the spec gives it, the default of `size_parameter`.
    pub size: String,
    /// The parameter holding the size: a literal size would fail the official ARM schema, whose
    /// list of VM sizes stopped growing years ago.
    pub size_parameter: String,
    pub subnet: String,
    pub image: &'static Image,
    pub nic: String,
    /// The public IP of an attached VM: Azure ML reaches it there over SSH.
    pub public_ip: Option<String>,
    /// The parameter holding the administrator's user name.
    pub admin_parameter: String,
    pub encryption_at_host: bool,
    pub attach: bool,
}

/// An HDInsight cluster with its primary storage account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HdInsightCluster {
    pub name: String,
    pub subnet: String,
    pub definition: Definition,
    pub head_size: String,
    pub worker_size: String,
    pub workers: u32,
    /// The storage account name is this prefix and `uniqueString(resourceGroup().id, name)`,
    /// which is deterministic and unique per resource group.
    pub storage_prefix: String,
    pub container: String,
    pub storage_replication: spec::Replication,
    pub ssh_user_parameter: String,
    pub login_user_parameter: String,
    pub login_password_parameter: String,
    pub attach: bool,
}

impl HdInsightCluster {
    /// The compute profile's roles: `(role, nodes, VM size, data disks per node)`.
    pub fn roles(&self) -> Vec<(&'static str, u32, &str, Option<u32>)> {
        vec![
            (
                "headnode",
                hdinsight::HEAD_NODES,
                self.head_size.as_str(),
                None,
            ),
            (
                "workernode",
                self.workers,
                self.worker_size.as_str(),
                self.definition.worker_data_disks,
            ),
            (
                "zookeepernode",
                hdinsight::ZOOKEEPER_NODES,
                self.definition.zookeeper_size,
                None,
            ),
        ]
    }
}

pub(super) fn virtual_machines(spec: &Spec, names: &mut Names) -> Vec<VirtualMachine> {
    spec.compute
        .iter()
        .filter_map(|c| match c {
            spec::Compute::Virtualmachine(vm) => Some(virtual_machine(vm, names)),
            _ => None,
        })
        .collect()
}

fn virtual_machine(vm: &spec::VirtualMachine, names: &mut Names) -> VirtualMachine {
    let admin = parameters::with_default(
        format!("Administrator of VM {} (SSH key login only).", vm.name),
        &vm.admin_username,
        vm.attach,
    );
    let size = parameters::with_default(format!("Size of VM {}.", vm.name), &vm.size, vm.attach);
    VirtualMachine {
        name: vm.name.clone(),
        size: vm.size.clone(),
        size_parameter: names.machine(&vm.name, "size", size),
        subnet: vm.subnet.clone(),
        // The checks refuse any other image; the first is the default.
        image: images::find(&vm.image).unwrap_or(&images::UBUNTU[0]),
        nic: naming::network_interface(&vm.name),
        public_ip: vm.attach.then(|| naming::vm_public_ip(&vm.name)),
        admin_parameter: names.machine(&vm.name, "admin-username", admin),
        encryption_at_host: vm.encryption_at_host,
        attach: vm.attach,
    }
}

pub(super) fn hdinsight_clusters(spec: &Spec, names: &mut Names) -> Vec<HdInsightCluster> {
    spec.compute
        .iter()
        .filter_map(|c| match c {
            spec::Compute::Hdinsight(cluster) => Some(hdinsight_cluster(cluster, names)),
            _ => None,
        })
        .collect()
}

fn hdinsight_cluster(cluster: &spec::HdInsight, names: &mut Names) -> HdInsightCluster {
    let name = &cluster.name;
    let ssh_user = parameters::with_default(
        format!("SSH user of the nodes of HDInsight cluster {name}."),
        "sshuser",
        cluster.attach,
    );
    let login_user = parameters::with_default(
        format!("Cluster login (Ambari and REST gateway) user of HDInsight cluster {name}."),
        "admin",
        false,
    );
    let env = format!(
        "AMLGEN_{}_LOGIN_PASSWORD",
        name.to_ascii_uppercase().replace('-', "_")
    );
    let password = parameters::secret(
        format!(
            "Cluster login password of HDInsight cluster {name}: at least 10 characters with upper and lower case letters, a digit and a symbol."
        ),
        EnvVar {
            setup: format!(
                "read -rsp 'Login password for HDInsight {name}: ' {env} && export {env}"
            ),
            name: env,
        },
        false,
    );
    HdInsightCluster {
        name: name.clone(),
        subnet: cluster.subnet.clone(),
        definition: hdinsight::definition(cluster.cluster_type),
        head_size: cluster.head_size.clone(),
        worker_size: cluster.worker_size.clone(),
        workers: cluster.worker_count,
        storage_prefix: naming::hdinsight_storage_prefix(name),
        container: naming::hdinsight_container(name),
        storage_replication: cluster.storage_replication,
        ssh_user_parameter: names.machine(name, "ssh-username", ssh_user),
        login_user_parameter: names.machine(name, "login-username", login_user),
        login_password_parameter: names.machine(name, "login-password", password),
        attach: cluster.attach,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::spec;
    use serde_json::json;

    fn with_machines(v: &mut serde_json::Value) {
        let computes = v["compute"].as_array_mut().unwrap();
        computes.push(json!({"name": "vm-gpu", "type": "virtualmachine", "subnet": "snet-a", "image": "ubuntu-24.04", "attach": true}));
        computes.push(json!({"name": "hdi-spark", "type": "hdinsight", "subnet": "snet-a", "cluster_type": "kafka", "worker_count": 4}));
    }

    #[test]
    fn machines_get_parameters_named_after_them() {
        let spec = spec(with_machines);
        let mut names = Names::new("eastus2");
        let vms = virtual_machines(&spec, &mut names);
        let clusters = hdinsight_clusters(&spec, &mut names);
        assert_eq!(vms[0].admin_parameter, "vmGpuAdminUsername");
        assert_eq!(vms[0].image.sku, "server");
        assert_eq!(
            clusters[0].login_password_parameter,
            "hdiSparkLoginPassword"
        );
        assert_eq!(
            clusters[0].roles()[1],
            ("workernode", 4, "Standard_E8_v3", Some(2))
        );
        let parameters = names.finish(&[], &vms, &clusters);
        let password = parameters
            .iter()
            .find(|p| p.secure && p.name.ends_with("Password"))
            .unwrap();
        assert!(password.default.is_none());
        assert_eq!(
            password.env.as_ref().unwrap().name,
            "AMLGEN_HDI_SPARK_LOGIN_PASSWORD"
        );
    }
}
