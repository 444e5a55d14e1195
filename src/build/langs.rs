//! The per-language build steps. Each runs the language's real toolchain and returns the bytes
//! of the component it produced; validation and installation of the output are shared (mod.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cargo_metadata::Message;
use cargo_metadata::diagnostic::DiagnosticLevel;

use super::{Failure, Job, Profile};
use crate::toolchain::Tool;

/// Lines of toolchain output shown with a failure (all of them with `-v`).
const SHOWN_LINES: usize = 60;

/// Rust: `cargo build --target wasm32-wasip2`; the artifact comes from cargo's JSON messages.
pub(super) fn rust(job: &Job) -> Result<Vec<u8>, Failure> {
    let c = job.component;
    let manifest = if c.source.is_dir() {
        c.source.join("Cargo.toml")
    } else {
        c.source.clone()
    };
    let manifest = manifest
        .canonicalize()
        .map_err(|e| job.env_failure(format!("cannot resolve {}: {e}", manifest.display())))?;
    // One target dir per project: components share compiled dependencies.
    let cargo_dir = job.target_dir.join("cargo");
    forget_if_moved(job, &cargo_dir, &manifest)?;
    let mut cmd = Command::new(&job.tools.cargo);
    cmd.arg("build")
        .args(["--target", crate::toolchain::RUST_TARGET])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&cargo_dir)
        .args(["--message-format", "json", "--color", "never"]);
    if job.profile == Profile::Release {
        cmd.arg("--release");
    }
    job.stage("cargo build");
    let out = run(job, &mut cmd)?;
    let mut artifacts: Vec<PathBuf> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for msg in cargo_metadata::Message::parse_stream(&out.stdout[..]).flatten() {
        match msg {
            Message::CompilerArtifact(a) if a.manifest_path.as_std_path() == manifest => {
                artifacts.extend(
                    a.filenames
                        .into_iter()
                        .filter(|f| f.extension() == Some("wasm"))
                        .map(PathBuf::from),
                );
            }
            Message::CompilerMessage(m) if m.message.level == DiagnosticLevel::Error => {
                if let Some(rendered) = m.message.rendered {
                    errors.push(from_here(rendered.trim_end(), &manifest));
                }
            }
            _ => {}
        }
    }
    if !out.status.success() {
        let detail = if errors.is_empty() {
            // Cargo's own errors (a bad Cargo.toml, an unresolvable dependency) go to stderr.
            cargo_stderr(&out.stderr)
        } else {
            errors.join("\n\n")
        };
        return Err(job.source_failure("cargo build failed", detail));
    }
    match artifacts.as_slice() {
        [one] => std::fs::read(one).map_err(|e| job.env_failure(format!("cannot read {}: {e}", one.display()))),
        [] => Err(job.source_failure(
            "cargo built no .wasm artifact",
            format!(
                "{} has no `bin` target and no `cdylib` library; a component is built from one of them\n(add `[lib] crate-type = [\"cdylib\"]` for a library exporting interfaces)",
                manifest.display()
            ),
        )),
        many => Err(job.source_failure(
            "cargo built several .wasm artifacts",
            format!(
                "weld builds one component per package, but {} produced:\n{}\nsplit them into separate packages, one component each",
                manifest.display(),
                many.iter().map(|p| format!("  {}", p.display())).collect::<Vec<_>>().join("\n")
            ),
        )),
    }
}

