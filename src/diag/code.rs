//! The stable diagnostic codes.
//!
//! Codes are part of amlgen's interface: users grep for them, suppress them in CI logs and link to
//! `docs/diagnostics.md`. A code is never renamed or reused; the list is kept in one table so the
//! docs, the fixtures test and the renderer all read the same names.

macro_rules! codes {
    ($($variant:ident => $name:literal, $summary:literal;)*) => {
        /// A stable, kebab-case diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as users see it, e.g. `cidr-overlap`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// One sentence saying what the code means.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                }
            }
        }
    };
}

codes! {
    YamlSyntax => "yaml-syntax", "The spec is not well-formed YAML, or uses a YAML feature amlgen refuses (tags outside the core schema, complex keys, several documents).";
    YamlEncoding => "yaml-encoding", "The spec is not UTF-8 text; the position of the first byte that is not is given.";
    YamlTooDeep => "yaml-too-deep", "Mappings and lists nest more than 32 levels deep (a spec needs five).";
    YamlKeyType => "yaml-key-type", "A key YAML reads as a number, boolean or null (`1.50`, `0x1F`, `True`, `~`) instead of the text written; quote it.";
    YamlDuplicateKey => "yaml-duplicate-key", "A mapping names the same key twice; YAML parsers would silently keep one of them.";
    SchemaUnknownKey => "schema-unknown-key", "A key that the spec format does not define (often a typo).";
    SchemaMissingKey => "schema-missing-key", "A required key is missing.";
    SchemaType => "schema-type", "A value has the wrong type (for example a number where a string is required, or `4.0` where an integer is).";
    SchemaValue => "schema-value", "A value is outside what the spec format allows (pattern, enumeration, range, length).";
    RegionUnknown => "region-unknown", "A region is not a known Azure region.";
    RegionMismatch => "region-mismatch", "The workspace region differs from the spec's `location`.";
    RegionNoPair => "region-no-pair", "The region has no paired region, so `forced_tunnel.secondary_region` must be given.";
    NameDuplicate => "name-duplicate", "Two subnets, two computes or two tags share a name (compared without regard to case, as Azure does).";
    NameTooLong => "name-too-long", "A resource name amlgen derives from the spec exceeds Azure's limit.";
    CidrHostBits => "cidr-host-bits", "An address prefix has host bits set (10.0.0.1/24 instead of 10.0.0.0/24).";
    CidrOutsideVnet => "cidr-outside-vnet", "A subnet is not inside the VNet's address space.";
    CidrOverlap => "cidr-overlap", "Two subnets, or two ranges of the address space, overlap.";
    CidrReserved => "cidr-reserved", "An address-space range includes addresses Azure does not allow in a VNet (multicast, broadcast, loopback, link-local, 168.63.129.16).";
    SubnetUnknown => "subnet-unknown", "A compute or `network.private_endpoints` names a subnet that `network.subnets` does not define.";
    SubnetTooSmall => "subnet-too-small", "A subnet is smaller than Azure's smallest, /29, or has fewer usable addresses than its computes need (Azure reserves five per subnet).";
    SubnetDelegated => "subnet-delegated", "A subnet hosting Azure ML compute, a VM or HDInsight is delegated to a service.";
    SubnetNotDelegated => "subnet-not-delegated", "A Databricks subnet is not delegated to `Microsoft.Databricks/workspaces`.";
    SubnetShared => "subnet-shared", "A Databricks subnet is also used by another compute, by another Databricks workspace, or as both subnets of one workspace.";
    DatabricksSubnetSize => "databricks-subnet-size", "A Databricks subnet is smaller than /26.";
    DatabricksVnetSize => "databricks-vnet-size", "The address range holding a Databricks workspace's subnets is not between /16 and /24.";
    DefaultSubnetMissing => "default-subnet-missing", "A spec with Databricks has no subnet named `default` (an error under `guide-2021`, a warning under `current`).";
    VmImageUnsupported => "vm-image-unsupported", "A virtual machine's `image` is not an Ubuntu image Azure ML can attach.";
    HdinsightOutboundLocked => "hdinsight-outbound-locked", "An HDInsight cluster is in a subnet whose outbound traffic is locked by NSG rules, which HDInsight does not support.";
    NoPublicIpNeedsPrivateEndpoint => "no-public-ip-needs-private-endpoint", "Compute without public IPs needs the workspace's private endpoint.";
    EgressSettingsUnused => "egress-settings-unused", "A `nat` or `forced_tunnel` section is given, but `egress` selects another mode (an error); or a `forced_tunnel` key only `routes: ip_prefixes` reads is set with service-tag routes (a warning).";
    DefaultOutboundAccess => "default-outbound-access", "Compute relies on Azure's default outbound access, which Azure is retiring.";
    NextHopInvalid => "next-hop-invalid", "The forced-tunnelling next hop is not a private address, lies inside a compute subnet, or lies in the VNet's address space but in none of its subnets.";
    RouteTableMixed => "route-table-mixed", "Under forced tunnelling, one subnet holds compute with a public address and compute without one, which no single route table can serve.";
    ServiceTagsUnreadable => "service-tags-unreadable", "The service-tags file cannot be read or is not in Microsoft's format.";
    ServiceTagMissing => "service-tag-missing", "The service-tags file lacks a tag the routes need.";
    ServiceTagPrefixInvalid => "service-tag-prefix-invalid", "A tag the routes need has no IPv4 prefix in the service-tags file, an entry that is not an IP prefix, or a prefix that has host bits set or would route the VNet itself or everything.";
    RouteLimit => "route-limit", "The route table would exceed Azure's limit of 400 routes or 25 service-tag routes.";
    InstancesMinAboveMax => "instances-min-above-max", "A cluster's `min_instances` exceeds its `max_instances`.";
    SshWithoutSource => "ssh-without-source", "A compute enables SSH, but `network.ssh.allow_from` names no source, so the subnet NSG blocks it.";
    SshSourceUnused => "ssh-source-unused", "`network.ssh.allow_from` is set, but no compute enables SSH.";
    SpecNameDuplicate => "spec-name-duplicate", "Two specs of one run share a `name`, so they would render into the same output folder.";
    SshOpenToInternet => "ssh-open-to-internet", "`network.ssh.allow_from` holds a prefix shorter than /8 (such as 0.0.0.0/0), which opens SSH to much of the internet.";
    Guide2021Locked => "guide-lockdown-blocks-batch", "`requirements: guide-2021` with `outbound: locked` blocks Azure Batch's node communication, which needs outbound TCP 443 since classic mode retired on 2026-03-31.";
    VmSizeRetired => "vm-size-retired", "A VM size belongs to a series Azure has retired, so it can no longer be provisioned.";
    HdinsightAttachSdkV1 => "hdinsight-attach-sdk-v1", "Under `requirements: current`, an HDInsight cluster is attached to the workspace, which only the Azure ML Python SDK v1 supports, and SDK v1 support ended on 2026-06-30.";
    SshNoPublicIp => "ssh-no-public-ip", "A cluster or compute instance enables SSH but has no public IP, so SSH reaches its nodes only from inside the VNet or peered networks, never from the internet.";
    DatabricksFirewallOnly => "databricks-firewall-only", "With Databricks, forced tunnelling and `outbound: locked`, Databricks' mandatory VNet-to-VNet rule matches every destination, so the NSG's `DenyInternetOutbound` never fires for its subnets and the firewall is their only egress control.";
    DatabricksPublicIpTunnel => "databricks-public-ip-tunnel", "A Databricks workspace without secure cluster connectivity (`no_public_ip: false`) under forced tunnelling: its mandatory worker-to-worker rule admits every internet source to nodes with public IPs.";
    YamlAliasBudget => "yaml-alias-budget", "The spec's anchors and aliases copy more than 100,000 nodes or 16 MiB of text in all.";
    SpecUnreadable => "spec-unreadable", "A spec of the run cannot be read: it does not exist, is not a regular file, cannot be opened or is larger than 1 MiB; the other specs are still checked.";
    ExtendsInvalid => "extends-invalid", "A spec's `extends` cannot be followed: the base is missing or not a regular file, lies outside the folders of the specs given and their repository, the bases form a cycle or a chain longer than 16.";
    BlueprintRemove => "blueprint-remove", "A `$remove` names nothing the spec inherits, or is written where nothing is inherited.";
    BlueprintLocked => "blueprint-locked", "A spec or environment sets a key its base locks (`$lock`) to another value.";
    VnetOverlap => "vnet-overlap", "The VNet address spaces of two specs (or environments) of one run overlap, so they cannot both peer with one hub.";
    ComputeCollision => "compute-collision", "Two specs (or environments) of one run create a compute of the same name in the same workspace, so one deployment would replace the other's.";
    WorkspaceCreateSettings => "workspace-create-settings", "A key only a workspace amlgen creates reads (`hbi`, `public_network_access`, `unique_suffix`, `image_build_compute`, an existing dependency) is set without `create: true`; or a created workspace names another `resource_group` or says its private endpoint exists elsewhere.";
    PrivateEndpointsMissing => "private-endpoints-missing", "amlgen creates a private endpoint (`workspace.create: true` or `workspace.private_endpoint: create`), but `network.private_endpoints` does not name its subnet.";
    PrivateEndpointsUnused => "private-endpoints-unused", "`network.private_endpoints` is set but amlgen creates no private endpoint, or `zones` is set without `dns: existing`, or a zone is given that no endpoint needs.";
    PrivateEndpointSubnet => "private-endpoint-subnet", "The private-endpoint subnet hosts compute or is delegated.";
    ImageBuildCompute => "image-build-compute", "`workspace.image_build_compute` names no `amlcompute` cluster of the spec, or a GPU one: Azure ML builds images behind a private registry only on a CPU cluster in the VNet.";
    NameInvalid => "name-invalid", "A globally unique name amlgen derives from the spec's `name` (key vault, container registry) breaks Azure's rules for it.";
    ResourceIdInvalid => "resource-id-invalid", "A resource ID (of an existing dependency or private DNS zone) does not parse, names another type, or names another zone than its key.";
    DnsZoneMissing => "dns-zone-missing", "With `dns: existing`, a private DNS zone the endpoints resolve in is not given in `zones`.";
    DnsZoneUnknown => "dns-zone-unknown", "A zone in `zones` is not a private DNS zone of any endpoint amlgen creates, or is another cloud's.";
    VnetDockerBridge => "vnet-docker-bridge", "The VNet's address space overlaps 172.17.0.0/16, Docker's bridge network on Azure ML compute.";
    WorkspacePrivateEndpointAssumed => "workspace-private-endpoint-assumed", "Compute without public IPs relies on a private endpoint of a referenced workspace that the spec says exists (`private_endpoint: true`), which amlgen cannot check.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        // Words of lowercase letters and digits (`sdk-v1`), each starting with a letter.
        for name in &names {
            assert!(
                name.split('-').all(|word| {
                    word.starts_with(|c: char| c.is_ascii_lowercase())
                        && word
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                }),
                "{name}"
            );
        }
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
