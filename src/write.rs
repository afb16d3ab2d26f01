//! Puts rendered files on disk, or checks that the disk already holds them.
//!
//! A run first opens the output folder once, without following a link, and locks it (the
//! operating system's file lock on that open folder), so a second amlgen run waits for the
//! first instead of interleaving with it; `--check` takes the lock shared ([`Checking`]). Each
//! spec folder is opened once, relative to the output folder and without following a link, and
//! every file is created, read, renamed and removed relative to those open folders: no path is
//! looked up twice, so swapping a folder for a link while amlgen runs cannot send a file outside
//! the output folder.
//!
//! Each changed file is written to a temporary file created exclusively, with a random name,
//! in its spec's folder; a spec folder that does not exist yet is written whole into a
//! temporary folder beside it, created the same way. Only when every spec of the run is staged
//! are the temporary files and folders renamed over their targets. So each file on disk is
//! always a complete old or new version, a new spec folder appears with all its files at once,
//! and a failure, SIGINT or SIGTERM (see [`interrupted`]) removes every temporary file and
//! folder and the folders the run created, leaving the old output as it was. A run also
//! removes, in every spec folder of the output folder, what a killed run left.
//!
//! Files are not fsynced, as git and cargo do not: the rename makes a replacement atomic for
//! readers, but after an operating-system crash or a power loss a file may be empty or old;
//! render again (an empty file with the name of one amlgen writes counts as amlgen's, and an
//! fsync per file cost most of a render).
//!
//! amlgen owns only the files whose header carries its stamp (as the [`Formats`] of the
//! printers that write them tell; this module knows no format): a file without it is never overwritten (an error names it, unless `force`) nor
//! removed, and generated files the spec no longer produces are removed. Only regular files are
//! read, never waiting (a FIFO is not opened), and none larger than [`LARGEST`]; a file that is
//! not amlgen's is read no further than its header. Unchanged files are not touched.
//! [`Checking`] compares bytes, ignoring only a well-formed version stamp.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use rayon::prelude::*;
use rustix::fs::{self as sys, AtFlags, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

/// One rendered file, named relative to the spec's output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub name: String,
    pub contents: String,
}

impl Artifact {
    pub fn new(name: impl Into<String>, contents: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            contents: contents.into(),
        }
    }
}

/// The rendered files of one spec and the name of its folder in the output folder.
#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub artifacts: Vec<Artifact>,
}

/// What the formats amlgen writes say of a file on disk, answered by the printers that write
/// them (`emit::Stamps`): this module stages, compares and commits bytes, and knows no format.
pub trait Formats: Sync + std::fmt::Debug {
    /// Whether amlgen writes files named `name`.
    fn writes(&self, name: &str) -> bool;
    /// For a file that cannot carry a stamp of its own: the file beside it whose stamp makes
    /// it amlgen's.
    fn owned_through(&self, name: &str) -> Option<&'static str>;
    /// Whether `head`, the start of the file `name` (its first [`HEAD`] bytes, or all of it),
    /// carries amlgen's stamp.
    fn stamped(&self, name: &str, head: &[u8]) -> bool;
    /// Whether `old` and `new`, two versions of the file `name`, differ at most in a
    /// well-formed version stamp.
    fn same_but_version(&self, name: &str, old: &[u8], new: &[u8]) -> bool;
}

/// What happened, or would happen in check mode, to the files of one spec's folder.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Written (write mode), or amlgen's and different (check mode).
    pub changed: Vec<PathBuf>,
    /// Check mode: files that do not exist (write mode counts them in `changed`).
    pub missing: Vec<PathBuf>,
    /// Check mode: files in the way that are not amlgen's (`render --force` replaces them).
    pub unowned: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    /// Generated files the spec no longer produces: removed, or to remove.
    pub removed: Vec<PathBuf>,
    /// The files of spec folders no spec of the run produces, every one amlgen's (see
    /// [`Staging::prune`]): removed with their folders, or to remove.
    pub orphaned: Vec<PathBuf>,
    /// Check mode: a unified diff of each file in `changed`, from the disk to the render.
    pub diffs: Vec<String>,
}

/// What is wrong with a path.
#[derive(Debug)]
pub enum Problem {
    Io(io::Error),
    /// Reading a folder or a file amlgen compares with failed.
    Read(io::Error),
    Symlink,
    NotAFolder,
    NotGenerated,
    /// A spec name that is not one plain file name (the spec's checks make this impossible).
    BadName,
}

/// A failure with the path it concerns.
#[derive(Debug)]
pub struct Error {
    pub path: PathBuf,
    pub problem: Problem,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.problem {
            Problem::Io(e) => write!(f, "cannot write {path}: {e}"),
            Problem::Read(e) => write!(f, "cannot read {path}: {e}"),
            Problem::Symlink => write!(
                f,
                "cannot write {path}: is a symbolic link; amlgen never writes through one (remove the link)"
            ),
            Problem::NotAFolder => write!(f, "cannot write into {path}: is not a folder"),
            Problem::NotGenerated => write!(
                f,
                "will not replace {path}: it was not generated by amlgen (no amlgen header, or not a regular file \
                 amlgen could have written); move it away, or pass --force to replace it"
            ),
            Problem::BadName => write!(
                f,
                "cannot write {path}: a spec name must be one plain file name"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Io(e) | Problem::Read(e) => Some(e),
            _ => None,
        }
    }
}

fn error(path: &Path, problem: Problem) -> Error {
    Error {
        path: path.to_path_buf(),
        problem,
    }
}

fn at<E: Into<io::Error>>(path: &Path) -> impl FnOnce(E) -> Error + '_ {
    move |e| error(path, Problem::Io(e.into()))
}

/// A failure to read `path`.
fn reading<E: Into<io::Error>>(path: &Path) -> impl FnOnce(E) -> Error + '_ {
    move |e| error(path, Problem::Read(e.into()))
}

/// A temporary file or folder of this process not yet renamed or removed, named in the open
/// folder that holds it.
#[derive(Debug)]
struct Temp {
    dir: Arc<OwnedFd>,
    name: String,
    folder: bool,
}

