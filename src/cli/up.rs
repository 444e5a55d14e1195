//! `weld up`: build, check, compose and run in one command.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;
use notify::{EventKind, RecursiveMode, Watcher};

use super::Context;
use weld::build::sources::is_not_source;
use weld::error::{Error, Result};
use weld::pipeline;
use weld::project::Plan;
use weld::report::Style;
use weld::run::Profile;
use weld::units::format_elapsed;

/// Build, check, compose and run the project: the whole job in one command
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld up fixtures/calc                          the example app, from source to output
  weld up --watch                                again on every change of a source, WIT or weld.toml
  weld up -- 1 2 3                               arguments for the app

Exit status:
  the app's own exit code when every stage passed, or
  1  a stage failed (its diagnostics are shown)
  2  usage or environment error")]
pub struct UpArgs {
    /// The project directory (or its weld.toml) [default: -C, or search upwards]
    #[arg(value_name = "PROJECT")]
    project: Option<PathBuf>,

    /// Build at most N components at once [default: number of cores]
    #[arg(short, long, value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,

    /// Run again whenever a source, WIT file or weld.toml changes
    #[arg(long)]
    watch: bool,

    /// Where an HTTP app listens (port 0 picks a free one) [default: [serve] addr, or
    /// 127.0.0.1:8080]
    #[arg(long, value_name = "IP:PORT")]
    addr: Option<std::net::SocketAddr>,

    /// Compile with Cranelift, for optimised code, instead of the dev profile's Winch
    /// [default: [run] profile, or dev]
    #[arg(long)]
    release: bool,

    /// Arguments for the app (replacing [run] args)
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,

    #[command(flatten)]
    pub(super) source: super::SourceCheck,
}

impl UpArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("up")?;
        if self.watch {
            return watch(cx, self.project.as_deref(), self.addr, self.release);
        }
        // `weld up DIR` is `weld -C DIR up`.
        let manifest_path = match (&self.project, &cx.manifest_path) {
            (Some(p), _) => Some(cx.cwd.join(p)),
            (None, given) => given.clone(),
        };
        let mut plan = cx.discover(manifest_path.as_deref())?;
        if let Some(addr) = self.addr {
            plan.serve.addr = addr;
        }
        let output = prepare(cx, &plan, self.jobs)?;
        let profile = profile(&plan, self.release);
        // An HTTP app is served with [serve]'s settings; anything else runs.
        if weld::serve::is_http_app(&output).unwrap_or(false) {
            cx.reporter.status(&format!(
                "{} {}",
                cx.reporter.paint(" serve", Style::Bold),
                cx.show(&output)
            ));
            return super::serve::serve_app(
                cx,
                &output,
                &plan.name,
                plan.serve.addr,
                &plan.serve.settings,
                profile,
                false,
            );
        }
        cx.reporter.status(&format!(
            "{} {}",
            cx.reporter.paint("   run", Style::Bold),
            cx.show(&output)
        ));
        // The app's own output and exit code are the result; diagnostics go to stderr.
        super::run::run_project_app(cx, &plan, self.args, profile)
    }
}

/// The profile `--release` or else the manifest chooses.
fn profile(plan: &Plan, release: bool) -> Profile {
    if release {
        Profile::Release
    } else {
        plan.profile
    }
}

