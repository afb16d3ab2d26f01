//! The files amlgen reads, and the map from JSON Pointers to positions in a spec's text.
//!
//! Input is bounded here: only regular files are read (a FIFO, a device or a folder is refused
//! before a byte is read, so nothing can hang or fill memory), each kind of file has a size
//! limit, and text that is not UTF-8 is kept (lossily, for display) with the position of its
//! first bad byte for the YAML stage to report. The YAML stage records where every key and value
//! starts and ends; everything later names places by JSON Pointer, and this module turns a
//! pointer back into `line:col` for rendering.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: usize,
    pub col: usize,
}

/// A range of text, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

/// The key span (absent for sequence items and the root) and value span of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    pub key: Option<Span>,
    pub value: Span,
}

/// JSON Pointer -> where that node is written.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    nodes: BTreeMap<String, NodeSpan>,
}

impl SpanIndex {
    pub fn insert(&mut self, pointer: String, span: NodeSpan) {
        self.nodes.insert(pointer, span);
    }

    /// Moves every recorded position by `map` (used when the text scanned differs from the
    /// spec's, by rewritten escapes).
    pub fn map_positions(&mut self, map: impl Fn(Position) -> Position) {
        let span = |s: Span| Span {
            start: map(s.start),
            end: map(s.end),
        };
        for node in self.nodes.values_mut() {
            node.key = node.key.map(span);
            node.value = span(node.value);
        }
    }

    /// The span of the node at `pointer`, or of its nearest ancestor that was written down (a
    /// key that was left out, and took its default, points at the mapping that lacks it). The
    /// flag is `true` when the node itself was found.
    pub fn find(&self, pointer: &str) -> Option<(NodeSpan, bool)> {
        let mut current = pointer;
        loop {
            if let Some(span) = self.nodes.get(current) {
                return Some((*span, current.len() == pointer.len()));
            }
            current = &current[..current.rfind('/')?];
        }
    }
}

/// The most bytes amlgen reads from one kind of file, and what that kind is called in messages.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bytes: u64,
    pub what: &'static str,
}

/// The largest spec amlgen reads: real specs are a few kilobytes.
pub const SPEC_LIMIT: Limit = Limit {
    bytes: 1 << 20,
    what: "a spec",
};

/// The largest service-tags file amlgen reads: Microsoft's public-cloud file is about 4 MB.
pub const SERVICE_TAGS_LIMIT: Limit = Limit {
    bytes: 32 << 20,
    what: "a service-tags file (Microsoft's is about 4 MB)",
};

/// The largest ARM template `verify` reads: Azure refuses templates over 4 MB.
pub const TEMPLATE_LIMIT: Limit = Limit {
    bytes: 16 << 20,
    what: "an ARM template (Azure accepts at most 4 MB)",
};

/// Reads the regular file at `path`, at most `limit` bytes. Anything else (a folder, a FIFO, a
/// device such as `/dev/zero`) and anything larger is an error that says why, returned before
/// the read could block or grow without bound.
pub fn read_file(path: &Path, limit: Limit) -> io::Result<Vec<u8>> {
    let file = open_without_blocking(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", kind_of(&metadata)),
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the file is larger than {} MiB, the most amlgen reads for {}",
                limit.bytes >> 20,
                limit.what
            ),
        )
    };
    if metadata.len() > limit.bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    // One byte more than the limit tells a file that grew since `metadata` from one that fits.
    file.take(limit.bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit.bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Reads standard input, at most `limit` bytes (a larger input is an error, not truncated).
pub fn read_stdin(limit: Limit) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(limit.bytes + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit.bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "more than {} MiB, the most amlgen reads for {}",
                limit.bytes >> 20,
                limit.what
            ),
        ));
    }
    Ok(bytes)
}