/// Temporary files and folders of this process not yet renamed or removed, for
/// [`interrupted`], by a number unique in the process.
static PENDING: Mutex<BTreeMap<u64, Temp>> = Mutex::new(BTreeMap::new());
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);
/// Folders this process created for a run not yet committed (the output folder's missing
/// parents), for [`interrupted`].
static CREATED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
/// Held shared while a temporary file or folder is created and noted, renamed or removed, and
/// exclusively by [`interrupted`], so the signal handler never runs in the middle of one.
static BUSY: RwLock<()> = RwLock::new(());

fn pending() -> MutexGuard<'static, BTreeMap<u64, Temp>> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn created() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    CREATED.lock().unwrap_or_else(PoisonError::into_inner)
}

fn busy() -> RwLockReadGuard<'static, ()> {
    BUSY.read().unwrap_or_else(PoisonError::into_inner)
}

/// Notes a temporary file or folder for the signal handler; its number.
fn note(dir: &Arc<OwnedFd>, name: &str, folder: bool) -> u64 {
    let id = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
    let temp = Temp {
        dir: Arc::clone(dir),
        name: name.to_owned(),
        folder,
    };
    pending().insert(id, temp);
    id
}

/// Takes the temporary files and folders `ids` off the list the signal handler removes.
fn forget(ids: &[u64]) -> Vec<Temp> {
    let mut pending = pending();
    ids.iter().filter_map(|id| pending.remove(id)).collect()
}

/// Removes temporary files, then temporary folders (which hold only such files).
fn remove_temps(temps: &[Temp]) {
    for temp in temps.iter().filter(|t| !t.folder) {
        let _ = sys::unlinkat(&*temp.dir, temp.name.as_str(), AtFlags::empty());
    }
    for temp in temps.iter().filter(|t| t.folder) {
        let _ = sys::unlinkat(&*temp.dir, temp.name.as_str(), AtFlags::REMOVEDIR);
    }
}

/// Removes every temporary file and folder of this process, then the folders it created that
/// are empty, and exits with 130: the SIGINT/SIGTERM handler. It waits for a rename phase under
/// way to finish, so a run is either staged only (and undone) or fully renamed.
pub fn interrupted() -> ! {
    let _exclusive = BUSY.write().unwrap_or_else(PoisonError::into_inner);
    let temps: Vec<Temp> = std::mem::take(&mut *pending()).into_values().collect();
    remove_temps(&temps);
    // A folder sorts before the folders inside it.
    for dir in created().iter().rev() {
        let _ = std::fs::remove_dir(dir);
    }
    std::process::exit(130)
}

const TEMP_PREFIX: &str = ".amlgen-";
const TEMP_SUFFIX: &str = ".tmp";

/// Whether `name` is one amlgen gives its temporary files and folders.
fn is_temporary(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// A fresh random temporary name.
fn temp_name() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    format!("{TEMP_PREFIX}{:016x}{TEMP_SUFFIX}", hasher.finish())
}

/// Opening a folder: never through a link, never waiting.
const FOLDER: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NONBLOCK);
/// Creating a file: a new one only, never through a link.
const NEW_FILE: OFlags = OFlags::WRONLY
    .union(OFlags::CREATE)
    .union(OFlags::EXCL)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);
/// Reading a file: never through a link, never waiting (a FIFO opens at once).
const READ: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY);

/// The mode `File::create` and `fs::create_dir` give, less the umask.
fn mode(bits: u32) -> Mode {
    Mode::from_bits_truncate(bits)
}

/// An open folder and its path, for messages.
#[derive(Debug, Clone)]
struct Handle {
    fd: Arc<OwnedFd>,
    path: PathBuf,
}

impl Handle {
    fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Opens the folder `name` in `parent` without following a link; `None` when there is none.
/// `path` names it in errors.
fn open_folder(parent: BorrowedFd<'_>, name: &Path, path: &Path) -> Result<Option<Handle>, Error> {
    match sys::openat(parent, name, FOLDER, Mode::empty()) {
        Ok(fd) => Ok(Some(Handle {
            fd: Arc::new(fd),
            path: path.to_path_buf(),
        })),
        Err(Errno::NOENT) => Ok(None),
        Err(Errno::LOOP | Errno::NOTDIR) => {
            let link = sys::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|s| FileType::from_raw_mode(s.st_mode) == FileType::Symlink);
            let problem = if link {
                Problem::Symlink
            } else {
                Problem::NotAFolder
            };
            Err(error(path, problem))
        }
        Err(e) => Err(at(path)(e)),
    }
}

/// Creates a temporary file in `dir`, exclusively, and notes it; its name, number and handle.
fn temp_file(dir: &Handle) -> Result<(String, u64, File), Error> {
    for _ in 0..16 {
        let name = temp_name();
        let _busy = busy();
        match sys::openat(dir.fd(), name.as_str(), NEW_FILE, mode(0o666)) {
            Ok(fd) => {
                let id = note(&dir.fd, &name, false);
                return Ok((name, id, File::from(fd)));
            }
            Err(Errno::EXIST) => {}
            Err(e) => return Err(at(&dir.path)(e)),
        }
    }
    Err(at(&dir.path)(io::Error::from(io::ErrorKind::AlreadyExists)))
}

/// Creates a temporary folder in `dir`, exclusively, notes it and opens it.
fn temp_folder(dir: &Handle) -> Result<(String, u64, Handle), Error> {
    for _ in 0..16 {
        let name = temp_name();
        let path = dir.path.join(&name);
        let id = {
            let _busy = busy();
            match sys::mkdirat(dir.fd(), name.as_str(), mode(0o777)) {
                Ok(()) => note(&dir.fd, &name, true),
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(at(&dir.path)(e)),
            }
        };
        let opened = open_folder(dir.fd(), Path::new(&name), &path);
        match opened {
            Ok(Some(handle)) => return Ok((name, id, handle)),
            Ok(None) => {
                forget(&[id]);
                return Err(at(&path)(io::Error::from(io::ErrorKind::NotFound)));
            }
            Err(e) => {
                remove_temps(&forget(&[id]));
                return Err(e);
            }
        }
    }
    Err(at(&dir.path)(io::Error::from(io::ErrorKind::AlreadyExists)))
}

