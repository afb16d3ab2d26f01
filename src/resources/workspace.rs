//! A created workspace and its dependencies, hardened; the private endpoints with their DNS
//! (zones linked to the VNet and zone groups, existing zones, or none for Azure Policy); and the
//! role assignments the setup needs. Every setting follows part 2 of Microsoft's guide, "Secure an
//! Azure Machine Learning workspace with virtual networks"; a scanner check a setting does not
//! meet is suppressed with the reason.

use super::Builder;
use crate::azure::private_link::Target;
use crate::azure::resource::ResourceKind;
use crate::azure::resource_id::ResourceId;
use crate::azure::roles::{self, Role};
use crate::model::{Expr, Object, Resource, Value};
use crate::plan::{CreatedWorkspace, Dependency, Endpoint, GlobalName, PrivateEndpoints, Zone};
use crate::spec::Dns;

/// The IDs of a created workspace's dependencies, for their private endpoints.
#[derive(Debug, Default)]
pub(super) struct Targets {
    storage: Option<Expr>,
    key_vault: Option<Expr>,
    registry: Option<Expr>,
}

/// The workspace's type, for IDs built from its name.
const WORKSPACE_TYPE: &str = "Microsoft.MachineLearningServices/workspaces";

/// The created workspace with its dependencies, then the private endpoints and their DNS, then
/// the role assignments; nothing for a referenced workspace without `private_endpoint: create`.
pub(super) fn resources(b: &mut Builder) -> Vec<Resource> {
    let mut out = Vec::new();
    if let Some(created) = &b.plan.workspace.created {
        out.extend(created_workspace(b, created));
    }
    if let Some(endpoints) = &b.plan.private_endpoints {
        out.extend(private_endpoints(b, endpoints));
    }
    out.extend(role_assignments(b));
    out
}

/// The ID of a resource outside this template, from its checked parts.
fn external(id: &ResourceId) -> Expr {
    Expr::ResourceIdIn {
        subscription: Some(id.subscription.clone()),
        group: Some(id.resource_group.clone()),
        kind: id.kind,
        name: id.name.clone(),
    }
}

/// A global name as the model writes it: text, or text and `uniqueString(resourceGroup().id)`.
fn name_value(name: &GlobalName) -> Value {
    if name.unique {
        Value::Expr(Expr::prefixed(
            name.text.clone(),
            Expr::UniqueString(vec![Expr::ResourceGroupId]),
        ))
    } else {
        Value::from(&name.text)
    }
}

/// Declares a dependency amlgen creates, with `build`; gives its ID, and its symbol when it is
/// declared here.
fn declare(
    b: &mut Builder,
    dependency: &Dependency,
    prefix: &str,
    out: &mut Vec<Resource>,
    build: impl FnOnce(&mut Builder, String, &GlobalName) -> Vec<Resource>,
) -> (Expr, Option<String>) {
    match dependency {
        Dependency::Create(name) => {
            let symbol = b.symbols.claim(prefix, "");
            out.extend(build(b, symbol.clone(), name));
            (Expr::Id(symbol.clone()), Some(symbol))
        }
        Dependency::Existing(id) => (external(id), None),
    }
}

/// Log Analytics and Application Insights, storage, key vault, registry, then the workspace.
fn created_workspace(b: &mut Builder, created: &CreatedWorkspace) -> Vec<Resource> {
    let mut out = Vec::new();
    let (insights, _) = declare(
        b,
        &created.insights,
        "appInsights",
        &mut out,
        |b, symbol, name| {
            let log = b.symbols.claim("logAnalytics", "");
            vec![
                log_analytics(b, log.clone(), &created.log_analytics),
                application_insights(b, symbol, name, &log),
            ]
        },
    );
    let (storage, storage_symbol) = declare(
        b,
        &created.storage,
        "storage",
        &mut out,
        |b, symbol, name| vec![storage_account(b, symbol, name, created)],
    );
    let (key_vault, _) = declare(
        b,
        &created.key_vault,
        "keyVault",
        &mut out,
        |b, symbol, name| vec![vault(b, symbol, name)],
    );
    let (registry, _) = declare(
        b,
        &created.registry,
        "registry",
        &mut out,
        |b, symbol, name| vec![container_registry(b, symbol, name)],
    );
    let ids = Object::new()
        .with("storageAccount", storage.clone())
        .with("keyVault", key_vault.clone())
        .with("containerRegistry", registry.clone())
        .with("applicationInsights", insights);
    let symbol = b.symbols.claim("workspace", "");
    b.refs.workspace = Some(symbol.clone());
    b.refs.storage = storage_symbol;
    b.refs.targets = Targets {
        storage: Some(storage),
        key_vault: Some(key_vault),
        registry: Some(registry),
    };
    out.push(workspace(b, symbol, ids, created));
    out
}

