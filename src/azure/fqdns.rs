//! The hosts compute reaches by name, which a firewall in front of it must allow, per workload;
//! `amlgen explain` lists those of the spec's compute for the firewall team.
//!
//! - Azure ML compute (clusters, instances, VMs): Microsoft Learn, "Configure inbound and
//!   outbound network traffic" (2026-03-19), "Microsoft hosts", Azure public cloud. `<region>`
//!   stands for the workspace's region and `<storage>` for its default storage account, which the
//!   spec does not name.
//! - HDInsight: Microsoft Learn, "Configure outbound network traffic for Azure HDInsight clusters
//!   using Firewall" (2023-04-24), its application rules (FQDN tags and target FQDNs) and network
//!   rules (service tags). `<hdi-storage>` stands for the storage account amlgen creates for the
//!   cluster, whose name `uniqueString` completes at deployment.

/// Where the Azure ML list comes from.
pub const AZURE_ML_SOURCE: &str = "Microsoft Learn, \"Configure inbound and outbound network traffic\" (2026-03-19), Microsoft hosts, Azure public";

/// Where the HDInsight list comes from.
pub const HDINSIGHT_SOURCE: &str = "Microsoft Learn, \"Configure outbound network traffic for Azure HDInsight clusters using Firewall\" (2023-04-24)";

/// A workload whose outbound dependencies the firewall must allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Azure ML clusters, compute instances and VMs.
    AzureMl,
    /// HDInsight clusters.
    HdInsight,
}

impl Workload {
    /// What the workload is, for a heading.
    pub fn name(self) -> &'static str {
        match self {
            Workload::AzureMl => "Azure ML compute",
            Workload::HdInsight => "HDInsight",
        }
    }

    /// Its hosts, tags and service tags, in the documentation's order.
    pub fn hosts(self) -> &'static [Host] {
        match self {
            Workload::AzureMl => AZURE_ML,
            Workload::HdInsight => HDINSIGHT,
        }
    }

    /// Where the list comes from.
    pub fn source(self) -> &'static str {
        match self {
            Workload::AzureMl => AZURE_ML_SOURCE,
            Workload::HdInsight => HDINSIGHT_SOURCE,
        }
    }
}

/// One host: what it is for, its name, the protocol and the ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    pub purpose: &'static str,
    pub name: &'static str,
    pub protocol: &'static str,
    pub ports: &'static str,
}

const fn host(
    purpose: &'static str,
    name: &'static str,
    protocol: &'static str,
    ports: &'static str,
) -> Host {
    Host {
        purpose,
        name,
        protocol,
        ports,
    }
}