/// Staged output waiting to be renamed over `target` in `dir`: a temporary file, or a
/// temporary folder that holds every file of a spec folder that did not exist. Removed when
/// dropped unrenamed.
#[derive(Debug)]
struct Staged {
    dir: Handle,
    temp: String,
    target: String,
    /// The temporary file, or the temporary folder and the files in it.
    ids: Vec<u64>,
    renamed: bool,
}

impl Staged {
    /// Creates the temporary file for `target` in `dir` and writes `contents` to it.
    fn file(dir: &Handle, target: &str, contents: &[u8]) -> Result<Self, Error> {
        let (temp, id, mut file) = temp_file(dir)?;
        let staged = Self {
            dir: dir.clone(),
            temp,
            target: target.to_owned(),
            ids: vec![id],
            renamed: false,
        };
        file.write_all(contents)
            .map_err(at(&dir.path.join(&staged.temp)))?;
        Ok(staged)
    }

    /// Creates a temporary folder in `root` for `target`, a folder that does not exist, and
    /// writes every artifact into it: renamed, it becomes the whole folder at once.
    fn folder(root: &Handle, target: &str, artifacts: &[Artifact]) -> Result<Self, Error> {
        let (temp, id, inside) = temp_folder(root)?;
        let mut staged = Self {
            dir: root.clone(),
            temp,
            target: target.to_owned(),
            ids: vec![id],
            renamed: false,
        };
        for artifact in artifacts {
            let path = inside.path.join(&artifact.name);
            let mut file = {
                let _busy = busy();
                let name = artifact.name.as_str();
                let fd =
                    sys::openat(inside.fd(), name, NEW_FILE, mode(0o666)).map_err(at(&path))?;
                staged.ids.push(note(&inside.fd, name, false));
                File::from(fd)
            };
            file.write_all(artifact.contents.as_bytes())
                .map_err(at(&path))?;
        }
        Ok(staged)
    }

    /// Renames the temporary file or folder over its target. The caller holds [`busy`].
    fn rename(&mut self) -> Result<(), Error> {
        let fd = self.dir.fd();
        sys::renameat(fd, self.temp.as_str(), fd, self.target.as_str())
            .map_err(at(&self.dir.path.join(&self.target)))?;
        self.renamed = true;
        forget(&self.ids);
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.renamed {
            let _busy = busy();
            remove_temps(&forget(&self.ids));
        }
    }
}

/// Locks the open folder `dir`, exclusively or shared; `waiting` is called when another run
/// holds it. True when the run had to wait.
fn lock(dir: &Handle, exclusive: bool, waiting: &mut dyn FnMut()) -> Result<bool, Error> {
    let (attempt, wait) = if exclusive {
        (
            FlockOperation::NonBlockingLockExclusive,
            FlockOperation::LockExclusive,
        )
    } else {
        (
            FlockOperation::NonBlockingLockShared,
            FlockOperation::LockShared,
        )
    };
    match sys::flock(dir.fd(), attempt) {
        Ok(()) => Ok(false),
        Err(Errno::WOULDBLOCK) => {
            waiting();
            loop {
                match sys::flock(dir.fd(), wait) {
                    Ok(()) => return Ok(true),
                    Err(Errno::INTR) => {}
                    Err(e) => return Err(at(&dir.path)(e)),
                }
            }
        }
        Err(e) => Err(at(&dir.path)(e)),
    }
}

/// `waiting`, called at most once however often the run waits.
fn once(waiting: &mut dyn FnMut()) -> impl FnMut() + '_ {
    let mut told = false;
    move || {
        if !told {
            waiting();
        }
        told = true;
    }
}

/// How often a run locks a folder again that the run it waited for removed (a run that fails
/// removes the folders it created) before it gives up.
const RELOCKS: usize = 8;

/// The error of a run whose output folder kept being removed while it waited.
fn kept_vanishing(root: &Path) -> Error {
    let gone = io::Error::other("removed again and again while amlgen waited for it; run again");
    at(root)(gone)
}

/// `path` with its redundant parts (`./`, a trailing `/`) taken away, so that opening it
/// without following a link applies to its last name.
fn plain(path: &Path) -> PathBuf {
    path.components().collect()
}

/// Opens the output folder `root` (not through a link) and locks it; `None` when it does not
/// exist. When the folder at `root` is no longer the one locked (the run waited for removed
/// it), `None` too: the caller tries again.
fn open_root(
    root: &Path,
    exclusive: bool,
    waiting: &mut dyn FnMut(),
) -> Result<Option<(Handle, bool)>, Error> {
    let Some(dir) = open_folder(sys::CWD, root, root)? else {
        return Ok(None);
    };
    let waited = lock(&dir, exclusive, waiting)?;
    let still = match (
        sys::fstat(dir.fd()),
        sys::statat(sys::CWD, root, AtFlags::SYMLINK_NOFOLLOW),
    ) {
        (Ok(a), Ok(b)) => (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino),
        _ => false,
    };
    Ok(still.then_some((dir, waited)))
}

/// The folder `name` in the output folder `root`, read (`name` must be one plain file name).
fn spec_folder(
    root: Option<&Handle>,
    root_path: &Path,
    name: &str,
    formats: &'static dyn Formats,
) -> Result<Folder, Error> {
    let path = root_path.join(name);
    let mut parts = Path::new(name).components();
    if !matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(_)), None)
    ) || name.contains('/')
    {
        return Err(error(&path, Problem::BadName));
    }
    let dir = match root {
        Some(root) => open_folder(root.fd(), Path::new(name), &path)?,
        None => None,
    };
    Folder::read(dir, path, formats)
}

/// The folders in the output folder: real folders only, hidden and temporary ones left out.
fn subfolders(root: &Handle) -> Result<Vec<String>, Error> {
    let (entries, _) = entries(root)?;
    let folders = entries
        .into_iter()
        .filter(|(name, kind)| *kind == FileType::Directory && !name.starts_with('.'));
    Ok(folders.map(|(name, _)| name).collect())
}