/// Builds, checks and composes `plan`'s app, each stage with a status line; returns the
/// composed app's path. The first stage that fails stops it.
pub(super) fn prepare(
    cx: &Context,
    plan: &Plan,
    jobs: Option<std::num::NonZeroUsize>,
) -> Result<PathBuf> {
    let Some(compose) = &plan.compose else {
        return Err(Error::Usage {
            message: format!(
                "{} has no [compose] section, so there is no app. Name the component the app starts from (a command or an HTTP app) and those that provide what it imports:\n\n[compose]\nroot = \"NAME\"\nplugs = [\"NAME\", ...]\n\n(its components: {}; `weld build` builds them without an app)",
                cx.show(&plan.manifest),
                plan.components
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        });
    };
    stage(cx, "build", || {
        super::build::build_project(cx, plan, jobs).map(|_| "")
    })?;
    stage(cx, "check", || {
        let project = pipeline::check(plan)?;
        if project.ok() {
            return Ok("");
        }
        let names: Vec<&str> = project.components.iter().map(String::as_str).collect();
        cx.reporter
            .eprint(&super::check::render(cx, &names, &project.findings));
        Err(stopped("check"))
    })?;
    stage(cx, "compose", || {
        let composition = super::compose::project_stage(cx, plan, || stopped("compose"))?;
        Ok(if composition.fresh {
            " (up to date)"
        } else {
            ""
        })
    })?;
    Ok(compose.output.clone())
}

/// What a stage that found problems (shown above) returns.
fn stopped(stage: &str) -> Error {
    Error::Checked(format!(
        "`weld up` stopped at {stage} (exit status 1): fix what is shown above, then run it again"
    ))
}

/// Runs one stage: on success one status line with its time (and what `f` adds to it), on
/// failure a line saying so, then its error.
fn stage(cx: &Context, name: &str, f: impl FnOnce() -> Result<&'static str>) -> Result<()> {
    let start = Instant::now();
    let outcome = f();
    let r = &cx.reporter;
    match &outcome {
        Ok(note) => r.status(&format!(
            "{} done in {}{note}",
            r.paint(&format!("{name:>6}"), Style::Good),
            format_elapsed(start.elapsed())
        )),
        Err(_) => r.status(&format!(
            "{} failed",
            r.paint(&format!("{name:>6}"), Style::Bad)
        )),
    }
    outcome.map(drop)
}

/// `weld up --watch`: runs `weld up` (the same command line without `--watch`) as a child, and
/// on every change of a file in the project (outside build outputs) stops it and starts again.
/// A child process makes cancelling a run in progress a plain kill.
fn watch(
    cx: &Context,
    project: Option<&Path>,
    addr: Option<std::net::SocketAddr>,
    release: bool,
) -> Result<u8> {
    let manifest_path = project.map(|p| cx.cwd.join(p)).or(cx.manifest_path.clone());
    let mut plan = cx.discover(manifest_path.as_deref())?;
    if let Some(addr) = addr {
        plan.serve.addr = addr;
    }
    // An HTTP app is served from this process and reloaded in place, so that no request is
    // dropped; anything else runs as a child that a change restarts. A first pipeline that
    // fails has shown why: wait for a change before trying again.
    let mut first = true;
    match prepare(cx, &plan, None) {
        Ok(output) if weld::serve::is_http_app(&output).unwrap_or(false) => {
            let profile = profile(&plan, release);
            return watch_serving(cx, plan, &output, profile);
        }
        Ok(_) => {}
        Err(e) => {
            cx.reporter.error(&e);
            first = false;
        }
    }
    let exe = std::env::current_exe().map_err(|e| Error::Usage {
        message: format!("cannot find weld's own executable to re-run: {e}"),
    })?;
    let args: Vec<std::ffi::OsString> = std::env::args_os()
        .skip(1)
        .filter(|a| a != "--watch")
        .collect();
    let r = &cx.reporter;
    loop {
        // Watch what this plan reads (a changed weld.toml may add components to watch), from
        // before the run starts, so that no change is missed.
        let watch = Watch::new(&plan)?;
        let mut child = if first {
            Some(Pipeline::start(&exe, &args)?)
        } else {
            None
        };
        first = true;
        let mut running = child.is_some();
        if !running {
            r.status("weld: waiting for changes (Ctrl-C stops)");
        }
        let changed = watch.next(&plan, &mut || {
            if running && child.as_mut().is_some_and(Pipeline::finished) {
                running = false;
                r.status("weld: waiting for changes (Ctrl-C stops)");
            }
            true
        })?;
        let Some(changed) = changed else {
            return Ok(0);
        };
        drop(child);
        r.status(&format!(
            "weld: {} changed; {}",
            cx.show(&changed),
            if running {
                "stopping the run and starting again"
            } else {
                "starting again"
            }
        ));
        // An invalid weld.toml is the child's to report; keep watching what was read before.
        if let Ok(next) = cx.discover(Some(&plan.manifest)) {
            plan = next;
        }
    }
}

/// `weld up --watch` for an HTTP app: serves it, and on every change of its inputs builds,
/// checks and composes again while the running version keeps answering; a new version that
/// compiles takes the requests that arrive from then on, requests in flight finish on the old
/// one. A change that fails a stage is shown and the running version stays.
fn watch_serving(cx: &Context, mut plan: Plan, output: &Path, profile: Profile) -> Result<u8> {
    let started = super::serve::start(
        cx,
        output,
        &plan.name,
        plan.serve.addr,
        &plan.serve.settings,
        profile,
        false,
    )?;
    let reloader = started.server.reloader();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let runtime = &started.runtime;
    let r = &cx.reporter;
    std::thread::scope(|scope| {
        let reload = scope.spawn(|| -> Result<()> {
            let mut watch = Watch::new(&plan)?;
            loop {
                let keep_waiting = &mut || !stop.load(std::sync::atomic::Ordering::Relaxed);
                let Some(changed) = watch.next(&plan, keep_waiting)? else {
                    return Ok(());
                };
                r.status(&format!(
                    "weld: {} changed; rebuilding while the running version serves",
                    cx.show(&changed)
                ));
                if let Ok(next) = cx.discover(Some(&plan.manifest)) {
                    plan = next;
                }
                // Watched again before the rebuild: a change made during it starts another.
                watch = Watch::new(&plan)?;
                let loaded = prepare(cx, &plan, None).and_then(|output| {
                    let app = super::serve::load(cx, runtime, &output, &plan.name)?;
                    reloader.replace(&app)?;
                    Ok(())
                });
                match loaded {
                    Ok(()) => r.status(&format!(
                        "{} new requests go to the new version",
                        r.paint("reloaded", Style::Good)
                    )),
                    Err(e) => {
                        r.error(&e);
                        r.status("weld: the previous version keeps serving; waiting for changes");
                    }
                }
            }
        });
        let summary = started
            .server
            .run(runtime, started.listener, weld::serve::signals());
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let watched = reload.join().unwrap_or(Ok(()));
        let summary = summary?;
        watched?;
        super::serve::stopped(cx, &summary);
        Ok(weld::exit::EXIT_OK)
    })
}

/// A watch on what a plan reads: weld.toml, sources, WIT, a WAC script.
struct Watch {
    inputs: Vec<PathBuf>,
    events: mpsc::Receiver<notify::Result<notify::Event>>,
    _watcher: notify::RecommendedWatcher,
}

impl Watch {
    fn new(plan: &Plan) -> Result<Watch> {
        let (tx, events) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })
        .map_err(|e| watch_error(&plan.root, e))?;
        let inputs = watched(plan);
        for path in &inputs {
            // A file is watched through its directory: editors replace files by renaming,
            // which would end a watch on the file itself.
            let (dir, mode) = if path.is_dir() {
                (path.as_path(), RecursiveMode::Recursive)
            } else {
                (path.parent().unwrap_or(path), RecursiveMode::NonRecursive)
            };
            watcher.watch(dir, mode).map_err(|e| watch_error(dir, e))?;
        }
        Ok(Watch {
            inputs,
            events,
            _watcher: watcher,
        })
    }

    /// Waits for a change and returns the changed file, once editors have finished writing.
    /// `keep_waiting` is asked every 100 ms; `None` when it says stop.
    fn next(&self, plan: &Plan, keep_waiting: &mut dyn FnMut() -> bool) -> Result<Option<PathBuf>> {
        let changed = loop {
            if !keep_waiting() {
                return Ok(None);
            }
            match self.events.recv_timeout(Duration::from_millis(100)) {
                Ok(Ok(event)) => {
                    if let Some(path) = relevant(plan, &self.inputs, &event) {
                        break path;
                    }
                }
                Ok(Err(e)) => return Err(watch_error(&plan.root, e)),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(None),
            }
        };
        // Editors write in bursts (temp file, rename, touch): wait for a quiet moment.
        while self.events.recv_timeout(Duration::from_millis(300)).is_ok() {}
        Ok(Some(changed))
    }
}

