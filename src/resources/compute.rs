//! The workspace's computes: Azure ML clusters and instances joined to their subnets, and the
//! VMs and HDInsight clusters attached to it, as children of the existing workspace; in a module
//! scoped to the workspace's resource group when it lives in another one.

use super::{Builder, param};
use crate::azure::resource::ResourceKind;
use crate::model::{Expr, Item, Module, Object, Param, Resource, Step, Template, Value};
use crate::naming;
use crate::plan::{
    ADMIN_USERNAME, Attached, AttachedKind, Cluster, Compute, ComputeKind, InputValue, Instance,
    SSH_PRIVATE_KEY, SSH_PUBLIC_KEY,
};

/// The file the computes module is printed to.
pub(crate) const MODULE_FILE: &str = "computes.bicep";

/// How the computes refer to the subnets and attached machines in the template they are in.
enum Place<'a> {
    /// Beside the VNet and the machines: by symbol.
    Main(&'a Builder<'a>),
    /// In the module: by the module's inputs.
    Module(&'a Builder<'a>),
}

impl Place<'_> {
    fn builder(&self) -> &Builder<'_> {
        match self {
            Place::Main(b) | Place::Module(b) => b,
        }
    }

    /// The name of the module input carrying `value`.
    fn input(&self, value: &InputValue) -> Expr {
        let name = self
            .builder()
            .plan
            .module_inputs
            .iter()
            .find(|i| &i.value == value)
            .map_or_else(String::new, |i| i.name.clone());
        Expr::Param(name)
    }

    fn subnet_id(&self, subnet: &str) -> Expr {
        match self {
            Place::Main(b) => Expr::SubnetId {
                vnet: b.refs.vnet.clone(),
                subnet: subnet.to_string(),
            },
            Place::Module(_) => self.input(&InputValue::SubnetId {
                subnet: subnet.to_string(),
            }),
        }
    }

    /// The ID of the VM or cluster attached as compute `name`.
    fn attached_id(&self, name: &str) -> Expr {
        match self {
            Place::Main(b) => Expr::Id(b.refs.machines[name].symbol.clone()),
            Place::Module(_) => self.input(&InputValue::AttachedId {
                compute: name.to_string(),
            }),
        }
    }

    /// The address Azure ML connects to: a VM's public IP, or the cluster's SSH host.
    fn attached_address(&self, name: &str, attached: &Attached) -> Value {
        match (&attached.kind, self) {
            (AttachedKind::HdInsight { address }, _) => address.into(),
            (AttachedKind::VirtualMachine { .. }, Place::Main(b)) => {
                let ip = b.refs.machines[name].address.clone().unwrap_or_default();
                Expr::Property(ip, vec![Step::Key("ipAddress")]).into()
            }
            (AttachedKind::VirtualMachine { .. }, Place::Module(_)) => self
                .input(&InputValue::AttachedAddress {
                    compute: name.to_string(),
                })
                .into(),
        }
    }

    /// What a module input carries, in the main template.
    fn value_of(&self, value: &InputValue) -> Value {
        let plan = self.builder().plan;
        match value {
            InputValue::SubnetId { subnet } => self.subnet_id(subnet).into(),
            InputValue::AttachedId { compute } => self.attached_id(compute).into(),
            InputValue::AttachedAddress { compute } => plan
                .computes
                .iter()
                .find_map(|c| match &c.kind {
                    ComputeKind::Attached(a) if &c.name == compute => {
                        Some(self.attached_address(compute, a))
                    }
                    _ => None,
                })
                .unwrap_or_else(|| Value::from("")),
        }
    }
}

/// The existing workspace and its computes, or the module holding them.
pub(super) fn items(b: &mut Builder) -> Vec<Item> {
    let plan = b.plan;
    match &plan.workspace.resource_group {
        None => computes(b, false).into_iter().map(Item::Resource).collect(),
        Some(group) => {
            let symbol = b.symbols.claim("computes", "");
            let resources = computes(b, true);
            let place = Place::Main(b);
            let inputs = module_parameters(b)
                .into_iter()
                .map(|p| {
                    let value = match plan.module_inputs.iter().find(|i| i.name == p.name) {
                        Some(input) => place.value_of(&input.value),
                        None => Expr::Param(p.name.clone()).into(),
                    };
                    (p.name.clone(), value)
                })
                .collect();
            vec![Item::Module(Module {
                symbol,
                after: b.refs.waits.clone(),
                name: naming::computes_deployment(&plan.name),
                file: MODULE_FILE,
                resource_group: group.clone(),
                comment: format!("The computes, in the workspace's resource group {group}."),
                inputs,
                template: {
                    let mut template = Template {
                        parameters: module_parameters(b),
                        items: resources.into_iter().map(Item::Resource).collect(),
                        outputs: Vec::new(),
                    };
                    template.outputs = super::outputs(&template, plan);
                    template
                },
            })]
        }
    }
}

/// The module's parameters: those the computes read, forwarded without defaults, then the
/// module's inputs.
fn module_parameters(b: &Builder) -> Vec<Param> {
    let forwarded = b
        .plan
        .parameters
        .iter()
        .filter(|p| p.computes)
        .map(|p| Param {
            default: None,
            allowed: Vec::new(),
            value: None,
            env: None,
            ..param(p)
        });
    let inputs = b.plan.module_inputs.iter().map(|i| Param {
        name: i.name.clone(),
        description: i.description.clone(),
        secure: false,
        default: None,
        allowed: Vec::new(),
        value: None,
        env: None,
    });
    forwarded.chain(inputs).collect()
}

