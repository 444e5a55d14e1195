//! The Rust skeleton: wit-bindgen's `Guest` traits, spelled by wit-bindgen's conventions (which
//! the compiler then holds the skeleton to).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeOwner, WorldId,
    WorldItem,
};

use super::{
    Block, Resource, ScaffoldError, Shape, Source, Spelling, Stub, World, interface_id, walk,
};

pub(in crate::scaffold) fn rust(
    src: &Source,
    (resolve, world, file): &World,
) -> Result<Vec<(PathBuf, String)>, ScaffoldError> {
    let world = *world;
    // wit-bindgen's macro reads the WIT directory on its own, so the WASI packages weld
    // supplies at build time must be on disk for it (and for rust-analyzer), as `wkg wit
    // fetch` would put them.
    let mut files: Vec<(PathBuf, String)> = crate::wit::undeclared_wasi(src.wit)
        .into_iter()
        .map(|(name, text)| {
            (
                src.wit
                    .join("deps")
                    .join(crate::wit::runtime_dep_name(&name)),
                text,
            )
        })
        .collect();
    let wit_path = if Path::new(src.wit_key).is_absolute() {
        src.wit_key.to_string()
    } else {
        format!("../{}", src.wit_key)
    };
    // WASI's interfaces get bindings of their own (wit-bindgen asks which crate's to use
    // otherwise).
    let uses_wasi = {
        let w = &resolve.worlds[world];
        w.imports
            .values()
            .chain(w.exports.values())
            .any(|item| match item {
                WorldItem::Interface { id, .. } => is_wasi(resolve, *id),
                _ => false,
            })
    };
    let all = if uses_wasi { "    generate_all,\n" } else { "" };
    let generate = format!(
        "wit_bindgen::generate!({{\n    world: \"{}\",\n    path: \"{wit_path}\",\n{all}}});\n\n",
        src.world
    );
    if Shape::of(resolve, world) == Shape::ImportsOnly {
        files.push((src.dir.join("Cargo.toml"), rust_manifest(src.name, "")));
        files.push((
            src.dir.join("src/main.rs"),
            command(src, resolve, world, file, &generate),
        ));
    } else {
        files.push((
            src.dir.join("Cargo.toml"),
            rust_manifest(src.name, "[lib]\ncrate-type = [\"cdylib\"]\n\n"),
        ));
        files.push((
            src.dir.join("src/lib.rs"),
            library(src, resolve, world, file, &generate)?,
        ));
    }
    Ok(files)
}

/// A world that exports nothing is a command: a `bin` crate, whose `main` std exports as
/// `wasi:cli/run`, with the world's imports generated beside it.
fn command(src: &Source, resolve: &Resolve, world: WorldId, file: &str, generate: &str) -> String {
    let mut kept = String::new();
    for item in resolve.worlds[world].imports.values() {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let i = &resolve.interfaces[*id];
        if is_wasi(resolve, *id) || i.name.is_none() {
            continue;
        }
        for f in i.functions.values() {
            if matches!(
                f.kind,
                FunctionKind::Freestanding | FunctionKind::AsyncFreestanding
            ) {
                let _ = writeln!(
                    kept,
                    "        {}::{} as *const (),",
                    rust_module(resolve, *id, false),
                    rust_ident(&f.name)
                );
            }
        }
    }
    let kept = if kept.is_empty() {
        String::new()
    } else {
        // rustc drops what nothing calls, and with it the import: the plugs that
        // `[compose]` names would then have nothing to plug into.
        format!(
            "    // The world's imports, ready to call. Referenced here so that they stay in the\n    \
             // component until `main` calls them (the compiler drops what nothing uses).\n    \
             std::hint::black_box([\n{kept}    ]);\n"
        )
    };
    format!(
        "//! `{name}`: a command implementing world `{world}` ({file}).\n//!\n\
         //! Made by `weld new --world`: the world's imports are the modules wit-bindgen\n\
         //! generates here; `main` is where the command starts, and arguments after `--`\n\
         //! reach `std::env::args`.\n\n\
         {generate}\
         fn main() {{\n{kept}    todo!(\"{name} is not written yet (see {file})\")\n}}\n",
        name = src.name,
        world = src.world,
    )
}

