//! The dev and release profiles: every example app gives the same results compiled by Winch
//! (the dev profile) and by Cranelift (release), and a component Winch cannot compile runs on
//! Cranelift, said once.

use std::path::Path;
use std::process::Output;

use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::{expect_code, shared_cache, weld};

pub fn trials() -> Vec<Trial> {
    vec![
        crate::trial(
            "profile::example_apps_agree_under_winch_and_cranelift",
            example_apps_agree,
        ),
        crate::trial(
            "profile::winch_falls_back_to_cranelift_once",
            falls_back_once,
        ),
        crate::trial(
            "profile::manifest_and_flag_choose_the_compiler",
            manifest_and_flag,
        ),
        crate::trial(
            "profile::up_compiles_only_the_changed_part",
            only_the_changed_part,
        ),
    ]
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `weld test` on every fixture, in each profile: the same tests, each passing, with the same
/// results; and the apps that run print the same output under both compilers.
fn example_apps_agree() -> Result<(), Failed> {
    let fixtures = [
        "calc",
        "guests",
        "handlers",
        "hello",
        "hello-http",
        "polyglot",
        "shop",
    ];
    for fixture in fixtures {
        let dir = format!("fixtures/{fixture}");
        let report = |release: bool| -> Result<Value, Failed> {
            let mut cmd = weld();
            cmd.env("WELD_CACHE_DIR", shared_cache())
                .args(["--format", "json", "test", "-C", &dir]);
            if release {
                cmd.arg("--release");
            }
            let out = cmd.output()?;
            expect_code(&out, 0);
            let mut report: Value = serde_json::from_slice(&out.stdout)?;
            // Timings differ by nature; everything else must not.
            for test in report["tests"].as_array_mut().into_iter().flatten() {
                test.as_object_mut().map(|t| t.remove("duration_ms"));
            }
            Ok(report)
        };
        let dev = report(false)?;
        let release = report(true)?;
        assert!(
            dev["summary"]["passed"].as_u64().unwrap_or(0) > 0,
            "{fixture}: {dev:#}"
        );
        assert_eq!(dev, release, "{fixture}: Winch and Cranelift disagree");
    }
    for fixture in ["calc", "hello"] {
        let run = |command: &str, flags: &[&str]| -> Result<Output, Failed> {
            let out = weld()
                .env("WELD_CACHE_DIR", shared_cache())
                .args(["-v", command, "-C", &format!("fixtures/{fixture}")])
                .args(flags)
                .output()?;
            expect_code(&out, 0);
            Ok(out)
        };
        let release = run("run", &["--release"])?;
        assert!(
            !release.stdout.is_empty(),
            "{fixture}: {}",
            stderr(&release)
        );
        // The composed file under Winch (named, with the project's [run] arguments, since
        // the project's own `weld run` runs the parts as `weld up` does), and its parts linked
        // in the host.
        let manifest: toml::Table =
            std::fs::read_to_string(crate::root().join(format!("fixtures/{fixture}/weld.toml")))?
                .parse()?;
        let args: Vec<&str> = manifest["run"]["args"]
            .as_array()
            .ok_or("the fixture has no [run] args")?
            .iter()
            .filter_map(toml::Value::as_str)
            .collect();
        let out = weld()
            .env("WELD_CACHE_DIR", shared_cache())
            .arg("run")
            .arg(format!("fixtures/{fixture}/target/weld/app.wasm"))
            .arg("--")
            .args(&args)
            .output()?;
        expect_code(&out, 0);
        let dev = out;
        let parts = run("up", &[])?;
        assert!(
            stderr(&parts).contains("as its"),
            "{fixture}: not run as its parts: {}",
            stderr(&parts)
        );
        for (what, out) in [("Winch", &dev), ("its parts", &parts)] {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&release.stdout),
                "{fixture}: {what} and Cranelift print different output"
            );
        }
    }
    Ok(())
}

