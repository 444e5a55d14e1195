//! Stage 2, build: each component from its sources to a validated component in `target/weld/`.
//!
//! Components build in parallel (they do not depend on each other until composition). Each is
//! fingerprinted first ([`cache`]); an unchanged one is not rebuilt. A fresh output is validated
//! as a component before it replaces the previous one, atomically, so a failed build never
//! destroys the last good artifact.

mod cache;
mod go;
pub(crate) use go::{Bindings as GoBindings, isolate as isolate_go};
mod langs;

use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use std::time::{Duration, Instant};

use miette::Diagnostic;
use serde::Serialize;

use crate::project::{Component, Lang, Plan};
use crate::toolchain::{Status, Tool, ToolchainError, Toolchains};

/// Which cargo profile Rust components are built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// `--release` (the default: components are shipped, and small).
    Release,
    /// cargo's dev profile.
    Debug,
}

/// How to build.
#[derive(Debug, Clone)]
pub struct Options {
    /// Components to build; empty means all.
    pub only: Vec<String>,
    /// At most this many builds at once.
    pub jobs: usize,
    /// Rust profile.
    pub profile: Profile,
    /// Ignore the cache.
    pub force: bool,
    /// Show toolchain commands and full toolchain output.
    pub verbose: bool,
    /// weld's cache directory. Toolchains that keep caches of their own (componentize-js's Wizer
    /// keeps the code wasmtime compiles for it) keep them under it, in `toolchains/`, so that
    /// `weld cache clean` empties them and nothing is written outside it. `None`: the tools'
    /// own defaults.
    pub cache_dir: Option<PathBuf>,
}

/// A component that is built (or was already up to date).
#[derive(Debug, Clone, Serialize)]
pub struct Built {
    /// Component name.
    pub name: String,
    /// Its language.
    pub lang: Lang,
    /// The validated component.
    pub output: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// How long this build took (just the cache check when `cached`).
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
    /// Whether the cache made the toolchain run unnecessary.
    pub cached: bool,
    /// The largest embedded core module, which is what dominates a component's size.
    pub largest_module: Option<u64>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// Whose fault a failed build is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The user's sources or input (exit 1).
    Source,
    /// The machine: a toolchain that does not run, a file that cannot be written (exit 2).
    Environment,
}

