//! Stage 4, compose: many components into one, with wac-graph.
//!
//! The check stage decides the wiring (and refuses what does not fit, with its explanation);
//! this stage only builds the graph from it: every component instantiated once, each satisfied
//! import given the provider's export, plugs feeding plugs included. Imports left for the
//! runtime are imported once per WASI interface, at the highest version any component asks for,
//! and shared by every instance that needs a compatible version.

pub mod graph;
mod inputs;
pub mod names;
mod readback;
mod script;

pub use inputs::ProjectInputs;
pub use script::{
    ScriptDep, ScriptError, ScriptWiring, UnknownPackage, compose_script, wire_script,
};

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use serde::Serialize;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId};

use crate::check::names::InterfaceName;
use crate::check::plug::{self, Checked, ComponentId, Provider};
use crate::check::{Code, Finding, LoadError, Severity, load};

/// A component to compose, with the name messages use.
#[derive(Debug, Clone)]
pub struct Input {
    /// Its name (from weld.toml, or the file name).
    pub name: String,
    /// The component file.
    pub path: PathBuf,
}

impl Input {
    /// Inputs given as files on the command line, each named by its file name; where two share
    /// a file name (`a/app.wasm`, `b/app.wasm`), those are named by their paths as given, so
    /// messages tell them apart.
    pub fn from_paths(paths: &[PathBuf]) -> Vec<Input> {
        let file_name = |p: &PathBuf| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        };
        paths
            .iter()
            .map(|path| {
                let name = file_name(path);
                let shared = paths.iter().filter(|p| file_name(p) == name).count() > 1;
                Input {
                    name: if shared {
                        path.display().to_string()
                    } else {
                        name
                    },
                    path: path.clone(),
                }
            })
            .collect()
    }
}

/// One wired import.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Wire {
    /// The importing component.
    pub consumer: String,
    /// The interface, as imported.
    pub interface: String,
    /// The exporting component.
    pub provider: String,
}

/// What a composition produced.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Composed {
    /// The composed component.
    pub output: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The components, root first.
    pub components: Vec<String>,
    /// Imports satisfied inside the composition.
    pub wired: Vec<Wire>,
    /// What the composed component imports (each once): WASI 0.2 that `weld run` provides.
    pub imports: Vec<String>,
    /// Imports that nothing provides, left as imports of the app (refused with `strict`).
    pub unresolved: Vec<String>,
    /// What it exports (the root's exports).
    pub exports: Vec<String>,
}

/// Why a composition did not happen.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ComposeError {
    /// An input is not a usable component.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),

    /// The components do not fit; the findings say why.
    #[error("the components do not fit together: {} problem{}", errors.len(), if errors.len() == 1 { "" } else { "s" })]
    #[diagnostic(
        code(weld::compose::does_not_fit),
        help("`weld check` with the same inputs explains each problem")
    )]
    DoesNotFit {
        /// The components, root first, as the findings name them.
        components: Vec<String>,
        /// Every finding (the caller prints them).
        findings: Vec<Finding>,
        /// The errors among them.
        errors: Vec<Finding>,
    },

    /// wac-graph refused a step (for example a cycle between plugs).
    #[error("cannot compose: {message}")]
    #[diagnostic(code(weld::compose::graph))]
    Graph {
        /// What wac-graph said, with our context.
        message: String,
    },

    /// A component of the project has not been built yet.
    #[error(
        "component `{name}` is not built yet ({} does not exist): run `weld build` first",
        crate::fsutil::shown(path)
    )]
    #[diagnostic(code(weld::compose::not_built))]
    NotBuilt {
        /// The component.
        name: String,
        /// Where its build goes.
        path: PathBuf,
    },

    /// The WAC script cannot be read.
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(weld::compose::read))]
    Read {
        /// The script.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// The WAC script does not parse or resolve.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Script(Box<script::ScriptError>),

    /// A WIT package given for a WAC script does not load.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Wit(#[from] crate::wit::WitError),

    /// The WAC script names a package nobody gave.
    #[error(transparent)]
    #[diagnostic(transparent)]
    UnknownPackage(Box<script::UnknownPackage>),

    /// The output cannot be written.
    #[error("cannot write {}", path.display())]
    #[diagnostic(
        code(weld::compose::write),
        help("the previous file, if any, is unchanged")
    )]
    Write {
        /// The output.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl ComposeError {
    /// 1 when the inputs are wrong, 2 when the machine is.
    pub fn exit_code(&self) -> u8 {
        match self {
            ComposeError::Load(e) => e.exit_code(),
            ComposeError::Wit(e) => e.exit_code(),
            ComposeError::Write { .. }
            | ComposeError::NotBuilt { .. }
            | ComposeError::Read { .. }
            | ComposeError::UnknownPackage(_) => crate::exit::EXIT_USAGE,
            _ => crate::exit::EXIT_FAILURE,
        }
    }
}

