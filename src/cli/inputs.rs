//! Which spec files a run reads: files, folders (searched without following links to folders,
//! bases and hidden entries skipped) and globs, one rule for every command that takes specs.

use std::path::{Path, PathBuf};

use crate::Error;

/// How many folders deep a folder or a `**` glob is searched; deeper folders are an error.
const MAX_WALK_DEPTH: usize = 32;

/// Expands folders (recursively) and globs into spec files, in the order given, each once.
/// Hidden files and folders, and bases (`*.base.yaml`), are skipped in folders; a file named on the
/// command line is kept as given (a
/// missing one is then the `spec-unreadable` diagnostic of that spec). A walk never follows a
/// symbolic link to a folder, so a link loop can neither repeat a spec nor run forever.
pub(super) fn spec_files(specs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files: Vec<PathBuf> = Vec::new();
    for spec in specs {
        let text = spec.display().to_string();
        if spec.is_dir() {
            // A base (`*.base.yaml`) is checked as part of the specs that extend it.
            let yaml = |path: &Path| {
                path.extension().is_some_and(|x| x == "yaml" || x == "yml") && !is_base(path)
            };
            let mut found = Vec::new();
            let walk = Walk {
                skip_hidden: true,
                deep: true,
                wanted: &yaml,
            };
            walk_folder(&walk, spec, MAX_WALK_DEPTH, &mut found)?;
            found.sort();
            files.extend(found);
        } else if text == "-" || spec.exists() || !text.contains(['*', '?', '[']) {
            files.push(spec.clone());
        } else {
            files.extend(matches(&text)?);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    files.retain(|file| seen.insert(file.clone()));
    if files.is_empty() {
        let given: Vec<String> = specs.iter().map(|s| format!("`{}`", s.display())).collect();
        return Err(Error::NoSpec(given.join(", ")));
    }
    Ok(files)
}

/// Whether `path` names a base, `*.base.yaml` or `*.base.yml`.
fn is_base(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|stem| stem.ends_with(".base"))
}

/// The files matching the glob `pattern`, sorted. The folder named before the first wildcard is
/// walked, as deep as the pattern's components reach (or [`MAX_WALK_DEPTH`] with `**`).
fn matches(pattern: &str) -> Result<Vec<PathBuf>, Error> {
    let glob = glob::Pattern::new(pattern).map_err(|e| Error::Glob {
        pattern: pattern.to_string(),
        problem: e.to_string(),
    })?;
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut base = PathBuf::new();
    let mut rest = Vec::new();
    for component in Path::new(pattern).components() {
        let word = component.as_os_str().to_string_lossy().into_owned();
        if rest.is_empty() && !word.contains(['*', '?', '[']) {
            base.push(component);
        } else {
            rest.push(word);
        }
    }
    let deep = rest.iter().any(|c| c.contains("**"));
    let depth = if deep { MAX_WALK_DEPTH } else { rest.len() };
    let wanted = |path: &Path| glob.matches_path_with(path, options);
    let walk = Walk {
        // Hidden entries only where the pattern names them (`.config/*.yaml`).
        skip_hidden: !rest.iter().any(|c| c.starts_with('.')),
        deep,
        wanted: &wanted,
    };
    let mut found = Vec::new();
    walk_folder(&walk, &base, depth, &mut found)?;
    found.sort();
    Ok(found)
}

/// How a folder is searched.
struct Walk<'a> {
    /// Whether hidden entries are skipped.
    skip_hidden: bool,
    /// Whether a folder below the depth bound is an error (a recursive search), or simply
    /// outside the search (a glob's components reach no deeper).
    deep: bool,
    /// Which files are found.
    wanted: &'a dyn Fn(&Path) -> bool,
}

/// Adds to `found` the files under `dir` that the walk wants, at most `depth` levels down (1:
/// `dir`'s own files). A symbolic link to a file is a file; one to a folder is not followed.
fn walk_folder(
    walk: &Walk<'_>,
    dir: &Path,
    depth: usize,
    found: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    if depth == 0 {
        return Ok(());
    }
    let listed = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let unreadable = |source| Error::Read {
        path: listed.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(listed).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name();
        if walk.skip_hidden && name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = dir.join(&name);
        let kind = entry.file_type().map_err(unreadable)?;
        if kind.is_dir() {
            match (depth, walk.deep) {
                (1, true) => return Err(Error::TooDeep(path.display().to_string())),
                (1, false) => {}
                _ => walk_folder(walk, &path, depth - 1, found)?,
            }
        } else if (kind.is_file() || (kind.is_symlink() && path.is_file())) && (walk.wanted)(&path)
        {
            found.push(path);
        }
    }
    Ok(())
}
