//! `weld compose`: one application component from many.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use weld::compose::{self, ComposeError, Input, ProjectInputs, ScriptDep};
use weld::error::{Error, Result};
use weld::units::{format_duration, format_size};

/// Compose components into one application component
///
/// Automatic plugging wires each import to the component that exports it; plugs may also feed
/// each other. The wiring is checked first, so an incompatible, ambiguous or missing provider
/// stops the compose with `weld check`'s explanation, and so does a plug that plugs nothing.
/// Each WASI interface is imported once, at the highest version any component asks for. The
/// result is validated and written atomically: a failed compose leaves the previous file alone.
#[derive(Debug, Default, Args)]
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
    dep: Vec<String>,

    /// Refuse to leave an import that neither a component nor weld's runtime provides
    #[arg(long)]
    strict: bool,

    /// Write the composition as WebAssembly text instead of binary
    #[arg(long)]
    wat: bool,
}

/// How the inputs are wired.
enum Wires {
    Auto { root: Input, plugs: Vec<Input> },
    Script { path: PathBuf, deps: Vec<ScriptDep> },
}

impl ComposeArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("compose")?;
        let is_script = |p: &PathBuf| p.extension().is_some_and(|e| e == "wac");
        let default_output = || {
            self.output
                .clone()
                .unwrap_or_else(|| PathBuf::from("app.wasm"))
        };
        let (wires, output, strict) = match &self.input {
            Some(path) if is_script(path) => {
                if !self.plug.is_empty() {
                    return Err(Error::Usage {
                        message: "a WAC script wires its components itself: give them with --dep PKG=PATH, not --plug".into(),
                    });
                }
                let deps = self
                    .dep
                    .iter()
                    .map(|d| {
                        d.split_once('=')
                            .filter(|(pkg, path)| !pkg.is_empty() && !path.is_empty())
                            .map(|(pkg, path)| ScriptDep {
                                package: pkg.to_string(),
                                // Named by its package, as the script names it.
                                input: Input {
                                    name: pkg.split('@').next().unwrap_or(pkg).to_string(),
                                    path: PathBuf::from(path),
                                },
                            })
                            .ok_or_else(|| Error::Usage {
                                message: format!(
                                    "--dep `{d}`: expected PKG=PATH, e.g. weld:arith=arith.wasm"
                                ),
                            })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let wires = Wires::Script {
                    path: path.clone(),
                    deps,
                };
                (wires, default_output(), self.strict)
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
                let wires = Wires::Auto {
                    root,
                    plugs: inputs,
                };
                (wires, default_output(), self.strict)
            }
            None => {
                let (wires, output, strict) = from_manifest(cx, self.output.clone())?;
                (wires, output, strict || self.strict)
            }
        };
        let start = std::time::Instant::now();
        let result = match &wires {
            Wires::Auto { root, plugs } => compose::compose(root, plugs, &output, strict, self.wat),
            Wires::Script { path, deps } => {
                compose::compose_script(path, deps, &output, strict, self.wat)
            }
        };
        let composed = match result {
            Ok(c) => c,
            Err(ComposeError::DoesNotFit { findings, errors }) => {
                let mut names = Vec::new();
                if let Wires::Auto { root, plugs } = &wires {
                    names.push(root.name.as_str());
                    names.extend(plugs.iter().map(|p| p.name.as_str()));
                }
                if cx.reporter.json() {
                    cx.reporter
                        .print_json(&serde_json::json!({ "ok": false, "findings": findings }))?;
                } else {
                    cx.reporter
                        .print(&super::check::render(cx, &names, &findings))?;
                }
                return Err(Error::Checked(format!(
                    "nothing was composed: {} problem{} (above); {} is unchanged",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" },
                    cx.show(&cx.cwd.join(&output))
                )));
            }
            Err(e) => return Err(e.into()),
        };
        if cx.reporter.json() {
            cx.reporter.print_json(&composed)?;
        } else {
            let mut out = String::new();
            for w in &composed.wired {
                out.push_str(&format!(
                    "  {} <- {} <- {}\n",
                    w.consumer, w.interface, w.provider
                ));
            }
            let wiring = match &wires {
                Wires::Auto { .. } => format!("{} wired", composed.wired.len()),
                Wires::Script { path, .. } => format!("wired by {}", cx.show(path)),
            };
            out.push_str(&format!(
                "composed {} -> {} ({}, {} components, {wiring}, {} WASI imports for the runtime)\n",
                composed.components.join(" + "),
                cx.show(&cx.cwd.join(&composed.output)),
                format_size(composed.size),
                composed.components.len(),
                composed.imports.len(),
            ));
            cx.reporter.print(&out)?;
            for u in &composed.unresolved {
                cx.reporter.status(&format!(
                    "warning: {u} still needs a provider: the app imports it (--strict refuses this)"
                ));
            }
            cx.reporter
                .verbose(&format!("composed in {}", format_duration(start.elapsed())));
        }
        Ok(0)
    }
}

/// The wiring and output from weld.toml; the components must have been built.
fn from_manifest(cx: &Context, output: Option<PathBuf>) -> Result<(Wires, PathBuf, bool)> {
    let plan = cx.plan()?;
    let compose = plan.compose.as_ref().ok_or_else(|| Error::Usage {
        message: format!(
            "{} has no [compose] section: name a root and plugs there, or on the command line",
            cx.show(&plan.manifest)
        ),
    })?;
    let wires = match ProjectInputs::of(&plan)? {
        ProjectInputs::Plug { root, plugs } => Wires::Auto { root, plugs },
        ProjectInputs::Script { path, deps } => Wires::Script { path, deps },
        ProjectInputs::All(_) => unreachable!("a plan with [compose] wires its components"),
    };
    Ok((
        wires,
        output.unwrap_or_else(|| compose.output.clone()),
        compose.strict,
    ))
}
