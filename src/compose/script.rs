//! Composition by a WAC script: for what automatic plugging cannot say (renaming, choosing one of
//! two providers, exporting several interfaces). wac-parser parses and resolves the script;
//! its errors point at the line and column in the .wac file.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use miette::{Diagnostic, NamedSource};
use wac_graph::types::ItemKind;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId, NodeKind};
use wac_parser::Document;
use wac_types::BorrowedPackageKey;

use super::{ComposeError, Composed, Input};
use crate::check::names::InterfaceName;
use crate::check::plug::{Checked, ComponentId, Link, Provider};
use crate::check::{Against, Code, Finding, Severity, load};

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

/// One package of a WAC script and the component that provides it.
#[derive(Debug, Clone)]
pub struct ScriptDep {
    /// The package name the script uses (`weld:arith`, optionally `@version`).
    pub package: String,
    /// The component: its name in messages and its file.
    pub input: Input,
}

impl ScriptDep {
    /// Whether it is a WIT package directory (types for the script's imports), as wac takes a
    /// directory, rather than a component.
    pub fn is_wit(&self) -> bool {
        self.input.path.is_dir()
    }
}

/// `--dep PKG=PATH`, the component named by its package, as the script names it.
impl std::str::FromStr for ScriptDep {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        match spec.split_once('=') {
            Some((pkg, path)) if !pkg.is_empty() && !path.is_empty() => Ok(ScriptDep {
                package: pkg.to_string(),
                input: Input {
                    name: pkg.split('@').next().unwrap_or(pkg).to_string(),
                    path: std::path::PathBuf::from(path),
                },
            }),
            _ => Err("expected PKG=PATH, e.g. weld:arith=arith.wasm".into()),
        }
    }
}

/// What a WAC script wires: for every import of every component it instantiates, who provides
/// it. `weld check` and `weld up` check this, not an automatic plugging of every component.
pub struct ScriptWiring {
    /// The components the script uses, in the order it names them.
    pub components: Vec<String>,
    /// Who provides every import, and the findings that explain it.
    pub checked: Checked,
}

