//! Specs unlike any example (other region, sizes, profile, egress, workspace resource group)
//! render to templates carrying exactly the profile's rules.

use std::path::Path;

use serde_json::Value;

use amlgen::source::Source;

const SPEC: &str = "name: scenario
location: uksouth
requirements: REQUIREMENTS
workspace:
  name: mlw-scenario
  resource_group: rg-shared-ml
  private_endpoint: true
network:
  vnet:
    name: vnet-scenario
    address_space: [192.168.0.0/22]
  subnets:
    - name: snet-ml
      address_prefix: 192.168.1.0/25
  outbound: locked
  egress: EGRESS
compute:
  - name: big
    type: amlcompute
    size: Standard_E16s_v5
    subnet: snet-ml
    max_instances: 100
  - name: ci-bob
    type: computeinstance
    subnet: snet-ml
    enable_node_public_ip: false
";

fn arm(requirements: &str, egress: &str) -> Value {
    let text = SPEC
        .replace("REQUIREMENTS", requirements)
        .replace("EGRESS", egress);
    let tunnel = if egress == "forced_tunnel" {
        "  forced_tunnel:\n    next_hop_ip: 10.250.0.4\n"
    } else {
        ""
    };
    let text = text.replace("compute:\n", &format!("{tunnel}compute:\n"));
    // Under forced tunnelling one subnet cannot mix compute with and without public IPs (the
    // bypass routes would be dropped for the latter): the instance gets one too.
    let text = if egress == "forced_tunnel" {
        text.replace(
            "enable_node_public_ip: false",
            "enable_node_public_ip: true",
        )
    } else {
        text
    };
    verified_arm("scenario.yaml", text)
}

/// The ARM template the spec `text` (read as file `file`) renders to, verified first.
fn verified_arm(file: &str, text: String) -> Value {
    let compiled = amlgen::compile(Source::new(file, text), Path::new("."))
        .unwrap()
        .remove(0);
    let plan = compiled
        .plan
        .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    let artifacts = crate::harness::render_verified(&plan);
    let arm = artifacts
        .iter()
        .find(|a| a.name == "azuredeploy.json")
        .unwrap();
    serde_json::from_str(&arm.contents).unwrap()
}

fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<&'a Value> {
    template["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == kind)
        .collect()
}

