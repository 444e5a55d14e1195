//! `weld::host` through its public API only, as an application embedding weld uses it: the
//! plugins in fixtures/plugins (one per language, hostile ones, misfits) are built once through
//! `Host::build_component`, then loaded, refused, called, contained and replaced.
//!
//! Hermetic like tests/cli.rs: before any thread starts, `$HOME` is an empty stand-in (checked
//! untouched at the end) and `$WELD_CACHE_DIR` a temporary directory; weld's toolchains, cargo
//! and rustup are read from where they were installed.

#[path = "support/shared.rs"]
mod shared;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use shared::record_time;
use weld::host::{CallError, Compiler, Host, HostError, Limit, Plugin, Val};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn project() -> PathBuf {
    root().join("fixtures/plugins")
}

fn wit() -> PathBuf {
    project().join("wit")
}

/// The component file `weld build` wrote for plugin `name`.
fn built(name: &str) -> PathBuf {
    project().join(format!("target/weld/{name}.wasm"))
}

/// Every plugin of the fixture project, built once for all trials. A misfit builds (against its
/// own WIT) and is then refused on load: that refusal is the trials' business.
fn build_all() -> Result<(), String> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let (host, _) = logging_host().map_err(|e| format!("{e:?}"))?;
            for name in [
                "shout",
                "title",
                "reverse",
                "rot13",
                "spin",
                "bomb",
                "snoop",
                "wrong-type",
                "greedy",
                "elsewhere",
            ] {
                match host.build_component(project(), name) {
                    Ok(_) | Err(HostError::Misfit { .. }) => {}
                    Err(e) => return Err(format!("{name}: {e}")),
                }
            }
            Ok(())
        })
        .clone()
}

fn trial(name: &str, test: fn() -> Result<(), Failed>) -> Trial {
    let timed = name.to_string();
    Trial::test(name, move || {
        let start = std::time::Instant::now();
        build_all()?;
        let result = test();
        record_time(&timed, start.elapsed());
        result
    })
}

fn main() {
    let scratch = tempfile::Builder::new()
        .prefix("weld-host-test-")
        .tempdir()
        .expect("a temporary directory");
    let home = scratch.path().join("home");
    std::fs::create_dir(&home).expect("a stand-in home");
    let toolchains = shared::Toolchains::find();
    // SAFETY: no other thread exists yet.
    unsafe {
        std::env::set_var("CARGO_HOME", &toolchains.cargo_home);
        std::env::set_var("RUSTUP_HOME", &toolchains.rustup_home);
        std::env::set_var("WELD_HOME", &toolchains.weld_home);
        std::env::set_var("WELD_CACHE_DIR", scratch.path().join("cache"));
        std::env::set_var("HOME", &home);
        for xdg in [
            "XDG_CACHE_HOME",
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "XDG_STATE_HOME",
        ] {
            std::env::remove_var(xdg);
        }
    }
    let args = Arguments::from_args();
    let trials = vec![
        trial("host::each_language_loads_and_answers", each_language),
        trial(
            "host::misfits_are_refused_in_wit_words_before_compiling",
            misfits,
        ),
        trial("host::hostile_plugins_are_contained", hostile),
        trial("host::grants_are_what_the_host_gives", grants),
        trial(
            "host::a_failing_host_function_traps_the_call",
            failing_import,
        ),
        trial("host::bad_input_is_a_clear_error", bad_input),
        trial("host::eight_threads_a_thousand_calls_each", many_threads),
        trial("host::a_plugin_replaced_under_load", replaced),
        trial("host::winch_and_the_compiled_code_cache", winch_and_cache),
        trial("host::build_names_the_component", build_errors),
    ];
    let conclusion = libtest_mimic::run(&args, trials);
    let written: Vec<_> = walk(&home);
    assert!(
        written.is_empty(),
        "the tests wrote into $HOME, which must stay untouched: {written:?}"
    );
    conclusion.exit();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        found.push(entry.path());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(walk(&entry.path()));
        }
    }
    found
}

/// What plugins wrote to the host's log.
type Log = Arc<Mutex<Vec<String>>>;

