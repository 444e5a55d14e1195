//! `weld run` for real: guests written to misbehave (fixtures/guests/hostile-rs) against the
//! runner's grants and limits, every kind of WIT value through `--invoke`
//! (fixtures/guests/types-rs), and the compiled-code cache.
//!
//! Each hostile case asserts what the guest saw and that the host is unchanged afterwards.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use libtest_mimic::{Failed, Trial};

use crate::{expect_code, root, shared_cache, weld};

type Case = fn() -> Result<(), Failed>;

pub fn trials() -> Vec<Trial> {
    let cases: Vec<(&str, Case)> = vec![
        ("run::deadline_stops_an_endless_loop", deadline),
        ("run::memory_limit_stops_unbounded_allocation", memory),
        ("run::stack_overflow_is_a_limit", stack),
        ("run::trap_names_the_functions", trap),
        ("run::no_file_without_a_grant", no_grant),
        ("run::granted_dir_cannot_be_escaped", escapes),
        ("run::read_only_dir_cannot_be_written", read_only),
        ("run::read_write_dir_is_writable", read_write),
        ("run::guest_sees_only_granted_env", env),
        ("run::network_only_where_allowed", network),
        ("run::stdin_and_exit_status", stdin_and_exit),
        ("run::invoke_carries_every_value_kind", invoke_kinds),
        ("run::invoke_err_result_exits_1", invoke_err),
        ("run::second_run_skips_compilation", compile_cache),
        ("run::damaged_cache_entry_is_recompiled", damaged_cache),
        (
            "run::missing_import_is_refused_before_compiling",
            missing_import_before_compiling,
        ),
        (
            "test::failures_show_expected_and_got",
            test_command_reports_failures,
        ),
        ("up::watch_restarts_on_change", up_watch_restarts_on_change),
        (
            "run::changed_file_is_not_served_stale",
            changed_file_is_not_served_stale,
        ),
    ];
    cases
        .into_iter()
        .map(|(name, f)| crate::trial(name, f))
        .collect()
}

/// The guests, built once per test run (weld's own cache makes later runs instant).
pub(super) fn guests() -> Result<PathBuf, Failed> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let out = weld()
            .args(["build", "-q", "-C", "fixtures/guests"])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
    built
        .clone()
        .map_err(|e| format!("building fixtures/guests failed:\n{e}"))?;
    Ok(root().join("fixtures/guests/target/weld"))
}

/// `weld run GUEST [FLAGS] -- ARGS` with the shared cache.
fn run(guest: &str, flags: &[&str], args: &[&str]) -> Result<Output, Failed> {
    let path = guests()?.join(guest);
    Ok(run_cmd(&path, flags, args).output()?)
}

fn run_cmd(path: &Path, flags: &[&str], args: &[&str]) -> Command {
    let mut cmd = weld();
    cmd.env("WELD_CACHE_DIR", shared_cache())
        .arg("run")
        .arg(path)
        .args(flags)
        .arg("--")
        .args(args);
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A scratch directory for one test: a secret outside the granted dir, a granted dir with a
/// file and symlinks that point out of it, and a read-only dir.
struct Sandbox {
    dir: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Result<Sandbox, Failed> {
        let dir = root().join("target/weld-test-sandbox").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data"))?;
        std::fs::create_dir_all(dir.join("ro"))?;
        std::fs::write(dir.join("secret.txt"), "secret\n")?;
        std::fs::write(dir.join("data/in.txt"), "inside\n")?;
        std::fs::write(dir.join("ro/keep.txt"), "keep\n")?;
        std::os::unix::fs::symlink(dir.join("secret.txt"), dir.join("data/abs-link"))?;
        std::os::unix::fs::symlink("../secret.txt", dir.join("data/rel-link"))?;
        Ok(Sandbox { dir })
    }

    fn path(&self, rel: &str) -> String {
        self.dir.join(rel).display().to_string()
    }

    /// Every file under the sandbox with its contents, to compare before and after.
    fn snapshot(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                let meta = std::fs::symlink_metadata(&path);
                let rel = path.strip_prefix(&self.dir).unwrap().display().to_string();
                match meta {
                    Ok(m) if m.is_dir() => stack.push(path),
                    Ok(m) if m.file_type().is_symlink() => {
                        out.push((rel, format!("-> {:?}", std::fs::read_link(&path).ok())))
                    }
                    _ => out.push((rel, std::fs::read_to_string(&path).unwrap_or_default())),
                }
            }
        }
        out.sort();
        out
    }
}

