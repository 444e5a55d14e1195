//! `weld check`: WIT contracts, worlds and plug compatibility.

use std::path::PathBuf;

use clap::Args;

use super::{Context, not_implemented};
use weld::error::Result;

/// Check components against their worlds and against each other
///
/// For every import of every component, says who satisfies it (another component, or the WASI
/// runtime weld provides), or exactly why nobody does: a missing function, a parameter of another
/// type, an incompatible version. With --wit and --against, compares two versions of a WIT
/// package and lists breaking changes.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld check                                     the whole project from weld.toml
  weld check app.wasm --plug arith.wasm --plug words.wasm
  weld check arith.wasm --wit wit --world arith-provider
  weld check --wit wit --against old-wit         breaking changes between two versions

Exit status:
  0  everything fits
  1  something does not fit (each finding is explained)
  2  usage or environment error: missing file, unreadable WIT")]
pub struct CheckArgs {
    /// A component to check [default: the project's components]
    #[arg(value_name = "COMPONENT.wasm")]
    component: Option<PathBuf>,

    /// Check COMPONENT's imports against what these components export
    #[arg(long, value_name = "PLUG.wasm")]
    plug: Vec<PathBuf>,

    /// A WIT directory: the target world's package, or the new version with --against
    #[arg(long, value_name = "DIR")]
    wit: Option<PathBuf>,

    /// The world in --wit that COMPONENT must satisfy
    #[arg(long, value_name = "NAME", requires = "wit")]
    world: Option<String>,

    /// The previous version of the WIT package in --wit, to list breaking changes
    #[arg(long, value_name = "DIR", requires = "wit")]
    against: Option<PathBuf>,
}

impl CheckArgs {
    pub fn exec(self, _cx: &Context) -> Result<u8> {
        not_implemented(
            "check",
            "`weld plan` already validates weld.toml and the worlds it names",
        )
    }
}
