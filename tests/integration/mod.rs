//! Integration tests: behaviour that takes more than one golden invocation to show.

use std::process::Stdio;

use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::weld;

mod build;
mod check;
mod corpus;
mod files;
mod fuzz;
mod go;
mod new;
mod oci;
mod packages;
mod profile;
mod run;
mod serve;
mod source;

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![
        crate::trial("doctor::reports_this_machine", doctor_reports_this_machine),
        crate::trial(
            "doctor::missing_toolchains_exit_2",
            doctor_missing_toolchains_exit_2,
        ),
        crate::trial(
            "doctor::requires_only_what_the_project_uses",
            doctor_requires_only_what_the_project_uses,
        ),
        crate::trial(
            "plan::json_is_the_resolved_plan",
            plan_json_is_the_resolved_plan,
        ),
        crate::trial(
            "output::broken_pipe_exits_quietly",
            broken_pipe_exits_quietly,
        ),
    ];
    trials.push(crate::trial(
        "graph::dot_renders_with_graphviz",
        graph_dot_renders_with_graphviz,
    ));
    trials.push(crate::trial(
        "compose::wat_writes_text",
        compose_wat_writes_text,
    ));
    trials.push(crate::trial(
        "cache::counts_and_cleans_everything",
        cache_counts_and_cleans_everything,
    ));
    trials.push(crate::trial(
        "up::skips_a_fresh_compose",
        up_skips_a_fresh_compose,
    ));
    trials.push(crate::trial(
        "output::colour_only_on_terminals",
        colour_only_on_terminals,
    ));
    trials.push(crate::trial("corpus::bad_inputs", corpus::corpus));
    trials.push(crate::trial(
        "docs::guide_ci_workflow_is_valid",
        guide_ci_workflow_is_valid,
    ));
    trials.extend(build::trials());
    trials.extend(files::trials());
    trials.extend(check::trials());
    trials.extend(run::trials());
    trials.extend(profile::trials());
    trials.extend(serve::trials());
    trials.extend(oci::trials());
    trials.extend(packages::trials());
    trials.extend(source::trials());
    trials.extend(new::trials());
    trials.extend(fuzz::trials());
    trials.extend(go::trials());
    trials
}

fn json_of(output: &std::process::Output) -> Result<Value, Failed> {
    serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into()
    })
}

fn tool<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tools"]
        .as_array()
        .and_then(|tools| tools.iter().find(|t| t["name"] == name))
        .unwrap_or(&Value::Null)
}

