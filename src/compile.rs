//! The compiler's front door: a spec (and the bases it extends) read, merged, checked against
//! the schema and the network rules, and planned; a batch of specs checked in parallel, with the
//! checks across specs (names, address spaces, computes). Every stage's problems are diagnostics
//! located in the file and line that wrote the value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use crate::azure::service_tags::ServiceTags;
use crate::diag::{self, Code, Diagnostic, Label, has_errors};
use crate::error::{Bug, Error};
use crate::source::{self, Source, SpanIndex};
use crate::spec::{Egress, RouteStyle, Spec};
use crate::{blueprint, check, plan, schema, yaml};

/// One spec taken through the pipeline as far as it goes.
#[derive(Debug)]
pub struct Compiled {
    pub source: Source,
    pub spans: SpanIndex,
    /// Every problem found, errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// The plan, when no error stands. Boxed: a run keeps every spec's `Compiled` until it
    /// ends, long after the plan is taken, and the plan is most of its size.
    pub plan: Option<Box<plan::Plan>>,
    /// The service-tags file the spec's routes were read from, kept for `verify`, which follows
    /// them.
    pub service_tags: Option<ServiceTags>,
    /// Diagnostics located in the bases the spec extends, by file.
    pub elsewhere: Vec<Located>,
    /// The environment this is the spec in, when the spec has environments.
    pub environment: Option<String>,
    /// Where the spec's own file writes the values that checks across specs point at (the VNet's
    /// address space, the workspace's name, each compute's name), by their pointer in the merged
    /// spec; a value a base writes is located at the spec's `extends`. Empty for a spec that
    /// extends nothing, whose pointers are its file's.
    pub written: BTreeMap<String, String>,
}

/// Diagnostics located in a base: its text and positions, and the specs (and environments) they
/// were found through.
#[derive(Debug, Clone)]
pub struct Located {
    pub source: Source,
    pub spans: SpanIndex,
    pub diagnostics: Vec<Diagnostic>,
    pub reached: Vec<String>,
}

impl Compiled {
    /// A spec that stopped at its YAML or before: its diagnostics, no plan.
    fn stopped(source: Source, spans: SpanIndex, diagnostics: Vec<Diagnostic>) -> Compiled {
        Outcome {
            diagnostics,
            ..Outcome::default()
        }
        .into_compiled(source, spans, None)
    }

    /// The diagnostics of the spec's own file, with what locates them, for [`diag::render`].
    pub fn findings(&self) -> diag::Findings<'_> {
        diag::Findings {
            source: &self.source,
            spans: &self.spans,
            diagnostics: &self.diagnostics,
        }
    }

    /// The diagnostics of the spec's file and of its bases, each with what locates it.
    pub fn all_findings(&self) -> Vec<diag::Findings<'_>> {
        let bases = self.elsewhere.iter().map(|l| diag::Findings {
            source: &l.source,
            spans: &l.spans,
            diagnostics: &l.diagnostics,
        });
        std::iter::once(self.findings()).chain(bases).collect()
    }

    /// Every error and warning, in the spec's file and in its bases.
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .chain(self.elsewhere.iter().flat_map(|l| &l.diagnostics))
    }

    /// Where the spec's own file writes the value at `merged` (a pointer into the merged spec).
    pub fn written_at(&self, merged: &str) -> String {
        self.written
            .get(merged)
            .cloned()
            .unwrap_or_else(|| merged.to_string())
    }

    /// The spec's name for messages: its path, with its environment.
    pub fn label(&self) -> String {
        match &self.environment {
            Some(env) => format!("{} (environment `{env}`)", self.source.path),
            None => self.source.path.clone(),
        }
    }
}

/// A spec of a batch after checking: its diagnostics and, when it is valid, its `name`. The plan
/// is dropped (a render has emitted it by then), and so are the text and positions of a spec
/// without diagnostics: a batch holds little more than a path per spec.
#[derive(Debug)]
pub struct Checked {
    pub compiled: Compiled,
    /// The spec's `name` when no error stands.
    pub name: Option<String>,
    /// The VNet's address space when no error stands.
    pub address_space: Vec<ipnet::Ipv4Net>,
    /// The workspace's resource group and name, when the spec names the group, with the names of
    /// the computes the spec creates in it, when no error stands.
    pub computes: Option<((String, String), Vec<String>)>,
}

