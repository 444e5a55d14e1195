//! `weld wit`: a component's world, as WIT; and `weld wit fetch`, `update` and `publish`: WIT
//! packages from and to registries, configured as wkg is.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;
use wit_parser::{Resolve, WorldItem};

use super::Context;
use super::flags::RegistryFlags;
use weld::check::{load, wit_text};
use weld::error::{Error, Result};
use weld::packages::{self, Mode};
use weld::report::Style;

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
    Fetch(FetchArgs),
    Update(UpdateArgs),
    Publish(PublishArgs),
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

/// Fetch the registry WIT packages the project's WIT uses into its deps/, and pin them in
/// weld.lock
///
/// A package that the project's WIT uses and that is neither in the project (wit/, deps/) nor
/// WASI that weld's runtime provides is looked up in the registry wkg's configuration names for
/// its namespace (`$XDG_CONFIG_HOME/wasm-pkg/config.toml`, or $WKG_CONFIG_FILE), fetched over
/// OCI with every digest checked, kept in weld's cache, and written into the WIT directory's
/// deps/ as `deps/NAMESPACE-NAME-VERSION/package.wit`. Every command that reads the project
/// does this first; this command does only that.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld wit fetch                 fetch what weld.lock pins, resolve what it lacks
  weld wit fetch --locked        fail if weld.lock would change (CI)
  weld wit fetch --offline       only weld.lock and the cache

Exit status:
  0  every package is in place
  1  a fetched package is not what it should be (digest, content), or --locked and the lock
     would change
  2  usage or environment error: no registry configured, a version that does not exist, the
     registry unreachable")]
pub struct FetchArgs {}

/// Resolve the registry WIT packages again, ignoring weld.lock (a tag published anew), and
/// rewrite it
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld wit update                every package
  weld wit update acme:billing   only this one

A WIT reference names one exact version (`acme:billing/rates@1.2.0`): update takes that
version's current digest, for a tag published again with other contents.")]
pub struct UpdateArgs {
    /// Only these packages (NAMESPACE:NAME) [default: all]
    #[arg(value_name = "PACKAGE")]
    packages: Vec<String>,
}

/// Publish a WIT package to a registry, as `wkg publish` does
///
/// Encodes the package in DIR (as `wkg build` does) and pushes it as a Wasm OCI artifact to
/// REGISTRY/NAMESPACE/NAME:VERSION, the registry being --registry or the one wkg's
/// configuration names for the package's namespace. Another project (weld or wkg) then
/// depends on it by name and version.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld wit publish                          the project's wit/, where wkg's config says
  weld wit publish wit --registry localhost:5000

Exit status:
  0  published; the reference and the package's digest are printed
  1  the WIT does not parse or resolve
  2  usage or environment error: no version in the package, no registry, the registry refusing")]
pub struct PublishArgs {
    /// The WIT package's directory [default: wit/ beside weld.toml, else ./wit]
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,

    /// The registry (HOST[:PORT]) [default: from wkg's configuration]
    #[arg(long, value_name = "REGISTRY")]
    registry: Option<String>,

    #[command(flatten)]
    flags: RegistryFlags,
}

impl FetchArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        sync(cx, cx.packages.clone())
    }
}

impl UpdateArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        if cx.packages != Mode::Normal {
            return Err(Error::Usage {
                message:
                    "`weld wit update` changes weld.lock: it takes neither --locked nor --offline"
                        .into(),
            });
        }
        for p in &self.packages {
            if !p.contains(':') || p.contains('@') || p.contains('/') {
                return Err(Error::Usage {
                    message: format!(
                        "`{p}` is not a package name: write NAMESPACE:NAME, e.g. acme:billing"
                    ),
                });
            }
        }
        sync(cx, Mode::Update(self.packages))
    }
}

/// Provides the project's registry packages under `mode` and says what it did.
fn sync(cx: &Context, mode: Mode) -> Result<u8> {
    let manifest = weld::project::locate(cx.manifest_path.as_deref(), &cx.cwd)?;
    let Some(mut request) = cx.packages_request(&manifest) else {
        // weld.toml does not parse: making the plan says where.
        cx.discover(Some(&manifest))?;
        return Ok(0);
    };
    request.mode = mode;
    let synced = packages::sync(&request)?;
    if cx.reporter.json() {
        cx.reporter.print_json(&synced)?;
        return Ok(0);
    }
    cx.report_synced(&synced);
    if synced.packages.is_empty() {
        cx.reporter
            .status("the project's WIT uses no registry packages");
    }
    for p in &synced.packages {
        cx.reporter.print(&format!(
            "{}@{} {} {}\n",
            p.package, p.version, p.registry, p.digest
        ))?;
    }
    Ok(0)
}

impl PublishArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("wit publish")?;
        let dir = match &self.dir {
            Some(d) => weld::fsutil::clean(&cx.cwd.join(d)),
            None => weld::project::locate(cx.manifest_path.as_deref(), &cx.cwd)
                .ok()
                .and_then(|m| Some(m.parent()?.join("wit")))
                .filter(|d| d.is_dir())
                .unwrap_or_else(|| cx.cwd.join("wit")),
        };
        // The registry packages it uses go into its deps/ first, pinned in the project's
        // weld.lock (every WIT directory of the project, so no other entry is lost), or outside
        // a project in a weld.lock beside the directory, as `wkg publish` keeps wkg.lock.
        let mut request = weld::project::locate(cx.manifest_path.as_deref(), &cx.cwd)
            .ok()
            .and_then(|m| cx.packages_request(&m))
            .unwrap_or_else(|| packages::Request {
                root: dir
                    .parent()
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_else(|| cx.cwd.clone()),
                wit_dirs: Vec::new(),
                declared: Default::default(),
                cache_dir: weld::run::default_cache_dir(),
                mode: Mode::Normal,
            });
        if !request.wit_dirs.contains(&dir) {
            request.wit_dirs.push(dir.clone());
        }
        request.mode = cx.packages.clone();
        let synced = packages::sync(&request)?;
        cx.report_synced(&synced);
        let encoded = packages::encode(&dir)?;
        let mut place = packages::place(&encoded.name, self.registry.as_deref())?;
        // The command line's flags add to what wkg's configuration says about the registry.
        let flags = self.flags.transport(cx)?;
        place.transport.insecure.extend(flags.insecure);
        place.transport.ca_files.extend(flags.ca_files);
        if flags.credentials.is_some() {
            place.transport.credentials = flags.credentials;
        }
        let created = weld::oci::created().map_err(|message| Error::Usage { message })?;
        let published = packages::publish(&encoded, &place, Some(created))?;
        if cx.reporter.json() {
            cx.reporter.print_json(&published)?;
            return Ok(0);
        }
        let r = &cx.reporter;
        r.status(&format!(
            "{} {}@{} to {}",
            r.paint("published", Style::Bold),
            published.package,
            published.version,
            published.reference
        ));
        r.print(&format!("{} {}\n", published.reference, published.digest))?;
        Ok(0)
    }
}
