//! Go: stock Go builds a `wasip1` core module, weld makes the component in process.
//!
//! The steps are componentize-go's, and so is the project layout, so a project written for it
//! builds unchanged:
//! - without a world, `path` is a Go command (`package main`), built with
//!   `GOOS=wasip1 GOARCH=wasm go build` and wrapped with the preview1 *command* adapter;
//! - with a world, wit-bindgen-go generates the world's bindings (imports in
//!   `wit_component/<ns>_<pkg>_<iface>`, exports called in `export_<ns>_<pkg>_<iface>`,
//!   world-level functions in `export_wit_world`). A world that exports anything is built with
//!   `-buildmode=c-shared` and the *reactor* adapter; one that only imports stays a command.
//!
//! Nothing is written into the user's tree: the bindings, the go.mod weld manages and the
//! runtime package they import live in `target/weld/go/<component>/`, and `go build -overlay`
//! lays them over the sources. Before the adapter is attached, [`realloc::guard`] keeps the Go
//! allocator from calling out of the component while the host is inside `cabi_realloc`.

mod realloc;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_bindgen_core::wit_parser;

use super::{Failure, Job, langs};

include!(concat!(env!("OUT_DIR"), "/go_pkg.rs"));

/// The module name the generated code imports its own packages by (componentize-go's).
const MODULE: &str = "wit_component";
/// The module of the runtime package the generated code imports.
const PKG_MODULE: &str = "go.bytecodealliance.org/pkg";

/// What goes into a Go component's fingerprint besides its sources and the Go version.
pub(crate) fn glue() -> String {
    // The number moves when weld's own rewriting of the module changes.
    format!("{GO_GLUE}, realloc guard 2")
}

/// How the module is built and adapted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `package main` with `func main`: the command adapter exports `wasi:cli/run`.
    Command,
    /// The world's exports, called through `//go:wasmexport`: a c-shared module and the
    /// reactor adapter.
    Library,
}

