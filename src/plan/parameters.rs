//! The deployment parameters of the generated templates: the location, the SSH keys and user
//! names, and the HDInsight login. Secrets are secure parameters without a default, read from
//! environment variables by `main.bicepparam`, never written into any file.

use super::{Compute, ComputeKind, HdInsightCluster, VirtualMachine};
use crate::naming::Identifiers;

/// The environment variable a secret is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    /// A shell line that sets it, shown in the output README.
    pub setup: String,
}

/// A deployment parameter of the generated templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub description: String,
    /// The default written into the template; `None` for values that must come from the deployer.
    pub default: Option<String>,
    /// The only values accepted, when the template cannot work with any other.
    pub allowed: Vec<String>,
    /// Secrets are `@secure()` / `securestring` and never have a default.
    pub secure: bool,
    /// The environment variable `main.bicepparam` reads it from, for values without a default.
    pub env: Option<EnvVar>,
    /// The workspace's computes read it, so it is passed on to the computes module or nested
    /// deployment when the workspace lives in another resource group.
    pub computes: bool,
}

/// The region of every resource.
pub const LOCATION: &str = "location";
/// The administrator of Azure ML compute nodes that enable SSH.
pub const ADMIN_USERNAME: &str = "adminUsername";
/// The SSH public key of every login: compute nodes, VMs, HDInsight.
pub const SSH_PUBLIC_KEY: &str = "sshPublicKey";
/// The private key Azure ML uses to log in to attached VMs and clusters.
pub const SSH_PRIVATE_KEY: &str = "sshPrivateKey";

/// Collects the parameters while the plan is built, handing out unique names.
#[derive(Debug)]
pub(super) struct Names {
    identifiers: Identifiers,
    location: String,
    /// The parameters of single VMs and clusters, in spec order.
    machine: Vec<Parameter>,
}

impl Names {
    pub(super) fn new(location: &str) -> Self {
        Self {
            identifiers: Identifiers::new([
                LOCATION,
                ADMIN_USERNAME,
                SSH_PUBLIC_KEY,
                SSH_PRIVATE_KEY,
            ]),
            location: location.to_string(),
            machine: Vec::new(),
        }
    }

    /// Declares a parameter of one VM or cluster, named `<compute><What>`; returns its name.
    pub(super) fn machine(&mut self, compute: &str, what: &str, parameter: Parameter) -> String {
        let name = self.identifiers.claim("", &format!("{compute}-{what}"));
        self.machine.push(Parameter {
            name: name.clone(),
            ..parameter
        });
        name
    }

    /// Names an input of the computes module (Bicep) or nested deployment (ARM), which receives
    /// the attached machines' IDs and addresses when the workspace lives in another resource
    /// group: `<compute><What>`.
    pub(super) fn link(&mut self, compute: &str, what: &str) -> String {
        self.identifiers.claim("", &format!("{compute}-{what}"))
    }

    /// Every parameter: `location`, the shared SSH parameters the plan needs, then the machines'.
    pub(super) fn finish(
        self,
        computes: &[Compute],
        vms: &[VirtualMachine],
        clusters: &[HdInsightCluster],
    ) -> Vec<Parameter> {
        let aml_ssh = computes.iter().any(|c| match &c.kind {
            ComputeKind::Cluster(k) => k.ssh,
            ComputeKind::Instance(i) => i.ssh,
            ComputeKind::Attached(_) => false,
        });
        let attached = computes
            .iter()
            .any(|c| matches!(c.kind, ComputeKind::Attached(_)));
        let mut out = vec![location(&self.location)];
        if aml_ssh {
            out.push(admin_username());
        }
        if aml_ssh || !vms.is_empty() || !clusters.is_empty() {
            out.push(ssh_public_key(aml_ssh));
        }
        if attached {
            out.push(ssh_private_key());
        }
        out.extend(self.machine);
        out
    }
}

/// A parameter with a default: the machines' user names and sizes.
pub(super) fn with_default(description: String, default: &str, computes: bool) -> Parameter {
    Parameter {
        name: String::new(),
        description,
        default: Some(default.to_string()),
        allowed: Vec::new(),
        secure: false,
        env: None,
        computes,
    }
}

/// A secret without a default, read from `env` by `main.bicepparam`.
pub(super) fn secret(description: String, env: EnvVar, computes: bool) -> Parameter {
    Parameter {
        name: String::new(),
        description,
        default: None,
        allowed: Vec::new(),
        secure: true,
        env: Some(env),
        computes,
    }
}

/// The location parameter: every resource uses it, and it may only be the spec's region because
/// the NSG rules name that region's service tags.
fn location(location: &str) -> Parameter {
    Parameter {
        name: LOCATION.to_string(),
        description: format!(
            "Region of every resource, by default the resource group's. Only {location} is allowed: the NSG rules use its service tags; to deploy elsewhere, change `location` in the spec and render again."
        ),
        default: Some(location.to_string()),
        allowed: vec![location.to_string()],
        secure: false,
        env: None,
        computes: true,
    }
}

fn admin_username() -> Parameter {
    Parameter {
        name: ADMIN_USERNAME.to_string(),
        ..with_default(
            "Administrator user name for SSH logins to compute nodes.".to_string(),
            "azureuser",
            true,
        )
    }
}

fn ssh_public_key(computes: bool) -> Parameter {
    Parameter {
        name: SSH_PUBLIC_KEY.to_string(),
        ..secret(
            "SSH public key (OpenSSH format) for logins to compute nodes, VMs and HDInsight clusters."
                .to_string(),
            EnvVar {
                name: "AMLGEN_SSH_PUBLIC_KEY".to_string(),
                setup: "export AMLGEN_SSH_PUBLIC_KEY=\"$(cat ~/.ssh/id_rsa.pub)\"".to_string(),
            },
            computes,
        )
    }
}

fn ssh_private_key() -> Parameter {
    Parameter {
        name: SSH_PRIVATE_KEY.to_string(),
        ..secret(
            "SSH private key matching sshPublicKey: Azure ML logs in to attached VMs and HDInsight clusters with it."
                .to_string(),
            EnvVar {
                name: "AMLGEN_SSH_PRIVATE_KEY".to_string(),
                setup: "export AMLGEN_SSH_PRIVATE_KEY=\"$(cat ~/.ssh/id_rsa)\"".to_string(),
            },
            true,
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::check::fixture::spec;
    use serde_json::json;

    #[test]
    fn ssh_on_aml_compute_adds_the_user_and_a_key_without_default() {
        let plan = crate::plan::build(&spec(|_| {}), None);
        let names: Vec<&str> = plan.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["location"]);
        let plan = crate::plan::build(
            &spec(|v| v["compute"][1]["ssh_public_access_enabled"] = json!(true)),
            None,
        );
        let names: Vec<&str> = plan.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["location", "adminUsername", "sshPublicKey"]);
        let key = &plan.parameters[2];
        assert!(key.secure && key.default.is_none() && key.computes);
    }

    #[test]
    fn machine_parameters_get_unique_names() {
        let plan = crate::plan::build(
            &spec(|v| {
                let computes = v["compute"].as_array_mut().unwrap();
                computes
                    .push(json!({"name": "vm-a", "type": "virtualmachine", "subnet": "snet-a"}));
                computes.push(json!({"name": "vmA", "type": "virtualmachine", "subnet": "snet-a"}));
            }),
            None,
        );
        let names: Vec<&str> = plan.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "location",
                "sshPublicKey",
                "vmASize",
                "vmAAdminUsername",
                "vmASize2",
                "vmAAdminUsername2"
            ]
        );
    }
}
