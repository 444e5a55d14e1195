//! Go components built with stock Go: the polyglot fixture (a Go library called from Rust and
//! from Python, and a Go command), projects in componentize-go's layout, and the collector
//! inside `cabi_realloc` under load.

use std::path::Path;

use libtest_mimic::{Failed, Trial};

use crate::{expect_code, shared_cache, weld};

pub fn trials() -> Vec<Trial> {
    vec![
        crate::trial(
            "go::up_prints_every_kind_from_rust_and_python",
            up_prints_every_kind,
        ),
        crate::trial(
            "go::stress_100k_large_strings_under_default_gogc",
            stress_under_default_gogc,
        ),
        crate::trial(
            "go::componentize_go_layout_builds_unchanged_and_cached",
            componentize_go_layout,
        ),
    ]
}

/// `weld up` on the polyglot fixture: the Rust command line calls the Go library with every
/// kind of WIT value, and the Python report calls it too.
fn up_prints_every_kind() -> Result<(), Failed> {
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args(["up", "fixtures/polyglot"])
        .output()?;
    expect_code(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "translate: (11, -18)\n\
         shout-name: Some(\"ADA\") None None\n\
         sum-positive: Ok(6) Err(\"-5 is negative\")\n\
         area: 12 12 0\n\
         next-color: [Color::Green, Color::Blue, Color::Red]\n\
         read-only: Access(READ | EXECUTE)\n\
         reverse: 5 [111, 108, 108, 101, 104]\n\
         split-words: [\"to\", \"be\", \"or\", \"not\"]\n\
         counter: 20\n\
         report: sum 6, 5 bytes as text, counter 106, from PYTHON\n\
         report: no sum (-8 is negative), 4 bytes as text, counter 113, from PYTHON\n"
    );
    Ok(())
}

/// 100,000 calls that pass strings of up to 64 KiB into the Go library, with Go's default GOGC
/// (the guest sees no host variables) and memory bounded at 128 MiB for the whole app: the
/// collections that run inside `cabi_realloc` no longer call out of the component, which
/// trapped after ~1,800 calls (wasmtime#14318).
fn stress_under_default_gogc() -> Result<(), Failed> {
    let built = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args(["up", "fixtures/polyglot"])
        .output()?;
    expect_code(&built, 0);
    let out = weld()
        .env("WELD_CACHE_DIR", shared_cache())
        .args([
            "run",
            "-C",
            "fixtures/polyglot",
            "--max-memory",
            "128MiB",
            "--",
        ])
        .args(["stress", "100000"])
        .output()?;
    expect_code(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("stress: 100000 calls, ") && stdout.ends_with(" bytes echoed intact\n"),
        "{stdout}"
    );
    let bytes: u64 = stdout
        .split_whitespace()
        .nth(3)
        .and_then(|n| n.parse().ok())
        .ok_or("no byte count")?;
    // ~3.2 GB went through a 128 MiB limit: the collector ran, many times over.
    assert!(bytes > 20 * 128 * 1024 * 1024, "{bytes}");
    Ok(())
}

