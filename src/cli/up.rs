//! `weld up`: build, check, compose and run in one command.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;

use super::Context;
use weld::error::{Error, Result};
use weld::pipeline;
use weld::project::Plan;
use weld::report::Style;
use weld::run::{Action, Load, Profile};
use weld::watch::Watch;

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
    pub(super) source: super::flags::SourceCheck,
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
        let output = pipeline::prepare(&plan, self.jobs, &cx.reporter)?;
        let profile = profile(&plan, self.release);
        // An HTTP app is served with [serve]'s settings; anything else runs.
        if weld::serve::is_http_app(&output).unwrap_or(false) {
            cx.reporter.status(&format!(
                "{} {}",
                cx.reporter.paint(" serve", Style::Bold),
                cx.show(&output)
            ));
            let launch = weld::serve::Launch {
                path: &output,
                name: &plan.name,
                addr: plan.serve.addr,
                settings: &plan.serve.settings,
                profile,
                cache: true,
            };
            weld::serve::serve_app(&launch, &cx.reporter)?;
            return Ok(weld::exit::EXIT_OK);
        }
        cx.reporter.status(&format!(
            "{} {}",
            cx.reporter.paint("   run", Style::Bold),
            cx.show(&output)
        ));
        let mut settings = plan.run.clone();
        if !self.args.is_empty() {
            settings.args = self.args;
        }
        let action = Action::Run {
            args: settings.args.clone(),
        };
        let load = Load {
            profile,
            cache: true,
            parts: weld::run::dev_parts(&plan, profile),
        };
        // The app's own output and exit code are the result; diagnostics go to stderr.
        let ran = weld::run::run_app(&output, &plan.name, &settings, &action, load, &cx.reporter)?;
        weld::report::stages::ran(&cx.reporter, &ran)
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
    match pipeline::prepare(&plan, None, &cx.reporter) {
        Ok(output) if weld::serve::is_http_app(&output).unwrap_or(false) => {
            let profile = profile(&plan, release);
            let reread = |manifest: &Path| cx.discover(Some(manifest));
            weld::watch::serve_and_reload(plan, &output, profile, &reread, &cx.reporter)?;
            return Ok(weld::exit::EXIT_OK);
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
