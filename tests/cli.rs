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

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use libtest_mimic::{Arguments, Failed, Trial};

mod integration;

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

/// A weld command with the environment normalised for stable output.
pub fn weld() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weld"));
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("RUST_BACKTRACE")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

/// Asserts a weld run's exit code, showing its stderr when it differs.
pub fn expect_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Output with machine-specific parts replaced: the checkout's path, weld's version.
pub fn normalize(text: &[u8]) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let mut text = String::from_utf8_lossy(text)
        .replace(&root().display().to_string(), "<ROOT>")
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
        trials.push(Trial::test(format!("cli::{}", rel.display()), move || {
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
