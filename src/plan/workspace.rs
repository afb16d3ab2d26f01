//! A workspace amlgen creates, hardened as part 2 of Microsoft's guide ("Secure an Azure Machine
//! Learning workspace with virtual networks") says, with its dependencies; and the private
//! endpoints and DNS that make it, and them, reachable from the VNet only.
//!
//! Existing dependencies given by ID are used as they are: their private endpoints are their
//! owner's to make. A referenced workspace (`create: false`) gets only its private endpoint here,
//! and only with `private_endpoint: create`.

use crate::azure::private_link::{Cloud, Target};
use crate::azure::resource_id::{self, ResourceId};
use crate::spec::{self, Compute, Dns, ExistingResource, ImageBuilder, Spec};

/// A workspace amlgen creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedWorkspace {
    pub hbi: bool,
    pub public_network_access: bool,
    pub storage: Dependency,
    pub key_vault: Dependency,
    pub registry: Dependency,
    /// Application Insights; when created, with the Log Analytics workspace it writes to.
    pub insights: Dependency,
    pub log_analytics: String,
    /// The CPU cluster that builds environment images (a private registry cannot).
    pub image_build_compute: String,
    /// Where serverless compute runs: a compute subnet, without public IPs when its computes
    /// have none.
    pub serverless_subnet: String,
    pub serverless_no_public_ip: bool,
    /// `identity` (Microsoft Entra ID, shared keys off) unless a compute instance needs the
    /// storage's keys: Microsoft supports identity mode only for instances with a user-assigned
    /// identity, which amlgen does not create.
    pub identity_datastores: bool,
}

/// A dependency of a created workspace: made by amlgen, or an existing one by ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    Create(GlobalName),
    Existing(ResourceId),
}

/// The name of a resource amlgen creates: the text, then (with `unique_suffix`) 13 characters
/// of `uniqueString(resourceGroup().id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalName {
    pub text: String,
    pub unique: bool,
}

/// The private endpoints amlgen creates and how their names resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateEndpoints {
    pub subnet: String,
    pub dns: Dns,
    pub endpoints: Vec<Endpoint>,
    /// The zones the endpoints' names resolve in, each once, in endpoint order; empty with
    /// `dns: policy`.
    pub zones: Vec<Zone>,
}

/// One private endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    pub target: Target,
}

/// A private DNS zone an endpoint's names resolve in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: &'static str,
    /// `None`: amlgen creates it and links it to the VNet; else the existing zone.
    pub existing: Option<ResourceId>,
}

/// The cloud of every region amlgen knows.
pub const CLOUD: Cloud = Cloud::Public;

/// The created workspace of `spec`, if it asks for one. Names are cut to Azure's limits; the
/// checks have refused names that break other rules.
pub(super) fn created(spec: &Spec) -> Option<CreatedWorkspace> {
    let w = &spec.workspace;
    let builder = spec.image_builder()?;
    let unique = w.unique_suffix;
    let flat: String = spec.name.chars().filter(|c| *c != '-').collect();
    let storage = existing_or(&w.storage_account, STORAGE, || {
        global("st", &flat, 24, unique)
    });
    let key_vault = existing_or(&w.key_vault, KEY_VAULT, || {
        global("kv-", &spec.name, 24, unique)
    });
    let registry = existing_or(&w.container_registry, REGISTRY, || {
        global("cr", &flat, 50, unique)
    });
    let insights = existing_or(&w.application_insights, INSIGHTS, || GlobalName {
        text: format!("appi-{}", spec.name),
        unique: false,
    });
    let (serverless_subnet, serverless_no_public_ip) = serverless(spec, builder);
    Some(CreatedWorkspace {
        hbi: w.hbi,
        public_network_access: w.public_network_access,
        storage,
        key_vault,
        registry,
        insights,
        log_analytics: format!("log-{}", spec.name),
        image_build_compute: match builder {
            ImageBuilder::Named(name) => name.to_string(),
            ImageBuilder::Added { .. } => ImageBuilder::NAME.to_string(),
        },
        serverless_subnet,
        serverless_no_public_ip,
        identity_datastores: !spec
            .compute
            .iter()
            .any(|c| matches!(c, Compute::Computeinstance(_))),
    })
}

/// The subnet of the first Azure ML compute without public IPs, else the image builder's.
fn serverless(spec: &Spec, builder: ImageBuilder<'_>) -> (String, bool) {
    let private = spec.compute.iter().find_map(|c| {
        let node = c.aml_node()?;
        (!node.public_ip).then(|| c.subnets()[0].1.to_string())
    });
    if let Some(subnet) = private {
        return (subnet, true);
    }
    match builder {
        ImageBuilder::Added { subnet, public_ip } => (subnet.to_string(), !public_ip),
        ImageBuilder::Named(name) => {
            let cluster = spec.compute.iter().find(|c| c.name() == name);
            let subnet = cluster.map_or("", |c| c.subnets()[0].1);
            (subnet.to_string(), false)
        }
    }
}