/// Writes the validated composition atomically, as binary or (`wat`) as text; returns the size
/// written.
/// Validates the composition and writes it (as text with `wat`) atomically: the file is staged
/// while validation runs and put in place only if the composition is valid. Returns the size
/// written.
fn validate_and_write(output: &Path, bytes: &[u8], wat: bool) -> Result<u64, ComposeError> {
    let write_error = |source| ComposeError::Write {
        path: output.to_path_buf(),
        source,
    };
    let (valid, staged) = std::thread::scope(|scope| {
        let staging = scope.spawn(|| -> Result<crate::fsutil::Staged, ComposeError> {
            if wat {
                let text = wasmprinter::print_bytes(bytes)
                    .map_err(|e| graph_error("printing the composition as text", &*e))?;
                crate::fsutil::Staged::write(output, text.as_bytes()).map_err(write_error)
            } else {
                crate::fsutil::Staged::write(output, bytes).map_err(write_error)
            }
        });
        let valid = crate::check::validate::validate(bytes);
        (valid, staging.join().expect("writing does not panic"))
    });
    // An invalid composition drops the staged file: the previous output stays.
    valid.map_err(|e| graph_error("the composition is not valid", e))?;
    let meta = staged?.commit().map_err(write_error)?;
    Ok(meta.len())
}

fn graph_error(what: impl std::fmt::Display, e: impl std::error::Error) -> ComposeError {
    let mut message = format!("{what}: {e}");
    let mut source = e.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    ComposeError::Graph { message }
}

/// How the inputs of an automatic composition wire together: the plug check's decisions, and
/// the composition encoded from them with what it imports read back from the encoding. `weld
/// compose` writes exactly this, and `weld graph` draws it, so the picture is the file.
pub struct Wiring {
    /// The components, root first; a [`ComponentId`] indexes this.
    pub components: Vec<String>,
    /// Who provides every import, and the findings that explain it.
    pub checked: Checked,
    /// The app's imports from the runtime, each with the imports it serves, as encoded.
    pub runtime: Vec<RuntimeImport>,
    /// What the app exports: the root's exports.
    pub exports: Vec<String>,
    /// For each component (by [`ComponentId`]), its exported interfaces that have async
    /// functions (WASI 0.3's component model), with those functions' names.
    pub asyncs: Vec<Vec<(String, Vec<String>)>>,
    /// The encoded composition, or why it could not be encoded.
    encoded: Result<Vec<u8>, ComposeError>,
}

/// One import of the composed app, and the component imports it serves.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeImport {
    /// The app's import (`wasi:io/streams@0.2.6`).
    pub name: String,
    /// The imports it serves: (component, the import as that component names it).
    #[serde(skip)]
    pub users: Vec<(ComponentId, String)>,
}

