//! Azure resource IDs a spec gives (an existing key vault, a hub's private DNS zone), taken apart
//! and checked part by part, so that a template re-assembles them from parts that cannot break out
//! of a string or an expression: an ID is never pasted into a template as the spec wrote it.

/// A resource ID in a resource group: `/subscriptions/<guid>/resourceGroups/<group>/providers/
/// <namespace>/<type>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    /// The subscription, a GUID in lowercase.
    pub subscription: String,
    pub resource_group: String,
    /// The resource type, as amlgen spells it (`Microsoft.Network/privateDnsZones`).
    pub kind: &'static str,
    pub name: String,
}

/// What is wrong with an ID, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdProblem {
    /// Not `/subscriptions/.../resourceGroups/.../providers/<namespace>/<type>/<name>`.
    Shape,
    /// The subscription is not a GUID.
    Subscription(String),
    /// The resource group's name breaks Azure's rules.
    ResourceGroup(String),
    /// The ID names another type of resource.
    Kind(String),
    /// The resource's name breaks Azure's rules for its type.
    Name(String),
}

impl std::fmt::Display for IdProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdProblem::Shape => write!(
                f,
                "it is not `/subscriptions/<id>/resourceGroups/<group>/providers/<namespace>/<type>/<name>`"
            ),
            IdProblem::Subscription(s) => write!(f, "the subscription `{s}` is not a GUID"),
            IdProblem::ResourceGroup(g) => {
                write!(f, "the resource group name `{g}` breaks Azure's rules")
            }
            IdProblem::Kind(k) => write!(f, "it names a resource of type `{k}`"),
            IdProblem::Name(n) => write!(f, "the name `{n}` breaks Azure's rules for it"),
        }
    }
}

impl ResourceId {
    /// Parses `text` as the ID of a resource of type `kind` whose name `name_ok` accepts. The
    /// fixed words (`subscriptions`, `resourceGroups`, `providers`, the type) compare without
    /// regard to case, as Azure does.
    pub fn parse(
        text: &str,
        kind: &'static str,
        name_ok: fn(&str) -> bool,
    ) -> Result<ResourceId, IdProblem> {
        let parts: Vec<&str> = text.split('/').collect();
        let [
            "",
            subscriptions,
            subscription,
            groups,
            group,
            providers,
            namespace,
            type_name,
            name,
        ] = parts.as_slice()
        else {
            return Err(IdProblem::Shape);
        };
        let word = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        if !word(subscriptions, "subscriptions")
            || !word(groups, "resourceGroups")
            || !word(providers, "providers")
        {
            return Err(IdProblem::Shape);
        }
        if !is_guid(subscription) {
            return Err(IdProblem::Subscription(subscription.to_string()));
        }
        if !resource_group_ok(group) {
            return Err(IdProblem::ResourceGroup(group.to_string()));
        }
        let found = format!("{namespace}/{type_name}");
        if !word(&found, kind) {
            return Err(IdProblem::Kind(found));
        }
        if !name_ok(name) {
            return Err(IdProblem::Name(name.to_string()));
        }
        Ok(ResourceId {
            subscription: subscription.to_ascii_lowercase(),
            resource_group: group.to_string(),
            kind,
            name: name.to_string(),
        })
    }
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// 1-90 letters (Unicode ones too), digits, `_`, `-`, `.`, `(` and `)`, not ending in `.`:
/// Azure's rule for resource group names. None of them can end a quoted string.
pub fn resource_group_ok(name: &str) -> bool {
    (1..=90).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.()".contains(c))
        && !name.ends_with('.')
}

/// Storage accounts: 3-24 lowercase letters and digits.
pub fn storage_name_ok(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Key vaults: 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or
/// digit, without two hyphens in a row.
pub fn key_vault_name_ok(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=24).contains(&name.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && !name.contains("--")
}

/// Container registries: 5-50 letters and digits.
pub fn registry_name_ok(name: &str) -> bool {
    (5..=50).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Application Insights components, Log Analytics workspaces and private DNS zones (by the names
/// amlgen accepts): 1-255 letters, digits, `-`, `_`, `.`, `(` and `)`.
pub fn plain_name_ok(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.()".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    fn zone(text: &str) -> Result<ResourceId, IdProblem> {
        ResourceId::parse(text, "Microsoft.Network/privateDnsZones", plain_name_ok)
    }

    #[test]
    fn an_id_is_taken_apart_with_its_words_in_any_case() {
        let id = zone(&format!(
            "/subscriptions/{}/resourcegroups/rg-hub/providers/microsoft.network/privatednszones/privatelink.api.azureml.ms",
            SUB.to_uppercase()
        ))
        .unwrap();
        assert_eq!(id.subscription, SUB);
        assert_eq!(id.resource_group, "rg-hub");
        assert_eq!(id.kind, "Microsoft.Network/privateDnsZones");
        assert_eq!(id.name, "privatelink.api.azureml.ms");
    }

    #[test]
    fn every_part_that_could_carry_text_into_a_template_is_refused() {
        let base = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones"
        );
        let cases = [
            (
                format!("{base}/z'), concat('x"),
                IdProblem::Name("z'), concat('x".into()),
            ),
            (format!("{base}/z/extra"), IdProblem::Shape),
            (
                format!(
                    "/subscriptions/{SUB}/resourceGroups/rg]x/providers/Microsoft.Network/privateDnsZones/z"
                ),
                IdProblem::ResourceGroup("rg]x".into()),
            ),
            (
                format!(
                    "/subscriptions/x{SUB}/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/z"
                ),
                IdProblem::Subscription(format!("x{SUB}")),
            ),
            (
                format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/dnsZones/z"
                ),
                IdProblem::Kind("Microsoft.Network/dnsZones".into()),
            ),
            ("privatelink.api.azureml.ms".to_string(), IdProblem::Shape),
        ];
        for (text, problem) in cases {
            assert_eq!(zone(&text), Err(problem), "{text}");
        }
    }

    #[test]
    fn resource_groups_may_have_unicode_letters_but_no_quotes() {
        assert!(resource_group_ok("rg-ünï") && resource_group_ok("rg_(1).x"));
        assert!(
            !resource_group_ok("rg'x") && !resource_group_ok("rg x") && !resource_group_ok("rg.")
        );
    }

    #[test]
    fn names_follow_each_types_rules() {
        assert!(storage_name_ok("stfraud01") && !storage_name_ok("St-fraud"));
        assert!(key_vault_name_ok("kv-fraud") && !key_vault_name_ok("kv--fraud"));
        assert!(!key_vault_name_ok("1kv") && !key_vault_name_ok("kv-"));
        assert!(registry_name_ok("crfraud") && !registry_name_ok("crab"));
    }
}
