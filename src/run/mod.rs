//! Running components in embedded wasmtime: `wasi:cli/run` or any export (`--invoke`), with
//! capabilities granted explicitly, limits on by default and compiled code cached by content.
//!
//! One [`Runtime`] holds the engine, the WASI linker and the tokio runtime the WASI host needs;
//! [`Runtime::load`] compiles (or loads from the cache) and pre-instantiates a component once;
//! [`Runtime::run`] gives each run a fresh store and instance, so runs never share state.
//!
//! A runtime compiles with the compiler its [`Profile`] names: Winch for the edit loop (about a
//! third of Cranelift's compile time, slower code), Cranelift for serving and shipping. A dev
//! runtime that meets a component Winch cannot compile (a proposal it lacks) compiles that one
//! with Cranelift instead, in a second engine made on first need, and remembers the choice.

mod cache;
mod error;
pub mod grants;
pub(crate) mod host;
mod invoke;
mod launch;
mod link;
mod parts;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, InstancePre, Linker, Val};
use wasmtime::{Config, Engine, Store, UpdateDeadline};

pub use cache::{
    CodeCache, FunctionCache, compiled_dir, default_dir as default_cache_dir, toolchain_cache_dir,
    toolchains_dir,
};
pub use error::RunError;
pub use invoke::{Call, Entry, typed_arguments};
pub use launch::{Load, Observer, Ran, current_dev_parts, dev_parts, run_app};

pub use crate::settings::Profile;
use crate::settings::RunSettings;
use host::{Host, LimitHit};

/// How often the engine's epoch advances: the granularity of the deadline.
const TICK: Duration = Duration::from_millis(10);

/// Wasm stack limit per call: wasmtime's default, stated so the message can name it.
pub const MAX_WASM_STACK: usize = 512 * 1024;

pub use crate::exit::EXIT_LIMIT;

/// How a [`Runtime`] is set up.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Where compiled code is cached; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Instances come from a pool sized for this many at once (a server); `None` allocates
    /// each instance on demand (a single run).
    pub pool: Option<Pool>,
    /// Which compiler makes the machine code.
    pub profile: Profile,
    /// Imports the embedding application provides, beside WASI.
    pub functions: Vec<HostFunction>,
}

/// A function the embedding application gives guests: import `name` of `interface`, or of the
/// world itself when `interface` is `None`. It gets the guest's arguments and returns the
/// results; an `Err` traps the guest with that message.
#[derive(Clone)]
pub struct HostFunction {
    /// The interface as WIT names it with its package (`example:text/log@0.1.0`).
    pub interface: Option<String>,
    /// The function's WIT name.
    pub name: String,
    /// What it does.
    pub func: Arc<HostFn>,
}

/// The body of a [`HostFunction`].
pub type HostFn = dyn Fn(&[Val]) -> Result<Vec<Val>, String> + Send + Sync;

impl std::fmt::Debug for HostFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostFunction")
            .field("interface", &self.interface)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl HostFunction {
    /// Defines it in `linker`.
    fn define(&self, linker: &mut Linker<Host>) -> wasmtime::Result<()> {
        let mut instance = match &self.interface {
            Some(interface) => linker.instance(interface)?,
            None => linker.root(),
        };
        let func = self.func.clone();
        let name = match &self.interface {
            Some(i) => format!("{i}#{}", self.name),
            None => self.name.clone(),
        };
        instance.func_new(&self.name, move |_, _, params, results| {
            let out = func(params)
                .map_err(|e| wasmtime::format_err!("host function `{name}` failed: {e}"))?;
            if out.len() != results.len() {
                wasmtime::bail!(
                    "host function `{name}` returned {} values where its WIT has {}",
                    out.len(),
                    results.len()
                );
            }
            results.clone_from_slice(&out);
            Ok(())
        })
    }
}

/// An app's file as messages show it: relative to the current directory, or by its name when
/// it is one pulled into weld's cache (whose path says nothing to the user).
pub fn shown_app(path: &Path, name: &str) -> String {
    if default_cache_dir().is_some_and(|cache| path.starts_with(cache)) {
        name.to_string()
    } else {
        crate::fsutil::shown(path)
    }
}

impl Profile {
    /// The compiler this profile uses.
    pub fn compiler(self) -> Compiler {
        match self {
            Profile::Dev => Compiler::Winch,
            Profile::Release => Compiler::Cranelift,
        }
    }
}

/// A wasmtime compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compiler {
    /// Single-pass, for compile speed.
    Winch,
    /// Optimising, for run-time speed.
    Cranelift,
}

impl Compiler {
    /// Its name in messages and cache directories.
    pub fn name(self) -> &'static str {
        match self {
            Compiler::Winch => "winch",
            Compiler::Cranelift => "cranelift",
        }
    }
}

