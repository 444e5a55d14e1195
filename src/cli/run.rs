//! `weld run`: the composed app in embedded wasmtime.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::flags::GrantFlags;
use super::{Context, apps};
use weld::error::{Error, Result};
use weld::run::grants;
use weld::run::{Action, Call, Load, Profile};
use weld::units;

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
            Some(path) => match apps::oci_app(cx, path, &self.insecure, &self.ca_file)? {
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
                let parts = weld::run::current_dev_parts(&plan, plan.profile);
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
            cache: !self.no_cache,
            parts,
        };
        let ran = weld::run::run_app(&path, &name, &settings, &action, load, &cx.reporter)?;
        weld::report::stages::ran(&cx.reporter, &ran)
    }
}