/// Parses and resolves the script at `script` against `deps`, then hands the resolution and
/// the components (named as `deps` names them, in the script's order) to `then`.
fn resolve<T>(
    script: &Path,
    deps: &[ScriptDep],
    label: bool,
    then: impl FnOnce(&wac_parser::resolution::Resolution<'_>, Vec<String>) -> Result<T, ComposeError>,
) -> Result<T, ComposeError> {
    let text = crate::fsutil::read_text(script).map_err(|source| ComposeError::Read {
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
        let Some(dep) = deps
            .iter()
            .find(|d| d.package == full || d.package == key.name)
        else {
            return Err(ComposeError::UnknownPackage(Box::new(UnknownPackage {
                path: script.to_path_buf(),
                name: full,
                src: NamedSource::new(crate::fsutil::shown(script), text.clone()),
                span,
            })));
        };
        components.push(dep.input.name.clone());
        let bytes = if dep.is_wit() {
            // A WIT package, as wac's own resolver takes a directory: types for the script's
            // `import` statements, never instantiated.
            let (resolve, package) = crate::wit::load_dir(&dep.input.path, &dep.input.path)?;
            wit_component::encode(&resolve, package, false).map_err(|e| ComposeError::Graph {
                message: format!(
                    "cannot encode the WIT package in {}: {e}",
                    crate::fsutil::shown(&dep.input.path)
                ),
            })?
        } else {
            // The same one-line reasons as everywhere for a file that is not a component. One
            // whose types WIT cannot express is still a component: wac types it itself.
            let bytes = match load::load(&dep.input.path, &dep.input.name) {
                Ok(loaded) => loaded.bytes,
                Err(e) if e.is_inexpressible() => crate::fsutil::read_file(&dep.input.path)
                    .map_err(|source| ComposeError::Read {
                        path: dep.input.path.clone(),
                        source,
                    })?,
                Err(e) => return Err(e.into()),
            };
            if label {
                super::names::label_modules(&bytes, &dep.input.name)
            } else {
                bytes
            }
        };
        packages.insert(key, bytes);
    }

    let resolution = document
        .resolve(packages)
        .map_err(|e| script_error(Box::new(e)))?;
    then(&resolution, components)
}

/// The wiring the WAC script at `script` makes of the components in `deps`.
pub fn wire_script(script: &Path, deps: &[ScriptDep]) -> Result<ScriptWiring, ComposeError> {
    resolve(script, deps, false, |resolution, components| {
        let checked = links(resolution.graph(), &components);
        Ok(ScriptWiring {
            components,
            checked,
        })
    })
}

/// Every import of every instantiation in `graph`: given by another instance's export, by an
/// import of the app (the runtime's, for WASI 0.2), or left open (an implicit import).
fn links(graph: &CompositionGraph, components: &[String]) -> Checked {
    let package_of = |node: NodeId| -> Option<ComponentId> {
        let package = graph[node].package()?;
        let name = graph[package].name();
        // The graph knows packages by the script's names; `resolve` registered them in order.
        graph
            .packages()
            .position(|p| p.name() == name)
            .filter(|i| *i < components.len())
    };
    let mut checked = Checked::default();
    for node in graph.node_ids() {
        if !matches!(graph[node].kind(), NodeKind::Instantiation(_)) {
            continue;
        }
        let (Some(consumer), Some(package)) = (package_of(node), graph[node].package()) else {
            continue;
        };
        let args: Vec<(&str, NodeId)> = graph.get_instantiation_arguments(node).collect();
        for (import, kind) in &graph.types()[graph[package].ty()].imports {
            if matches!(kind, ItemKind::Type(_)) {
                continue;
            }
            let given = args.iter().find(|(name, _)| name == import).map(|a| a.1);
            let provider = match given.map(|source| (source, graph[source].kind())) {
                Some((source, NodeKind::Alias)) => graph
                    .get_alias_source(source)
                    .and_then(|(instance, export)| {
                        Some(Provider::Component {
                            id: package_of(instance)?,
                            export: export.to_string(),
                        })
                    })
                    .unwrap_or(Provider::Nobody),
                Some((source, NodeKind::Instantiation(_))) => match package_of(source) {
                    Some(id) => Provider::Component {
                        id,
                        export: String::new(),
                    },
                    None => Provider::Nobody,
                },
                Some((_, NodeKind::Import(name)))
                    if InterfaceName::parse(name).runtime_provided() =>
                {
                    Provider::Runtime
                }
                None if InterfaceName::parse(import).runtime_provided() => Provider::Runtime,
                Some((_, NodeKind::Import(name))) => Provider::AppImport(name.clone()),
                _ => Provider::Nobody,
            };
            checked.findings.push(finding(
                &components[consumer],
                import,
                &provider,
                components,
            ));
            checked.links.push(Link {
                consumer,
                import: import.clone(),
                provider,
            });
        }
    }
    checked
}

/// The finding for one import the script wires.
fn finding(consumer: &str, import: &str, provider: &Provider, components: &[String]) -> Finding {
    let (severity, code, message, help, from) = match provider {
        Provider::Component { id, .. } => (
            Severity::Info,
            Code::Satisfied,
            format!(
                "`{consumer}` imports {import} from `{}`, as the script wires it",
                components[*id]
            ),
            None,
            Some(components[*id].clone()),
        ),
        Provider::Runtime => (
            Severity::Info,
            Code::RuntimeProvided,
            format!("`{consumer}` imports {import}: provided by weld's runtime (WASI 0.2)"),
            None,
            None,
        ),
        Provider::AppImport(name) => (
            Severity::Warning,
            Code::ScriptImport,
            format!(
                "`{consumer}` imports {import}, which the script passes from the app's own import `{name}`"
            ),
            // (A WASI import the runtime has is `Provider::Runtime`, not this.)
            Some(format!(
                "whoever runs the app must provide `{name}`: weld's runtime does not"
            )),
            None,
        ),
        _ => (
            Severity::Error,
            Code::UnsatisfiedImport,
            format!("`{consumer}` imports {import}, but the script gives it nothing"),
            Some(
                "pass it in the script's `new` expression (`new pkg { name: other.export }`), or give a component that exports it"
                    .to_string(),
            ),
            None,
        ),
    };
    Finding {
        location: None,
        severity,
        code,
        against: Against::Components,
        consumer: consumer.to_string(),
        provider: from,
        interface: import.to_string(),
        item: None,
        expected: None,
        found: None,
        message,
        help,
    }
}

/// Composes by the WAC script at `script`, whose packages are the components in `deps`, into
/// `output`.
pub fn compose_script(
    script: &Path,
    deps: &[ScriptDep],
    output: &Path,
    strict: bool,
    wat: bool,
) -> Result<Composed, ComposeError> {
    let (bytes, components, checked) = resolve(script, deps, true, |resolution, components| {
        let bytes = resolution
            .encode(EncodeOptions {
                define_components: true,
                // Validated when written, in parallel.
                validate: false,
                processor: None,
            })
            .map_err(|e| super::graph_error("encoding the composition", e))?;
        let bytes = super::names::sort_component_names(bytes);
        let checked = links(resolution.graph(), &components);
        Ok((bytes, components, checked))
    })?;
    let wired = super::wires(&checked, &components);

    // What the app still imports (WASI for the runtime, anything else unprovided) and exports,
    // read from the binary by name: a composition may be valid yet not expressible as a WIT
    // world (an exported type), and weld needs no more of it than the names.
    let encoded = super::readback::read(&bytes).ok_or_else(|| ComposeError::Graph {
        message: "the encoded composition does not read back".into(),
    })?;
    let (imports, unresolved): (Vec<String>, Vec<String>) = encoded
        .all_imports
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
    // A WIT package lent the script types; it is not a component of the app.
    let components = components
        .into_iter()
        .filter(|name| !deps.iter().any(|d| d.input.name == *name && d.is_wit()))
        .collect();
    Ok(Composed {
        output: output.to_path_buf(),
        size,
        components,
        wired,
        imports,
        unresolved,
        exports: encoded.exports,
    })
}
