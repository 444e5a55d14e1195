//! `weld compose`: one application component from many.

use std::path::PathBuf;

use clap::Args;

use super::{Context, not_implemented};
use weld::error::Result;

/// Compose components into one application component
///
/// Automatic plugging wires each import to the component that exports it (plugs may feed each
/// other); a WAC script expresses anything else. The wiring is checked first, so an incompatible
/// plug stops the compose with an explanation; the result is validated and written atomically.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld compose                                   as weld.toml's [compose] says
  weld compose cli.wasm --plug arith.wasm --plug words.wasm -o app.wasm
  weld compose app.wac --dep weld:arith=arith.wasm -o app.wasm

Exit status:
  0  composed
  1  the components do not fit together (explained), or a WAC script is wrong
  2  usage or environment error: missing file, invalid weld.toml")]
pub struct ComposeArgs {
    /// The root component, or a .wac script [default: weld.toml's [compose]]
    #[arg(value_name = "ROOT.wasm|FILE.wac")]
    input: Option<PathBuf>,

    /// A component that provides imports of the root (or of other plugs)
    #[arg(long, value_name = "PLUG.wasm")]
    plug: Vec<PathBuf>,

    /// A package a WAC script refers to: PKG=PATH (e.g. weld:arith=arith.wasm)
    #[arg(long, value_name = "PKG=PATH")]
    dep: Vec<String>,

    /// Where to write the composed component [default: weld.toml's output, or app.wasm]
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Write the WebAssembly text format instead of binary
    #[arg(long)]
    wat: bool,

    /// Fail when an import remains that neither a component nor weld's runtime provides
    #[arg(long)]
    strict: bool,
}

impl ComposeArgs {
    pub fn exec(self, _cx: &Context) -> Result<u8> {
        not_implemented("compose", "`wac plug` composes components meanwhile")
    }
}
