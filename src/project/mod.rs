//! weld.toml and flags → one validated [`Plan`], the value every later stage runs on.
//!
//! Parsing keeps the spans of every value ([`manifest`]); validation ([`validate`]) checks what
//! the schema cannot express (paths exist, names refer to components, worlds exist in the WIT)
//! and reports every problem at once, each pointing at its line and column.

mod error;
mod manifest;
mod run_tests;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

pub use crate::lang::Lang;
pub use error::{ManifestError, ManifestIssue};
// Grants and limits are the manifest's and the runner's alike: they live in a leaf both use.
pub use crate::settings::{
    DEFAULT_GRACE, DEFAULT_INSTANCE_CONCURRENCY, DEFAULT_INSTANCE_REUSE, DEFAULT_MAX_BODY,
    DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_MEMORY, DEFAULT_SERVE_ADDR,
    DEFAULT_TIMEOUT, DirGrant, HttpOrigin, Profile, RunSettings, ServeConfig, ServeOverrides,
    ServeSettings,
};

/// The file name weld looks for.
pub const MANIFEST_NAME: &str = "weld.toml";

/// A test's wall-clock budget when the test does not set one.
pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A validated project: what to build, how to compose it, how to run and test it.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// `[project] name`.
    pub name: String,
    /// What `[project]` says about the app beyond its name (published with `weld push`).
    pub about: About,
    /// The weld.toml this plan came from.
    pub manifest: PathBuf,
    /// The directory holding weld.toml; relative paths in it are relative to this.
    pub root: PathBuf,
    /// Where build outputs go (`target/weld` unless `[project] target` says otherwise).
    pub target_dir: PathBuf,
    /// Components in manifest order.
    pub components: Vec<Component>,
    /// How the components become one application, if they do.
    pub compose: Option<Compose>,
    /// `[run]`: arguments, capabilities and limits for `weld run` and `weld up`.
    pub run: RunSettings,
    /// `[run] profile`: the compiler `weld run`, `up` and `test` use (`weld serve` always
    /// uses Cranelift).
    pub profile: Profile,
    /// `[serve]`: where and how `weld serve` answers requests.
    pub serve: ServeConfig,
    /// `[[test]]` entries in manifest order.
    pub tests: Vec<TestCase>,
}

/// `[project]`'s description of the app, for the annotations of a pushed artifact.
#[derive(Debug, Clone, Default, Serialize)]
pub struct About {
    /// `version`: the app's version (`org.opencontainers.image.version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `description`: one line about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `license`: an SPDX expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `source`: where its source lives (a URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Plan {
    /// Turns the source-level contract check off for every component (`--no-source-check`).
    pub fn without_source_check(mut self) -> Plan {
        for c in &mut self.components {
            c.source_check = false;
        }
        self
    }

    /// Finds weld.toml (`manifest_path` may be the file or its directory; without it the search
    /// walks up from `cwd`), then loads it.
    pub fn discover(manifest_path: Option<&Path>, cwd: &Path) -> Result<Plan, ManifestError> {
        let manifest = locate(manifest_path, cwd)?;
        // Diagnostics name files as the user would: relative to where weld was started.
        let shown = manifest
            .strip_prefix(cwd)
            .unwrap_or(&manifest)
            .to_path_buf();
        Plan::load_as(&manifest, &shown)
    }

    /// Reads and validates one weld.toml.
    pub fn load(manifest: &Path) -> Result<Plan, ManifestError> {
        Plan::load_as(manifest, manifest)
    }

    /// Like [`Plan::load`], naming the manifest `shown` in diagnostics.
    fn load_as(manifest: &Path, shown: &Path) -> Result<Plan, ManifestError> {
        let text = crate::fsutil::read_text(manifest).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ManifestError::Missing {
                    path: shown.to_path_buf(),
                }
            } else {
                ManifestError::Unreadable {
                    path: shown.to_path_buf(),
                    source,
                }
            }
        })?;
        validate::plan_from_str(manifest, shown, &text)
    }

    /// The component called `name`.
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    /// The languages the project builds from, each once, in manifest order.
    pub fn langs(&self) -> Vec<Lang> {
        let mut langs = Vec::new();
        for c in &self.components {
            if !langs.contains(&c.lang) {
                langs.push(c.lang);
            }
        }
        langs
    }
}