/// Opens `path` for reading; on Unix with `O_NONBLOCK`, so that opening a FIFO does not wait for
/// a writer (regular files read the same either way).
fn open_without_blocking(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

/// What a file that is not a regular file is, in words.
fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if metadata.is_dir() {
        "a folder"
    } else {
        "the path"
    }
}

/// A spec file as read from disk.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as the user gave it (never made absolute: it appears in messages).
    pub path: String,
    /// The text; bytes that are not UTF-8 are shown as U+FFFD.
    pub text: String,
    /// Where the first byte that is not UTF-8 is, if there is one.
    pub not_utf8: Option<Position>,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
            not_utf8: None,
        }
    }

    /// A source from the bytes of a file, noting where the first byte that is not UTF-8 is.
    pub fn from_bytes(path: impl Into<String>, bytes: Vec<u8>) -> Self {
        let not_utf8 = std::str::from_utf8(&bytes).err().map(|error| {
            let valid = String::from_utf8_lossy(&bytes[..error.valid_up_to()]);
            let (lines_before, line) = valid
                .rsplit_once('\n')
                .map_or((0, valid.as_ref()), |(before, line)| {
                    (before.matches('\n').count() + 1, line)
                });
            Position {
                line: lines_before + 1,
                col: line.chars().count() + 1,
            }
        });
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        Self {
            path: path.into(),
            text,
            not_utf8,
        }
    }

    /// The text of 1-based line `line`, without its line ending.
    pub fn line(&self, line: usize) -> Option<&str> {
        self.text.lines().nth(line.checked_sub(1)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(line: usize) -> NodeSpan {
        let at = Position { line, col: 1 };
        NodeSpan {
            key: None,
            value: Span { start: at, end: at },
        }
    }

    #[test]
    fn find_falls_back_to_the_nearest_ancestor() {
        let mut index = SpanIndex::default();
        index.insert(String::new(), span(1));
        index.insert("/network".into(), span(4));
        assert_eq!(
            index.find("/network/vnet/name").unwrap().0.value.start.line,
            4
        );
        assert!(index.find("/network").unwrap().1);
        assert_eq!(index.find("/compute").unwrap().0.value.start.line, 1);
    }

    #[test]
    fn the_first_byte_that_is_not_utf8_is_located() {
        let source = Source::from_bytes("s.yaml", b"a: 1\nb: \xc3\xa9\xff\n".to_vec());
        assert_eq!(source.not_utf8, Some(Position { line: 2, col: 5 }));
        assert_eq!(source.line(2), Some("b: \u{e9}\u{fffd}"));
        assert_eq!(
            Source::from_bytes("s.yaml", b"a: 1\n".to_vec()).not_utf8,
            None
        );
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = std::env::temp_dir().join(format!("amlgen-source-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("spec.yaml");
        std::fs::write(&file, "name: x\n").unwrap();
        let limit = |bytes| Limit {
            bytes,
            what: "a test",
        };
        assert_eq!(read_file(&file, limit(8)).unwrap(), b"name: x\n");
        let error = read_file(&file, limit(7)).unwrap_err().to_string();
        assert!(
            error.ends_with("the most amlgen reads for a test"),
            "{error}"
        );
        let error = read_file(&dir, SPEC_LIMIT).unwrap_err().to_string();
        assert_eq!(error, "a folder is not a regular file");
        #[cfg(unix)]
        {
            let error = read_file(Path::new("/dev/zero"), SPEC_LIMIT).unwrap_err();
            assert_eq!(error.to_string(), "a device is not a regular file");
            // Opening a FIFO without a writer would block forever without O_NONBLOCK.
            let fifo = dir.join("fifo.yaml");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|status| status.success()) {
                let error = read_file(&fifo, SPEC_LIMIT).unwrap_err();
                assert_eq!(error.to_string(), "a FIFO is not a regular file");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lines_are_one_based() {
        let source = Source::new("s.yaml", "a: 1\r\nb: 2\n");
        assert_eq!(source.line(2), Some("b: 2"));
        assert_eq!(source.line(0), None);
    }
}