pub(in crate::build) fn go(job: &Job) -> Result<Vec<u8>, Failure> {
    let c = job.component;
    let source = c
        .source
        .canonicalize()
        .map_err(|e| job.env_failure(format!("cannot resolve {}: {e}", c.source.display())))?;
    let work = job.target_dir.join("go").join(&c.name);
    let io = |what: &Path, e: std::io::Error| {
        job.env_failure(format!("cannot write {}: {e}", what.display()))
    };
    std::fs::create_dir_all(&work).map_err(|e| io(&work, e))?;
    let work = work.canonicalize().map_err(|e| io(&work, e))?;
    // Two welds building the same component (a `weld up --watch` and a `weld test`) would
    // rewrite each other's bindings mid-build: one waits for the other.
    let lock_path = work.join(".lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| io(&lock_path, e))?;
    if lock.try_lock().is_err() {
        job.stage("waiting for another weld building it");
        lock.lock().map_err(|e| io(&lock_path, e))?;
    }
    let user_mod = std::fs::read_to_string(source.join("go.mod")).ok();

    // Paths in the user's tree → the files weld generated for them.
    let mut overlay: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let (shape, world) = match &c.world {
        None => {
            if user_mod.is_none() {
                let file = work.join("go.mod");
                let text = format!("module {}\n\ngo {GO_PKG_GO}\n", c.name);
                std::fs::write(&file, text).map_err(|e| io(&file, e))?;
                overlay.insert(source.join("go.mod"), file);
            }
            (Shape::Command, None)
        }
        Some(world) => {
            job.stage("generating bindings");
            let wit = job.toolchain_wit()?;
            let shape = bindings(job, &wit, world, &source, &work, &mut overlay)?;
            let pkg = work.join("pkg");
            write_pkg(&pkg).map_err(|e| io(&pkg, e))?;
            let file = work.join("go.mod");
            std::fs::write(&file, go_mod(user_mod.as_deref(), &pkg)).map_err(|e| io(&file, e))?;
            overlay.insert(source.join("go.mod"), file);
            (shape, Some((wit, world.clone())))
        }
    };
    let overlay_file = work.join("overlay.json");
    let json = serde_json::json!({ "Replace": overlay });
    std::fs::write(&overlay_file, json.to_string()).map_err(|e| io(&overlay_file, e))?;

    let core = go_build(job, &source, &work, &overlay_file, &overlay, shape, &world)?;
    let module = std::fs::read(&core)
        .map_err(|e| job.env_failure(format!("go build wrote no {}: {e}", core.display())))?;
    job.stage("componentizing");
    componentize(module, shape, &world).map_err(|e| {
        job.source_failure("cannot make a component of the Go module", format!("{e:#}"))
    })
}

/// `go build` of the user's module with weld's files laid over it, into `work/core.wasm`; a
/// failure says where the code and the world disagree, with stubs of what the world expects.
fn go_build(
    job: &Job,
    source: &Path,
    work: &Path,
    overlay_file: &Path,
    overlay: &BTreeMap<PathBuf, PathBuf>,
    shape: Shape,
    world: &Option<(PathBuf, String)>,
) -> Result<PathBuf, Failure> {
    let core = work.join("core.wasm");
    let _ = std::fs::remove_file(&core);
    let mut cmd = Command::new(&job.tools.go);
    cmd.current_dir(source)
        .arg("build")
        .arg(format!("-overlay={}", overlay_file.display()))
        .arg("-trimpath");
    if shape == Shape::Library {
        cmd.arg("-buildmode=c-shared");
    }
    // The runtime package reaches into Go's runtime (`runtime.sbrk`) by linkname.
    cmd.arg("-ldflags=-checklinkname=0")
        .arg("-o")
        .arg(&core)
        .arg(".")
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        // The go line names the oldest Go that builds it; never download another.
        .env("GOTOOLCHAIN", "local")
        // A go.work above the component would pull in modules weld did not lay out.
        .env("GOWORK", "off");
    go_env(job, &mut cmd);
    job.stage("go build");
    let out = langs::run(job, &mut cmd)?;
    if out.status.success() {
        return Ok(core);
    }
    let c = job.component;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let detail = go_errors(&stderr, source, overlay);
    // An error inside the generated bindings means the code disagrees with the world.
    let in_bindings = detail.contains(&crate::fsutil::shown(&work.join("bindings")));
    let mut f = job.source_failure("go build failed", detail);
    // The stubs are only read when the code and the world disagree: made only then.
    let stubs = work.join("stubs");
    let stubbed = match world {
        Some((wit, world)) => write_stubs(job, wit, world, &stubs),
        None => false,
    };
    f.help = match (missing_export(&stderr), world) {
        _ if !stubbed => None,
        // Go's words for "no code for this package" are "is not in std".
        (Some(package), Some((_, world))) => Some(format!(
            "world `{world}` exports an interface with no Go code: write `package {package}` \
             in {}/ (the functions it needs are stubbed in {})",
            crate::fsutil::shown(&c.source.join(package)),
            crate::fsutil::shown(&stubs.join(package))
        )),
        (None, Some((_, world))) if in_bindings => Some(format!(
            "the functions and types world `{world}` expects are stubbed in {}: compare them \
             with the code",
            crate::fsutil::shown(&stubs)
        )),
        _ => None,
    };
    Err(f)
}

/// The core module as a component: the world's metadata embedded, WASI preview 1 adapted.
fn componentize(
    module: Vec<u8>,
    shape: Shape,
    world: &Option<(PathBuf, String)>,
) -> anyhow::Result<Vec<u8>> {
    let mut module = realloc::guard(&module)?;
    if let Some((wit, world)) = world {
        let (resolve, pkg) = crate::wit::load_dir(wit, wit)?;
        let world = resolve.select_world(&[pkg], Some(world))?;
        wit_component::embed_component_metadata(
            &mut module,
            &resolve,
            world,
            wit_component::StringEncoding::UTF8,
            false,
        )?;
    }
    let adapter = match shape {
        Shape::Command => WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        Shape::Library => WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    };
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&module)?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)?
        .encode()
}