fn deadline() -> Result<(), Failed> {
    let out = run("hostile.wasm", &["--timeout", "1s"], &["loop"])?;
    expect_code(&out, 124);
    let err = stderr(&out);
    assert!(
        err.contains("did not finish within its deadline of 1s"),
        "{err}"
    );
    assert!(
        err.contains("--timeout"),
        "the message says how to raise it: {err}"
    );
    Ok(())
}

fn memory() -> Result<(), Failed> {
    let out = run("hostile.wasm", &["--max-memory", "64MiB"], &["alloc"])?;
    expect_code(&out, 124);
    let err = stderr(&out);
    assert!(err.contains("reached its memory limit of 64 MiB"), "{err}");
    assert!(err.contains("--max-memory"), "{err}");
    // It got close to the limit before being stopped, not further.
    assert!(stdout(&out).contains("holding"), "{}", stdout(&out));
    Ok(())
}

fn stack() -> Result<(), Failed> {
    let out = run("hostile.wasm", &[], &["recurse"])?;
    expect_code(&out, 124);
    assert!(
        stderr(&out).contains("overflowed its call stack"),
        "{}",
        stderr(&out)
    );
    Ok(())
}

fn trap() -> Result<(), Failed> {
    let out = run("hostile.wasm", &[], &["trap"])?;
    expect_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("trapped: wasm trap: wasm `unreachable`"),
        "{err}"
    );
    assert!(err.contains("hostile::main"), "backtrace with names: {err}");

    // Composed, the trap names the component it happened in.
    let app = root().join("target/weld-test-sandbox/trap-app.wasm");
    let out = weld()
        .arg("compose")
        .arg(guests()?.join("hostile.wasm"))
        .arg("-o")
        .arg(&app)
        .output()?;
    expect_code(&out, 0);
    let out = run_cmd(&app, &[], &["trap"]).output()?;
    expect_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("trapped in component `hostile.wasm`"), "{err}");
    assert!(
        err.contains("hostile.wasm/"),
        "frames name their component: {err}"
    );
    Ok(())
}

fn no_grant() -> Result<(), Failed> {
    let sandbox = Sandbox::new("no-grant")?;
    let before = sandbox.snapshot();
    for path in [sandbox.path("secret.txt"), "/etc/passwd".to_string()] {
        let out = run("hostile.wasm", &[], &["read", &path])?;
        expect_code(&out, 1);
        assert!(
            stdout(&out).starts_with("denied"),
            "{path}: {}",
            stdout(&out)
        );
        let out = run("hostile.wasm", &[], &["write", &sandbox.path("new.txt")])?;
        expect_code(&out, 1);
    }
    assert_eq!(sandbox.snapshot(), before);
    Ok(())
}

fn escapes() -> Result<(), Failed> {
    let sandbox = Sandbox::new("escapes")?;
    let before = sandbox.snapshot();
    let grant = format!("{}::/data", sandbox.path("data"));
    // The granted file is readable: the denials below are about escaping, not about reading.
    let out = run(
        "hostile.wasm",
        &["--dir", &grant],
        &["read", "/data/in.txt"],
    )?;
    expect_code(&out, 0);
    assert_eq!(stdout(&out), "inside\nok\n");
    let secret = sandbox.path("secret.txt");
    for target in [
        "/data/../secret.txt",
        "/data/abs-link",
        "/data/rel-link",
        secret.as_str(),
    ] {
        let out = run("hostile.wasm", &["--dir", &grant], &["read", target])?;
        expect_code(&out, 1);
        let text = stdout(&out);
        assert!(text.starts_with("denied"), "{target}: {text}");
        assert!(!text.contains("secret"), "{target} leaked: {text}");
        let out = run("hostile.wasm", &["--dir", &grant], &["write", target])?;
        expect_code(&out, 1);
    }
    assert_eq!(sandbox.snapshot(), before, "the host changed");
    Ok(())
}