fn log_analytics(b: &Builder, symbol: String, name: &str) -> Resource {
    b.located(
        ResourceKind::LogAnalytics,
        symbol,
        name,
        "Log Analytics workspace that Application Insights writes to.".to_string(),
    )
    .with(
        "properties",
        Object::new()
            .with("sku", Object::new().with("name", "PerGB2018"))
            .with("retentionInDays", 30u32),
    )
}

fn application_insights(b: &Builder, symbol: String, name: &GlobalName, log: &str) -> Resource {
    b.located(
        ResourceKind::ApplicationInsights,
        symbol,
        name_value(name),
        "Workspace-based Application Insights of the workspace (classic ones can no longer be created). Ingestion and query stay public: closing them needs an Azure Monitor Private Link Scope, in the open mode Azure ML requires.".to_string(),
    )
    .with("kind", "web")
    .with(
        "properties",
        Object::new()
            .with("Application_Type", "web")
            .with("WorkspaceResourceId", Expr::Id(log.to_string()))
            .with("IngestionMode", "LogAnalytics")
            .with("publicNetworkAccessForIngestion", "Enabled")
            .with("publicNetworkAccessForQuery", "Enabled"),
    )
}

/// The suppression of checkov's naming check for a name only the deployment completes.
fn computed_name(resource: Resource, name: &GlobalName, rule: &str) -> Resource {
    if name.unique {
        resource.suppress(
            "CKV_AZURE_43",
            format!("the name is computed at deployment: '{}' and uniqueString(resourceGroup().id), {rule}", name.text),
        )
    } else {
        resource
    }
}

fn storage_account(
    b: &Builder,
    symbol: String,
    name: &GlobalName,
    created: &CreatedWorkspace,
) -> Resource {
    let workspace = Expr::ResourceIdIn {
        subscription: None,
        group: None,
        kind: WORKSPACE_TYPE,
        name: b.plan.workspace.name.clone(),
    };
    let instance = Object::new()
        .with("tenantId", Expr::TenantId)
        .with("resourceId", workspace);
    let firewall = Object::new()
        .with("bypass", "AzureServices")
        .with("defaultAction", "Deny")
        .with("resourceAccessRules", vec![Value::from(instance)]);
    let identity = created.identity_datastores;
    let storage = b
        .located(
            ResourceKind::StorageAccount,
            symbol,
            name_value(name),
            "Default storage of the workspace: reached through its private endpoints; the firewall admits only the workspace itself (a resource-instance rule) and trusted Azure services.".to_string(),
        )
        .with("sku", Object::new().with("name", "Standard_GRS"))
        .with("kind", "StorageV2")
        .with(
            "properties",
            Object::new()
                .with("accessTier", "Hot")
                .with("allowBlobPublicAccess", false)
                .with("allowCrossTenantReplication", false)
                .with("allowSharedKeyAccess", !identity)
                .with("defaultToOAuthAuthentication", identity)
                .with("isHnsEnabled", false)
                .with("minimumTlsVersion", "TLS1_2")
                .with("supportsHttpsTrafficOnly", true)
                .with("publicNetworkAccess", "Enabled")
                .with("networkAcls", firewall),
        )
        .suppress(
            "CKV_AZURE_59",
            "Microsoft's guide sets the default storage to selected networks with a resource-instance rule for the workspace, which studio's data access goes through; no network is allowed (defaultAction Deny, no IP or VNet rules), and publicNetworkAccess Disabled would drop the rule",
        );
    computed_name(storage, name, "24 lowercase characters at most")
}

