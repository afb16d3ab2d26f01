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
    let compiled = amlgen::compile(Source::new("scenario.yaml", text), Path::new("."))
        .unwrap()
        .remove(0);
    let plan = compiled
        .plan
        .unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    let artifacts = crate::harness::render_verified(&plan);
    serde_json::from_str(
        &artifacts
            .iter()
            .find(|a| a.name == "azuredeploy.json")
            .unwrap()
            .contents,
    )
    .unwrap()
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