/// A component that did not build.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Component name.
    pub name: String,
    /// Its language.
    pub lang: Lang,
    /// Whose fault.
    pub kind: FailureKind,
    /// One line: what failed.
    pub summary: String,
    /// The toolchain's own words, trimmed.
    pub detail: String,
    /// What to do.
    pub help: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "component `{}` ({}): {}",
            self.name, self.lang, self.summary
        )?;
        if !self.detail.is_empty() {
            write!(f, "\n\n{}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

impl Diagnostic for Failure {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(match self.kind {
            FailureKind::Source => "weld::build::failed",
            FailureKind::Environment => "weld::build::environment",
        }))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// One component's result.
pub type Outcome = Result<Built, Failure>;

/// Why `weld build` stopped.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum BuildError {
    /// `weld build NAME` with a name the manifest does not declare.
    #[error("`{name}` is not a component of project `{project}`")]
    #[diagnostic(code(weld::build::unknown_component), help("components: {known}"))]
    UnknownComponent {
        /// The name given.
        name: String,
        /// The project.
        project: String,
        /// The declared components.
        known: String,
    },

    /// A toolchain the selected components need is missing.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Toolchain(#[from] ToolchainError),

    /// The output directory cannot be created.
    #[error("cannot create {}", path.display())]
    #[diagnostic(code(weld::build::output_dir))]
    OutputDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// One component failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Component(Box<Failure>),

    /// Some components failed.
    #[error("{} of {} components failed to build", failures.len(), total)]
    #[diagnostic(code(weld::build::failed))]
    Failed {
        /// How many were attempted.
        total: usize,
        /// Each failure, with the toolchain's words.
        #[related]
        failures: Vec<Failure>,
        /// The components that did build.
        built: Vec<Built>,
    },
}

impl BuildError {
    /// 1 when the user's sources are at fault, 2 when the machine is.
    pub fn exit_code(&self) -> u8 {
        let failures = match self {
            BuildError::Component(f) => std::slice::from_ref(&**f),
            BuildError::Failed { failures, .. } => failures.as_slice(),
            _ => return crate::exit::EXIT_USAGE,
        };
        if failures.iter().all(|f| f.kind == FailureKind::Source) {
            crate::exit::EXIT_FAILURE
        } else {
            crate::exit::EXIT_USAGE
        }
    }
}

/// Hears about progress, for a progress display; called from worker threads.
pub trait Observer: Sync {
    /// A component's build (or cache check) begins.
    fn started(&self, component: &Component);
    /// It entered a stage, e.g. `cargo build`, `validating`.
    fn stage(&self, component: &Component, stage: &str);
    /// A line of detail, shown with `-v`.
    fn verbose(&self, component: &Component, line: &str);
    /// It ended.
    fn finished(&self, component: &Component, outcome: &Outcome);
}

/// Resolved toolchain paths and versions for the languages being built.
#[derive(Debug, Default)]
struct Tools {
    cargo: PathBuf,
    componentize_py: PathBuf,
    node: PathBuf,
    componentize_js: PathBuf,
    go: PathBuf,
    versions: Vec<(Tool, String)>,
    /// What the source-level contract check runs.
    source: crate::check::source::Tools,
}

impl Tools {
    fn version(&self, lang: Lang) -> String {
        let parts: Vec<String> = self
            .versions
            .iter()
            .filter(|(t, _)| t.lang() == lang)
            .map(|(t, v)| format!("{}={v}", t.name()))
            .collect();
        parts.join(",")
    }
}

/// Builds the selected components of `plan`. Every component is attempted; the result lists
/// them in manifest order, or says which failed.
pub fn build(
    plan: &Plan,
    options: &Options,
    toolchains: &Toolchains,
    observer: &dyn Observer,
) -> Result<Vec<Built>, BuildError> {
    let selected = select(plan, &options.only)?;
    let tools = resolve_tools(&selected, toolchains)?;
    std::fs::create_dir_all(&plan.target_dir).map_err(|source| BuildError::OutputDir {
        path: plan.target_dir.clone(),
        source,
    })?;

    let build_one = |component: &&Component| {
        let job = Job {
            component,
            target_dir: &plan.target_dir,
            profile: options.profile,
            tools: &tools,
            observer,
            verbose: options.verbose,
            cache_dir: options.cache_dir.as_deref(),
        };
        observer.started(component);
        let outcome = job.run(options.force);
        observer.finished(component, &outcome);
        outcome
    };
    let outcomes: Vec<Outcome> = match crate::pool(options.jobs, selected.len()) {
        // One component per task: builds are long, and none should wait behind another.
        Some(pool) => pool.install(|| selected.par_iter().with_max_len(1).map(build_one).collect()),
        None => selected.iter().map(build_one).collect(),
    };

    let mut built = Vec::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(b) => built.push(b),
            Err(f) => failures.push(f),
        }
    }
    if failures.is_empty() {
        Ok(built)
    } else {
        Err(BuildError::Failed {
            total: selected.len(),
            failures,
            built,
        })
    }
}