impl std::fmt::Display for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Compiler::Winch => "Winch",
            Compiler::Cranelift => "Cranelift",
        })
    }
}

/// A compile about to start, for the status line: it may take seconds.
#[derive(Debug, Clone)]
pub struct Compiling {
    /// The component's size in bytes.
    pub size: u64,
    /// The compiler that is about to compile it.
    pub compiler: Compiler,
    /// Why the profile's own compiler could not, when this compile is the fallback to
    /// Cranelift: said once per component, when the fallback is first made.
    pub fallback: Option<String>,
}

/// The pooling allocator's size: memory and instance slots reserved up front and reused, so
/// that a fresh instance per request costs microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Pool {
    /// Component instances alive at once.
    pub instances: u32,
    /// The largest linear memory one instance may have, in bytes.
    pub max_memory: u64,
}

/// The engine, the linker with WASI 0.2, and the compiled-code cache.
pub struct Runtime {
    primary: Backend,
    /// Cranelift, for what Winch cannot compile: made on first need (dev profile only).
    fallback: std::sync::OnceLock<Result<Backend, String>>,
    options: RuntimeOptions,
    tokio: tokio::runtime::Runtime,
}

/// One compiler's engine, with its linker and caches: machine code from one engine cannot run
/// in another, so each compiler has its own.
struct Backend {
    compiler: Compiler,
    engine: Engine,
    linker: Linker<Host>,
    cache: Option<CodeCache>,
    /// Cranelift's per-function cache (Winch has no incremental compilation).
    functions: Option<Arc<cache::FunctionCache>>,
    _ticker: Ticker,
}

/// A component compiled and linked, ready to be instantiated any number of times.
pub struct App {
    /// The name messages use.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// Where its compiled code came from.
    pub compiled: Compiled,
    /// The compiler that made its machine code.
    pub compiler: Compiler,
    pre: InstancePre<Host>,
    /// For an app run as its parts: the parts that serve imports, instantiated before `pre`
    /// (the root part), in this order.
    providers: Vec<InstancePre<Host>>,
    /// For an app run as its parts: the root part's name.
    root_part: Option<String>,
    /// Read only when needed (a diagnostic's signature): a cached app is never read whole.
    bytes: std::sync::OnceLock<Arc<[u8]>>,
}

/// Where an [`App`]'s machine code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiled {
    /// Loaded from the cache.
    Cached {
        /// How long loading took.
        load: Duration,
    },
    /// Compiled now (and stored in the cache, if there is one).
    Fresh {
        /// How long compiling took.
        compile: Duration,
    },
}

/// How a component is loaded: as an app, for `Entry`; or as a part of an app run as its parts,
/// which shares the profile's engine and is judged by the link of all the parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role<'a> {
    App(Entry<'a>),
    Part,
}

/// What to do with an instance.
#[derive(Debug, Clone)]
pub enum Action {
    /// Call `wasi:cli/run` with these arguments (after the program name).
    Run {
        /// The arguments.
        args: Vec<String>,
    },
    /// Call one export.
    Invoke(Call),
}

/// Where the guest's standard streams go.
#[derive(Debug, Clone, Default)]
pub enum Stdio {
    /// weld's own stdin, stdout and stderr.
    #[default]
    Inherit,
    /// Stdin from these bytes; stdout and stderr captured into the [`Outcome`].
    Capture {
        /// The guest's standard input.
        stdin: Vec<u8>,
    },
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// `wasi:cli/run` returned or the guest called exit: its exit code.
    Exited(i32),
    /// An invoked function returned this value, in WAVE (`None` for no result).
    Returned(Option<String>),
    /// An invoked function returned an `err(..)` result, in WAVE.
    ReturnedErr(String),
    /// The guest trapped.
    Trapped(Trap),
    /// A limit stopped the guest.
    Limit(Limit),
}

/// A trap: what happened and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Trap {
    /// wasmtime's description, e.g. "wasm `unreachable` instruction executed".
    pub message: String,
    /// The component of a composed app the trap happened in (from the labels `weld compose`
    /// gives core modules), if known.
    pub component: Option<String>,
    /// The guest's call stack, innermost first, as function names.
    pub backtrace: Vec<String>,
}

/// A limit that ended a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    /// The wall-clock deadline passed.
    Deadline(Duration),
    /// Growing tables beyond their limit was refused.
    Table {
        /// What the guest asked for in all, in elements.
        requested: usize,
    },
    /// Growing linear memory beyond the limit was refused.
    Memory {
        /// The limit, in bytes.
        limit: u64,
        /// What the guest asked for in all, in bytes.
        requested: u64,
    },
    /// The guest's call stack overflowed.
    Stack,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// Captured stdout (empty when inherited).
    pub stdout: Vec<u8>,
    /// Captured stderr (empty when inherited).
    pub stderr: Vec<u8>,
    /// Instantiation plus the call.
    pub elapsed: Duration,
    /// Instantiation alone.
    pub instantiate: Duration,
}

