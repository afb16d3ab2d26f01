//! Reads Microsoft's "Azure IP Ranges and Service Tags" JSON file.
//!
//! The file (downloaded weekly by users, or `az network list-service-tags -o json`) lists each
//! tag with `properties.systemService`, `properties.region` and `properties.addressPrefixes`.
//! amlgen matches on service and region, not on the display name (`BatchNodeManagement.EastUS2`),
//! and keeps IPv4 prefixes only: routes next to a `0.0.0.0/0` default route are IPv4.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    values: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    properties: Properties,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Properties {
    #[serde(default)]
    system_service: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    address_prefixes: Vec<String>,
}

/// The IPv4 prefixes of each (service, region) in a service-tags file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceTags {
    prefixes: BTreeMap<(String, String), BTreeSet<Ipv4Net>>,
}

impl ServiceTags {
    /// Parses the file's text. The error says what is wrong, in words for the user.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File =
            serde_json::from_str(text).map_err(|e| format!("not a service-tags file: {e}"))?;
        let mut prefixes: BTreeMap<(String, String), BTreeSet<Ipv4Net>> = BTreeMap::new();
        for entry in file.values {
            let p = entry.properties;
            if p.system_service.is_empty() || p.region.is_empty() {
                continue;
            }
            let set = prefixes
                .entry((p.system_service.to_lowercase(), p.region.to_lowercase()))
                .or_default();
            set.extend(
                p.address_prefixes
                    .iter()
                    .filter_map(|a| a.parse::<Ipv4Net>().ok()),
            );
        }
        Ok(Self { prefixes })
    }

    /// The IPv4 prefixes of `service` in `region` (e.g. `BatchNodeManagement`, `eastus2`), sorted;
    /// `None` when the file has no such tag.
    /// Adds `prefixes` to the tag `service.region`.
    pub fn insert(&mut self, service: &str, region: &str, prefixes: &[Ipv4Net]) {
        self.prefixes
            .entry((service.to_lowercase(), region.to_lowercase()))
            .or_default()
            .extend(prefixes);
    }

    /// The tags (`Service.region`) with a prefix that holds all of `net`.
    pub fn owners<'a>(&'a self, net: &'a Ipv4Net) -> impl Iterator<Item = String> + 'a {
        self.prefixes
            .iter()
            .filter(move |(_, set)| set.iter().any(|p| p.contains(net)))
            .map(|((service, region), _)| format!("{service}.{region}"))
    }

    /// The prefixes of `service` in every region the file holds.
    pub fn service_prefixes(&self, service: &str) -> impl Iterator<Item = &Ipv4Net> {
        let service = service.to_lowercase();
        self.prefixes
            .iter()
            .filter(move |((s, _), _)| *s == service)
            .flat_map(|(_, set)| set)
    }

    pub fn prefixes(&self, service: &str, region: &str) -> Option<&BTreeSet<Ipv4Net>> {
        self.prefixes
            .get(&(service.to_lowercase(), region.to_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"changeNumber": 1, "cloud": "Public", "values": [
        {"name": "BatchNodeManagement.EastUS2", "id": "BatchNodeManagement.EastUS2",
         "properties": {"changeNumber": 1, "region": "eastus2", "regionId": 1, "platform": "Azure",
                        "systemService": "BatchNodeManagement",
                        "addressPrefixes": ["20.1.2.0/24", "2603:1030::/64", "13.0.0.0/28"]}},
        {"name": "AzureCloud", "id": "AzureCloud", "properties": {"region": "", "addressPrefixes": ["1.0.0.0/8"]}}
    ]}"#;

    #[test]
    fn keeps_sorted_ipv4_prefixes_by_service_and_region() {
        let tags = ServiceTags::parse(SAMPLE).unwrap();
        let found: Vec<String> = tags
            .prefixes("batchnodemanagement", "EastUS2")
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found, ["13.0.0.0/28", "20.1.2.0/24"]);
        assert!(tags.prefixes("AzureMachineLearning", "eastus2").is_none());
    }

    #[test]
    fn rejects_other_json() {
        assert!(
            ServiceTags::parse("{\"x\": 1}")
                .unwrap_err()
                .contains("not a service-tags file")
        );
    }
}
