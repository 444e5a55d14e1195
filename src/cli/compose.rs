//! `weld compose`: one application component from many.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use weld::compose::{self, ComposeError, Input};
use weld::error::{Error, Result};
use weld::project::Wiring;
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

    /// Refuse to leave an import that neither a component nor weld's runtime provides
    #[arg(long)]
    strict: bool,
}

impl ComposeArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("compose")?;
        if self
            .input
            .as_ref()
            .is_some_and(|i| i.extension().is_some_and(|e| e == "wac"))
        {
            return Err(super::not_implemented(
                "compose FILE.wac",
                "compose with `root` and `plugs`, or use `wac compose` for scripts meanwhile",
            ));
        }
        let (root, plugs, output, strict) = match &self.input {
            Some(root) => {
                let input = |p: &PathBuf| Input {
                    name: p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    ),
                    path: p.clone(),
                };
                let output = self
                    .output
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("app.wasm"));
                (
                    input(root),
                    self.plug.iter().map(input).collect::<Vec<_>>(),
                    output,
                    self.strict,
                )
            }
            None => {
                let (root, plugs, output, strict) = from_manifest(cx, self.output.clone())?;
                (root, plugs, output, strict || self.strict)
            }
        };
        let start = std::time::Instant::now();
        let composed = match compose::compose(&root, &plugs, &output, strict) {
            Ok(c) => c,
            Err(ComposeError::DoesNotFit { findings, errors }) => {
                let mut names = vec![root.name.as_str()];
                names.extend(plugs.iter().map(|p| p.name.as_str()));
                if cx.reporter.json() {
                    cx.reporter
                        .print_json(&serde_json::json!({ "ok": false, "findings": findings }))?;
                } else {
                    // Compose refuses an unused plug, which check only warns about.
                    let shown: Vec<_> = findings
                        .into_iter()
                        .map(|mut f| {
                            if f.code == "unused-plug" {
                                f.severity = weld::check::Severity::Error;
                            }
                            f
                        })
                        .collect();
                    cx.reporter
                        .print(&super::check::render(cx, &names, &shown))?;
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
            out.push_str(&format!(
                "composed {} -> {} ({}, {} components, {} wired, {} WASI imports for the runtime)\n",
                composed.components.join(" + "),
                cx.show(&cx.cwd.join(&composed.output)),
                format_size(composed.size),
                composed.components.len(),
                composed.wired.len(),
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

/// Root, plugs and output from weld.toml; the components must have been built.
fn from_manifest(
    cx: &Context,
    output: Option<PathBuf>,
) -> Result<(Input, Vec<Input>, PathBuf, bool)> {
    let plan = cx.plan()?;
    let compose = plan.compose.as_ref().ok_or_else(|| Error::Usage {
        message: format!(
            "{} has no [compose] section: name a root and plugs there, or on the command line",
            cx.show(&plan.manifest)
        ),
    })?;
    let (root, plugs) = match &compose.wiring {
        Wiring::Plug { root, plugs } => (root, plugs),
        Wiring::Script { .. } => {
            return Err(super::not_implemented(
                "compose (script)",
                "use `root` and `plugs` in [compose], or `wac compose` for scripts meanwhile",
            ));
        }
    };
    let input = |name: &String| -> Result<Input> {
        let c = plan
            .component(name)
            .expect("validated wiring names components");
        if !c.output.exists() {
            return Err(Error::Usage {
                message: format!(
                    "component `{name}` is not built yet ({} does not exist): run `weld build` first",
                    cx.show(&c.output)
                ),
            });
        }
        Ok(Input {
            name: name.clone(),
            path: c.output.clone(),
        })
    };
    let plugs = plugs.iter().map(input).collect::<Result<Vec<_>>>()?;
    Ok((
        input(root)?,
        plugs,
        output.unwrap_or_else(|| compose.output.clone()),
        compose.strict,
    ))
}
