//! `weld test`: the `[[test]]` declarations of weld.toml.

use std::path::PathBuf;

use clap::Args;

use super::{Context, not_implemented};
use weld::error::Result;

/// Run the project's declared tests: invocations and runs with expected results
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld test                                      every [[test]] in weld.toml
  weld test shout                                tests whose name contains `shout`
  weld test --junit target/junit.xml             also write a JUnit report for CI

Exit status:
  0  every test passed
  1  a test failed (expected and actual are shown as a diff)
  2  usage or environment error")]
pub struct TestArgs {
    /// Run only tests whose name contains this
    #[arg(value_name = "FILTER")]
    filter: Option<String>,

    /// Also write a JUnit XML report here
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    /// Run at most N tests at once [default: number of cores]
    #[arg(short, long, value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,
}

impl TestArgs {
    pub fn exec(self, _cx: &Context) -> Result<u8> {
        Err(not_implemented(
            "test",
            "`weld plan` lists the declared tests meanwhile",
        ))
    }
}
