//! `weld build` for real: the example apps through cargo, componentize-py and componentize-js,
//! and the cache and atomic-output rules on components made here.

use std::path::{Path, PathBuf};

use libtest_mimic::{Failed, Trial};
use serde_json::Value;
use wit_component::DecodedWasm;

use crate::weld;

pub fn trials() -> Vec<Trial> {
    vec![
        crate::trial("build::calc_example_builds_and_is_cached", calc_example),
        crate::trial("build::hello_example_builds_and_is_cached", hello_example),
        crate::trial(
            "build::cache_rebuilds_only_what_changed",
            cache_rebuilds_only_what_changed,
        ),
        crate::trial(
            "build::failed_build_keeps_last_good_output",
            failed_build_keeps_last_good_output,
        ),
        crate::trial("build::link_loop_is_named", link_loop_is_named),
        crate::trial(
            "build::first_cargo_lock_is_not_a_change",
            first_cargo_lock_is_not_a_change,
        ),
    ]
}

/// A Python component whose directory holds two links to itself (2^32 paths for a walker that
/// follows links 32 deep): the build names the looping link at once, before any toolchain runs.
fn link_loop_is_named() -> Result<(), Failed> {
    let dir = crate::scratch("link-loop")?;
    std::fs::create_dir_all(dir.join("wit"))?;
    std::fs::copy(
        crate::root().join("fixtures/calc/wit/calc.wit"),
        dir.join("wit/calc.wit"),
    )?;
    std::fs::create_dir_all(dir.join("py"))?;
    std::fs::write(dir.join("py/app.py"), "x = 1\n")?;
    std::os::unix::fs::symlink(".", dir.join("py/a"))?;
    std::os::unix::fs::symlink(".", dir.join("py/b"))?;
    std::fs::write(
        dir.join("weld.toml"),
        "[project]\nname = \"loop\"\nwit = \"wit\"\n\n\
         [components.arith]\nlang = \"python\"\npath = \"py\"\nworld = \"arith-provider\"\n",
    )?;
    let out = weld().arg("build").arg("-C").arg(&dir).output()?;
    crate::expect_code(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("py/a is a symbolic link to"), "{stderr}");
    assert!(stderr.contains("the link loops"), "{stderr}");
    Ok(())
}

/// Runs `weld build --format json` and returns its lines by component name.
fn build_json(args: &[&str]) -> Result<(Option<i32>, Vec<Value>, String), Failed> {
    let out = weld()
        .args(["build", "--format", "json"])
        .args(args)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|e| format!("stdout is not JSON lines: {e}\nstderr: {stderr}"))?;
    Ok((out.status.code(), lines, stderr))
}

fn line<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or(&Value::Null)
}

/// The component's world as "import NAME" / "export NAME" lines, decoded by wit-component.
fn world_items(path: &Path) -> Result<Vec<String>, Failed> {
    let bytes = std::fs::read(path)?;
    let decoded =
        wit_component::decode(&bytes).map_err(|e| format!("{}: {e:#}", path.display()))?;
    let DecodedWasm::Component(resolve, world) = decoded else {
        return Err(format!("{} is not a component", path.display()).into());
    };
    let w = &resolve.worlds[world];
    let mut items = Vec::new();
    for (dir, map) in [("import", &w.imports), ("export", &w.exports)] {
        for key in map.keys() {
            items.push(format!("{dir} {}", resolve.name_world_key(key)));
        }
    }
    Ok(items)
}

fn has(items: &[String], prefix: &str) -> bool {
    items.iter().any(|i| i.starts_with(prefix))
}

