//! A workspace amlgen creates, hardened as part 2 of Microsoft's guide ("Secure an Azure Machine
//! Learning workspace with virtual networks") says, with its dependencies; and the private
//! endpoints and DNS that make it, and them, reachable from the VNet only.
//!
//! Existing dependencies given by ID are used as they are: their private endpoints are their
//! owner's to make. A referenced workspace (`create: false`) gets only its private endpoint here,
//! and only with `private_endpoint: create`.

use crate::azure::private_link::{Cloud, Target};
use crate::azure::resource_id::{self, ResourceId};
use crate::spec::{self, Compute, Dns, ExistingResource, Spec};

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
    /// The CPU cluster that builds environment images (a private registry cannot); `None`
    /// when the spec has no Azure ML compute to put one beside.
    pub image_build_compute: Option<String>,
    /// Where serverless compute runs; `None` without Azure ML compute in the VNet.
    pub serverless: Option<Serverless>,
    /// `identity` (Microsoft Entra ID, shared keys off) unless a compute instance needs the
    /// storage's keys: Microsoft supports identity mode only for instances with a user-assigned
    /// identity, which amlgen does not create.
    pub identity_datastores: bool,
}

/// Serverless compute in a subnet of the VNet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serverless {
    pub subnet: String,
    pub no_public_ip: bool,
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

/// The created workspace of `spec`, if it asks for one.
pub(super) fn created(spec: &Spec) -> Option<CreatedWorkspace> {
    let w = &spec.workspace;
    let builder = spec.image_builder()?;
    let names = GlobalNames::of(spec);
    let storage = existing_or(&w.storage_account, STORAGE, names.storage);
    let key_vault = existing_or(&w.key_vault, KEY_VAULT, names.key_vault);
    let registry = existing_or(&w.container_registry, REGISTRY, names.registry);
    let insights = existing_or(
        &w.application_insights,
        INSIGHTS,
        GlobalName {
            text: format!("appi-{}", spec.name),
            unique: false,
        },
    );
    Some(CreatedWorkspace {
        hbi: w.hbi,
        public_network_access: w.public_network_access,
        storage,
        key_vault,
        registry,
        insights,
        log_analytics: format!("log-{}", spec.name),
        image_build_compute: builder.name().map(str::to_string),
        serverless: serverless(spec),
        identity_datastores: !spec
            .compute
            .iter()
            .any(|c| matches!(c, Compute::Computeinstance(_))),
    })
}

/// Where serverless compute runs: the subnet of the first Azure ML compute without public IPs
/// (and so without them itself), else of the first Azure ML compute; `None` without any.
fn serverless(spec: &Spec) -> Option<Serverless> {
    let nodes = || {
        spec.compute
            .iter()
            .filter_map(|c| Some((c.subnets()[0].1, c.aml_node()?)))
    };
    let (subnet, node) = nodes()
        .find(|(_, n)| !n.public_ip)
        .or_else(|| nodes().next())?;
    Some(Serverless {
        subnet: subnet.to_string(),
        no_public_ip: !node.public_ip,
    })
}

/// The globally unique names amlgen derives from a spec's `name` for what it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GlobalNames {
    pub(crate) storage: GlobalName,
    pub(crate) key_vault: GlobalName,
    pub(crate) registry: GlobalName,
}