/// What work in a fresh store did: its result, or how the guest stopped; and its output.
struct Ended<R> {
    result: Result<R, Status>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    elapsed: Duration,
    instantiate: Duration,
}

impl Status {
    /// The exit code weld passes on: the guest's own, 1 for a trap or an error result,
    /// [`EXIT_LIMIT`] for a limit.
    pub fn exit_code(&self) -> u8 {
        match self {
            // Exit codes outside 0..=255 are truncated as a shell would.
            Status::Exited(code) => *code as u8,
            Status::Returned(_) => 0,
            Status::ReturnedErr(_) | Status::Trapped(_) => 1,
            Status::Limit(_) => EXIT_LIMIT,
        }
    }
}

impl Runtime {
    /// An engine configured for weld: the profile's compiler (Cranelift with parallel
    /// compilation, or Winch), epoch interruption for deadlines, backtraces with names; and a
    /// linker with every WASI 0.2 interface.
    pub fn new(options: RuntimeOptions) -> Result<Runtime, RunError> {
        let primary = Backend::new(options.profile.compiler(), &options)?;
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("weld-run")
            .build()
            .map_err(|e| RunError::Environment(format!("cannot start the async runtime: {e}")))?;
        Ok(Runtime {
            primary,
            fallback: std::sync::OnceLock::new(),
            options,
            tokio,
        })
    }

