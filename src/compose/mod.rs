//! Stage 4, compose: many components into one, with wac-graph.
//!
//! The check stage decides the wiring (and refuses what does not fit, with its explanation);
//! this stage only builds the graph from it: every component instantiated once, each satisfied
//! import given the provider's export, plugs feeding plugs included. Imports left for the
//! runtime are imported once per WASI interface, at the highest version any component asks for,
//! and shared by every instance that needs a compatible version.

pub mod graph;
pub mod names;
mod script;
mod validate;

pub use script::{ScriptError, UnknownPackage, compose_script};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use miette::Diagnostic;
use serde::Serialize;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId};

use crate::check::plug::{self, InterfaceName};
use crate::check::{Finding, LoadError, Severity, load};

/// A component to compose, with the name messages use.
#[derive(Debug, Clone)]
pub struct Input {
    /// Its name (from weld.toml, or the file name).
    pub name: String,
    /// The component file.
    pub path: PathBuf,
}

/// One wired import.
#[derive(Debug, Clone, Serialize)]
pub struct Wire {
    /// The importing component.
    pub consumer: String,
    /// The interface, as imported.
    pub interface: String,
    /// The exporting component.
    pub provider: String,
}

/// What a composition produced.
#[derive(Debug, Clone, Serialize)]
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
            ComposeError::Write { .. }
            | ComposeError::Read { .. }
            | ComposeError::UnknownPackage(_) => crate::error::EXIT_USAGE,
            _ => crate::error::EXIT_FAILURE,
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
        let valid = validate::validate(bytes);
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
    let inputs: Vec<&Input> = std::iter::once(root).chain(plugs).collect();
    // Reading and decoding each input is independent: one thread each.
    let mut loaded = std::thread::scope(|scope| {
        let jobs: Vec<_> = inputs
            .iter()
            .map(|i| {
                scope.spawn(move || {
                    let mut loaded = load::load(&i.path, &i.name)?;
                    // Labelled, so that a trap in the app names the component it happened in.
                    loaded.bytes = names::label_modules(&loaded.bytes, &i.name);
                    Ok::<_, LoadError>(loaded)
                })
            })
            .collect();
        jobs.into_iter()
            .map(|j| j.join().expect("loading does not panic"))
            .collect::<Result<Vec<_>, _>>()
    })?;

    // Check first: compose refuses what check finds wrong, and a plug that plugs nothing.
    let findings = plug::check(&loaded, 1);
    let left_open = |f: &Finding| !strict && f.code == "unsatisfied-import";
    let errors: Vec<Finding> = findings
        .iter()
        .filter(|f| (f.severity == Severity::Error && !left_open(f)) || f.code == "unused-plug")
        .cloned()
        .collect();
    let unresolved: Vec<String> = findings
        .iter()
        .filter(|f| left_open(f))
        .map(|f| format!("{} (imported by `{}`)", f.interface, f.consumer))
        .collect();
    if !errors.is_empty() {
        return Err(ComposeError::DoesNotFit { findings, errors });
    }

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
    // The instances carry the components' names into the output's name section, for tools
    // that print or debug the app.
    for (node, input) in instances.iter().zip(&inputs) {
        graph.set_node_name(*node, input.name.clone());
    }
    let index = |name: &str| inputs.iter().position(|i| i.name == name);

    let mut wired = Vec::new();
    let mut runtime: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for f in &findings {
        let Some(consumer) = index(&f.consumer) else {
            continue;
        };
        match f.code {
            "satisfied" => {
                let provider_name = f.provider.as_deref().unwrap_or_default();
                let provider = index(provider_name).expect("check names its inputs");
                let wanted = InterfaceName::parse(&f.interface);
                let export = graph.types()[graph[packages[provider]].ty()]
                    .exports
                    .keys()
                    .find(|name| {
                        let n = InterfaceName::parse(name);
                        n.base == wanted.base
                            && plug::versions_compatible(&wanted.version, &n.version)
                    })
                    .cloned()
                    .expect("check found this export");
                let alias = graph
                    .alias_instance_export(instances[provider], &export)
                    .map_err(|e| {
                        graph_error(format!("taking {export} from `{provider_name}`"), e)
                    })?;
                graph
                    .set_instantiation_argument(instances[consumer], &f.interface, alias)
                    .map_err(|e| {
                        graph_error(
                            format!(
                                "giving `{}` {} from `{provider_name}`",
                                f.consumer, f.interface
                            ),
                            e,
                        )
                    })?;
                wired.push(Wire {
                    consumer: f.consumer.clone(),
                    interface: f.interface.clone(),
                    provider: provider_name.to_string(),
                });
            }
            "runtime-provided" => runtime
                .entry(InterfaceName::parse(&f.interface).base)
                .or_default()
                .push((consumer, f.interface.clone())),
            _ => {}
        }
    }

    // One import per WASI interface where one of the versions asked for serves every user (each
    // component imports only the functions it uses, so the candidate must cover them all). Where
    // none does, wac's implicit imports merge the uses of each exact name instead.
    let mut imports = Vec::new();
    for users in runtime.values() {
        let kind_of = |(user, name): &(usize, String)| {
            graph.types()[graph[packages[*user]].ty()].imports[name]
        };
        let mut candidates: Vec<&(usize, String)> = users.iter().collect();
        candidates.sort_by_key(|(_, name)| std::cmp::Reverse(InterfaceName::parse(name).version));
        let chosen = candidates
            .into_iter()
            .find(|candidate| {
                let mut cache = Default::default();
                let mut checker = wac_graph::types::SubtypeChecker::new(&mut cache);
                let kind = kind_of(candidate);
                users.iter().all(|user| {
                    checker
                        .is_subtype(kind, graph.types(), kind_of(user), graph.types())
                        .is_ok()
                })
            })
            .map(|candidate| (candidate.1.clone(), kind_of(candidate)));
        match chosen {
            Some((name, kind)) => {
                let node = graph
                    .import(name.clone(), kind)
                    .map_err(|e| graph_error(format!("importing {name}"), e))?;
                for (consumer, their_name) in users {
                    graph
                        .set_instantiation_argument(instances[*consumer], their_name, node)
                        .map_err(|e| {
                            graph_error(
                                format!(
                                    "giving `{}` {name} for {their_name}",
                                    inputs[*consumer].name
                                ),
                                e,
                            )
                        })?;
                }
                imports.push(name);
            }
            None => {
                let mut names: Vec<String> = users.iter().map(|(_, n)| n.clone()).collect();
                names.sort();
                names.dedup();
                imports.extend(names);
            }
        }
    }

    let mut exports = Vec::new();
    let root_exports: Vec<String> = graph.types()[graph[packages[0]].ty()]
        .exports
        .keys()
        .cloned()
        .collect();
    for name in root_exports {
        let alias = graph
            .alias_instance_export(instances[0], &name)
            .map_err(|e| graph_error(format!("exporting {name}"), e))?;
        graph
            .export(alias, name.clone())
            .map_err(|e| graph_error(format!("exporting {name}"), e))?;
        exports.push(name);
    }

    let bytes = graph
        .encode(EncodeOptions {
            define_components: true,
            // Validated below, in parallel, while the file is written.
            validate: false,
            processor: None,
        })
        .map_err(|e| graph_error("encoding the composition", e))?;
    let size = validate_and_write(output, &bytes, wat)?;
    Ok(Composed {
        output: output.to_path_buf(),
        size,
        components: inputs.iter().map(|i| i.name.clone()).collect(),
        wired,
        imports,
        unresolved,
        exports,
    })
}
