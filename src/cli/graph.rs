//! `weld graph`: the composition, drawn.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use weld::check::{Loaded, load, plug};
use weld::compose::graph::{Graph, Node};
use weld::error::{Error, Result};
use weld::project::Wiring;
use weld::report::Format;

/// Show how the application's components are wired: a text tree, Graphviz DOT or Mermaid
///
/// One node per component with its language and size, one edge per wired interface with its
/// version, and what the whole app imports from the runtime and exports.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld graph                                     the project's composition as a tree (after weld build)
  weld graph --format dot | dot -Tsvg > app.svg
  weld graph --format mermaid
  weld graph cli.wasm --plug arith.wasm --plug words.wasm

Exit status:
  0  drawn
  1  an input is not a component
  2  usage or environment error: missing file, components not built")]
pub struct GraphArgs {
    /// The root component [default: weld.toml's [compose]]
    #[arg(value_name = "ROOT.wasm")]
    input: Option<PathBuf>,

    /// A component that provides imports of the root (or of other plugs)
    #[arg(long, value_name = "PLUG.wasm", requires = "input")]
    plug: Vec<PathBuf>,
}

impl GraphArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        // (component file, its name, its language)
        let inputs: Vec<(PathBuf, String, Option<String>)> = match &self.input {
            Some(root) => std::iter::once(root)
                .chain(&self.plug)
                .map(|p| {
                    let name = p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    (p.clone(), name, None)
                })
                .collect(),
            None => from_manifest(cx)?,
        };
        let mut loaded: Vec<Loaded> = Vec::new();
        let mut nodes = Vec::new();
        for (path, name, lang) in &inputs {
            loaded.push(load::load(path, name)?);
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            nodes.push(Node {
                name: name.clone(),
                lang: lang.clone(),
                size,
            });
        }
        let findings = plug::check(&loaded, 1);
        let root = &loaded[0];
        let exports = root.resolve.worlds[root.world]
            .exports
            .keys()
            .map(|k| root.resolve.name_world_key(k))
            .collect();
        let graph = Graph::new(nodes, &findings, exports);
        match cx.reporter.format() {
            Format::Human => cx.reporter.print(&graph.text())?,
            Format::Json => cx.reporter.print_json(&graph)?,
            Format::Dot => cx.reporter.print(&graph.dot())?,
            Format::Mermaid => cx.reporter.print(&graph.mermaid())?,
        }
        Ok(0)
    }
}

fn from_manifest(cx: &Context) -> Result<Vec<(PathBuf, String, Option<String>)>> {
    let plan = cx.plan()?;
    let Some(Wiring::Plug { root, plugs }) = plan.compose.as_ref().map(|c| &c.wiring) else {
        return Err(Error::Usage {
            message: format!(
                "{} has no [compose] root and plugs to draw: name them there, or on the command line",
                cx.show(&plan.manifest)
            ),
        });
    };
    std::iter::once(root)
        .chain(plugs)
        .map(|name| {
            let c = plan.component(name).expect("validated wiring names components");
            if !c.output.exists() {
                return Err(Error::Usage {
                    message: format!("component `{name}` is not built yet ({} does not exist): run `weld build` first", cx.show(&c.output)),
                });
            }
            Ok((c.output.clone(), name.clone(), Some(c.lang.to_string())))
        })
        .collect()
}
