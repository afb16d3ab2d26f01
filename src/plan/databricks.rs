//! Databricks workspaces injected into the VNet: their two subnets, pricing tier, secure cluster
//! connectivity and the managed resource group Databricks creates.

use crate::naming;
use crate::spec::{self, Spec};

/// An Azure Databricks workspace with VNet injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabricksWorkspace {
    pub name: String,
    /// `standard`, `premium` or `trial`.
    pub sku: &'static str,
    pub public_subnet: String,
    pub private_subnet: String,
    /// Secure cluster connectivity: nodes without public IPs.
    pub no_public_ip: bool,
    /// Name of the resource group Databricks manages, in the deployment's subscription.
    pub managed_group: String,
}

pub(super) fn build(spec: &Spec) -> Vec<DatabricksWorkspace> {
    spec.compute
        .iter()
        .filter_map(|c| match c {
            spec::Compute::Databricks(d) => Some(DatabricksWorkspace {
                name: d.name.clone(),
                sku: d.sku.as_str(),
                public_subnet: d.public_subnet.clone(),
                private_subnet: d.private_subnet.clone(),
                no_public_ip: d.no_public_ip,
                managed_group: naming::databricks_managed_group(&spec.name, &d.name),
            }),
            _ => None,
        })
        .collect()
}
