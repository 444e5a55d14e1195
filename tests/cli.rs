//! Golden tests of weld's command line, in the manner of wasm-tools' tests/cli.
//!
//! Every file under tests/cli/ whose leading comment lines hold directives is a case:
//!
//! ```text
//! # RUN: plan -C %          weld must exit 0
//! # FAIL: plan -C %         weld must exit 1 or 2 (never a panic or any other code)
//! ```
//!
//! `# ENV: KEY=VALUE` sets a variable for every run of the file (`%dir` is the case's directory).
//! `# TIMES: measured` replaces measured durations (`22ms`) in the output by `<TIME>`.
//! Arguments split at whitespace except inside '…' or "…". `%` is the case file's path. weld runs from the repository root with NO_COLOR set; its
//! stdout and stderr are compared with `<case>.stdout` and `<case>.stderr` beside the file
//! (`<case>.N.stdout` when a file has several directives; a missing file means empty output).
//! A FAIL's stderr ends with its exit status. `BLESS=1 cargo test --test cli` rewrites them.
//!
//! The same binary holds the integration tests that need more than one invocation.
//!
//! Every trial is hermetic ([`trial`]): weld runs with its own `$WELD_CACHE_DIR` and an empty
//! stand-in `$HOME` under a temporary directory, so no test reads or writes the user's weld
//! cache or configuration, and a trial fails if anything was written into that `$HOME`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Failed, Trial};

mod integration;
#[path = "support/shared.rs"]
mod shared;

use shared::{Toolchains, record_time};

fn main() {
    let args = Arguments::from_args();
    let mut trials = golden_trials();
    trials.extend(integration::trials());
    libtest_mimic::run(&args, trials).exit();
}

/// The repository root: weld runs here and paths are shown relative to it.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

thread_local! {
    /// The running trial's private directory: libtest-mimic runs each trial whole on one thread.
    static TRIAL_DIR: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

fn toolchains() -> &'static Toolchains {
    static FOUND: OnceLock<Toolchains> = OnceLock::new();
    FOUND.get_or_init(Toolchains::find)
}

/// A test run in isolation: see [`weld`] for what it gets. It fails if weld (or a toolchain
/// weld ran) wrote anything into the stand-in `$HOME`, naming what was written.
pub fn trial<F>(name: impl Into<String>, test: F) -> Trial
where
    F: FnOnce() -> Result<(), Failed> + Send + 'static,
{
    let name = name.into();
    let timed = name.clone();
    Trial::test(name, move || {
        let start = std::time::Instant::now();
        let result = isolated(test);
        record_time(&timed, start.elapsed());
        result
    })
}

/// Runs `test` in the isolation [`trial`] describes.
fn isolated<F>(test: F) -> Result<(), Failed>
where
    F: FnOnce() -> Result<(), Failed>,
{
    let dir = tempfile::Builder::new().prefix("weld-test-").tempdir()?;
    let home = dir.path().join("home");
    std::fs::create_dir(&home)?;
    // Reset even if the test panics (libtest-mimic catches the panic on this thread).
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            TRIAL_DIR.set(None);
        }
    }
    TRIAL_DIR.set(Some(dir.path().to_path_buf()));
    let _reset = Reset;
    test()?;
    let written = files_under(&home);
    if !written.is_empty() {
        return Err(format!(
            "the test wrote into $HOME, which must stay untouched:\n  {}",
            written.join("\n  ")
        )
        .into());
    }
    Ok(())
}

