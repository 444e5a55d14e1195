//! `weld graph`: the composition, drawn.

use std::path::PathBuf;

use clap::Args;

use super::{Context, not_implemented};
use weld::error::Result;

/// Show how the application's components are wired: a text tree, Graphviz DOT or Mermaid
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld graph                                     the project's composition as a tree
  weld graph --format dot | dot -Tsvg > app.svg
  weld graph --format mermaid

Exit status:
  0  drawn
  1  the components do not fit together
  2  usage or environment error")]
pub struct GraphArgs {
    /// The root component [default: weld.toml's [compose]]
    #[arg(value_name = "ROOT.wasm")]
    input: Option<PathBuf>,

    /// A component that provides imports of the root (or of other plugs)
    #[arg(long, value_name = "PLUG.wasm")]
    plug: Vec<PathBuf>,
}

impl GraphArgs {
    pub fn exec(self, _cx: &Context) -> Result<u8> {
        not_implemented(
            "graph",
            "`weld plan` shows the declared root and plugs meanwhile",
        )
    }
}