fn select<'a>(plan: &'a Plan, only: &[String]) -> Result<Vec<&'a Component>, BuildError> {
    if only.is_empty() {
        return Ok(plan.components.iter().collect());
    }
    let mut selected: Vec<&Component> = Vec::new();
    for name in only {
        let component = plan
            .component(name)
            .ok_or_else(|| BuildError::UnknownComponent {
                name: name.clone(),
                project: plan.name.clone(),
                known: plan
                    .components
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !selected.iter().any(|c| c.name == component.name) {
            selected.push(component);
        }
    }
    let index = |c: &Component| plan.components.iter().position(|x| x.name == c.name);
    selected.sort_by_key(|c| index(c));
    Ok(selected)
}

/// Probes the toolchains the selected components need; all missing ones are named at once.
fn resolve_tools(selected: &[&Component], toolchains: &Toolchains) -> Result<Tools, BuildError> {
    let mut tools = Tools::default();
    let mut missing = Vec::new();
    // The checkers are needed only where the source check is on.
    let checker = |t: Tool| matches!(t, Tool::Mypy | Tool::TypeScript);
    let needed: Vec<Tool> = Tool::ALL
        .into_iter()
        .filter(|&t| {
            selected
                .iter()
                .any(|c| c.lang == t.lang() && (!checker(t) || crate::check::source::applies(c)))
        })
        .collect();
    let probes = toolchains.probe_many(&needed);
    tools.source = crate::check::source::Tools::from_probes(&probes, toolchains);
    for probe in probes {
        let tool = probe.tool;
        if probe.status == Status::Missing {
            missing.push(format!(
                "{} ({})",
                tool.name(),
                probe.problem.unwrap_or_default()
            ));
            continue;
        }
        let path = probe.path.unwrap_or_default();
        match tool {
            Tool::Cargo => tools.cargo = path,
            Tool::ComponentizePy => tools.componentize_py = path,
            Tool::Node => tools.node = path,
            Tool::ComponentizeJs => tools.componentize_js = toolchains.componentize_js_entry(),
            Tool::Go => tools.go = path,
            Tool::RustTarget | Tool::Mypy | Tool::TypeScript => {}
        }
        tools
            .versions
            .push((tool, probe.version.unwrap_or_default()));
    }
    if missing.is_empty() {
        Ok(tools)
    } else {
        Err(ToolchainError {
            missing,
            fix: "run ./install.sh from weld's source checkout, then `weld doctor` to confirm"
                .into(),
        }
        .into())
    }
}

/// One component's build.
pub(crate) struct Job<'a> {
    component: &'a Component,
    target_dir: &'a Path,
    profile: Profile,
    tools: &'a Tools,
    observer: &'a dyn Observer,
    verbose: bool,
    cache_dir: Option<&'a Path>,
}