/// Every path under `dir`, relative to it (none if it does not exist).
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            found.push(
                path.strip_prefix(dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            );
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The running trial's private directory.
fn trial_dir() -> PathBuf {
    TRIAL_DIR.with_borrow(|dir| dir.clone()).expect(
        "weld() and scratch() run only inside a test made by `trial()`, which isolates them",
    )
}

/// The running trial's own compiled-code cache: where weld writes unless a test says otherwise.
pub fn trial_cache() -> PathBuf {
    trial_dir().join("cache")
}

/// A Node package that `install.sh --dev` installs for the tests.
pub fn dev_node_module(name: &str) -> PathBuf {
    weld::toolchain::weld_home()
        .join("toolchains/dev/node_modules")
        .join(name)
}

/// A compiled-code cache that tests running the same large components share, so each compiles
/// once per checkout rather than once per test. It lives in the checkout's target/, never in the
/// user's home; tests whose output depends on the cache's state use their own (the default).
pub fn shared_cache() -> PathBuf {
    root().join("target/weld-test-cache")
}

/// A fresh, empty directory of the running trial's own, removed with it.
pub fn scratch(name: &str) -> Result<PathBuf, Failed> {
    let dir = trial_dir().join("scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A weld command with the environment normalised for stable output and isolated from the
/// user's: the trial's own compiled-code cache, an empty `$HOME` and no XDG directories, so
/// every default weld derives from them points into the trial's directory. weld's toolchains
/// and Rust's are still found where install.sh and rustup put them.
pub fn weld() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weld"));
    isolate(&mut cmd);
    cmd
}

/// Gives `cmd` (weld, or a program that runs weld) the environment [`weld`] describes.
pub fn isolate(cmd: &mut Command) {
    let dir = trial_dir();
    let tools = toolchains();
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("HOME", dir.join("home"))
        .env("WELD_CACHE_DIR", trial_cache())
        .env("WELD_HOME", &tools.weld_home)
        .env("CARGO_HOME", &tools.cargo_home)
        .env("RUSTUP_HOME", &tools.rustup_home)
        .env_remove("RUST_BACKTRACE")
        .env_remove("CLICOLOR_FORCE");
    for xdg in [
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
    ] {
        cmd.env_remove(xdg);
    }
}

/// Asserts a weld run's exit code, showing its stdout and stderr when it differs.
pub fn expect_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Output with machine-specific parts replaced: the checkout's path, the trial's directory,
/// weld's version.
pub fn normalize(text: &[u8]) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let mut text = String::from_utf8_lossy(text)
        .replace(&root().display().to_string(), "<ROOT>")
        .replace(&trial_dir().display().to_string(), "<TRIAL>")
        .replace(&format!("weld {version}"), "weld <VERSION>");
    if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
        text = text.replace(&*home.to_string_lossy(), "<HOME>");
    }
    text
}

/// Measured durations (`22ms`, `1.5s`, `850µs`) replaced by `<TIME>`: they differ every run.
fn timings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        // A number glued to a word before it (`x86`, `v2`) is not a duration.
        let glued = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '.');
        let digits = from
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(from.len());
        let after = &from[digits..];
        let unit = ["ms", "µs", "s"].into_iter().find(|u| {
            after.starts_with(u)
                && !after[u.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
        });
        match unit {
            Some(unit) if !glued => {
                out.push_str("<TIME>");
                rest = &after[unit.len()..];
            }
            _ => {
                out.push_str(&from[..digits]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

struct Directive {
    expect_success: bool,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// `# TIMES: measured`: the output shows timings, which are replaced by `<TIME>`.
    timed: bool,
}

fn golden_trials() -> Vec<Trial> {
    let mut files = Vec::new();
    collect(&root().join("tests/cli"), &mut files);
    files.sort();
    let mut trials = Vec::new();
    for file in files {
        let directives = directives(&file);
        if directives.is_empty() {
            continue;
        }
        let rel = file.strip_prefix(root()).unwrap().to_path_buf();
        // A file's directives run in order, in one trial: a later one may read what an earlier
        // one wrote.
        trials.push(trial(format!("cli::{}", rel.display()), move || {
            let count = directives.len();
            for (i, directive) in directives.iter().enumerate() {
                let stem = if count == 1 {
                    rel.display().to_string()
                } else {
                    format!("{}.{i}", rel.display())
                };
                run_case(&rel, &stem, directive)?;
            }
            Ok(())
        }));
    }
    trials
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("tests/cli exists") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // Build outputs of the cases themselves.
            if path.file_name().is_some_and(|n| n != "target") {
                collect(&path, files);
            }
        } else if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("stdout" | "stderr")
        ) {
            files.push(path);
        }
    }
}

/// Directives from the file's leading comment lines (`#`, `//` or `;;`).
fn directives(file: &Path) -> Vec<Directive> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let rel = file.strip_prefix(root()).unwrap().display().to_string();
    let dir = file.parent().unwrap().display().to_string();
    let mut out = Vec::new();
    let mut env = Vec::new();
    let mut timed = false;
    for line in text.lines() {
        let Some(body) = ["#", "//", ";;"]
            .iter()
            .find_map(|c| line.trim_start().strip_prefix(c))
        else {
            break;
        };
        let body = body.trim();
        if let Some((key, value)) = body
            .strip_prefix("ENV:")
            .and_then(|kv| kv.trim().split_once('='))
        {
            env.push((key.to_string(), value.replace("%dir", &dir)));
            continue;
        }
        if body.starts_with("TIMES:") {
            timed = true;
            continue;
        }
        let (expect_success, rest) = if let Some(rest) = body.strip_prefix("RUN:") {
            (true, rest)
        } else if let Some(rest) = body.strip_prefix("FAIL:") {
            (false, rest)
        } else {
            continue;
        };
        let args = shell_words(rest)
            .into_iter()
            .map(|a| a.replace('%', &rel))
            .collect();
        out.push(Directive {
            expect_success,
            args,
            env: Vec::new(),
            timed: false,
        });
    }
    for d in &mut out {
        d.env = env.clone();
        d.timed = timed;
    }
    out
}