/// The entries of `dir` with their types, links not followed; true when a name is not UTF-8
/// (such an entry is left out: amlgen writes none).
fn entries(dir: &Handle) -> Result<(BTreeMap<String, FileType>, bool), Error> {
    let mut found = BTreeMap::new();
    let mut odd = false;
    for entry in sys::Dir::read_from(dir.fd()).map_err(reading(&dir.path))? {
        let entry = entry.map_err(reading(&dir.path))?;
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        let Ok(text) = name.to_str() else {
            odd = true;
            continue;
        };
        let mut kind = entry.file_type();
        if kind == FileType::Unknown {
            let stat = sys::statat(dir.fd(), name, AtFlags::SYMLINK_NOFOLLOW);
            kind = FileType::from_raw_mode(stat.map_err(reading(&dir.path.join(text)))?.st_mode);
        }
        found.insert(text.to_owned(), kind);
    }
    Ok((found, odd))
}

/// Removes the temporary folders a killed run left in the output folder (the caller holds the
/// exclusive lock, so no other run is using them): the files in them, then the folder. Best
/// effort: one that cannot be removed (another user's, say) stays and fails no run.
fn remove_leftover_temp_folders(root: &Handle) {
    let Ok((found, _)) = entries(root) else {
        return;
    };
    for (name, kind) in found {
        if kind != FileType::Directory || !is_temporary(&name) {
            continue;
        }
        let path = root.path.join(&name);
        if let Ok(Some(temp)) = open_folder(root.fd(), Path::new(&name), &path) {
            if let Ok((inside, _)) = entries(&temp) {
                for (file, kind) in inside {
                    if kind != FileType::Directory {
                        let _ = sys::unlinkat(temp.fd(), file.as_str(), AtFlags::empty());
                    }
                }
            }
        }
        let _ = sys::unlinkat(root.fd(), name.as_str(), AtFlags::REMOVEDIR);
    }
}

/// Creates `dir` and its missing parents; returns the folders it created, outermost first.
fn create_missing(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && std::fs::symlink_metadata(a).is_err())
        .collect();
    let mut made = Vec::new();
    for folder in missing.into_iter().rev() {
        match std::fs::create_dir(folder) {
            Ok(()) => made.push(folder.to_path_buf()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(at(folder)(e)),
        }
    }
    Ok(made)
}

fn lock_vec<T>(vec: &Mutex<Vec<T>>) -> MutexGuard<'_, Vec<T>> {
    vec.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A file to remove, in its open folder.
#[derive(Debug)]
struct Removal {
    dir: Handle,
    name: String,
    /// A folder (emptied by the removals before it).
    folder: bool,
}

impl Removal {
    fn path(&self) -> PathBuf {
        self.dir.path.join(&self.name)
    }

    fn run(&self) -> Result<(), Error> {
        let flags = if self.folder {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        sys::unlinkat(self.dir.fd(), self.name.as_str(), flags).map_err(at(&self.path()))
    }
}

/// One write run into a locked output folder: spec folders are staged (from any thread), then
/// committed together. Dropping it uncommitted removes every temporary file and folder, then
/// the output folder's parents the run created (those left empty), while the lock is still held.
/// Either way, the temporary files a killed run left in the other spec folders are removed.
#[derive(Debug)]
pub struct Staging {
    root: Handle,
    formats: &'static dyn Formats,
    force: bool,
    staged: Mutex<Vec<Staged>>,
    removals: Mutex<Vec<Removal>>,
    /// The output folder and its parents, those the run created, outermost first.
    created: Mutex<Vec<PathBuf>>,
    /// The spec folders this run has looked at (and cleaned).
    visited: Mutex<BTreeSet<String>>,
}

impl Staging {
    /// Creates `root` if needed, locks it and removes the temporary folders a killed run left
    /// in it. `force` allows overwriting files amlgen did not generate. When the run it waited
    /// for removed `root` (that run failed and had created it), `root` is created and locked
    /// again.
    ///
    /// The run claims the folders of the path it created only when it got the lock at once:
    /// after a wait, another run has used them, and they are not this run's to remove.
    pub fn begin(
        root: &Path,
        formats: &'static dyn Formats,
        force: bool,
        waiting: &mut dyn FnMut(),
    ) -> Result<Self, Error> {
        let root = plain(root);
        let mut wait = once(waiting);
        for _ in 0..RELOCKS {
            let made = create_missing(&root)?;
            let (dir, waited) = match open_root(&root, true, &mut wait) {
                Ok(Some(locked)) => locked,
                Ok(None) => continue,
                Err(e) => {
                    made.iter().rev().for_each(|dir| {
                        let _ = std::fs::remove_dir(dir);
                    });
                    return Err(e);
                }
            };
            let claimed = if waited { Vec::new() } else { made };
            remove_leftover_temp_folders(&dir);
            created().extend(claimed.iter().cloned());
            return Ok(Self {
                root: dir,
                formats,
                force,
                staged: Mutex::default(),
                removals: Mutex::default(),
                created: Mutex::new(claimed),
                visited: Mutex::default(),
            });
        }
        Err(kept_vanishing(&root))
    }

    /// Stages the changed files of `output` and notes the generated files it no longer produces.
    /// A spec folder that does not exist is staged whole, as one temporary folder.
    pub fn stage(&self, output: &Output) -> Result<Report, Error> {
        let folder = spec_folder(
            Some(&self.root),
            &self.root.path,
            &output.name,
            self.formats,
        )?;
        lock_set(&self.visited).insert(output.name.clone());
        let Some(dir) = &folder.dir else {
            let staged = Staged::folder(&self.root, &output.name, &output.artifacts)?;
            lock_vec(&self.staged).push(staged);
            let changed = output.artifacts.iter().map(|a| folder.path.join(&a.name));
            return Ok(Report {
                changed: changed.collect(),
                ..Report::default()
            });
        };
        folder.remove_leftover_temps();
        let mut report = Report::default();
        let mut staged = Vec::new();
        for artifact in &output.artifacts {
            let target = folder.path.join(&artifact.name);
            match folder.judge(artifact, &|old, new| old == new)? {
                Verdict::Unchanged => report.unchanged.push(target),
                Verdict::Unowned if !self.force => {
                    return Err(error(&target, Problem::NotGenerated));
                }
                Verdict::Missing | Verdict::Stale(_) | Verdict::Unowned => {
                    let contents = artifact.contents.as_bytes();
                    staged.push(Staged::file(dir, &artifact.name, contents)?);
                    report.changed.push(target);
                }
            }
        }
        let leftovers = folder.leftovers(&output.artifacts)?;
        report.removed = folder.paths(&leftovers);
        lock_vec(&self.staged).extend(staged);
        lock_vec(&self.removals).extend(leftovers.into_iter().map(|name| Removal {
            dir: dir.clone(),
            name,
            folder: false,
        }));
        Ok(report)
    }