/// The polyglot example: Python, JavaScript and Rust, each built by its real toolchain.
fn calc_example() -> Result<(), Failed> {
    let (code, lines, stderr) = build_json(&["-C", "fixtures/calc"])?;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    for name in ["arith", "words", "cli"] {
        let l = line(&lines, name);
        assert!(l["status"] == "built" || l["status"] == "cached", "{l}");
    }
    let out = Path::new("fixtures/calc/target/weld");
    let arith = world_items(&crate::root().join(out).join("arith.wasm"))?;
    assert!(has(&arith, "export weld:example/arith@0.1.0"), "{arith:?}");
    let words = world_items(&crate::root().join(out).join("words.wasm"))?;
    assert!(has(&words, "export weld:example/words@0.1.0"), "{words:?}");
    assert!(
        !has(&words, "import wasi:http"),
        "http must be disabled: {words:?}"
    );
    let cli = world_items(&crate::root().join(out).join("cli.wasm"))?;
    assert!(has(&cli, "import weld:example/arith@0.1.0"), "{cli:?}");
    assert!(has(&cli, "import weld:example/words@0.1.0"), "{cli:?}");
    assert!(has(&cli, "export wasi:cli/run@0.2"), "{cli:?}");

    // Nothing changed: no toolchain runs again.
    let (code, lines, stderr) = build_json(&["-C", "fixtures/calc"])?;
    assert_eq!(code, Some(0), "{stderr}");
    for l in &lines {
        assert_eq!(l["status"], "cached", "{l}");
    }

    // The three fit together as weld.toml wires them.
    let out = weld()
        .args(["check", "-C", "fixtures/calc", "--format", "json"])
        .output()?;
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let satisfied: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["code"] == "satisfied")
        .collect();
    assert_eq!(satisfied.len(), 2, "{report:#}");
    // The example's Python and JavaScript sources match their worlds.
    let mut checked: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["code"] == "source-checked")
        .filter_map(|f| f["consumer"].as_str())
        .collect();
    checked.sort();
    assert_eq!(checked, ["arith", "words"], "{report:#}");

    // A Python component's exports, as `--invoke` lists them, are the user's: componentize-py's
    // own `exports.init` hook is not among them, and a typo gets a suggestion.
    let typo = weld()
        .env("WELD_CACHE_DIR", crate::shared_cache())
        .args([
            "run",
            "fixtures/calc/target/weld/arith.wasm",
            "--invoke",
            "sumarize([1.0])",
        ])
        .output()?;
    crate::expect_code(&typo, 2);
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert!(
        stderr.contains("did you mean `arith.summarize`?"),
        "{stderr}"
    );
    assert!(!stderr.contains("exports.init"), "{stderr}");

    compose_is_deterministic_and_atomic()?;
    graph_is_the_composition()?;
    calc_app_runs()?;
    unplugged_app_is_refused_before_compiling()?;
    skewed_provider_is_explained()
}

/// The example composed without its words provider (a 17 MiB app that cannot run): `weld run`
/// names the missing import without compiling anything or writing to the cache.
fn unplugged_app_is_refused_before_compiling() -> Result<(), Failed> {
    let built = crate::root().join("fixtures/calc/target/weld");
    let app = crate::scratch("unplugged")?.join("app.wasm");
    let out = weld()
        .arg("compose")
        .arg(built.join("cli.wasm"))
        .arg("--plug")
        .arg(built.join("arith.wasm"))
        .arg("-o")
        .arg(&app)
        .output()?;
    crate::expect_code(&out, 0);
    let cached = crate::files_under(&crate::trial_cache());
    let out = weld().arg("-v").arg("run").arg(&app).output()?;
    crate::expect_code(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("weld:example/words@0.1.0"), "{stderr}");
    assert!(!stderr.contains("compil"), "{stderr}");
    assert_eq!(crate::files_under(&crate::trial_cache()), cached);
    Ok(())
}

