//! `weld run`: the composed app in embedded wasmtime.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::Context;
use weld::error::{Error, Result};
use weld::project::{HttpOrigin, Plan, RunSettings, Wiring};
use weld::run::grants::{self, DirSpec, EnvName, EnvVar, NetAddr, Overrides};
use weld::run::{
    Action, Call, Compiled, Compiler, Compiling, Profile, RunError, Runtime, RuntimeOptions,
    Status, Stdio, default_cache_dir,
};
use weld::units::{self, format_elapsed, format_size};

/// Run a component: its wasi:cli/run, or any export with --invoke
///
/// The guest gets nothing it is not granted: no files, no environment variables, no network.
/// Memory and time are bounded by default. The guest's exit code becomes weld's.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld run                                       the project's composed app, with [run] settings
  weld run app.wasm -- 3 4 5.5
  weld run app.wasm --invoke 'weld:example/words.shout(\"hi\")'
  weld run app.wasm --dir data::/data --env LANG=C --timeout 5s --max-memory 256MiB

Exit status:
  the guest's own exit code, or
  1  the guest trapped, or an --invoke call returned an error
  2  usage or environment error: missing file, bad --invoke syntax, a missing import
  124 a limit ended the run (deadline, memory)")]
pub struct RunArgs {
    /// The component to run, a file or oci://REGISTRY/REPOSITORY:TAG [default: the project's
    /// composed app]
    #[arg(value_name = "APP.wasm")]
    app: Option<PathBuf>,

    /// Speak plain HTTP to this registry (HOST:PORT) for an oci:// app; loopback ones are, unless
    /// --ca-file is given
    #[arg(long, value_name = "HOST:PORT")]
    insecure: Vec<String>,

    /// Trust the certificate authorities in this PEM file too, for an oci:// app's registry
    /// (a private CA); a loopback registry then speaks TLS
    #[arg(long, value_name = "CA.pem")]
    ca_file: Vec<PathBuf>,

    /// Call an export instead of wasi:cli/run, in WAVE syntax: 'iface.func("arg", 1)'
    #[arg(long, value_name = "CALL")]
    invoke: Option<String>,

    #[command(flatten)]
    grants: GrantFlags,

    /// Wall-clock deadline, e.g. 500ms, 30s, 2m [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = units::parse_duration)]
    timeout: Option<Duration>,

    /// Linear-memory limit, e.g. 64MiB, 1GiB [default: 1GiB]
    #[arg(long, value_name = "SIZE", value_parser = units::parse_size)]
    max_memory: Option<u64>,

    /// Compile from scratch instead of using the compiled-code cache
    #[arg(long)]
    no_cache: bool,

    /// Compile with Cranelift, for optimised code, instead of the dev profile's Winch, which
    /// compiles about three times faster [default: [run] profile, or dev]
    #[arg(long)]
    release: bool,

