//! HDInsight cluster definitions: what each cluster type of HDInsight 5.1 deploys, and the
//! nodes every cluster places in its subnet.

use serde::Deserialize;

/// Head nodes of every HDInsight cluster.
pub const HEAD_NODES: u32 = 2;
/// ZooKeeper nodes of every HDInsight cluster (fixed at three).
pub const ZOOKEEPER_NODES: u32 = 3;
/// Gateway nodes HDInsight places in the cluster's subnet besides the nodes it bills.
pub const GATEWAY_NODES: u32 = 2;

/// The HDInsight cluster type (`clusterDefinition.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterType {
    Spark,
    Hadoop,
    Hbase,
    Interactivehive,
    Kafka,
}

/// The HDInsight release amlgen deploys.
pub const CLUSTER_VERSION: &str = "5.1";

/// What one cluster type needs in its cluster definition and compute profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    /// `clusterDefinition.kind`.
    pub kind: &'static str,
    /// The component and its version in `clusterDefinition.componentVersion`.
    pub component: (&'static str, &'static str),
    /// VM size of the three ZooKeeper nodes.
    pub zookeeper_size: &'static str,
    /// Managed data disks per worker node, for types that keep their data on them.
    pub worker_data_disks: Option<u32>,
}

/// The definition of a cluster type in HDInsight 5.1.
pub fn definition(cluster_type: ClusterType) -> Definition {
    let (kind, component, zookeeper_size, worker_data_disks) = match cluster_type {
        ClusterType::Spark => ("spark", ("Spark", "3.3"), "Standard_A2_v2", None),
        ClusterType::Hadoop => ("hadoop", ("Hadoop", "3.3"), "Standard_A2_v2", None),
        ClusterType::Hbase => ("hbase", ("HBase", "2.4"), "Standard_A4_v2", None),
        ClusterType::Interactivehive => (
            "interactivehive",
            ("InteractiveHive", "3.1"),
            "Standard_A4_v2",
            None,
        ),
        ClusterType::Kafka => ("kafka", ("Kafka", "3.2"), "Standard_A4_v2", Some(2)),
    };
    Definition {
        kind,
        component,
        zookeeper_size,
        worker_data_disks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_keeps_its_logs_on_data_disks() {
        assert_eq!(definition(ClusterType::Kafka).worker_data_disks, Some(2));
        assert_eq!(definition(ClusterType::Spark).component, ("Spark", "3.3"));
    }
}