/// A world with exports: `Component` implements each `Guest` trait, a `…Impl` struct each
/// resource.
fn library(
    src: &Source,
    resolve: &Resolve,
    world: WorldId,
    file: &str,
    generate: &str,
) -> Result<String, ScaffoldError> {
    let exported: Vec<InterfaceId> = resolve.worlds[world]
        .exports
        .values()
        .filter_map(|item| match item {
            WorldItem::Interface { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    let mut rust = RustSpelling {
        src,
        resolve,
        file,
        exported: &exported,
        traits: String::new(),
        types: String::new(),
        functions: String::new(),
        resources: String::new(),
    };
    walk(resolve, world, &mut rust)?;
    let RustSpelling {
        traits, resources, ..
    } = rust;
    let uses = uses(resolve, &exported, &traits, &resources);
    Ok(format!(
        "//! `{}`: implements world `{}` ({file}).\n//!\n\
         //! Made by `weld new --world`: every export is here, with the signature wit-bindgen's\n\
         //! traits give it. Replace each `todo!` with the real thing.\n\n\
         {generate}{uses}struct Component;\n{traits}{resources}\nexport!(Component);\n",
        src.name, src.world
    ))
}

/// `use` the exported interfaces' own types that the code names, so signatures read as the WIT
/// does.
fn uses(resolve: &Resolve, exported: &[InterfaceId], traits: &str, resources: &str) -> String {
    let mut uses = String::new();
    // A type one interface `use`s from another has the same name in both: import it once.
    let mut imported: Vec<String> = Vec::new();
    for id in exported {
        let i = &resolve.interfaces[*id];
        let mut names: Vec<String> = i
            .types
            .iter()
            .flat_map(|(n, tid)| {
                let ty = rust_type_name(n);
                if matches!(resolve.types[*tid].kind, TypeDefKind::Resource) {
                    vec![ty.clone(), format!("{ty}Borrow")]
                } else {
                    vec![ty]
                }
            })
            .filter(|n| {
                regex::Regex::new(&format!(r"\b{}\b", regex::escape(n)))
                    .expect("a valid pattern")
                    .is_match(traits)
                    || resources.contains(n.as_str())
            })
            .filter(|n| !imported.contains(n))
            .collect();
        names.sort();
        imported.extend(names.iter().cloned());
        if !names.is_empty() {
            let _ = writeln!(
                uses,
                "#[allow(unused_imports)]\nuse {}::{{{}}};",
                rust_module(resolve, *id, true),
                names.join(", ")
            );
        }
    }
    if uses.is_empty() { uses } else { uses + "\n" }
}

/// Rust's spelling: an `impl …Guest for Component` per block, with `type X = XImpl;` for each
/// resource first, and an `impl …GuestX for XImpl` per resource after all of them.
struct RustSpelling<'a> {
    src: &'a Source<'a>,
    resolve: &'a Resolve,
    file: &'a str,
    exported: &'a [InterfaceId],
    /// The `impl` blocks written so far.
    traits: String,
    /// The current block's resource types and functions.
    types: String,
    functions: String,
    /// The resources' `impl` blocks.
    resources: String,
}

impl RustSpelling<'_> {
    fn cx(&self, block: &Block) -> RustCx<'_> {
        RustCx {
            resolve: self.resolve,
            here: block.iface.map(|(id, _)| id),
            exported: self.exported,
        }
    }

    /// The stub of one function, or why this skeleton cannot write it.
    fn stub(
        &self,
        block: &Block,
        stub: &Stub,
        indent: &str,
        what: &str,
    ) -> Result<String, ScaffoldError> {
        let sig = self.cx(block).signature(stub.function).map_err(|what| {
            self.src.fail(format!(
                "world `{}` uses {what}, which the Rust skeleton cannot write yet; start from `weld new --template cli` and wit-bindgen's docs",
                self.src.world
            ))
        })?;
        Ok(format!(
            "{indent}/// WIT: `{}`\n{indent}{sig} {{\n{indent}    todo!(\"{what} is not written yet (see {})\")\n{indent}}}\n",
            stub.wit, self.file
        ))
    }
}

