//! A standing corpus of bad inputs, made by a seeded generator on every run: real components
//! truncated at every section boundary, with bytes flipped, with sizes declared past the end;
//! broken weld.toml, WIT, WAC and WAVE; special files given as input and output. Each goes
//! through every command that reads that kind of input.
//!
//! For every case weld must exit 1 or 2 (0 only where a mutation may leave a valid input, never
//! 101 or a signal), name the input in its message, and finish within a bound.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::Failed;

use crate::{root, weld};

/// No case may run longer than this.
const BOUND: Duration = Duration::from_secs(5);

/// Fixed, so that a failure reproduces.
const SEED: u64 = 0x5EED_0FBA_D1A9;

/// How many cases at least (the floor).
const AT_LEAST: usize = 300;

/// Cases run at once.
const WORKERS: usize = 4;

/// One bad input and what to run on it.
struct Case {
    /// What the case is, for failure messages.
    what: String,
    /// weld's arguments.
    args: Vec<String>,
    /// Whether a valid input might remain (a random flip may hit a name): exit 0 is allowed.
    may_pass: bool,
    /// Text the message must contain (the input's name) when weld refuses.
    names: String,
}

pub fn corpus() -> Result<(), Failed> {
    let dir = crate::scratch("corpus")?;
    let mut cases = Vec::new();
    let mut rng = fastrand::Rng::with_seed(SEED);
    components(&dir, &mut rng, &mut cases)?;
    manifests(&dir, &mut cases)?;
    wit(&dir, &mut cases)?;
    wac(&dir, &mut cases)?;
    wave(&mut cases);
    special(&dir, &mut cases)?;
    assert!(cases.len() >= AT_LEAST, "only {} cases", cases.len());
    // Most of a case is waiting for a process: a few at a time. The commands are made here,
    // on the trial's thread, which holds its isolated environment.
    let commands: Vec<(&Case, Command)> = cases
        .iter()
        .map(|case| {
            let mut command = weld();
            command.args(&case.args);
            (case, command)
        })
        .collect();
    let mut shares: Vec<Vec<(&Case, Command)>> = (0..WORKERS).map(|_| Vec::new()).collect();
    for (i, item) in commands.into_iter().enumerate() {
        shares[i % WORKERS].push(item);
    }
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .map(|share| {
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for (case, command) in share {
                        if let Err(why) = run(case, command) {
                            let command = case.args.join(" ");
                            let command: String = command.chars().take(160).collect();
                            let why: String = why.chars().take(600).collect();
                            failures.push(format!("{}: `weld {command}`: {why}", case.what));
                        }
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a corpus worker does not panic"))
            .collect()
    });
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} cases failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        )
        .into())
    }
}

/// Runs one case (`command`, weld with its arguments) within [`BOUND`] and judges it.
fn run(case: &Case, mut command: Command) -> Result<(), String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start weld: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {BOUND:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // Findings go to stdout, diagnostics to stderr: the input may be named in either. (Outputs
    // are small: a case that printed more than a pipe holds would show as a timeout.)
    let mut stderr = String::new();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut pipe = pipe;
        let _ = pipe.read_to_string(&mut stderr);
    }
    match status.code() {
        Some(0) if case.may_pass => Ok(()),
        Some(1 | 2) if stderr.contains(&case.names) => Ok(()),
        Some(1 | 2) => Err(format!(
            "the message does not name `{}`:\n{stderr}",
            case.names
        )),
        Some(code) => Err(format!("exit {code}:\n{stderr}")),
        None => Err(format!("killed by a signal:\n{stderr}")),
    }
}

