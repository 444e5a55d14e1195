//! `[[test]]` declarations run against real instances: each test gets a fresh instance of its
//! target (the composed app or one component), its own grants and limits, and its outcome is
//! compared with what the test expects.

mod diff;
mod junit;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::project::{
    HttpExpect, HttpRequest, InvokeExpect, StdoutExpect, TestAction, TestCase, TestTarget,
};
use crate::run::{Action, App, Call, RunError, Runtime, Status, Stdio};

pub use diff::line_diff;
pub use junit::junit_xml;

/// How one test went.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// What it ran: `app` or a component's name.
    pub target: String,
    /// The verdict.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// How long it took (instantiation and call).
    #[serde(serialize_with = "millis", rename = "duration_ms")]
    pub elapsed: Duration,
}

/// A test's verdict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Outcome {
    /// It did what it should.
    Passed,
    /// It did something else.
    Failed {
        /// What was expected, in one line.
        expected: String,
        /// What happened, in one line.
        got: String,
        /// A line diff of expected and actual text, when both are text worth diffing.
        diff: Option<String>,
        /// What the guest wrote to stderr, if captured and not empty.
        stderr: Option<String>,
    },
    /// It could not be run (its target did not load, or its call does not fit the export).
    Error {
        /// Why.
        message: String,
    },
}

impl Outcome {
    /// Whether the test passed.
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// The loaded targets of a test run, by the name tests use (`app` or a component's).
pub struct Targets {
    apps: BTreeMap<String, Result<App, String>>,
}

impl Targets {
    /// Loads (compiles or fetches from the cache) each distinct target once.
    pub fn load(runtime: &Runtime, targets: &[(String, PathBuf)]) -> Targets {
        Targets::load_notify(runtime, targets, &|_, _| {})
    }

    /// [`Targets::load`], calling `compiling` with a target's name and size before a compile.
    pub fn load_notify(
        runtime: &Runtime,
        targets: &[(String, PathBuf)],
        compiling: &dyn Fn(&str, &crate::run::Compiling),
    ) -> Targets {
        let mut apps = BTreeMap::new();
        for (name, path) in targets {
            if apps.contains_key(name) {
                continue;
            }
            let app = runtime
                .load_notify(path, name, crate::run::Entry::Any, &|c| compiling(name, c))
                .map_err(|e| render_error(&e));
            apps.insert(name.clone(), app);
        }
        Targets { apps }
    }

    /// The loaded targets, for reporting how each was compiled.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Result<App, String>)> {
        self.apps.iter()
    }
}

/// The name a test's target has in [`Targets`].
pub fn target_name(test: &TestCase) -> String {
    match &test.target {
        TestTarget::App => "app".to_string(),
        TestTarget::Component(name) => name.clone(),
    }
}

fn render_error(e: &RunError) -> String {
    use miette::Diagnostic;
    let mut text = e.to_string();
    if let Some(help) = e.help() {
        text.push_str(&format!(" ({help})"));
    }
    text
}

/// Runs `tests` on up to `jobs` threads, each in a fresh instance; `done` hears of each as it
/// finishes. Results come back in the order of `tests`.
pub fn run_all(
    runtime: &Runtime,
    targets: &Targets,
    tests: &[&TestCase],
    jobs: usize,
    done: &(dyn Fn(&TestResult) + Sync),
) -> Vec<TestResult> {
    let one = |test: &&TestCase| {
        let result = run_one(runtime, targets, test);
        done(&result);
        result
    };
    match crate::pool(jobs, tests.len()) {
        Some(pool) => pool.install(|| tests.par_iter().with_max_len(1).map(one).collect()),
        None => tests.iter().map(one).collect(),
    }
}

