//! `weld up`: build, check, compose and run in one command.

use std::path::PathBuf;

use clap::Args;

use super::{Context, not_implemented};
use weld::error::Result;

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

    /// Run again whenever a source, WIT file or weld.toml changes
    #[arg(long)]
    watch: bool,

    /// Arguments for the app (replacing [run] args)
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl UpArgs {
    pub fn exec(self, _cx: &Context) -> Result<u8> {
        Err(not_implemented(
            "up",
            "`weld doctor` and `weld plan` work on the project meanwhile",
        ))
    }
}
