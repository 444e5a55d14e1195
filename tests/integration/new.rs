//! `weld new` in an empty directory, then `weld up`: for each language, a command that runs and
//! an HTTP app that answers, as generated.

use libtest_mimic::{Failed, Trial};

use crate::{expect_code, shared_cache, weld};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for lang in ["rust", "python", "js", "go"] {
        trials.push(crate::trial(
            format!("new::{lang}_cli_then_up_runs"),
            move || cli(lang),
        ));
        trials.push(crate::trial(
            format!("new::{lang}_http_then_up_serves"),
            move || http(lang),
        ));
    }
    trials.push(crate::trial(
        "new::world_skeletons_build_check_and_say_what_is_missing",
        world_skeletons,
    ));
    trials
}

/// `weld new --world` in each language for a world that uses every kind of WIT type
/// (tests/cli/new/kinds/): the skeletons are the goldens under tests/cli/new/world/
/// (`BLESS=1` rewrites them), they build with the real toolchains, pass `weld check` (the
/// source check included), and each stub says what is missing when called.
fn world_skeletons() -> Result<(), Failed> {
    let dir = crate::scratch("world-skeletons")?;
    std::fs::create_dir_all(dir.join("wit"))?;
    std::fs::copy(
        crate::root().join("tests/cli/new/kinds/wit/kinds.wit"),
        dir.join("wit/kinds.wit"),
    )?;
    std::fs::write(
        dir.join("weld.toml"),
        "# kinds\n[project]\nname = \"kinds\"\n",
    )?;
    for (name, lang) in [("py", "python"), ("js", "js"), ("rs", "rust"), ("go", "go")] {
        let out = weld()
            .current_dir(&dir)
            .args(["new", name, "--lang", lang, "--world", "kinds"])
            .output()?;
        expect_code(&out, 0);
    }
    let goldens = crate::root().join("tests/cli/new/world");
    let made = [
        "py/app.py",
        "py/shapes.py",
        "js/js.js",
        "rs/Cargo.toml",
        "rs/src/lib.rs",
        "go/export_wit_world/wit_world.go",
        "go/export_demo_kinds_ids/demo_kinds_ids.go",
        "go/export_demo_kinds_shapes/demo_kinds_shapes.go",
    ];
    let mut differ = Vec::new();
    for file in made {
        let text = std::fs::read_to_string(dir.join(file))?;
        let golden = goldens.join(file);
        if std::env::var_os("BLESS").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap_or(&goldens))?;
            std::fs::write(&golden, &text)?;
        } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(text.as_str()) {
            differ.push(file);
        }
    }
    assert!(
        differ.is_empty(),
        "skeletons differ from tests/cli/new/world/ (rerun with BLESS=1 to accept): {differ:?}"
    );
    let manifest = std::fs::read_to_string(dir.join("weld.toml"))?;
    assert!(manifest.starts_with("# kinds\n"), "{manifest}");
    assert!(
        manifest.contains("[components.rs]\nlang = \"rust\"\npath = \"rs\"\nworld = \"kinds\"\n"),
        "{manifest}"
    );

    let out = weld().current_dir(&dir).arg("build").output()?;
    expect_code(&out, 0);
    let out = weld()
        .current_dir(&dir)
        .args(["check", "--format", "json"])
        .output()?;
    expect_code(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let checked = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["code"] == "source-checked")
        .count();
    assert_eq!(checked, 2, "{report:#}");

    for name in ["py", "js", "rs", "go"] {
        let out = weld()
            .env("WELD_CACHE_DIR", shared_cache())
            .current_dir(&dir)
            .args([
                "run",
                &format!("target/weld/{name}.wasm"),
                "--invoke",
                "hello(\"ada\")",
            ])
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{name}: {stderr}");
        // Go names the function as Go spells it.
        let missing = if name == "go" {
            "Hello is not written yet"
        } else {
            "hello is not written yet"
        };
        assert!(
            stderr.contains(&format!("{missing} (see wit/kinds.wit)")),
            "{name}: {stderr}"
        );
    }
    Ok(())
}

/// A fresh, empty directory with `weld new NAME --lang LANG --template TEMPLATE` run in it.
fn scaffold(lang: &str, template: &str) -> Result<std::path::PathBuf, Failed> {
    let dir = crate::scratch(&format!("{lang}-{template}"))?;
    let out = weld()
        .current_dir(&dir)
        .args(["new", "hello", "--lang", lang, "--template", template])
        .output()?;
    expect_code(&out, 0);
    assert!(dir.join("weld.toml").is_file());
    let next = String::from_utf8_lossy(&out.stdout);
    assert!(next.contains("next: `weld up`"), "{next}");
    Ok(dir)
}

fn cli(lang: &str) -> Result<(), Failed> {
    let dir = scaffold(lang, "cli")?;
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .current_dir(&dir)
        .arg("up")
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    expect_code(&out, 0);
    assert_eq!(stdout, "Hello, world, from hello!\n");
    // It passes check as generated.
    let check = weld().current_dir(&dir).arg("check").output()?;
    expect_code(&check, 0);
    Ok(())
}

fn http(lang: &str) -> Result<(), Failed> {
    let dir = scaffold(lang, "http")?;
    let server = super::serve::Server::command(&[
        "up".into(),
        dir.to_string_lossy().into_owned(),
        "--addr".into(),
        "127.0.0.1:0".into(),
    ])?;
    assert_eq!(
        server.get("/greet?who=ada")?,
        (
            200,
            "Hello from hello! You asked for /greet?who=ada\n".into()
        )
    );
    Ok(())
}
