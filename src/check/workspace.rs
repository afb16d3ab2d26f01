//! The rules of a created workspace and of the private endpoints and DNS amlgen creates: keys
//! that only a created workspace reads, the private-endpoint subnet, the image-build cluster,
//! the names Azure wants globally unique, resource IDs taken apart before any reaches a template,
//! the zones of `dns: existing`, and the Docker bridge range compute keeps for itself.

use ipnet::Ipv4Net;

use super::{compute_pointer, subnet_pointer};
use crate::azure::private_link::Target;
use crate::azure::resource_id::{IdProblem, ResourceId};
use crate::azure::sizes;
use crate::diag::{Code, Diagnostic, Label, pointer};
use crate::plan::{self, INSIGHTS, KEY_VAULT, Kind, REGISTRY, STORAGE, ZONE};
use crate::spec::{Compute, Dns, ImageBuilder, Spec, WorkspaceEndpoint};

pub(super) fn check(spec: &Spec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    found.extend(create_only(spec));
    found.extend(endpoint_settings(spec));
    found.extend(image_builder(spec));
    found.extend(global_names(spec));
    found.extend(dependency_ids(spec));
    found.extend(zones(spec));
    found.extend(docker_bridge(spec));
    found.extend(assumed_endpoint(spec));
    found
}