fn rules(template: &Value) -> Vec<(String, String)> {
    let nsg = of_type(template, "Microsoft.Network/networkSecurityGroups")[0];
    nsg["properties"]["securityRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let peer = if r["properties"]["direction"] == "Inbound" {
                "sourceAddressPrefix"
            } else {
                "destinationAddressPrefix"
            };
            (
                r["name"].as_str().unwrap().to_string(),
                r["properties"][peer].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn current_profile_with_nat_in_another_region() {
    let template = arm("current", "nat");
    let found = rules(&template);
    let expected = [
        ("AllowAzureMachineLearningInbound", "AzureMachineLearning"),
        ("AllowVirtualNetworkOutbound", "192.168.0.0/22"),
        ("AllowAzureActiveDirectoryOutbound", "AzureActiveDirectory"),
        ("AllowAzureMachineLearningOutbound", "AzureMachineLearning"),
        (
            "AllowAzureMachineLearningUdpOutbound",
            "AzureMachineLearning",
        ),
        (
            "AllowBatchNodeManagementOutbound",
            "BatchNodeManagement.uksouth",
        ),
        ("AllowAzureResourceManagerOutbound", "AzureResourceManager"),
        ("AllowStorageOutbound", "Storage.uksouth"),
        ("AllowStorageSmbOutbound", "Storage.uksouth"),
        (
            "AllowAzureFrontDoorFrontEndOutbound",
            "AzureFrontDoor.FrontEnd",
        ),
        (
            "AllowMicrosoftContainerRegistryOutbound",
            "MicrosoftContainerRegistry",
        ),
        (
            "AllowAzureFrontDoorFirstPartyOutbound",
            "AzureFrontDoor.FirstParty",
        ),
        ("AllowAzureMonitorOutbound", "AzureMonitor"),
        ("DenyRemoteDesktopOutbound", "VirtualNetwork"),
        ("DenyInternetOutbound", "Internet"),
    ];
    assert_eq!(found, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    assert_eq!(of_type(&template, "Microsoft.Network/natGateways").len(), 1);
    let deployment = of_type(&template, "Microsoft.Resources/deployments")[0];
    assert_eq!(deployment["resourceGroup"], "rg-shared-ml");
    let computes = deployment["properties"]["template"]["resources"]
        .as_array()
        .unwrap();
    assert_eq!(
        computes[0]["properties"]["properties"]["scaleSettings"]["maxNodeCount"],
        100
    );
    assert_eq!(
        computes[0]["properties"]["properties"]["vmSize"],
        "Standard_E16s_v5"
    );
}

#[test]
fn guide_2021_profile_with_forced_tunnel() {
    let template = arm("guide-2021", "forced_tunnel");
    let names: Vec<String> = rules(&template).into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "AllowBatchNodeManagementInbound",
            "AllowAzureMachineLearningInbound",
            "AllowVnetAddressSpaceInbound",
            "AllowAzureLoadBalancerInbound",
            "DenyAllInbound",
            "AllowVirtualNetworkOutbound",
            "AllowStorageOutbound",
            "AllowAzureContainerRegistryOutbound",
            "AllowAzureMachineLearningOutbound",
            "AllowAzureResourceManagerOutbound",
            "AllowAzureActiveDirectoryOutbound",
            "DenyRemoteDesktopOutbound",
            "DenyInternetOutbound"
        ]
    );
    let table = of_type(&template, "Microsoft.Network/routeTables")[0];
    let prefixes: Vec<&str> = table["properties"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["addressPrefix"].as_str().unwrap())
        .collect();
    assert_eq!(
        prefixes,
        [
            "0.0.0.0/0",
            "BatchNodeManagement.uksouth",
            "AzureMachineLearning"
        ]
    );
    assert!(of_type(&template, "Microsoft.Network/natGateways").is_empty());
}

/// A spec whose workspace is created (`create`) or referenced with its endpoint created here
/// (`endpoint`), with DNS `dns`.
fn endpoint_spec(workspace: &str, dns: &str) -> String {
    let zones = if dns == "existing" {
        let id = |zone: &str| {
            format!(
                "      {zone}: /subscriptions/3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/{zone}\n"
            )
        };
        let names = [
            "privatelink.api.azureml.ms",
            "privatelink.notebooks.azure.net",
            "privatelink.blob.core.windows.net",
            "privatelink.file.core.windows.net",
            "privatelink.vaultcore.azure.net",
            "privatelink.azurecr.io",
        ];
        let wanted = if workspace == "create" {
            &names[..]
        } else {
            &names[..2]
        };
        format!(
            "    zones:\n{}",
            wanted.iter().map(|z| id(z)).collect::<String>()
        )
    } else {
        String::new()
    };
    let workspace = if workspace == "create" {
        "  create: true\n"
    } else {
        "  private_endpoint: create\n"
    };
    format!(
        "name: endpoints
location: swedencentral
workspace:
  name: mlw-endpoints
{workspace}network:
  vnet:
    name: vnet-endpoints
    address_space: [10.80.0.0/22]
  subnets:
    - name: snet-ml
      address_prefix: 10.80.0.0/24
    - name: snet-pe
      address_prefix: 10.80.1.0/27
  outbound: locked
  egress: nat
  private_endpoints:
    subnet: snet-pe
    dns: {dns}
{zones}compute:
  - name: gpu
    type: amlcompute
    size: Standard_NC24ads_A100_v4
    subnet: snet-ml
    max_instances: 2
    enable_node_public_ip: false
"
    )
}

/// The ARM template `text` renders to, verified first.
fn endpoint_resources(text: String) -> Value {
    verified_arm("endpoints.yaml", text)
}

#[test]
fn each_dns_mode_registers_the_endpoints_where_it_says() {
    const GROUPS: &str = "Microsoft.Network/privateEndpoints/privateDnsZoneGroups";
    const ZONES: &str = "Microsoft.Network/privateDnsZones";
    // create: the six zones, each linked to the VNet, and a zone group per endpoint.
    let created = endpoint_resources(endpoint_spec("create", "create"));
    assert_eq!(of_type(&created, ZONES).len(), 6);
    assert_eq!(
        of_type(
            &created,
            "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
        )
        .len(),
        6
    );
    assert_eq!(of_type(&created, GROUPS).len(), 5);
    // existing: no zone of its own; the groups name the hub's zones by ID.
    let existing = endpoint_resources(endpoint_spec("create", "existing"));
    assert!(of_type(&existing, ZONES).is_empty());
    let groups = of_type(&existing, GROUPS);
    assert_eq!(groups.len(), 5);
    let ids = groups[0]["properties"]["privateDnsZoneConfigs"].to_string();
    assert!(ids.contains("resourceId('3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', 'rg-hub', 'Microsoft.Network/privateDnsZones', 'privatelink.api.azureml.ms')"), "{ids}");
    assert!(ids.contains("privatelink.notebooks.azure.net"), "{ids}");
    // policy: endpoints only; the computes wait for the endpoints themselves.
    let policy = endpoint_resources(endpoint_spec("create", "policy"));
    assert!(of_type(&policy, ZONES).is_empty() && of_type(&policy, GROUPS).is_empty());
    let endpoints = of_type(&policy, "Microsoft.Network/privateEndpoints");
    assert_eq!(endpoints.len(), 5);
    let compute = of_type(
        &policy,
        "Microsoft.MachineLearningServices/workspaces/computes",
    )[0];
    let waits = compute["dependsOn"].to_string();
    assert!(waits.contains("pe-endpoints-amlworkspace"), "{waits}");
}

#[test]
fn a_referenced_workspace_gets_only_its_endpoint_and_dns_here() {
    let resources = endpoint_resources(endpoint_spec("endpoint", "create"));
    let endpoints = of_type(&resources, "Microsoft.Network/privateEndpoints");
    assert_eq!(endpoints.len(), 1);
    let connection = &endpoints[0]["properties"]["privateLinkServiceConnections"][0]["properties"];
    assert_eq!(
        connection["privateLinkServiceId"],
        "[resourceId('Microsoft.MachineLearningServices/workspaces', 'mlw-endpoints')]"
    );
    assert_eq!(connection["groupIds"], serde_json::json!(["amlworkspace"]));
    let zones: Vec<&str> = of_type(&resources, "Microsoft.Network/privateDnsZones")
        .iter()
        .map(|z| z["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        zones,
        [
            "privatelink.api.azureml.ms",
            "privatelink.notebooks.azure.net"
        ]
    );
    assert!(of_type(&resources, "Microsoft.Storage/storageAccounts").is_empty());
    assert!(
        of_type(&resources, "Microsoft.MachineLearningServices/workspaces")
            .iter()
            .all(|w| w["existing"] == true || w.get("properties").is_none())
    );
}

#[test]
fn a_created_workspace_without_a_cpu_cluster_gets_a_small_image_builder() {
    let resources = endpoint_resources(endpoint_spec("create", "create"));
    let workspace = of_type(&resources, "Microsoft.MachineLearningServices/workspaces")[0];
    assert_eq!(workspace["properties"]["imageBuildCompute"], "image-build");
    let computes = of_type(
        &resources,
        "Microsoft.MachineLearningServices/workspaces/computes",
    );
    let builder = computes
        .iter()
        .find(|c| c["name"].as_str().unwrap().ends_with("/image-build"))
        .expect("the image-build cluster");
    let settings = &builder["properties"]["properties"];
    assert_eq!(settings["vmSize"], "Standard_D2s_v3");
    assert_eq!(settings["scaleSettings"]["minNodeCount"], 0);
    assert_eq!(settings["enableNodePublicIp"], false);
    assert_eq!(builder["identity"]["type"], "SystemAssigned");
    let registry = of_type(&resources, "Microsoft.ContainerRegistry/registries")[0];
    assert_eq!(registry["sku"]["name"], "Premium");
    assert_eq!(registry["properties"]["publicNetworkAccess"], "Disabled");
}