/// A component whose core module uses tail calls (`return_call`), which Winch does not
/// implement: counting down a million frames deep needs them.
const TAIL_CALLS: &str = r#"
(component
  (core module $m
    (func $down (param i32 i32) (result i32)
      local.get 0
      i32.eqz
      if (result i32)
        local.get 1
      else
        local.get 0
        i32.const 1
        i32.sub
        local.get 1
        i32.const 1
        i32.add
        return_call $down
      end)
    (func (export "count") (param i32) (result i32)
      local.get 0
      i32.const 0
      call $down))
  (core instance $i (instantiate $m))
  (func (export "count") (param "n" u32) (result u32)
    (canon lift (core func $i "count"))))
"#;

/// The first dev run says Winch cannot compile the component and runs it on Cranelift; later
/// dev runs load Cranelift's code without a word; a release run finds the same code cached.
fn falls_back_once() -> Result<(), Failed> {
    let dir = crate::scratch("fallback")?;
    let app = dir.join("tail.wasm");
    std::fs::write(&app, wat::parse_str(TAIL_CALLS)?)?;
    let cache = dir.join("cache");
    let run = |flags: &[&str]| -> Result<Output, Failed> {
        let out = weld()
            .env("WELD_CACHE_DIR", &cache)
            .arg("-v")
            .arg("run")
            .arg(&app)
            .args(flags)
            .args(["--invoke", "count(1000000)"])
            .output()?;
        expect_code(&out, 0);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "1000000\n");
        Ok(out)
    };
    let first = stderr(&run(&[])?);
    assert!(
        first.contains("Winch cannot compile") && first.contains("with Cranelift instead"),
        "{first}"
    );
    assert!(
        first.contains("compiled ") && first.contains("with Cranelift"),
        "{first}"
    );
    let second = stderr(&run(&[])?);
    assert!(!second.contains("Winch"), "{second}");
    assert!(
        second.contains("loaded Cranelift's code") && second.contains("from the cache"),
        "{second}"
    );
    let release = stderr(&run(&["--release"])?);
    assert!(release.contains("from the cache"), "{release}");
    // Without a cache there is nothing to remember: each run falls back and says so.
    let uncached = stderr(&run(&["--no-cache"])?);
    assert!(uncached.contains("Winch cannot compile"), "{uncached}");
    Ok(())
}

/// `[run] profile = "release"` makes `weld run` compile with Cranelift; with no profile it is
/// Winch; `--release` chooses Cranelift either way; a profile that is neither is an error at
/// its line.
fn manifest_and_flag() -> Result<(), Failed> {
    let dir = crate::scratch("profile")?;
    let types = super::run::guests()?.join("types.wasm");
    std::fs::copy(&types, dir.join("types.wasm"))?;
    let manifest = |run: &str| {
        std::fs::write(
            dir.join("weld.toml"),
            format!(
                "[project]\nname = \"profiles\"\n\n[components.types]\nlang = \"wasm\"\npath = \"types.wasm\"\n\n[compose]\nroot = \"types\"\n\n[run]\n{run}\n"
            ),
        )
    };
    let compiler = |flags: &[&str]| -> Result<String, Failed> {
        let out = weld()
            .args(["-v", "run", "--invoke", "next-color(red)", "-C"])
            .arg(&dir)
            .args(flags)
            .output()?;
        expect_code(&out, 0);
        let err = stderr(&out);
        // -v names the compiler whether the code was compiled now or loaded.
        Ok(if err.contains("Winch") {
            "winch".into()
        } else if err.contains("Cranelift") {
            "cranelift".into()
        } else {
            err
        })
    };
    manifest("")?;
    compose(&dir)?;
    assert_eq!(compiler(&[])?, "winch");
    manifest("profile = \"release\"")?;
    // Each profile keeps its own compiled code: the release run compiles afresh.
    assert_eq!(compiler(&[])?, "cranelift");
    manifest("profile = \"dev\"")?;
    assert_eq!(compiler(&["--release"])?, "cranelift");
    manifest("profile = \"fast\"")?;
    let out = weld().args(["plan", "-C"]).arg(&dir).output()?;
    expect_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("`fast` is not a profile") && err.contains("weld.toml:12"),
        "{err}"
    );
    Ok(())
}