    /// Arguments for the guest
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl RunArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("run")?;
        let call = self.invoke.as_deref().map(Call::parse).transpose()?;
        // With no file, the project's app and its [run] settings; a file runs on its own, with
        // nothing granted but what the flags grant.
        let (path, name, base, profile, parts) = match &self.app {
            // Relative paths are the process's own: messages show the path as written.
            Some(path) => match super::pull::oci_app(cx, path, &self.insecure, &self.ca_file)? {
                Some((file, name)) => (file, name, grants::defaults(), Profile::Dev, None),
                None => (
                    path.clone(),
                    cx.show(path),
                    grants::defaults(),
                    Profile::Dev,
                    None,
                ),
            },
            None => {
                let plan = cx.plan()?;
                let compose = plan.compose.as_ref().ok_or_else(|| Error::Usage {
                    message: format!(
                        "{} has no [compose] section, so there is no app to run; name a component: `weld run FILE.wasm`",
                        cx.show(&plan.manifest)
                    ),
                })?;
                if !compose.output.is_file() {
                    return Err(Error::Usage {
                        message: format!(
                            "{} does not exist yet: run `weld build && weld compose` (or `weld up`) first",
                            cx.show(&compose.output)
                        ),
                    });
                }
                // As `weld up` ran it, so that what it compiled is what this run needs: the
                // parts, when they are still the ones composed.
                let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
                let composed = modified(&compose.output);
                let parts = dev_parts(&plan, plan.profile).filter(|parts| {
                    parts.iter().all(|(_, part)| {
                        matches!((modified(part), composed), (Some(p), Some(c)) if p <= c)
                    })
                });
                (
                    compose.output.clone(),
                    plan.name.clone(),
                    plan.run.clone(),
                    plan.profile,
                    parts,
                )
            }
        };
        let (profile, parts) = if self.release {
            (Profile::Release, None)
        } else {
            (profile, parts)
        };
        let overrides = self.grants.overrides(
            self.timeout,
            self.max_memory,
            (!self.args.is_empty()).then_some(self.args),
        );
        let settings = overrides
            .apply(base, &cx.cwd)
            .map_err(|message| Error::Usage { message })?;
        let action = match call {
            Some(call) => Action::Invoke(call),
            None => Action::Run {
                args: settings.args.clone(),
            },
        };
        let load = Load {
            profile,
            no_cache: self.no_cache,
            parts,
        };
        run_app(cx, &path, &name, &settings, &action, load)
    }
}

/// The grant flags `weld run` and `weld serve` share.
#[derive(Debug, Args)]
pub(super) struct GrantFlags {
    /// Grant a host directory, read-write: HOST[::GUEST]
    #[arg(long, value_name = "HOST[::GUEST]")]
    dir: Vec<DirSpec>,

    /// Grant a host directory, read-only: HOST[::GUEST]
    #[arg(long, value_name = "HOST[::GUEST]")]
    dir_ro: Vec<DirSpec>,

    /// Set an environment variable for the guest: KEY=VALUE
    #[arg(long, value_name = "KEY=VALUE")]
    env: Vec<EnvVar>,

    /// Pass a host environment variable through by name
    #[arg(long, value_name = "KEY")]
    env_inherit: Vec<EnvName>,

    /// Allow sockets to this address: HOST:PORT
    #[arg(long, value_name = "HOST:PORT")]
    allow_net: Vec<NetAddr>,

    /// Allow outgoing HTTP requests (wasi:http) to this origin: https://HOST[:PORT]
    #[arg(long, value_name = "ORIGIN")]
    allow_http: Vec<HttpOrigin>,
}

impl GrantFlags {
    /// These grants, with the limits and arguments given beside them.
    pub(super) fn overrides(
        self,
        timeout: Option<Duration>,
        max_memory: Option<u64>,
        args: Option<Vec<String>>,
    ) -> Overrides {
        Overrides {
            dirs: self.dir,
            dirs_ro: self.dir_ro,
            env: self.env,
            env_inherit: self.env_inherit,
            allow_net: self.allow_net,
            allow_http: self.allow_http,
            timeout,
            max_memory,
            args,
        }
    }
}

/// The project's composed app with its `[run]` settings, and `args` for the guest when there
/// are any: the run stage of `weld up`.
pub(super) fn run_project_app(
    cx: &Context,
    plan: &Plan,
    args: Vec<String>,
    profile: Profile,
) -> Result<u8> {
    let compose = plan.compose.as_ref().ok_or_else(|| Error::Usage {
        message: format!(
            "{} has no [compose] section, so there is no app to run",
            cx.show(&plan.manifest)
        ),
    })?;
    let mut settings = plan.run.clone();
    if !args.is_empty() {
        settings.args = args;
    }
    let action = Action::Run {
        args: settings.args.clone(),
    };
    let load = Load {
        profile,
        no_cache: false,
        parts: dev_parts(plan, profile),
    };
    run_app(cx, &compose.output, &plan.name, &settings, &action, load)
}

