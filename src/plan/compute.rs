//! The compute half of the plan: Azure ML clusters and instances, created as children of the
//! existing workspace, each joined to its subnet.

use super::Parameter;
use crate::spec::{self, Spec, Tier};

/// An Azure ML compute cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub vm_size: String,
    /// `Dedicated` or `LowPriority`.
    pub vm_priority: &'static str,
    pub min_nodes: u32,
    pub max_nodes: u32,
    /// ISO 8601, e.g. `PT120S`.
    pub idle_before_scale_down: String,
    pub public_ip: bool,
    pub ssh: bool,
}

/// An Azure ML compute instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub vm_size: String,
    pub public_ip: bool,
    pub ssh: bool,
    /// ISO 8601, e.g. `PT60M`.
    pub idle_before_shutdown: Option<String>,
    /// `(object id, tenant id)` of the user the instance is created for.
    pub assigned_user: Option<(String, String)>,
}

/// What kind of compute, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComputeKind {
    Cluster(Cluster),
    Instance(Instance),
}

/// One compute of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compute {
    pub name: String,
    /// The subnet of the plan's VNet the compute joins.
    pub subnet: String,
    pub kind: ComputeKind,
}

impl Compute {
    /// True when the compute needs the SSH deployment parameters.
    pub fn needs_ssh_key(&self) -> bool {
        match &self.kind {
            ComputeKind::Cluster(c) => c.ssh,
            ComputeKind::Instance(i) => i.ssh,
        }
    }
}

pub(super) fn build(spec: &Spec) -> Vec<Compute> {
    spec.compute.iter().map(compute).collect()
}

fn compute(compute: &spec::Compute) -> Compute {
    match compute {
        spec::Compute::Amlcompute(c) => Compute {
            name: c.name.clone(),
            subnet: c.subnet.clone(),
            kind: ComputeKind::Cluster(Cluster {
                vm_size: c.size.clone(),
                vm_priority: match c.tier {
                    Tier::Dedicated => "Dedicated",
                    Tier::LowPriority => "LowPriority",
                },
                min_nodes: c.min_instances,
                max_nodes: c.max_instances,
                idle_before_scale_down: format!("PT{}S", c.idle_time_before_scale_down),
                public_ip: c.enable_node_public_ip,
                ssh: c.ssh_public_access_enabled,
            }),
        },
        spec::Compute::Computeinstance(c) => Compute {
            name: c.name.clone(),
            subnet: c.subnet.clone(),
            kind: ComputeKind::Instance(Instance {
                vm_size: c.size.clone(),
                public_ip: c.enable_node_public_ip,
                ssh: c.ssh_public_access_enabled,
                idle_before_shutdown: c
                    .idle_time_before_shutdown_minutes
                    .map(|m| format!("PT{m}M")),
                assigned_user: c
                    .create_on_behalf_of
                    .as_ref()
                    .map(|u| (u.user_object_id.clone(), u.user_tenant_id.clone())),
            }),
        },
    }
}

/// The deployment parameters the computes need: the SSH administrator and public key, only when
/// a compute enables SSH. The key is never written into the templates or the parameter files.
pub(super) fn parameters(computes: &[Compute]) -> Vec<Parameter> {
    if !computes.iter().any(Compute::needs_ssh_key) {
        return Vec::new();
    }
    vec![
        Parameter {
            name: "adminUsername",
            description: "Administrator user name for SSH logins to compute nodes.".to_string(),
            default: Some("azureuser".to_string()),
            allowed: Vec::new(),
            secure: false,
            env: None,
        },
        Parameter {
            name: "sshPublicKey",
            description: "SSH public key (OpenSSH format) for remote login to compute nodes."
                .to_string(),
            default: None,
            allowed: Vec::new(),
            secure: true,
            env: Some("AMLGEN_SSH_PUBLIC_KEY"),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::spec;
    use serde_json::json;

    #[test]
    fn spec_defaults_become_azure_settings() {
        let computes = build(&spec(|_| {}));
        let ComputeKind::Cluster(cluster) = &computes[0].kind else {
            panic!("not a cluster")
        };
        assert_eq!(
            (
                cluster.vm_priority,
                cluster.idle_before_scale_down.as_str(),
                cluster.public_ip
            ),
            ("Dedicated", "PT120S", true)
        );
        assert!(parameters(&computes).is_empty());
    }

    #[test]
    fn ssh_adds_the_key_parameter_without_default() {
        let computes = build(&spec(|v| {
            v["compute"][1]["ssh_public_access_enabled"] = json!(true)
        }));
        let params = parameters(&computes);
        assert_eq!(
            params.iter().map(|p| p.name).collect::<Vec<_>>(),
            ["adminUsername", "sshPublicKey"]
        );
        assert!(params[1].default.is_none() && params[1].secure);
    }
}