/// Runs one test and judges it.
pub fn run_one(runtime: &Runtime, targets: &Targets, test: &TestCase) -> TestResult {
    let target = target_name(test);
    let start = Instant::now();
    let outcome = match targets.apps.get(&target) {
        None => Outcome::Error {
            message: format!("`{target}` was not loaded"),
        },
        Some(Err(message)) => Outcome::Error {
            message: message.clone(),
        },
        Some(Ok(app)) => judge(runtime, app, test),
    };
    TestResult {
        name: test.name.clone(),
        target,
        outcome,
        elapsed: start.elapsed(),
    }
}

fn judge(runtime: &Runtime, app: &App, test: &TestCase) -> Outcome {
    if let TestAction::Http { request, expect } = &test.action {
        return judge_http(runtime, app, test, request, expect);
    }
    let (action, stdin) = match &test.action {
        TestAction::Invoke { call, .. } => match Call::parse(call) {
            Ok(call) => (Action::Invoke(call), Vec::new()),
            Err(e) => {
                return Outcome::Error {
                    message: render_error(&e.into()),
                };
            }
        },
        TestAction::Run { stdin, .. } => (
            Action::Run {
                args: test.run.args.clone(),
            },
            stdin.clone().unwrap_or_default().into_bytes(),
        ),
        TestAction::Http { .. } => unreachable!("judged above"),
    };
    let outcome = match runtime.run(app, &test.run, &action, &Stdio::Capture { stdin }) {
        Ok(outcome) => outcome,
        Err(e) => {
            return Outcome::Error {
                message: render_error(&e),
            };
        }
    };
    let stderr = Some(String::from_utf8_lossy(&outcome.stderr).into_owned())
        .filter(|s| !s.trim().is_empty());
    let stopped = RunError::stopped(&app.name, &outcome.status).map(|e| render_error(&e));
    let fail = |expected: String, got: String, diff: Option<String>| Outcome::Failed {
        expected,
        got,
        diff,
        stderr: stderr.clone(),
    };
    match &test.action {
        TestAction::Run { stdout, exit, .. } => {
            let got_stdout = String::from_utf8_lossy(&outcome.stdout).into_owned();
            let code = outcome.status.exit_code();
            // A test may expect a trap (1) or a limit (124): the status decides, and the
            // trap or limit is only detail for a mismatch.
            if i32::from(code) != *exit {
                let got = match stopped {
                    Some(stopped) => format!("exit status {code}: {stopped}"),
                    None => format!("exit status {code}"),
                };
                return fail(format!("exit status {exit}"), got, None);
            }
            match stdout {
                Some(StdoutExpect::Exact(want)) if *want != got_stdout => fail(
                    "stdout as declared".into(),
                    "different stdout".into(),
                    Some(line_diff(want, &got_stdout)),
                ),
                Some(StdoutExpect::Contains(want)) if !got_stdout.contains(want.as_str()) => fail(
                    format!("stdout containing {want:?}"),
                    format!("stdout {got_stdout:?}"),
                    None,
                ),
                _ => Outcome::Passed,
            }
        }
        TestAction::Http { .. } => unreachable!("judged above"),
        TestAction::Invoke { expect, .. } => {
            let Action::Invoke(call) = &action else {
                unreachable!("an invoke test's action is an invocation")
            };
            // An `err` is a failure to `expect = "success"` but still a value of the result
            // type, so `expect = VALUE` compares it as one.
            let returned_err =
                stopped.is_none() && matches!(outcome.status, Status::ReturnedErr(_));
            let got = match (&outcome.status, &stopped) {
                (_, Some(stopped)) => Err(stopped.clone()),
                (Status::Returned(value), _) => Ok(value.clone().unwrap_or_else(|| "()".into())),
                (Status::ReturnedErr(value), _) => Err(value.clone()),
                (Status::Exited(code), _) => {
                    Err(format!("the function called exit (status {code})"))
                }
                (other, _) => Err(format!("{other:?}")),
            };
            let compare =
                |want: &String, value: String| match runtime.same_value(app, call, want, &value) {
                    Ok(true) => Outcome::Passed,
                    Ok(false) => fail(want.clone(), value, None),
                    Err(message) => Outcome::Error {
                        message: format!("`expect = {want:?}`: {message}"),
                    },
                };
            match (expect, got) {
                (InvokeExpect::Success, Ok(_)) => Outcome::Passed,
                (InvokeExpect::Success, Err(e)) => fail("success".into(), e, None),
                (InvokeExpect::Value(want), Ok(value)) => compare(want, value),
                (InvokeExpect::Value(want), Err(value)) if returned_err => compare(want, value),
                (InvokeExpect::Value(want), Err(e)) => fail(want.clone(), e, None),
                (InvokeExpect::Error(want), Err(e)) if e.contains(want.as_str()) => Outcome::Passed,
                (InvokeExpect::Error(want), Err(e)) => {
                    fail(format!("an error containing {want:?}"), e, None)
                }
                (InvokeExpect::Error(want), Ok(value)) => {
                    fail(format!("an error containing {want:?}"), value, None)
                }
            }
        }
    }
}