impl Spelling for RustSpelling<'_> {
    fn open(&mut self, _: &Block) -> Result<(), ScaffoldError> {
        self.types.clear();
        self.functions.clear();
        Ok(())
    }

    fn function(&mut self, block: &Block, stub: &Stub) -> Result<(), ScaffoldError> {
        if !self.functions.is_empty() {
            self.functions.push('\n');
        }
        let text = self.stub(block, stub, "    ", &stub.function.name)?;
        self.functions.push_str(&text);
        Ok(())
    }

    fn resource(&mut self, block: &Block, resource: &Resource) -> Result<(), ScaffoldError> {
        let Some((id, i)) = block.iface else {
            return Ok(());
        };
        let ty = rust_type_name(resource.name);
        let _ = writeln!(self.types, "    type {ty} = {ty}Impl;\n");
        let _ = writeln!(
            self.resources,
            "\n/// Resource `{}` of {}.\nstruct {ty}Impl;\n\n#[allow(unused_variables)]\nimpl {}::Guest{ty} for {ty}Impl {{",
            resource.name,
            interface_id(self.resolve, i),
            rust_module(self.resolve, id, true),
        );
        Ok(())
    }

    fn method(
        &mut self,
        block: &Block,
        resource: &Resource,
        stub: &Stub,
    ) -> Result<(), ScaffoldError> {
        // A blank line between methods: the resource's header ends in `{`.
        if !self.resources.ends_with("{\n") {
            self.resources.push('\n');
        }
        let what = format!("{}.{}", resource.name, stub.function.item_name());
        let text = self.stub(block, stub, "    ", &what)?;
        self.resources.push_str(&text);
        Ok(())
    }

    fn close_resource(&mut self, _: &Block, _: &Resource) -> Result<(), ScaffoldError> {
        self.resources.push_str("}\n");
        Ok(())
    }

    fn close(&mut self, block: &Block) -> Result<(), ScaffoldError> {
        let (trait_path, label) = match block.iface {
            Some((id, i)) => (
                format!("{}::Guest", rust_module(self.resolve, id, true)),
                interface_id(self.resolve, i),
            ),
            None => ("Guest".to_string(), format!("world `{}`", self.src.world)),
        };
        let _ = writeln!(
            self.traits,
            "\n/// Exports {label}.\n#[allow(unused_variables)]\nimpl {trait_path} for Component {{\n{}{}}}",
            self.types, self.functions
        );
        Ok(())
    }
}

/// `parse-numbers` → `parse_numbers`, as wit-bindgen names functions and modules.
fn rust_ident(name: &str) -> String {
    const KEYWORDS: [&str; 38] = [
        "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
        "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
        "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
        "where", "while", "async", "await", "dyn", "gen",
    ];
    let s = name.replace('-', "_");
    if KEYWORDS.contains(&s.as_str()) {
        s + "_"
    } else {
        s
    }
}

/// `word-count` → `WordCount`.
fn rust_type_name(name: &str) -> String {
    crate::check::source::python_class(name)
}

/// Where wit-bindgen puts an interface's module: `exports::ns::pkg::iface` for exported ones.
fn rust_module(resolve: &Resolve, id: wit_parser::InterfaceId, exported: bool) -> String {
    let i = &resolve.interfaces[id];
    let mut path = Vec::new();
    if exported {
        path.push("exports".to_string());
    }
    if let Some(p) = i.package {
        let pkg = &resolve.packages[p].name;
        path.push(rust_ident(&pkg.namespace));
        path.push(rust_ident(&pkg.name));
    }
    path.push(rust_ident(i.name.as_deref().unwrap_or("")));
    path.join("::")
}

struct RustCx<'a> {
    resolve: &'a Resolve,
    /// The interface whose types are in scope by `use`.
    here: Option<wit_parser::InterfaceId>,
    exported: &'a [wit_parser::InterfaceId],
}

