//! `weld up`: build, check, compose and run in one command.

use std::path::PathBuf;

use clap::Args;

use std::io::Write;
use std::time::Instant;

use super::Context;
use super::build::BuildArgs;
use super::check::CheckArgs;
use super::compose::ComposeArgs;
use super::run::RunArgs;
use weld::error::{Error, Result};
use weld::project::Plan;
use weld::report::Style;
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

    /// Arguments for the app (replacing [run] args)
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl UpArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("up")?;
        if self.watch {
            return Err(super::not_implemented(
                "up --watch",
                "re-run `weld up` after a change; its build and compose stages skip what is current",
            ));
        }
        // `weld up DIR` is `weld -C DIR up`.
        let manifest_path = match (&self.project, &cx.manifest_path) {
            (Some(p), _) => Some(cx.cwd.join(p)),
            (None, given) => given.clone(),
        };
        let plan = Plan::discover(manifest_path.as_deref(), &cx.cwd)?;
        let stage_cx = Context {
            reporter: cx.reporter.capturing(),
            manifest_path: Some(plan.manifest.clone()),
            cwd: cx.cwd.clone(),
        };
        if plan.compose.is_none() {
            return Err(Error::Usage {
                message: format!(
                    "{} has no [compose] section, so there is no app to run: `weld build` builds its components",
                    cx.show(&plan.manifest)
                ),
            });
        }
        stage(cx, &stage_cx, "build", || {
            BuildArgs::all(self.jobs).exec(&stage_cx)
        })?;
        stage(cx, &stage_cx, "check", || {
            CheckArgs::default().exec(&stage_cx)
        })?;
        stage(cx, &stage_cx, "compose", || {
            ComposeArgs::default().exec(&stage_cx)
        })?;
        cx.reporter.status(&format!(
            "{} {}",
            cx.reporter.paint("   run", Style::Bold),
            cx.show(&plan.compose.as_ref().expect("checked above").output)
        ));
        // The app's own output and exit code are the result; diagnostics go to stderr.
        let run_cx = Context {
            reporter: cx.reporter.clone(),
            manifest_path: Some(plan.manifest.clone()),
            cwd: cx.cwd.clone(),
        };
        RunArgs::project_app(self.args).exec(&run_cx)
    }
}

/// Runs one stage with its results captured: on success one status line with its time, on
/// failure what it printed (check's findings, say), then its error.
fn stage(
    cx: &Context,
    stage_cx: &Context,
    name: &str,
    f: impl FnOnce() -> Result<u8>,
) -> Result<()> {
    let start = Instant::now();
    let result = f();
    let printed = stage_cx.reporter.take_captured();
    let failed = !matches!(result, Ok(0));
    if failed && !printed.is_empty() {
        let _ = std::io::stderr().write_all(&printed);
    }
    let r = &cx.reporter;
    match result {
        Ok(0) => {
            r.status(&format!(
                "{} done in {}",
                r.paint(&format!("{name:>6}"), Style::Good),
                format_elapsed(start.elapsed())
            ));
            Ok(())
        }
        Ok(code) => {
            r.status(&format!(
                "{} failed",
                r.paint(&format!("{name:>6}"), Style::Bad)
            ));
            Err(Error::Checked(format!(
                "`weld up` stopped at {name} (exit status {code}): fix what is shown above, then run it again"
            )))
        }
        Err(e) => {
            r.status(&format!(
                "{} failed",
                r.paint(&format!("{name:>6}"), Style::Bad)
            ));
            Err(e)
        }
    }
}
