//! Composition by a WAC script: for what automatic plugging cannot say (renaming, choosing one of
//! two providers, exporting several interfaces). wac-parser parses and resolves the script;
//! its errors point at the line and column in the .wac file.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use miette::{Diagnostic, NamedSource};
use wac_graph::EncodeOptions;
use wac_parser::Document;
use wac_types::BorrowedPackageKey;

use super::{ComposeError, Composed};
use crate::check::load;
use crate::check::plug::InterfaceName;

/// A WAC syntax or resolution error, shown in the script's own text.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{}: {message}", path.display())]
#[diagnostic(forward(inner))]
pub struct ScriptError {
    path: PathBuf,
    message: String,
    #[source_code]
    src: NamedSource<String>,
    inner: Box<dyn Diagnostic + Send + Sync>,
}

impl ScriptError {
    fn new(path: &Path, text: &str, inner: Box<dyn Diagnostic + Send + Sync>) -> ScriptError {
        ScriptError {
            path: path.to_path_buf(),
            message: inner.to_string(),
            src: NamedSource::new(crate::fsutil::shown(path), text.to_string()),
            inner,
        }
    }
}

/// A package a script names that no `--dep` (or `[compose] deps` entry) provides.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{}: package `{name}` is not given", path.display())]
#[diagnostic(
    code(weld::compose::unknown_package),
    help("pass `--dep {name}=PATH.wasm`, or map it to a component in weld.toml's [compose] deps")
)]
pub struct UnknownPackage {
    path: PathBuf,
    name: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("no component given for this package")]
    span: miette::SourceSpan,
}

/// Composes by the WAC script at `script`, whose packages are the components in `deps`
/// (package name, optionally `@version`, → file), into `output`.
pub fn compose_script(
    script: &Path,
    deps: &[(String, PathBuf)],
    output: &Path,
    strict: bool,
    wat: bool,
) -> Result<Composed, ComposeError> {
    let text = std::fs::read_to_string(script).map_err(|source| ComposeError::Read {
        path: script.to_path_buf(),
        source,
    })?;
    let script_error = |e: Box<dyn Diagnostic + Send + Sync>| {
        ComposeError::Script(Box::new(ScriptError::new(script, &text, e)))
    };
    let document = Document::parse(&text).map_err(|e| script_error(Box::new(e)))?;
    let keys = wac_resolver::packages(&document).map_err(|e| script_error(Box::new(e)))?;

    let mut packages: IndexMap<BorrowedPackageKey<'_>, Vec<u8>> = IndexMap::new();
    let mut components = Vec::new();
    for (key, span) in keys {
        let full = match key.version {
            Some(v) => format!("{}@{v}", key.name),
            None => key.name.to_string(),
        };
        let Some((_, path)) = deps
            .iter()
            .find(|(name, _)| *name == full || *name == key.name)
        else {
            return Err(ComposeError::UnknownPackage(Box::new(UnknownPackage {
                path: script.to_path_buf(),
                name: full,
                src: NamedSource::new(crate::fsutil::shown(script), text.clone()),
                span,
            })));
        };
        // The same one-line reasons as everywhere for a file that is not a component.
        let loaded = load::load(path, key.name)?;
        components.push(key.name.to_string());
        packages.insert(key, super::names::label_modules(&loaded.bytes, key.name));
    }

    let resolution = document
        .resolve(packages)
        .map_err(|e| script_error(Box::new(e)))?;
    let bytes = resolution
        .encode(EncodeOptions {
            define_components: true,
            // Validated when written, in parallel.
            validate: false,
            processor: None,
        })
        .map_err(|e| super::graph_error("encoding the composition", e))?;

    // What the app still imports: WASI for the runtime, anything else is unprovided.
    let (resolve, world) = load::decode(&bytes).map_err(|(reason, _)| ComposeError::Graph {
        message: format!("the composed component does not decode: {reason}"),
    })?;
    let world = &resolve.worlds[world];
    let names = |items: &IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>| -> Vec<String> {
        items
            .iter()
            .filter(|(_, item)| !matches!(item, wit_parser::WorldItem::Type { .. }))
            .map(|(key, _)| resolve.name_world_key(key))
            .collect()
    };
    let all_imports = names(&world.imports);
    let (imports, unresolved): (Vec<String>, Vec<String>) = all_imports
        .into_iter()
        .partition(|name| InterfaceName::parse(name).runtime_provided());
    if strict && !unresolved.is_empty() {
        return Err(ComposeError::Graph {
            message: format!(
                "the composed app would still import {} (nothing provides {}; --strict refuses this)",
                unresolved.join(", "),
                if unresolved.len() == 1 { "it" } else { "them" }
            ),
        });
    }
    let size = super::validate_and_write(output, &bytes, wat)?;
    Ok(Composed {
        output: output.to_path_buf(),
        size,
        components,
        wired: Vec::new(),
        imports,
        unresolved,
        exports: names(&world.exports),
    })
}
