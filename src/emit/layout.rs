//! The Tera layouts that the Bicep and README printers fill in: each set is parsed once per
//! process, and a layout that does not parse or render is an [`Error`] naming the file, never a
//! half-written one.

use std::sync::OnceLock;

use tera::{Context, Tera};

/// A defect in amlgen itself found while printing a template: a built-in layout that does not
/// parse or render, or a model that does not serialize.
#[derive(Debug)]
pub enum Error {
    /// The layout of `file` does not parse or render; `detail` is Tera's chain of causes.
    Layout { file: String, detail: String },
    /// The model of a JSON file does not serialize.
    Json {
        file: &'static str,
        source: serde_json::Error,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Layout { file, detail } => write!(f, "the layout of {file} fails: {detail}"),
            Error::Json { file, source } => write!(f, "{file} does not serialize: {source}"),
        }
    }
}

impl std::error::Error for Error {}

/// Tera's error with every cause it wraps, on one line.
fn chain(error: &tera::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text += &format!(": {e}");
        cause = e.source();
    }
    text
}

/// One set of layouts, parsed on first use. `build` makes the engine (adds the templates, sets
/// escaping); its error is kept and returned to every render that needs the set.
#[derive(Debug)]
pub(super) struct Layouts {
    cell: OnceLock<Result<Tera, String>>,
    build: fn() -> tera::Result<Tera>,
}

impl Layouts {
    pub(super) const fn new(build: fn() -> tera::Result<Tera>) -> Self {
        Self {
            cell: OnceLock::new(),
            build,
        }
    }

    /// The parsed engine; `Err` names the set's first file.
    pub(super) fn engine(&self) -> Result<&Tera, Error> {
        self.cell
            .get_or_init(|| (self.build)().map_err(|e| chain(&e)))
            .as_ref()
            .map_err(|detail| Error::Layout {
                file: "the built-in layouts".to_string(),
                detail: detail.clone(),
            })
    }

    /// Renders the layout `name` with `view` (a JSON object, taken whole), tidied.
    pub(super) fn render(&self, name: &str, view: serde_json::Value) -> Result<String, Error> {
        let failed = |e: tera::Error| Error::Layout {
            file: name.to_string(),
            detail: chain(&e),
        };
        let context = Context::from_value(view).map_err(failed)?;
        self.engine()?
            .render(name, &context)
            .map(|text| super::tidy(&text))
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_that_does_not_parse_fails_every_render_that_needs_it() {
        static BROKEN: Layouts = Layouts::new(|| {
            let mut tera = Tera::default();
            tera.add_raw_template("x.bicep", "{% if %}")?;
            Ok(tera)
        });
        for _ in 0..2 {
            let error = BROKEN.render("x.bicep", serde_json::json!({})).unwrap_err();
            assert!(matches!(error, Error::Layout { .. }), "{error}");
        }
    }

    #[test]
    fn a_layout_that_does_not_render_names_its_file_and_the_cause() {
        static LAYOUT: Layouts = Layouts::new(|| {
            let mut tera = Tera::default();
            tera.add_raw_template("main.bicep", "{{ missing }}")?;
            Ok(tera)
        });
        let error = LAYOUT
            .render("main.bicep", serde_json::json!({}))
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("the layout of main.bicep fails: "),
            "{text}"
        );
        assert!(text.contains("missing"), "{text}");
    }
}