/// One `weld up` child, stopped when dropped, on every path out of the watch loop. It stays in
/// weld's process group, so Ctrl-C at the terminal reaches it and whatever it started. A
/// toolchain it started may finish its build after a restart; cargo's lock and weld's atomic
/// outputs keep that from mixing with the next run.
struct Pipeline(std::process::Child);

impl Pipeline {
    fn start(exe: &Path, args: &[std::ffi::OsString]) -> Result<Pipeline> {
        Command::new(exe)
            .args(args)
            .spawn()
            .map(Pipeline)
            .map_err(|e| Error::Usage {
                message: format!("cannot start {}: {e}", exe.display()),
            })
    }

    fn finished(&mut self) -> bool {
        self.0.try_wait().ok().flatten().is_some()
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if !self.finished() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// What the pipeline reads: weld.toml, each component's source and WIT, a WAC script. Not the
/// whole project directory: outputs written there (a log, say) must not restart the run.
fn watched(plan: &Plan) -> Vec<PathBuf> {
    let mut paths = vec![plan.manifest.clone()];
    for c in &plan.components {
        paths.push(c.source.clone());
        paths.extend(c.wit.clone());
    }
    if let Some(weld::project::Wiring::Script { path, .. }) =
        plan.compose.as_ref().map(|c| &c.wiring)
    {
        paths.push(path.clone());
    }
    paths.sort();
    paths.dedup();
    // A directory already watched recursively covers what lies inside it.
    let dirs: Vec<PathBuf> = paths.iter().filter(|p| p.is_dir()).cloned().collect();
    paths.retain(|p| !dirs.iter().any(|d| p != d && p.starts_with(d)));
    paths
}

/// The changed file that should restart the pipeline, if any: build outputs, dependencies and
/// version control inside a source directory do not count (the pipeline writes them itself).
fn relevant(plan: &Plan, inputs: &[PathBuf], event: &notify::Event) -> Option<PathBuf> {
    if matches!(event.kind, EventKind::Access(_)) {
        return None;
    }
    event.paths.iter().find_map(|path| {
        let input = inputs
            .iter()
            .any(|i| path == i || (i.is_dir() && path.starts_with(i)));
        if !input {
            return None;
        }
        let rel = path.strip_prefix(&plan.root).unwrap_or(path);
        let ignored = path.starts_with(&plan.target_dir)
            || rel
                .components()
                .any(|c| c.as_os_str() == "target" || is_not_source(c.as_os_str()));
        (!ignored).then(|| path.clone())
    })
}

fn watch_error(root: &Path, e: notify::Error) -> Error {
    Error::Usage {
        message: format!("cannot watch {} for changes: {e}", root.display()),
    }
}