fn case(what: impl Into<String>, args: &[&str], names: &str, may_pass: bool) -> Case {
    Case {
        what: what.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        may_pass,
        names: names.to_string(),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<String, Failed> {
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    Ok(path.display().to_string())
}

/// Where each section of a component starts, at every depth (inside nested modules and
/// components too), and where each ends.
fn section_bounds(bytes: &[u8]) -> Vec<usize> {
    let mut bounds = Vec::new();
    let mut parser = wasmparser::Parser::new(0);
    // The parsers of the modules and components being read, innermost last.
    let mut stack = Vec::new();
    let mut pos = 0;
    while let Ok(wasmparser::Chunk::Parsed { consumed, payload }) =
        parser.parse(&bytes[pos..], true)
    {
        // Function bodies are entries of the code section, not sections.
        if !matches!(payload, wasmparser::Payload::CodeSectionEntry(_)) {
            bounds.push(pos);
        }
        pos += consumed;
        match payload {
            wasmparser::Payload::ModuleSection { parser: inner, .. }
            | wasmparser::Payload::ComponentSection { parser: inner, .. } => {
                stack.push(std::mem::replace(&mut parser, inner));
            }
            wasmparser::Payload::End(_) => {
                bounds.push(pos);
                match stack.pop() {
                    Some(outer) => parser = outer,
                    None => break,
                }
            }
            _ => {}
        }
    }
    bounds.sort_unstable();
    bounds.dedup();
    bounds
}

/// Whether the reference validator accepts `bytes`: wasmparser (the version wasm-tools 1.263
/// is built on) with every feature, and `wasm-tools validate` too where it is installed. weld
/// may refuse what they accept (a name WIT cannot hold), never accept what they refuse.
fn oracle_accepts(bytes: &[u8], file: &str) -> bool {
    let library = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .is_ok();
    let tool = wasm_tools().is_none_or(|tool| {
        Command::new(tool)
            .args(["validate", "--features", "all", file])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    library && tool
}

/// wasm-tools, where installed: on PATH, or in benches/.tools (benches/common.sh).
fn wasm_tools() -> Option<&'static Path> {
    static FOUND: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            let local = root().join("benches/.tools/bin/wasm-tools");
            if local.is_file() {
                return Some(local);
            }
            let on_path = Command::new("wasm-tools")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            on_path.then(|| PathBuf::from("wasm-tools"))
        })
        .as_deref()
}

/// A component of `depth` components nested in each other: over the validator's limit of
/// 1,000 modules and components when `depth` exceeds it.
fn nested(depth: usize) -> Vec<u8> {
    let mut component = wasm_encoder::Component::new();
    for _ in 0..depth {
        let mut outer = wasm_encoder::Component::new();
        outer.section(&wasm_encoder::NestedComponentSection(&component));
        component = outer;
    }
    component.finish()
}

/// Components cut, flipped, oversized and nested too deep, through check, wit, run and
/// compose. Each is judged against the reference validator: what it refuses, weld must refuse.
fn components(dir: &Path, rng: &mut fastrand::Rng, cases: &mut Vec<Case>) -> Result<(), Failed> {
    let sources = root().join("tests/cli/check/components");
    let app = std::fs::read(sources.join("app.wasm"))?;
    let arith = std::fs::read(sources.join("arith.wasm"))?;
    // A real wit-bindgen component: its core module nests a dozen sections of its own.
    let types = std::fs::read(super::run::guests()?.join("types.wasm"))?;
    let arith_path = sources.join("arith.wasm").display().to_string();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    // Truncated at every section boundary, at every depth (a prefix of whole top-level
    // sections may be a valid, smaller component), and one byte either side of each.
    for (base, bytes) in [("app", &app), ("arith", &arith), ("types", &types)] {
        let mut cuts: Vec<usize> = section_bounds(bytes)
            .into_iter()
            .flat_map(|b| [b.saturating_sub(1), b, b + 1])
            .filter(|cut| *cut > 0 && *cut < bytes.len())
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            files.push((format!("{base}-cut-{cut}.wasm"), bytes[..cut].to_vec()));
        }
    }
    // Single bits flipped anywhere: a flip in a name may leave a valid component.
    for i in 0..60 {
        let mut bytes = arith.clone();
        let at = rng.usize(8..bytes.len());
        bytes[at] ^= 1 << rng.u8(0..8);
        files.push((format!("arith-flip-{i}-{at}.wasm"), bytes));
    }
    // Sections that declare more than the file holds: custom, type and nested module.
    for (i, (id, size)) in [
        (0u8, u32::MAX),
        (0, 1 << 31),
        (7, u32::MAX),
        (1, u32::MAX),
        (4, 1 << 30),
    ]
    .into_iter()
    .enumerate()
    {
        let mut bytes = app.clone();
        bytes.push(id);
        let mut leb = Vec::new();
        wasm_encoder::Encode::encode(&size, &mut leb);
        bytes.extend(leb);
        bytes.extend([0u8; 4]);
        files.push((format!("app-declares-{i}.wasm"), bytes));
    }
    // Past the validator's limit on modules and components.
    files.push(("nested-1001.wasm".into(), nested(1001)));
    for (name, bytes) in files {
        let path = write(dir, &name, &bytes)?;
        let may_pass = oracle_accepts(&bytes, &path);
        assert!(
            !(may_pass && name.starts_with("nested")),
            "the validator accepts {name}: the case no longer tests its limit"
        );
        for args in [
            vec!["check", path.as_str()],
            vec!["wit", path.as_str()],
            vec!["run", path.as_str(), "--invoke", "run()"],
            vec!["compose", path.as_str(), "--plug", &arith_path, "-o"],
            vec!["compose", &arith_path, "--plug", path.as_str(), "-o"],
        ] {
            let mut args = args.clone();
            let out = dir
                .join(format!("{name}.composed.wasm"))
                .display()
                .to_string();
            if args[0] == "compose" {
                args.push(&out);
            }
            cases.push(case(format!("component {name}"), &args, &name, may_pass));
        }
    }
    Ok(())
}

