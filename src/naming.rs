//! Names of the resources amlgen creates, derived from the spec, and the identifiers of the
//! templates (parameters, Bicep symbols).
//!
//! One function per derived name, shared by the checks (which verify Azure's length limits) and
//! the plan (which uses them), so the two can never disagree.

use std::collections::BTreeSet;

/// Hands out camel-case identifiers, unique within one template.
#[derive(Debug, Default)]
pub(crate) struct Identifiers {
    taken: BTreeSet<String>,
}

impl Identifiers {
    pub(crate) fn new<S: Into<String>>(reserved: impl IntoIterator<Item = S>) -> Self {
        Self {
            taken: reserved.into_iter().map(Into::into).collect(),
        }
    }

    /// `prefix` + the camel-cased `name`: (`nsg`, `snet-training`) -> `nsgSnetTraining`; with an
    /// empty prefix the first letter stays lowercase: (``, `vm-a-admin`) -> `vmAAdmin`. A name
    /// already taken gets a number: `nsgSnetTraining2`.
    pub(crate) fn claim(&mut self, prefix: &str, name: &str) -> String {
        let mut base = prefix.to_string();
        for part in name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|p| !p.is_empty())
        {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                base.push(if base.is_empty() {
                    first.to_ascii_lowercase()
                } else {
                    first.to_ascii_uppercase()
                });
                base.extend(chars);
            }
        }
        let mut identifier = base.clone();
        let mut n = 2;
        while !self.taken.insert(identifier.clone()) {
            identifier = format!("{base}{n}");
            n += 1;
        }
        identifier
    }
}

/// Azure's limit for NSG, route table, NAT gateway and public IP names.
pub(crate) const NETWORK_NAME_MAX: usize = 80;

/// Azure's limit for resource group names.
pub(crate) const RESOURCE_GROUP_NAME_MAX: usize = 90;

/// The NSG of one compute subnet: `<spec>-<subnet>-nsg`.
pub(crate) fn nsg(spec: &str, subnet: &str) -> String {
    format!("{spec}-{subnet}-nsg")
}

/// A forced-tunnel route table: `<spec>-rt` for compute without public addresses, else
/// `<spec>-<workload>-...-rt` named for the workloads whose bypass routes it holds.
pub(crate) fn route_table(spec: &str, workloads: &[&str]) -> String {
    let mut name = spec.to_string();
    for w in workloads {
        name.push('-');
        name.push_str(w);
    }
    name.push_str("-rt");
    name
}

/// The public IP an attached VM is reached at.
pub(crate) fn vm_public_ip(vm: &str) -> String {
    format!("{vm}-pip")
}

/// The NAT gateway shared by the compute subnets.
pub(crate) fn nat_gateway(spec: &str) -> String {
    format!("{spec}-nat")
}

/// The NAT gateway's public IP.
pub(crate) fn nat_public_ip(spec: &str) -> String {
    format!("{spec}-nat-pip")
}

/// The module (Bicep) or nested deployment (ARM) holding the computes of a workspace in another
/// resource group.
pub(crate) fn computes_deployment(spec: &str) -> String {
    format!("{spec}-computes")
}

/// The network interface of a virtual machine.
pub(crate) fn network_interface(vm: &str) -> String {
    format!("{vm}-nic")
}

/// The managed resource group Databricks creates for a workspace; deterministic, so a redeploy
/// finds the same group.
pub(crate) fn databricks_managed_group(spec: &str, workspace: &str) -> String {
    format!("{spec}-{workspace}-managed-rg")
}

/// The blob container of an HDInsight cluster's primary storage (containers are lowercase).
pub(crate) fn hdinsight_container(cluster: &str) -> String {
    cluster.to_ascii_lowercase()
}

/// The fixed prefix of an HDInsight cluster's storage account name: `st` and the cluster name's
/// lowercase letters and digits, at most 11 characters, so that the 13 characters of
/// `uniqueString()` keep it within Azure's 24.
pub(crate) fn hdinsight_storage_prefix(cluster: &str) -> String {
    let mut prefix = "st".to_string();
    prefix.extend(
        cluster
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .take(9),
    );
    prefix
}

/// The SSH endpoint of an HDInsight cluster, which an attached cluster is reached at.
pub(crate) fn hdinsight_ssh_host(cluster: &str) -> String {
    format!("{}-ssh.azurehdinsight.net", cluster.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_camel_case_and_unique() {
        let mut ids = Identifiers::new(["location"]);
        assert_eq!(ids.claim("nsg", "snet-training"), "nsgSnetTraining");
        assert_eq!(ids.claim("nsg", "snet_training"), "nsgSnetTraining2");
        assert_eq!(ids.claim("vnet", ""), "vnet");
        assert_eq!(ids.claim("location", ""), "location2");
        assert_eq!(ids.claim("", "Vm-a-admin-username"), "vmAAdminUsername");
    }

    #[test]
    fn derived_names_carry_the_spec_name() {
        assert_eq!(nsg("demo", "snet-a"), "demo-snet-a-nsg");
        assert_eq!(route_table("demo", &[]), "demo-rt");
        assert_eq!(route_table("demo", &["aml", "ssh"]), "demo-aml-ssh-rt");
        assert_eq!(vm_public_ip("vm-a"), "vm-a-pip");
        assert_eq!(nat_gateway("demo"), "demo-nat");
        assert_eq!(nat_public_ip("demo"), "demo-nat-pip");
        assert_eq!(network_interface("vm-a"), "vm-a-nic");
        assert_eq!(
            databricks_managed_group("demo", "dbw"),
            "demo-dbw-managed-rg"
        );
    }

    #[test]
    fn hdinsight_names_follow_storage_and_dns_rules() {
        assert_eq!(
            hdinsight_storage_prefix("Hdi-Spark-Cluster1"),
            "sthdisparkc"
        );
        assert_eq!(hdinsight_container("Hdi-Spark"), "hdi-spark");
        assert_eq!(
            hdinsight_ssh_host("Hdi-Spark"),
            "hdi-spark-ssh.azurehdinsight.net"
        );
    }
}
