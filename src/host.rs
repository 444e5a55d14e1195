//! Embedding weld: an application loads its users' plugins, checks each against the world it
//! offers them, and calls them with no authority beyond what it grants, under a deadline and a
//! memory limit.
//!
//! A plugin is a WebAssembly component written in any language that builds one (Rust, Python,
//! JavaScript, Go, ...). The host's own WIT says what a plugin is: the world's exports are
//! what the host calls, its imports what the host provides. A plugin that does not fit is
//! refused with the explanation `weld check` gives, in WIT's words, before anything is
//! compiled.
//!
//! ```no_run
//! use std::time::Duration;
//! use weld::host::Host;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // wit/ declares `world plugin { import log; export transform; }`.
//! let host = Host::new("wit", "plugin")?
//!     .timeout(Duration::from_secs(2))
//!     .max_memory(64 << 20)
//!     .func("example:text/log@0.1.0", "log", |args| {
//!         println!("plugin says {args:?}");
//!         Ok(vec![])
//!     });
//! let plugin = host.load("plugins/shout.wasm")?;
//! assert_eq!(plugin.call(r#"transform("hi")"#)?, r#""HI""#);
//! # Ok(())
//! # }
//! ```
//!
//! Each call runs in a fresh instance of the plugin: no state survives from one call to the
//! next, and a call that traps, runs past its deadline or asks for too much memory fails alone
//! with a [`CallError`] naming the plugin. A [`Plugin`] is cheap to clone, `Send` and `Sync`:
//! calls from many threads run in parallel, and replacing a plugin with a new version while
//! calls are in flight is safe (they finish on the version they started with).
//!
//! Calls block the calling thread: from async code, make them on a blocking thread
//! (`tokio::task::spawn_blocking`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use miette::Diagnostic;
use wit_parser::{Resolve, WorldId};

use crate::check::Finding;
use crate::run::{Action, App, Call, Entry, HostFunction, Runtime, RuntimeOptions, Status, Stdio};
use crate::settings::{DirGrant, RunSettings};

pub use crate::run::{Compiler, Limit, Trap};
pub use wasmtime::component::Val;

/// The default deadline of one call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default memory limit of one call, in bytes.
pub const DEFAULT_MAX_MEMORY: u64 = 256 << 20;

/// Calls in flight at once across a host's plugins (the pool's instances); more wait for a
/// slot.
const POOL_INSTANCES: u32 = 128;

/// Loads plugins that implement one world, and runs them under the limits and grants it sets.
///
/// Made with [`Host::new`]; the builder methods set limits, grants, host functions, the
/// compiled-code cache and the compiler. Nothing is granted by default: a plugin sees no files,
/// no environment, no network.
pub struct Host {
    /// The world as the application named it, for messages.
    world_name: String,
    resolve: Resolve,
    world: WorldId,
    settings: RunSettings,
    cache_dir: Option<PathBuf>,
    compiler: Compiler,
    functions: Vec<HostFunction>,
    /// Made on first load, once the builder methods have had their say; with the slots of
    /// its pool.
    runtime: OnceLock<Result<Engine, String>>,
}

/// The runtime plugins of one host share, and the slots of its instance pool.
type Engine = (Arc<Runtime>, Arc<Slots>);

/// Calls in flight across the plugins of one runtime, bounded by its pool: a call past the
/// bound waits for a slot rather than failing.
struct Slots {
    free: std::sync::Mutex<u32>,
    freed: std::sync::Condvar,
}

/// A taken slot, given back when dropped.
struct Slot(Arc<Slots>);