/// The existing workspace (unless this template creates it), then one compute per plan compute,
/// each waiting for the private endpoints and DNS the deployment creates.
fn computes(b: &mut Builder, in_module: bool) -> Vec<Resource> {
    let created = b.refs.workspace.clone();
    let workspace = created
        .clone()
        .unwrap_or_else(|| b.symbols.claim("workspace", ""));
    let symbols: Vec<String> = b
        .plan
        .computes
        .iter()
        .map(|c| b.symbols.claim("compute", &c.name))
        .collect();
    let waits = if in_module {
        Vec::new()
    } else {
        b.refs.waits.clone()
    };
    let clusters = b.plan.computes.iter().zip(&symbols);
    let clusters: Vec<(String, String)> = clusters
        .filter(|(c, _)| matches!(c.kind, ComputeKind::Cluster(_)))
        .map(|(c, s)| (s.clone(), c.name.clone()))
        .collect();
    b.refs.clusters = clusters;
    let place = if in_module {
        Place::Module(b)
    } else {
        Place::Main(b)
    };
    let mut out = Vec::new();
    if created.is_none() {
        out.push(Resource {
            existing: true,
            ..Resource::new(
                ResourceKind::Workspace,
                workspace.clone(),
                &b.plan.workspace.name,
                "The existing Azure ML workspace the computes belong to.".to_string(),
            )
        });
    }
    for (compute, symbol) in b.plan.computes.iter().zip(symbols) {
        out.push(Resource {
            parent: Some(workspace.clone()),
            after: waits.clone(),
            ..resource(&place, compute, symbol)
        });
    }
    out
}

fn resource(place: &Place, compute: &Compute, symbol: String) -> Resource {
    let b = place.builder();
    let (resource_id, settings) = match &compute.kind {
        ComputeKind::Cluster(c) => (None, cluster(c, place.subnet_id(&compute.subnet))),
        ComputeKind::Instance(i) => (None, instance(i, place.subnet_id(&compute.subnet))),
        ComputeKind::Attached(a) => (
            Some(place.attached_id(&compute.name)),
            attached(place, &compute.name, a),
        ),
    };
    let properties = Object::new()
        .with("computeType", compute.kind.compute_type())
        .with("computeLocation", Expr::Param(crate::plan::LOCATION.into()))
        .with_some("resourceId", resource_id)
        .with("disableLocalAuth", true)
        .with("properties", settings);
    let identity = matches!(&compute.kind, ComputeKind::Cluster(c) if c.identity)
        .then(|| Object::new().with("type", "SystemAssigned"));
    let resource = b
        .located(
            ResourceKind::Compute,
            symbol,
            &compute.name,
            format!(
                "{} in subnet {}.",
                compute.kind.description(),
                compute.subnet
            ),
        )
        .with_body_some("identity", identity);
    resource.with("properties", properties)
}

fn enabled(flag: bool) -> &'static str {
    if flag { "Enabled" } else { "Disabled" }
}

fn cluster(cluster: &Cluster, subnet: Expr) -> Object {
    let credentials = cluster.ssh.then(|| {
        Object::new()
            .with("adminUserName", Expr::Param(ADMIN_USERNAME.into()))
            .with("adminUserSshPublicKey", Expr::Param(SSH_PUBLIC_KEY.into()))
    });
    Object::new()
        .with("osType", "Linux")
        .with("vmSize", &cluster.vm_size)
        .with("vmPriority", cluster.vm_priority)
        .with(
            "scaleSettings",
            Object::new()
                .with("minNodeCount", cluster.min_nodes)
                .with("maxNodeCount", cluster.max_nodes)
                .with(
                    "nodeIdleTimeBeforeScaleDown",
                    &cluster.idle_before_scale_down,
                ),
        )
        .with("subnet", Value::id(subnet))
        .with("enableNodePublicIp", cluster.public_ip)
        .with("isolatedNetwork", false)
        .with("remoteLoginPortPublicAccess", enabled(cluster.ssh))
        .with_some("userAccountCredentials", credentials)
}

fn instance(instance: &Instance, subnet: Expr) -> Object {
    let ssh = Object::new()
        .with("sshPublicAccess", enabled(instance.ssh))
        .with_some(
            "adminPublicKey",
            instance.ssh.then(|| Expr::Param(SSH_PUBLIC_KEY.into())),
        );
    let personal = instance.assigned_user.as_ref().map(|(object, tenant)| {
        Object::new().with(
            "assignedUser",
            Object::new()
                .with("objectId", object)
                .with("tenantId", tenant),
        )
    });
    Object::new()
        .with("vmSize", &instance.vm_size)
        .with("subnet", Value::id(subnet))
        .with("enableNodePublicIp", instance.public_ip)
        .with("applicationSharingPolicy", "Personal")
        .with("computeInstanceAuthorizationType", "personal")
        .with("sshSettings", ssh)
        .with_some(
            "idleTimeBeforeShutdown",
            instance.idle_before_shutdown.as_ref(),
        )
        .with_some("personalComputeInstanceSettings", personal)
}

/// A VM or cluster Azure ML logs in to over SSH with the private key.
fn attached(place: &Place, name: &str, attached: &Attached) -> Object {
    let size = match &attached.kind {
        AttachedKind::VirtualMachine { size_parameter, .. } => {
            Some(Expr::Param(size_parameter.clone()))
        }
        AttachedKind::HdInsight { .. } => None,
    };
    Object::new()
        .with_some("virtualMachineSize", size)
        .with("address", place.attached_address(name, attached))
        .with("sshPort", 22u16)
        .with(
            "administratorAccount",
            Object::new()
                .with("username", Expr::Param(attached.username_parameter.clone()))
                .with("privateKeyData", Expr::Param(SSH_PRIVATE_KEY.into())),
        )
}
