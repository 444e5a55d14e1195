//! `weld compose`: one application component from many.

use std::path::{Path, PathBuf};

use clap::Args;

use super::Context;
use weld::compose::{self, ComposeError, Composed, Input, ScriptDep};
use weld::error::{Error, Result};
use weld::pipeline::{self, ComposeOptions};
use weld::project::Wiring;
use weld::units::{format_duration, format_size};

/// Compose components into one application component
///
/// Automatic plugging wires each import to the component that exports it; plugs may also feed
/// each other. The wiring is checked first, so an incompatible, ambiguous or missing provider
/// stops the compose with `weld check`'s explanation, and so does a plug that plugs nothing.
/// Each WASI interface is imported once, at the highest version any component asks for. The
/// result is validated and written atomically: a failed compose leaves the previous file alone.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld compose                                   as weld.toml's [compose] says (after weld build)
  weld compose cli.wasm --plug arith.wasm --plug words.wasm -o app.wasm
  weld compose --format json                     what was wired, as data

Exit status:
  0  composed
  1  the components do not fit together (explained), or an input is not a component
  2  usage or environment error: missing file, components not built, invalid weld.toml")]
pub struct ComposeArgs {
    /// The root component [default: weld.toml's [compose] root]
    #[arg(value_name = "ROOT.wasm")]
    input: Option<PathBuf>,

    /// A component that provides imports of the root (or of other plugs)
    #[arg(long, value_name = "PLUG.wasm", requires = "input")]
    plug: Vec<PathBuf>,

    /// Where to write the composed component [default: weld.toml's output, or app.wasm]
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// A component a WAC script's package refers to: PKG=PATH (e.g. weld:arith=arith.wasm)
    #[arg(long, value_name = "PKG=PATH", requires = "input")]
    dep: Vec<ScriptDep>,

    /// Refuse to leave an import that neither a component nor weld's runtime provides
    #[arg(long)]
    strict: bool,

    /// Write the composition as WebAssembly text instead of binary
    #[arg(long)]
    wat: bool,
}

impl ComposeArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("compose")?;
        let is_script = |p: &PathBuf| p.extension().is_some_and(|e| e == "wac");
        let given_output = || {
            self.output
                .clone()
                .unwrap_or_else(|| PathBuf::from("app.wasm"))
        };
        let start = std::time::Instant::now();
        // (what composing gave, where it writes, the script that wired it)
        let (result, output, script) = match &self.input {
            Some(path) if is_script(path) => {
                if !self.plug.is_empty() {
                    return Err(Error::Usage {
                        message: "a WAC script wires its components itself: give them with --dep PKG=PATH, not --plug".into(),
                    });
                }
                let deps = &self.dep;
                // One file per package: with two, which one the script meant is a guess.
                for (i, dep) in deps.iter().enumerate() {
                    if let Some(other) = deps[..i].iter().find(|d| d.package == dep.package) {
                        return Err(Error::Usage {
                            message: format!(
                                "--dep gives package `{}` twice ({} and {}): give each package one component",
                                dep.package,
                                other.input.path.display(),
                                dep.input.path.display()
                            ),
                        });
                    }
                }
                let output = given_output();
                let result = compose::compose_script(path, deps, &output, self.strict, self.wat);
                (result.map_err(Error::from), output, Some(path.clone()))
            }
            Some(root) => {
                if !self.dep.is_empty() {
                    return Err(Error::Usage {
                        message:
                            "--dep names the packages of a WAC script; plug components with --plug"
                                .into(),
                    });
                }
                let paths: Vec<PathBuf> =
                    std::iter::once(root).chain(&self.plug).cloned().collect();
                let mut inputs = Input::from_paths(&paths);
                let root = inputs.remove(0);
                let output = given_output();
                let result = compose::compose(&root, &inputs, &output, self.strict, self.wat);
                (result.map_err(Error::from), output, None)
            }
            None => {
                let plan = cx.plan()?;
                let options = ComposeOptions {
                    output: self.output.clone(),
                    strict: self.strict,
                    wat: self.wat,
                    // Asked for by name: compose, even if the output is current.
                    force: true,
                };
                let settings = plan.compose.as_ref();
                let output = options
                    .output
                    .clone()
                    .or_else(|| settings.map(|c| c.output.clone()))
                    .unwrap_or_default();
                let script = match settings.map(|c| &c.wiring) {
                    Some(Wiring::Script { path, .. }) => Some(path.clone()),
                    _ => None,
                };
                let result = pipeline::compose(&plan, &options).map(|c| c.composed);
                (result, output, script)
            }
        };
        let composed = match result {
            Ok(c) => c,
            Err(Error::Compose(ComposeError::DoesNotFit {
                components,
                findings,
                errors,
            })) => {
                if cx.reporter.json() {
                    cx.reporter
                        .print_json(&serde_json::json!({ "ok": false, "findings": findings }))?;
                } else {
                    let names: Vec<&str> = components.iter().map(String::as_str).collect();
                    cx.reporter.print(&weld::report::findings::render(
                        &cx.reporter,
                        &names,
                        &findings,
                    ))?;
                }
                return Err(nothing_composed(cx, errors.len(), &output));
            }
            Err(e) => return Err(e),
        };
        if cx.reporter.json() {
            cx.reporter.print_json(&composed)?;
        } else {
            cx.reporter
                .print(&summary(cx, &composed, script.as_deref()))?;
            weld::report::stages::unresolved(&cx.reporter, &composed);
            cx.reporter
                .verbose(&format!("composed in {}", format_duration(start.elapsed())));
        }
        Ok(0)
    }
}

/// What was wired and written, as `weld compose` prints it.
pub(super) fn summary(cx: &Context, composed: &Composed, script: Option<&Path>) -> String {
    let mut out = String::new();
    for w in &composed.wired {
        out.push_str(&format!(
            "  {} <- {} <- {}\n",
            w.consumer, w.interface, w.provider
        ));
    }
    let wiring = match script {
        None => format!("{} wired", composed.wired.len()),
        Some(path) => format!("wired by {}", cx.show(path)),
    };
    out.push_str(&format!(
        "composed {} -> {} ({}, {}, {wiring}, {} for the runtime)\n",
        composed.components.join(" + "),
        cx.show(&cx.cwd.join(&composed.output)),
        format_size(composed.size),
        counted(composed.components.len(), "component"),
        counted(composed.imports.len(), "WASI import"),
    ));
    out
}

/// `1 component`, `3 components`.
fn counted(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The error after a refused compose's findings were shown.
pub(super) fn nothing_composed(cx: &Context, problems: usize, output: &Path) -> Error {
    Error::Checked(format!(
        "nothing was composed: {problems} problem{} (above); {} is unchanged",
        if problems == 1 { "" } else { "s" },
        cx.show(&cx.cwd.join(output))
    ))
}