/// The keys only a created workspace reads, with whether the spec sets each.
fn create_only_keys(spec: &Spec) -> [(&'static str, bool); 8] {
    let w = &spec.workspace;
    [
        ("hbi", w.hbi),
        ("public_network_access", w.public_network_access),
        ("unique_suffix", w.unique_suffix),
        ("image_build_compute", w.image_build_compute.is_some()),
        ("storage_account", w.storage_account.is_some()),
        ("key_vault", w.key_vault.is_some()),
        ("container_registry", w.container_registry.is_some()),
        ("application_insights", w.application_insights.is_some()),
    ]
}

/// `workspace-create-settings`: a key only `create: true` reads set without it, or
/// `resource_group` with it (amlgen creates the workspace in the deployment's group).
fn create_only(spec: &Spec) -> Vec<Diagnostic> {
    let w = &spec.workspace;
    let mut found = Vec::new();
    if w.create {
        if w.resource_group.is_some() {
            found.push(
                Diagnostic::error(
                    Code::WorkspaceCreateSettings,
                    "a workspace amlgen creates lives in the resource group the template is deployed to, so `workspace.resource_group` cannot name another",
                    Label::key("/workspace/resource_group", "another resource group"),
                )
                .with_label(Label::value("/workspace/create", "created here"))
                .with_help("remove `resource_group`, and deploy the template to the resource group the workspace belongs in"),
            );
        }
        if w.private_endpoint == WorkspaceEndpoint::Elsewhere {
            found.push(
                Diagnostic::error(
                    Code::WorkspaceCreateSettings,
                    "`private_endpoint: true` says the workspace's private endpoint exists elsewhere, but amlgen creates the workspace and its private endpoint",
                    Label::value("/workspace/private_endpoint", "exists elsewhere"),
                )
                .with_help("remove `private_endpoint`: a created workspace always gets its private endpoint in this VNet"),
            );
        }
        return found;
    }
    for (key, set) in create_only_keys(spec) {
        if !set {
            continue;
        }
        found.push(
            Diagnostic::error(
                Code::WorkspaceCreateSettings,
                format!("`workspace.{key}` is set, but only a workspace amlgen creates reads it, and `workspace.create` is not `true`"),
                Label::key(format!("/workspace/{key}"), "read only with `create: true`"),
            )
            .with_help(format!("set `workspace.create: true` to create the workspace, or remove `{key}`")),
        );
    }
    found
}

/// `private-endpoints-missing`, `private-endpoint-subnet` and `subnet-unknown` for the subnet
/// the endpoints go into, and `private-endpoints-unused` when no endpoint is created.
fn endpoint_settings(spec: &Spec) -> Vec<Diagnostic> {
    let creates = spec.workspace.creates_private_endpoint();
    let Some(settings) = &spec.network.private_endpoints else {
        if !creates {
            return Vec::new();
        }
        let at = if spec.workspace.create {
            "/workspace/create"
        } else {
            "/workspace/private_endpoint"
        };
        return vec![
            Diagnostic::error(
                Code::PrivateEndpointsMissing,
                "amlgen creates the workspace's private endpoint, but `network.private_endpoints` does not say which subnet it goes into",
                Label::value(at, "creates a private endpoint"),
            )
            .with_help("add `network.private_endpoints: {subnet: <a subnet without compute>, dns: create}`"),
        ];
    };
    let mut found = Vec::new();
    if !creates {
        found.push(
            Diagnostic::warning(
                Code::PrivateEndpointsUnused,
                "`network.private_endpoints` is set, but amlgen creates no private endpoint: the workspace is referenced and its `private_endpoint` is not `create`",
                Label::key("/network/private_endpoints", "no endpoint to place"),
            )
            .with_help("set `workspace.create: true` or `workspace.private_endpoint: create`, or remove `network.private_endpoints`"),
        );
    }
    let queues = plan::endpoint_targets(spec).contains(&Target::Queue);
    if settings.batch_endpoints && creates && !queues {
        found.push(
            Diagnostic::warning(
                Code::PrivateEndpointsUnused,
                "`batch_endpoints` is set, but amlgen creates no storage account here to give queue and table endpoints (the workspace is referenced, or its storage is given by ID)",
                Label::key("/network/private_endpoints/batch_endpoints", "no storage of amlgen's"),
            )
            .with_help("create those endpoints with the storage account's owner, or remove `batch_endpoints`"),
        );
    }
    let at = "/network/private_endpoints/subnet";
    match spec.subnet(&settings.subnet) {
        None => found.push(
            Diagnostic::error(
                Code::SubnetUnknown,
                format!("`network.private_endpoints` names subnet `{}`, which `network.subnets` does not define", settings.subnet),
                Label::value(at, "unknown subnet"),
            )
            .with_help("name a subnet of `network.subnets` that hosts no compute"),
        ),
        Some((i, subnet)) => {
            let users: Vec<(usize, &Compute)> = spec
                .compute
                .iter()
                .enumerate()
                .filter(|(_, c)| c.subnets().iter().any(|(_, s)| *s == subnet.name))
                .collect();
            if let Some(delegation) = &subnet.delegation {
                found.push(
                    Diagnostic::error(
                        Code::PrivateEndpointSubnet,
                        format!("private endpoints cannot go into subnet `{}`: it is delegated to {delegation}", subnet.name),
                        Label::value(at, "delegated subnet"),
                    )
                    .with_label(Label::value(format!("{}/delegation", subnet_pointer(i)), "delegation"))
                    .with_help("give the private endpoints a subnet of their own, without delegation"),
                );
            }
            if let Some((ci, compute)) = users.first() {
                found.push(
                    Diagnostic::error(
                        Code::PrivateEndpointSubnet,
                        format!("private endpoints go into subnet `{}`, which compute `{}` uses: the endpoints' addresses would count against its nodes and share its NSG rules", subnet.name, compute.name()),
                        Label::value(at, "a compute subnet"),
                    )
                    .with_label(Label::value(compute_pointer(*ci), "compute here"))
                    .with_help("give the private endpoints a subnet of their own (a /27 holds them)"),
                );
            }
        }
    }
    found
}

/// `image-build-compute`: the cluster `image_build_compute` names is not a CPU `amlcompute` of
/// the spec (an error); or a created workspace has no Azure ML compute to build images beside
/// (a warning).
fn image_builder(spec: &Spec) -> Option<Diagnostic> {
    if spec.image_builder()? == ImageBuilder::Absent {
        return Some(
            Diagnostic::warning(
                Code::ImageBuildCompute,
                "the created workspace has no Azure ML cluster to build environment images on, and its registry has public access off: no environment with extra packages can be built until one joins",
                Label::value("/workspace/create", "created workspace"),
            )
            .with_help("add a CPU `amlcompute` cluster to `compute` (amlgen then names it as the image builder)"),
        );
    }
    let name = spec.workspace.image_build_compute.as_deref()?;
    let at = "/workspace/image_build_compute";
    let cluster = spec.compute.iter().enumerate().find_map(|(i, c)| match c {
        Compute::Amlcompute(cluster) if cluster.name == name => Some((i, cluster)),
        _ => None,
    });
    match cluster {
        None => Some(
            Diagnostic::error(
                Code::ImageBuildCompute,
                format!("`image_build_compute` names `{name}`, which is not an `amlcompute` cluster of `compute`"),
                Label::value(at, "not a cluster of the spec"),
            )
            .with_help("name a CPU cluster (`type: amlcompute`) of `compute`, or remove the key to let amlgen pick or add one"),
        ),
        Some((i, cluster)) if sizes::is_gpu(&cluster.size) => Some(
            Diagnostic::error(
                Code::ImageBuildCompute,
                format!("`image_build_compute` names `{name}`, a GPU cluster ({}); Azure ML builds images only on a CPU cluster", cluster.size),
                Label::value(at, "a GPU cluster"),
            )
            .with_label(Label::value(format!("{}/size", compute_pointer(i)), "GPU size"))
            .with_help("name a CPU cluster, or remove the key to let amlgen pick or add one"),
        ),
        Some(_) => None,
    }
}

/// `name-invalid`: a globally unique name amlgen derives from `name` breaks Azure's rules
/// (a key vault name with two hyphens in a row; a registry name shorter than five).
fn global_names(spec: &Spec) -> Vec<Diagnostic> {
    let w = &spec.workspace;
    if !w.create {
        return Vec::new();
    }
    let names = plan::GlobalNames::of(spec);
    let candidates = [
        (
            w.key_vault.is_none(),
            names.key_vault,
            KEY_VAULT,
            "key vault",
            "3-24 letters, digits and single hyphens",
        ),
        (
            w.container_registry.is_none(),
            names.registry,
            REGISTRY,
            "container registry",
            "5-50 letters and digits",
        ),
    ];
    candidates
        .into_iter()
        .filter(|(created, name, (_, ok), ..)| {
            // The suffix is 13 letters and digits: check the name with a stand-in for it.
            let full = format!("{}{}", name.text, if name.unique { "a".repeat(13) } else { String::new() });
            *created && !ok(&full)
        })
        .map(|(_, name, _, noun, rule)| {
            Diagnostic::error(
                Code::NameInvalid,
                format!("the {noun} name amlgen derives from `name`, `{}`, breaks Azure's rule for it: {rule}", name.text),
                Label::value("/name", "the names derive from it"),
            )
            .with_help(format!("rename the spec, or give an existing {noun} by ID"))
        })
        .collect()
}

/// `resource-id-invalid` for each dependency given by an ID that does not parse.
fn dependency_ids(spec: &Spec) -> Vec<Diagnostic> {
    let w = &spec.workspace;
    [
        ("storage_account", &w.storage_account, STORAGE),
        ("key_vault", &w.key_vault, KEY_VAULT),
        ("container_registry", &w.container_registry, REGISTRY),
        ("application_insights", &w.application_insights, INSIGHTS),
    ]
    .into_iter()
    .filter_map(|(key, given, kind)| {
        let id = &given.as_ref()?.id;
        parse(id, kind)
            .err()
            .map(|problem| id_error(&format!("/workspace/{key}/id"), id, kind.0, &problem))
    })
    .collect()
}

fn parse(id: &str, (kind, name_ok): Kind) -> Result<ResourceId, IdProblem> {
    ResourceId::parse(id, kind, name_ok)
}

fn id_error(at: &str, id: &str, kind: &str, problem: &IdProblem) -> Diagnostic {
    Diagnostic::error(
        Code::ResourceIdInvalid,
        format!("`{id}` is not the ID of a {kind}: {problem}"),
        Label::value(at, "not a resource ID"),
    )
    .with_help(format!(
        "copy the ID from `az resource show --query id`: /subscriptions/<id>/resourceGroups/<group>/providers/{kind}/<name>"
    ))
}

/// With `dns: existing`: each zone the endpoints need is given, each given zone is one amlgen
/// knows and needs, and its ID parses and names that zone. Other modes read no zones.
fn zones(spec: &Spec) -> Vec<Diagnostic> {
    let Some(settings) = &spec.network.private_endpoints else {
        return Vec::new();
    };
    let at = |zone: &str| pointer("/network/private_endpoints/zones", zone);
    if settings.dns != Dns::Existing {
        return settings
            .zones
            .keys()
            .next()
            .map(|_| {
                Diagnostic::warning(
                    Code::PrivateEndpointsUnused,
                    "`network.private_endpoints.zones` is set, but only `dns: existing` reads it",
                    Label::key("/network/private_endpoints/zones", "no effect"),
                )
                .with_help("set `dns: existing` to use these zones, or remove `zones`")
            })
            .into_iter()
            .collect();
    }
    let needed = plan::needed_zones(&plan::endpoint_targets(spec));
    let mut found = super::duplicate_names(
        "zones",
        settings.zones.keys().map(|zone| (at(zone), zone.as_str())),
        "a zone is named once",
    );
    for (zone, id) in &settings.zones {
        match Target::of_zone(zone) {
            None => found.push(unknown_zone(spec, zone, &at(zone))),
            Some((cloud, _)) if cloud != plan::CLOUD => found.push(
                Diagnostic::error(
                    Code::DnsZoneUnknown,
                    format!("`{zone}` is a private DNS zone of {}, but `{}` is a region of the {}", cloud.name(), spec.location, plan::CLOUD.name()),
                    Label::key(at(zone), "another cloud's zone"),
                )
                .with_help("name the zones of the region's cloud"),
            ),
            Some(_) if !needed.iter().any(|n| n.eq_ignore_ascii_case(zone)) => found.push(
                Diagnostic::warning(
                    Code::PrivateEndpointsUnused,
                    format!("zone `{zone}` is given, but no private endpoint amlgen creates resolves in it"),
                    Label::key(at(zone), "not needed"),
                )
                .with_help("remove it, or create the endpoint that needs it (`batch_endpoints: true` for queue and table)"),
            ),
            Some(_) => match parse(id, ZONE) {
                Err(problem) => found.push(id_error(&at(zone), id, ZONE.0, &problem)),
                Ok(parsed) if !parsed.name.eq_ignore_ascii_case(zone) => found.push(
                    Diagnostic::error(
                        Code::ResourceIdInvalid,
                        format!("the ID given for zone `{zone}` names zone `{}`", parsed.name),
                        Label::value(at(zone), "another zone's ID"),
                    )
                    .with_help("give each zone its own ID"),
                ),
                Ok(_) => {}
            },
        }
    }
    for zone in needed {
        if !settings.zones.keys().any(|z| z.eq_ignore_ascii_case(zone)) {
            found.push(
                Diagnostic::error(
                    Code::DnsZoneMissing,
                    format!("with `dns: existing`, the private endpoints need zone `{zone}`, which `zones` does not give"),
                    Label::value("/network/private_endpoints/dns", "existing zones"),
                )
                .with_help(format!("add `{zone}: <its resource ID>` to `network.private_endpoints.zones`")),
            );
        }
    }
    found
}

/// `dns-zone-unknown` for a name no endpoint resolves in, with the nearest known one.
fn unknown_zone(spec: &Spec, zone: &str, at: &str) -> Diagnostic {
    let known = plan::needed_zones(&plan::endpoint_targets(spec));
    let nearest = crate::suggest::closest(zone, known.iter().copied());
    let help = match nearest {
        Some(name) => format!(
            "did you mean `{name}`? (Key Vault's zone is `privatelink.vaultcore.azure.net`, not `privatelink.vault.azure.net`)"
        ),
        None => "name the zones Microsoft lists for the endpoints' sub-resources".to_string(),
    };
    Diagnostic::error(
        Code::DnsZoneUnknown,
        format!("`{zone}` is not a private DNS zone of any endpoint amlgen creates"),
        Label::key(at, "unknown zone"),
    )
    .with_help(help)
}

/// Docker's default bridge network, which Azure ML compute keeps for its containers.
const DOCKER_BRIDGE: Ipv4Net = Ipv4Net::new_assert(std::net::Ipv4Addr::new(172, 17, 0, 0), 16);

/// `vnet-docker-bridge`: the address space overlaps Docker's bridge while the VNet hosts Azure ML
/// compute, whose containers would not reach those addresses.
fn docker_bridge(spec: &Spec) -> Vec<Diagnostic> {
    let hosts_aml = spec.compute.iter().any(|c| c.aml_node().is_some());
    if !hosts_aml {
        return Vec::new();
    }
    spec.network
        .vnet
        .address_space
        .iter()
        .enumerate()
        .filter_map(|(i, range)| {
            let net: Ipv4Net = range.parse().ok()?;
            (net.contains(&DOCKER_BRIDGE.network()) || DOCKER_BRIDGE.contains(&net.network())).then(|| {
                Diagnostic::error(
                    Code::VnetDockerBridge,
                    format!("address range {net} overlaps {DOCKER_BRIDGE}, Docker's bridge network on Azure ML compute: jobs could not reach addresses there"),
                    Label::value(format!("/network/vnet/address_space/{i}"), "overlaps 172.17.0.0/16"),
                )
                .with_help("choose an address space outside 172.17.0.0/16")
            })
        })
        .collect()
}

/// `workspace-private-endpoint-assumed`: no-public-IP compute relies on a private endpoint of a
/// referenced workspace that the spec says exists (`private_endpoint: true`); amlgen cannot see
/// it.
fn assumed_endpoint(spec: &Spec) -> Option<Diagnostic> {
    if spec.workspace.private_endpoint != WorkspaceEndpoint::Elsewhere || spec.workspace.create {
        return None;
    }
    let (i, compute) = spec
        .compute
        .iter()
        .enumerate()
        .find(|(_, c)| c.aml_node().is_some_and(|n| !n.public_ip))?;
    Some(
        Diagnostic::warning(
            Code::WorkspacePrivateEndpointAssumed,
            format!("compute `{}` has no public IP, so it reaches the workspace only through a private endpoint that this spec says exists elsewhere; amlgen cannot check it", compute.name()),
            Label::value("/workspace/private_endpoint", "exists elsewhere"),
        )
        .with_label(Label::value(format!("{}/enable_node_public_ip", compute_pointer(i)), "no public IP"))
        .with_help("make sure the workspace's private endpoint resolves from this VNet, or set `private_endpoint: create` to create it here"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::spec;
    use serde_json::json;

    fn codes(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<Code> {
        check(&spec(edit)).iter().map(|d| d.code).collect()
    }

    fn created(v: &mut serde_json::Value) {
        v["workspace"]["create"] = json!(true);
        v["workspace"]
            .as_object_mut()
            .unwrap()
            .remove("private_endpoint");
        v["network"]["subnets"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "snet-pe", "address_prefix": "10.0.9.0/27"}));
        v["network"]["private_endpoints"] = json!({"subnet": "snet-pe"});
    }

    #[test]
    fn a_created_workspace_with_its_endpoint_subnet_passes() {
        assert_eq!(codes(created), []);
    }

    #[test]
    fn resource_id_parts_are_never_trusted() {
        let found = codes(|v| {
            created(v);
            v["workspace"]["key_vault"] = json!({"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv'x"});
        });
        assert_eq!(found, [Code::ResourceIdInvalid]);
    }

    #[test]
    fn a_created_workspace_without_azure_ml_compute_warns_that_no_image_can_be_built() {
        let found = check(&spec(|v| {
            created(v);
            v["compute"] = json!([{"name": "vm-a", "type": "virtualmachine", "subnet": "snet-a"}]);
        }));
        let codes: Vec<(Code, bool)> = found.iter().map(|d| (d.code, d.is_error())).collect();
        assert_eq!(codes, [(Code::ImageBuildCompute, false)]);
    }

    #[test]
    fn the_image_builder_amlgen_adds_takes_a_name_no_compute_has() {
        let spec = spec(|v| {
            created(v);
            v["compute"] = json!([
                {"name": "image-build", "type": "amlcompute", "size": "Standard_NC24ads_A100_v4", "subnet": "snet-a"},
                {"name": "Image-Build-2", "type": "computeinstance", "subnet": "snet-a"}
            ]);
        });
        let builder = spec.image_builder().unwrap();
        assert_eq!(builder.name(), Some("image-build-3"));
    }

    #[test]
    fn hub_zones_are_named_once_whatever_their_case() {
        let zone = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/privatelink.api.azureml.ms";
        let found = codes(|v| {
            created(v);
            v["network"]["private_endpoints"]["dns"] = json!("existing");
            v["network"]["private_endpoints"]["zones"] =
                json!({"privatelink.api.azureml.ms": zone, "PrivateLink.API.azureml.ms": zone});
        });
        assert!(found.contains(&Code::NameDuplicate), "{found:?}");
    }

    #[test]
    fn a_docker_bridge_overlap_is_refused_only_with_azure_ml_compute() {
        let edit = |v: &mut serde_json::Value| {
            v["network"]["vnet"]["address_space"] = json!(["172.16.0.0/12"])
        };
        assert!(codes(edit).contains(&Code::VnetDockerBridge));
    }
}
