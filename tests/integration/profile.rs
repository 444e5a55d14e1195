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
    ]
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `weld test` on every fixture, in each profile: the same tests, each passing, with the same
/// results; and the apps that run print the same output under both compilers.
fn example_apps_agree() -> Result<(), Failed> {
    let fixtures = ["calc", "guests", "handlers", "hello", "hello-http", "shop"];
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
        let run = |flags: &[&str]| -> Result<Output, Failed> {
            Ok(weld()
                .env("WELD_CACHE_DIR", shared_cache())
                .args(["run", "-C", &format!("fixtures/{fixture}")])
                .args(flags)
                .output()?)
        };
        let dev = run(&[])?;
        let release = run(&["--release"])?;
        expect_code(&dev, 0);
        expect_code(&release, 0);
        assert!(!dev.stdout.is_empty(), "{fixture}: {}", stderr(&dev));
        assert_eq!(
            String::from_utf8_lossy(&dev.stdout),
            String::from_utf8_lossy(&release.stdout),
            "{fixture}: Winch and Cranelift print different output"
        );
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