/// weld.toml files that are wrong in every way the schema can be, through plan and check.
fn manifests(dir: &Path, cases: &mut Vec<Case>) -> Result<(), Failed> {
    let valid = "[project]\nname = \"p\"\n\n[components.a]\nlang = \"wasm\"\npath = \"a.wasm\"\n";
    let broken: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("syntax", b"[project\nname = \"p\"\n".to_vec()),
        ("unclosed-string", b"[project]\nname = \"p\n".to_vec()),
        ("no-project", b"[components.a]\nlang = \"wasm\"\npath = \"a.wasm\"\n".to_vec()),
        ("unknown-key", format!("{valid}colour = 1\n").into_bytes()),
        ("unknown-section", format!("{valid}[deploy]\nx = 1\n").into_bytes()),
        ("name-type", b"[project]\nname = 5\n".to_vec()),
        ("lang-type", b"[project]\nname = \"p\"\n[components.a]\nlang = [1]\npath = \"a.wasm\"\n".to_vec()),
        ("unknown-lang", b"[project]\nname = \"p\"\n[components.a]\nlang = \"cobol\"\npath = \"a\"\n".to_vec()),
        ("missing-path", b"[project]\nname = \"p\"\n[components.a]\nlang = \"wasm\"\npath = \"nope.wasm\"\n".to_vec()),
        ("escape", b"[project]\nname = \"p\"\n[components.a]\nlang = \"wasm\"\npath = \"../../../../../../etc/passwd\"\n".to_vec()),
        ("root-unknown", format!("{valid}[compose]\nroot = \"nobody\"\n").into_bytes()),
        ("plug-self", format!("{valid}[compose]\nroot = \"a\"\nplugs = [\"a\"]\n").into_bytes()),
        ("huge-timeout", format!("{valid}[run]\ntimeout = \"99999999999999999999h\"\n").into_bytes()),
        ("huge-memory", format!("{valid}[run]\nmax-memory = \"18446744073709551615GiB\"\n").into_bytes()),
        ("zero-timeout", format!("{valid}[run]\ntimeout = \"0s\"\n").into_bytes()),
        ("neg-number", format!("{valid}[run]\ntimeout = -5\n").into_bytes()),
        ("bad-duration", format!("{valid}[run]\ntimeout = \"1..5s\"\n").into_bytes()),
        ("empty-output", format!("{valid}[compose]\nroot = \"a\"\noutput = \"\"\n").into_bytes()),
        ("dup-key", b"[project]\nname = \"p\"\nname = \"q\"\n".to_vec()),
        ("dup-table", b"[project]\nname = \"p\"\n[project]\nname = \"q\"\n".to_vec()),
        ("non-utf8", b"[project]\nname = \"\xff\xfe\"\n".to_vec()),
        ("nul", b"[project]\x00name = \"p\"\n".to_vec()),
        ("bad-env", format!("{valid}[run]\nenv = {{ \"A=B\" = \"x\" }}\n").into_bytes()),
        ("bad-net", format!("{valid}[run]\nallow-net = [\"nowhere\"]\n").into_bytes()),
        ("bad-test", format!("{valid}[[test]]\nname = \"t\"\n").into_bytes()),
        ("bad-wave", format!("{valid}[[test]]\nname = \"t\"\ntarget = \"a\"\ninvoke = \"f(\"\nexpect = \"1\"\n").into_bytes()),
        ("deep-nesting", format!("{valid}x = {}{}\n", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
        ("long-line", format!("[project]\nname = \"{}\n", "x".repeat(100_000)).into_bytes()),
        ("world-missing", b"[project]\nname = \"p\"\nwit = \"nowit\"\n[components.a]\nlang = \"wasm\"\npath = \"a.wasm\"\nworld = \"w\"\n".to_vec()),
    ];
    std::fs::copy(
        root().join("tests/cli/check/components/app.wasm"),
        dir.join("a.wasm"),
    )?;
    for (name, text) in broken {
        let project = dir.join(format!("toml-{name}"));
        std::fs::create_dir_all(&project)?;
        std::fs::copy(dir.join("a.wasm"), project.join("a.wasm"))?;
        std::fs::write(project.join("weld.toml"), text)?;
        let manifest = project.join("weld.toml").display().to_string();
        for command in ["plan", "check", "build"] {
            // A path outside the project is allowed; reading /etc/passwd as a component is not.
            let (names, may_pass) = match (name, command) {
                ("escape", "plan") => ("weld.toml", true),
                ("escape", _) => ("passwd", false),
                _ => ("weld.toml", false),
            };
            cases.push(case(
                format!("weld.toml {name}"),
                &[command, "-C", &manifest],
                names,
                may_pass,
            ));
        }
    }
    Ok(())
}

/// A valid WIT package cut short at many points, and names that resolve nowhere.
fn wit(dir: &Path, cases: &mut Vec<Case>) -> Result<(), Failed> {
    let text = std::fs::read_to_string(root().join("fixtures/calc/wit/calc.wit"))?;
    let cuts: Vec<usize> = (1..12).map(|i| text.len() * i / 12).collect();
    let mut variants: Vec<(String, String)> = cuts
        .into_iter()
        .filter(|c| text.is_char_boundary(*c))
        .map(|c| (format!("cut-{c}"), text[..c].to_string()))
        .collect();
    variants.push((
        "unknown-type".into(),
        text.replace("-> result<stats, string>", "-> result<statz, string>"),
    ));
    variants.push((
        "no-package".into(),
        text.replace("package weld:example@0.1.0;", ""),
    ));
    variants.push(("bad-version".into(), text.replace("@0.1.0", "@0.1")));
    variants.push((
        "use-missing".into(),
        format!("{text}\ninterface extra {{ use nowhere:pkg/thing.{{t}}; }}\n"),
    ));
    variants.push((
        "cycle".into(),
        "package a:b;\ninterface i { type x = y; type y = x; }\n".into(),
    ));
    // What the current wit-parser refuses and 0.254 (weld's until 2026-12) let through: names
    // that must be unique, or unique up to case, twice; an empty tuple.
    let refused = [
        ("dup-field", "record r { count: u32, count: u32 }"),
        ("dup-field-case", "record r { count: u32, COUNT: u32 }"),
        ("dup-field-kebab", "record r { a-b: u32, a-B: u32 }"),
        ("dup-case", "variant v { a, b(u32), a }"),
        ("dup-case-case", "variant v { x(u32), X }"),
        ("dup-enum", "enum e { red, green, red }"),
        ("dup-flag", "flags f { read, write, read }"),
        ("dup-param", "f: func(a: u32, a: u32);"),
        ("dup-type", "type t = u32; type t = u64;"),
        ("dup-func", "f: func(); f: func();"),
        ("dup-method", "resource r { m: func(); m: func(); }"),
        ("empty-tuple", "f: func() -> tuple<>;"),
    ];
    for (name, body) in refused {
        variants.push((
            name.into(),
            format!("package a:b;\ninterface i {{\n  {body}\n}}\n"),
        ));
    }
    for (name, body) in variants {
        let wit = dir.join(format!("wit-{name}"));
        std::fs::create_dir_all(&wit)?;
        std::fs::write(wit.join("calc.wit"), body)?;
        let path = wit.display().to_string();
        // A cut between declarations may leave valid WIT: whatever the current wit-parser
        // accepts may pass. A problem names the file, or the directory when it is about the
        // package as a whole.
        let may_pass = wit_parser::Resolve::default().push_dir(&wit).is_ok();
        assert!(
            !(may_pass && refused.iter().any(|(r, _)| *r == name)),
            "wit-parser accepts the {name} case: it no longer tests anything"
        );
        cases.push(case(
            format!("WIT {name}"),
            &["check", "--wit", &path],
            &format!("wit-{name}"),
            may_pass,
        ));
    }
    Ok(())
}

/// The example's WAC script cut short, and naming packages nobody gave.
fn wac(dir: &Path, cases: &mut Vec<Case>) -> Result<(), Failed> {
    let text = std::fs::read_to_string(root().join("tests/cli/compose/app.wac"))?;
    let components = root().join("tests/cli/check/components");
    let dep = |pkg: &str, file: &str| format!("{pkg}={}", components.join(file).display());
    let mut variants: Vec<(String, String)> = (1..16)
        .map(|i| text.len() * i / 16)
        .filter(|c| text.is_char_boundary(*c))
        .map(|c| (format!("cut-{c}"), text[..c].to_string()))
        .collect();
    variants.push((
        "unknown-package".into(),
        text.replace("weld:words", "weld:nowhere"),
    ));
    variants.push((
        "unknown-export".into(),
        format!("{text}\nexport arith.nothing;\n"),
    ));
    variants.push(("garbage".into(), "}}}{{{ let let let".into()));
    for (name, body) in variants {
        let script = write(dir, &format!("wac-{name}.wac"), body.as_bytes())?;
        let out = dir.join(format!("wac-{name}.wasm")).display().to_string();
        let args = [
            "compose".to_string(),
            script,
            "--dep".into(),
            dep("weld:calc", "app.wasm"),
            "--dep".into(),
            dep("weld:arith", "arith.wasm"),
            "--dep".into(),
            dep("weld:words", "words.wasm"),
            "-o".into(),
            out,
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // A cut that keeps whole statements may still compose.
        cases.push(case(
            format!("WAC {name}"),
            &args,
            &format!("wac-{name}.wac"),
            name.starts_with("cut"),
        ));
    }
    Ok(())
}

/// `--invoke` calls that do not parse or do not fit the function.
fn wave(cases: &mut Vec<Case>) {
    let arith = root()
        .join("tests/cli/check/components/arith.wasm")
        .display()
        .to_string();
    let calls = [
        "",
        "(",
        ")",
        "divide",
        "divide(",
        "divide(1.0",
        "divide(1.0,",
        "divide(1.0, 2.0",
        "divide(\"x\", 2.0)",
        "divide(1.0)",
        "divide(1.0, 2.0, 3.0)",
        "divide(true, 2.0)",
        "divide(1e999999, 2.0)",
        "divide(nan, 2.0))",
        "nope()",
        "arith.nope()",
        "x:y/z.f()",
        "summarize([1.0, \"a\"])",
        "summarize([)",
        "summarize({a: 1})",
        "round(",
        "round(1.5, )",
        "divide(1.0, 2.0) trailing",
        "\u{1}",
        "divide(1.0,\n2.0)",
    ];
    for (i, call) in calls.iter().enumerate() {
        let long;
        let call = if i == 0 {
            long = format!("divide({})", "1.0, ".repeat(20_000));
            long.as_str()
        } else {
            call
        };
        cases.push(case(
            format!("WAVE #{i}"),
            &["run", &arith, "--invoke", call],
            "",
            false,
        ));
    }
}

/// Special files as inputs and outputs: a directory, a FIFO, a link loop, a device, a socket.
fn special(dir: &Path, cases: &mut Vec<Case>) -> Result<(), Failed> {
    let app = root()
        .join("tests/cli/check/components/app.wasm")
        .display()
        .to_string();
    let fifo = dir.join("fifo.wasm");
    let status = Command::new("mkfifo").arg(&fifo).status()?;
    assert!(status.success(), "mkfifo failed");
    let loop_a = dir.join("loop-a.wasm");
    std::os::unix::fs::symlink(dir.join("loop-b.wasm"), &loop_a)?;
    std::os::unix::fs::symlink(&loop_a, dir.join("loop-b.wasm"))?;
    let socket = dir.join("socket.wasm");
    let _listener = std::os::unix::net::UnixListener::bind(&socket)?;
    let subdir = dir.join("a-directory.wasm");
    std::fs::create_dir_all(&subdir)?;
    let inputs: Vec<(PathBuf, &str)> = vec![
        (fifo.clone(), "fifo.wasm"),
        (loop_a.clone(), "loop-a.wasm"),
        (socket.clone(), "socket.wasm"),
        (subdir.clone(), "a-directory.wasm"),
        (PathBuf::from("/dev/zero"), "/dev/zero"),
    ];
    for (path, name) in &inputs {
        let path = path.display().to_string();
        for args in [
            vec!["check", path.as_str()],
            vec!["wit", path.as_str()],
            vec!["run", path.as_str()],
        ] {
            cases.push(case(format!("input {name}"), &args, name, false));
        }
    }
    for (path, name) in [
        (fifo, "fifo.wasm"),
        (socket, "socket.wasm"),
        // Our own special files only: a regression here must not replace the machine's.
        (subdir, "a-directory.wasm"),
    ] {
        let path = path.display().to_string();
        cases.push(case(
            format!("output {name}"),
            &["compose", &app, "-o", &path],
            name,
            false,
        ));
    }
    Ok(())
}