fn read_only() -> Result<(), Failed> {
    let sandbox = Sandbox::new("read-only")?;
    let before = sandbox.snapshot();
    let grant = format!("{}::/ro", sandbox.path("ro"));
    let out = run(
        "hostile.wasm",
        &["--dir-ro", &grant],
        &["read", "/ro/keep.txt"],
    )?;
    expect_code(&out, 0);
    for target in ["/ro/keep.txt", "/ro/new.txt"] {
        let out = run("hostile.wasm", &["--dir-ro", &grant], &["write", target])?;
        expect_code(&out, 1);
        assert!(
            stdout(&out).starts_with("denied"),
            "{target}: {}",
            stdout(&out)
        );
    }
    assert_eq!(sandbox.snapshot(), before, "the host changed");
    Ok(())
}

fn read_write() -> Result<(), Failed> {
    let sandbox = Sandbox::new("read-write")?;
    let grant = format!("{}::/data", sandbox.path("data"));
    let out = run(
        "hostile.wasm",
        &["--dir", &grant],
        &["write", "/data/new.txt"],
    )?;
    expect_code(&out, 0);
    assert_eq!(
        std::fs::read_to_string(sandbox.dir.join("data/new.txt"))?,
        "pwned\n"
    );
    let out = run("hostile.wasm", &["--dir", &grant], &["list", "/data"])?;
    expect_code(&out, 0);
    assert_eq!(stdout(&out), "abs-link in.txt new.txt rel-link\nok\n");
    Ok(())
}

fn env() -> Result<(), Failed> {
    let path = guests()?.join("hostile.wasm");
    let out = run_cmd(
        &path,
        &["--env", "GRANTED=1", "--env-inherit", "WELD_TEST_PASSED"],
        &["env"],
    )
    .env("WELD_TEST_PASSED", "yes")
    .env("WELD_TEST_SECRET", "hidden")
    .output()?;
    expect_code(&out, 0);
    assert_eq!(stdout(&out), "GRANTED=1\nWELD_TEST_PASSED=yes\n");
    // Nothing granted, nothing seen.
    let out = run("hostile.wasm", &[], &["env"])?;
    expect_code(&out, 0);
    assert_eq!(stdout(&out), "");
    Ok(())
}

fn network() -> Result<(), Failed> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    let out = run("hostile.wasm", &[], &["connect", &addr])?;
    expect_code(&out, 1);
    assert!(stdout(&out).starts_with("denied"), "{}", stdout(&out));
    let out = run("hostile.wasm", &["--allow-net", &addr], &["connect", &addr])?;
    expect_code(&out, 0);
    assert_eq!(stdout(&out), "connected\nok\n");
    // The grant is for that address only.
    let other = std::net::TcpListener::bind("127.0.0.1:0")?;
    let other_addr = other.local_addr()?.to_string();
    let out = run(
        "hostile.wasm",
        &["--allow-net", &addr],
        &["connect", &other_addr],
    )?;
    expect_code(&out, 1);
    Ok(())
}