/// One component of the project.
#[derive(Debug, Clone, Serialize)]
pub struct Component {
    /// Its key under `[components]`.
    pub name: String,
    /// What builds it.
    pub lang: Lang,
    /// Its sources: a cargo package dir (rust), a dir (python), a file (js, wasm).
    pub source: PathBuf,
    /// The WIT directory it is built against, if any.
    pub wit: Option<PathBuf>,
    /// Whether that directory is weld's runtime's WASI, supplied because the component names a
    /// WASI world (`wasi:http/service@0.3.0`) and has no WIT of its own.
    pub wit_from_runtime: bool,
    /// Its world, fully qualified (`weld:example/arith-provider@0.1.0`), if the manifest names one.
    pub world: Option<String>,
    /// The Python module to componentize.
    pub module: Option<String>,
    /// Whether its Python or JavaScript source is checked against its world before it is built
    /// (`source-check`, default true).
    pub source_check: bool,
    /// Where the built component lands.
    pub output: PathBuf,
}

/// `[compose]`: how the components become one.
#[derive(Debug, Clone, Serialize)]
pub struct Compose {
    /// Automatic plugging or a WAC script.
    pub wiring: Wiring,
    /// The composed component.
    pub output: PathBuf,
    /// Treat imports that nothing provides (and that the runner does not offer) as errors.
    pub strict: bool,
}

/// The two ways to compose.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Wiring {
    /// `root` with its imports satisfied by `plugs` (and plugs by each other).
    Plug {
        /// The component whose exports the application exports.
        root: String,
        /// The providers.
        plugs: Vec<String>,
    },
    /// A WAC script, with the components its package names refer to.
    Script {
        /// The .wac file.
        path: PathBuf,
        /// WAC package name (`weld:arith`) → what provides it.
        deps: IndexMap<String, ScriptSource>,
    },
}

/// What a WAC script's package refers to. In `weld plan --format json`: the component's name,
/// or `{"dir": PATH}` for a WIT package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ScriptSource {
    /// A component of the project, by name.
    Component(String),
    /// A WIT package directory: types for the script's imports, not a component.
    Wit {
        /// The directory.
        dir: PathBuf,
    },
}

/// One `[[test]]`.
#[derive(Debug, Clone, Serialize)]
pub struct TestCase {
    /// Its name, unique in the project.
    pub name: String,
    /// What it runs.
    pub target: TestTarget,
    /// What it does and expects.
    pub action: TestAction,
    /// Capabilities and limits (`args` are used by run tests only).
    pub run: RunSettings,
}

/// What a test runs against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "name")]
pub enum TestTarget {
    /// The composed application.
    App,
    /// One component on its own.
    Component(String),
}

/// What a test does.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum TestAction {
    /// Call an export with WAVE arguments.
    Invoke {
        /// The call, e.g. `text.shout("hi")`.
        call: String,
        /// The expected outcome.
        expect: InvokeExpect,
    },
    /// Send an HTTP request to an HTTP app (in process, no socket).
    Http {
        /// The request.
        request: HttpRequest,
        /// What the response must be.
        expect: HttpExpect,
    },
    /// Run `wasi:cli/run`.
    Run {
        /// Standard input.
        stdin: Option<String>,
        /// What stdout must be.
        stdout: Option<StdoutExpect>,
        /// The expected exit code.
        exit: i32,
    },
}

/// A test's HTTP request: `request = "POST /path"`, `headers`, `body`.
#[derive(Debug, Clone, Serialize)]
pub struct HttpRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The path and query, starting with `/`.
    pub path: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
    /// The request body (empty for none).
    pub body: String,
}

/// What an HTTP test's response must be; every check given must hold.
#[derive(Debug, Clone, Serialize)]
pub struct HttpExpect {
    /// The status code (200 unless given).
    pub status: u16,
    /// The whole body, exactly.
    pub body: Option<String>,
    /// Text the body contains.
    pub body_contains: Option<String>,
    /// Headers the response has, with these values (names case-insensitive).
    pub headers: Vec<(String, String)>,
}