/// Generates the world's bindings into `work/bindings` and lays them over `source`. Returns how
/// the module is to be built.
fn bindings(
    job: &Job,
    wit: &Path,
    world: &str,
    source: &Path,
    work: &Path,
    overlay: &mut BTreeMap<PathBuf, PathBuf>,
) -> Result<Shape, Failure> {
    let generated = Bindings::generate(wit, world).map_err(|e| match e {
        BindingsError::Wit(e) => job.source_failure("its WIT does not resolve", e),
        BindingsError::Generator(e) => {
            let mut f = job.source_failure("wit-bindgen-go cannot generate its bindings", e);
            f.help = Some("weld generates Go bindings with wit-bindgen-go 0.63; a WIT feature it does not support must stay out of a Go component's world".into());
            f
        }
    })?;
    let shape = if generated.exports {
        Shape::Library
    } else {
        Shape::Command
    };
    let files = &generated.files;
    let dir = work.join("bindings");
    write_tree(&dir, files)
        .map_err(|(path, e)| job.env_failure(format!("cannot write {}: {e}", path.display())))?;
    gofmt(job, &dir);
    for (name, _) in files {
        let skip = name == "go.mod"
            // Assembly stubs only serve tests off WebAssembly; Go's assembler would look for
            // them in the user's tree.
            || name.ends_with(".s")
            // A command has its own `func main`.
            || (shape == Shape::Command && name == "wit_exports.go");
        if !skip {
            overlay.insert(source.join(name), work.join("bindings").join(name));
        }
    }
    Ok(shape)
}

/// Writes the bindings with a stub of every function the user writes into `dir`, for a failed
/// build's help to point at; false if they could not be.
fn write_stubs(job: &Job, wit: &Path, world: &str, dir: &Path) -> bool {
    let Ok(generated) = Bindings::with_stubs(wit, world) else {
        return false;
    };
    if write_tree(dir, &generated.stubs).is_err() {
        return false;
    }
    gofmt(job, dir);
    true
}

/// Replaces `dir` with `files` (paths under it, contents).
fn write_tree(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), (PathBuf, std::io::Error)> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| (dir.to_path_buf(), e))?;
    }
    for (name, contents) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| (parent.to_path_buf(), e))?;
        }
        std::fs::write(&path, contents).map_err(|e| (path, e))?;
    }
    Ok(())
}

/// A world's Go bindings, as wit-bindgen-go writes them.
pub(crate) struct Bindings {
    /// (path under the module, contents): the glue the build lays over the sources.
    pub files: Vec<(String, Vec<u8>)>,
    /// The same with a stub of every function and resource the user writes (only from
    /// [`Bindings::with_stubs`]).
    pub stubs: Vec<(String, Vec<u8>)>,
    /// Whether the world exports anything (else it is a command's).
    pub exports: bool,
}

/// Why bindings could not be generated.
#[derive(Debug)]
pub(crate) enum BindingsError {
    /// The WIT does not resolve, or has no such world (wit-parser's words).
    Wit(String),
    /// wit-bindgen-go refused the world.
    Generator(String),
}

impl std::fmt::Display for BindingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindingsError::Wit(e) => write!(f, "the WIT does not resolve: {e}"),
            BindingsError::Generator(e) => {
                write!(f, "wit-bindgen-go cannot generate the bindings: {e}")
            }
        }
    }
}

impl Bindings {
    /// Generates `world` of the WIT package in `wit` (with the WASI packages it needs in its
    /// deps/). wit-bindgen-go reads WIT with its own wit-parser release, so the package is
    /// parsed here again.
    pub(crate) fn generate(wit: &Path, world: &str) -> Result<Bindings, BindingsError> {
        Self::make(wit, world, false)
    }

    /// [`Bindings::generate`], with the stubs too.
    pub(crate) fn with_stubs(wit: &Path, world: &str) -> Result<Bindings, BindingsError> {
        Self::make(wit, world, true)
    }