impl RustCx<'_> {
    fn ty(&self, ty: &Type) -> Result<String, String> {
        Ok(match ty {
            Type::Bool => "bool".into(),
            Type::U8 => "u8".into(),
            Type::U16 => "u16".into(),
            Type::U32 => "u32".into(),
            Type::U64 => "u64".into(),
            Type::S8 => "i8".into(),
            Type::S16 => "i16".into(),
            Type::S32 => "i32".into(),
            Type::S64 => "i64".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::Char => "char".into(),
            Type::String => "String".into(),
            Type::ErrorContext => return Err("error-context".into()),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                match (&def.kind, &def.name) {
                    (TypeDefKind::Handle(Handle::Own(r)), _) => self.named(*r)?,
                    (TypeDefKind::Handle(Handle::Borrow(r)), _) => {
                        format!("{}Borrow<'_>", self.named(*r)?)
                    }
                    (_, Some(_)) => self.named(*id)?,
                    (TypeDefKind::List(t), None) => format!("Vec<{}>", self.ty(t)?),
                    (TypeDefKind::Option(t), None) => format!("Option<{}>", self.ty(t)?),
                    (TypeDefKind::Result(r), None) => format!(
                        "Result<{}, {}>",
                        r.ok.as_ref().map_or(Ok("()".to_string()), |t| self.ty(t))?,
                        r.err
                            .as_ref()
                            .map_or(Ok("()".to_string()), |t| self.ty(t))?
                    ),
                    (TypeDefKind::Tuple(t), None) => {
                        let parts = t
                            .types
                            .iter()
                            .map(|t| self.ty(t))
                            .collect::<Result<Vec<_>, _>>()?;
                        if parts.len() == 1 {
                            format!("({},)", parts[0])
                        } else {
                            format!("({})", parts.join(", "))
                        }
                    }
                    (TypeDefKind::Type(t), None) => self.ty(t)?,
                    // WASI 0.3's async values, as wit-bindgen's async support names them.
                    (TypeDefKind::Stream(t), None) => format!(
                        "wit_bindgen::StreamReader<{}>",
                        t.as_ref().map_or(Ok("()".to_string()), |t| self.ty(t))?
                    ),
                    (TypeDefKind::Future(t), None) => format!(
                        "wit_bindgen::FutureReader<{}>",
                        t.as_ref().map_or(Ok("()".to_string()), |t| self.ty(t))?
                    ),
                    (other, None) => return Err(other.as_str().to_string()),
                }
            }
        })
    }

    /// A named type: bare when its interface is in scope, else by its module path.
    fn named(&self, id: wit_parser::TypeId) -> Result<String, String> {
        let def = &self.resolve.types[id];
        let name = rust_type_name(def.name.as_deref().unwrap_or(""));
        Ok(match def.owner {
            TypeOwner::Interface(i) if Some(i) == self.here => name,
            TypeOwner::Interface(i) => format!(
                "{}::{name}",
                rust_module(self.resolve, i, self.exported.contains(&i))
            ),
            _ => name,
        })
    }

    /// `fn area(s: Shape) -> f64`, as the Guest trait declares it.
    fn signature(&self, f: &Function) -> Result<String, String> {
        let mut params = Vec::new();
        let method = matches!(
            f.kind,
            FunctionKind::Method(_) | FunctionKind::AsyncMethod(_)
        );
        if method {
            params.push("&self".to_string());
        }
        for (i, p) in f.params.iter().enumerate() {
            if method && i == 0 {
                continue;
            }
            params.push(format!("{}: {}", rust_ident(&p.name), self.ty(&p.ty)?));
        }
        let (name, result) = match f.kind {
            FunctionKind::Constructor(_) => ("new".to_string(), " -> Self".to_string()),
            _ => (
                rust_ident(f.item_name()),
                match &f.result {
                    Some(t) => format!(" -> {}", self.ty(t)?),
                    None => String::new(),
                },
            ),
        };
        // An `async func` is an `async fn` of the Guest trait.
        let asyncness = if f.kind.is_async() { "async " } else { "" };
        Ok(format!("{asyncness}fn {name}({})", params.join(", ")) + &result)
    }
}

/// Whether interface `id` is one of WASI's.
fn is_wasi(resolve: &Resolve, id: wit_parser::InterfaceId) -> bool {
    resolve.interfaces[id]
        .package
        .is_some_and(|p| resolve.packages[p].name.namespace == "wasi")
}

/// A skeleton's Cargo.toml, with `lib` (a `[lib]` section, or nothing for a `bin`).
fn rust_manifest(name: &str, lib: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         {lib}[dependencies]\nwit-bindgen = \"{WIT_BINDGEN}\"\n\n\
         # A crate of its own, not a member of a workspace that holds this directory.\n[workspace]\n"
    )
}

/// The wit-bindgen a Rust skeleton depends on (the one weld's fixtures build with).
const WIT_BINDGEN: &str = "0.63";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_wit_bindgen_does() {
        assert_eq!(rust_ident("type"), "type_");
        assert_eq!(rust_ident("parse-numbers"), "parse_numbers");
        assert_eq!(rust_type_name("word-count"), "WordCount");
    }
}