/// After install.sh, every toolchain is found at its pinned version, by running the real tools.
fn doctor_reports_this_machine() -> Result<(), Failed> {
    let out = weld().args(["doctor", "--format", "json"]).output()?;
    let report = json_of(&out)?;
    if out.status.code() != Some(0) || report["ready"] != true {
        return Err(format!(
            "doctor says this machine is not ready (did install.sh run?):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
        .into());
    }
    for (name, version) in [
        ("componentize-py", weld::toolchain::COMPONENTIZE_PY_VERSION),
        ("componentize-js", weld::toolchain::COMPONENTIZE_JS_VERSION),
        ("mypy", weld::toolchain::MYPY_VERSION),
        ("typescript", weld::toolchain::TYPESCRIPT_VERSION),
        ("go", weld::toolchain::GO_VERSION),
    ] {
        let t = tool(&report, name);
        assert_eq!(t["status"], "ok", "{name}: {t}");
        assert_eq!(t["version"], version, "{name}: {t}");
        let path = t["path"].as_str().unwrap_or_default();
        assert!(
            std::path::Path::new(path).exists(),
            "{name} path {path} does not exist"
        );
    }
    // The Rust version doctor reports is the one rustc itself reports.
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()?;
    let rustc = String::from_utf8_lossy(&rustc.stdout);
    let reported = tool(&report, "wasm32-wasip2")["version"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    assert!(
        rustc.contains(&reported),
        "doctor says rustc {reported}, rustc says {rustc}"
    );
    Ok(())
}

/// With no toolchains anywhere, doctor names each one, says what to run, and exits 2.
fn doctor_missing_toolchains_exit_2() -> Result<(), Failed> {
    let home = crate::scratch("doctor-empty")?;
    let out = weld()
        .args(["doctor", "--format", "json"])
        .env("WELD_HOME", &home)
        .env("PATH", &home)
        .output()?;
    crate::expect_code(&out, 2);
    let report = json_of(&out)?;
    assert_eq!(report["ready"], false);
    for name in [
        "cargo",
        "wasm32-wasip2",
        "componentize-py",
        "mypy",
        "node",
        "componentize-js",
        "typescript",
        "go",
    ] {
        let t = tool(&report, name);
        assert_eq!(t["status"], "missing", "{name}: {t}");
        assert_eq!(t["required"], true, "{name}: {t}");
        assert!(
            t["fix"].as_str().is_some_and(|f| !f.is_empty()),
            "{name} has no fix: {t}"
        );
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("install.sh"),
        "stderr does not say what to run: {stderr}"
    );
    Ok(())
}

/// A Rust-only project does not need the Python and JavaScript toolchains.
fn doctor_requires_only_what_the_project_uses() -> Result<(), Failed> {
    let home = crate::scratch("doctor-rust-only")?;
    let out = weld()
        .args(["doctor", "--format", "json", "-C", "fixtures/hello"])
        .env("WELD_HOME", &home)
        .output()?;
    let report = json_of(&out)?;
    assert_eq!(report["project"], "hello");
    assert_eq!(tool(&report, "componentize-py")["required"], false);
    assert_eq!(tool(&report, "componentize-js")["status"], "missing");
    assert_eq!(tool(&report, "cargo")["required"], true);
    crate::expect_code(&out, 0);
    Ok(())
}

/// `weld plan --format json` carries what the stages will use: absolute paths, qualified worlds.
fn plan_json_is_the_resolved_plan() -> Result<(), Failed> {
    let out = weld()
        .args(["plan", "--format", "json", "-C", "fixtures/calc"])
        .output()?;
    crate::expect_code(&out, 0);
    let plan = json_of(&out)?;
    assert_eq!(plan["name"], "calc");
    let components = plan["components"].as_array().ok_or("no components")?;
    let names: Vec<&str> = components
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["arith", "words", "cli"]);
    assert_eq!(components[0]["lang"], "python");
    assert_eq!(components[0]["module"], "app");
    assert_eq!(components[0]["world"], "weld:example/arith-provider@0.1.0");
    for c in components {
        let source = c["source"].as_str().unwrap_or_default();
        assert!(
            std::path::Path::new(source).is_absolute() && std::path::Path::new(source).exists()
        );
    }
    assert_eq!(plan["compose"]["wiring"]["kind"], "plug");
    assert_eq!(plan["compose"]["wiring"]["root"], "cli");
    assert_eq!(plan["run"]["args"], serde_json::json!(["3", "4", "5.5"]));
    Ok(())
}

/// `weld … | head` must not print an error or panic when the reader goes away.
fn broken_pipe_exits_quietly() -> Result<(), Failed> {
    let (reader, writer) = std::io::pipe()?;
    drop(reader);
    let out = weld()
        .args(["plan", "-C", "fixtures/calc"])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()?;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    Ok(())
}

/// Run from a terminal with stdout redirected to a file, `weld check` writes plain text to the
/// file; with stdout on the terminal, it paints. `script` (util-linux) provides the terminal.
fn colour_only_on_terminals() -> Result<(), Failed> {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "skipped: `script` (util-linux) is not installed, so there is no terminal to test with"
        );
        return Ok(());
    }
    let dir = crate::scratch("colour")?;
    let check = format!(
        "{} check tests/cli/check/components/app.wasm --plug tests/cli/check/components/arith.wasm",
        env!("CARGO_BIN_EXE_weld")
    );
    let on_terminal = |shell: &str, log: &std::path::Path| -> Result<(), Failed> {
        let mut cmd = std::process::Command::new("script");
        crate::isolate(&mut cmd);
        cmd.env_remove("NO_COLOR")
            .arg("-qec")
            .arg(shell)
            .arg(log)
            .stdout(Stdio::null());
        cmd.status()?;
        Ok(())
    };
    let file = dir.join("out.txt");
    on_terminal(&format!("{check} > {}", file.display()), &dir.join("a.log"))?;
    let written = std::fs::read_to_string(&file)?;
    assert!(written.contains("unsatisfied-import"), "{written}");
    assert!(
        !written.contains('\x1b'),
        "ANSI escapes in a file: {written:?}"
    );
    on_terminal(&check, &dir.join("b.log"))?;
    let shown = std::fs::read_to_string(dir.join("b.log"))?;
    assert!(shown.contains('\x1b'), "no colour on a terminal: {shown:?}");
    Ok(())
}