/// Loads the inputs, checks every import, and encodes the composition: every component
/// instantiated once, each import a component provides given that component's export. What
/// is left, WASI above all, becomes imports of the app: wac merges the semver-compatible
/// versions components ask for into one import of the highest version and merged type, so
/// which import serves whom is read back from the encoding rather than predicted. With
/// `label`, each core module is named after its component, so that a trap in the app names
/// the component it happened in.
pub fn wire(root: &Input, plugs: &[Input], label: bool) -> Result<Wiring, ComposeError> {
    let inputs: Vec<&Input> = std::iter::once(root).chain(plugs).collect();
    // Reading and decoding each input is independent: one thread each.
    let mut loaded = std::thread::scope(|scope| {
        let jobs: Vec<_> = inputs
            .iter()
            .map(|i| {
                scope.spawn(move || {
                    let mut loaded = load::load(&i.path, &i.name)?;
                    if label {
                        loaded.bytes = names::label_modules(&loaded.bytes, &i.name);
                    }
                    Ok::<_, LoadError>(loaded)
                })
            })
            .collect();
        jobs.into_iter()
            .map(|j| j.join().expect("loading does not panic"))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let checked = plug::check(&loaded, 1);
    let components: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
    let asyncs = loaded.iter().map(async_exports).collect();

    let mut graph = CompositionGraph::new();
    let mut packages = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let bytes = std::mem::take(&mut loaded[i].bytes);
        // Package names only need to be unique inside the graph.
        let package =
            Package::from_bytes(&format!("weld:input{i}"), None, bytes, graph.types_mut())
                .map_err(|e| ComposeError::Graph {
                    message: format!("reading `{}`: {e:#}", input.name),
                })?;
        packages.push(
            graph
                .register_package(package)
                .map_err(|e| graph_error("registering", e))?,
        );
    }
    let instances: Vec<NodeId> = packages.iter().map(|p| graph.instantiate(*p)).collect();
    // The instances carry the components' names into the output's name section: tools that
    // print or debug the app show them, and reading the wiring back relies on them.
    for (node, name) in instances.iter().zip(&components) {
        graph.set_node_name(*node, name.clone());
    }
    let exports: Vec<String> = graph.types()[graph[packages[0]].ty()]
        .exports
        .keys()
        .cloned()
        .collect();
    let encoded = encode(&mut graph, &checked, &components, &instances, &exports);
    let runtime = match &encoded {
        Ok(bytes) => read_back(bytes, &components)?,
        Err(_) => Vec::new(),
    };
    Ok(Wiring {
        components,
        checked,
        runtime,
        exports,
        asyncs,
        encoded,
    })
}

/// A component's exported interfaces that have async functions, with their names.
fn async_exports(c: &crate::check::Loaded) -> Vec<(String, Vec<String>)> {
    c.resolve.worlds[c.world]
        .exports
        .iter()
        .filter_map(|(key, item)| {
            let wit_parser::WorldItem::Interface { id, .. } = item else {
                return None;
            };
            let functions: Vec<String> = c.resolve.interfaces[*id]
                .functions
                .values()
                .filter(|f| f.kind.is_async())
                .map(|f| f.name.clone())
                .collect();
            (!functions.is_empty()).then(|| (c.resolve.name_world_key(key), functions))
        })
        .collect()
}

/// Gives each import a component provides that component's export, exports the root's exports,
/// and encodes the graph.
fn encode(
    graph: &mut CompositionGraph,
    checked: &Checked,
    components: &[String],
    instances: &[NodeId],
    exports: &[String],
) -> Result<Vec<u8>, ComposeError> {
    for link in &checked.links {
        let Provider::Component { id, export } = &link.provider else {
            continue;
        };
        let (consumer, provider) = (&components[link.consumer], &components[*id]);
        let alias = graph
            .alias_instance_export(instances[*id], export)
            .map_err(|e| graph_error(format!("taking {export} from `{provider}`"), e))?;
        graph
            .set_instantiation_argument(instances[link.consumer], &link.import, alias)
            .map_err(|e| {
                graph_error(
                    format!("giving `{consumer}` {} from `{provider}`", link.import),
                    e,
                )
            })?;
    }
    for name in exports {
        let alias = graph
            .alias_instance_export(instances[0], name)
            .map_err(|e| graph_error(format!("exporting {name}"), e))?;
        graph
            .export(alias, name.clone())
            .map_err(|e| graph_error(format!("exporting {name}"), e))?;
    }
    let bytes = graph
        .encode(EncodeOptions {
            define_components: true,
            // Validated when written, in parallel with writing.
            validate: false,
            processor: None,
        })
        .map_err(|e| graph_error("encoding the composition", e))?;
    Ok(names::sort_component_names(bytes))
}

/// The app's imports from the runtime as encoded, each with the component imports it was given
/// to. (Its other imports are those nobody provides: [`Wiring::unresolved`].)
fn read_back(bytes: &[u8], components: &[String]) -> Result<Vec<RuntimeImport>, ComposeError> {
    let encoded = readback::read(bytes).ok_or_else(|| ComposeError::Graph {
        message: "the encoded composition does not read back".into(),
    })?;
    let mut runtime: Vec<RuntimeImport> = encoded
        .imports
        .iter()
        .filter(|name| InterfaceName::parse(name).runtime_provided())
        .map(|name| RuntimeImport {
            name: name.clone(),
            users: Vec::new(),
        })
        .collect();
    for arg in encoded.args {
        let readback::Source::Import(import) = &arg.source else {
            continue;
        };
        let Some(user) = components.iter().position(|c| *c == arg.instance) else {
            continue;
        };
        if let Some(r) = runtime.iter_mut().find(|r| r.name == *import) {
            r.users.push((user, arg.name));
        }
    }
    Ok(runtime)
}

impl Wiring {
    /// The findings compose refuses: errors, except (without `strict`) an import nobody
    /// provides, which stays an import of the app; and a plug that plugs nothing.
    pub fn refused(&self, strict: bool) -> Vec<Finding> {
        self.checked
            .findings
            .iter()
            .filter(|f| match f.code {
                Code::UnusedPlug => true,
                Code::UnsatisfiedImport => strict,
                _ => f.severity == Severity::Error,
            })
            .cloned()
            .collect()
    }

    /// Imports nobody provides, as `interface (imported by `component`)`.
    pub fn unresolved(&self) -> Vec<String> {
        self.checked
            .links
            .iter()
            .filter(|l| l.provider == Provider::Nobody)
            .map(|l| {
                format!(
                    "{} (imported by `{}`)",
                    l.import, self.components[l.consumer]
                )
            })
            .collect()
    }
}

/// The imports components provide, as `weld compose` reports them.
fn wires(checked: &Checked, components: &[String]) -> Vec<Wire> {
    checked
        .links
        .iter()
        .filter_map(|l| match &l.provider {
            Provider::Component { id, .. } => Some(Wire {
                consumer: components[l.consumer].clone(),
                interface: l.import.clone(),
                provider: components[*id].clone(),
            }),
            _ => None,
        })
        .collect()
}

/// Composes `root` with `plugs` into `output` (written atomically, only when valid). With
/// `strict`, an import that neither a component nor the runtime provides is an error; without,
/// it stays an import of the app.
pub fn compose(
    root: &Input,
    plugs: &[Input],
    output: &Path,
    strict: bool,
    wat: bool,
) -> Result<Composed, ComposeError> {
    let wiring = wire(root, plugs, true)?;
    let errors = wiring.refused(strict);
    if !errors.is_empty() {
        // A plug that plugs nothing is an error here, though check only warns about it.
        let findings = wiring
            .checked
            .findings
            .into_iter()
            .map(|mut f| {
                if f.code == Code::UnusedPlug {
                    f.severity = Severity::Error;
                }
                f
            })
            .collect();
        return Err(ComposeError::DoesNotFit {
            components: wiring.components,
            findings,
            errors,
        });
    }
    let unresolved = wiring.unresolved();
    let bytes = wiring.encoded?;
    let size = validate_and_write(output, &bytes, wat)?;
    let components = wiring.components;
    let wired = wires(&wiring.checked, &components);
    let mut imports: Vec<String> = wiring.runtime.into_iter().map(|r| r.name).collect();
    imports.sort();
    Ok(Composed {
        output: output.to_path_buf(),
        size,
        components,
        wired,
        imports,
        unresolved,
        exports: wiring.exports,
    })
}