    /// The Cranelift backend a dev runtime falls back to, made on first use.
    fn fallback(&self) -> Result<&Backend, RunError> {
        self.fallback
            .get_or_init(|| {
                Backend::new(Compiler::Cranelift, &self.options).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| RunError::Environment(format!("cannot start Cranelift: {e}")))
    }

    /// Reads the component at `path`, compiles it (or loads its compiled code from the cache)
    /// and links it, so that every import it has is known to be provided.
    pub fn load(&self, path: &Path, name: &str) -> Result<App, RunError> {
        self.load_notify(path, name, Entry::Any, &|_| {})
    }

    /// [`Runtime::load`] for `entry` (a component that cannot serve it is refused before it
    /// is compiled), calling `compiling` before a compile that the cache cannot spare (it may
    /// take a while: tell the user).
    pub fn load_notify(
        &self,
        path: &Path,
        name: &str,
        entry: Entry<'_>,
        compiling: &dyn Fn(&Compiling),
    ) -> Result<App, RunError> {
        let Loaded {
            backend,
            component,
            compiled,
            read,
        } = self.component(path, name, Role::App(entry), compiling)?;
        app(backend, component, compiled, path, name, read)
    }

    /// [`Runtime::load`] for a component held in memory, called `name` in messages: checked
    /// for `entry` and linked before it is compiled, and its code loaded from the cache by its
    /// content when it was compiled before.
    pub fn load_bytes(
        &self,
        bytes: Arc<[u8]>,
        name: &str,
        entry: Entry<'_>,
    ) -> Result<App, RunError> {
        let key = self.primary.cache.as_ref().map(|_| CodeCache::key(&bytes));
        let path = Path::new(name);
        let (backend, component, compiled) = self.compile(
            path,
            name,
            &bytes,
            key.as_deref(),
            Role::App(entry),
            &|_| {},
        )?;
        app(backend, component, compiled, path, name, Some(bytes))
    }

    /// The app at `path`, composed by plugging from `parts` (the root first, each a name and
    /// a component file), run as its parts: each part's code compiled or loaded from the cache
    /// on its own, and the imports one part serves another wired in the host. After an edit to
    /// one part only that part is compiled. `None` when the parts cannot be linked so (they
    /// share resources, or Winch cannot compile one): load the composed file instead.
    pub fn load_parts(
        &self,
        path: &Path,
        name: &str,
        parts: &[(String, PathBuf)],
        compiling: &dyn Fn(&str, &Compiling),
    ) -> Result<Option<App>, RunError> {
        let start = Instant::now();
        let mut loaded = Vec::with_capacity(parts.len());
        let mut fresh = false;
        for (part, file) in parts {
            match self.component(file, part, Role::Part, &|c| compiling(part, c)) {
                Ok(Loaded {
                    component,
                    compiled,
                    ..
                }) => {
                    fresh |= matches!(compiled, Compiled::Fresh { .. });
                    loaded.push(parts::Part {
                        name: part.clone(),
                        component,
                    });
                }
                Err(RunError::Compile { .. }) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        let Some(linked) = parts::link(&self.primary.linker, &loaded) else {
            return Ok(None);
        };
        let elapsed = start.elapsed();
        Ok(Some(App {
            name: name.to_string(),
            path: path.to_path_buf(),
            compiled: if fresh {
                Compiled::Fresh { compile: elapsed }
            } else {
                Compiled::Cached { load: elapsed }
            },
            compiler: self.primary.compiler,
            pre: linked.root,
            providers: linked.providers,
            root_part: parts.first().map(|(part, _)| part.clone()),
            bytes: std::sync::OnceLock::new(),
        }))
    }

    /// The component at `path`, its code loaded from the cache or compiled now: found by the
    /// file's identity when it is unchanged (then it is neither read nor hashed), else by its
    /// content. A `part` of an app run as its parts shares one engine with the others: it
    /// comes from the profile's own backend, never the fallback, and is judged by the link of
    /// the parts rather than on its own.
    fn component(
        &self,
        path: &Path,
        name: &str,
        role: Role<'_>,
        compiling: &dyn Fn(&Compiling),
    ) -> Result<Loaded<'_>, RunError> {
        let start = Instant::now();
        let meta = std::fs::metadata(path).map_err(|e| RunError::read(path, e))?;
        let remembered = self.primary.cache.as_ref().and_then(|cache| {
            let key = cache.remembered_key(path, &meta)?;
            self.cached(&key, role)
        });
        if let Some((backend, component)) = remembered {
            let load = start.elapsed();
            return Ok(Loaded {
                backend,
                component,
                compiled: Compiled::Cached { load },
                read: None,
            });
        }
        let read: Arc<[u8]> = crate::fsutil::read_file(path)
            .map_err(|e| RunError::read(path, e))?
            .into();
        // Hashed once, and only when there is a cache to key.
        let key = self.primary.cache.as_ref().map(|_| CodeCache::key(&read));
        let (backend, component, compiled) =
            self.compile(path, name, &read, key.as_deref(), role, compiling)?;
        if let (Some(cache), Some(key)) = (&self.primary.cache, &key) {
            cache.remember(path, &meta, key);
        }
        Ok(Loaded {
            backend,
            component,
            compiled,
            read: Some(read),
        })
    }

    /// The compiled form of the component with `key`, from the profile's cache or, for one
    /// Winch could not compile (and not a part), from Cranelift's.
    fn cached(&self, key: &str, role: Role<'_>) -> Option<(&Backend, Component)> {
        let cache = self.primary.cache.as_ref()?;
        if let Some(component) = cache.get(key) {
            return Some((&self.primary, component));
        }
        if role == Role::Part || !cache.falls_back(key) {
            return None;
        }
        let fallback = self.fallback().ok()?;
        Some((fallback, fallback.cache.as_ref()?.get(key)?))
    }

    fn compile(
        &self,
        path: &Path,
        name: &str,
        bytes: &[u8],
        key: Option<&str>,
        role: Role<'_>,
        compiling: &dyn Fn(&Compiling),
    ) -> Result<(&Backend, Component, Compiled), RunError> {
        let start = Instant::now();
        if let Some((backend, component)) = key.and_then(|key| self.cached(key, role)) {
            let load = start.elapsed();
            return Ok((backend, component, Compiled::Cached { load }));
        }
        if let Role::App(entry) = role {
            // A file that is not a component gets check's one-line reason, not the
            // compiler's; one whose types only WIT cannot express runs.
            let decoded = crate::check::load::decode(bytes);
            if let Err(u) = &decoded
                && !u.valid
            {
                return Err(RunError::NotAComponent {
                    path: path.to_path_buf(),
                    reason: u.reason.clone(),
                    help: u.help.clone(),
                });
            }
            self.primary.link_imports(name, bytes)?;
            // One whose types WIT cannot express is judged by what it exports once linked.
            if let Ok((resolve, world)) = &decoded {
                entry.refuse(name, path, resolve, *world)?;
            }
        }
        let size = bytes.len() as u64;
        let known = key.is_some_and(|key| {
            self.primary
                .cache
                .as_ref()
                .is_some_and(|c| c.falls_back(key))
        });
        // Known to need Cranelift: the user was told when that was found.
        let winch_error = if known {
            None
        } else {
            compiling(&Compiling {
                size,
                compiler: self.primary.compiler,
                fallback: None,
            });
            match self.primary.compile(name, bytes, key) {
                Ok(component) => {
                    let compile = start.elapsed();
                    return Ok((&self.primary, component, Compiled::Fresh { compile }));
                }
                // Cranelift's error is the final word; Winch's may only mean Winch lacks
                // something this component uses.
                Err(e) if self.primary.compiler == Compiler::Winch => Some(e),
                Err(e) => return Err(e),
            }
        };
        if role == Role::Part {
            // The parts share Winch's engine: the composed file runs instead.
            return Err(winch_error.unwrap_or_else(|| RunError::Compile {
                name: name.to_string(),
                message: "Winch cannot compile it (found on an earlier run)".into(),
            }));
        }
        let fallback = self.fallback()?;
        compiling(&Compiling {
            size,
            compiler: fallback.compiler,
            fallback: winch_error.as_ref().map(|e| match e {
                RunError::Compile { message, .. } => message.clone(),
                other => other.to_string(),
            }),
        });
        let component = fallback.compile(name, bytes, key)?;
        if winch_error.is_some()
            && let (Some(cache), Some(key)) = (&self.primary.cache, key)
        {
            cache.fall_back(key);
        }
        let compile = start.elapsed();
        Ok((fallback, component, Compiled::Fresh { compile }))
    }

    /// Instantiates `app` in a fresh store with `settings`' grants and limits, and does
    /// `action`.
    pub fn run(
        &self,
        app: &App,
        settings: &RunSettings,
        action: &Action,
        stdio: &Stdio,
    ) -> Result<Outcome, RunError> {
        let args: &[String] = match action {
            Action::Run { args } => args,
            Action::Invoke(_) => &[],
        };
        let ended = self.in_fresh_store(app, settings, args, stdio, async |store| {
            invoke::execute(app, store, action).await
        })?;
        Ok(Outcome {
            status: ended.result.unwrap_or_else(|stopped| stopped),
            stdout: ended.stdout,
            stderr: ended.stderr,
            elapsed: ended.elapsed,
            instantiate: ended.instantiate,
        })
    }

    /// Calls export `function` (named as `--invoke` names it) of `app` with `params`, in a
    /// fresh store with `settings`' grants and limits: its results, or how the guest stopped.
    pub(crate) fn call_values(
        &self,
        app: &App,
        settings: &RunSettings,
        function: &Call,
        params: &[Val],
    ) -> Result<Result<Vec<Val>, Status>, RunError> {
        let stdio = Stdio::Capture { stdin: Vec::new() };
        let ended = self.in_fresh_store(app, settings, &[], &stdio, async |store| {
            invoke::call_values(app, store, function, params).await
        })?;
        Ok(ended.result)
    }

    /// A fresh store for `app` with `settings`' grants and limits, and `work` done in it before
    /// the deadline: what it returned, or how the guest stopped (a trap or a limit).
    fn in_fresh_store<R>(
        &self,
        app: &App,
        settings: &RunSettings,
        args: &[String],
        stdio: &Stdio,
        work: impl AsyncFnOnce(&mut Store<Host>) -> Result<R, invoke::Failure>,
    ) -> Result<Ended<R>, RunError> {
        let grants = host::Grants::prepare(settings)?;
        let streams = match stdio {
            Stdio::Inherit => host::Streams::Inherit,
            Stdio::Capture { stdin } => host::Streams::Capture(stdin),
        };
        let (host, captured) = Host::new(&grants, args, streams, settings.max_memory)?;
        // The app's own engine: a dev runtime may have compiled it with the fallback.
        let mut store = Store::new(app.pre.engine(), host);
        store.limiter(|host| &mut host.limits);
        let deadline = Instant::now() + settings.timeout;
        // Yielding at every tick lets the timeout below fire even while the guest computes;
        // the callback's own check catches a guest that never yields back in time.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Err(wasmtime::Error::new(host::DeadlinePassed))
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        let start = Instant::now();
        let timeout = settings.timeout;
        let result = self.tokio.block_on(async {
            match tokio::time::timeout(timeout, work(&mut store)).await {
                Ok(result) => result,
                Err(_) => Err(invoke::Failure::Error(wasmtime::Error::new(
                    host::DeadlinePassed,
                ))),
            }
        });
        let elapsed = start.elapsed();
        let limit_hit = store.data().limits.hit.clone();
        let instantiate = store.data().instantiated.unwrap_or(elapsed);
        let result = match result {
            Ok(done) => Ok(done),
            Err(invoke::Failure::Usage(e)) => return Err(e),
            Err(invoke::Failure::Error(e)) => {
                let mut status = classify(&e, limit_hit, settings);
                // An app run as its parts has no labelled modules: the host saw where it failed.
                if let Status::Trapped(trap) = &mut status
                    && trap.component.is_none()
                {
                    trap.component = store
                        .data_mut()
                        .failed_in
                        .take()
                        .or_else(|| app.root_part.clone());
                }
                Err(status)
            }
        };
        let (stdout, stderr) = captured.take();
        Ok(Ended {
            result,
            stdout,
            stderr,
            elapsed,
            instantiate,
        })
    }

    /// Whether `expected` and `got` (WAVE) are the same value of the result type of the function
    /// `call` names in `app`; an error says why `expected` does not parse.
    pub fn same_value(
        &self,
        app: &App,
        call: &Call,
        expected: &str,
        got: &str,
    ) -> Result<bool, String> {
        invoke::same_result(app, app.pre.engine(), call, expected, got)
    }

    /// The async runtime guests run on (a server's connections run there too).
    pub(crate) fn tokio(&self) -> &tokio::runtime::Runtime {
        &self.tokio
    }
}

/// A compiled component linked into an [`App`].
fn app(
    backend: &Backend,
    component: Component,
    compiled: Compiled,
    path: &Path,
    name: &str,
    read: Option<Arc<[u8]>>,
) -> Result<App, RunError> {
    let bytes = std::sync::OnceLock::new();
    if let Some(read) = read {
        let _ = bytes.set(read);
    }
    let pre = match backend.linker.instantiate_pre(&component) {
        Ok(pre) => pre,
        Err(e) => return Err(backend.explain_link_error(name, &component, &e)),
    };
    Ok(App {
        name: name.to_string(),
        path: path.to_path_buf(),
        compiled,
        compiler: backend.compiler,
        pre,
        providers: Vec::new(),
        root_part: None,
        bytes,
    })
}

/// A component ready to link, and where its code came from.
struct Loaded<'a> {
    /// The backend whose engine compiled it (the fallback's, for one Winch cannot compile).
    backend: &'a Backend,
    component: Component,
    compiled: Compiled,
    /// Its bytes, when they had to be read (not when the cache knew the file).
    read: Option<Arc<[u8]>>,
}

impl Backend {
    fn new(compiler: Compiler, options: &RuntimeOptions) -> Result<Backend, RunError> {
        let mut config = Config::new();
        config
            .wasm_component_model_async(true)
            .epoch_interruption(true)
            .max_wasm_stack(MAX_WASM_STACK)
            .wasm_backtrace_max_frames(std::num::NonZeroUsize::new(64));
        config
            .strategy(match compiler {
                Compiler::Cranelift => wasmtime::Strategy::Cranelift,
                Compiler::Winch => wasmtime::Strategy::Winch,
            })
            .parallel_compilation(true);
        if let Some(pool) = options.pool {
            config.allocation_strategy(pool.config());
        }
        let functions = match compiler {
            Compiler::Cranelift => options
                .cache_dir
                .as_deref()
                .map(|dir| Arc::new(cache::FunctionCache::new(dir))),
            Compiler::Winch => None,
        };
        if let Some(functions) = &functions {
            config
                .enable_incremental_compilation(functions.clone())
                .map_err(|e| RunError::engine(&e))?;
        }
        let engine = Engine::new(&config).map_err(|e| RunError::engine(&e))?;
        let mut linker = Linker::new(&engine);
        // Components from different toolchains import different WASI 0.2 patch versions; the
        // linker resolves each to the one wasmtime-wasi implements.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| RunError::engine(&e))?;
        // WASI 0.3 beside it: a component built with Rust's `wasip3` imports both (std still
        // uses 0.2).
        wasmtime_wasi::p3::add_to_linker(&mut linker).map_err(|e| RunError::engine(&e))?;
        // Outgoing HTTP is linked for every guest; only granted origins can be reached (0.3's
        // client goes through the same hooks).
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| RunError::engine(&e))?;
        wasmtime_wasi_http::p3::add_to_linker(&mut linker).map_err(|e| RunError::engine(&e))?;
        for f in &options.functions {
            f.define(&mut linker).map_err(|e| {
                RunError::Environment(format!("cannot define host function `{}`: {e:#}", f.name))
            })?;
        }
        let cache = options
            .cache_dir
            .clone()
            .map(|dir| CodeCache::new(dir, compiler, &engine));
        let ticker = Ticker::start(engine.clone()).map_err(|e| {
            RunError::Environment(format!("cannot start the deadline timer thread: {e}"))
        })?;
        Ok(Backend {
            compiler,
            engine,
            linker,
            cache,
            functions,
            _ticker: ticker,
        })
    }

