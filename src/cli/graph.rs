//! `weld graph`: the composition, drawn.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use weld::compose::graph::{Graph, Node};
use weld::compose::{self, Input, ProjectInputs};
use weld::error::{Error, Result};
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
        // Each input with its language, when weld.toml says.
        let inputs: Vec<(Input, Option<String>)> = match &self.input {
            Some(root) => {
                let paths: Vec<PathBuf> =
                    std::iter::once(root).chain(&self.plug).cloned().collect();
                Input::from_paths(&paths)
                    .into_iter()
                    .map(|i| (i, None))
                    .collect()
            }
            None => from_manifest(cx)?,
        };
        let nodes = inputs
            .iter()
            .map(|(input, lang)| Node {
                name: input.name.clone(),
                lang: lang.clone(),
                size: std::fs::metadata(&input.path).map(|m| m.len()).unwrap_or(0),
            })
            .collect();
        let (root, plugs) = inputs.split_first().expect("a root at least");
        let plugs: Vec<Input> = plugs.iter().map(|(i, _)| i.clone()).collect();
        let wiring = compose::wire(&root.0, &plugs, false)?;
        let graph = Graph::new(nodes, &wiring);
        match cx.reporter.format() {
            Format::Human => cx.reporter.print(&graph.text())?,
            Format::Json => cx.reporter.print_json(&graph)?,
            Format::Dot => cx.reporter.print(&graph.dot())?,
            Format::Mermaid => cx.reporter.print(&graph.mermaid())?,
        }
        Ok(0)
    }
}

fn from_manifest(cx: &Context) -> Result<Vec<(Input, Option<String>)>> {
    let plan = cx.plan()?;
    let ProjectInputs::Plug { root, plugs } = ProjectInputs::of(&plan)? else {
        return Err(Error::Usage {
            message: format!(
                "{} has no [compose] root and plugs to draw: name them there, or on the command line",
                cx.show(&plan.manifest)
            ),
        });
    };
    let lang = |input: &Input| plan.component(&input.name).map(|c| c.lang.to_string());
    Ok(std::iter::once(root)
        .chain(plugs)
        .map(|input| {
            let lang = lang(&input);
            (input, lang)
        })
        .collect())
}