    fn make(wit: &Path, world: &str, with_stubs: bool) -> Result<Bindings, BindingsError> {
        let mut resolve = wit_parser::Resolve::default();
        let (pkg, _) = resolve
            .push_dir(wit)
            .map_err(|e| BindingsError::Wit(format!("{e:#}")))?;
        let id = resolve
            .select_world(&[pkg], Some(world))
            .map_err(|e| BindingsError::Wit(format!("{e:#}")))?;
        let mut generate = |stubs: bool| {
            let mut files = wit_bindgen_core::Files::default();
            wit_bindgen_go::Opts {
                generate_stubs: stubs,
                // gofmt runs after, from the Go weld builds with.
                format: wit_bindgen_go::Format::False,
                quiet: true,
                ..Default::default()
            }
            .build()
            .generate(&mut resolve, id, &mut files)
            .map_err(|e| BindingsError::Generator(format!("{e:#}")))?;
            Ok(files
                .iter()
                .map(|(name, contents)| (name.to_string(), contents.to_vec()))
                .collect::<Vec<_>>())
        };
        let files = generate(false)?;
        let stubs = if with_stubs {
            generate(true)?
        } else {
            Vec::new()
        };
        Ok(Bindings {
            files,
            stubs,
            exports: !resolve.worlds[id].exports.is_empty(),
        })
    }
}

/// Formats generated files so that a Go error pointing into them reads as Go.
fn gofmt(job: &Job, dir: &Path) {
    let gofmt = job.tools.go.with_file_name("gofmt");
    if gofmt.is_file() {
        let mut cmd = Command::new(gofmt);
        cmd.arg("-w").arg(dir);
        go_env(job, &mut cmd);
        // Unformatted code builds the same: a failure here costs only readability.
        let _ = langs::run(job, &mut cmd);
    }
}

/// Keeps Go's own state out of the user's home: its build cache lives in weld's cache (where
/// `weld cache clean` reaches it), and its configuration directory too, with telemetry off, so
/// that builds through weld record nothing in `~/.config/go/telemetry`. The user's `go env -w`
/// settings are still read, from where Go keeps them.
fn go_env(job: &Job, cmd: &mut Command) {
    isolate(cmd, job.cache_dir);
}

/// [`go_env`] for any Go tool weld runs, given weld's cache directory.
pub(crate) fn isolate(cmd: &mut Command, cache: Option<&Path>) {
    let Some(cache) = cache else {
        return;
    };
    cmd.env(
        "GOCACHE",
        crate::run::toolchain_cache_dir(cache, "go-build"),
    );
    let config = crate::run::toolchain_cache_dir(cache, "go-config");
    let mode = config.join("go/telemetry/mode");
    if !mode.is_file() {
        let written = std::fs::create_dir_all(mode.parent().unwrap_or(&config))
            .and_then(|()| crate::fsutil::write_atomic(&mode, b"off\n").map(drop));
        if written.is_err() {
            // Without weld's own config directory, Go's defaults apply.
            return;
        }
    }
    let user_config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if std::env::var_os("GOENV").is_none()
        && let Some(user_config) = user_config
    {
        cmd.env("GOENV", user_config.join("go/env"));
    }
    cmd.env("XDG_CONFIG_HOME", config);
}

/// Writes the runtime package's source where the go.mod's `replace` points.
fn write_pkg(dir: &Path) -> std::io::Result<()> {
    for (name, contents) in GO_PKG {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|old| old == contents.as_bytes()) {
            continue;
        }
        std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
        crate::fsutil::write_atomic(&path, contents.as_bytes())?;
    }
    Ok(())
}

/// The go.mod weld builds with: the user's own, if there is one, with the module named as the
/// generated code imports it, a Go release no older than the runtime package needs, and the
/// runtime package taken from `pkg` (the module proxy is not needed, nor may it be reachable).
fn go_mod(user: Option<&str>, pkg: &Path) -> String {
    let mut go = GO_PKG_GO.to_string();
    let mut rest = String::new();
    let mut requires_pkg = false;
    let mut replace_block = false;
    for line in user.unwrap_or_default().lines() {
        let t = line.trim();
        if t.starts_with("module ") || t.starts_with("module\t") {
            continue;
        }
        if let Some(v) = t.strip_prefix("go ") {
            if release(v.trim()) > release(&go) {
                go = v.trim().to_string();
            }
            continue;
        }
        if t.starts_with("replace (") {
            replace_block = true;
        } else if replace_block && t == ")" {
            replace_block = false;
        }
        // weld's replace of the runtime package wins over the user's.
        let pkg_replace = (t.starts_with("replace ") || replace_block) && t.contains(PKG_MODULE);
        if pkg_replace {
            continue;
        }
        requires_pkg |= t.contains(&format!("{PKG_MODULE} "));
        rest.push_str(line);
        rest.push('\n');
    }
    let mut text = format!("module {MODULE}\n\ngo {go}\n");
    if !rest.trim().is_empty() {
        text.push('\n');
        text.push_str(rest.trim());
        text.push('\n');
    }
    if !requires_pkg {
        text.push_str(&format!(
            "\nrequire {}\n",
            wit_bindgen_go::remote_pkg_version()
        ));
    }
    text.push_str(&format!("\nreplace {PKG_MODULE} => {}\n", pkg.display()));
    text
}