/// `weld compose` in `dir`, so that `weld run` there has an app.
fn compose(dir: &Path) -> Result<(), Failed> {
    let out = weld().args(["compose", "-q", "-C"]).arg(dir).output()?;
    expect_code(&out, 0);
    Ok(())
}

/// A provider whose function traps, and a command that calls it: two prebuilt parts.
const PROVIDER: &str = r#"
(component
  (core module $m (func (export "boom") unreachable))
  (core instance $i (instantiate $m))
  (func $boom (canon lift (core func $i "boom")))
  (instance $api (export "boom" (func $boom)))
  (export "test:parts/api@0.1.0" (instance $api)))
"#;

const ROOT: &str = r#"
(component
  (import "test:parts/api@0.1.0" (instance $api (export "boom" (func))))
  (core func $boom (canon lower (func $api "boom")))
  (core module $m
    (import "api" "boom" (func $boom))
    (func (export "run") (result i32) call $boom i32.const 0))
  (core instance $i (instantiate $m (with "api" (instance (export "boom" (func $boom))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $cli (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $cli)))
"#;

/// `weld up` runs a plugged app as its parts: the first run compiles each, a run after one
/// part changed compiles only that one, and a trap in a part names it, as the composed file's
/// run does.
fn only_the_changed_part() -> Result<(), Failed> {
    let dir = crate::scratch("parts")?;
    std::fs::write(dir.join("api.wasm"), wat::parse_str(PROVIDER)?)?;
    std::fs::write(dir.join("root.wasm"), wat::parse_str(ROOT)?)?;
    std::fs::write(
        dir.join("weld.toml"),
        "[project]\nname = \"parts\"\n\n[components.root]\nlang = \"wasm\"\npath = \"root.wasm\"\n\n[components.api]\nlang = \"wasm\"\npath = \"api.wasm\"\n\n[compose]\nroot = \"root\"\nplugs = [\"api\"]\n",
    )?;
    let up = || -> Result<String, Failed> {
        let out = weld().args(["-v", "up", "-C"]).arg(&dir).output()?;
        // The provider traps: exit 1, naming it.
        expect_code(&out, 1);
        let err = stderr(&out);
        assert!(err.contains("as its 2 parts"), "{err}");
        assert!(err.contains("in component `api`"), "{err}");
        Ok(err)
    };
    let first = up()?;
    assert!(
        first.contains("compiling root") && first.contains("compiling api"),
        "{first}"
    );
    // A custom section makes a new version of the provider that behaves the same.
    let mut api = std::fs::read(dir.join("api.wasm"))?;
    api.extend_from_slice(&[0, 6, 5, b'e', b'd', b'i', b't', b'1']);
    std::fs::write(dir.join("api.wasm"), api)?;
    let second = up()?;
    assert!(
        second.contains("compiling api") && !second.contains("compiling root"),
        "{second}"
    );
    let third = up()?;
    assert!(!third.contains("compiling"), "{third}");
    // `weld run` of the project after `weld up` runs what `up` ran and compiled: the parts.
    let out = weld().args(["-v", "run", "-C"]).arg(&dir).output()?;
    expect_code(&out, 1);
    let run = stderr(&out);
    assert!(
        run.contains("as its 2 parts") && !run.contains("compiling"),
        "{run}"
    );
    assert!(run.contains("in component `api`"), "{run}");
    // A part newer than the composed app is not what was composed: the composed file runs,
    // and says the same.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(dir.join("target/weld/api.wasm"))?
        .set_modified(later)?;
    let out = weld().args(["-v", "run", "-C"]).arg(&dir).output()?;
    expect_code(&out, 1);
    let whole = stderr(&out);
    assert!(
        !whole.contains("as its 2 parts") && whole.contains("compiling"),
        "{whole}"
    );
    assert!(whole.contains("in component `api`"), "{whole}");
    Ok(())
}