/// The composed example runs in weld's runtime: the Rust CLI calling Python and JavaScript.
/// Each language component also runs on its own through `--invoke`.
fn calc_app_runs() -> Result<(), Failed> {
    let cache = crate::shared_cache();
    let run = |args: &[&str]| {
        weld()
            .env("WELD_CACHE_DIR", &cache)
            .args(["run", "-C", "fixtures/calc"])
            .args(args)
            .output()
    };
    let out = run(&[])?;
    crate::expect_code(&out, 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "input: 3 4 5.5\ncount: 3\nsum: 12.5\nmean: 4.166666666666667\nmin: 3\nmax: 5.5\n\
         sum / count: 4.166666666666667\ntext: The quick brown fox jumps over the lazy dog\n\
         shout: THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG!\n\
         title: The Quick Brown Fox Jumps Over The Lazy Dog\n\
         words: the=2 brown=1 dog=1 fox=1 jumps=1 lazy=1 over=1 quick=1\n"
    );
    // The same app wired by a WAC script behaves the same.
    let built = crate::root().join("fixtures/calc/target/weld");
    let scripted = built.join("scripted.wasm");
    let dep = |pkg: &str, file: &str| format!("{pkg}={}", built.join(file).display());
    let out = weld()
        .args(["compose", "fixtures/calc/app.wac", "--dep"])
        .arg(dep("weld:arith", "arith.wasm"))
        .arg("--dep")
        .arg(dep("weld:words", "words.wasm"))
        .arg("--dep")
        .arg(dep("weld:cli", "cli.wasm"))
        .arg("-o")
        .arg(&scripted)
        .output()?;
    crate::expect_code(&out, 0);
    let by_script = weld()
        .env("WELD_CACHE_DIR", &cache)
        .arg("run")
        .arg(&scripted)
        .args(["--", "3", "4", "5.5"])
        .output()?;
    crate::expect_code(&by_script, 0);
    let auto = run(&[])?;
    assert_eq!(
        String::from_utf8_lossy(&by_script.stdout),
        String::from_utf8_lossy(&auto.stdout)
    );

    // Arguments after `--` replace [run] args; a bad number is the app's own failure.
    let out = run(&["--", "1", "x"])?;
    crate::expect_code(&out, 1);
    for (component, call, code, expected) in [
        ("arith.wasm", "arith.divide(1.0, 4.0)", 0, "ok(0.25)"),
        (
            "arith.wasm",
            "divide(1.0, 0.0)",
            1,
            "err(\"cannot divide 1 by zero\")",
        ),
        (
            "arith.wasm",
            "summarize([2.0, 4.0])",
            0,
            "ok({count: 2, sum: 6, mean: 3, min: 2, max: 4})",
        ),
        ("words.wasm", "words.shout(\"hi\")", 0, "\"HI!\""),
        (
            "words.wasm",
            "count-words(\"a b a\")",
            0,
            "[{word: \"a\", count: 2}, {word: \"b\", count: 1}]",
        ),
    ] {
        let out = weld()
            .env("WELD_CACHE_DIR", &cache)
            .arg("run")
            .arg(built.join(component))
            .args(["--invoke", call])
            .output()?;
        crate::expect_code(&out, code);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{expected}\n"),
            "{call}"
        );
    }
    Ok(())
}

/// `weld graph --format json` reports exactly the wiring in the composed file: every
/// instantiation argument of every component, from another component or from one of the app's
/// imports (the WASI versions chosen included).
fn graph_is_the_composition() -> Result<(), Failed> {
    let out = weld()
        .args(["graph", "-C", "fixtures/calc", "--format", "json"])
        .output()?;
    crate::expect_code(&out, 0);
    let graph = super::json_of(&out)?;
    let mut reported = std::collections::BTreeSet::new();
    for e in graph["edges"].as_array().into_iter().flatten() {
        reported.insert((
            e["consumer"].as_str().unwrap_or_default().to_string(),
            e["interface"].as_str().unwrap_or_default().to_string(),
            e["provider"].as_str().unwrap_or_default().to_string(),
        ));
    }
    for r in graph["runtime"].as_array().into_iter().flatten() {
        reported.insert((
            r["consumer"].as_str().unwrap_or_default().to_string(),
            r["interface"].as_str().unwrap_or_default().to_string(),
            format!("import {}", r["import"].as_str().unwrap_or_default()),
        ));
    }
    let app = std::fs::read(crate::root().join("fixtures/calc/target/weld/app.wasm"))?;
    let actual = instantiation_args(&app)?;
    assert!(
        actual
            .iter()
            .any(|(_, _, from)| from.starts_with("import wasi:")),
        "{actual:#?}"
    );
    assert_eq!(reported, actual);
    Ok(())
}