impl Slots {
    fn take(self: &Arc<Slots>) -> Slot {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Slot(self.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// A plugin that fits the host's world, compiled and ready to call any number of times.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Loaded>,
}

struct Loaded {
    app: App,
    runtime: Arc<Runtime>,
    slots: Arc<Slots>,
    settings: RunSettings,
}

/// Why a plugin cannot be loaded, or the host cannot be set up.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum HostError {
    /// The host's WIT does not load, or has no such world: a mistake of the application's.
    #[error("the host's WIT: {message}")]
    #[diagnostic(code(weld::host::wit))]
    Wit {
        /// What is wrong.
        message: String,
    },
    /// The plugin is missing, unreadable, or not a valid component.
    #[error("plugin `{plugin}`: {message}")]
    #[diagnostic(code(weld::host::invalid))]
    Invalid {
        /// The plugin.
        plugin: String,
        /// What is wrong with it.
        message: String,
    },
    /// The plugin does not implement the host's world; nothing of it was compiled.
    #[error("plugin `{plugin}` does not fit world `{world}`:\n{explanation}")]
    #[diagnostic(code(weld::host::misfit))]
    Misfit {
        /// The plugin.
        plugin: String,
        /// The host's world.
        world: String,
        /// What `weld check` says about it: each problem in WIT's words, with both sides.
        explanation: String,
        /// The same, as findings.
        findings: Vec<Finding>,
    },
    /// The plugin imports functions of the host's world that the application did not give
    /// with [`Host::func`].
    #[error("plugin `{plugin}` imports {}, which the host's world offers but the application did not give: provide each with `Host::func`", missing.join(", "))]
    #[diagnostic(code(weld::host::unprovided))]
    Unprovided {
        /// The plugin.
        plugin: String,
        /// The functions, as `` `log` of example:text/log@0.1.0 ``.
        missing: Vec<String>,
    },
    /// The plugin fits but cannot be compiled or linked.
    #[error("plugin `{plugin}` cannot be loaded: {source}")]
    #[diagnostic(code(weld::host::load))]
    Load {
        /// The plugin.
        plugin: String,
        /// Why.
        #[source]
        source: Box<crate::run::RunError>,
    },
    /// A plugin's source did not build.
    #[error("the plugin in {dir} did not build: {message}")]
    #[diagnostic(code(weld::host::build))]
    Build {
        /// Its directory.
        dir: PathBuf,
        /// Why.
        message: String,
    },
}

/// Why a call returned no result. The host goes on: the next call runs in a fresh instance.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum CallError {
    /// The call does not name an export of the plugin, or its arguments do not fit the
    /// export's types.
    #[error("plugin `{plugin}`: {message}")]
    #[diagnostic(code(weld::host::call))]
    Usage {
        /// The plugin.
        plugin: String,
        /// What is wrong with the call.
        message: String,
    },
    /// The plugin trapped (a panic, an `unreachable`, a failed host function).
    #[error("plugin `{plugin}` trapped: {}", trap.message)]
    #[diagnostic(code(weld::host::trap))]
    Trap {
        /// The plugin.
        plugin: String,
        /// What happened and where.
        trap: Trap,
    },
    /// A limit stopped the plugin: the deadline, the memory limit, the stack.
    #[error("plugin `{plugin}` was stopped: {}", describe(limit))]
    #[diagnostic(code(weld::host::limit))]
    Limit {
        /// The plugin.
        plugin: String,
        /// The limit it hit.
        limit: Limit,
    },
}

fn describe(limit: &Limit) -> String {
    match limit {
        Limit::Deadline(d) => format!(
            "it ran past its deadline of {}",
            crate::units::format_duration(*d)
        ),
        Limit::Memory { limit, requested } => format!(
            "it asked for {} of memory, over its limit of {}",
            crate::units::format_size(*requested),
            crate::units::format_size(*limit)
        ),
        Limit::Table { requested } => format!("it asked for a table of {requested} elements"),
        Limit::Stack => "its call stack overflowed".to_string(),
    }
}

