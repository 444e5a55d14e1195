//! `weld new --world`: a component that implements an existing world, one stub per export.
//!
//! Each language's skeleton takes its signatures from that language's bindings: componentize-py's
//! `bindings` for Python (its protocols, copied method by method), jco's guest types for
//! JavaScript (turned into JSDoc, which the source check reads), and wit-bindgen's conventions
//! for Rust (which the compiler holds the skeleton to). Every stub says where its WIT is and
//! fails loudly when called, so a skeleton builds, checks and runs at once, and nothing in it
//! pretends to work.

use std::path::{Path, PathBuf};
use std::process::Command;

use wit_parser::{
    Function, FunctionKind, Interface, InterfaceId, Resolve, TypeDefKind, WorldId, WorldItem,
};

use super::ScaffoldError;
use crate::check::wit_text::func_sig;
use crate::toolchain::Toolchains;

mod go;
mod js;
mod python;
mod rust;

pub(super) use go::go;
pub(super) use js::js;
pub(super) use python::python;
pub(super) use rust::rust;

/// What a skeleton is made from.
pub(super) struct Source<'a> {
    /// The component's name.
    pub name: &'a str,
    /// Its directory.
    pub dir: &'a Path,
    /// The project's WIT directory.
    pub wit: &'a Path,
    /// The WIT directory as weld.toml names it (`wit`), for paths written into sources.
    pub wit_key: &'a str,
    /// The world as the user named it.
    pub world: &'a str,
    /// Scratch space for the bindings generators.
    pub scratch: &'a Path,
    pub toolchains: &'a Toolchains,
}