/// A host with a `log` that keeps what plugins write.
fn logging_host() -> Result<(Host, Log), Failed> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let kept = lines.clone();
    let host =
        Host::new(wit(), "plugin")?.func("example:text/log@0.1.0", "log", move |args| match args {
            [Val::String(line)] => {
                kept.lock().expect("not poisoned").push(line.clone());
                Ok(vec![])
            }
            other => Err(format!("log takes one string, got {other:?}")),
        });
    Ok((host, lines))
}

fn each_language() -> Result<(), Failed> {
    let (host, lines) = logging_host()?;
    for (name, expected, logged) in [
        ("shout", r#""HELLO, WORLD""#, "shout: 12 bytes"),
        ("title", r#""Hello, World""#, "title: 12 characters"),
        ("reverse", r#""dlrow ,olleh""#, "reverse: 12 characters"),
        ("rot13", r#""uryyb, jbeyq""#, "rot13: 12 bytes"),
    ] {
        let plugin = host.load(built(name))?;
        assert_eq!(plugin.name(), name);
        assert_eq!(
            plugin.call(r#"transform("hello, world")"#)?,
            expected,
            "{name}"
        );
        // The interface-qualified spelling reaches the same export.
        assert_eq!(
            plugin.call(r#"transform.transform("hello, world")"#)?,
            expected,
            "{name}"
        );
        let values = plugin.call_values("transform", &[Val::String("hello, world".into())])?;
        assert_eq!(
            values,
            [Val::String(expected.trim_matches('"').to_string())],
            "{name}"
        );
        let seen = lines.lock().expect("not poisoned").clone();
        assert!(
            seen.iter().filter(|l| *l == logged).count() >= 3,
            "{name} logged {seen:?}"
        );
    }
    Ok(())
}

fn misfits() -> Result<(), Failed> {
    let cache = tempfile::tempdir()?;
    let (host, _) = logging_host()?;
    let host = host.cache_dir(Some(cache.path().to_path_buf()));
    for (name, says) in [
        (
            "wrong-type",
            [
                "error[incompatible-type]: `wrong-type` exports example:text/transform@0.1.0, but not as world `plugin` defines it: function `transform`, param `input`: the types differ",
                "world `plugin` says:  string",
                "wrong-type has:",
            ],
        ),
        (
            "greedy",
            [
                "error[import-not-in-world]: `greedy` imports example:text/secrets@0.1.0, which world `plugin` does not import",
                "help: add `import example:text/secrets;` to world `plugin`",
                "",
            ],
        ),
        (
            "elsewhere",
            [
                "error[missing-export]: `elsewhere` does not export example:text/transform@0.1.0, which world `plugin` requires",
                "help: implement example:text/transform@0.1.0 in `elsewhere`",
                "",
            ],
        ),
    ] {
        let err = host
            .load(built(name))
            .expect_err("a misfit must be refused");
        let HostError::Misfit {
            plugin,
            explanation,
            findings,
            ..
        } = &err
        else {
            panic!("{name}: not a misfit: {err}");
        };
        assert_eq!(plugin, name);
        assert!(!findings.is_empty());
        for line in says {
            assert!(explanation.contains(line), "{name}: {explanation}");
        }
        assert!(err.to_string().contains(explanation.as_str()));
    }
    // Nothing of a misfit was compiled: the cache is still empty. A plugin that fits is.
    assert!(walk(cache.path()).is_empty(), "{:?}", walk(cache.path()));
    host.load(built("shout"))?;
    assert!(!walk(cache.path()).is_empty());
    Ok(())
}

fn hostile() -> Result<(), Failed> {
    let (host, _) = logging_host()?;
    let host = host
        .timeout(Duration::from_millis(500))
        .max_memory(64 << 20);
    let shout = host.load(built("shout"))?;
    let spin = host.load(built("spin"))?;
    let bomb = host.load(built("bomb"))?;
    for _ in 0..2 {
        match spin.call(r#"transform("x")"#) {
            Err(CallError::Limit {
                plugin,
                limit: Limit::Deadline(d),
            }) => {
                assert_eq!(plugin, "spin");
                assert_eq!(d, Duration::from_millis(500));
            }
            other => panic!("spin: {other:?}"),
        }
        let err = bomb
            .call(r#"transform("x")"#)
            .expect_err("the bomb must be stopped");
        match &err {
            CallError::Limit {
                plugin,
                limit: Limit::Memory { limit, requested },
            } => {
                assert_eq!(plugin, "bomb");
                assert_eq!(*limit, 64 << 20);
                assert!(requested > limit);
            }
            other => panic!("bomb: {other:?}"),
        }
        assert!(
            err.to_string().contains("over its limit of 64 MiB"),
            "{err}"
        );
        // The host goes on.
        assert_eq!(shout.call(r#"transform("still here")"#)?, r#""STILL HERE""#);
    }
    Ok(())
}

fn grants() -> Result<(), Failed> {
    let secret = tempfile::tempdir()?;
    std::fs::write(secret.path().join("note.txt"), "granted text")?;
    let note = secret.path().join("note.txt");
    // Nothing granted: no file (not even by its host path), no environment, no root.
    let host = Host::new(wit(), "plugin")?;
    let snoop = host.load(built("snoop"))?;
    let said = snoop.call(&format!("transform({:?})", note.display().to_string()))?;
    assert!(said.contains("no file"), "{said}");
    assert!(said.contains("no HOME"), "{said}");
    assert!(!said.contains("granted text"), "{said}");
    // What the host grants, the plugin gets, where the host says.
    let host = Host::new(wit(), "plugin")?
        .grant_dir(secret.path(), "/data", false)
        .grant_env("HOME", "/data");
    let snoop = host.load(built("snoop"))?;
    let said = snoop.call(r#"transform("/data/note.txt")"#)?;
    assert!(said.contains("read 12 bytes: granted text"), "{said}");
    assert!(said.contains("HOME=/data"), "{said}");
    Ok(())
}

fn failing_import() -> Result<(), Failed> {
    // A log the application forgot to give is its omission, named before anything compiles.
    match Host::new(wit(), "plugin")?.load(built("shout")) {
        Err(HostError::Unprovided { plugin, missing }) => {
            assert_eq!(plugin, "shout");
            assert_eq!(missing, ["`log` of example:text/log@0.1.0"]);
        }
        other => panic!("{other:?}"),
    }
    // A plugin that imports nothing of the host's needs nothing given.
    Host::new(wit(), "plugin")?.load(built("spin"))?;
    let host = Host::new(wit(), "plugin")?.func("example:text/log@0.1.0", "log", |_| {
        Err("the log is full".to_string())
    });
    let shout = host.load(built("shout"))?;
    match shout.call(r#"transform("x")"#) {
        Err(CallError::Trap { plugin, trap }) => {
            assert_eq!(plugin, "shout");
            assert!(trap.message.contains("the log is full"), "{}", trap.message);
        }
        other => panic!("{other:?}"),
    }
    Ok(())
}

fn bad_input() -> Result<(), Failed> {
    let (host, _) = logging_host()?;
    for (bytes, says) in [
        (b"not wasm at all".to_vec(), "not a component"),
        (
            b"\0asm\x01\0\0\0".to_vec(),
            "core WebAssembly module, not a component",
        ),
        (
            b"\0asm\x0d\0\x01\0\x07".to_vec(),
            "the component is truncated",
        ),
    ] {
        match host.load_bytes("junk", bytes) {
            Err(HostError::Invalid { plugin, message }) => {
                assert_eq!(plugin, "junk");
                assert!(message.contains(says), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
    match host.load(root().join("no/such/plugin.wasm")) {
        Err(HostError::Invalid { message, .. }) => {
            assert!(message.contains("cannot read"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let shout = host.load(built("shout"))?;
    for (call, says) in [
        (r#"transfrom("x")"#, "transform"),
        ("transform(1)", "argument 1 (`input`)"),
        ("transform(", ""),
    ] {
        match shout.call(call) {
            Err(CallError::Usage { plugin, message }) => {
                assert_eq!(plugin, "shout");
                assert!(message.contains(says), "{call}: {message}");
            }
            other => panic!("{call}: {other:?}"),
        }
    }
    match shout.call_values("transform", &[Val::U32(1)]) {
        Err(CallError::Usage { .. }) | Err(CallError::Trap { .. }) => {}
        other => panic!("{other:?}"),
    }
    match shout.call_values("transform", &[]) {
        Err(CallError::Usage { message, .. }) => {
            assert!(message.contains("takes 1 arguments, 0 given"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    for (dir, world, says) in [
        (root().join("no/such/wit"), "plugin", "no/such/wit"),
        (wit(), "plugins", "world `plugins` is not in"),
    ] {
        match Host::new(&dir, world) {
            Err(HostError::Wit { message }) => assert!(message.contains(says), "{message}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
    Ok(())
}

fn many_threads() -> Result<(), Failed> {
    let (host, lines) = logging_host()?;
    let shout = host.load(built("shout"))?;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let shout = shout.clone();
                s.spawn(move || -> Result<(), String> {
                    for i in 0..1000 {
                        let text = format!("thread {t} call {i}");
                        let got = shout
                            .call_values("transform", &[Val::String(text.clone())])
                            .map_err(|e| e.to_string())?;
                        if got != [Val::String(text.to_uppercase())] {
                            return Err(format!("{text}: {got:?}"));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().expect("no panic")?;
        }
        Ok::<(), String>(())
    })?;
    assert_eq!(lines.lock().expect("not poisoned").len(), 8000);
    Ok(())
}

fn replaced() -> Result<(), Failed> {
    let (host, _) = logging_host()?;
    let versions: Vec<Plugin> = ["shout", "rot13", "shout", "title"]
        .into_iter()
        .map(|n| host.load(built(n)))
        .collect::<Result<_, _>>()?;
    let current = RwLock::new(versions[0].clone());
    let done = std::sync::atomic::AtomicBool::new(false);
    let valid = [r#""ABC DEF""#, r#""nop qrs""#, r#""Abc Def""#];
    std::thread::scope(|s| {
        let callers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| -> Result<usize, String> {
                    let mut calls = 0;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) || calls == 0 {
                        // The call finishes on the version it took, whatever replaces it.
                        let plugin = current.read().expect("not poisoned").clone();
                        let got = plugin
                            .call(r#"transform("abc def")"#)
                            .map_err(|e| e.to_string())?;
                        if !valid.contains(&got.as_str()) {
                            return Err(format!("{}: {got}", plugin.name()));
                        }
                        calls += 1;
                    }
                    Ok(calls)
                })
            })
            .collect();
        for v in versions.iter().cycle().take(40) {
            *current.write().expect("not poisoned") = v.clone();
            std::thread::sleep(Duration::from_millis(25));
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in callers {
            c.join().expect("no panic")?;
        }
        Ok::<(), String>(())
    })?;
    Ok(())
}

fn winch_and_cache() -> Result<(), Failed> {
    let cache = tempfile::tempdir()?;
    for compiler in [Compiler::Winch, Compiler::Cranelift] {
        let (host, _) = logging_host()?;
        let host = host
            .compiler(compiler)
            .cache_dir(Some(cache.path().to_path_buf()));
        let shout = host.load(built("shout"))?;
        assert_eq!(shout.call(r#"transform("ok")"#)?, r#""OK""#);
        // Loaded again, from the cache.
        let again = host.load_bytes("shout-again", std::fs::read(built("shout"))?)?;
        assert_eq!(again.call(r#"transform("ok")"#)?, r#""OK""#);
    }
    let dirs: Vec<String> = walk(&cache.path().join("compiled"))
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .collect();
    assert!(dirs.iter().any(|d| d.starts_with("winch")), "{dirs:?}");
    assert!(dirs.iter().any(|d| d.starts_with("cranelift")), "{dirs:?}");
    Ok(())
}

fn build_errors() -> Result<(), Failed> {
    let (host, _) = logging_host()?;
    match host.build(project()) {
        Err(HostError::Build { message, .. }) => {
            assert!(message.contains("declares 10 components"), "{message}");
            assert!(message.contains("build_component"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match host.build_component(project(), "shuot") {
        Err(HostError::Build { message, .. }) => {
            assert!(message.contains("no component `shuot`"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // Built already: the pipeline finds it current, and the plugin loads.
    let shout = host.build_component(project(), "shout")?;
    assert_eq!(shout.call(r#"transform("built")"#)?, r#""BUILT""#);
    Ok(())
}
