//! Reads Microsoft's "Azure IP Ranges and Service Tags" JSON file.
//!
//! The file (downloaded weekly by users, or `az network list-service-tags -o json`) lists each
//! tag with `properties.systemService`, `properties.region` and `properties.addressPrefixes`.
//! amlgen matches on service and region, not on the display name (`BatchNodeManagement.EastUS2`),
//! and keeps IPv4 prefixes only: routes next to a `0.0.0.0/0` default route are IPv4. A string
//! that is neither an IPv4 nor an IPv6 prefix is kept aside, so that the check of a tag the
//! routes need can report it instead of dropping it.

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
    /// The strings of each tag that are not IP prefixes (`garbage`, `20.36.242.160/33`).
    malformed: BTreeMap<(String, String), Vec<String>>,
}

/// Text that is not a service-tags file: why, as serde_json found it.
#[derive(Debug)]
pub struct NotServiceTags(serde_json::Error);

impl std::fmt::Display for NotServiceTags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a service-tags file: {}", self.0)
    }
}

impl std::error::Error for NotServiceTags {}

impl ServiceTags {
    /// Parses the file's text. The error says what is wrong, in words for the user.
    pub fn parse(text: &str) -> Result<Self, NotServiceTags> {
        let file: File = serde_json::from_str(text).map_err(NotServiceTags)?;
        let mut tags = Self::default();
        for entry in file.values {
            let p = entry.properties;
            if p.system_service.is_empty() || p.region.is_empty() {
                continue;
            }
            let key = (p.system_service.to_lowercase(), p.region.to_lowercase());
            let set = tags.prefixes.entry(key.clone()).or_default();
            for prefix in p.address_prefixes {
                if let Ok(net) = prefix.parse::<Ipv4Net>() {
                    set.insert(net);
                } else if prefix.parse::<ipnet::Ipv6Net>().is_err() {
                    tags.malformed.entry(key.clone()).or_default().push(prefix);
                }
            }
        }
        Ok(tags)
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

    /// The strings of `service` in `region` that are not IP prefixes, as written in the file.
    pub fn malformed(&self, service: &str, region: &str) -> &[String] {
        self.malformed
            .get(&(service.to_lowercase(), region.to_lowercase()))
            .map_or(&[], Vec::as_slice)
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
    fn strings_that_are_not_prefixes_are_kept_aside() {
        let text = SAMPLE.replace(
            r#""13.0.0.0/28"]"#,
            r#""13.0.0.0/28", "garbage", "20.36.242.160/33", "1.2.3.4/32', x: '"]"#,
        );
        let tags = ServiceTags::parse(&text).unwrap();
        assert_eq!(
            tags.malformed("BatchNodeManagement", "eastus2"),
            ["garbage", "20.36.242.160/33", "1.2.3.4/32', x: '"]
        );
        assert_eq!(
            tags.prefixes("BatchNodeManagement", "eastus2")
                .unwrap()
                .len(),
            2
        );
        assert!(tags.malformed("AzureCloud", "").is_empty());
    }

    #[test]
    fn rejects_other_json() {
        assert!(
            ServiceTags::parse("{\"x\": 1}")
                .unwrap_err()
                .to_string()
                .contains("not a service-tags file")
        );
    }
}