/// Cargo remembers the files a package's build read (the WIT that `generate!` parsed) by
/// absolute path when they lie outside the package. A target directory copied from another
/// project (`cp -a`) would compare the old project's WIT and call a stale build fresh, so when
/// the package is not where this target directory last built it, cargo forgets the package's
/// own records (its dependencies stay compiled).
fn forget_if_moved(job: &Job, cargo_dir: &Path, manifest: &Path) -> Result<(), Failure> {
    let marker = cargo_dir
        .join(".weld")
        .join(format!("{}.manifest", job.component.name));
    let here = manifest.to_string_lossy();
    if std::fs::read_to_string(&marker).is_ok_and(|last| last == here) {
        return Ok(());
    }
    let package = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| t.get("package")?.get("name")?.as_str().map(String::from));
    if let (true, Some(package)) = (cargo_dir.exists(), package) {
        job.stage("cargo clean");
        for profile in ["dev", "release"] {
            let mut cmd = Command::new(&job.tools.cargo);
            cmd.args([
                "clean",
                "--quiet",
                "--package",
                &package,
                "--profile",
                profile,
            ])
            .args(["--target", crate::toolchain::RUST_TARGET])
            .arg("--manifest-path")
            .arg(manifest)
            .arg("--target-dir")
            .arg(cargo_dir);
            let out = run(job, &mut cmd)?;
            if !out.status.success() {
                return Err(job.env_failure(format!(
                    "cannot clear cargo's records of a package built elsewhere: {}",
                    cargo_stderr(&out.stderr)
                )));
            }
        }
    }
    crate::fsutil::write_atomic(&marker, here.as_bytes())
        .map(drop)
        .map_err(|e| job.env_failure(format!("cannot write {}: {e}", marker.display())))
}

