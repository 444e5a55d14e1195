//! `weld new` in an empty directory, then `weld up`: for each language, a command that runs and
//! an HTTP app that answers, as generated; on WASI 0.3 too, for Rust and Python.

use libtest_mimic::{Failed, Trial};

use crate::{expect_code, shared_cache, weld};

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    // Every language on WASI 0.2; on 0.3, the languages whose toolchains make it.
    let starters = ["rust", "python", "js", "go"]
        .map(|lang| (lang, ""))
        .into_iter()
        .chain([("rust", "-p3"), ("python", "-p3")]);
    for (lang, release) in starters {
        let suffix = release.replace('-', "_");
        trials.push(crate::trial(
            format!("new::{lang}_cli{suffix}_then_up_runs"),
            move || cli(lang, &format!("cli{release}")),
        ));
        trials.push(crate::trial(
            format!("new::{lang}_http{suffix}_then_up_serves"),
            move || http(lang, &format!("http{release}")),
        ));
    }
    trials.push(crate::trial(
        "new::world_skeletons_build_check_and_say_what_is_missing",
        world_skeletons,
    ));
    trials.push(crate::trial(
        "new::every_world_shape_builds_and_the_app_composes_itself",
        world_shapes,
    ));
    trials
}

/// `weld new --world` for every shape of world (tests/cli/new/shapes/): exports only, imports
/// only, both, a WASI command and an HTTP app, in every language that can make it; Python and
/// JavaScript refuse a world that only imports, saying what to add. Made in the order the guide
/// makes its app (the providers, then the command), weld.toml gets the `[compose]` that runs:
/// the command as its root, one provider per import as its plugs; a later library is plugged
/// in when the app imports what it exports and not when another plug provides it already.
/// Everything builds, and `weld up` gets as far as the command's own "not written yet".
fn world_shapes() -> Result<(), Failed> {
    let dir = crate::scratch("world-shapes")?;
    std::fs::create_dir_all(dir.join("wit"))?;
    std::fs::copy(
        crate::root().join("tests/cli/new/shapes/wit/shapes.wit"),
        dir.join("wit/shapes.wit"),
    )?;
    std::fs::write(dir.join("weld.toml"), "[project]\nname = \"shapes\"\n")?;
    let new = |name: &str, lang: &str, world: &str| -> Result<serde_json::Value, Failed> {
        let out = weld()
            .current_dir(&dir)
            .args([
                "new", name, "--lang", lang, "--world", world, "--format", "json",
            ])
            .output()?;
        expect_code(&out, 0);
        Ok(serde_json::from_slice(&out.stdout)?)
    };
    let placed = |v: &serde_json::Value| v["place"].to_string();

    // A library first: nothing imports it yet.
    let lib = new("rs-greeter", "rust", "greeter")?;
    assert_eq!(placed(&lib), r#"{"as":"apart"}"#);
    assert_eq!(lib["kind"], "library");
    // The command: the app's root, plugged with the provider that exists.
    let main = new("rs-user", "rust", "user")?;
    assert_eq!(placed(&main), r#"{"as":"root","plugs":["rs-greeter"]}"#);
    assert_eq!(main["kind"], "imports-only");
    // A library the app imports and no plug provides yet joins the plugs ...
    let tally = new("go-tallier", "go", "tallier")?;
    assert_eq!(placed(&tally), r#"{"as":"plug","root":"rs-user"}"#);
    // ... and one whose exports a plug provides already does not.
    let spare = new("go-greeter", "go", "greeter")?;
    assert_eq!(placed(&spare), r#"{"as":"provided","by":"rs-greeter"}"#);
    let manifest = std::fs::read_to_string(dir.join("weld.toml"))?;
    assert!(
        manifest
            .ends_with("[compose]\nroot = \"rs-user\"\nplugs = [\"rs-greeter\", \"go-tallier\"]\n"),
        "{manifest}"
    );

    // Only imports: a command in Go too (a second one, apart from the app) ...
    let go_main = new("go-user", "go", "user")?;
    assert_eq!(placed(&go_main), r#"{"as":"apart"}"#);
    // ... and refused in Python and JavaScript, before anything is written.
    for lang in ["python", "js"] {
        let out = weld()
            .current_dir(&dir)
            .args(["new", "refused", "--lang", lang, "--world", "user"])
            .output()?;
        expect_code(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("world `user` (wit/shapes.wit) only imports")
                && stderr.contains("add `export wasi:cli/run@0.2."),
            "{lang}: {stderr}"
        );
        assert!(!dir.join("refused").exists());
    }
    for (name, lang, world) in [
        ("rs-both", "rust", "both"),
        ("go-both", "go", "both"),
        ("rs-command", "rust", "command"),
        ("go-command", "go", "command"),
        ("py-command", "python", "command"),
        ("js-command", "js", "command"),
        ("rs-http", "rust", "http"),
        ("go-http", "go", "http"),
        ("py-http", "python", "http"),
        ("js-http", "js", "http"),
    ] {
        let made = new(name, lang, world)?;
        assert_eq!(placed(&made), r#"{"as":"apart"}"#, "{name}");
    }
    // wit-bindgen reads the WIT on its own: the WASI that the command and HTTP worlds use
    // was written into deps/ by the first Rust skeleton.
    assert!(dir.join("wit/deps/weld-runtime-0.2.6-cli.wit").is_file());

    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .current_dir(&dir)
        .arg("up")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("rs-user is not written yet (see wit/shapes.wit)"),
        "{stderr}"
    );
    // The other commands run on their own once what they import is there: weld says which
    // import is missing, or (where the compiler dropped the unused import) the stub speaks.
    for name in [
        "go-user",
        "go-command",
        "rs-command",
        "py-command",
        "js-command",
    ] {
        let out = weld()
            .env("WELD_CACHE_DIR", shared_cache())
            .current_dir(&dir)
            .args(["run", &format!("target/weld/{name}.wasm")])
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{name}: {stderr}");
        assert!(
            stderr.contains("is not written yet")
                || stderr.contains("runtime does not provide:\n  │ demo:shapes/greet"),
            "{name}: {stderr}"
        );
    }
    for name in [
        "rs-both", "go-both", "rs-http", "go-http", "py-http", "js-http",
    ] {
        assert!(
            dir.join(format!("target/weld/{name}.wasm")).is_file(),
            "{name}"
        );
    }
    Ok(())
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

fn cli(lang: &str, template: &str) -> Result<(), Failed> {
    let dir = scaffold(lang, template)?;
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

fn http(lang: &str, template: &str) -> Result<(), Failed> {
    let dir = scaffold(lang, template)?;
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