    /// Compiles `bytes` and stores the result in the cache under `key`.
    fn compile(&self, name: &str, bytes: &[u8], key: Option<&str>) -> Result<Component, RunError> {
        let component = Component::new(&self.engine, bytes).map_err(|e| RunError::Compile {
            name: name.to_string(),
            message: format!("{e:#}"),
        })?;
        // Run from the cache file, as every later run is: its memory images are then mapped
        // from that file rather than copied into a sealed memfd, which Linux can refuse.
        let component = match (&self.cache, key) {
            (Some(cache), Some(key)) if cache.put(key, &component) => {
                cache.get(key).unwrap_or(component)
            }
            _ => component,
        };
        if let Some(functions) = &self.functions {
            functions.flush();
        }
        prepare_images(name, &component)?;
        Ok(component)
    }

    /// Refuses a component whose imports the linker cannot satisfy before its code is compiled
    /// (seconds, and cache space, for an app that cannot run). Judged on a code-free copy of
    /// its imports; where one cannot be made, the link after compiling judges instead.
    fn link_imports(&self, name: &str, bytes: &[u8]) -> Result<(), RunError> {
        let Some(imports) = link::imports_only(bytes) else {
            return Ok(());
        };
        let Ok(imports) = Component::new(&self.engine, &imports) else {
            return Ok(());
        };
        match self.linker.instantiate_pre(&imports) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.explain_link_error(name, &imports, &e)),
        }
    }

    /// Names every import of `component` the linker does not provide, instead of wasmtime's
    /// raw "matching implementation was not found" for the first one.
    fn explain_link_error(
        &self,
        name: &str,
        component: &Component,
        error: &wasmtime::Error,
    ) -> RunError {
        match link::missing_imports(&self.linker, component) {
            Some(missing) if !missing.is_empty() => RunError::MissingImports {
                name: name.to_string(),
                missing,
            },
            _ => RunError::Link {
                name: name.to_string(),
                message: format!("{error:#}"),
            },
        }
    }
}

