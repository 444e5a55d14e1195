//! `weld build`: every component from source to a validated component in target/weld/.

use std::num::NonZeroUsize;

use clap::Args;

use super::{Context, not_implemented};
use weld::error::Result;

/// Build the project's components into target/weld/
///
/// Rust components are built with cargo for wasm32-wasip2 (wit-bindgen), Python components with
/// componentize-py, JavaScript components with componentize-js; prebuilt .wasm components are
/// validated and taken as they are. Independent components build in parallel, and a component is
/// rebuilt only when its sources, WIT, toolchain or options change.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld build                     build every component of the project
  weld build arith words         build two components
  weld build -C fixtures/calc -j 1

Exit status:
  0  every component built
  1  a component failed to build (its toolchain's message is shown)
  2  usage or environment error: invalid weld.toml, missing toolchain (see `weld doctor`)")]
pub struct BuildArgs {
    /// Components to build [default: all]
    #[arg(value_name = "COMPONENT")]
    components: Vec<String>,

    /// Build at most N components at once [default: number of cores]
    #[arg(short, long, value_name = "N")]
    jobs: Option<NonZeroUsize>,

    /// Build Rust components with cargo's release profile (the default)
    #[arg(long, conflicts_with = "debug")]
    release: bool,

    /// Build Rust components with cargo's dev profile
    #[arg(long)]
    debug: bool,

    /// Rebuild even what the cache says is up to date
    #[arg(long)]
    force: bool,
}

impl BuildArgs {
    pub fn exec(self, _cx: &Context) -> Result<u8> {
        not_implemented(
            "build",
            "build each component with its own toolchain for now; `weld plan` lists what the project contains",
        )
    }
}