/// The export package Go found no code for (`package wit_component/export_x is not in std`).
fn missing_export(stderr: &str) -> Option<&str> {
    stderr.lines().find_map(|line| {
        let rest = line.split_once(&format!("package {MODULE}/"))?.1;
        let (package, tail) = rest.split_once(' ')?;
        (package.starts_with("export_") && tail.starts_with("is not in std")).then_some(package)
    })
}

/// `1.27.1` as numbers, for comparing go lines.
fn release(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Go's errors name files relative to the module; show them as the user reaches them, and the
/// generated ones where weld wrote them.
fn go_errors(stderr: &str, source: &Path, overlay: &BTreeMap<PathBuf, PathBuf>) -> String {
    stderr
        .trim_end()
        .lines()
        .map(|line| {
            let Some((file, rest)) = line.split_once(".go:") else {
                return line.to_string();
            };
            if file.contains(' ') {
                return line.to_string();
            }
            let file = format!("{file}.go");
            // Go names an overlaid file by where its contents are, relative to the module.
            let path = crate::fsutil::clean(&source.join(&file));
            let shown = overlay.get(&path).unwrap_or(&path);
            format!("{}:{rest}", crate::fsutil::shown(shown))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_mod_keeps_the_users_requirements_and_replaces_the_runtime() {
        let pkg = Path::new("/w/pkg");
        let made = go_mod(None, pkg);
        assert_eq!(
            made,
            format!(
                "module wit_component\n\ngo {GO_PKG_GO}\n\nrequire go.bytecodealliance.org/pkg v0.4.0\n\nreplace go.bytecodealliance.org/pkg => /w/pkg\n"
            )
        );
        let user = "module example.com/adder\n\ngo 1.99\n\nrequire (\n\tgo.bytecodealliance.org/pkg v0.3.0\n\texample.com/util v1.0.0\n)\n\nreplace go.bytecodealliance.org/pkg => ../pkg\n";
        let made = go_mod(Some(user), pkg);
        assert!(
            made.starts_with("module wit_component\n\ngo 1.99\n"),
            "{made}"
        );
        assert!(made.contains("\texample.com/util v1.0.0\n"), "{made}");
        assert!(!made.contains("../pkg"), "{made}");
        assert_eq!(made.matches("require").count(), 1, "{made}");
        assert!(made.ends_with("replace go.bytecodealliance.org/pkg => /w/pkg\n"));
    }

    #[test]
    fn go_errors_point_at_the_users_files_and_at_generated_ones() {
        let source = Path::new("/p/kinds-go");
        let mut overlay = BTreeMap::new();
        overlay.insert(
            source.join("wit_exports.go"),
            PathBuf::from("/p/target/weld/go/kinds/bindings/wit_exports.go"),
        );
        let text = "# wit_component\n./wit_exports.go:26:41: undefined: export_x.Add\n../target/weld/go/kinds/bindings/wit_exports.go:2:1: x\nexport_x/add.go:3:1: syntax error";
        assert_eq!(
            go_errors(text, source, &overlay),
            "# wit_component\n/p/target/weld/go/kinds/bindings/wit_exports.go:26:41: undefined: export_x.Add\n/p/target/weld/go/kinds/bindings/wit_exports.go:2:1: x\n/p/kinds-go/export_x/add.go:3:1: syntax error"
        );
    }
}
