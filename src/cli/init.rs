//! `init`: a commented starter spec that renders as it is.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diag::Format;
use crate::write;
use crate::{Compiled, Error};

/// The starter spec `init` writes; `{name}` is replaced by the spec's name.
const STARTER: &str = include_str!("starter.yaml");
/// The file the starter spec's modeline names.
const SCHEMA_FILE: &str = "amlgen.schema.json";

/// Writes `NAME.yaml` (never over an existing file) after checking that it compiles, and the
/// JSON Schema beside it when missing.
pub(super) fn init(name: &str, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    let file = PathBuf::from(format!("{name}.yaml"));
    let text = STARTER.replace("{name}", name);
    let source = crate::source::Source::new(file.display().to_string(), text.clone());
    let compiled = crate::compile(source, Path::new("."))?;
    let named = compiled
        .first()
        .and_then(|c| c.plan.as_ref())
        .map(|p| p.name.as_str());
    if named != Some(name) {
        let findings: Vec<_> = compiled.iter().map(Compiled::findings).collect();
        let document = crate::diag::render(Format::Human, &findings);
        let refusal = format!("error: `{name}` cannot name a spec; nothing was written\n");
        err.write_all(document.as_bytes())
            .and_then(|()| err.write_all(refusal.as_bytes()))
            .map_err(Error::Output)?;
        return Ok(1);
    }
    create_new(&file, &text)?;
    let mut said = format!("wrote {}\n", file.display());
    if !Path::new(SCHEMA_FILE).exists() {
        create_new(Path::new(SCHEMA_FILE), crate::schema::SCHEMA)?;
        said += &format!("wrote {SCHEMA_FILE} (the schema editors read for completion)\n");
    }
    said += &format!("next: amlgen render {}\n", file.display());
    out.write_all(said.as_bytes()).map_err(Error::Output)?;
    Ok(0)
}

fn create_new(path: &Path, text: &str) -> Result<(), Error> {
    let failed = |e: std::io::Error| {
        Error::Write(write::Error {
            path: path.to_path_buf(),
            problem: write::Problem::Io(e),
        })
    };
    let mut file = std::fs::File::create_new(path).map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)
}
