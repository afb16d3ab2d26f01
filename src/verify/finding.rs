//! What `verify` reports about a template besides its flow tables: findings (the template fails)
//! and assumptions (what the proof takes on trust, outside the template), each with a stable
//! code documented in `docs/verify.md`, so CI logs can be grepped and suppressed by code.

use serde::Serialize;

macro_rules! codes {
    ($($variant:ident => $name:literal, $summary:literal;)*) => {
        /// A stable, kebab-case code of a finding or an assumption.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub(crate) enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in documentation order.
            pub(crate) const ALL_CODES: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as users see it.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// One sentence saying what the code means.
            pub(crate) fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                }
            }
        }
    };
}

codes! {
    RequiredFlow => "verify-required-flow", "A flow the requirement profile needs is denied by an NSG, dropped by a route, or its replies do not come back the way it went.";
    InboundUnjustified => "verify-inbound-unjustified", "An NSG admits a source, protocol or port that no requirement and no spec setting asks for.";
    OutboundUnjustified => "verify-outbound-unjustified", "Under a lockdown, an NSG lets a destination, protocol or port out that no requirement asks for (a destination broader than required, such as `AzureCloud`, global `Storage` or `*`).";
    TunnelBypassed => "verify-tunnel-bypassed", "Under forced tunnelling, traffic of a compute subnet leaves for the internet without the appliance, through a route no requirement of the subnet's workloads asks for.";
    NextHopInCompute => "verify-next-hop-in-compute", "A route's appliance address lies in a compute subnet.";
    DatabricksNotDelegated => "verify-databricks-delegation", "A subnet of a Databricks workspace is not delegated to `Microsoft.Databricks/workspaces`.";
    Unreadable => "verify-unreadable", "Something verify needs cannot be read or evaluated (an unsupported expression, an undeclared NSG or route table, no compute subnet), so it cannot vouch for the template.";
    OutsideTemplate => "verify-assumes-outside", "Assumption: a flow depends on networks outside the template (peered VNets, on-premises ranges, a gateway); verify cannot see them.";
    DnsUnresolved => "verify-dns-unresolved", "A private endpoint's names do not resolve from a VNet that holds compute: its zone group leaves out a zone its sub-resource resolves in, or a zone the template declares is not linked to that VNet.";
    EndpointRace => "verify-endpoint-race", "A compute does not wait (through `dependsOn`) for a private endpoint's zone group or a zone's VNet link, so it may be created before the workspace resolves privately.";
    DnsOutside => "verify-assumes-dns", "Assumption: a private endpoint's records live in a zone outside the template (a hub's), or are registered by Azure Policy (no zone group); verify cannot see that the zone resolves in the compute VNet.";
    DatabricksFirewall => "verify-assumes-databricks-firewall", "Assumption: Databricks' mandatory `VirtualNetwork` rules match every address the route table puts in that tag, so only the appliance controls this subnet's egress.";
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    /// The template fails verification.
    Error,
    /// An assumption the proof rests on: listed, not failed.
    Note,
}

/// One finding or assumption, located at the template's resource that causes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Finding {
    #[serde(serialize_with = "code_name")]
    pub(crate) code: Code,
    pub(crate) level: Level,
    /// The subnet whose flows it concerns, when it concerns one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subnet: Option<String>,
    /// The resource to change: `Microsoft.Network/networkSecurityGroups/<name>`, ...
    pub(crate) resource: String,
    /// The line of the template that declares the resource, when it is found there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
}

fn code_name<S: serde::Serializer>(code: &Code, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(code.as_str())
}

impl Finding {
    pub(crate) fn error(code: Code, resource: String, message: String) -> Finding {
        Finding {
            code,
            level: Level::Error,
            subnet: None,
            resource,
            line: None,
            message,
        }
    }

    pub(crate) fn note(code: Code, resource: String, message: String) -> Finding {
        Finding {
            level: Level::Note,
            ..Finding::error(code, resource, message)
        }
    }

    /// Finds the line of `text` (the template) that names the resource: the first
    /// `"name": "<its last name segment>"`.
    pub(crate) fn locate(&mut self, text: &str) {
        let Some(name) = self.resource.rsplit('/').next() else {
            return;
        };
        let needle = format!("\"name\": \"{name}\"");
        self.line = text
            .lines()
            .position(|line| line.trim_start().starts_with(&needle))
            .map(|i| i + 1);
    }

    pub(crate) fn in_subnet(self, subnet: &str) -> Finding {
        Finding {
            subnet: Some(subnet.to_string()),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let docs = include_str!("../../docs/verify.md");
        let mut names: Vec<&str> = Code::ALL_CODES.iter().map(|c| c.as_str()).collect();
        for code in Code::ALL_CODES {
            let name = code.as_str();
            assert!(
                name.starts_with("verify-")
                    && name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
            assert!(
                docs.contains(&format!("### `{name}`")),
                "docs/verify.md has no section for {name}"
            );
            assert!(!code.summary().is_empty());
        }
        for heading in docs.lines().filter_map(|l| l.strip_prefix("### `verify-")) {
            let name = format!("verify-{}", heading.trim_end_matches('`'));
            assert!(
                names.contains(&name.as_str()),
                "docs/verify.md documents {name}, no code"
            );
        }
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