impl Source<'_> {
    fn fail(&self, message: String) -> ScaffoldError {
        ScaffoldError::Unsupported(message)
    }

    /// The world and the file that declares it (for the comments that point at it).
    pub(super) fn world(&self) -> Result<World, ScaffoldError> {
        let (resolve, pkg) = crate::wit::load_dir(self.wit, Path::new(self.wit_key))?;
        let id = resolve
            .select_world(&[pkg], Some(self.world))
            .map_err(|_| ScaffoldError::UnknownWorld {
                world: self.world.to_string(),
                wit: self.wit_key.to_string(),
                worlds: resolve.packages[pkg].worlds.keys().cloned().collect(),
            })?;
        let short = &resolve.worlds[id].name;
        let declares =
            regex::Regex::new(&format!(r"(?m)^\s*world\s+{}\s*\{{", regex::escape(short)))
                .expect("a valid pattern");
        let file = std::fs::read_dir(self.wit)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wit"))
            .find(|p| std::fs::read_to_string(p).is_ok_and(|text| declares.is_match(&text)))
            .and_then(|p| {
                p.file_name()
                    .map(|n| format!("{}/{}", self.wit_key, n.to_string_lossy()))
            })
            .unwrap_or_else(|| self.wit_key.to_string());
        Ok((resolve, id, file))
    }

    /// Refuses a world that exports nothing in a language whose components only export what
    /// their world says: the component would have nothing to run and nothing to call.
    fn refuse_imports_only(
        &self,
        (resolve, world): (&Resolve, WorldId),
        lang: &str,
        file: &str,
    ) -> Result<(), ScaffoldError> {
        if Shape::of(resolve, world) != Shape::ImportsOnly {
            return Ok(());
        }
        Err(self.fail(format!(
            "world `{world}` ({file}) only imports, so a {lang} component of it would export nothing: nothing for `weld up` to run and nothing for another component to call. \
             To make it a command, add `export wasi:cli/run@{wasi};` to world `{world}` (the skeleton then has a `run` to write), \
             or write it in Rust or Go, where a `main` makes it a command",
            world = self.world,
            wasi = crate::wit::runtime_wasi_version(),
        )))
    }

    /// The WIT directory to give a bindings generator (with the runtime's WASI where needed).
    fn staged_wit(&self) -> Result<PathBuf, ScaffoldError> {
        crate::wit::for_toolchain(self.wit, &self.scratch.join("wit"))
            .map_err(|e| self.fail(e.to_string()))
    }

    fn run(&self, cmd: &mut Command, what: &str) -> Result<(), ScaffoldError> {
        let out = cmd.output().map_err(|e| {
            self.fail(format!(
                "cannot run {what} ({e}): run ./install.sh, then `weld doctor`"
            ))
        })?;
        if !out.status.success() {
            return Err(self.fail(format!(
                "{what} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }
}

/// A world of the project's WIT: (its resolve, its id, the WIT file that declares it).
pub(super) type World = (Resolve, WorldId, String);

/// What a world makes a component: what `weld up` does with it and where it goes in
/// `[compose]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// It exports `wasi:cli/run`: a command, an app's root.
    Command,
    /// It exports `wasi:http/incoming-handler`: an HTTP app's root.
    Http,
    /// It exports interfaces or functions for other components: a plug.
    Library,
    /// It exports nothing; only a language's `main` can make it a command.
    ImportsOnly,
}

impl Shape {
    pub(super) fn of(resolve: &Resolve, world: WorldId) -> Shape {
        let exports = &resolve.worlds[world].exports;
        let exports_interface = |wanted: &str| {
            exports.values().any(|item| match item {
                WorldItem::Interface { id, .. } => resolve
                    .id_of(*id)
                    .is_some_and(|name| name.split('@').next() == Some(wanted)),
                _ => false,
            })
        };
        if exports_interface("wasi:cli/run") {
            Shape::Command
        } else if exports_interface("wasi:http/incoming-handler") {
            Shape::Http
        } else if exports.is_empty() {
            Shape::ImportsOnly
        } else {
            Shape::Library
        }
    }
}

/// One part of a world's exports, as every skeleton lays them out: the world's own functions,
/// or one exported interface with its free functions and its resources.
struct Block<'a> {
    /// The interface (None: the world's own functions).
    iface: Option<(InterfaceId, &'a Interface)>,
    /// Its free functions, in WIT order.
    functions: Vec<&'a Function>,
    /// Its resources, in WIT order.
    resources: Vec<Resource<'a>>,
}

/// An exported resource with its constructor, methods and static functions, in WIT order.
struct Resource<'a> {
    name: &'a str,
    methods: Vec<&'a Function>,
}

/// One function to write a stub for.
struct Stub<'a> {
    function: &'a Function,
    /// Its WIT, as the stub quotes it (`area: func(s: shape) -> f64`).
    wit: String,
}

/// How one language writes the stubs of a world's exports. [`walk`] visits them in WIT order;
/// a language only spells each piece, with the names and types its bindings generator gives.
trait Spelling {
    fn open(&mut self, block: &Block) -> Result<(), ScaffoldError>;
    fn function(&mut self, block: &Block, stub: &Stub) -> Result<(), ScaffoldError>;
    fn resource(&mut self, block: &Block, resource: &Resource) -> Result<(), ScaffoldError>;
    fn method(
        &mut self,
        block: &Block,
        resource: &Resource,
        stub: &Stub,
    ) -> Result<(), ScaffoldError>;
    fn close_resource(&mut self, _: &Block, _: &Resource) -> Result<(), ScaffoldError> {
        Ok(())
    }
    fn close(&mut self, block: &Block) -> Result<(), ScaffoldError>;
}

/// Walks a world's exports: the world's own functions first, then each exported interface, its
/// free functions before its resources.
fn walk(
    resolve: &Resolve,
    world: WorldId,
    spelling: &mut impl Spelling,
) -> Result<(), ScaffoldError> {
    let stub = |function| Stub {
        function,
        wit: wit_line(resolve, function),
    };
    for block in blocks(resolve, world) {
        spelling.open(&block)?;
        for f in &block.functions {
            spelling.function(&block, &stub(f))?;
        }
        for r in &block.resources {
            spelling.resource(&block, r)?;
            for f in &r.methods {
                spelling.method(&block, r, &stub(f))?;
            }
            spelling.close_resource(&block, r)?;
        }
        spelling.close(&block)?;
    }
    Ok(())
}

/// The world's exports as blocks, in the order [`walk`] visits them.
fn blocks(resolve: &Resolve, world: WorldId) -> Vec<Block<'_>> {
    let w = &resolve.worlds[world];
    let own: Vec<&Function> = w
        .exports
        .values()
        .filter_map(|item| match item {
            WorldItem::Function(f) => Some(f),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    if !own.is_empty() {
        out.push(Block {
            iface: None,
            functions: own,
            resources: Vec::new(),
        });
    }
    for item in w.exports.values() {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let i = &resolve.interfaces[*id];
        let resources = i
            .types
            .iter()
            .filter(|(_, t)| matches!(resolve.types[**t].kind, TypeDefKind::Resource))
            .map(|(name, t)| Resource {
                name,
                methods: i
                    .functions
                    .values()
                    .filter(|f| f.kind.resource() == Some(*t))
                    .collect(),
            })
            .collect();
        out.push(Block {
            iface: Some((*id, i)),
            functions: i
                .functions
                .values()
                .filter(|f| {
                    matches!(
                        f.kind,
                        FunctionKind::Freestanding | FunctionKind::AsyncFreestanding
                    )
                })
                .collect(),
            resources,
        });
    }
    out
}

/// `area: func(s: shape) -> f64`.
fn wit_line(resolve: &Resolve, f: &Function) -> String {
    let name = match f.kind {
        FunctionKind::Constructor(_) => "constructor".to_string(),
        _ => f.item_name().to_string(),
    };
    let sig = func_sig(resolve, f);
    if matches!(f.kind, FunctionKind::Constructor(_)) {
        let sig = sig.trim_start_matches("func");
        let params = sig.split(" -> ").next().unwrap_or(sig);
        format!("constructor{params}")
    } else if matches!(f.kind, FunctionKind::Static(_)) {
        format!("{name}: static {sig}")
    } else {
        format!("{name}: {sig}")
    }
}

/// `demo:kinds/shapes@0.1.0`, as stubs name the interface they export.
fn interface_id(resolve: &Resolve, i: &Interface) -> String {
    match (i.package, &i.name) {
        (Some(p), Some(n)) => {
            let pkg = &resolve.packages[p].name;
            match &pkg.version {
                Some(v) => format!("{}:{}/{n}@{v}", pkg.namespace, pkg.name),
                None => format!("{}:{}/{n}", pkg.namespace, pkg.name),
            }
        }
        _ => "an inline interface".into(),
    }
}