/// Splits a directive into arguments as a shell would for the simple cases used here:
/// whitespace separates, and '…' or "…" keep spaces and the other quote inside one argument.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.get_or_insert_with(String::new).push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                current.get_or_insert_with(String::new);
            }
            None if c.is_whitespace() => words.extend(current.take()),
            None => current.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(current);
    words
}

fn run_case(file: &Path, stem: &str, directive: &Directive) -> Result<(), Failed> {
    let output: Output = weld()
        .args(&directive.args)
        .envs(directive.env.iter().map(|(k, v)| (k, v)))
        .output()
        .map_err(|e| format!("cannot run weld: {e}"))?;
    let code = output.status.code();
    let timed = |text: String| {
        if directive.timed {
            timings(&text)
        } else {
            text
        }
    };
    let stdout = timed(normalize(&output.stdout));
    let mut stderr = timed(normalize(&output.stderr));
    let command = format!("weld {}", directive.args.join(" "));
    match (directive.expect_success, code) {
        (true, Some(0)) => {}
        (false, Some(1 | 2)) => stderr.push_str(&format!("[exit status: {}]\n", code.unwrap())),
        _ => {
            return Err(format!(
                "`{command}` ({}) exited with {code:?}, expected {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
                file.display(),
                if directive.expect_success { "0" } else { "1 or 2" },
            )
            .into());
        }
    }
    compare(&root().join(format!("{stem}.stdout")), &stdout, &command)?;
    compare(&root().join(format!("{stem}.stderr")), &stderr, &command)?;
    Ok(())
}

/// Compares `actual` with the golden file (absent means empty), or rewrites it under BLESS=1.
pub fn compare(golden: &Path, actual: &str, command: &str) -> Result<(), Failed> {
    if std::env::var_os("BLESS").is_some() {
        if actual.is_empty() {
            let _ = std::fs::remove_file(golden);
        } else {
            std::fs::write(golden, actual).map_err(|e| format!("cannot bless {golden:?}: {e}"))?;
        }
        return Ok(());
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_default();
    if expected == actual {
        return Ok(());
    }
    Err(format!(
        "`{command}`: output differs from {} (rerun with BLESS=1 to accept)\n{}",
        golden.strip_prefix(root()).unwrap_or(golden).display(),
        diff(&expected, actual)
    )
    .into())
}

/// A line diff, enough to see what changed.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    let first = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    out.push_str(&format!("first difference at line {}:\n", first + 1));
    for line in e.iter().skip(first).take(12) {
        out.push_str(&format!("- {line}\n"));
    }
    for line in a.iter().skip(first).take(12) {
        out.push_str(&format!("+ {line}\n"));
    }
    out
}