fn vault(b: &Builder, symbol: String, name: &GlobalName) -> Resource {
    let vault = b
        .located(
            ResourceKind::KeyVault,
            symbol,
            name_value(name),
            "Key vault of the workspace: Azure RBAC (access policies would be wiped by a redeployment), purge protection, reached only through its private endpoint.".to_string(),
        )
        .with(
            "properties",
            Object::new()
                .with("tenantId", Expr::TenantId)
                .with(
                    "sku",
                    Object::new().with("family", "A").with("name", "standard"),
                )
                .with("enableRbacAuthorization", true)
                .with("enableSoftDelete", true)
                .with("softDeleteRetentionInDays", 90u32)
                .with("enablePurgeProtection", true)
                .with("publicNetworkAccess", "Disabled")
                .with(
                    "networkAcls",
                    Object::new()
                        .with("bypass", "AzureServices")
                        .with("defaultAction", "Deny"),
                ),
        );
    computed_name(vault, name, "24 characters at most")
}

fn container_registry(b: &Builder, symbol: String, name: &GlobalName) -> Resource {
    let registry = b
        .located(
            ResourceKind::ContainerRegistry,
            symbol,
            name_value(name),
            "Container registry of the workspace: Premium, as a private endpoint requires; public access off, trusted Azure services allowed, images built by the workspace's image-build cluster.".to_string(),
        )
        .with("sku", Object::new().with("name", "Premium"))
        .with(
            "properties",
            Object::new()
                .with("adminUserEnabled", false)
                .with("anonymousPullEnabled", false)
                .with("dataEndpointEnabled", false)
                .with("publicNetworkAccess", "Disabled")
                .with("networkRuleBypassOptions", "AzureServices"),
        )
        .suppress(
            "CKV_AZURE_166",
            "a quarantined image cannot be pulled until a scanner releases it, and Azure ML has no step that does: the environments it builds here would never run",
        );
    computed_name(registry, name, "50 letters and digits at most")
}

fn workspace(b: &Builder, symbol: String, ids: Object, created: &CreatedWorkspace) -> Resource {
    let plan = b.plan;
    let serverless = created.serverless.as_ref().map(|s| {
        let subnet = Expr::SubnetId {
            vnet: b.refs.vnet.clone(),
            subnet: s.subnet.clone(),
        };
        Object::new()
            .with("serverlessComputeCustomSubnet", subnet)
            .with("serverlessComputeNoPublicIP", s.no_public_ip)
    });
    let access = if created.public_network_access {
        "Enabled"
    } else {
        "Disabled"
    };
    let mode = if created.identity_datastores {
        "Identity"
    } else {
        "AccessKey"
    };
    let properties = Object::new()
        .with("friendlyName", &plan.workspace.name)
        .with("publicNetworkAccess", access)
        .with("v1LegacyMode", false)
        .with("hbiWorkspace", created.hbi)
        .with("systemDatastoresAuthMode", mode)
        .with_some("imageBuildCompute", created.image_build_compute.as_ref())
        .with_some("serverlessComputeSettings", serverless)
        .with(
            "managedNetwork",
            Object::new().with("isolationMode", "Disabled"),
        );
    let properties = Object(ids.0.into_iter().chain(properties.0).collect());
    b.located(
        ResourceKind::Workspace,
        symbol,
        &plan.workspace.name,
        match &created.image_build_compute {
            Some(cluster) => format!(
                "The Azure ML workspace, reached through its private endpoint; images build on cluster {cluster}."
            ),
            None => "The Azure ML workspace, reached through its private endpoint.".to_string(),
        },
    )
    .with("identity", Object::new().with("type", "SystemAssigned"))
    .with("sku", Object::new().with("name", "Basic").with("tier", "Basic"))
    .with("properties", properties)
    .suppress(
        "CKV_AZURE_243",
        "the computes run in this template's own VNet, which a managed network would replace; the workspace's private endpoint is created here",
    )
}