impl Pool {
    /// The pooling allocator's settings. Composed apps hold a few core instances per
    /// language, so each component instance gets room for several (Spin's template: 4x core
    /// instances and 2x tables per component instance). Memories are not kept resident
    /// between uses: for the shop example, keeping 2 MiB per memory (Spin's setting) cost 13%
    /// of the requests per second at 32 at once (benches/serve.sh), the memset outweighing
    /// the page faults it saves.
    fn config(&self) -> wasmtime::InstanceAllocationStrategy {
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        let n = self.instances.max(1);
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(4))
            .total_memories(n.saturating_mul(4))
            .total_tables(n.saturating_mul(8))
            .max_core_instances_per_component(200)
            .max_memories_per_component(32)
            .max_tables_per_component(64)
            .max_component_instance_size(10 << 20)
            .max_memory_size(usize::try_from(self.max_memory).unwrap_or(usize::MAX));
        wasmtime::InstanceAllocationStrategy::Pooling(pool)
    }
}

impl App {
    /// Instantiates the parts that serve the root's imports, for an app run as its parts (a
    /// no-op otherwise): before the root, which calls into them.
    pub(crate) async fn instantiate_providers(
        &self,
        store: &mut Store<Host>,
    ) -> wasmtime::Result<()> {
        for pre in &self.providers {
            let instance = pre.instantiate_async(&mut *store).await?;
            store.data_mut().parts.push(instance);
        }
        Ok(())
    }

