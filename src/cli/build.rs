//! `weld build`: every component from source to a validated component in target/weld/.

use std::num::NonZeroUsize;

use clap::Args;
use serde::Serialize;

use super::Context;
use weld::build::{self, BuildError, Built, Failure, Options, Profile};
use weld::error::Result;
use weld::report::progress::{BuildProgress, size_report};
use weld::toolchain::Toolchains;

/// Build the project's components into target/weld/
///
/// Rust components are built with cargo for wasm32-wasip2 (wit-bindgen), Python components with
/// componentize-py, JavaScript components with componentize-js; prebuilt .wasm components are
/// validated and taken as they are. Independent components build in parallel, and a component is
/// rebuilt only when its sources, WIT, toolchain or options change. A failed build leaves the
/// previous good component in place.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld build                     build every component of the project
  weld build arith words         build two components
  weld build -C fixtures/calc -j 1
  weld build --format json       one JSON object per component, nothing else

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

    #[command(flatten)]
    pub(super) source: super::flags::SourceCheck,
}

/// One line of `--format json` output.
#[derive(Serialize)]
struct JsonLine<'a> {
    name: &'a str,
    lang: weld::project::Lang,
    status: &'static str,
    duration_ms: Option<u64>,
    size: Option<u64>,
    output: Option<&'a std::path::Path>,
    cached: bool,
    error: Option<&'a Failure>,
}

impl BuildArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("build")?;
        let plan = cx.plan()?;
        let jobs = self
            .jobs
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get);
        let options = Options {
            only: self.components,
            jobs,
            profile: if self.debug {
                Profile::Debug
            } else {
                Profile::Release
            },
            force: self.force,
            verbose: cx.reporter.verbosity() >= 1,
            cache_dir: weld::run::default_cache_dir(),
        };
        let shown: Vec<&weld::project::Component> = plan.components.iter().collect();
        let progress = BuildProgress::new(&cx.reporter, &shown);
        let result = build::build(&plan, &options, &Toolchains::default(), &progress);
        let (built, failures) = match &result {
            Ok(built) => (built.as_slice(), &[][..]),
            Err(BuildError::Failed {
                built, failures, ..
            }) => (built.as_slice(), failures.as_slice()),
            Err(_) => (&[][..], &[][..]),
        };
        if cx.reporter.json() {
            let mut out = String::new();
            for b in built {
                out.push_str(&json_line(b));
            }
            for f in failures {
                let line = JsonLine {
                    name: &f.name,
                    lang: f.lang,
                    status: "failed",
                    duration_ms: None,
                    size: None,
                    output: None,
                    cached: false,
                    error: Some(f),
                };
                out.push_str(&serde_json::to_string(&line).expect("serializes"));
                out.push('\n');
            }
            cx.reporter.print(&out)?;
        } else if !built.is_empty() && cx.reporter.verbosity() >= 0 {
            cx.reporter.print(&size_report(built))?;
        }
        result.map(|_| 0).map_err(weld::pipeline::one_failure)
    }
}

fn json_line(b: &Built) -> String {
    let line = JsonLine {
        name: &b.name,
        lang: b.lang,
        status: if b.cached { "cached" } else { "built" },
        duration_ms: Some(b.duration.as_millis() as u64),
        size: Some(b.size),
        output: Some(&b.output),
        cached: b.cached,
        error: None,
    };
    let mut text = serde_json::to_string(&line).expect("serializes");
    text.push('\n');
    text
}