/// An HTTP test: the request sent in process to a fresh instance, the response checked
/// against each expectation given.
fn judge_http(
    runtime: &Runtime,
    app: &App,
    test: &TestCase,
    request: &HttpRequest,
    expect: &HttpExpect,
) -> Outcome {
    let mut builder = http::Request::builder()
        .method(request.method.as_str())
        // wasi:http needs an authority; a test's requests go to the app itself.
        .uri(format!("http://localhost{}", request.path));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let built = match builder.body(bytes::Bytes::from(request.body.clone().into_bytes())) {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Error {
                message: format!("the request cannot be built: {e}"),
            };
        }
    };
    let got = match crate::serve::exchange(runtime, app, &test.run, built) {
        Ok(got) => got,
        Err(e) => {
            return Outcome::Error {
                message: render_error(&e),
            };
        }
    };
    let stderr =
        Some(String::from_utf8_lossy(&got.stderr).into_owned()).filter(|s| !s.trim().is_empty());
    let fail = |expected: String, got: String, diff: Option<String>| Outcome::Failed {
        expected,
        got,
        diff,
        stderr: stderr.clone(),
    };
    let body = String::from_utf8_lossy(&got.body).into_owned();
    if got.status != expect.status {
        let mut text = format!("status {}", got.status);
        match &got.failure {
            Some(failure) => text.push_str(&format!(": {}", render_error(failure))),
            None if !body.is_empty() => text.push_str(&format!(", body {body:?}")),
            None => {}
        }
        return fail(format!("status {}", expect.status), text, None);
    }
    if let Some(failure) = got.failure.as_ref().filter(|_| got.from_app) {
        return fail(
            "a complete response".into(),
            format!("the body was cut short: {}", render_error(failure)),
            None,
        );
    }
    for (name, want) in &expect.headers {
        let values: Vec<String> = got
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if !values.iter().any(|v| v == want) {
            let have = if values.is_empty() {
                format!("no header {name}")
            } else {
                format!("{name}: {}", values.join(", "))
            };
            return fail(format!("{name}: {want}"), have, None);
        }
    }
    match (&expect.body, &expect.body_contains) {
        (Some(want), _) if *want != body => fail(
            "body as declared".into(),
            "a different body".into(),
            Some(line_diff(want, &body)),
        ),
        (_, Some(want)) if !body.contains(want.as_str()) => fail(
            format!("a body containing {want:?}"),
            format!("body {body:?}"),
            None,
        ),
        _ => Outcome::Passed,
    }
}

/// Counts of a finished run: (passed, failed, errors).
pub fn tally(results: &[TestResult]) -> (usize, usize, usize) {
    let passed = results.iter().filter(|r| r.outcome.passed()).count();
    let errors = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Error { .. }))
        .count();
    (passed, results.len() - passed - errors, errors)
}