    /// Notes for removal the spec folders of the output folder that no spec of the run
    /// produces (`kept` names those the run renders) and whose every file is amlgen's; the
    /// files it will remove. Other folders are left alone.
    pub fn prune(&self, kept: &BTreeSet<String>) -> Result<Vec<PathBuf>, Error> {
        let mut removed = Vec::new();
        for name in subfolders(&self.root)? {
            if kept.contains(&name) {
                continue;
            }
            let folder = spec_folder(Some(&self.root), &self.root.path, &name, self.formats)?;
            lock_set(&self.visited).insert(name.clone());
            folder.remove_leftover_temps();
            let Some(files) = folder.orphaned()? else {
                continue;
            };
            let Some(dir) = &folder.dir else { continue };
            removed.extend(folder.paths(&files));
            let mut removals = lock_vec(&self.removals);
            removals.extend(files.into_iter().map(|file| Removal {
                dir: dir.clone(),
                name: file,
                folder: false,
            }));
            removals.push(Removal {
                dir: self.root.clone(),
                name,
                folder: true,
            });
        }
        Ok(removed)
    }

    /// Renames every staged file and folder into place (in parallel, on the current rayon
    /// pool), then removes the files no spec produces any more.
    pub fn commit(self) -> Result<(), Error> {
        let mut staged = std::mem::take(&mut *lock_vec(&self.staged));
        let renamed = {
            let _busy = busy();
            staged.par_iter_mut().try_for_each(Staged::rename)
        };
        drop(staged);
        renamed?;
        for dir in std::mem::take(&mut *lock_vec(&self.created)) {
            created().remove(&dir);
        }
        for removal in lock_vec(&self.removals).iter() {
            removal.run()?;
        }
        Ok(())
    }

    /// Removes the temporary files a killed run left in the spec folders this run did not look
    /// at. Best effort.
    fn sweep(&self) {
        let visited = lock_set(&self.visited);
        let Ok(folders) = subfolders(&self.root) else {
            return;
        };
        let unvisited: Vec<String> = folders
            .into_iter()
            .filter(|name| !visited.contains(name))
            .collect();
        drop(visited);
        unvisited.par_iter().for_each(|name| {
            if let Ok(folder) = spec_folder(Some(&self.root), &self.root.path, name, self.formats) {
                folder.remove_leftover_temps();
            }
        });
    }
}

fn lock_set<T>(set: &Mutex<BTreeSet<T>>) -> MutexGuard<'_, BTreeSet<T>> {
    set.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Staging {
    fn drop(&mut self) {
        // After a commit, even a failed one, both lists are empty.
        lock_vec(&self.staged).clear();
        self.sweep();
        let _busy = busy();
        for dir in lock_vec(&self.created).drain(..).rev() {
            let _ = std::fs::remove_dir(&dir);
            created().remove(&dir);
        }
    }
}

/// A check run: compares outputs with the disk, under a shared lock on the output folder when
/// it exists, and writes nothing.
#[derive(Debug)]
pub struct Checking {
    root: Option<Handle>,
    path: PathBuf,
    formats: &'static dyn Formats,
}

impl Checking {
    /// Locks `root` shared when it exists, again when the run it waited for removed it.
    pub fn begin(
        root: &Path,
        formats: &'static dyn Formats,
        waiting: &mut dyn FnMut(),
    ) -> Result<Self, Error> {
        let path = plain(root);
        let mut wait = once(waiting);
        for _ in 0..RELOCKS {
            if matches!(
                sys::statat(sys::CWD, &path, AtFlags::SYMLINK_NOFOLLOW),
                Err(Errno::NOENT)
            ) {
                return Ok(Self {
                    root: None,
                    path,
                    formats,
                });
            }
            if let Some((dir, _)) = open_root(&path, false, &mut wait)? {
                return Ok(Self {
                    root: Some(dir),
                    path,
                    formats,
                });
            }
        }
        Err(kept_vanishing(&path))
    }

    /// `changed` lists the files of `output` that are amlgen's and differ in more than the
    /// version stamp (with their diffs), `missing` and `unowned` the others a render would
    /// write; `removed` the generated files a render removes.
    pub fn check(&self, output: &Output) -> Result<Report, Error> {
        let folder = spec_folder(self.root.as_ref(), &self.path, &output.name, self.formats)?;
        let mut report = Report::default();
        for artifact in &output.artifacts {
            let target = folder.path.join(&artifact.name);
            let name = artifact.name.as_str();
            let same = |old: &[u8], new: &[u8]| self.formats.same_but_version(name, old, new);
            match folder.judge(artifact, &same)? {
                Verdict::Unchanged => report.unchanged.push(target),
                Verdict::Missing => report.missing.push(target),
                Verdict::Unowned => report.unowned.push(target),
                Verdict::Stale(old) => {
                    report
                        .diffs
                        .push(diff(&target, old.as_deref(), &artifact.contents));
                    report.changed.push(target);
                }
            }
        }
        let leftovers = folder.leftovers(&output.artifacts)?;
        report.removed = folder.paths(&leftovers);
        Ok(report)
    }