/// `weld up` composes again only when an input or option changed: a second run keeps the app
/// file as it is, and a changed component is composed in.
fn up_skips_a_fresh_compose() -> Result<(), Failed> {
    let dir = crate::scratch("fresh-compose")?;
    let components = crate::root().join("tests/cli/check/components");
    for name in ["app", "arith", "words"] {
        std::fs::copy(
            components.join(format!("{name}.wasm")),
            dir.join(format!("{name}.wasm")),
        )?;
    }
    std::fs::write(
        dir.join("weld.toml"),
        "[project]\nname = \"fresh\"\n\n\
         [components.calc]\nlang = \"wasm\"\npath = \"app.wasm\"\n\n\
         [components.arith]\nlang = \"wasm\"\npath = \"arith.wasm\"\n\n\
         [components.words]\nlang = \"wasm\"\npath = \"words.wasm\"\n\n\
         [compose]\nroot = \"calc\"\nplugs = [\"arith\", \"words\"]\n",
    )?;
    let app = dir.join("target/weld/app.wasm");
    // The app exports no wasi:cli/run: the run stage refuses it (2), after composing.
    let up = || -> Result<String, Failed> {
        let out = weld().arg("up").arg(&dir).output()?;
        crate::expect_code(&out, 2);
        Ok(String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let identity = |path: &std::path::Path| -> Result<(u64, std::time::SystemTime), Failed> {
        let meta = std::fs::metadata(path)?;
        Ok((std::os::unix::fs::MetadataExt::ino(&meta), meta.modified()?))
    };
    // The compose stage's status line: `compose done in 8ms`, with ` (up to date)` when skipped.
    let compose_line = |stderr: &str| -> Result<String, Failed> {
        stderr
            .lines()
            .find(|l| l.trim_start().starts_with("compose done"))
            .map(str::to_string)
            .ok_or_else(|| format!("no compose line in:\n{stderr}").into())
    };
    let first = compose_line(&up()?)?;
    assert!(!first.ends_with("(up to date)"), "{first}");
    let composed = identity(&app)?;
    let second = compose_line(&up()?)?;
    assert!(second.ends_with("(up to date)"), "{second}");
    assert_eq!(identity(&app)?, composed, "the app was written again");
    // Another implementation of words: composed in.
    std::fs::copy(components.join("words-copy.wasm"), dir.join("words.wasm"))?;
    let third = compose_line(&up()?)?;
    assert!(!third.ends_with("(up to date)"), "{third}");
    assert_ne!(identity(&app)?, composed);
    Ok(())
}

/// `weld cache` counts what a run compiled and what toolchains keep there, and `weld cache clean`
/// removes all of it.
fn cache_counts_and_cleans_everything() -> Result<(), Failed> {
    let summary = || -> Result<Value, Failed> {
        let out = weld().args(["cache", "--format", "json"]).output()?;
        crate::expect_code(&out, 0);
        json_of(&out)
    };
    let empty = summary()?;
    assert_eq!(
        (&empty["entries"], &empty["functions"], &empty["bytes"]),
        (&Value::from(0), &Value::from(0), &Value::from(0)),
        "{empty}"
    );
    // The dummy component traps when called, but it is compiled (and cached) first; by
    // Cranelift, whose per-function cache is counted too.
    let out = weld()
        .args(["run", "--release", "tests/cli/check/components/arith.wasm"])
        .args(["--invoke", "arith.divide(1.0, 2.0)"])
        .output()?;
    crate::expect_code(&out, 1);
    let tool = crate::trial_cache().join("toolchains/componentize-js/wasmtime");
    std::fs::create_dir_all(&tool)?;
    std::fs::write(tool.join("entry"), [0u8; 1000])?;
    let full = summary()?;
    assert_eq!(full["entries"], 1, "{full}");
    assert!(full["functions"].as_u64() >= Some(1), "{full}");
    assert_eq!(full["toolchain_bytes"], 1000, "{full}");
    let on_disk: u64 = crate::files_under(&crate::trial_cache())
        .iter()
        .filter_map(|f| std::fs::metadata(crate::trial_cache().join(f)).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    assert_eq!(full["bytes"], on_disk, "{full}");
    let out = weld().args(["cache", "clean"]).output()?;
    crate::expect_code(&out, 0);
    let cleaned = summary()?;
    assert_eq!(cleaned["bytes"], 0, "{cleaned}");
    assert_eq!(cleaned["entries"], 0, "{cleaned}");
    Ok(())
}

/// `weld graph --format dot` is valid Graphviz input (install.sh --dev installs Graphviz).
/// `--wat` writes the same composition as WebAssembly text.
fn compose_wat_writes_text() -> Result<(), Failed> {
    let c = "tests/cli/check/components";
    let wat = crate::root().join("tests/cli/compose/target/wat-case.wat");
    let out = weld()
        .arg("compose")
        .arg(format!("{c}/app.wasm"))
        .args([
            "--plug",
            &format!("{c}/arith.wasm"),
            "--plug",
            &format!("{c}/words.wasm"),
        ])
        .arg("--wat")
        .arg("-o")
        .arg(&wat)
        .output()?;
    crate::expect_code(&out, 0);
    let text = std::fs::read_to_string(&wat)?;
    assert!(
        text.starts_with("(component"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(
        text.contains("(core module"),
        "the components are defined inside"
    );
    assert!(
        text.contains("\"weld:calc/arith@0.1.0\""),
        "the wiring is named"
    );
    Ok(())
}

fn graph_dot_renders_with_graphviz() -> Result<(), Failed> {
    let c = "tests/cli/check/components";
    let out = weld()
        .args(["graph", "--format", "dot"])
        .arg(format!("{c}/chain-root.wasm"))
        .args([
            "--plug",
            &format!("{c}/chain-a.wasm"),
            "--plug",
            &format!("{c}/chain-b.wasm"),
        ])
        .output()?;
    crate::expect_code(&out, 0);
    let mut dot = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run Graphviz's `dot` ({e}): run ./install.sh --dev"))?;
    use std::io::Write;
    dot.stdin.take().unwrap().write_all(&out.stdout)?;
    let svg = dot.wait_with_output()?;
    assert!(
        svg.status.success(),
        "dot rejected the graph: {}",
        String::from_utf8_lossy(&svg.stderr)
    );
    // SVG escapes `-` in text.
    let svg = String::from_utf8_lossy(&svg.stdout).replace("&#45;", "-");
    assert!(svg.contains("<svg"), "{svg}");
    for label in [
        "chain-root.wasm",
        "chain-a.wasm",
        "chain-b.wasm",
        "weld:chain/b@0.1.0",
    ] {
        assert!(svg.contains(label), "{label} is not in the rendered graph");
    }
    Ok(())
}

/// A real component (with a dummy core module) implementing the one world in `wit`.
pub fn component_from_wit(wit: &str) -> Vec<u8> {
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("component.wit", wit).expect("valid WIT");
    let world = resolve.select_world(&[pkg], None).expect("one world");
    let mut module =
        wit_component::dummy_module(&resolve, world, wit_parser::ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .expect("metadata embeds");
    wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("the dummy module is valid")
        .validate(true)
        .encode()
        .expect("the component encodes")
}

/// The CI workflow docs/guide.md gives is one GitHub accepts: checked with GitHub's own parser
/// (`@actions/workflow-parser`, from `install.sh --dev`), which knows every key, event and
/// expression context. And it is complete: it runs on pushes and pull requests, and caches
/// weld's binary so that a run does not rebuild it.
fn guide_ci_workflow_is_valid() -> Result<(), Failed> {
    let guide = std::fs::read_to_string(crate::root().join("docs/guide.md"))?;
    let section = guide
        .split("## 6. CI")
        .nth(1)
        .ok_or("docs/guide.md has no CI section")?;
    let yaml = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .ok_or("the CI section has no ```yaml block")?;
    let dir = crate::scratch("workflow")?;
    let file = dir.join("weld.yml");
    let check = |text: &str| -> Result<Value, Failed> {
        std::fs::write(&file, text)?;
        let parser = crate::dev_node_module("@actions/workflow-parser/dist/index.js");
        if !parser.is_file() {
            return Err(format!("{} is missing: run ./install.sh --dev", parser.display()).into());
        }
        let out = std::process::Command::new("node")
            .arg(crate::root().join("tests/support/workflow.mjs"))
            .arg(&parser)
            .arg(&file)
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "the parser failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    };
    let report = check(yaml)?;
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(report["jobs"], serde_json::json!(["weld"]), "{report}");
    let events = report["events"].to_string();
    assert!(
        events.contains("push") && events.contains("pull_request"),
        "{report}"
    );
    assert!(
        yaml.contains("~/.cargo/bin/weld"),
        "weld's binary is not cached"
    );
    assert!(yaml.contains("if: steps.weld-cache.outputs.cache-hit != 'true'"));

    // The check has teeth: GitHub's parser refuses a workflow without a trigger or with a
    // misspelt key.
    let no_trigger: String = yaml
        .lines()
        .skip_while(|l| !l.starts_with("env:"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        check(&no_trigger)?["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    let misspelt = yaml.replacen("steps:", "stepz:", 1);
    assert!(
        check(&misspelt)?["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    Ok(())
}