/// rustc names files relative to the package (`--> src/main.rs:3:5`); the user runs weld from
/// elsewhere, so name them as the user would reach them (`--> cli-rs/src/main.rs:3:5`).
fn from_here(rendered: &str, manifest: &Path) -> String {
    let Some(package) = manifest.parent() else {
        return rendered.to_string();
    };
    rendered
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            match trimmed.strip_prefix("--> ") {
                Some(file) if !file.starts_with('/') && !file.starts_with('<') => format!(
                    "{}--> {}",
                    &line[..line.len() - trimmed.len()],
                    crate::fsutil::shown(&package.join(file))
                ),
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn cargo_stderr(stderr: &[u8]) -> String {
    const PROGRESS: [&str; 8] = [
        "Compiling",
        "Blocking",
        "Updating",
        "Downloaded",
        "Downloading",
        "Finished",
        "Checking",
        "Locking",
    ];
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !PROGRESS.iter().any(|p| l.trim_start().starts_with(p)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Python: `componentize-py -d WIT -w WORLD componentize MODULE -p DIR -o OUT`.
pub(super) fn python(job: &Job) -> Result<Vec<u8>, Failure> {
    let c = job.component;
    let (_, world) = job.wit_and_world()?;
    let wit = job.toolchain_wit()?;
    let module = c.module.as_deref().unwrap_or("app");
    let out = job.scratch_file()?;
    let mut cmd = Command::new(&job.tools.componentize_py);
    cmd.arg("-d")
        .arg(&wit)
        .arg("-w")
        .arg(world)
        .arg("componentize")
        .arg(module)
        .arg("-p")
        .arg(&c.source)
        .arg("-o")
        .arg(&out)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // componentize-py is a Rust program: a backtrace of it is noise to the user.
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0");
    job.stage("componentize-py");
    let result = run(job, &mut cmd);
    read_scratch(job, result, &out, Tool::ComponentizePy).map_err(|mut f| {
        f.detail = python_detail(&f.detail, &c.source);
        f
    })
}

/// componentize-py reports a user's error inside a traceback of its own entry script, with the
/// module path (`-p`) renamed `/0`: keep the user's part, under its real path.
fn python_detail(detail: &str, source: &Path) -> String {
    let start = detail
        .find("AssertionError: ")
        .map_or(0, |i| i + "AssertionError: ".len());
    detail[start..].replace("\"/0/", &format!("\"{}/", crate::fsutil::shown(source)))
}

/// JavaScript: componentize-js through node, with engine features the world does not use
/// switched off (no `wasi:http` import unless the world has one).
pub(super) fn js(job: &Job) -> Result<Vec<u8>, Failure> {
    let c = job.component;
    let (_, world) = job.wit_and_world()?;
    let wit = job.toolchain_wit()?;
    let out = job.scratch_file()?;
    let disabled = if job.world_uses_http()? {
        ""
    } else {
        "http,fetch-event"
    };
    let mut cmd = Command::new(&job.tools.node);
    cmd.args([
        "--input-type=module",
        "-e",
        include_str!("componentize.mjs"),
        "--",
    ])
    .arg(&job.tools.componentize_js)
    .arg(&c.source)
    .arg(&wit)
    .arg(world)
    .arg(&out)
    .arg(disabled);
    // Its Wizer pre-initialisation runs wasmtime.
    job.tool_cache(&mut cmd, "componentize-js");
    job.stage("componentize-js");
    let result = run(job, &mut cmd);
    read_scratch(job, result, &out, Tool::ComponentizeJs).map_err(|mut f| {
        // The engine's handler carries its own wasi:http release; another one in the world
        // fails deep in the splicer with words that do not say so.
        if f.detail
            .contains("failed to find export of interface `wasi:http/incoming-handler@")
        {
            let v = crate::toolchain::COMPONENTIZE_JS_WASI_HTTP;
            f.help = Some(format!(
                "componentize-js {} serves `addEventListener(\"fetch\", …)` as \
                 wasi:http/incoming-handler@{v}: have the world export that release \
                 (`include wasi:http/proxy@{v};`)",
                crate::toolchain::COMPONENTIZE_JS_VERSION
            ));
        }
        f
    })
}

/// Prebuilt: the file as it is (validated by the caller like every other output).
pub(super) fn wasm(job: &Job) -> Result<Vec<u8>, Failure> {
    job.stage("reading");
    std::fs::read(&job.component.source).map_err(|e| {
        job.env_failure(format!(
            "cannot read {}: {e}",
            job.component.source.display()
        ))
    })
}

/// Runs a toolchain command: its failure to start is the environment's fault (exit 2).
pub(super) fn run(job: &Job, cmd: &mut Command) -> Result<Output, Failure> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    job.verbose(format!("running {cmd:?}"));
    cmd.output()
        .map_err(|e| job.env_failure(format!("cannot run {program}: {e}")))
}

fn read_scratch(
    job: &Job,
    result: Result<Output, Failure>,
    out: &Path,
    tool: Tool,
) -> Result<Vec<u8>, Failure> {
    let output = result?;
    let what = format!("{} failed", tool.name());
    let what = what.as_str();
    let bytes = if output.status.code() == Some(3) && tool == Tool::ComponentizeJs {
        // The driver's code for "the toolchain itself would not load".
        let mut f = job.env_failure(String::from_utf8_lossy(&output.stderr).trim().to_string());
        f.help = Some("run ./install.sh to reinstall componentize-js, then `weld doctor`".into());
        Err(f)
    } else if output.status.success() {
        std::fs::read(out).map_err(|e| job.env_failure(format!("{what}: it wrote no output ({e})")))
    } else {
        let mut detail = String::from_utf8_lossy(&output.stderr)
            .trim_end()
            .to_string();
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !stdout.trim().is_empty() {
            detail = format!("{}\n{detail}", stdout.trim_end());
        }
        Err(job.source_failure(what, detail))
    };
    let _ = std::fs::remove_file(out);
    bytes
}

/// The toolchain's output, trimmed to what a person reads: the head for a compiler's error list
/// (the first errors cause the rest), the tail otherwise (where a traceback ends).
pub(super) fn trim_output(text: &str, head: bool, verbose: bool) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if verbose || lines.len() <= SHOWN_LINES {
        return lines.join("\n");
    }
    let skipped = lines.len() - SHOWN_LINES;
    if head {
        format!(
            "{}\n… {skipped} more lines (weld build -v shows them)",
            lines[..SHOWN_LINES].join("\n")
        )
    } else {
        format!(
            "… {skipped} earlier lines (weld build -v shows them)\n{}",
            lines[skipped..].join("\n")
        )
    }
}
