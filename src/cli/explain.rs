//! `amlgen explain`: a diagnostic code's documentation, or a spec's rules and routes with their
//! reasons; the texts are the library's `explain`.

use std::io::Write;
use std::path::PathBuf;

use crate::Error;
use crate::diag::Format;
use crate::explain;

/// The arguments of `amlgen explain`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// A spec file, or a diagnostic or finding code such as `cidr-overlap`.
    #[arg(value_name = "SPEC|CODE")]
    subject: String,
}

/// Runs `amlgen explain`: 0 when explained, 1 for an invalid spec, 2 for neither a code nor a
/// readable file.
pub(super) fn command(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    if let Some(section) = explain::code_section(&args.subject) {
        out.write_all(section.as_bytes()).map_err(Error::Output)?;
        return Ok(0);
    }
    let path = PathBuf::from(&args.subject);
    if !path.is_file() {
        let hint = explain::nearest_code(&args.subject)
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        writeln!(
            err,
            "error: `{}` is neither a diagnostic code{hint} nor a spec file",
            crate::diag::escape(&args.subject)
        )
        .map_err(Error::Output)?;
        return Ok(2);
    }
    let (rendered, invalid) = super::verify::render_spec(&path, Format::Human, err)?;
    for (label, spec) in &rendered {
        let report = spec.report(label.clone());
        out.write_all(explain::spec_text(&spec.plan, &report, label).as_bytes())
            .map_err(Error::Output)?;
    }
    Ok(u8::from(invalid))
}