/// A dependency's type and name rule.
pub(crate) type Kind = (&'static str, fn(&str) -> bool);

pub(crate) const STORAGE: Kind = (
    "Microsoft.Storage/storageAccounts",
    resource_id::storage_name_ok,
);
pub(crate) const KEY_VAULT: Kind = ("Microsoft.KeyVault/vaults", resource_id::key_vault_name_ok);
pub(crate) const REGISTRY: Kind = (
    "Microsoft.ContainerRegistry/registries",
    resource_id::registry_name_ok,
);
pub(crate) const INSIGHTS: Kind = ("Microsoft.Insights/components", resource_id::plain_name_ok);
pub(crate) const ZONE: Kind = (
    "Microsoft.Network/privateDnsZones",
    resource_id::plain_name_ok,
);

fn existing_or(
    given: &Option<ExistingResource>,
    (kind, name_ok): Kind,
    create: impl FnOnce() -> GlobalName,
) -> Dependency {
    // The checks refused IDs that do not parse, so a given one always does here.
    match given
        .as_ref()
        .and_then(|e| ResourceId::parse(&e.id, kind, name_ok).ok())
    {
        Some(id) => Dependency::Existing(id),
        None => Dependency::Create(create()),
    }
}

/// `prefix` and `base`, cut so that the whole, with the 13-character suffix when `unique`,
/// fits in `max` characters, and never ending in a hyphen.
pub(crate) fn global(prefix: &str, base: &str, max: usize, unique: bool) -> GlobalName {
    let room = max - prefix.len() - if unique { 13 } else { 0 };
    let cut: String = base.chars().take(room).collect();
    GlobalName {
        text: format!("{prefix}{}", cut.trim_end_matches('-')),
        unique,
    }
}

/// The private endpoints of `spec`: the workspace's (created, or `private_endpoint: create`),
/// then those of the dependencies amlgen creates.
pub(super) fn private_endpoints(
    spec: &Spec,
    created: Option<&CreatedWorkspace>,
) -> Option<PrivateEndpoints> {
    let settings = spec.network.private_endpoints.as_ref()?;
    let mut targets = Vec::new();
    if spec.workspace.creates_private_endpoint() {
        targets.push(Target::Workspace);
    }
    if let Some(created) = created {
        if matches!(created.storage, Dependency::Create(_)) {
            targets.extend([Target::Blob, Target::File]);
            if settings.batch_endpoints {
                targets.extend([Target::Queue, Target::Table]);
            }
        }
        if matches!(created.key_vault, Dependency::Create(_)) {
            targets.push(Target::Vault);
        }
        if matches!(created.registry, Dependency::Create(_)) {
            targets.push(Target::Registry);
        }
    }
    if targets.is_empty() {
        return None;
    }
    let endpoints = targets
        .iter()
        .map(|t| Endpoint {
            name: format!("pe-{}-{}", spec.name, t.group_id()),
            target: *t,
        })
        .collect();
    Some(PrivateEndpoints {
        subnet: settings.subnet.clone(),
        dns: settings.dns,
        endpoints,
        zones: zones(settings, &targets),
    })
}

/// Each zone the targets need, once: created, or the existing one `zones` names.
fn zones(settings: &spec::PrivateEndpoints, targets: &[Target]) -> Vec<Zone> {
    if settings.dns == Dns::Policy {
        return Vec::new();
    }
    let mut out: Vec<Zone> = Vec::new();
    for name in targets.iter().flat_map(|t| t.zones(CLOUD)) {
        if out.iter().any(|z| z.name == *name) {
            continue;
        }
        let existing = (settings.dns == Dns::Existing)
            .then(|| {
                let (kind, name_ok) = ZONE;
                let id = settings.zones.get(*name)?;
                ResourceId::parse(id, kind, name_ok).ok()
            })
            .flatten();
        out.push(Zone { name, existing });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_names_fit_their_limit_with_and_without_the_suffix() {
        let long = "a".repeat(40);
        assert_eq!(global("st", &long, 24, false).text.len(), 24);
        assert_eq!(global("st", &long, 24, true).text.len() + 13, 24);
        assert_eq!(global("kv-", "fraud-prod-x", 24, true).text, "kv-fraud-pr");
        assert_eq!(global("kv-", "fraud-p-rod", 24, true).text, "kv-fraud-p");
        assert_eq!(
            global("kv-", "fraud-prod-x", 24, false).text,
            "kv-fraud-prod-x"
        );
    }
}