/// The zones amlgen creates with their VNet links, then each endpoint with its zone group.
fn private_endpoints(b: &mut Builder, plan: &PrivateEndpoints) -> Vec<Resource> {
    let mut out = Vec::new();
    let mut zone_ids: Vec<(&str, Expr)> = Vec::new();
    for zone in &plan.zones {
        match &zone.existing {
            Some(id) => zone_ids.push((zone.name, external(id))),
            None => {
                let symbol = b.symbols.claim("zone", zone.name);
                out.push(private_zone(b, symbol.clone(), zone));
                out.push(vnet_link(b, &symbol));
                b.refs.waits.push(out[out.len() - 1].symbol.clone());
                zone_ids.push((zone.name, Expr::Id(symbol)));
            }
        }
    }
    for endpoint in &plan.endpoints {
        let Some(target) = target_id(b, endpoint.target) else {
            continue;
        };
        let symbol = b.symbols.claim("pe", endpoint.target.group_id());
        out.push(private_endpoint(
            b,
            symbol.clone(),
            endpoint,
            target,
            &plan.subnet,
        ));
        if endpoint.target == Target::Blob || endpoint.target == Target::File {
            b.refs.storage_endpoints.push(symbol.clone());
        }
        if plan.dns == Dns::Policy {
            b.refs.waits.push(symbol);
            continue;
        }
        // The zone group waits for its endpoint: computes wait for the group.
        let group = zone_group(b, &symbol, endpoint, &zone_ids);
        b.refs.waits.push(group.symbol.clone());
        out.push(group);
    }
    out
}

fn private_zone(b: &Builder, symbol: String, zone: &Zone) -> Resource {
    Resource::new(
        ResourceKind::PrivateDnsZone,
        symbol,
        zone.name,
        format!("Private DNS zone {}, linked to the VNet.", zone.name),
    )
    .with("location", "global")
    .with_tags(b)
    .with("properties", Object::new())
}

fn vnet_link(b: &mut Builder, zone: &str) -> Resource {
    let symbol = b.symbols.claim(zone, "link");
    let vnet_name = &b.plan.vnet.name;
    Resource {
        parent: Some(zone.to_string()),
        ..Resource::new(
            ResourceKind::VirtualNetworkLink,
            symbol,
            format!("{vnet_name}-link"),
            format!("Resolves the zone's records in VNet {vnet_name}."),
        )
        .with("location", "global")
        .with_tags(b)
        .with(
            "properties",
            Object::new()
                .with("registrationEnabled", false)
                .with("virtualNetwork", Value::id(Expr::Id(b.refs.vnet.clone()))),
        )
    }
}

/// The ID of what an endpoint of `target` connects to: the workspace (created here, or the
/// referenced one), or a dependency amlgen creates. `None` for a dependency given by ID, which
/// the plan never makes an endpoint for.
fn target_id(b: &Builder, target: Target) -> Option<Expr> {
    let targets = &b.refs.targets;
    match target {
        Target::Workspace => Some(match &b.refs.workspace {
            Some(symbol) => Expr::Id(symbol.clone()),
            None => Expr::ResourceIdIn {
                subscription: None,
                group: b.plan.workspace.resource_group.clone(),
                kind: WORKSPACE_TYPE,
                name: b.plan.workspace.name.clone(),
            },
        }),
        Target::Blob | Target::File | Target::Queue | Target::Table => targets.storage.clone(),
        Target::Vault => targets.key_vault.clone(),
        Target::Registry => targets.registry.clone(),
    }
}

