//! Blueprints: a spec that `extends` a base (which may extend another), and `environments` that
//! overlay the result, merged with the origin of every value kept.
//!
//! A spec is a chain of layers, the root-most base first and the spec itself last; each layer's
//! document (without its `extends`, `environments` and `$lock`) is merged over the ones before it
//! ([`merge`]), then the environment's overlay over that. A base names the keys its descendants may
//! not change in `$lock`; a later layer or an environment that sets one of them to another value
//! breaks the lock. Keys that start with `$` are merge directives, never spec keys.
//!
//! Loading is safe on specs from a pull request: a base must be a regular file inside one of the
//! allowed folders (the folders of the specs given, or the repository holding them), reached
//! without leaving them through `..` or a symlink; chains are at most [`MAX_CHAIN`] long and may
//! not loop. Each file is read and parsed once per run ([`Layers`]).

pub(crate) mod blame;
pub(crate) mod locate;
pub(crate) mod merge;
pub(crate) mod schema;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::source::{self, Source};
use crate::yaml;
use merge::{Broken, Node, Origin, Rule};

/// How many bases a chain may hold above a spec.
pub(crate) const MAX_CHAIN: usize = 16;

/// The key that names a spec's base.
pub(crate) const EXTENDS: &str = "extends";
/// The key of a spec's environments.
pub(crate) const ENVIRONMENTS: &str = "environments";
/// The key of a base's locked keys.
pub(crate) const LOCK: &str = "$lock";

/// One file of a chain: its text and parsed document.
#[derive(Debug)]
pub(crate) struct Layer {
    pub(crate) source: Source,
    pub(crate) document: yaml::Document,
}

/// Why a chain cannot be loaded: at the `extends` of `layer` (its index in the chain being
/// loaded), or a file that does not parse.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// The `extends` of a layer (0: the spec itself, then its bases in order) cannot be
    /// followed: `message` says why; `source` and `spans` are that layer's.
    Extends {
        layer: usize,
        message: String,
        source: Source,
        spans: crate::source::SpanIndex,
    },
    /// A base is not valid YAML: its own diagnostics.
    Yaml {
        source: Source,
        diagnostics: Vec<crate::diag::Diagnostic>,
    },
}

/// The files of a run, each read and parsed once, by canonical path.
#[derive(Debug, Default)]
pub(crate) struct Layers {
    files: Mutex<HashMap<PathBuf, Arc<Layer>>>,
    /// The folders a base may lie in, canonical.
    allowed: Vec<PathBuf>,
}

impl Layers {
    /// The files of a run whose bases may lie under `allowed` (made canonical; folders that do
    /// not exist are left out).
    pub(crate) fn new(allowed: &[PathBuf]) -> Layers {
        Layers {
            files: Mutex::default(),
            allowed: allowed
                .iter()
                .filter_map(|p| p.canonicalize().ok())
                .collect(),
        }
    }

    /// The chain of `spec` (already read): its bases, root-most first, then itself.
    pub(crate) fn chain(
        &self,
        spec: Layer,
        path: &Path,
    ) -> Result<Vec<Arc<Layer>>, Box<LoadError>> {
        let mut chain = vec![Arc::new(spec)];
        let mut seen = vec![path.canonicalize().unwrap_or_else(|_| path.to_path_buf())];
        // The paths as the user would write them, for messages: each base's relative to the
        // spec's as given, `..` folded.
        let mut shown = vec![path.to_path_buf()];
        loop {
            let layer = chain.len() - 1;
            let Some(extends) = chain[layer].document.value.get(EXTENDS) else {
                break;
            };
            let error = |message: String| {
                Box::new(LoadError::Extends {
                    layer,
                    message,
                    source: chain[layer].source.clone(),
                    spans: chain[layer].document.spans.clone(),
                })
            };
            let Some(relative) = extends.as_str() else {
                return Err(error(
                    "`extends` is the path of a base spec, a string".into(),
                ));
            };
            if chain.len() > MAX_CHAIN {
                return Err(error(format!(
                    "a spec extends at most {MAX_CHAIN} bases in a chain"
                )));
            }
            let from = seen[layer].parent().unwrap_or(Path::new("."));
            let base = from.join(relative);
            let display = fold(
                &shown[layer]
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(relative),
            );
            let canonical = base
                .canonicalize()
                .map_err(|e| error(format!("cannot read base `{relative}`: {e}")))?;
            if !self.allowed.iter().any(|root| canonical.starts_with(root)) {
                return Err(error(format!(
                    "base `{relative}` lies outside the folders of the specs given and their repository ({}); a spec may only extend files there",
                    canonical.display()
                )));
            }
            if let Some(at) = seen.iter().position(|p| *p == canonical) {
                let cycle: Vec<String> = seen[at..]
                    .iter()
                    .chain([&canonical])
                    .map(|p| p.display().to_string())
                    .collect();
                return Err(error(format!(
                    "the bases form a cycle: {}",
                    cycle.join(" -> ")
                )));
            }
            let loaded = self.load(&display, &canonical).map_err(|e| match e {
                Loaded::Read(why) => error(format!("cannot read base `{relative}`: {why}")),
                Loaded::Yaml(source, diagnostics) => Box::new(LoadError::Yaml {
                    source,
                    diagnostics,
                }),
            })?;
            chain.push(loaded);
            seen.push(canonical);
            shown.push(display);
        }
        chain.reverse();
        Ok(chain)
    }