fn stdin_and_exit() -> Result<(), Failed> {
    use std::io::Write;
    let path = guests()?.join("hostile.wasm");
    let mut child = run_cmd(&path, &[], &["upper"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    child.stdin.take().unwrap().write_all(b"quiet words\n")?;
    let out = child.wait_with_output()?;
    expect_code(&out, 0);
    assert_eq!(stdout(&out), "QUIET WORDS\n");
    let out = run("hostile.wasm", &[], &["exit", "0"])?;
    expect_code(&out, 0);
    // WASI 0.2's exit carries success or failure only: any non-zero code arrives as 1.
    let out = run("hostile.wasm", &[], &["exit", "3"])?;
    expect_code(&out, 1);
    let out = run("hostile.wasm", &[], &["no-such-mode"])?;
    expect_code(&out, 1);
    Ok(())
}

fn invoke(call: &str) -> Result<Output, Failed> {
    run("types.wasm", &["--invoke", call], &[])
}

fn invoke_kinds() -> Result<(), Failed> {
    for (call, expected) in [
        (
            "translate({x: 1, y: 2}, {x: 10, y: -20})",
            "{x: 11, y: -18}",
        ),
        ("shout-name(some(\"ada\"))", "some(\"ADA\")"),
        ("shout-name(none)", "none"),
        ("types.sum-positive([1, 2, 3])", "ok(6)"),
        ("sum-positive([])", "ok(0)"),
        ("area(rect({x: 2, y: -3}))", "6"),
        ("area(circle(2))", "12"),
        ("area(empty)", "0"),
        ("next-color(blue)", "red"),
        ("read-only({read, write, execute})", "{read, execute}"),
        (
            "weld:guests/types.reverse(\"héllo\")",
            "(6, [111, 108, 108, 169, 195, 104])",
        ),
        ("weld:guests/types@0.1.0.reverse(\"\")", "(0, [])"),
    ] {
        let out = invoke(call)?;
        expect_code(&out, 0);
        assert_eq!(stdout(&out), format!("{expected}\n"), "{call}");
    }
    Ok(())
}

fn invoke_err() -> Result<(), Failed> {
    let out = invoke("sum-positive([4, -2])")?;
    expect_code(&out, 1);
    assert_eq!(stdout(&out), "err(\"value 1 is negative: -2\")\n");
    // Arguments of the wrong type are a usage error showing the signature.
    let out = invoke("area(square(2))")?;
    expect_code(&out, 2);
    assert!(
        stderr(&out).contains("area: func(s: shape) -> u64"),
        "{}",
        stderr(&out)
    );
    Ok(())
}

/// `weld -v run types.wasm FLAGS` with its own cache directory.
fn verbose_run(cache: &Path, flags: &[&str]) -> Result<Output, Failed> {
    Ok(weld()
        .env("WELD_CACHE_DIR", cache)
        .args(["-v", "run"])
        .arg(guests()?.join("types.wasm"))
        .args(flags)
        .output()?)
}

/// A fresh cache: the first run compiles, the second loads, and `-v` says which.
fn compile_cache() -> Result<(), Failed> {
    let cache = crate::scratch("cache")?;
    let go = || verbose_run(&cache, &["--invoke", "next-color(red)"]);
    let first = go()?;
    expect_code(&first, 0);
    assert!(stderr(&first).contains("compiled "), "{}", stderr(&first));
    let second = go()?;
    expect_code(&second, 0);
    assert!(
        stderr(&second).contains("from the cache"),
        "{}",
        stderr(&second)
    );
    assert_eq!(stdout(&second), "green\n");
    // --no-cache compiles and leaves the cache alone.
    let third = verbose_run(&cache, &["--no-cache", "--invoke", "next-color(red)"])?;
    expect_code(&third, 0);
    assert!(
        stderr(&third).contains("cache bypassed"),
        "{}",
        stderr(&third)
    );
    Ok(())
}

/// A cache entry that is not loadable (truncated, or from another wasmtime) is replaced.
fn damaged_cache() -> Result<(), Failed> {
    let cache = crate::scratch("cache")?;
    let go = || verbose_run(&cache, &["--invoke", "next-color(green)"]);
    expect_code(&go()?, 0);
    let entries: Vec<PathBuf> = walk(&cache)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    std::fs::write(&entries[0], b"\x7fELF garbage")?;
    let out = go()?;
    expect_code(&out, 0);
    assert_eq!(stdout(&out), "blue\n");
    assert!(stderr(&out).contains("compiled "), "{}", stderr(&out));
    let out = go()?;
    assert!(stderr(&out).contains("from the cache"), "{}", stderr(&out));
    Ok(())
}

/// A component importing what the runtime lacks is refused before it is compiled: no
/// `compiling` note, and nothing written to the cache.
fn missing_import_before_compiling() -> Result<(), Failed> {
    let out = weld()
        .args(["-v", "run", "tests/cli/check/components/chain-root.wasm"])
        .output()?;
    expect_code(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("weld:chain/a@0.1.0"), "{err}");
    assert!(!err.contains("compil"), "{err}");
    assert_eq!(
        crate::files_under(&crate::trial_cache()),
        Vec::<String>::new()
    );
    Ok(())
}

/// The cache remembers a file's key by its identity, not its path: a file changed in place (same
/// path, same inode) runs as its new self.
fn changed_file_is_not_served_stale() -> Result<(), Failed> {
    let dir = crate::scratch("stale")?;
    let app = dir.join("app.wasm");
    let cache = dir.join("cache");
    let run_it = |flags: &[&str], args: &[&str]| {
        weld()
            .env("WELD_CACHE_DIR", &cache)
            .arg("run")
            .arg(&app)
            .args(flags)
            .arg("--")
            .args(args)
            .output()
    };
    // Copying over an existing file rewrites it in place: the inode stays.
    std::fs::copy(guests()?.join("types.wasm"), &app)?;
    let out = run_it(&["--invoke", "next-color(red)"], &[])?;
    expect_code(&out, 0);
    assert_eq!(stdout(&out), "green\n");
    std::fs::copy(guests()?.join("hostile.wasm"), &app)?;
    let out = run_it(&[], &["exit", "0"])?;
    expect_code(&out, 0);
    let out = run_it(&["--invoke", "next-color(red)"], &[])?;
    expect_code(&out, 2);
    assert!(
        stderr(&out).contains("exports no function"),
        "{}",
        stderr(&out)
    );
    Ok(())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `weld test` on a project of prebuilt guests: passing tests pass, broken expectations fail
/// with expected and actual shown (a line diff for stdout), exit 1, and a JUnit report.
fn test_command_reports_failures() -> Result<(), Failed> {
    let built = guests()?;
    let dir = root().join("target/weld-test-sandbox/test-command");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("weld.toml"),
        format!(
            r#"[project]
name = "broken"

[components.hostile]
lang = "wasm"
path = "{hostile}"

[components.types]
lang = "wasm"
path = "{types}"

[[test]]
name = "env passes"
target = "hostile"
args = ["env"]
env = {{ A = "1" }}
expect-stdout = "A=1\n"

[[test]]
name = "env broken"
target = "hostile"
args = ["env"]
env = {{ A = "1", B = "2" }}
expect-stdout = "A=1\nC=3\n"

[[test]]
name = "value passes"
target = "types"
invoke = "translate({{x: 1, y: 2}}, {{y: 0, x: 1}})"
expect = "{{y: 2, x: 2}}"

[[test]]
name = "value broken"
target = "types"
invoke = "next-color(red)"
expect = "blue"

[[test]]
name = "error expected"
target = "types"
invoke = "sum-positive([1, -1])"
expect-error = "negative"

[[test]]
name = "deadline"
target = "hostile"
args = ["loop"]
timeout = "300ms"

[[test]]
name = "trap expected"
target = "hostile"
args = ["trap"]
expect-exit = 1
"#,
            hostile = built.join("hostile.wasm").display(),
            types = built.join("types.wasm").display(),
        ),
    )?;
    let junit = dir.join("junit.xml");
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args(["test", "-j", "1", "-C"])
        .arg(&dir)
        .arg("--junit")
        .arg(&junit)
        .output()?;
    expect_code(&out, 1);
    let text = stdout(&out);
    for line in [
        "  ok env passes (hostile,",
        "FAIL env broken (hostile,",
        "       - C=3",
        "       + B=2",
        "  ok value passes (types,",
        "FAIL value broken (types,",
        "     expected: blue",
        "          got: green",
        "  ok error expected (types,",
        "FAIL deadline (hostile,",
        "did not finish within its deadline of 300ms",
        "  ok trap expected (hostile,",
        "4 passed, 3 failed",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    // The report reads back as JUnit, with every case's verdict where CI looks for it.
    let xml = std::fs::read_to_string(&junit)?;
    let report = quick_junit::Report::deserialize_from_str(&xml)
        .map_err(|e| format!("not JUnit XML ({e}):\n{xml}"))?;
    assert_eq!(
        (report.tests, report.failures, report.errors),
        (7, 3, 0),
        "{xml}"
    );
    let suite = &report.test_suites[0];
    let case = |name: &str| {
        suite
            .test_cases
            .iter()
            .find(|c| c.name.as_str() == name)
            .unwrap_or_else(|| panic!("no case {name:?} in:\n{xml}"))
    };
    let broken = case("value broken");
    assert_eq!(
        broken.classname.as_ref().map(|c| c.as_str()),
        Some("broken.types")
    );
    match &broken.status {
        quick_junit::TestCaseStatus::NonSuccess {
            kind: quick_junit::NonSuccessKind::Failure,
            message: Some(message),
            ..
        } => assert_eq!(message.as_str(), "expected blue, got green"),
        other => panic!("`value broken` should be a failure, not {other:?}"),
    }
    assert!(
        matches!(
            case("value passes").status,
            quick_junit::TestCaseStatus::Success { .. }
        ),
        "{xml}"
    );

    // A filter runs only matching tests; all of those pass here.
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args(["test", "passes", "--format", "json", "-C"])
        .arg(&dir)
        .output()?;
    expect_code(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["summary"]["passed"], 2, "{report:#}");
    assert_eq!(report["summary"]["filtered_out"], 5, "{report:#}");
    assert_eq!(report["tests"][0]["status"], "passed", "{report:#}");

    // A filter that matches nothing is a mistake, not a pass.
    let out = weld()
        .args(["test", "no-such-test", "-C"])
        .arg(&dir)
        .output()?;
    expect_code(&out, 2);
    assert!(
        stderr(&out).contains("no test name contains `no-such-test`"),
        "{}",
        stderr(&out)
    );
    Ok(())
}

/// `weld up --watch`: a change to weld.toml stops the run in progress (an endless loop here)
/// and starts the pipeline again with the new settings.
fn up_watch_restarts_on_change() -> Result<(), Failed> {
    use std::io::{BufRead, BufReader};
    let hostile = guests()?.join("hostile.wasm");
    let dir = root().join("target/weld-test-sandbox/watch");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let manifest = |args: &str| {
        format!(
            "[project]\nname = \"watched\"\n\n[components.hostile]\nlang = \"wasm\"\npath = \"{}\"\n\n\
             [compose]\nroot = \"hostile\"\n\n[run]\nargs = [{args}]\nenv = {{ A = \"1\" }}\n",
            hostile.display()
        )
    };
    // First a run that never ends by itself: the change must stop it.
    std::fs::write(dir.join("weld.toml"), manifest("\"loop\""))?;
    let mut child = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args(["up", "--watch"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx2.send(line);
        }
    });
    let wait_for = |want: &str| -> Result<(), Failed> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut seen = Vec::new();
        while std::time::Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
                if line.contains(want) {
                    return Ok(());
                }
                seen.push(line);
            }
        }
        Err(format!("never saw {want:?}; saw:\n{}", seen.join("\n")).into())
    };
    let result = (|| {
        wait_for("compose done")?;
        std::thread::sleep(std::time::Duration::from_millis(500));
        std::fs::write(dir.join("weld.toml"), manifest("\"env\""))?;
        wait_for("weld.toml changed; stopping the run and starting again")?;
        wait_for("A=1")?;
        wait_for("waiting for changes")
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}