/// A dev run of an app composed by plugging runs its parts, linked in the host, so that an
/// edit to one of them compiles only that one: the parts (name and file, the root first).
fn dev_parts(plan: &Plan, profile: Profile) -> Option<Vec<(String, PathBuf)>> {
    match &plan.compose.as_ref()?.wiring {
        Wiring::Plug { root, plugs } if profile == Profile::Dev => std::iter::once(root)
            .chain(plugs)
            .map(|name| {
                plan.component(name)
                    .map(|c| (c.name.clone(), c.output.clone()))
            })
            .collect(),
        _ => None,
    }
}

/// How [`run_app`] gets the app's code.
struct Load {
    /// The compiler.
    profile: Profile,
    /// Compile without reading or writing the cache.
    no_cache: bool,
    /// The parts the app was composed from (name and file, the root first), to run it as.
    parts: Option<Vec<(String, PathBuf)>>,
}

/// The status line for a compile about to start: what, how big, with which compiler, and
/// `cached` (what the cache will spare) unless there is no cache. A fallback from Winch says
/// why, once.
pub(super) fn compiling_status(app: &str, compiling: &Compiling, cached: Option<&str>) -> String {
    let size = format_size(compiling.size);
    let line = match (&compiling.fallback, compiling.compiler) {
        (Some(why), _) => format!(
            "Winch cannot compile {app} ({why}); compiling it with Cranelift instead ({size}), \
             as later dev runs will"
        ),
        (None, Compiler::Winch) => format!("compiling {app} ({size}) with Winch (dev profile)"),
        (None, Compiler::Cranelift) => format!("compiling {app} ({size}) with Cranelift"),
    };
    match cached {
        Some(cached) => format!("{line}; {cached}"),
        None => line,
    }
}

/// Loads the component at `path` (compiling it, or from the cache; or, given `parts`, the
/// parts it was composed from), runs `action` in it with `settings`, prints an invoked
/// function's result, and returns the exit status.
fn run_app(
    cx: &Context,
    path: &Path,
    name: &str,
    settings: &RunSettings,
    action: &Action,
    load: Load,
) -> Result<u8> {
    let Load {
        profile,
        no_cache,
        parts,
    } = load;
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: if no_cache { None } else { default_cache_dir() },
        pool: None,
        profile,
    })?;
    let r = &cx.reporter;
    let cached = (!no_cache).then_some("the compiled code is cached, so later runs start at once");
    let linked = match &parts {
        Some(parts) => runtime.load_parts(path, name, parts, &|part, compiling| {
            r.status(&compiling_status(part, compiling, cached))
        })?,
        None => None,
    };
    if linked.is_some() {
        r.verbose(&format!(
            "running {} as its {} parts, linked in the host (dev profile): an edit to one compiles only that one",
            cx.show(path),
            parts.as_ref().map_or(0, Vec::len)
        ));
    } else if parts.is_some() {
        r.verbose("its parts cannot be linked in the host: running the composed file");
    }
    let app = match linked {
        Some(app) => app,
        None => runtime.load_notify(path, name, action.entry(), &|compiling| {
            r.status(&compiling_status(
                &cx.show_app(path, name),
                compiling,
                cached,
            ))
        })?,
    };
    match app.compiled {
        Compiled::Cached { load } => r.verbose(&format!(
            "loaded {}'s code for {} from the cache in {}",
            app.compiler,
            cx.show(path),
            format_elapsed(load)
        )),
        Compiled::Fresh { compile } => r.verbose(&format!(
            "compiled {} with {} in {}{}",
            cx.show(path),
            app.compiler,
            format_elapsed(compile),
            if no_cache {
                " (cache bypassed)"
            } else {
                " (cached for the next run)"
            }
        )),
    }
    let outcome = runtime.run(&app, settings, action, &Stdio::Inherit)?;
    r.verbose(&format!(
        "instantiated in {}, finished in {}",
        format_elapsed(outcome.instantiate),
        format_elapsed(outcome.elapsed)
    ));
    match &outcome.status {
        Status::Returned(Some(value)) | Status::ReturnedErr(value) => {
            r.print(&format!("{value}\n"))?;
        }
        _ => {}
    }
    if let Some(stopped) = RunError::stopped(&app.name, &outcome.status) {
        r.error(&stopped);
    }
    Ok(outcome.status.exit_code())
}
