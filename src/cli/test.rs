//! `weld test`: the `[[test]]` declarations of weld.toml.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::Context;
use weld::compose::ComposeError;
use weld::error::{Error, Result};
use weld::pipeline;
use weld::project::{TestCase, TestTarget};
use weld::report::Style;
use weld::run::{Profile, Runtime, RuntimeOptions, default_cache_dir};
use weld::test::{self, Outcome, Targets, TestResult};
use weld::units::format_elapsed;

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
  2  usage or environment error, or a test that could not run (a bad call, a missing import)")]
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

    /// Compile with Cranelift, for optimised code, instead of the dev profile's Winch
    /// [default: [run] profile, or dev]
    #[arg(long)]
    release: bool,

    #[command(flatten)]
    pub(super) source: super::flags::SourceCheck,
}

#[derive(Serialize)]
struct Summary {
    passed: usize,
    failed: usize,
    errors: usize,
    filtered_out: usize,
}

impl TestArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("test")?;
        let plan = cx.plan()?;
        let selected = self.select(cx, &plan)?;
        let filtered_out = plan.tests.len() - selected.len();
        let r = &cx.reporter;
        // Build what is stale and compose if an app test is selected: tests run what the
        // sources say now, not what was last built.
        let needs_app = selected.iter().any(|t| t.target == TestTarget::App);
        pipeline::build_stage(&plan, self.jobs, &cx.reporter)?;
        if needs_app {
            pipeline::compose_stage(&plan, &cx.reporter).map_err(|e| match e {
                Error::Compose(ComposeError::DoesNotFit { .. }) => Error::Checked(
                    "the tests did not run: composing found the problems shown above".into(),
                ),
                e => e,
            })?;
        }
        let runtime = Runtime::new(RuntimeOptions {
            cache_dir: default_cache_dir(),
            pool: None,
            profile: if self.release {
                Profile::Release
            } else {
                plan.profile
            },
            functions: Vec::new(),
        })?;
        let mut wanted: Vec<(String, PathBuf)> = Vec::new();
        for t in &selected {
            let path = match &t.target {
                TestTarget::App => plan.compose.as_ref().map(|c| c.output.clone()),
                TestTarget::Component(name) => plan.component(name).map(|c| c.output.clone()),
            };
            if let Some(path) = path {
                wanted.push((test::target_name(t), path));
            }
        }
        let targets = Targets::load_notify(&runtime, &wanted, &|name, compiling| {
            r.status(&weld::report::stages::compiling(
                name,
                compiling,
                Some("cached for later runs"),
            ))
        });
        let jobs = self
            .jobs
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get);
        let print = |result: &TestResult| {
            if !r.json() {
                let _ = r.print(&line(cx, result));
            }
        };
        let start = Instant::now();
        let results = test::run_all(&runtime, &targets, &selected, jobs, &print);
        self.report(cx, &plan.name, &results, filtered_out, start)?;
        let (_, failed, errors) = test::tally(&results);
        // A test that could not run at all (a bad call, a missing import) is a usage or
        // environment problem, not a verdict on the app.
        Ok(if errors > 0 {
            weld::error::EXIT_USAGE
        } else if failed > 0 {
            weld::error::EXIT_FAILURE
        } else {
            0
        })
    }

    /// The tests whose names contain the filter; none is a usage error.
    fn select<'p>(&self, cx: &Context, plan: &'p weld::project::Plan) -> Result<Vec<&'p TestCase>> {
        if plan.tests.is_empty() {
            return Err(Error::Usage {
                message: format!(
                    "{} declares no [[test]]: docs/manifest.md shows how to write one",
                    cx.show(&plan.manifest)
                ),
            });
        }
        let selected: Vec<&TestCase> = plan
            .tests
            .iter()
            .filter(|t| {
                self.filter
                    .as_ref()
                    .is_none_or(|f| t.name.contains(f.as_str()))
            })
            .collect();
        if selected.is_empty() {
            return Err(Error::Usage {
                message: format!(
                    "no test name contains `{}`; the tests are: {}",
                    self.filter.as_deref().unwrap_or_default(),
                    plan.tests
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        Ok(selected)
    }

    /// The JUnit file if asked for, and the summary (or every result, as JSON).
    fn report(
        &self,
        cx: &Context,
        project: &str,
        results: &[TestResult],
        filtered_out: usize,
        start: Instant,
    ) -> Result<()> {
        let r = &cx.reporter;
        let (passed, failed, errors) = test::tally(results);
        if let Some(path) = &self.junit {
            let cannot = |e: &dyn std::fmt::Display| Error::Usage {
                message: format!("cannot write {}: {e}", path.display()),
            };
            let xml = test::junit_xml(project, results).map_err(|e| cannot(&e))?;
            weld::fsutil::write_atomic(&cx.cwd.join(path), xml.as_bytes())
                .map_err(|e| cannot(&e))?;
        }
        if r.json() {
            r.print_json(&serde_json::json!({
                "tests": results,
                "summary": Summary { passed, failed, errors, filtered_out },
            }))?;
        } else {
            let mut summary = format!("\n{} passed, {} failed", passed, failed + errors);
            if filtered_out > 0 {
                summary.push_str(&format!(", {filtered_out} filtered out"));
            }
            summary.push_str(&format!(" ({})\n", format_elapsed(start.elapsed())));
            r.print(&summary)?;
        }
        Ok(())
    }
}

/// One test's line, and for a failure what was expected and what happened.
fn line(cx: &Context, result: &TestResult) -> String {
    let r = &cx.reporter;
    let time = format_elapsed(result.elapsed);
    match &result.outcome {
        Outcome::Passed => format!(
            "{} {} ({}, {time})\n",
            r.paint("  ok", Style::Good),
            result.name,
            result.target
        ),
        Outcome::Failed {
            expected,
            got,
            diff,
            stderr,
        } => {
            let mut out = format!(
                "{} {} ({}, {time})\n",
                r.paint("FAIL", Style::Bad),
                result.name,
                result.target
            );
            match diff {
                Some(diff) => {
                    out.push_str("     stdout differs (- expected, + got):\n");
                    for l in diff.lines() {
                        let painted = match l.chars().next() {
                            Some('-') => r.paint(l, Style::Bad),
                            Some('+') => r.paint(l, Style::Good),
                            _ => l.to_string(),
                        };
                        out.push_str(&format!("       {painted}\n"));
                    }
                }
                None => out.push_str(&format!(
                    "     expected: {expected}\n          got: {got}\n"
                )),
            }
            if let Some(stderr) = stderr {
                out.push_str("     stderr:\n");
                for l in stderr.lines() {
                    out.push_str(&format!("       {l}\n"));
                }
            }
            out
        }
        Outcome::Error { message } => format!(
            "{} {} ({}): {message}\n",
            r.paint("ERROR", Style::Bad),
            result.name,
            result.target
        ),
    }
}