/// The expected outcome of an invocation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum InvokeExpect {
    /// The call succeeds; its result is not compared.
    Success,
    /// The result, in WAVE.
    Value(String),
    /// The call fails (an `err` result or a trap) with a message containing this text.
    Error(String),
}

/// What a run test's stdout must be.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "text")]
pub enum StdoutExpect {
    /// Exactly this.
    Exact(String),
    /// Containing this.
    Contains(String),
}

/// One `[wit-dependencies]` entry, typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WitDependency {
    /// A version requirement (`1.2`, `^1.2.0`, `=0.2.0-draft`).
    pub requirement: Option<semver::VersionReq>,
    /// The registry to take it from, instead of what wkg's configuration says.
    pub registry: Option<String>,
}

/// What a project's WIT may need from registries: where its WIT directories are and what
/// weld.toml says about registry packages.
#[derive(Debug, Clone)]
pub struct RegistryNeeds {
    /// The project's directory (weld.lock goes here).
    pub root: PathBuf,
    /// Every WIT directory named in weld.toml (and wit/ when it exists).
    pub wit_dirs: Vec<PathBuf>,
    /// `[wit-dependencies]`, by `namespace:name`.
    pub declared: std::collections::BTreeMap<String, WitDependency>,
}

/// [`RegistryNeeds`] read from `manifest` before its plan is made (making the plan parses the
/// WIT, which needs registry packages in deps/ already). `None` when weld.toml does not parse;
/// making the plan then says why, with the location; so it does for a wrong
/// `[wit-dependencies]` entry.
pub fn registry_needs(manifest: &Path) -> Option<RegistryNeeds> {
    let text = crate::fsutil::read_text(manifest).ok()?;
    let raw: manifest::RawManifest = toml::from_str(&text).ok()?;
    let root = manifest.parent()?.to_path_buf();
    let mut wit_dirs = Vec::new();
    let project_wit = match &raw.project.get_ref().wit {
        Some(w) => Some(root.join(w.get_ref())),
        None => Some(root.join("wit")).filter(|p| p.is_dir()),
    };
    wit_dirs.extend(project_wit);
    for component in raw.components.values() {
        if let Some(w) = &component.get_ref().wit {
            wit_dirs.push(root.join(w.get_ref()));
        }
    }
    let mut wit_dirs: Vec<PathBuf> = wit_dirs.iter().map(|d| crate::fsutil::clean(d)).collect();
    wit_dirs.sort();
    wit_dirs.dedup();
    // A wrong entry: nothing is fetched, and making the plan reports it with its location.
    let mut declared = std::collections::BTreeMap::new();
    for (name, entry) in &raw.wit_dependencies {
        manifest::package_name_error(name.get_ref()).map_or(Some(()), |_| None)?;
        let dependency = manifest::wit_dependency(entry.get_ref()).ok()?;
        declared.insert(name.get_ref().clone(), dependency);
    }
    Some(RegistryNeeds {
        root,
        wit_dirs,
        declared,
    })
}

/// Resolves `-C` (a file or a directory) or searches `cwd` and its ancestors for weld.toml.
pub fn locate(manifest_path: Option<&Path>, cwd: &Path) -> Result<PathBuf, ManifestError> {
    match manifest_path {
        Some(path) => {
            let given = if cwd.join(path).is_dir() {
                path.join(MANIFEST_NAME)
            } else {
                path.to_path_buf()
            };
            let file = crate::fsutil::clean(&cwd.join(&given));
            // Something there that is not a readable file (a directory, a FIFO, a link loop) is
            // reported by reading it, with what it is.
            if file.symlink_metadata().is_ok() {
                Ok(file)
            } else {
                Err(ManifestError::Missing { path: given })
            }
        }
        None => cwd
            .ancestors()
            .map(|dir| dir.join(MANIFEST_NAME))
            .find(|file| file.symlink_metadata().is_ok())
            .ok_or_else(|| ManifestError::NotFound {
                dir: cwd.to_path_buf(),
            }),
    }
}