/// The Azure ML hosts, in the documentation's order.
pub const AZURE_ML: &[Host] = &[
    host(
        "Microsoft Entra ID",
        "login.microsoftonline.com",
        "TCP",
        "80, 443",
    ),
    host("Azure portal", "management.azure.com", "TCP", "443"),
    host(
        "Azure Machine Learning studio",
        "ml.azure.com",
        "TCP",
        "443",
    ),
    host("API", "*.azureml.ms", "TCP", "443"),
    host("API", "*.azureml.net", "TCP", "443"),
    host(
        "Model management",
        "*.modelmanagement.azureml.net",
        "TCP",
        "443",
    ),
    host("Integrated notebook", "*.notebooks.azure.net", "TCP", "443"),
    host(
        "Integrated notebook",
        "<storage>.file.core.windows.net",
        "TCP",
        "443, 445",
    ),
    host(
        "Integrated notebook",
        "<storage>.dfs.core.windows.net",
        "TCP",
        "443",
    ),
    host(
        "Integrated notebook",
        "<storage>.blob.core.windows.net",
        "TCP",
        "443",
    ),
    host("Integrated notebook", "graph.microsoft.com", "TCP", "443"),
    host("Integrated notebook", "*.aznbcontent.net", "TCP", "443"),
    host(
        "AutoML NLP, Vision",
        "automlresources-prod.azureedge.net",
        "TCP",
        "443",
    ),
    host("AutoML NLP, Vision", "aka.ms", "TCP", "443"),
    host(
        "Compute cluster/instance",
        "graph.windows.net",
        "TCP",
        "443",
    ),
    host("Compute instance", "*.instances.azureml.net", "TCP", "443"),
    host(
        "Compute instance",
        "*.instances.azureml.ms",
        "TCP",
        "443, 8787, 18881",
    ),
    host(
        "Compute instance",
        "<region>.tundra.azureml.ms",
        "UDP",
        "5831",
    ),
    host(
        "Compute instance",
        "*.tundra.<region>.api.azureml.ms",
        "UDP",
        "5831",
    ),
    host(
        "Compute instance",
        "*.<region>.batch.azure.com",
        "ANY",
        "443",
    ),
    host(
        "Compute instance",
        "*.<region>.service.batch.azure.com",
        "ANY",
        "443",
    ),
    host(
        "Microsoft storage access",
        "*.blob.core.windows.net",
        "TCP",
        "443",
    ),
    host(
        "Microsoft storage access",
        "*.table.core.windows.net",
        "TCP",
        "443",
    ),
    host(
        "Microsoft storage access",
        "*.queue.core.windows.net",
        "TCP",
        "443",
    ),
    host(
        "Your storage account",
        "<storage>.file.core.windows.net",
        "TCP",
        "443, 445",
    ),
    host(
        "Your storage account",
        "<storage>.blob.core.windows.net",
        "TCP",
        "443",
    ),
    host("Azure Key Vault", "*.vault.azure.net", "TCP", "443"),
    host(
        "Microsoft Container Registry",
        "mcr.microsoft.com",
        "TCP",
        "443",
    ),
    host(
        "Microsoft Container Registry",
        "*.data.mcr.microsoft.com",
        "TCP",
        "443",
    ),
    host(
        "Azure Monitor",
        "dc.applicationinsights.azure.com",
        "TCP",
        "443",
    ),
    host(
        "Azure Monitor",
        "dc.applicationinsights.microsoft.com",
        "TCP",
        "443",
    ),
    host(
        "Azure Monitor",
        "dc.services.visualstudio.com",
        "TCP",
        "443",
    ),
    host(
        "Azure Monitor",
        "*.in.applicationinsights.azure.com",
        "TCP",
        "443",
    ),
];

/// HDInsight's outbound dependencies: the application rules' FQDN tags and target FQDNs, then the
/// network rules' service tags.
pub const HDINSIGHT: &[Host] = &[
    host(
        "HDInsight services (FQDN tag)",
        "FQDN tag HDInsight",
        "TCP",
        "the tag's own",
    ),
    host(
        "HDInsight services (FQDN tag)",
        "FQDN tag WindowsUpdate",
        "TCP",
        "the tag's own",
    ),
    host("Windows login activity", "login.windows.net", "TCP", "443"),
    host(
        "Windows login activity",
        "login.microsoftonline.com",
        "TCP",
        "443",
    ),
    host(
        "The cluster's storage (not with a private endpoint)",
        "<hdi-storage>.blob.core.windows.net",
        "TCP",
        "443",
    ),
    host(
        "Ubuntu security updates",
        "azure.archive.ubuntu.com",
        "TCP",
        "80",
    ),
    host(
        "HDInsight's default SQL servers (metastores)",
        "service tag Sql",
        "TCP",
        "1433, 11000-11999",
    ),
    host(
        "Autoscale (optional)",
        "service tag AzureMonitor",
        "TCP",
        "*",
    ),
];

impl Host {
    /// The host name with `<region>` filled in.
    pub fn in_region(&self, region: &str) -> String {
        self.name.replace("<region>", region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_placeholders_are_filled_and_storage_ones_kept() {
        let tundra = AZURE_ML
            .iter()
            .find(|h| h.name.contains("tundra.<region>"))
            .unwrap();
        assert_eq!(
            tundra.in_region("eastus2"),
            "*.tundra.eastus2.api.azureml.ms"
        );
        let file = AZURE_ML
            .iter()
            .find(|h| h.name.starts_with("<storage>.file"))
            .unwrap();
        assert_eq!(file.in_region("eastus2"), "<storage>.file.core.windows.net");
    }
}
