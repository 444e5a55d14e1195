//! `weld wit`: a component's world, as WIT.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;
use wit_parser::{Resolve, WorldItem};

use super::Context;
use weld::check::{load, wit_text};
use weld::error::{Error, Result};

/// Print a component's world as WIT; fetch, update and publish WIT packages in registries
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_long_help = "\
Examples:
  weld wit target/weld/arith.wasm
  weld wit app.wasm --format json                every import and export with its functions
  weld wit fetch                                 the registry packages the project's WIT uses
  weld wit update                                ... at the newest versions allowed
  weld wit publish                               the project's WIT package, as wkg publish

Exit status:
  0  printed
  1  the file is not a valid component (the reason is given)
  2  usage or environment error: missing file"
)]
pub struct WitArgs {
    #[command(subcommand)]
    action: Option<Action>,

    /// The component to describe
    #[arg(value_name = "COMPONENT.wasm")]
    component: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Action {
    Fetch(super::packages::FetchArgs),
    Update(super::packages::UpdateArgs),
    Publish(super::packages::PublishArgs),
}

#[derive(Serialize)]
struct Item {
    name: String,
    kind: &'static str,
    functions: Vec<Func>,
    types: Vec<String>,
}

#[derive(Serialize)]
struct Func {
    name: String,
    signature: String,
}

#[derive(Serialize)]
struct World {
    component: String,
    imports: Vec<Item>,
    exports: Vec<Item>,
}

impl WitArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        let component = match (self.action, self.component) {
            (Some(Action::Fetch(a)), _) => return a.exec(cx),
            (Some(Action::Update(a)), _) => return a.exec(cx),
            (Some(Action::Publish(a)), _) => return a.exec(cx),
            (None, Some(c)) => c,
            (None, None) => {
                return Err(Error::Usage {
                    message: "give a component (`weld wit app.wasm`) or a command: fetch, update, publish (see `weld wit --help`)".into(),
                });
            }
        };
        cx.human_or_json("wit")?;
        let name = component.display().to_string();
        let c = load::load(&component, &name)?;
        if cx.reporter.json() {
            let w = &c.resolve.worlds[c.world];
            let items = |map: &wit_parser::IndexMap<wit_parser::WorldKey, WorldItem>| {
                map.iter()
                    .map(|(k, item)| describe(&c.resolve, c.resolve.name_world_key(k), item))
                    .collect()
            };
            let world = World {
                component: name,
                imports: items(&w.imports),
                exports: items(&w.exports),
            };
            cx.reporter.print_json(&world)?;
        } else {
            let pkg = c.resolve.worlds[c.world]
                .package
                .ok_or_else(|| Error::Usage {
                    message: "the component's world has no package".into(),
                })?;
            let others: Vec<_> = c
                .resolve
                .packages
                .iter()
                .map(|(id, _)| id)
                .filter(|id| *id != pkg)
                .collect();
            let mut printer = wit_component::WitPrinter::default();
            printer
                .print(&c.resolve, pkg, &others)
                .map_err(|e| Error::Usage {
                    message: format!("cannot print the world of {name}: {e:#}"),
                })?;
            cx.reporter.print(&printer.output.to_string())?;
        }
        Ok(0)
    }
}

fn describe(resolve: &Resolve, name: String, item: &WorldItem) -> Item {
    match item {
        WorldItem::Interface { id, .. } => {
            let iface = &resolve.interfaces[*id];
            Item {
                name,
                kind: "interface",
                functions: iface
                    .functions
                    .values()
                    .map(|f| Func {
                        name: f.name.clone(),
                        signature: wit_text::func_sig(resolve, f),
                    })
                    .collect(),
                types: iface
                    .types
                    .values()
                    .map(|t| wit_text::typedef_str(resolve, *t))
                    .collect(),
            }
        }
        WorldItem::Function(f) => Item {
            name,
            kind: "function",
            functions: vec![Func {
                name: f.name.clone(),
                signature: wit_text::func_sig(resolve, f),
            }],
            types: Vec::new(),
        },
        WorldItem::Type { id, .. } => Item {
            name,
            kind: "type",
            functions: Vec::new(),
            types: vec![wit_text::typedef_str(resolve, *id)],
        },
    }
}
