//! `weld wit`: a component's world, as WIT.

use std::path::PathBuf;

use clap::Args;

use super::{Context, not_implemented};
use weld::error::Result;

/// Print a component's world as WIT: its imports, its exports and the types they use
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld wit target/weld/arith.wasm
  weld wit app.wasm --format json

Exit status:
  0  printed
  1  the file is not a valid component
  2  usage or environment error: missing file")]
pub struct WitArgs {
    /// The component to describe
    #[arg(value_name = "COMPONENT.wasm")]
    component: PathBuf,
}

impl WitArgs {
    pub fn exec(self, _cx: &Context) -> Result<u8> {
        not_implemented(
            "wit",
            "`wasm-tools component wit FILE` prints a component's WIT meanwhile",
        )
    }
}