fn private_endpoint(
    b: &Builder,
    symbol: String,
    endpoint: &Endpoint,
    target: Expr,
    subnet: &str,
) -> Resource {
    let group = endpoint.target.group_id();
    let connection = Object::new().with("name", &endpoint.name).with(
        "properties",
        Object::new()
            .with("privateLinkServiceId", target)
            .with("groupIds", vec![Value::from(group)]),
    );
    b.located(
        ResourceKind::PrivateEndpoint,
        symbol,
        &endpoint.name,
        format!("Private endpoint `{group}` in subnet {subnet}."),
    )
    .with(
        "properties",
        Object::new()
            .with(
                "subnet",
                Value::id(Expr::SubnetId {
                    vnet: b.refs.vnet.clone(),
                    subnet: subnet.to_string(),
                }),
            )
            .with(
                "customNetworkInterfaceName",
                format!("{}-nic", endpoint.name),
            )
            .with(
                "privateLinkServiceConnections",
                vec![Value::from(connection)],
            ),
    )
}

/// The endpoint's records, registered in each zone its target resolves in.
fn zone_group(
    b: &mut Builder,
    endpoint: &str,
    plan: &Endpoint,
    zones: &[(&str, Expr)],
) -> Resource {
    let symbol = b.symbols.claim(endpoint, "dns");
    let configs: Vec<Value> = plan
        .target
        .zones(crate::plan::CLOUD)
        .iter()
        .filter_map(|zone| {
            let (_, id) = zones.iter().find(|(z, _)| z == zone)?;
            Some(Value::from(
                Object::new().with("name", zone.replace('.', "-")).with(
                    "properties",
                    Object::new().with("privateDnsZoneId", id.clone()),
                ),
            ))
        })
        .collect();
    Resource {
        parent: Some(endpoint.to_string()),
        ..Resource::new(
            ResourceKind::PrivateDnsZoneGroup,
            symbol,
            "default",
            "Registers the endpoint's addresses in its private DNS zones.".to_string(),
        )
        .with(
            "properties",
            Object::new().with("privateDnsZoneConfigs", configs),
        )
    }
}

/// The workspace identity's Reader role on the storage's private endpoints (studio reaches data
/// through them), and the people of `permissions.assign_to`: AzureML Data Scientist on the
/// workspace, and with identity-based datastores the two data roles on the storage.
fn role_assignments(b: &mut Builder) -> Vec<Resource> {
    let Some(workspace) = b.refs.workspace.clone() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let identity = Expr::PrincipalId(workspace.clone());
    for endpoint in b.refs.storage_endpoints.clone() {
        out.push(assignment(
            b,
            &endpoint,
            roles::READER,
            identity.clone(),
            "ServicePrincipal",
            "the workspace",
        ));
    }
    let people: Vec<_> = b
        .plan
        .role
        .iter()
        .flat_map(|r| r.assignments.clone())
        .collect();
    let identity_datastores = b
        .plan
        .workspace
        .created
        .as_ref()
        .is_some_and(|c| c.identity_datastores);
    for person in &people {
        let id = Expr::Str(person.object_id.clone());
        let who = format!("{} {}", person.principal_type, person.object_id);
        out.push(assignment(
            b,
            &workspace,
            roles::AZUREML_DATA_SCIENTIST,
            id.clone(),
            person.principal_type,
            &who,
        ));
        if let (true, Some(storage)) = (identity_datastores, b.refs.storage.clone()) {
            for role in [
                roles::STORAGE_BLOB_DATA_CONTRIBUTOR,
                roles::STORAGE_FILE_DATA_PRIVILEGED_CONTRIBUTOR,
            ] {
                out.push(assignment(
                    b,
                    &storage,
                    role,
                    id.clone(),
                    person.principal_type,
                    &who,
                ));
            }
        }
    }
    out
}

/// Storage Blob Data Contributor for each cluster's identity on the storage amlgen creates, when
/// the workspace reaches it by identity: jobs read and write data (models included) as the
/// cluster ("Set up authentication between Azure Machine Learning and other services";
/// "Disable shared key access for your workspace's storage account").
pub(super) fn cluster_roles(b: &mut Builder) -> Vec<Resource> {
    let identity = b
        .plan
        .workspace
        .created
        .as_ref()
        .is_some_and(|c| c.identity_datastores);
    let (true, Some(storage)) = (identity, b.refs.storage.clone()) else {
        return Vec::new();
    };
    let clusters = b.refs.clusters.clone();
    clusters
        .iter()
        .map(|(symbol, name)| {
            assignment(
                b,
                &storage,
                roles::STORAGE_BLOB_DATA_CONTRIBUTOR,
                Expr::PrincipalId(symbol.clone()),
                "ServicePrincipal",
                &format!("cluster {name}"),
            )
        })
        .collect()
}