impl Job<'_> {
    /// Points the code cache of the wasmtime a toolchain embeds (`$XDG_CACHE_HOME/wasmtime`)
    /// into weld's cache directory, where `weld cache clean` reaches it.
    fn tool_cache(&self, cmd: &mut std::process::Command, tool: &str) {
        if let Some(cache) = self.cache_dir {
            cmd.env(
                "XDG_CACHE_HOME",
                crate::run::toolchain_cache_dir(cache, tool),
            );
        }
    }

    fn run(&self, force: bool) -> Outcome {
        let start = Instant::now();
        let c = self.component;
        self.stage("checking cache");
        let fingerprint = self.fingerprint()?;
        let record_path = cache::record_path(self.target_dir, &c.name);
        if !force
            && let Some(record) = cache::load(&record_path)
            && record.is_fresh(&fingerprint, &c.output)
        {
            return Ok(Built {
                name: c.name.clone(),
                lang: c.lang,
                output: c.output.clone(),
                size: record.output_len,
                duration: start.elapsed(),
                cached: true,
                largest_module: record.largest_module,
            });
        }

        // cargo writes Cargo.lock on a package's first build: that is the build's own output,
        // not a change, so the record takes the fingerprint with it (else the next build,
        // with nothing changed, would not be a no-op).
        let lock = (c.lang == Lang::Rust).then(|| {
            let dir = if c.source.is_dir() {
                c.source.clone()
            } else {
                c.source.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            dir.join("Cargo.lock")
        });
        let lock_was_there = lock.as_ref().is_some_and(|l| l.exists());
        self.check_source()?;
        let bytes = match c.lang {
            Lang::Rust => langs::rust(self),
            Lang::Python => langs::python(self),
            Lang::Js => langs::js(self),
            Lang::Go => go::go(self),
            Lang::Wasm => langs::wasm(self),
        }?;
        self.stage("validating");
        let largest_module = self.validate(&bytes)?;
        let written = crate::fsutil::write_atomic(&c.output, &bytes)
            .map_err(|e| self.env_failure(format!("cannot write {}: {e}", c.output.display())))?;
        let fingerprint = if lock.is_some_and(|l| !lock_was_there && l.exists()) {
            self.fingerprint()?
        } else {
            fingerprint
        };
        let mut record = cache::Record::of(fingerprint, &written);
        record.largest_module = largest_module;
        // A record that cannot be stored only costs a rebuild next time.
        let _ = cache::store(&record_path, &record);
        Ok(Built {
            name: c.name.clone(),
            lang: c.lang,
            output: c.output.clone(),
            size: bytes.len() as u64,
            duration: start.elapsed(),
            cached: false,
            largest_module,
        })
    }

    fn fingerprint(&self) -> Result<String, Failure> {
        let c = self.component;
        // A JS entry module may import its neighbours: the whole directory is its source.
        let source = match c.lang {
            Lang::Js => c.source.parent().unwrap_or(&c.source),
            _ => &c.source,
        };
        let mut paths = vec![source];
        paths.extend(c.wit.as_deref());
        let mut settings = vec![
            ("lang", c.lang.to_string()),
            ("toolchain", self.tools.version(c.lang)),
            ("world", c.world.clone().unwrap_or_default()),
            ("module", c.module.clone().unwrap_or_default()),
            // WASI packages the WIT lacks come from the runtime's (crate::wit::for_toolchain).
            ("runtime-wit", crate::wit::RUNTIME_WASI_SOURCE.to_string()),
        ];
        if c.lang == Lang::Rust {
            settings.push(("profile", format!("{:?}", self.profile)));
        }
        if c.lang == Lang::Go {
            settings.push(("go-glue", go::glue()));
        }
        if crate::check::source::applies(c) {
            settings.push(("source-check", "on".into()));
        }
        crate::fingerprint::fingerprint(&crate::fingerprint::Inputs {
            paths,
            exclude: vec![self.target_dir],
            settings,
        })
        .map_err(|e| {
            let mut f = self.env_failure(format!("cannot fingerprint its sources: {e}"));
            f.help = Some("every file under a component's path and WIT directory is an input; remove or fix the one named".into());
            f
        })
    }

    /// The source-level contract check, before a toolchain builds whatever it is given: a
    /// mismatch fails the build with the places in the code.
    fn check_source(&self) -> Result<(), Failure> {
        let c = self.component;
        if !crate::check::source::applies(c) {
            return Ok(());
        }
        self.stage("checking source");
        let findings = crate::check::source::check(c, self.target_dir, &self.tools.source)
            .map_err(|e| {
                let mut f = self.env_failure(e.to_string());
                f.help = e.help.clone().or(f.help);
                f
            })?;
        let errors: Vec<_> = findings
            .into_iter()
            .filter(|f| f.severity == crate::check::Severity::Error)
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        let mut f = self.failure(
            FailureKind::Source,
            format!(
                "its source does not match its world ({} problem{})",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ),
            crate::check::source::render(&errors).trim_end().to_string(),
        );
        f.help = Some(format!(
            "{} builds whatever code it is given, and the component would fail when called; fix the code as shown (or build without this check: `--no-source-check`, or `source-check = false` under [components.{}])",
            if c.lang == Lang::Python {
                "componentize-py"
            } else {
                "componentize-js"
            },
            c.name
        ));
        Err(f)
    }

    /// Checks that `bytes` is a valid component; returns the size of its largest core module.
    fn validate(&self, bytes: &[u8]) -> Result<Option<u64>, Failure> {
        let c = self.component;
        if wasmparser::Parser::is_core_wasm(bytes) {
            let mut f = self.source_failure(
                "this is a core WebAssembly module, not a component",
                String::new(),
            );
            f.help = Some(match c.lang {
                Lang::Wasm => format!(
                    "wrap it: `wasm-tools component new {} --adapt wasi_snapshot_preview1.reactor.wasm -o component.wasm`, or rebuild it for a component target (e.g. wasm32-wasip2)",
                    crate::fsutil::shown(&c.source)
                ),
                _ => "the toolchain produced a core module; check that it targets the component model".into(),
            });
            return Err(f);
        }
        if !wasmparser::Parser::is_component(bytes) {
            let mut f = self.source_failure("this is not a WebAssembly component", String::new());
            f.help = Some("a component starts with the bytes `\\0asm` and a component-model version; is this the right file?".into());
            return Err(f);
        }
        let mut validator =
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
        validator.validate_all(bytes).map_err(|e| {
            let mut f = self.source_failure("the component is invalid", e.to_string());
            if c.lang != Lang::Wasm {
                f.kind = FailureKind::Environment;
                f.help = Some("the toolchain produced an invalid component: run `weld doctor` and ./install.sh to get the pinned version".into());
            }
            f
        })?;
        Ok(largest_core_module(bytes))
    }

    fn stage(&self, stage: &str) {
        self.observer.stage(self.component, stage);
    }

    fn verbose(&self, line: String) {
        if self.verbose {
            self.observer.verbose(self.component, &line);
        }
    }

    fn failure(&self, kind: FailureKind, summary: impl Into<String>, detail: String) -> Failure {
        Failure {
            name: self.component.name.clone(),
            lang: self.component.lang,
            kind,
            summary: summary.into(),
            detail,
            help: None,
        }
    }

    fn env_failure(&self, summary: String) -> Failure {
        let mut f = self.failure(FailureKind::Environment, summary, String::new());
        f.help = Some("`weld doctor` checks the toolchains".into());
        f
    }

    fn source_failure(&self, summary: &str, detail: String) -> Failure {
        let c = self.component;
        let head = c.lang == Lang::Rust;
        // For a prebuilt component the file is the whole story: name it.
        let summary = match c.lang {
            Lang::Wasm => format!("{}: {summary}", crate::fsutil::shown(&c.source)),
            _ => summary.to_string(),
        };
        // Toolchains print absolute paths; show the sources as the user names them.
        let source_dir = if c.source.is_dir() {
            c.source.as_path()
        } else {
            c.source.parent().unwrap_or(&c.source)
        };
        let detail = detail.replace(
            &format!("{}/", source_dir.display()),
            &format!("{}/", crate::fsutil::shown(source_dir)),
        );
        self.failure(
            FailureKind::Source,
            summary,
            langs::trim_output(&detail, head, self.verbose),
        )
    }

    /// A unique scratch path for a toolchain's output, inside the output directory so that the
    /// final rename stays on one filesystem.
    fn scratch_file(&self) -> Result<PathBuf, Failure> {
        let dir = self.target_dir.join(".tmp");
        std::fs::create_dir_all(&dir)
            .map_err(|e| self.env_failure(format!("cannot create {}: {e}", dir.display())))?;
        Ok(crate::fsutil::temp_beside(
            &dir.join(format!("{}.wasm", self.component.name)),
        ))
    }

    fn wit_and_world(&self) -> Result<(&Path, String), Failure> {
        let c = self.component;
        match (&c.wit, &c.world) {
            (Some(wit), Some(world)) => Ok((wit, world.clone())),
            // The manifest validation guarantees both for python and js.
            _ => Err(self.env_failure(format!("component `{}` has no WIT world", c.name))),
        }
    }

    /// The WIT directory to hand a language toolchain: the component's own, or a staged copy
    /// with the runtime's WASI packages in deps/ when its world uses WASI it does not carry.
    fn toolchain_wit(&self) -> Result<PathBuf, Failure> {
        let (wit, _) = self.wit_and_world()?;
        let staged = self.target_dir.join(".wit").join(&self.component.name);
        crate::wit::for_toolchain(wit, &staged)
            .map_err(|e| self.source_failure("its WIT does not resolve", e.to_string()))
    }

    /// Whether the component's world imports or exports anything of `wasi:http`.
    fn world_uses_http(&self) -> Result<bool, Failure> {
        let (wit, world) = self.wit_and_world()?;
        let (resolve, pkg) = crate::wit::load_dir(wit, wit)
            .map_err(|e| self.source_failure("its WIT does not parse", e.to_string()))?;
        let world = resolve
            .select_world(&[pkg], Some(&world))
            .map_err(|e| self.source_failure("its world is not in its WIT", format!("{e:#}")))?;
        let w = &resolve.worlds[world];
        Ok(w.imports
            .values()
            .chain(w.exports.values())
            .any(|item| match item {
                wit_parser::WorldItem::Interface { id, .. } => {
                    resolve.interfaces[*id].package.is_some_and(|p| {
                        let name = &resolve.packages[p].name;
                        name.namespace == "wasi" && name.name == "http"
                    })
                }
                _ => false,
            }))
    }
}

/// The byte size of the largest core module inside a component (the interpreter, for Python
/// and JavaScript components).
fn largest_core_module(bytes: &[u8]) -> Option<u64> {
    let mut largest = None;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Ok(wasmparser::Payload::ModuleSection {
            unchecked_range, ..
        }) = payload
        {
            let size = unchecked_range.end - unchecked_range.start;
            largest = Some(largest.map_or(size, |l: u64| l.max(size)));
        }
    }
    largest
}
