//! Facts about Azure that amlgen relies on: regions and their pairs, Microsoft's service-tags
//! file, the VM images, the retired VM sizes, HDInsight's cluster types, the resource types with
//! their API versions, the hosts Azure ML compute reaches by name, the private DNS zones of
//! private endpoints, the rules of resource IDs and globally unique names, and the built-in roles
//! a created workspace's setup assigns.
//!
//! This is data, kept at the bottom of the dependency graph: the checks and the plan read it,
//! nothing here knows a spec.

pub mod fqdns;
pub mod hdinsight;
pub mod images;
pub mod private_link;
pub mod regions;
pub mod resource;
pub mod resource_id;
pub mod roles;
pub mod service_tags;
pub mod sizes;