impl From<Compiled> for Checked {
    fn from(mut compiled: Compiled) -> Self {
        let plan = compiled.plan.take();
        let address_space = plan
            .as_ref()
            .map(|p| {
                p.vnet
                    .address_space
                    .iter()
                    .filter_map(|a| a.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let computes = plan.as_ref().and_then(|p| {
            let group = p.workspace.resource_group.clone()?;
            let names = p.computes.iter().map(|c| c.name.clone()).collect();
            Some(((group, p.workspace.name.clone()), names))
        });
        if compiled.diagnostics.is_empty() {
            compiled.spans = SpanIndex::default();
            compiled.source.text = String::new();
        }
        Self {
            compiled,
            name: plan.map(|plan| plan.name),
            address_space,
            computes,
        }
    }
}

/// The spec's JSON Schema, or with `base` the schema of a base or a spec that extends one.
pub fn blueprint_schema(base: bool) -> std::borrow::Cow<'static, str> {
    if !base {
        return schema::SCHEMA.into();
    }
    let full: Value = serde_json::from_str(schema::SCHEMA).unwrap_or(Value::Null);
    let layer = blueprint::schema::layer_schema(&full);
    crate::diag::json_document(&layer).into()
}

/// Reads and compiles the spec at `path`: one [`Compiled`] per environment, or one. Its bases
/// must lie under `roots` (the folders of the specs given, and the repositories holding them,
/// see [`roots`]).
pub fn compile_file(path: &Path, roots: &[PathBuf]) -> Result<Vec<Compiled>, Error> {
    compile_read(path, &blueprint::Layers::new(roots))
}

fn compile_read(path: &Path, layers: &blueprint::Layers) -> Result<Vec<Compiled>, Error> {
    if path == Path::new(STDIN) {
        let bytes = source::read_stdin(source::SPEC_LIMIT).map_err(|source| Error::Read {
            path: "standard input".into(),
            source,
        })?;
        return compile_in(Source::from_bytes("<stdin>", bytes), Path::new("."), layers);
    }
    let display = path.display().to_string();
    let bytes = source::read_file(path, source::SPEC_LIMIT).map_err(|source| Error::Read {
        path: display.clone(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    compile_in(Source::from_bytes(display, bytes), base, layers)
}

/// The spec path that names standard input: relative paths in it start from the current folder.
const STDIN: &str = "-";

/// The spec at `path` merged with its bases (and `environment`), as YAML with the file and line
/// each value comes from; the diagnostics when its chain cannot be loaded or merged. With
/// environments and none named, the first.
pub fn resolve_file(
    path: &Path,
    environment: Option<&str>,
) -> Result<Result<String, Vec<Compiled>>, Error> {
    let display = path.display().to_string();
    let bytes = source::read_file(path, source::SPEC_LIMIT).map_err(|source| Error::Read {
        path: display.clone(),
        source,
    })?;
    let source = Source::from_bytes(display, bytes);
    let document = match yaml::parse(&source) {
        Ok(document) => document,
        Err(diagnostics) => {
            return Ok(Err(vec![Compiled::stopped(
                source,
                SpanIndex::default(),
                diagnostics,
            )]));
        }
    };
    let layers = blueprint::Layers::new(&roots(&[path.to_path_buf()]));
    let chain = match layers.chain(blueprint::Layer { source, document }, path) {
        Ok(chain) => chain,
        Err(error) => return Ok(Err(vec![load_error(*error, path)])),
    };
    let environments = blueprint::environments(&chain);
    let environment = environment.or(environments.first().map(String::as_str));
    if let Some(env) = environment.filter(|e| !environments.iter().any(|n| n == e)) {
        return Err(Error::NoEnvironment {
            spec: path.display().to_string(),
            environment: env.to_string(),
            known: environments,
        });
    }
    let (node, broken) = blueprint::resolve(&chain, environment);
    if !broken.is_empty() {
        return Ok(Err(vec![compile_unit(&chain, environment)?]));
    }
    let header = match environment {
        Some(env) => format!(
            "# {} in environment `{env}`: each value with the file and line that set it\n",
            path.display()
        ),
        None => format!(
            "# {}: each value with the file and line that set it\n",
            path.display()
        ),
    };
    Ok(Ok(header + &blueprint::blame::blame(&node, &chain)))
}

/// The folders bases may lie in for specs given as `inputs` (files, folders): the folder of
/// each, and the git repository holding it.
pub fn roots(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for input in inputs {
        let folder = if input.is_dir() {
            input.clone()
        } else {
            input.parent().map_or_else(
                || PathBuf::from("."),
                |p| {
                    if p.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        p.to_path_buf()
                    }
                },
            )
        };
        let repository = folder.canonicalize().ok().and_then(|f| {
            f.ancestors()
                .find(|a| a.join(".git").exists())
                .map(Path::to_path_buf)
        });
        out.push(folder);
        out.extend(repository);
    }
    out.sort();
    out.dedup();
    out
}

/// Reads and checks the specs at `paths` in parallel (on the current rayon pool), in the order
/// given, a spec with environments once per environment, each with what `then` made of it.
/// `then` sees each spec on the thread that compiled it, before its plan is dropped, so a batch
/// holds one plan per thread, never the batch's. Bases are read and parsed once per run and
/// must lie under `roots`. A valid spec whose `name` an earlier spec already has gets a
/// `spec-name-duplicate` error, as the two would render into the same folder (after `then` has
/// seen both).
pub fn check_files<T: Send>(
    paths: &[PathBuf],
    roots: &[PathBuf],
    then: &(dyn Fn(&Compiled) -> Option<T> + Sync),
) -> Result<Vec<(Checked, Option<T>)>, Error> {
    let layers = blueprint::Layers::new(roots);
    type Units<T> = Result<Vec<(Checked, Option<T>)>, Error>;
    let results: Vec<Units<T>> = paths
        .par_iter()
        .map(|p| {
            let units = compile_or_unreadable(p, &layers)?;
            Ok(units
                .into_iter()
                .map(|compiled| {
                    let made = then(&compiled);
                    (Checked::from(compiled), made)
                })
                .collect())
        })
        .collect();
    let mut checked: Vec<(Checked, Option<T>)> = Vec::new();
    for units in results {
        checked.extend(units?);
    }
    duplicates(&mut checked, &layers)?;
    overlaps(&mut checked, &layers)?;
    collisions(&mut checked, &layers)?;
    Ok(checked)
}

/// A `compute-collision` error on each spec of the run that creates a compute an earlier spec
/// creates in the same workspace (same resource group and name): one would replace the other.
fn collisions<T>(
    checked: &mut [(Checked, Option<T>)],
    layers: &blueprint::Layers,
) -> Result<(), Error> {
    let mut seen: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for (spec, _) in checked.iter_mut() {
        let Some(((group, workspace), names)) = spec.computes.clone() else {
            continue;
        };
        for (i, name) in names.iter().enumerate() {
            let key = (group.clone(), workspace.clone(), name.clone());
            let Some(other) = seen.get(&key) else {
                seen.insert(key, spec.compiled.label());
                continue;
            };
            reread(&mut spec.compiled, layers)?;
            let at = spec.compiled.written_at(&format!("/compute/{i}/name"));
            spec.compiled.diagnostics.push(
                Diagnostic::error(
                    Code::ComputeCollision,
                    format!("compute `{name}` of workspace `{workspace}` (resource group `{group}`) is also created by {other}: one deployment would replace the other's"),
                    Label::value(at, format!("also in {other}")),
                )
                .with_help("name the compute per spec or environment, or give each environment its own workspace"),
            );
            spec.name = None;
        }
    }
    Ok(())
}

/// The text and positions of a spec whose diagnostics were empty (and so were dropped), read
/// again so that a diagnostic added across specs can point into it.
fn reread(compiled: &mut Compiled, layers: &blueprint::Layers) -> Result<(), Error> {
    if !compiled.source.text.is_empty() {
        return Ok(());
    }
    let path = PathBuf::from(&compiled.source.path);
    if let Some(again) = compile_or_unreadable(&path, layers)?
        .into_iter()
        .find(|c| c.environment == compiled.environment)
    {
        compiled.source = again.source;
        compiled.spans = again.spans;
    }
    Ok(())
}

/// A `spec-name-duplicate` error on every spec of the run whose `name` another spec has (each
/// would render into the same folder), naming the others; such specs fail.
fn duplicates<T>(
    checked: &mut [(Checked, Option<T>)],
    layers: &blueprint::Layers,
) -> Result<(), Error> {
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (spec, _)) in checked.iter().enumerate() {
        if let Some(name) = &spec.name {
            by_name.entry(name.clone()).or_default().push(i);
        }
    }
    for (name, specs) in by_name.into_iter().filter(|(_, specs)| specs.len() > 1) {
        let labels: Vec<String> = specs
            .iter()
            .map(|&i| checked[i].0.compiled.label())
            .collect();
        for (k, &i) in specs.iter().enumerate() {
            let others: Vec<&str> = labels
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, l)| l.as_str())
                .collect();
            let spec = &mut checked[i].0;
            reread(&mut spec.compiled, layers)?;
            spec.name = None;
            spec.compiled.diagnostics.push(
                Diagnostic::error(
                    Code::SpecNameDuplicate,
                    format!(
                        "spec name `{name}` is also the name of {}; they would render into the same folder `{name}`",
                        others.join(", ")
                    ),
                    Label::value(spec.compiled.written_at("/name"), format!("also in {}", others.join(", "))),
                )
                .with_help("give each spec its own `name`"),
            );
        }
    }
    Ok(())
}

/// A `vnet-overlap` warning on each spec of the run whose VNet overlaps an earlier spec's.
fn overlaps<T>(
    checked: &mut [(Checked, Option<T>)],
    layers: &blueprint::Layers,
) -> Result<(), Error> {
    for later in 1..checked.len() {
        let (earlier, rest) = checked.split_at_mut(later);
        let spec = &mut rest[0].0;
        let found = earlier.iter().find_map(|(other, _)| {
            let net = spec.address_space.iter().find(|a| {
                other
                    .address_space
                    .iter()
                    .any(|b| a.contains(&b.network()) || b.contains(&a.network()))
            })?;
            Some((other.compiled.label(), *net))
        });
        let Some((other, net)) = found else {
            continue;
        };
        reread(&mut spec.compiled, layers)?;
        let at = spec.compiled.written_at(ADDRESS_SPACE);
        spec.compiled.diagnostics.push(
            Diagnostic::warning(
                Code::VnetOverlap,
                format!("address space {net} overlaps the VNet of {other}: the two cannot both peer with one hub, nor reach each other"),
                Label::value(at, format!("overlaps {other}")),
            )
            .with_help("give each spec and environment its own range of the estate's address plan"),
        );
    }
    Ok(())
}

/// [`compile_read`], with a spec that cannot be read (missing, a folder, unreadable, too large)
/// as its `spec-unreadable` diagnostic: one such spec does not stop a batch.
fn compile_or_unreadable(path: &Path, layers: &blueprint::Layers) -> Result<Vec<Compiled>, Error> {
    match compile_read(path, layers) {
        Err(Error::Read { path, source }) => Ok(vec![Compiled::stopped(
            Source::new(path.clone(), ""),
            SpanIndex::default(),
            vec![
                Diagnostic::error(
                    Code::SpecUnreadable,
                    format!("cannot read {path}: {source}"),
                    Label::value("", "the spec"),
                )
                .with_help("name a readable YAML file of at most 1 MiB"),
            ],
        )]),
        other => other,
    }
}

/// Compiles a spec's text; `base` is the folder relative paths in the spec start from, and the
/// folder its bases must lie in. A spec with `environments` compiles once per environment.
pub fn compile(source: Source, base: &Path) -> Result<Vec<Compiled>, Error> {
    compile_in(source, base, &blueprint::Layers::new(&[base.to_path_buf()]))
}

/// [`compile`], with the run's `layers` (its bases, read once, and the folders they may lie in).
fn compile_in(
    source: Source,
    dir: &Path,
    layers: &blueprint::Layers,
) -> Result<Vec<Compiled>, Error> {
    let document = match yaml::parse(&source) {
        Ok(document) => document,
        Err(diagnostics) => {
            return Ok(vec![Compiled::stopped(
                source,
                SpanIndex::default(),
                diagnostics,
            )]);
        }
    };
    let blueprint = [blueprint::EXTENDS, blueprint::ENVIRONMENTS, blueprint::LOCK]
        .iter()
        .any(|key| document.value.get(key).is_some());
    if !blueprint {
        let checked = check_value(&document.value, dir)?;
        return Ok(vec![checked.into_compiled(source, document.spans, None)]);
    }
    let path = PathBuf::from(&source.path);
    let chain = match layers.chain(blueprint::Layer { source, document }, &path) {
        Ok(chain) => chain,
        Err(error) => return Ok(vec![load_error(*error, &path)]),
    };
    let environments = blueprint::environments(&chain);
    if environments.is_empty() {
        return Ok(vec![compile_unit(&chain, None)?]);
    }
    environments
        .iter()
        .map(|e| compile_unit(&chain, Some(e)))
        .collect()
}

/// The spec of `chain` (in `environment`), merged and checked.
fn compile_unit(
    chain: &[Arc<blueprint::Layer>],
    environment: Option<&str>,
) -> Result<Compiled, Error> {
    let (node, broken) = blueprint::resolve(chain, environment);
    let mut value = node.value();
    // In an environment the spec's name, and the VNet's, carry the environment (every name
    // amlgen derives from the spec's does too), so environments never collide.
    if let Some(env) = environment {
        for at in ["/name", "/network/vnet/name"] {
            if let Some(Value::String(name)) = value.pointer_mut(at) {
                if !name.ends_with(&format!("-{env}")) {
                    *name = format!("{name}-{env}");
                }
            }
        }
    }
    // A service-tags file is read relative to the file that names it.
    let tags_file = node.at("/network/forced_tunnel/service_tags_file");
    let dir = folder_of(
        &chain[tags_file.map_or(chain.len() - 1, |n| n.origin().layer)]
            .source
            .path,
    );
    let mut placed: Vec<blueprint::locate::Placed> = broken
        .into_iter()
        .map(|b| blueprint::locate::Placed {
            layer: b.layer,
            diagnostic: Diagnostic::error(
                match b.rule {
                    blueprint::merge::Rule::Remove => Code::BlueprintRemove,
                    blueprint::merge::Rule::Lock => Code::BlueprintLocked,
                },
                b.message,
                Label::value(b.pointer, "here"),
            ),
        })
        .collect();
    let checked = if placed.is_empty() {
        check_value(&value, &dir)?
    } else {
        Outcome::default()
    };
    let Outcome {
        diagnostics,
        plan,
        service_tags,
    } = checked;
    placed.extend(
        diagnostics
            .into_iter()
            .map(|d| blueprint::locate::place(d, &node, chain)),
    );
    let own = chain.len() - 1;
    let reached = match environment {
        Some(env) => format!("{} (environment `{env}`)", chain[own].source.path),
        None => chain[own].source.path.clone(),
    };
    let mut diagnostics = Vec::new();
    let mut elsewhere: Vec<Located> = Vec::new();
    for p in placed {
        if p.layer == own {
            diagnostics.push(p.diagnostic);
            continue;
        }
        let layer = &chain[p.layer];
        let diagnostic = p.diagnostic;
        match elsewhere
            .iter_mut()
            .find(|l| l.source.path == layer.source.path)
        {
            Some(located) => located.diagnostics.push(diagnostic),
            None => elsewhere.push(Located {
                source: layer.source.clone(),
                spans: layer.document.spans.clone(),
                diagnostics: vec![diagnostic],
                reached: vec![reached.clone()],
            }),
        }
    }
    let failed = has_errors(&diagnostics) || elsewhere.iter().any(|l| has_errors(&l.diagnostics));
    let computes = value
        .get("compute")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let written = [ADDRESS_SPACE.to_string(), WORKSPACE_NAME.to_string()]
        .into_iter()
        .chain((0..computes).map(|i| format!("/compute/{i}/name")))
        .map(|merged| {
            let label = Label::value(merged.clone(), "");
            let placed = blueprint::locate::place(
                Diagnostic::warning(Code::VnetOverlap, "", label),
                &node,
                chain,
            );
            let at = match (placed.layer == own, placed.diagnostic.primary.at) {
                (true, diag::At::Value(pointer)) => pointer,
                _ => format!("/{}", blueprint::EXTENDS),
            };
            (merged, at)
        })
        .collect();
    Ok(Compiled {
        source: chain[own].source.clone(),
        spans: chain[own].document.spans.clone(),
        diagnostics: diag::cap(diagnostics),
        elsewhere,
        plan: plan.filter(|_| !failed).map(Box::new),
        service_tags,
        environment: environment.map(str::to_string),
        written,
    })
}

/// Where a spec writes its VNet's address space.
const ADDRESS_SPACE: &str = "/network/vnet/address_space";
/// Where a spec writes its workspace's name.
const WORKSPACE_NAME: &str = "/workspace/name";

/// The folder of the file at `path`.
fn folder_of(path: &str) -> PathBuf {
    Path::new(path)
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The spec whose chain of bases cannot be loaded (`path`), with the reason as a diagnostic in
/// the file that names the base it cannot follow, or that does not parse.
fn load_error(error: blueprint::LoadError, path: &Path) -> Compiled {
    let (layer, source, spans, diagnostics) = match error {
        blueprint::LoadError::Extends {
            layer,
            message,
            source,
            spans,
        } => {
            let diagnostic = Diagnostic::error(Code::ExtendsInvalid, message, Label::value("/extends", "extends"))
                .with_help("name a base spec inside the folders of the specs given (or their repository), without a cycle");
            (layer, source, spans, vec![diagnostic])
        }
        blueprint::LoadError::Yaml {
            source,
            diagnostics,
        } => (1, source, SpanIndex::default(), diagnostics),
    };
    if layer == 0 {
        return Compiled::stopped(source, spans, diagnostics);
    }
    let mut compiled = Compiled::stopped(
        Source::new(path.display().to_string(), ""),
        SpanIndex::default(),
        Vec::new(),
    );
    compiled.elsewhere.push(Located {
        source,
        spans,
        diagnostics,
        reached: vec![path.display().to_string()],
    });
    compiled
}

/// What checking a spec's value found.
#[derive(Debug, Default)]
struct Outcome {
    diagnostics: Vec<Diagnostic>,
    plan: Option<plan::Plan>,
    service_tags: Option<ServiceTags>,
}

impl Outcome {
    fn into_compiled(
        self,
        source: Source,
        spans: SpanIndex,
        environment: Option<String>,
    ) -> Compiled {
        Compiled {
            source,
            spans,
            diagnostics: diag::cap(self.diagnostics),
            elsewhere: Vec::new(),
            plan: self.plan.map(Box::new),
            service_tags: self.service_tags,
            environment,
            written: BTreeMap::new(),
        }
    }
}

/// Checks a spec's value against the schema and the network rules; `dir` is the folder its
/// service-tags file is read from. The plan when no error stands.
fn check_value(value: &Value, dir: &Path) -> Result<Outcome, Error> {
    let mut diagnostics = schema::validate(value).map_err(Error::Internal)?;
    if has_errors(&diagnostics) {
        // The regions are checked on the raw value too: a run reports every problem it can.
        let regions = check::region::unknown_in(value);
        let refused = |d: &Diagnostic| diagnostics.iter().any(|s| s.primary.at == d.primary.at);
        let regions: Vec<Diagnostic> = regions.into_iter().filter(|d| !refused(d)).collect();
        diagnostics.extend(regions);
        return Ok(Outcome {
            diagnostics,
            ..Outcome::default()
        });
    }
    let spec = Spec::from_value(value).map_err(|e| Error::Internal(Bug::Model(e)))?;
    let service_tags = match load_service_tags(&spec, dir) {
        Ok(tags) => tags,
        Err(diagnostic) => {
            diagnostics.push(*diagnostic);
            None
        }
    };
    diagnostics.extend(check::run(&spec, service_tags.as_ref()));
    if has_errors(&diagnostics) {
        return Ok(Outcome {
            diagnostics,
            ..Outcome::default()
        });
    }
    let plan = plan::build(&spec, service_tags.as_ref());
    Ok(Outcome {
        diagnostics,
        plan: Some(plan),
        service_tags,
    })
}

/// Reads `forced_tunnel.service_tags_file` when the routes need it; a file that cannot be used
/// becomes a diagnostic on the spec's `service_tags_file` value.
fn load_service_tags(spec: &Spec, base: &Path) -> Result<Option<ServiceTags>, Box<Diagnostic>> {
    let Some(tunnel) = spec.network.forced_tunnel.as_ref() else {
        return Ok(None);
    };
    let (Egress::ForcedTunnel, RouteStyle::IpPrefixes, Some(file)) = (
        spec.network.egress,
        tunnel.routes,
        tunnel.service_tags_file.as_deref(),
    ) else {
        return Ok(None);
    };
    let read = source::read_file(&base.join(file), source::SERVICE_TAGS_LIMIT)
        .map_err(|e| e.to_string())
        .and_then(|bytes| String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({e})")));
    read.and_then(|text| ServiceTags::parse(&text).map_err(|e| e.to_string()))
        .map(Some)
        .map_err(|why| {
        Box::new(
            Diagnostic::error(
                Code::ServiceTagsUnreadable,
                format!("cannot use service-tags file `{file}`: {why}"),
                Label::value("/network/forced_tunnel/service_tags_file", "read relative to the spec"),
            )
            .with_help("download \"Azure IP Ranges and Service Tags - Public Cloud\" from Microsoft, or run `az network list-service-tags --location <region> -o json > ServiceTags_Public.json`"),
        )
    })
}