/// Go components written as componentize-go's users write them, with no go.mod: the Component
/// Model docs' adder (`package export_docs_adder_add`), a command that implements
/// `wasi:cli/run` itself and calls the adder, and a plain `package main` command whose world
/// only imports the adder. weld builds and composes them, runs the commands, writes nothing
/// into their directories, and rebuilds only what changed.
fn componentize_go_layout() -> Result<(), Failed> {
    let dir = crate::scratch("componentize-go")?;
    let write = |path: &str, text: &str| -> Result<(), Failed> {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(path, text)?;
        Ok(())
    };
    write(
        "wit/adder.wit",
        "package docs:adder@0.1.0;\n\n\
         interface add {\n    add: func(x: u32, y: u32) -> u32;\n}\n\n\
         world adder {\n    export add;\n}\n\n\
         world runner {\n    include wasi:cli/imports@0.2.0;\n    import add;\n    export wasi:cli/run@0.2.0;\n}\n\n\
         world caller {\n    import add;\n}\n",
    )?;
    write(
        "adder/export_docs_adder_add/add.go",
        "package export_docs_adder_add\n\nfunc Add(x uint32, y uint32) uint32 {\n\treturn x + y\n}\n",
    )?;
    write(
        "runner/export_wasi_cli_run/run.go",
        "package export_wasi_cli_run\n\n\
         import (\n\t\"fmt\"\n\n\t\"wit_component/docs_adder_add\"\n\n\t. \"go.bytecodealliance.org/pkg/wit/types\"\n)\n\n\
         func Run() Result[Unit, Unit] {\n\tfmt.Println(\"2 + 3 =\", docs_adder_add.Add(2, 3))\n\treturn Ok[Unit, Unit](Unit{})\n}\n",
    )?;
    write(
        "caller/main.go",
        "package main\n\n\
         import (\n\t\"fmt\"\n\t\"os\"\n\n\t\"wit_component/docs_adder_add\"\n)\n\n\
         func main() {\n\tfmt.Println(\"caller:\", docs_adder_add.Add(40, 2), os.Args[1:])\n}\n",
    )?;
    write(
        "weld.toml",
        "[project]\nname = \"adder\"\nwit = \"wit\"\n\n\
         [components.adder]\nlang = \"go\"\npath = \"adder\"\nworld = \"adder\"\n\n\
         [components.runner]\nlang = \"go\"\npath = \"runner\"\nworld = \"runner\"\n\n\
         [components.caller]\nlang = \"go\"\npath = \"caller\"\nworld = \"caller\"\n\n\
         [compose]\nroot = \"runner\"\nplugs = [\"adder\"]\n\n\
         [[test]]\nname = \"adds\"\ntarget = \"adder\"\ninvoke = \"add(2, 3)\"\nexpect = \"5\"\n",
    )?;
    let sources = |sub: &str| crate::files_under(&dir.join(sub));
    let before = (sources("adder"), sources("runner"), sources("caller"));

    let out = weld().arg("-v").arg("up").arg(&dir).output()?;
    expect_code(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2 + 3 = 5\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("as 2 parts") || stderr.contains("parts"),
        "{stderr}"
    );
    assert_eq!(
        (sources("adder"), sources("runner"), sources("caller")),
        before,
        "weld wrote into the Go sources"
    );
    // The import-only world is a command: `main` runs, with its arguments.
    let target = dir.join("target/weld");
    let caller_app = dir.join("caller-app.wasm");
    let out = weld()
        .arg("compose")
        .arg(target.join("caller.wasm"))
        .arg("--plug")
        .arg(target.join("adder.wasm"))
        .arg("-o")
        .arg(&caller_app)
        .output()?;
    expect_code(&out, 0);
    let out = weld()
        .arg("run")
        .arg(&caller_app)
        .args(["--", "a", "b"])
        .output()?;
    expect_code(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "caller: 42 [a b]\n");
    for generated in [
        "target/weld/go/adder/bindings/wit_exports.go",
        "target/weld/go/runner/bindings/docs_adder_add/wit_bindings.go",
        "target/weld/go/runner/pkg/go.mod",
    ] {
        assert!(
            dir.join(generated).is_file(),
            "{generated} was not generated"
        );
    }
    let test = weld().arg("test").arg("-C").arg(&dir).output()?;
    expect_code(&test, 0);

    // Nothing changed: nothing is built. A changed Go file: that component alone.
    let built = |out: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("Built "))
            .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
            .collect()
    };
    let again = weld().arg("build").arg("-C").arg(&dir).output()?;
    expect_code(&again, 0);
    assert_eq!(built(&again), Vec::<String>::new());
    write(
        "adder/export_docs_adder_add/add.go",
        "package export_docs_adder_add\n\nfunc Add(x uint32, y uint32) uint32 {\n\treturn x + y + 1\n}\n",
    )?;
    let out = weld().arg("up").arg(&dir).output()?;
    expect_code(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2 + 3 = 6\n");
    assert_eq!(built(&out), ["adder"]);
    assert!(!Path::new(&dir.join("adder/go.mod")).exists());

    // Code that disagrees with the world: the stubs the help names are written then.
    let stubs = dir.join("target/weld/go/adder/stubs/export_docs_adder_add/wit_bindings.go");
    assert!(!stubs.exists(), "stubs are written only for a failed build");
    write(
        "adder/export_docs_adder_add/add.go",
        "package export_docs_adder_add\n\nfunc Add(x uint32) uint32 {\n\treturn x\n}\n",
    )?;
    let out = weld().arg("build").arg("-C").arg(&dir).output()?;
    expect_code(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("target/weld/go/adder/stubs"), "{stderr}");
    let stub = std::fs::read_to_string(&stubs)?;
    assert!(
        stub.contains("func Add(_x uint32, _y uint32) uint32"),
        "{stub}"
    );
    Ok(())
}