    /// The files of the spec folders that no spec of the run produces (`kept` names those it
    /// renders) and whose every file is amlgen's: what a render removes.
    pub fn orphans(&self, kept: &BTreeSet<String>) -> Result<Vec<PathBuf>, Error> {
        let Some(root) = &self.root else {
            return Ok(Vec::new());
        };
        let mut removed = Vec::new();
        for name in subfolders(root)? {
            if kept.contains(&name) {
                continue;
            }
            let folder = spec_folder(Some(root), &self.path, &name, self.formats)?;
            if let Some(files) = folder.orphaned()? {
                removed.extend(folder.paths(&files));
            }
        }
        Ok(removed)
    }
}

/// A unified diff from `old` (the file at `path`; `None` when it was too large to read whole)
/// to `new`.
fn diff(path: &Path, old: Option<&[u8]>, new: &str) -> String {
    let shown = path.display();
    let Some(old) = old else {
        return format!(
            "--- {shown}\n+++ {shown} (rendered)\n(the file on disk is too large to compare; it is replaced whole)\n"
        );
    };
    let old = String::from_utf8_lossy(old);
    similar::TextDiff::from_lines(old.as_ref(), new)
        .unified_diff()
        .context_radius(3)
        .header(&shown.to_string(), &format!("{shown} (rendered)"))
        .to_string()
}

/// What a run does with one artifact.
#[derive(Debug)]
enum Verdict {
    Unchanged,
    /// No file of that name.
    Missing,
    /// amlgen's file, different: its bytes when read whole.
    Stale(Option<Vec<u8>>),
    /// A file amlgen did not generate (or anything but a regular file) is in the way.
    Unowned,
}

/// What is at a name in a spec folder.
#[derive(Debug)]
enum Contents {
    Absent,
    /// A regular file, read whole.
    Whole(Vec<u8>),
    /// A regular file too large to be the one compared with: its first [`HEAD`] bytes.
    Head(Vec<u8>),
    /// Anything but a regular file, or one larger than [`LARGEST`]: not amlgen's.
    Other,
}

/// The largest file amlgen reads: far above anything it writes, so a larger file is not its.
pub const LARGEST: u64 = 64 << 20;
/// How much of a file is read to find its stamp when it is not compared whole.
pub const HEAD: u64 = 4096;
/// How much longer or shorter than the rendered file one that differs only in its version
/// stamp can be.
const SLACK: u64 = 64;

/// A spec's output folder, open, and the entries in it (symbolic links not followed).
#[derive(Debug)]
struct Folder {
    /// `None` when the folder does not exist.
    dir: Option<Handle>,
    path: PathBuf,
    formats: &'static dyn Formats,
    entries: BTreeMap<String, FileType>,
    /// An entry's name is not UTF-8.
    odd: bool,
}

impl Folder {
    fn read(
        dir: Option<Handle>,
        path: PathBuf,
        formats: &'static dyn Formats,
    ) -> Result<Self, Error> {
        let (entries, odd) = match &dir {
            Some(dir) => entries(dir)?,
            None => Default::default(),
        };
        Ok(Self {
            dir,
            path,
            formats,
            entries,
            odd,
        })
    }

    /// The paths of the files `names` in the folder.
    fn paths(&self, names: &[String]) -> Vec<PathBuf> {
        names.iter().map(|name| self.path.join(name)).collect()
    }

    /// Removes the temporary files a killed run left behind (the caller holds the exclusive
    /// lock, so no other run is using them). Best effort.
    fn remove_leftover_temps(&self) {
        let Some(dir) = &self.dir else { return };
        let temps = self
            .entries
            .iter()
            .filter(|(name, kind)| **kind == FileType::RegularFile && is_temporary(name));
        for (name, _) in temps {
            let _ = sys::unlinkat(dir.fd(), name.as_str(), AtFlags::empty());
        }
    }

    /// The file `name`: read whole when it is at most `whole` bytes, else its head.
    fn contents(&self, name: &str, whole: u64) -> Result<Contents, Error> {
        let path = self.path.join(name);
        let (Some(dir), Some(kind)) = (&self.dir, self.entries.get(name)) else {
            return Ok(Contents::Absent);
        };
        match kind {
            FileType::Symlink => return Err(error(&path, Problem::Symlink)),
            FileType::RegularFile => {}
            _ => return Ok(Contents::Other),
        }
        let fd = match sys::openat(dir.fd(), name, READ, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(Contents::Absent),
            Err(Errno::LOOP) => return Err(error(&path, Problem::Symlink)),
            Err(e) => return Err(reading(&path)(e)),
        };
        let stat = sys::fstat(&fd).map_err(reading(&path))?;
        let size = u64::try_from(stat.st_size).unwrap_or(u64::MAX);
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile || size > LARGEST {
            return Ok(Contents::Other);
        }
        let whole = size <= whole;
        let limit = if whole { size.saturating_add(1) } else { HEAD };
        let mut bytes = Vec::with_capacity(usize::try_from(limit).unwrap_or(0));
        File::from(fd)
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(reading(&path))?;
        Ok(if whole {
            Contents::Whole(bytes)
        } else {
            Contents::Head(bytes)
        })
    }

    fn judge(
        &self,
        artifact: &Artifact,
        same: &dyn Fn(&[u8], &[u8]) -> bool,
    ) -> Result<Verdict, Error> {
        let name = artifact.name.as_str();
        let new = artifact.contents.as_bytes();
        let whole = u64::try_from(new.len())
            .unwrap_or(u64::MAX)
            .saturating_add(SLACK);
        Ok(match self.contents(name, whole)? {
            Contents::Absent => Verdict::Missing,
            Contents::Other => Verdict::Unowned,
            Contents::Whole(old) if same(&old, new) => Verdict::Unchanged,
            Contents::Whole(old) if self.owned(name, &old)? => Verdict::Stale(Some(old)),
            Contents::Head(head) if self.owned(name, &head)? => Verdict::Stale(None),
            Contents::Whole(_) | Contents::Head(_) => Verdict::Unowned,
        })
    }

    /// True when the file `name`, starting with `head`, is amlgen's: its header carries
    /// amlgen's stamp, or it is empty (a crash may have emptied it) and named as amlgen names
    /// its files. A file whose format cannot carry a stamp is amlgen's when the file it is
    /// owned through (beside it) is.
    fn owned(&self, name: &str, head: &[u8]) -> Result<bool, Error> {
        if !self.formats.writes(name) {
            return Ok(false);
        }
        if head.is_empty() {
            return Ok(true);
        }
        if let Some(through) = self.formats.owned_through(name) {
            return Ok(match self.contents(through, 0)? {
                Contents::Whole(text) | Contents::Head(text) => {
                    text.is_empty() || self.formats.stamped(through, &text)
                }
                Contents::Absent | Contents::Other => false,
            });
        }
        Ok(self.formats.stamped(name, head))
    }