    /// The base at `path` (`canonical`), read and parsed the first time it is asked for.
    fn load(&self, path: &Path, canonical: &Path) -> Result<Arc<Layer>, Loaded> {
        if let Some(layer) = self.lock().get(canonical) {
            return Ok(layer.clone());
        }
        let bytes = source::read_file(canonical, source::SPEC_LIMIT)
            .map_err(|e| Loaded::Read(e.to_string()))?;
        let source = Source::from_bytes(path.display().to_string(), bytes);
        let document = yaml::parse(&source).map_err(|d| Loaded::Yaml(source.clone(), d))?;
        let layer = Arc::new(Layer { source, document });
        self.lock().insert(canonical.to_path_buf(), layer.clone());
        Ok(layer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Layer>>> {
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `path` with `.` and `name/..` folded away, without looking at the file system.
fn fold(path: &Path) -> PathBuf {
    let mut out: Vec<std::path::Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if matches!(out.last(), Some(std::path::Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// Why a base did not load.
enum Loaded {
    Read(String),
    Yaml(Source, Vec<crate::diag::Diagnostic>),
}

/// A lock of a base: the pointer it protects, where the lock is written, and the value the key
/// has in the base (none when the base leaves it unset).
#[derive(Debug, Clone)]
struct Lock {
    pointer: String,
    at: Origin,
    value: Option<Value>,
}

/// The chain `layers` merged, then, when `environment` is given, each layer's overlay of it in
/// the same order: the merged node without the blueprint keys, and what broke the rules. The
/// environment overlays are applied to the merged spec, never merged with each other first, so a
/// `$remove` in one removes from the spec.
pub(crate) fn resolve(layers: &[Arc<Layer>], environment: Option<&str>) -> (Node, Vec<Broken>) {
    let mut broken = Vec::new();
    let mut locks: Vec<Lock> = Vec::new();
    let mut merged: Option<Node> = None;
    let mut overlays: Vec<Node> = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        let mut node = Node::of(&layer.document.value, i, "");
        node.take(EXTENDS);
        let own_locks = node
            .take(LOCK)
            .map(|l| locks_of(&l, &mut broken))
            .unwrap_or_default();
        let overlay = node
            .take(ENVIRONMENTS)
            .and_then(|mut envs| environment.and_then(|name| envs.take(name)));
        overlays.extend(overlay);
        check_locks(&node, &locks, &mut broken);
        let now = match merged.take() {
            Some(base) => merge::merge(base, node, &mut broken),
            None => node,
        };
        locks.extend(own_locks.into_iter().map(|lock| Lock {
            value: now.at(&lock.pointer).map(Node::value),
            ..lock
        }));
        merged = Some(now);
    }
    let mut merged = merged.unwrap_or_else(|| Node::of(&Value::Null, 0, ""));
    for overlay in overlays {
        check_locks(&overlay, &locks, &mut broken);
        merged = merge::merge(merged, overlay, &mut broken);
    }
    (merged, broken)
}

/// The names of the environments of a chain, sorted, each once.
pub(crate) fn environments(layers: &[Arc<Layer>]) -> Vec<String> {
    let names: std::collections::BTreeSet<&String> = layers
        .iter()
        .filter_map(|layer| layer.document.value.get(ENVIRONMENTS)?.as_object())
        .flat_map(|map| map.keys())
        .collect();
    names.into_iter().cloned().collect()
}

/// The locks a `$lock` node lists: dotted key paths (`network.outbound`).
fn locks_of(node: &Node, broken: &mut Vec<Broken>) -> Vec<Lock> {
    let Node::List(items, _) = node else {
        broken.push(Broken {
            rule: Rule::Lock,
            layer: node.origin().layer,
            pointer: node.origin().pointer.clone(),
            message: "`$lock` lists the keys descendants may not change, as `[network.outbound, requirements]`".into(),
        });
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Node::Leaf(Value::String(path), at) if !path.is_empty() => Some(Lock {
                pointer: path
                    .split('.')
                    .map(|k| format!("/{}", crate::diag::pointer_token(k)))
                    .collect(),
                at: at.clone(),
                value: None,
            }),
            other => {
                broken.push(Broken {
                    rule: Rule::Lock,
                    layer: other.origin().layer,
                    pointer: other.origin().pointer.clone(),
                    message: "a `$lock` entry is a dotted key path, such as `network.outbound`"
                        .into(),
                });
                None
            }
        })
        .collect()
}

/// Each lock the overlay breaks: it sets a locked key to a value other than the base's.
fn check_locks(overlay: &Node, locks: &[Lock], broken: &mut Vec<Broken>) {
    for lock in locks {
        let Some(set) = overlay.at(&lock.pointer) else {
            continue;
        };
        if lock.value.as_ref() != Some(&set.value()) {
            broken.push(Broken {
                rule: Rule::Lock,
                layer: set.origin().layer,
                pointer: set.origin().pointer.clone(),
                message: format!(
                    "`{}` is locked by a base (layer {}, {}); it may not be changed here",
                    lock.pointer.trim_start_matches('/').replace('/', "."),
                    lock.at.layer,
                    lock.at.pointer
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain written to a scratch folder: `files` are (name, text), the spec is the last.
    fn chain_of(
        files: &[(&str, &str)],
    ) -> (tempfile::TempDir, Result<Vec<Arc<Layer>>, Box<LoadError>>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let (spec, text) = files.last().unwrap();
        let path = dir.path().join(spec);
        let source = Source::new(path.display().to_string(), *text);
        let document = yaml::parse(&source).unwrap();
        let layers = Layers::new(&[dir.path().to_path_buf()]);
        let chain = layers.chain(Layer { source, document }, &path);
        (dir, chain)
    }

    #[test]
    fn a_chain_merges_root_first_and_environments_last() {
        let (_dir, chain) = chain_of(&[
            (
                "org.yaml",
                "$lock: [network.outbound]\nnetwork:\n  outbound: locked\n  egress: nat\nenvironments:\n  dev: {}\n",
            ),
            ("bu/unit.yaml", "extends: ../org.yaml\nlocation: eastus2\n"),
            (
                "bu/team.yaml",
                "extends: unit.yaml\nname: team\nenvironments:\n  dev:\n    location: westus2\n  prod: {}\n",
            ),
        ]);
        let chain = chain.unwrap();
        assert_eq!(chain.len(), 3);
        assert_eq!(environments(&chain), ["dev", "prod"]);
        let (node, broken) = resolve(&chain, Some("dev"));
        assert!(broken.is_empty(), "{broken:?}");
        assert_eq!(
            node.value(),
            serde_json::json!({"network": {"outbound": "locked", "egress": "nat"}, "location": "westus2", "name": "team"})
        );
        assert_eq!(
            node.at("/location").unwrap().origin(),
            &Origin {
                layer: 2,
                pointer: "/environments/dev/location".into()
            }
        );
        assert_eq!(node.at("/network/egress").unwrap().origin().layer, 0);
    }

    #[test]
    fn a_locked_key_set_to_another_value_is_refused_and_the_same_value_is_not() {
        let (_dir, chain) = chain_of(&[
            (
                "org.yaml",
                "$lock: [network.outbound]\nnetwork:\n  outbound: locked\n",
            ),
            (
                "team.yaml",
                "extends: org.yaml\nnetwork:\n  outbound: open\nenvironments:\n  dev:\n    network:\n      outbound: locked\n",
            ),
        ]);
        let (_, broken) = resolve(&chain.unwrap(), Some("dev"));
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert_eq!(
            (broken[0].layer, broken[0].pointer.as_str()),
            (1, "/network/outbound")
        );
        assert!(broken[0].message.contains("`network.outbound` is locked"));
    }

    #[test]
    fn cycles_escapes_and_missing_bases_are_refused() {
        let (_dir, chain) = chain_of(&[
            ("a.yaml", "extends: b.yaml\n"),
            ("b.yaml", "extends: a.yaml\n"),
        ]);
        let Err(LoadError::Extends { message, .. }) = chain.map_err(|e| *e) else {
            panic!("a cycle loaded")
        };
        assert!(message.contains("cycle"), "{message}");
        let (_dir, chain) = chain_of(&[("team.yaml", "extends: ../../etc/passwd\n")]);
        let Err(LoadError::Extends { message, .. }) = chain.map_err(|e| *e) else {
            panic!("an escape loaded")
        };
        assert!(
            message.contains("cannot read") || message.contains("outside"),
            "{message}"
        );
        let (_dir, chain) = chain_of(&[("team.yaml", "extends: nothing.yaml\n")]);
        let Err(LoadError::Extends { message, .. }) = chain.map_err(|e| *e) else {
            panic!("a missing base loaded")
        };
        assert!(
            message.contains("cannot read base `nothing.yaml`"),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_out_of_the_allowed_folders_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("base.yaml"), "location: eastus2\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("base.yaml"),
            dir.path().join("base.yaml"),
        )
        .unwrap();
        let path = dir.path().join("team.yaml");
        let source = Source::new(path.display().to_string(), "extends: base.yaml\n");
        let document = yaml::parse(&source).unwrap();
        let layers = Layers::new(&[dir.path().to_path_buf()]);
        let Err(LoadError::Extends { message, .. }) = layers
            .chain(Layer { source, document }, &path)
            .map_err(|e| *e)
        else {
            panic!("a base behind a symlink out of the folder loaded")
        };
        assert!(message.contains("outside"), "{message}");
    }
}