    /// Whether it runs as its parts, linked in the host, rather than from the composed file.
    pub fn is_linked(&self) -> bool {
        self.root_part.is_some()
    }

    /// The engine its code was compiled for: stores that run it must be made from this one.
    pub fn engine(&self) -> &Engine {
        self.pre.engine()
    }

    /// Whether it handles HTTP requests (exports `wasi:http/incoming-handler` 0.2 or
    /// `wasi:http/handler` 0.3).
    pub fn is_http(&self) -> bool {
        self.handler().is_ok()
    }

    /// How it answers HTTP requests, for serving; [`RunError::NotHttp`] if it does not.
    pub(crate) fn handler(&self) -> Result<Handler, RunError> {
        // A server instantiates the root alone; only the composed file serves.
        if self.is_linked() {
            return Err(RunError::internal(format!(
                "`{}` was loaded as its parts, which only `weld run` and `weld up` run; serve the composed file",
                self.name
            )));
        }
        // As wasmtime serve chooses: 0.3's service where the component exports one.
        if let Ok(pre) = wasmtime_wasi_http::p3::bindings::ServicePre::new(self.pre.clone()) {
            return Ok(Handler::P3(pre));
        }
        wasmtime_wasi_http::p2::bindings::ProxyPre::new(self.pre.clone())
            .map(Handler::P2)
            .map_err(|_| RunError::NotHttp {
                name: self.name.clone(),
            })
    }

    /// The component's bytes, for decoding its WIT (signatures in diagnostics); read now if
    /// the compiled code came from the cache. Empty if the file can no longer be read.
    pub fn bytes(&self) -> &[u8] {
        self.bytes
            .get_or_init(|| std::fs::read(&self.path).unwrap_or_default().into())
    }
}

/// An HTTP app's handler, ready to instantiate: WASI 0.2's `incoming-handler` (the response
/// goes out through an outparam) or 0.3's `handler` (an async function returning it).
#[derive(Clone)]
pub(crate) enum Handler {
    P2(wasmtime_wasi_http::p2::bindings::ProxyPre<Host>),
    P3(wasmtime_wasi_http::p3::bindings::ServicePre<Host>),
}

