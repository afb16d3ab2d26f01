//! Names of the resources amlgen creates, derived from the spec.
//!
//! One function per derived name, shared by the checks (which verify Azure's length limits) and
//! the plan (which uses them), so the two can never disagree.

/// Azure's limit for NSG, route table, NAT gateway and public IP names.
pub const NETWORK_NAME_MAX: usize = 80;

/// The NSG of one compute subnet: `<spec>-<subnet>-nsg`.
pub fn nsg(spec: &str, subnet: &str) -> String {
    format!("{spec}-{subnet}-nsg")
}

/// The route table shared by the compute subnets when forced tunnelling.
pub fn route_table(spec: &str) -> String {
    format!("{spec}-rt")
}

/// The NAT gateway shared by the compute subnets.
pub fn nat_gateway(spec: &str) -> String {
    format!("{spec}-nat")
}

/// The NAT gateway's public IP.
pub fn nat_public_ip(spec: &str) -> String {
    format!("{spec}-nat-pip")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_carry_the_spec_name() {
        assert_eq!(nsg("demo", "snet-a"), "demo-snet-a-nsg");
        assert_eq!(route_table("demo"), "demo-rt");
        assert_eq!(nat_gateway("demo"), "demo-nat");
        assert_eq!(nat_public_ip("demo"), "demo-nat-pip");
    }
}