    /// The regular files amlgen generated in the folder that `artifacts` does not include.
    fn leftovers(&self, artifacts: &[Artifact]) -> Result<Vec<String>, Error> {
        let produced: BTreeSet<&str> = artifacts.iter().map(|a| a.name.as_str()).collect();
        let mut found = Vec::new();
        for (name, kind) in &self.entries {
            if *kind != FileType::RegularFile
                || produced.contains(name.as_str())
                || !self.formats.writes(name)
            {
                continue;
            }
            if let Contents::Whole(head) | Contents::Head(head) = self.contents(name, 0)? {
                if self.owned(name, &head)? {
                    found.push(name.clone());
                }
            }
        }
        Ok(found)
    }

    /// When the folder holds regular files only, at least one, every one amlgen's: their
    /// names (the folder of a spec no longer given); `None` otherwise.
    fn orphaned(&self) -> Result<Option<Vec<String>>, Error> {
        if self.dir.is_none() || self.odd || self.entries.is_empty() {
            return Ok(None);
        }
        let files = self.leftovers(&[])?;
        Ok((files.len() == self.entries.len()).then_some(files))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::Stamps;
    use std::fs;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("amlgen-write-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    const BICEP: &str = "// Generated by amlgen 0.1.0 from spec 'demo'.\nparam x string\n";

    fn output(_dir: &Path, files: &[(&str, &str)]) -> Output {
        Output {
            name: "demo".into(),
            artifacts: files.iter().map(|(n, t)| Artifact::new(*n, *t)).collect(),
        }
    }

    fn write(dir: &Path, outputs: &[Output], force: bool) -> Result<Vec<Report>, Error> {
        let staging = Staging::begin(dir, &Stamps, force, &mut || {})?;
        let reports = outputs
            .iter()
            .map(|o| staging.stage(o))
            .collect::<Result<Vec<_>, _>>()?;
        staging.commit()?;
        Ok(reports)
    }

    /// A scratch folder whose `demo/` holds `file` with `text`.
    fn planted(name: &str, file: &str, text: &str) -> PathBuf {
        let dir = scratch(name);
        fs::create_dir_all(dir.join("demo")).unwrap();
        fs::write(dir.join("demo").join(file), text).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_then_leaves_unchanged_files_alone() {
        let dir = scratch("unchanged");
        let spec = output(&dir, &[("main.bicep", BICEP)]);
        assert_eq!(
            write(&dir, std::slice::from_ref(&spec), false).unwrap()[0]
                .changed
                .len(),
            1
        );
        let report = &write(&dir, &[spec], false).unwrap()[0];
        assert!(report.changed.is_empty() && report.unchanged.len() == 1);
        assert_eq!(
            fs::read_to_string(dir.join("demo/main.bicep")).unwrap(),
            BICEP
        );
        assert_eq!(
            names(&dir.join("demo")),
            ["main.bicep"],
            "no temp file left"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn written_files_get_the_mode_file_create_gives() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = scratch("mode");
        write(&dir, &[output(&dir, &[("main.bicep", BICEP)])], false).unwrap();
        File::create(dir.join("reference")).unwrap();
        fs::create_dir(dir.join("reference-folder")).unwrap();
        let mode = |name: &str| fs::metadata(dir.join(name)).unwrap().permissions().mode();
        assert_eq!(mode("demo/main.bicep"), mode("reference"));
        assert_eq!(mode("demo"), mode("reference-folder"));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn check_ignores_the_version_stamp_only() {
        let dir = scratch("check");
        let arm = |generator: &str, image: &str, tag: &str| {
            format!(
                "{{\n  \"metadata\": {{\n    \"_generator\": {{\n      \"name\": \"amlgen\",\n      \"version\": \"{generator}\"\n    }}\n  }},\n  \"tags\": {{ \"by\": \"{tag}\" }},\n  \"image\": {{\n    \"version\": \"{image}\"\n  }}\n}}\n"
            )
        };
        let old = arm("0.1.0", "latest", "amlgen 1.0");
        write(&dir, &[output(&dir, &[("azuredeploy.json", &old)])], false).unwrap();
        let stale = |text: &str| {
            let checking = Checking::begin(&dir, &Stamps, &mut || {}).unwrap();
            let report = checking.check(&output(&dir, &[("azuredeploy.json", text)]));
            report.unwrap().changed.len()
        };
        assert_eq!(
            stale(&arm("0.2.0", "latest", "amlgen 1.0")),
            0,
            "new amlgen version"
        );
        assert_eq!(
            stale(&arm("0.1.0", "22.04.1", "amlgen 1.0")),
            1,
            "VM image version"
        );
        assert_eq!(stale(&arm("0.1.0", "latest", "amlgen 2.0")), 1, "tag value");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bytes_are_compared_as_bytes() {
        let dir = scratch("bytes");
        let text = "// Generated by amlgen 0.1.0 from spec 'demo'.\nparam x string = '\u{FFFD}'\n";
        write(&dir, &[output(&dir, &[("main.bicep", text)])], false).unwrap();
        // The replacement character on disk replaced by an invalid byte.
        let broken = text.as_bytes().to_vec();
        let at = text.find('\u{FFFD}').unwrap();
        let broken = [&broken[..at], b"\xff", &broken[at + 3..]].concat();
        fs::write(dir.join("demo/main.bicep"), broken).unwrap();
        let checking = Checking::begin(&dir, &Stamps, &mut || {}).unwrap();
        let report = checking
            .check(&output(&dir, &[("main.bicep", text)]))
            .unwrap();
        assert_eq!(report.changed, [dir.join("demo/main.bicep")]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = scratch("failed");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("blocker"), "a file where a folder must go").unwrap();
        let outputs = vec![
            Output {
                name: "ok".into(),
                artifacts: vec![Artifact::new("main.bicep", "x")],
            },
            Output {
                name: "blocker".into(),
                artifacts: vec![Artifact::new("main.bicep", "y")],
            },
        ];
        assert!(write(&dir, &outputs, false).is_err());
        // The new spec folder's temporary folder goes; the file the run found stays.
        assert_eq!(names(&dir), ["blocker"]);
        assert!(created().iter().all(|p| !p.starts_with(&dir)));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_run_waiting_on_a_folder_the_failed_run_removes_writes_into_a_new_one() {
        let root = scratch("replaced");
        let first = Staging::begin(&root, &Stamps, false, &mut || {}).unwrap();
        let (tell, waiting) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            let second = scope.spawn(|| {
                let staging =
                    Staging::begin(&root, &Stamps, false, &mut || tell.send(()).unwrap())?;
                staging.stage(&output(&root, &[("main.bicep", BICEP)]))?;
                staging.commit()
            });
            waiting.recv().unwrap();
            drop(first);
            second.join().unwrap().unwrap();
        });
        assert_eq!(
            fs::read_to_string(root.join("demo/main.bicep")).unwrap(),
            BICEP
        );
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn an_uncommitted_run_removes_the_folders_it_created_and_only_those() {
        let dir = scratch("uncommitted");
        let root = dir.join("a").join("b");
        let staging = Staging::begin(&root, &Stamps, false, &mut || {}).unwrap();
        staging
            .stage(&output(&root, &[("main.bicep", BICEP)]))
            .unwrap();
        drop(staging);
        assert!(
            !dir.exists(),
            "every folder of the path was created by the run"
        );
        fs::create_dir_all(root.join("kept")).unwrap();
        let staging = Staging::begin(&root, &Stamps, false, &mut || {}).unwrap();
        staging
            .stage(&output(&root, &[("main.bicep", BICEP)]))
            .unwrap();
        drop(staging);
        assert_eq!(names(&root), ["kept"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_never_written_through() {
        let dir = scratch("symlink");
        fs::create_dir_all(dir.join("demo")).unwrap();
        fs::write(dir.join("outside"), "precious").unwrap();
        std::os::unix::fs::symlink(dir.join("outside"), dir.join("demo/main.bicep")).unwrap();
        let err = write(&dir, &[output(&dir, &[("main.bicep", BICEP)])], true).unwrap_err();
        assert!(matches!(err.problem, Problem::Symlink));
        assert!(
            err.to_string()
                .contains("demo/main.bicep: is a symbolic link"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(dir.join("outside")).unwrap(), "precious");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn files_amlgen_did_not_generate_are_kept_unless_forced() {
        let dir = planted("owned", "main.bicep", "// mine\n");
        let spec = output(&dir, &[("main.bicep", BICEP)]);
        let err = write(&dir, std::slice::from_ref(&spec), false).unwrap_err();
        assert!(matches!(err.problem, Problem::NotGenerated), "{err}");
        assert_eq!(
            fs::read_to_string(dir.join("demo/main.bicep")).unwrap(),
            "// mine\n"
        );
        write(&dir, &[spec], true).unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("demo/main.bicep")).unwrap(),
            BICEP
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn generated_files_the_spec_no_longer_produces_are_removed() {
        let dir = scratch("leftover");
        let both = output(&dir, &[("computes.bicep", BICEP), ("main.bicep", BICEP)]);
        write(&dir, &[both], false).unwrap();
        fs::write(dir.join("demo/notes.bicep"), "// my notes\n").unwrap();
        let main_only = output(&dir, &[("main.bicep", BICEP)]);
        let checking = Checking::begin(&dir, &Stamps, &mut || {}).unwrap();
        let checked = checking.check(&main_only).unwrap();
        assert_eq!(checked.removed, [dir.join("demo/computes.bicep")]);
        drop(checking);
        let report = &write(&dir, &[main_only], false).unwrap()[0];
        assert_eq!(report.removed, [dir.join("demo/computes.bicep")]);
        assert_eq!(names(&dir.join("demo")), ["main.bicep", "notes.bicep"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_parameters_file_is_owned_through_its_template() {
        let dir = planted("parameters", "azuredeploy.parameters.json", "{}\n");
        let parameters = output(&dir, &[("azuredeploy.parameters.json", "{\"a\": 1}\n")]);
        let err = write(&dir, std::slice::from_ref(&parameters), false).unwrap_err();
        assert!(matches!(err.problem, Problem::NotGenerated), "{err}");
        let arm = "{\"metadata\": {\"_generator\": {\"name\": \"amlgen\"}}}\n";
        fs::write(dir.join("demo/azuredeploy.json"), arm).unwrap();
        write(&dir, &[parameters], false).unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_new_spec_folder_appears_whole_at_the_commit() {
        let dir = scratch("whole");
        let staging = Staging::begin(&dir, &Stamps, false, &mut || {}).unwrap();
        let spec = output(&dir, &[("main.bicep", BICEP), ("README.md", "r\n")]);
        let report = staging.stage(&spec).unwrap();
        assert_eq!(report.changed.len(), 2);
        let staged = names(&dir);
        assert!(
            staged.len() == 1 && is_temporary(&staged[0]),
            "one temporary folder and no spec folder before the commit: {staged:?}"
        );
        staging.commit().unwrap();
        assert_eq!(names(&dir), ["demo"]);
        assert_eq!(names(&dir.join("demo")), ["README.md", "main.bicep"]);
        assert!(created().iter().all(|p| !p.starts_with(&dir)));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn temps_of_a_killed_run_are_cleaned_up() {
        let dir = planted("killed", ".amlgen-Ab12Cd.tmp", "half");
        let folder = dir.join(".amlgen-Ef34Gh.tmp");
        fs::create_dir(&folder).unwrap();
        fs::write(folder.join("main.bicep"), "half").unwrap();
        write(&dir, &[output(&dir, &[("main.bicep", BICEP)])], false).unwrap();
        assert_eq!(names(&dir.join("demo")), ["main.bicep"]);
        assert_eq!(
            names(&dir),
            ["demo"],
            "the killed run's temporary folder is gone"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