impl Handler {
    /// An instance in `store`, dropped at once: what a request's instantiation costs.
    pub(crate) async fn instantiate_only(&self, store: &mut Store<Host>) -> wasmtime::Result<()> {
        match self {
            Handler::P2(pre) => pre.instantiate_async(store).await.map(drop),
            Handler::P3(pre) => pre.instantiate_async(store).await.map(drop),
        }
    }
}

/// What ended a run that did not return: the guest's exit, a limit, or a trap.
pub(crate) fn classify(
    error: &wasmtime::Error,
    hit: Option<LimitHit>,
    settings: &RunSettings,
) -> Status {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Status::Exited(exit.0);
    }
    if error.downcast_ref::<host::DeadlinePassed>().is_some() {
        return Status::Limit(Limit::Deadline(settings.timeout));
    }
    match hit {
        Some(LimitHit::Memory { requested }) => {
            return Status::Limit(Limit::Memory {
                limit: settings.max_memory,
                requested,
            });
        }
        Some(LimitHit::Table { requested }) => return Status::Limit(Limit::Table { requested }),
        None => {}
    }
    if let Some(wasmtime::Trap::StackOverflow) = error.downcast_ref::<wasmtime::Trap>() {
        return Status::Limit(Limit::Stack);
    }
    let message = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => error.root_cause().to_string(),
    };
    let frames = error
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| bt.frames())
        .unwrap_or_default();
    let backtrace = if frames.iter().any(|f| f.func_name().is_some()) {
        frames
            .iter()
            .map(|frame| {
                let func = frame
                    .func_name()
                    .map(demangle)
                    .unwrap_or_else(|| format!("<function {}>", frame.func_index()));
                match frame.module().name() {
                    Some(module) => format!("{module}!{func}"),
                    None => func,
                }
            })
            .collect()
    } else if frames.is_empty() {
        Vec::new()
    } else {
        // Release builds often strip the name section; a list of indices would help nobody.
        vec!["(no function names: the component was built without a name section)".to_string()]
    };
    // The innermost frame in a labelled module names the component.
    let component = frames.iter().find_map(|frame| {
        let name = frame.module().name()?;
        let (component, module) = crate::compose::names::split_label(name);
        module.map(|_| component.to_string())
    });
    Status::Trapped(Trap {
        message,
        component,
        backtrace,
    })
}

/// Builds `component`'s memory images now, before any guest runs. wasmtime otherwise builds
/// them at the first instantiation, and for code compiled in memory it seals a memfd with them:
/// Linux refuses the seal with EBUSY while a page just written is still referenced elsewhere
/// (another CPU's LRU batch, a migration), which would fail the run as if the guest had. The
/// refusal passes, so it is retried with a growing pause.
fn prepare_images(name: &str, component: &Component) -> Result<(), RunError> {
    const ATTEMPTS: u32 = 6;
    let mut pause = Duration::from_millis(10);
    let mut attempt = 1;
    loop {
        let Err(error) = component.initialize_copy_on_write_image() else {
            return Ok(());
        };
        if !is_busy(&error) || attempt == ATTEMPTS {
            return Err(RunError::Environment(format!(
                "cannot prepare the memory of `{name}` ({attempt} attempt(s)): {error:#}; \
                 try again, and report it if it persists"
            )));
        }
        std::thread::sleep(pause);
        pause *= 3;
        attempt += 1;
    }
}

/// Whether `error` is, at bottom, the system's EBUSY.
fn is_busy(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::ResourceBusy)
    })
}

/// Rust symbol names as people write them (`alloc::raw_vec::finish_grow`, no hash).
fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// Advances the engine's epoch every [`TICK`] until the runtime is dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine) -> std::io::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("weld-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker { stop })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memfd crate's seal error wraps the system's error; both it and wasmtime's context
    /// must be seen through, and only EBUSY is worth another try.
    #[cfg(target_os = "linux")]
    #[test]
    fn only_ebusy_under_context_is_retried() {
        #[derive(Debug)]
        struct AddSeals(std::io::Error);
        impl std::fmt::Display for AddSeals {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("cannot add seals to the memfd")
            }
        }
        impl std::error::Error for AddSeals {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let seal = |errno| {
            wasmtime::Error::new(AddSeals(std::io::Error::from_raw_os_error(errno)))
                .context("creating the memory image")
        };
        assert!(is_busy(&seal(16)), "EBUSY");
        assert!(!is_busy(&seal(12)), "ENOMEM is not transient");
        assert!(!is_busy(&wasmtime::Error::msg("Device or resource busy")));
    }
}