impl Host {
    /// A host whose plugins implement `world` of the WIT package in `wit_dir` (a directory of
    /// `.wit` files, with its dependencies in `deps/`; WASI comes from weld's runtime).
    ///
    /// ```
    /// use weld::host::{Host, HostError};
    ///
    /// let host = Host::new("fixtures/plugins/wit", "plugin")?;
    /// match Host::new("fixtures/plugins/wit", "plug-in") {
    ///     Err(HostError::Wit { message }) => assert!(message.contains("worlds: plugin")),
    ///     _ => unreachable!("there is no world `plug-in`"),
    /// }
    /// # Ok::<(), HostError>(())
    /// ```
    pub fn new(wit_dir: impl AsRef<Path>, world: &str) -> Result<Host, HostError> {
        let dir = wit_dir.as_ref();
        let (resolve, pkg) = crate::wit::load_dir(dir, dir).map_err(|e| HostError::Wit {
            message: e.to_string(),
        })?;
        let world_id = resolve
            .select_world(&[pkg], Some(world))
            .map_err(|_| HostError::Wit {
                message: format!(
                    "world `{world}` is not in {} (worlds: {})",
                    dir.display(),
                    resolve.packages[pkg]
                        .worlds
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        Ok(Host {
            world_name: world.to_string(),
            resolve,
            world: world_id,
            settings: RunSettings {
                timeout: DEFAULT_TIMEOUT,
                max_memory: DEFAULT_MAX_MEMORY,
                ..crate::run::grants::defaults()
            },
            cache_dir: None,
            compiler: Compiler::Cranelift,
            functions: Vec::new(),
            runtime: OnceLock::new(),
        })
    }

    /// The deadline of each call ([`DEFAULT_TIMEOUT`] unless set).
    ///
    /// ```
    /// let host = weld::host::Host::new("fixtures/plugins/wit", "plugin")?
    ///     .timeout(std::time::Duration::from_millis(250));
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Host {
        self.settings.timeout = timeout;
        self
    }

    /// The largest linear memory each call may grow to, in bytes ([`DEFAULT_MAX_MEMORY`]
    /// unless set).
    ///
    /// ```
    /// let host = weld::host::Host::new("fixtures/plugins/wit", "plugin")?.max_memory(32 << 20);
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn max_memory(mut self, bytes: u64) -> Host {
        self.settings.max_memory = bytes;
        // The pool is sized for it.
        self.runtime = OnceLock::new();
        self
    }

    /// Lets plugins see host directory `host` as `guest`, read-only unless `writable`.
    ///
    /// ```
    /// // Plugins read the host's templates at /templates, and cannot change them.
    /// let host = weld::host::Host::new("fixtures/plugins/wit", "plugin")?
    ///     .grant_dir("fixtures/plugins/wit", "/templates", false);
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn grant_dir(mut self, host: impl Into<PathBuf>, guest: &str, writable: bool) -> Host {
        self.settings.dirs.push(DirGrant {
            host: host.into(),
            guest: guest.to_string(),
            read_only: !writable,
        });
        self
    }

    /// Sets environment variable `key` to `value` for plugins.
    ///
    /// ```
    /// let host = weld::host::Host::new("fixtures/plugins/wit", "plugin")?.grant_env("LANG", "C");
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn grant_env(mut self, key: &str, value: &str) -> Host {
        self.settings.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Caches compiled code in `dir` (by the plugin's content), so that loading a plugin
    /// compiled before takes milliseconds; `None` (the default) compiles on every load.
    ///
    /// ```
    /// let cache = std::env::temp_dir().join("my-app-plugins");
    /// let host = weld::host::Host::new("fixtures/plugins/wit", "plugin")?.cache_dir(Some(cache));
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Host {
        self.cache_dir = dir;
        self.runtime = OnceLock::new();
        self
    }

    /// The compiler: Cranelift (the default) for fast code, Winch for fast loading.
    ///
    /// ```
    /// use weld::host::{Compiler, Host};
    /// let host = Host::new("fixtures/plugins/wit", "plugin")?.compiler(Compiler::Winch);
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn compiler(mut self, compiler: Compiler) -> Host {
        self.compiler = compiler;
        self.runtime = OnceLock::new();
        self
    }

    /// Provides function `name` of interface `interface` (as WIT names it, with its package:
    /// `example:text/log@0.1.0`; empty for a function the world imports itself) to plugins.
    /// `f` gets the plugin's arguments and returns the results, as wasmtime's component values;
    /// an `Err` traps the plugin with that message, and the call fails with
    /// [`CallError::Trap`].
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weld::host::{Host, Val};
    ///
    /// let lines = Arc::new(Mutex::new(Vec::new()));
    /// let kept = lines.clone();
    /// let host = Host::new("fixtures/plugins/wit", "plugin")?.func(
    ///     "example:text/log@0.1.0",
    ///     "log",
    ///     move |args| match args {
    ///         [Val::String(line)] => {
    ///             kept.lock().unwrap().push(line.clone());
    ///             Ok(vec![])
    ///         }
    ///         _ => Err("log takes one string".into()),
    ///     },
    /// );
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn func(
        mut self,
        interface: &str,
        name: &str,
        f: impl Fn(&[Val]) -> Result<Vec<Val>, String> + Send + Sync + 'static,
    ) -> Host {
        self.functions.push(HostFunction {
            interface: (!interface.is_empty()).then(|| interface.to_string()),
            name: name.to_string(),
            func: Arc::new(f),
        });
        self.runtime = OnceLock::new();
        self
    }

    fn runtime(&self) -> Result<Engine, String> {
        self.runtime
            .get_or_init(|| {
                Runtime::new(RuntimeOptions {
                    cache_dir: self.cache_dir.clone(),
                    // Instances, their memories and their stacks are reused from a pool: a
                    // fresh instance per call then costs microseconds, not mmap and munmap.
                    pool: Some(crate::run::Pool {
                        instances: POOL_INSTANCES,
                        max_memory: self.settings.max_memory,
                    }),
                    profile: match self.compiler {
                        Compiler::Cranelift => crate::settings::Profile::Release,
                        Compiler::Winch => crate::settings::Profile::Dev,
                    },
                    functions: self.functions.clone(),
                })
                .map(|runtime| {
                    let slots = Slots {
                        free: std::sync::Mutex::new(POOL_INSTANCES),
                        freed: std::sync::Condvar::new(),
                    };
                    (Arc::new(runtime), Arc::new(slots))
                })
                .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// Loads the plugin at `path`, named by its file name in messages.
    ///
    /// ```
    /// use weld::host::{Host, HostError};
    /// let host = Host::new("fixtures/plugins/wit", "plugin")?;
    /// match host.load("no/such/plugin.wasm") {
    ///     Err(HostError::Invalid { plugin, message }) => {
    ///         assert_eq!(plugin, "plugin");
    ///         assert!(message.contains("cannot read no/such/plugin.wasm"), "{message}");
    ///     }
    ///     _ => unreachable!(),
    /// }
    /// # Ok::<(), HostError>(())
    /// ```
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Plugin, HostError> {
        let path = path.as_ref();
        let name = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into(),
        );
        let bytes = crate::fsutil::read_file(path).map_err(|e| HostError::Invalid {
            plugin: name.clone(),
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        self.load_bytes(&name, bytes)
    }

    /// Loads a plugin from its bytes, calling it `name` in messages: validates it, checks it
    /// against the host's world (a misfit is refused before anything is compiled), then
    /// compiles it or loads its code from the cache.
    ///
    /// ```
    /// use weld::host::{Host, HostError};
    ///
    /// let host = Host::new("fixtures/plugins/wit", "plugin")?;
    /// match host.load_bytes("upload-17", b"#!/bin/sh\nrm -rf /\n".to_vec()) {
    ///     Err(HostError::Invalid { plugin, message }) => {
    ///         assert_eq!(plugin, "upload-17");
    ///         assert!(message.contains("not a component"), "{message}");
    ///     }
    ///     _ => unreachable!("a shell script is no plugin"),
    /// }
    /// # Ok::<(), HostError>(())
    /// ```
    pub fn load_bytes(&self, name: &str, bytes: impl Into<Vec<u8>>) -> Result<Plugin, HostError> {
        let bytes: Vec<u8> = bytes.into();
        let loaded =
            crate::check::load::from_bytes(Path::new(name), name, bytes, true).map_err(|e| {
                HostError::Invalid {
                    plugin: name.to_string(),
                    message: invalid(&e),
                }
            })?;
        let findings =
            crate::check::target::check(&loaded, &self.resolve, self.world, &self.world_name);
        if crate::check::has_errors(&findings) {
            return Err(HostError::Misfit {
                plugin: name.to_string(),
                world: self.world_name.clone(),
                explanation: crate::report::findings::explain(&findings),
                findings,
            });
        }
        self.provides_imports(&loaded)?;
        let (runtime, slots) = self.runtime().map_err(|message| HostError::Load {
            plugin: name.to_string(),
            source: Box::new(crate::run::RunError::Environment(message)),
        })?;
        let app = runtime
            .load_bytes(loaded.bytes.into(), name, Entry::Any)
            .map_err(|source| HostError::Load {
                plugin: name.to_string(),
                source: Box::new(source),
            })?;
        Ok(Plugin {
            inner: Arc::new(Loaded {
                app,
                runtime,
                slots,
                settings: self.settings.clone(),
            }),
        })
    }

    /// Refuses a plugin that imports a function of the host's world that the application has
    /// not given with [`Host::func`]: the application's omission, said in its terms.
    fn provides_imports(&self, plugin: &crate::check::load::Loaded) -> Result<(), HostError> {
        let resolve = &plugin.resolve;
        let mut missing = Vec::new();
        for (key, item) in &resolve.worlds[plugin.world].imports {
            let (interface, functions): (Option<String>, Vec<&str>) = match item {
                wit_parser::WorldItem::Interface { id, .. } => {
                    let name = resolve.name_world_key(key);
                    if name.starts_with("wasi:") {
                        continue;
                    }
                    let i = &resolve.interfaces[*id];
                    (Some(name), i.functions.keys().map(String::as_str).collect())
                }
                wit_parser::WorldItem::Function(f) => (None, vec![f.name.as_str()]),
                wit_parser::WorldItem::Type { .. } => continue,
            };
            for f in functions {
                let given = self
                    .functions
                    .iter()
                    .any(|h| h.interface == interface && h.name == f);
                if !given {
                    missing.push(match &interface {
                        Some(i) => format!("`{f}` of {i}"),
                        None => format!("`{f}`"),
                    });
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(HostError::Unprovided {
            plugin: plugin.name.clone(),
            missing,
        })
    }

    /// Builds the plugin whose source is in `project_dir` (a weld project: a weld.toml naming
    /// one component, in Rust, Python, JavaScript or Go) through weld's pipeline, then loads
    /// it as [`Host::load`] does. The toolchains are weld's (`weld doctor` lists them).
    ///
    /// ```no_run
    /// // A directory that `weld new title --lang python --world plugin` made, with the
    /// // host's WIT in wit/ and the user's app.py.
    /// let host = weld::host::Host::new("wit", "plugin")?
    ///     .func("example:text/log@0.1.0", "log", |_| Ok(vec![]));
    /// let plugin = host.build("uploads/title")?;
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn build(&self, project_dir: impl AsRef<Path>) -> Result<Plugin, HostError> {
        self.build_project(project_dir.as_ref(), None)
    }

    /// [`Host::build`] for component `name` of a project that holds several.
    ///
    /// ```no_run
    /// let host = weld::host::Host::new("fixtures/plugins/wit", "plugin")?
    ///     .func("example:text/log@0.1.0", "log", |_| Ok(vec![]));
    /// let rot13 = host.build_component("fixtures/plugins", "rot13")?;
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn build_component(
        &self,
        project_dir: impl AsRef<Path>,
        name: &str,
    ) -> Result<Plugin, HostError> {
        self.build_project(project_dir.as_ref(), Some(name))
    }

    fn build_project(&self, dir: &Path, name: Option<&str>) -> Result<Plugin, HostError> {
        let failed = |message: String| HostError::Build {
            dir: dir.to_path_buf(),
            message,
        };
        let absolute = std::path::absolute(dir).map_err(|e| failed(e.to_string()))?;
        let plan = crate::project::Plan::discover(Some(&absolute.join("weld.toml")), &absolute)
            .map_err(|e| failed(words(&e)))?;
        let names = || {
            plan.components
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let component = match name {
            Some(name) => plan.component(name).ok_or_else(|| {
                failed(format!(
                    "weld.toml has no component `{name}` (its components: {})",
                    names()
                ))
            })?,
            None => match plan.components.as_slice() {
                [one] => one,
                _ => {
                    return Err(failed(format!(
                        "weld.toml declares {} components ({}): name the plugin's with `build_component`",
                        plan.components.len(),
                        names()
                    )));
                }
            },
        };
        let quiet = crate::report::Reporter::quiet();
        crate::pipeline::build_only(&plan, std::slice::from_ref(&component.name), None, &quiet)
            .map_err(|e| failed(words(&e)))?;
        let bytes = crate::fsutil::read_file(&component.output)
            .map_err(|e| failed(format!("cannot read {}: {e}", component.output.display())))?;
        self.load_bytes(&component.name, bytes)
    }
}

/// A diagnostic in words: its message, and its help.
fn words(error: &dyn Diagnostic) -> String {
    match error.help() {
        Some(help) => format!("{error} ({help})"),
        None => error.to_string(),
    }
}

/// A load error's reason, without the pseudo path the bytes were given.
fn invalid(e: &crate::check::load::LoadError) -> String {
    use crate::check::load::LoadError;
    match e {
        LoadError::NotAComponent { reason, help, .. }
        | LoadError::Inexpressible { reason, help, .. } => match help {
            Some(help) => format!("{reason} ({help})"),
            None => reason.clone(),
        },
        other => other.to_string(),
    }
}

impl Plugin {
    /// Its name in messages: the file name it was loaded from, or the name it was given.
    ///
    /// ```no_run
    /// # let host = weld::host::Host::new("fixtures/plugins/wit", "plugin")?;
    /// let plugin = host.load("fixtures/plugins/target/weld/spin.wasm")?;
    /// assert_eq!(plugin.name(), "spin");
    /// # Ok::<(), weld::host::HostError>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.app.name
    }

    /// Calls one export with a call written in WAVE, `transform("hi")` (as `weld run --invoke`
    /// takes it: `name(args)`, or `interface.name(args)` where two exports share a name),
    /// returning its result as WAVE text (`"HI"`; an empty string for a function with no
    /// result). An `err(..)` result is a result: only a failure of the plugin itself is an
    /// `Err`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let host = weld::host::Host::new("fixtures/plugins/wit", "plugin")?;
    /// let plugin = host.load("fixtures/plugins/target/weld/spin.wasm")?;
    /// match plugin.call(r#"transform("x")"#) {
    ///     Err(weld::host::CallError::Limit { plugin, limit }) => eprintln!("{plugin}: {limit:?}"),
    ///     other => println!("{other:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn call(&self, wave: &str) -> Result<String, CallError> {
        let call = Call::parse(wave).map_err(|e| self.usage(&*e))?;
        let Loaded {
            app,
            runtime,
            slots,
            settings,
        } = &*self.inner;
        let _slot = slots.take();
        let outcome = runtime
            .run(
                app,
                settings,
                &Action::Invoke(call),
                &Stdio::Capture { stdin: Vec::new() },
            )
            .map_err(|e| self.usage(&e))?;
        match outcome.status {
            Status::Returned(value) => Ok(value.unwrap_or_default()),
            Status::ReturnedErr(value) => Ok(value),
            status => Err(self.stopped(status)),
        }
    }

    /// Calls export `function` (named as in [`Plugin::call`], without arguments) with
    /// `params`, returning its results as wasmtime's component values.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use weld::host::{Host, Val};
    ///
    /// let host = Host::new("fixtures/plugins/wit", "plugin")?.func("example:text/log@0.1.0", "log", |_| Ok(vec![]));
    /// let shout = host.load("fixtures/plugins/target/weld/shout.wasm")?;
    /// let out = shout.call_values("transform", &[Val::String("hi".into())])?;
    /// assert_eq!(out, [Val::String("HI".into())]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn call_values(&self, function: &str, params: &[Val]) -> Result<Vec<Val>, CallError> {
        let call = Call::parse(&format!("{function}()")).map_err(|e| self.usage(&*e))?;
        let Loaded {
            app,
            runtime,
            slots,
            settings,
        } = &*self.inner;
        let _slot = slots.take();
        match runtime.call_values(app, settings, &call, params) {
            Ok(Ok(results)) => Ok(results),
            Ok(Err(status)) => Err(self.stopped(status)),
            Err(e) => Err(self.usage(&e)),
        }
    }

    /// A usage error in words: the message, and what to do.
    fn usage(&self, error: &dyn Diagnostic) -> CallError {
        CallError::Usage {
            plugin: self.name().to_string(),
            message: words(error),
        }
    }

    fn stopped(&self, status: Status) -> CallError {
        let plugin = self.name().to_string();
        match status {
            Status::Limit(limit) => CallError::Limit { plugin, limit },
            Status::Trapped(trap) => CallError::Trap { plugin, trap },
            // A plugin's export is called, never `wasi:cli/run`: it has no exit code.
            other => CallError::Trap {
                plugin,
                trap: Trap {
                    message: format!("it ended the call with {other:?}"),
                    component: None,
                    backtrace: Vec::new(),
                },
            },
        }
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Plugin>();
        send_sync::<Host>();
    }
}
