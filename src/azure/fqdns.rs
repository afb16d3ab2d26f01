//! The hosts Azure ML compute reaches by name, which a firewall in front of no-public-IP compute
//! must allow: Microsoft Learn, "Configure inbound and outbound network traffic" (2026-03-19),
//! "Microsoft hosts", Azure public cloud. `amlgen explain` lists them for the firewall team.
//!
//! `<region>` stands for the workspace's region and `<storage>` for its default storage
//! account, which the spec does not name.

/// Where the list comes from.
pub const SOURCE: &str = "Microsoft Learn, \"Configure inbound and outbound network traffic\" (2026-03-19), Microsoft hosts, Azure public";

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

/// The hosts, in the documentation's order.
pub const HOSTS: &[Host] = &[
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
        let tundra = HOSTS
            .iter()
            .find(|h| h.name.contains("tundra.<region>"))
            .unwrap();
        assert_eq!(
            tundra.in_region("eastus2"),
            "*.tundra.eastus2.api.azureml.ms"
        );
        let file = HOSTS
            .iter()
            .find(|h| h.name.starts_with("<storage>.file"))
            .unwrap();
        assert_eq!(file.in_region("eastus2"), "<storage>.file.core.windows.net");
    }
}
