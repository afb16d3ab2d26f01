//! The public Azure regions amlgen knows, with their paired (secondary) regions.
//!
//! Source: Microsoft Learn "Azure region pairs and nonpaired regions" (reliability-docs
//! `regions-list.md`, 2025-09-23), as summarised in `reference/azure-requirements.md` section 3.
//! Pairs are not always symmetric (westus3 pairs with eastus, eastus with westus).

/// `(programmatic name, paired region)`; `None` where Microsoft publishes no pair.
const REGIONS: &[(&str, Option<&str>)] = &[
    ("australiacentral", Some("australiacentral2")),
    ("australiacentral2", Some("australiacentral")),
    ("australiaeast", Some("australiasoutheast")),
    ("australiasoutheast", Some("australiaeast")),
    ("austriaeast", None),
    ("belgiumcentral", None),
    ("brazilsouth", Some("southcentralus")),
    ("brazilsoutheast", Some("brazilsouth")),
    ("canadacentral", Some("canadaeast")),
    ("canadaeast", Some("canadacentral")),
    ("centralindia", Some("southindia")),
    ("centralus", Some("eastus2")),
    ("chilecentral", None),
    ("denmarkeast", None),
    ("eastasia", Some("southeastasia")),
    ("eastus", Some("westus")),
    ("eastus2", Some("centralus")),
    ("francecentral", Some("francesouth")),
    ("francesouth", Some("francecentral")),
    ("germanynorth", Some("germanywestcentral")),
    ("germanywestcentral", Some("germanynorth")),
    ("indonesiacentral", None),
    ("israelcentral", None),
    ("italynorth", None),
    ("japaneast", Some("japanwest")),
    ("japanwest", Some("japaneast")),
    ("jioindiacentral", None),
    ("jioindiawest", None),
    ("koreacentral", Some("koreasouth")),
    ("koreasouth", Some("koreacentral")),
    ("malaysiawest", None),
    ("mexicocentral", None),
    ("newzealandnorth", None),
    ("northcentralus", Some("southcentralus")),
    ("northeurope", Some("westeurope")),
    ("norwayeast", Some("norwaywest")),
    ("norwaywest", Some("norwayeast")),
    ("polandcentral", None),
    ("qatarcentral", None),
    ("southafricanorth", Some("southafricawest")),
    ("southafricawest", Some("southafricanorth")),
    ("southcentralus", Some("northcentralus")),
    ("southeastasia", Some("eastasia")),
    ("southindia", Some("centralindia")),
    ("spaincentral", None),
    ("swedencentral", Some("swedensouth")),
    ("swedensouth", Some("swedencentral")),
    ("switzerlandnorth", Some("switzerlandwest")),
    ("switzerlandwest", Some("switzerlandnorth")),
    ("uaecentral", Some("uaenorth")),
    ("uaenorth", Some("uaecentral")),
    ("uksouth", Some("ukwest")),
    ("ukwest", Some("uksouth")),
    ("westcentralus", Some("westus2")),
    ("westeurope", Some("northeurope")),
    ("westindia", Some("southindia")),
    ("westus", Some("eastus")),
    ("westus2", Some("westcentralus")),
    ("westus3", Some("eastus")),
];

/// True when `name` is a known public region.
pub fn is_known(name: &str) -> bool {
    REGIONS.binary_search_by(|(n, _)| n.cmp(&name)).is_ok()
}

/// The region paired with `name`, if Microsoft publishes one.
pub fn pair(name: &str) -> Option<&'static str> {
    REGIONS
        .binary_search_by(|(n, _)| n.cmp(&name))
        .ok()
        .and_then(|i| REGIONS[i].1)
}

/// Every known region name, sorted.
pub fn names() -> impl Iterator<Item = &'static str> {
    REGIONS.iter().map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_offers_editors_every_known_region() {
        let schema: serde_json::Value = serde_json::from_str(crate::schema::SCHEMA).unwrap();
        let known: Vec<&str> = names().collect();
        for pointer in [
            "/properties/location",
            "/properties/workspace/properties/location",
            "/properties/network/properties/forced_tunnel/properties/secondary_region",
        ] {
            let examples: Vec<&str> = schema
                .pointer(&format!("{pointer}/examples"))
                .and_then(|e| e.as_array())
                .unwrap_or_else(|| panic!("{pointer} has no examples"))
                .iter()
                .filter_map(|e| e.as_str())
                .collect();
            assert_eq!(examples, known, "{pointer}");
        }
        assert!(
            schema.get("$id").is_none(),
            "the schema has no address of its own"
        );
    }

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(REGIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn every_pair_is_a_known_region() {
        for (name, pair) in REGIONS {
            if let Some(p) = pair {
                assert!(is_known(p), "{name} pairs with unknown {p}");
            }
        }
    }

    #[test]
    fn pairs_follow_microsofts_table() {
        assert_eq!(pair("eastus2"), Some("centralus"));
        assert_eq!(pair("westus3"), Some("eastus"));
        assert_eq!(pair("italynorth"), None);
        assert!(!is_known("mars"));
    }
}
