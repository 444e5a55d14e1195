//! `weld run`: the composed app in embedded wasmtime.

use std::path::PathBuf;

use clap::Args;

use super::{Context, not_implemented};
use weld::error::Result;

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
    /// The component to run [default: the project's composed app]
    #[arg(value_name = "APP.wasm")]
    app: Option<PathBuf>,

    /// Call an export instead of wasi:cli/run, in WAVE syntax: 'iface.func("arg", 1)'
    #[arg(long, value_name = "CALL")]
    invoke: Option<String>,

    /// Grant a host directory, read-write: HOST[::GUEST]
    #[arg(long, value_name = "HOST[::GUEST]")]
    dir: Vec<String>,

    /// Grant a host directory, read-only: HOST[::GUEST]
    #[arg(long, value_name = "HOST[::GUEST]")]
    dir_ro: Vec<String>,

    /// Set an environment variable for the guest: KEY=VALUE
    #[arg(long, value_name = "KEY=VALUE")]
    env: Vec<String>,

    /// Pass a host environment variable through by name
    #[arg(long, value_name = "KEY")]
    env_inherit: Vec<String>,

    /// Allow sockets to this address: HOST:PORT
    #[arg(long, value_name = "HOST:PORT")]
    allow_net: Vec<String>,

    /// Wall-clock deadline, e.g. 500ms, 30s, 2m [default: 30s]
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,

    /// Linear-memory limit, e.g. 64MiB, 1GiB [default: 1GiB]
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<String>,

    /// Compile from scratch instead of using the compiled-code cache
    #[arg(long)]
    no_cache: bool,

    /// Arguments for the guest
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl RunArgs {
    pub fn exec(self, _cx: &Context) -> Result<u8> {
        Err(not_implemented(
            "run",
            "`wasmtime run APP.wasm` runs a composed component meanwhile",
        ))
    }
}