impl GlobalNames {
    pub(crate) fn of(spec: &Spec) -> GlobalNames {
        let unique = spec.workspace.unique_suffix;
        let flat: String = spec.name.chars().filter(|c| *c != '-').collect();
        GlobalNames {
            storage: global("st", &flat, "", 24, unique),
            key_vault: global("kv-", &spec.name, "-", 24, unique),
            registry: global("cr", &flat, "", 50, unique),
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
    name: GlobalName,
) -> Dependency {
    // The checks refused IDs that do not parse, so a given one always does here.
    match given
        .as_ref()
        .and_then(|e| ResourceId::parse(&e.id, kind, name_ok).ok())
    {
        Some(id) => Dependency::Existing(id),
        None => Dependency::Create(name),
    }
}

/// `prefix` and `base`, fitting in `max` characters with the 13-character suffix when `unique`.
/// A `base` that does not fit is cut and ends in `separator` and four hexadecimal digits of its
/// FNV-1a hash, so names that differ only past the cut (`...-dev`, `...-prod`) stay apart.
pub(crate) fn global(
    prefix: &str,
    base: &str,
    separator: &str,
    max: usize,
    unique: bool,
) -> GlobalName {
    let room = max - prefix.len() - if unique { 13 } else { 0 };
    let text = if base.chars().count() <= room {
        base.to_string()
    } else {
        let mut hasher = fnv::FnvHasher::default();
        std::hash::Hasher::write(&mut hasher, base.as_bytes());
        let hash = format!("{:04x}", std::hash::Hasher::finish(&hasher) & 0xffff);
        let kept: String = base.chars().take(room - separator.len() - 4).collect();
        format!("{}{separator}{hash}", kept.trim_end_matches('-'))
    };
    GlobalName {
        text: format!("{prefix}{}", text.trim_end_matches('-')),
        unique,
    }
}

/// The sub-resources amlgen makes private endpoints for: the workspace's (created, or
/// `private_endpoint: create`), then those of the dependencies it creates.
pub(crate) fn endpoint_targets(spec: &Spec) -> Vec<Target> {
    let w = &spec.workspace;
    let mut targets = Vec::new();
    if w.creates_private_endpoint() {
        targets.push(Target::Workspace);
    }
    if !w.create {
        return targets;
    }
    if w.storage_account.is_none() {
        targets.extend([Target::Blob, Target::File]);
        let batch = spec.network.private_endpoints.as_ref();
        if batch.is_some_and(|p| p.batch_endpoints) {
            targets.extend([Target::Queue, Target::Table]);
        }
    }
    if w.key_vault.is_none() {
        targets.push(Target::Vault);
    }
    if w.container_registry.is_none() {
        targets.push(Target::Registry);
    }
    targets
}

/// The zones the endpoints of `targets` resolve in, each once, in endpoint order.
pub(crate) fn needed_zones(targets: &[Target]) -> Vec<&'static str> {
    let mut zones: Vec<&'static str> = Vec::new();
    for zone in targets.iter().flat_map(|t| t.zones(CLOUD)) {
        if !zones.contains(zone) {
            zones.push(zone);
        }
    }
    zones
}

/// The private endpoints of `spec`, with their DNS.
pub(super) fn private_endpoints(spec: &Spec) -> Option<PrivateEndpoints> {
    let settings = spec.network.private_endpoints.as_ref()?;
    let targets = endpoint_targets(spec);
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

/// Each zone the targets need, once: created, or with `dns: existing` the one `zones` names
/// (compared without regard to case, as DNS does); none with `dns: policy`.
fn zones(settings: &spec::PrivateEndpoints, targets: &[Target]) -> Vec<Zone> {
    let given = |name: &str| {
        let (kind, name_ok) = ZONE;
        let (_, id) = settings
            .zones
            .iter()
            .find(|(zone, _)| zone.eq_ignore_ascii_case(name))?;
        ResourceId::parse(id, kind, name_ok).ok()
    };
    needed_zones(targets)
        .into_iter()
        .filter_map(|name| match settings.dns {
            Dns::Create => Some(Zone {
                name,
                existing: None,
            }),
            // The checks require every zone, so none is left out here.
            Dns::Existing => given(name).map(|id| Zone {
                name,
                existing: Some(id),
            }),
            Dns::Policy => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_names_fit_their_limit_and_keep_apart_what_the_cut_would_join() {
        let long = "a".repeat(40);
        assert_eq!(global("st", &long, "", 24, false).text.len(), 24);
        assert_eq!(global("st", &long, "", 24, true).text.len() + 13, 24);
        assert_eq!(
            global("kv-", "fraud-prod", "-", 24, false).text,
            "kv-fraud-prod"
        );
        let dev = global("kv-", "contoso-fraud-detection-dev", "-", 24, false).text;
        let prod = global("kv-", "contoso-fraud-detection-prod", "-", 24, false).text;
        assert_ne!(dev, prod);
        assert_eq!(dev.len(), 24, "{dev}");
        assert!(
            dev.starts_with("kv-contoso-fraud-") && !dev.contains("--"),
            "{dev}"
        );
        let short = global("kv-", "fraud-p-rod", "-", 24, true).text;
        assert!(short.len() + 13 <= 24 && !short.ends_with('-'), "{short}");
    }

    #[test]
    fn a_hub_zone_is_found_whatever_the_case_of_its_key() {
        let id = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/privatelink.api.azureml.ms";
        let settings: spec::PrivateEndpoints = serde_json::from_value(serde_json::json!({
            "subnet": "snet-pe", "dns": "existing", "zones": {"PrivateLink.API.AzureML.ms": id}
        }))
        .unwrap();
        let found = zones(&settings, &[Target::Workspace]);
        assert_eq!(
            found.len(),
            1,
            "the notebooks zone is not given, so it is not made up"
        );
        assert_eq!(found[0].name, "privatelink.api.azureml.ms");
        assert!(found[0].existing.is_some());
    }
}