/// `role` for `principal` on the resource `scope`, named by a GUID of the three.
fn assignment(
    b: &mut Builder,
    scope: &str,
    role: Role,
    principal: Expr,
    principal_type: &str,
    who: &str,
) -> Resource {
    // A cluster's is named after the cluster; the others after what they apply to.
    let prefix = match &principal {
        Expr::PrincipalId(symbol) if b.refs.clusters.iter().any(|(s, _)| s == symbol) => {
            symbol.clone()
        }
        _ => scope.to_string(),
    };
    let symbol = b.symbols.claim(&prefix, &role.name.replace(' ', "-"));
    // The principal's part of the name: the object ID, or the ID of the resource whose
    // identity it is.
    let principal_key = match &principal {
        Expr::PrincipalId(symbol) => Expr::Id(symbol.clone()),
        other => other.clone(),
    };
    let name = Expr::Guid(vec![
        Expr::Id(scope.to_string()),
        principal_key,
        Expr::Str(role.id.to_string()),
    ]);
    Resource {
        scope: Some(scope.to_string()),
        ..Resource::new(
            ResourceKind::RoleAssignment,
            symbol,
            name,
            format!("{} for {who}.", role.name),
        )
        .with(
            "properties",
            Object::new()
                .with("roleDefinitionId", Expr::RoleDefinitionId(role.id))
                .with("principalId", principal)
                .with("principalType", principal_type)
                .with("description", format!("Created by amlgen: {}.", role.name)),
        )
    }
}

impl Resource {
    /// The same resource with the spec's tags, when it has any.
    fn with_tags(self, b: &Builder) -> Resource {
        match &b.tags {
            Some(tags) => self.with("tags", tags.clone()),
            None => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::fixture::spec;
    use serde_json::json;

    fn workspace_properties(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let plan = crate::plan::build(
            &spec(|v| {
                v["workspace"] = json!({"name": "mlw-demo", "create": true});
                v["network"]["private_endpoints"] = json!({"subnet": "snet-b"});
                edit(v);
            }),
            None,
        );
        let template = crate::resources::build(&plan);
        let workspace = template
            .resources()
            .find(|r| r.kind == ResourceKind::Workspace)
            .unwrap();
        format!("{:?}", workspace.body)
    }

    #[test]
    fn the_spec_chooses_hbi_and_public_access_and_the_defaults_close_the_workspace() {
        let closed = workspace_properties(|_| {});
        assert!(
            closed.contains(r#"("publicNetworkAccess", Str("Disabled"))"#),
            "{closed}"
        );
        assert!(
            closed.contains(r#"("hbiWorkspace", Bool(false))"#),
            "{closed}"
        );
        assert!(
            closed.contains(r#"("v1LegacyMode", Bool(false))"#),
            "{closed}"
        );
        let open = workspace_properties(|v| {
            v["workspace"]["hbi"] = json!(true);
            v["workspace"]["public_network_access"] = json!(true);
        });
        assert!(
            open.contains(r#"("publicNetworkAccess", Str("Enabled"))"#),
            "{open}"
        );
        assert!(open.contains(r#"("hbiWorkspace", Bool(true))"#), "{open}");
    }

    #[test]
    fn an_existing_dependency_is_referred_to_by_its_checked_parts() {
        let id = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shared";
        let text = workspace_properties(|v| v["workspace"]["key_vault"] = json!({"id": id}));
        assert!(
            text.contains(r#"ResourceIdIn { subscription: Some("0b1f6471-1bf0-4dda-aec3-cb9272f09590"), group: Some("rg-shared"), kind: "Microsoft.KeyVault/vaults", name: "kv-shared" }"#),
            "{text}"
        );
    }
}