/// The instance arguments of each instantiation in a composed component, as (component, import
/// as it names it, `provider` or `import NAME` for an import of the app); instances are named by
/// the component-name section compose writes.
fn instantiation_args(
    bytes: &[u8],
) -> Result<std::collections::BTreeSet<(String, String, String)>, Failed> {
    use wasmparser::{
        Chunk, ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentName,
        ComponentTypeRef, KnownCustom, Parser, Payload,
    };
    enum Source {
        Import(String),
        Instantiated,
        Export(u32),
        Same(u32),
    }
    let mut instances: Vec<Source> = Vec::new();
    let mut instantiations: Vec<(u32, Vec<(String, u32)>)> = Vec::new();
    let mut names = std::collections::HashMap::new();
    let mut parser = Parser::new(0);
    let mut pos = 0;
    loop {
        let Chunk::Parsed { consumed, payload } = parser.parse(&bytes[pos..], true)? else {
            return Err("truncated".into());
        };
        pos += consumed;
        match payload {
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import?;
                    if let ComponentTypeRef::Instance(_) = import.ty {
                        instances.push(Source::Import(import.name.name.to_string()));
                    }
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                for instance in reader {
                    if let ComponentInstance::Instantiate { args, .. } = instance? {
                        let args = args
                            .iter()
                            .filter(|a| a.kind == ComponentExternalKind::Instance)
                            .map(|a| (a.name.to_string(), a.index))
                            .collect();
                        instantiations.push((instances.len() as u32, args));
                    }
                    instances.push(Source::Instantiated);
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    if let ComponentAlias::InstanceExport {
                        kind: ComponentExternalKind::Instance,
                        instance_index,
                        ..
                    } = alias?
                    {
                        instances.push(Source::Export(instance_index));
                    }
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    if export.kind == ComponentExternalKind::Instance {
                        instances.push(Source::Same(export.index));
                    }
                }
            }
            Payload::CustomSection(custom) => {
                if let KnownCustom::ComponentName(reader) = custom.as_known() {
                    for subsection in reader {
                        if let ComponentName::Instances(map) = subsection? {
                            for naming in map {
                                let naming = naming?;
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => pos = weld::check::sections::index(unchecked_range.end),
            Payload::End(_) => break,
            _ => {}
        }
    }
    let name = |i: u32| names.get(&i).cloned().unwrap_or_else(|| format!("#{i}"));
    let mut args = std::collections::BTreeSet::new();
    for (instance, given) in instantiations {
        for (import, mut index) in given {
            let from = loop {
                match &instances[index as usize] {
                    Source::Import(name) => break format!("import {name}"),
                    Source::Export(of) => break name(*of),
                    Source::Same(i) => index = *i,
                    Source::Instantiated => break name(index),
                }
            };
            args.insert((name(instance), import, from));
        }
    }
    Ok(args)
}

/// The example composes into one valid component, byte-identical every time; a failed compose
/// leaves the previous output untouched.
fn compose_is_deterministic_and_atomic() -> Result<(), Failed> {
    let out = weld()
        .args(["compose", "-C", "fixtures/calc", "--format", "json"])
        .output()?;
    crate::expect_code(&out, 0);
    let composed: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        composed["wired"].as_array().map(Vec::len),
        Some(2),
        "{composed:#}"
    );
    let app = crate::root().join("fixtures/calc/target/weld/app.wasm");
    let first = std::fs::read(&app)?;
    let items = world_items(&app)?;
    assert!(has(&items, "export wasi:cli/run@0.2"), "{items:?}");
    assert!(
        !has(&items, "import weld:example"),
        "everything of ours is wired inside: {items:?}"
    );
    // Each WASI interface once, whatever versions the three toolchains asked for.
    let mut bases: Vec<&str> = items
        .iter()
        .filter(|i| i.starts_with("import "))
        .map(|i| i.split('@').next().unwrap_or(i))
        .collect();
    let count = bases.len();
    bases.dedup();
    assert_eq!(
        bases.len(),
        count,
        "an interface is imported twice: {items:?}"
    );

    let again = weld()
        .args(["compose", "-C", "fixtures/calc", "-q"])
        .output()?;
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        std::fs::read(&app)?,
        first,
        "the same inputs must compose to the same bytes"
    );

    // A compose that is refused (a plug that plugs nothing) does not touch the output.
    let built = crate::root().join("fixtures/calc/target/weld");
    let refused = weld()
        .arg("compose")
        .arg(built.join("cli.wasm"))
        .args(["--plug"])
        .arg(built.join("arith.wasm"))
        .args(["--plug"])
        .arg(built.join("words.wasm"))
        .args(["--plug"])
        .arg(built.join("arith.wasm"))
        .arg("-o")
        .arg(&app)
        .output()?;
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
    assert_eq!(std::fs::read(&app)?, first);
    Ok(())
}

/// A copy of the Python provider built against WIT where `divide` takes `b: f32`: check names the
/// parameter and shows both types.
fn skewed_provider_is_explained() -> Result<(), Failed> {
    let dir = crate::scratch("skewed")?;
    std::fs::create_dir_all(dir.join("wit"))?;
    let wit = std::fs::read_to_string(crate::root().join("fixtures/calc/wit/calc.wit"))?;
    let skewed = wit.replace(
        "divide: func(a: f64, b: f64)",
        "divide: func(a: f64, b: f32)",
    );
    assert_ne!(wit, skewed, "the example's WIT changed: update this test");
    std::fs::write(dir.join("wit/calc.wit"), skewed)?;
    std::fs::write(
        dir.join("weld.toml"),
        format!(
            "[project]\nname = \"skewed\"\n\n[components.arith]\nlang = \"python\"\npath = {:?}\nworld = \"arith-provider\"\n",
            crate::root()
                .join("fixtures/calc/arith-py")
                .display()
                .to_string()
        ),
    )?;
    let (code, _, stderr) = build_json(&["-C", &dir.display().to_string()])?;
    assert_eq!(code, Some(0), "{stderr}");
    let built = crate::root().join("fixtures/calc/target/weld");
    let out = weld()
        .arg("check")
        .arg(built.join("cli.wasm"))
        .arg("--plug")
        .arg(dir.join("target/weld/arith.wasm"))
        .arg("--plug")
        .arg(built.join("words.wasm"))
        .args(["--format", "json"])
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let errors: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{report:#}");
    let e = errors[0];
    assert_eq!(e["code"], "incompatible-type");
    assert_eq!(e["consumer"], "cli.wasm");
    assert_eq!(e["provider"], "arith.wasm");
    assert_eq!(e["interface"], "weld:example/arith@0.1.0");
    assert_eq!(e["item"], "function `divide`, param `b`");
    assert_eq!(e["expected"], "f64");
    assert_eq!(e["found"], "f32");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The Rust-only example: a cdylib exporting an interface and a bin importing it.
fn hello_example() -> Result<(), Failed> {
    let (code, lines, stderr) = build_json(&["-C", "fixtures/hello"])?;
    assert_eq!(code, Some(0), "{stderr}");
    let out = crate::root().join("fixtures/hello/target/weld");
    let greeter = world_items(&out.join("greeter.wasm"))?;
    assert!(
        has(&greeter, "export weld:hello/greeter@0.1.0"),
        "{greeter:?}"
    );
    let hello = world_items(&out.join("hello.wasm"))?;
    assert!(has(&hello, "import weld:hello/greeter@0.1.0"), "{hello:?}");
    assert!(has(&hello, "export wasi:cli/run@0.2"), "{hello:?}");
    assert_eq!(lines.len(), 2);

    // `weld build NAME` builds just that one.
    let (code, lines, stderr) = build_json(&["-C", "fixtures/hello", "greeter"])?;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["name"], "greeter");
    assert_eq!(lines[0]["status"], "cached");

    let out = weld()
        .env("WELD_CACHE_DIR", crate::shared_cache())
        .args(["test", "-C", "fixtures/hello"])
        .output()?;
    crate::expect_code(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\n4 passed, 0 failed"), "{text}");

    // A copy of the project, target/ and all (`cp -a` keeps the times), whose WIT then changes:
    // cargo's records in the copied target/ still name the original's WIT, which has not
    // changed, yet the build must see the copy's and fail against the unchanged source.
    let copy = crate::scratch("hello-copy")?.join("hello");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(crate::root().join("fixtures/hello"))
        .arg(&copy)
        .status()?;
    assert!(status.success());
    let wit = copy.join("wit/hello.wit");
    let text = std::fs::read_to_string(&wit)?;
    std::fs::write(&wit, text.replace("greet: func", "salute: func"))?;
    let (code, lines, stderr) = build_json(&["-C", &copy.to_string_lossy()])?;
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(line(&lines, "greeter")["status"], "failed", "{stderr}");
    assert!(stderr.contains("salute"), "{stderr}");
    Ok(())
}

/// A tiny real component exporting `weld:t/api@1.0.0` with one function.
fn make_component(func: &str) -> Vec<u8> {
    super::component_from_wit(&format!(
        "package weld:t@1.0.0; interface api {{ {func}: func(); }} world w {{ export api; }}"
    ))
}

/// A project of two prebuilt components in a fresh directory.
fn two_component_project(name: &str) -> Result<PathBuf, Failed> {
    let dir = crate::scratch(name)?;
    std::fs::write(dir.join("a.wasm"), make_component("a"))?;
    std::fs::write(dir.join("b.wasm"), make_component("b"))?;
    std::fs::write(
        dir.join("weld.toml"),
        "[project]\nname = \"two\"\n\n[components.a]\nlang = \"wasm\"\npath = \"a.wasm\"\n\n[components.b]\nlang = \"wasm\"\npath = \"b.wasm\"\n",
    )?;
    Ok(dir)
}

fn cache_rebuilds_only_what_changed() -> Result<(), Failed> {
    let dir = two_component_project("cache")?;
    let manifest = dir.display().to_string();
    let (code, lines, stderr) = build_json(&["-C", &manifest])?;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(line(&lines, "a")["status"], "built");
    assert_eq!(line(&lines, "b")["status"], "built");

    let (_, lines, _) = build_json(&["-C", &manifest])?;
    assert_eq!(line(&lines, "a")["status"], "cached");
    assert_eq!(line(&lines, "b")["status"], "cached");

    // One input changes: only its component is rebuilt.
    std::fs::write(dir.join("b.wasm"), make_component("b2"))?;
    let (_, lines, _) = build_json(&["-C", &manifest])?;
    assert_eq!(line(&lines, "a")["status"], "cached");
    assert_eq!(line(&lines, "b")["status"], "built");

    // An output deleted behind weld's back is rebuilt; --force rebuilds everything.
    std::fs::remove_file(dir.join("target/weld/a.wasm"))?;
    let (_, lines, _) = build_json(&["-C", &manifest])?;
    assert_eq!(line(&lines, "a")["status"], "built");
    let (_, lines, _) = build_json(&["-C", &manifest, "--force"])?;
    assert_eq!(line(&lines, "a")["status"], "built");
    assert_eq!(line(&lines, "b")["status"], "built");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn failed_build_keeps_last_good_output() -> Result<(), Failed> {
    let dir = two_component_project("atomic")?;
    let manifest = dir.display().to_string();
    let (code, _, stderr) = build_json(&["-C", &manifest])?;
    assert_eq!(code, Some(0), "{stderr}");
    let good = std::fs::read(dir.join("target/weld/a.wasm"))?;

    // A truncated component fails validation and must not replace the good one.
    std::fs::write(dir.join("a.wasm"), &make_component("a")[..40])?;
    let (code, lines, _) = build_json(&["-C", &manifest])?;
    assert_eq!(code, Some(1));
    assert_eq!(line(&lines, "a")["status"], "failed");
    assert_eq!(
        line(&lines, "b")["status"],
        "cached",
        "the other component is unaffected"
    );
    assert_eq!(std::fs::read(dir.join("target/weld/a.wasm"))?, good);
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("target/weld"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A Rust package without Cargo.lock: cargo writes one on the first build, and the second build
/// is still a no-op (the lock file the build wrote is not a change to the sources).
fn first_cargo_lock_is_not_a_change() -> Result<(), Failed> {
    let dir = crate::scratch("no-lock")?;
    let package = dir.join("hello-rs");
    std::fs::create_dir_all(package.join("src"))?;
    let fixture = crate::root().join("fixtures/hello-http/hello-rs");
    for file in ["Cargo.toml", "src/lib.rs"] {
        std::fs::copy(fixture.join(file), package.join(file))?;
    }
    std::fs::write(
        dir.join("weld.toml"),
        "[project]\nname = \"nolock\"\n\n[components.hello]\nlang = \"rust\"\npath = \"hello-rs\"\n",
    )?;
    let dir_arg = dir.to_string_lossy().into_owned();
    let (code, lines, stderr) = build_json(&["-C", &dir_arg])?;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines[0]["status"], "built", "{lines:?}");
    assert!(
        package.join("Cargo.lock").is_file(),
        "cargo wrote no Cargo.lock"
    );
    let (code, lines, stderr) = build_json(&["-C", &dir_arg])?;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines[0]["status"], "cached", "{lines:?}");

    // A real change to the lock file is still a change.
    let lock = std::fs::read_to_string(package.join("Cargo.lock"))?;
    std::fs::write(package.join("Cargo.lock"), format!("{lock}\n"))?;
    let (_, lines, _) = build_json(&["-C", &dir_arg])?;
    assert_eq!(lines[0]["status"], "built", "{lines:?}");
    Ok(())
}
