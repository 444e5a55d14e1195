//! `weld new --world`: a component that implements an existing world, one stub per export.
//!
//! Each language's skeleton takes its signatures from that language's bindings: componentize-py's
//! `bindings` for Python (its protocols, copied method by method), jco's guest types for
//! JavaScript (turned into JSDoc, which the source check reads), and wit-bindgen's conventions
//! for Rust (which the compiler holds the skeleton to). Every stub says where its WIT is and
//! fails loudly when called, so a skeleton builds, checks and runs at once, and nothing in it
//! pretends to work.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use wit_parser::{
    Function, FunctionKind, Handle, Interface, Resolve, Type, TypeDefKind, TypeOwner, WorldId,
    WorldItem,
};

use super::ScaffoldError;
use crate::check::wit_text::func_sig;
use crate::toolchain::Toolchains;

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

/// The world's exports, as WIT: (interface id or None for the world's own functions, functions).
fn exported_functions(
    resolve: &Resolve,
    world: WorldId,
) -> Vec<(Option<&Interface>, Vec<&Function>)> {
    let w = &resolve.worlds[world];
    let mut out = Vec::new();
    let mut own = Vec::new();
    for item in w.exports.values() {
        match item {
            WorldItem::Interface { id, .. } => {
                let i = &resolve.interfaces[*id];
                out.push((Some(i), i.functions.values().collect()));
            }
            WorldItem::Function(f) => own.push(f),
            WorldItem::Type { .. } => {}
        }
    }
    if !own.is_empty() {
        out.insert(0, (None, own));
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

// ---------------------------------------------------------------------------------------------
// Python

/// One method of a protocol in componentize-py's bindings.
#[derive(Debug)]
struct Method {
    decorators: Vec<String>,
    /// `def area(self, s: shapes.Shape) -> float`, without the colon.
    def: String,
    name: String,
}

/// `class NAME(Protocol):` blocks and their abstract methods.
fn protocols(text: &str) -> Vec<(String, Vec<Method>)> {
    let mut out: Vec<(String, Vec<Method>)> = Vec::new();
    let mut decorators = Vec::new();
    let mut pending: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("class ") {
            decorators.clear();
            if let Some(name) = rest.strip_suffix("(Protocol):") {
                out.push((name.to_string(), Vec::new()));
            }
            continue;
        }
        if !line.starts_with(' ') && !line.trim().is_empty() {
            // Back at module level: the class ended.
            decorators.clear();
            continue;
        }
        let Some((_, methods)) = out.last_mut() else {
            continue;
        };
        let trimmed = line.trim();
        if let Some(def) = pending.as_mut() {
            def.push(' ');
            def.push_str(trimmed);
        } else if trimmed.starts_with('@') && line.starts_with("    @") {
            if trimmed != "@abstractmethod" {
                decorators.push(trimmed.to_string());
            }
            continue;
        } else if line.starts_with("    def ") || line.starts_with("    async def ") {
            // An `async func` of the WIT is an `async def` of the protocol.
            pending = Some(trimmed.to_string());
        } else {
            continue;
        }
        let def = pending.as_ref().expect("set above");
        if def.ends_with(':') {
            let def = pending.take().expect("set above");
            let def = def.trim_end_matches(':').to_string();
            let name = def
                .trim_start_matches("async ")
                .trim_start_matches("def ")
                .split('(')
                .next()
                .unwrap_or("")
                .to_string();
            methods.push(Method {
                decorators: std::mem::take(&mut decorators),
                def,
                name,
            });
        }
    }
    out
}

/// The imports a set of signatures needs, as the skeleton writes them.
fn python_imports(text_of_bindings: &str, signatures: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let typing: Vec<&str> = [
        "Any", "Callable", "List", "Optional", "Self", "Tuple", "Union",
    ]
    .into_iter()
    .filter(|t| {
        regex::Regex::new(&format!(r"\b{t}\["))
            .expect("a valid pattern")
            .is_match(signatures)
            || (*t == "Self" && signatures.contains("-> Self"))
            || (*t == "Any" && signatures.contains("Any"))
    })
    .collect();
    if !typing.is_empty() {
        lines.push(format!("from typing import {}", typing.join(", ")));
    }
    let types: Vec<&str> = ["Err", "Ok", "Result", "Some"]
        .into_iter()
        .filter(|t| {
            regex::Regex::new(&format!(r"\b{t}\["))
                .expect("a valid pattern")
                .is_match(signatures)
        })
        .collect();
    if !types.is_empty() {
        lines.push(format!(
            "from componentize_py_types import {}",
            types.join(", ")
        ));
    }
    // WASI 0.3's async values, from componentize-py's async support package.
    for (module, names) in [
        (
            "streams",
            &[
                "StreamReader",
                "StreamWriter",
                "ByteStreamReader",
                "ByteStreamWriter",
            ][..],
        ),
        ("futures", &["FutureReader", "FutureWriter"][..]),
    ] {
        let used: Vec<&str> = names
            .iter()
            .copied()
            .filter(|t| {
                regex::Regex::new(&format!(r"\b{t}\b"))
                    .expect("a valid pattern")
                    .is_match(signatures)
            })
            .collect();
        if !used.is_empty() {
            lines.push(format!(
                "from componentize_py_async_support.{module} import {}",
                used.join(", ")
            ));
        }
    }
    // `from ..exports import shapes` in the bindings → `from wit_world.exports import shapes`
    let relative = regex::Regex::new(r"(?m)^from \.\.(exports|imports) import (\w+)$")
        .expect("a valid pattern");
    for cap in relative.captures_iter(text_of_bindings) {
        let module = &cap[2];
        if regex::Regex::new(&format!(r"\b{}\.", regex::escape(module)))
            .expect("a valid pattern")
            .is_match(signatures)
        {
            lines.push(format!("from wit_world.{} import {module}", &cap[1]));
        }
    }
    lines
}

/// A method stub: the bindings' signature, the WIT line it comes from, and an error if called.
fn python_method(out: &mut String, m: &Method, wit: Option<String>, what: &str, file: &str) {
    for d in &m.decorators {
        let _ = writeln!(out, "    {d}");
    }
    let _ = writeln!(out, "    {}:", m.def);
    if let Some(wit) = wit {
        let _ = writeln!(out, "        # WIT: {wit}");
        if wit.contains("-> result<") {
            let _ = writeln!(
                out,
                "        # Return the ok value; fail with `raise componentize_py_types.Err(value)`."
            );
        }
    }
    let _ = writeln!(
        out,
        "        raise NotImplementedError(\"{what} is not written yet (see {file})\")"
    );
}

pub(super) fn python(
    src: &Source,
    (resolve, world, file): &World,
) -> Result<Vec<(PathBuf, String)>, ScaffoldError> {
    let world = *world;
    src.refuse_imports_only((resolve, world), "Python", file)?;
    let staged = src.staged_wit()?;
    let bindings = src.scratch.join("bindings");
    let tool = src
        .toolchains
        .componentize_py()
        .ok_or_else(|| src.fail("componentize-py is not installed: run ./install.sh".into()))?;
    let mut cmd = Command::new(tool);
    cmd.arg("-d")
        .arg(&staged)
        .arg("-w")
        .arg(src.world)
        .arg("bindings")
        .arg(&bindings)
        .env("RUST_BACKTRACE", "0");
    src.run(&mut cmd, "componentize-py bindings")?;

    let exports = exported_functions(resolve, world);
    let wit_of = |iface: Option<&Interface>, py: &str| -> Option<String> {
        exports
            .iter()
            .find(|(i, _)| i.map(|i| i.name.as_deref()) == iface.map(|i| i.name.as_deref()))
            .and_then(|(_, fs)| {
                fs.iter()
                    .find(|f| crate::check::source::python_name(&f.name) == py)
            })
            .map(|f| wit_line(resolve, f))
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let world_text = read(&bindings.join("wit_world/__init__.py"));
    let exports_text = read(&bindings.join("wit_world/exports/__init__.py"));

    let mut body = String::new();
    let mut signatures = String::new();
    let mut uses_world = false;
    for (class, methods) in protocols(&world_text) {
        if class != "WitWorld" || methods.is_empty() {
            continue;
        }
        uses_world = true;
        let _ = writeln!(body, "\n\nclass WitWorld(wit_world.WitWorld):");
        let _ = writeln!(body, "    \"\"\"The world's own exports.\"\"\"\n");
        for (n, m) in methods.iter().enumerate() {
            if n > 0 {
                body.push('\n');
            }
            signatures.push_str(&m.def);
            python_method(&mut body, m, wit_of(None, &m.name), &m.name, file);
        }
    }
    let mut uses_exports = false;
    for (class, methods) in protocols(&exports_text) {
        uses_exports = true;
        let iface = exports.iter().filter_map(|(i, _)| *i).find(|i| {
            i.name.as_deref().map(crate::check::source::python_class) == Some(class.clone())
        });
        let _ = writeln!(body, "\n\nclass {class}(exports.{class}):");
        if let Some(i) = iface {
            let _ = writeln!(
                body,
                "    \"\"\"Exports {}.\"\"\"\n",
                interface_id(resolve, i)
            );
        }
        for (n, m) in methods.iter().enumerate() {
            if n > 0 {
                body.push('\n');
            }
            signatures.push_str(&m.def);
            python_method(
                &mut body,
                m,
                wit_of(iface, &m.name),
                &format!("{class}.{}", m.name),
                file,
            );
        }
    }
    let mut head = format!(
        "\"\"\"`{}`: implements world `{}` ({file}).\n\n\
         Made by `weld new --world`: every export is here, with the signature componentize-py's\n\
         bindings give it. Replace each `raise NotImplementedError` with the real thing.\n\"\"\"\n\n",
        src.name, src.world
    );
    let mut imports = python_imports(&exports_text, &signatures);
    imports.extend(python_imports(&world_text, &signatures));
    imports.sort();
    imports.dedup();
    let mut modules = Vec::new();
    if uses_world {
        modules.push("import wit_world".to_string());
    }
    if uses_exports {
        modules.push("from wit_world import exports".to_string());
    }
    let (std_lines, wit_lines): (Vec<String>, Vec<String>) =
        imports.into_iter().partition(|l| !l.contains("wit_world"));
    for l in &std_lines {
        let _ = writeln!(head, "{l}");
    }
    if !std_lines.is_empty() {
        head.push('\n');
    }
    let mut wit_all = modules;
    wit_all.extend(wit_lines);
    for l in &wit_all {
        let _ = writeln!(head, "{l}");
    }
    let mut files = vec![(src.dir.join("app.py"), format!("{head}{body}"))];

    // Exported resources: componentize-py looks for each in a module named after its interface.
    for (iface, _) in &exports {
        let Some(i) = iface else { continue };
        let Some(short) = &i.name else { continue };
        let module = crate::check::source::python_name(short);
        let text = read(&bindings.join(format!("wit_world/exports/{module}.py")));
        let resources = protocols(&text);
        if resources.is_empty() {
            continue;
        }
        let mut body = String::new();
        let mut signatures = String::new();
        for (class, methods) in &resources {
            let resource = i
                .types
                .iter()
                .find(|(n, _)| crate::check::source::python_class(n) == *class)
                .map(|(_, id)| *id);
            let _ = writeln!(body, "\n\nclass {class}({module}.{class}):");
            let _ = writeln!(
                body,
                "    \"\"\"Resource `{}` of {}.\"\"\"\n",
                resource
                    .and_then(|r| resolve.types[r].name.clone())
                    .unwrap_or_default(),
                interface_id(resolve, i)
            );
            for (n, m) in methods.iter().enumerate() {
                if n > 0 {
                    body.push('\n');
                }
                signatures.push_str(&m.def);
                let wit = resource.and_then(|r| {
                    i.functions
                        .values()
                        .filter(|f| f.kind.resource() == Some(r))
                        .find(|f| {
                            let py = if matches!(f.kind, FunctionKind::Constructor(_)) {
                                "__init__".to_string()
                            } else {
                                crate::check::source::python_name(f.item_name())
                            };
                            py == m.name
                        })
                        .map(|f| wit_line(resolve, f))
                });
                python_method(&mut body, m, wit, &format!("{class}.{}", m.name), file);
            }
        }
        let mut head = format!(
            "\"\"\"Resources of {} for `{}`.\n\n\
             componentize-py looks for them in a module named `{module}`. Made by `weld new --world`.\n\"\"\"\n\n",
            interface_id(resolve, i),
            src.name,
        );
        let mut imports = python_imports(&text, &signatures);
        imports.push(format!("from wit_world.exports import {module}"));
        imports.sort();
        imports.dedup();
        let (std_lines, wit_lines): (Vec<String>, Vec<String>) =
            imports.into_iter().partition(|l| !l.contains("wit_world"));
        for l in &std_lines {
            let _ = writeln!(head, "{l}");
        }
        if !std_lines.is_empty() {
            head.push('\n');
        }
        for l in wit_lines {
            let _ = writeln!(head, "{l}");
        }
        files.push((
            src.dir.join(format!("{module}.py")),
            format!("{head}{body}"),
        ));
    }
    Ok(files)
}

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

// ---------------------------------------------------------------------------------------------
// JavaScript

/// A function or method in jco's guest types: `name(a: T, b: U): R`.
#[derive(Debug)]
struct TsFunc {
    name: String,
    params: Vec<(String, String)>,
    result: Option<String>,
    is_static: bool,
}

fn split_top(text: &str) -> Vec<String> {
    let mut depth = 0i32;
    let mut parts = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        match ch {
            '<' | '(' | '[' | '{' => depth += 1,
            '>' | ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_string());
    }
    parts
}

/// `area(s: Shape): number` (after `export function ` or inside a class).
fn ts_func(line: &str) -> Option<TsFunc> {
    let line = line.trim().trim_end_matches(';');
    let (is_static, line) = match line.strip_prefix("static ") {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let open = line.find('(')?;
    let name = line[..open].trim().to_string();
    let mut depth = 0;
    let mut close = None;
    for (i, ch) in line[open..].char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let params = split_top(&line[open + 1..close])
        .into_iter()
        .filter_map(|p| {
            let (n, t) = p.split_once(':')?;
            Some((
                n.trim().trim_end_matches('?').to_string(),
                t.trim().to_string(),
            ))
        })
        .collect();
    let result = line[close + 1..]
        .trim()
        .strip_prefix(':')
        .map(|r| r.trim().to_string());
    Some(TsFunc {
        name,
        params,
        result,
        is_static,
    })
}

/// The `declare module 'SPEC' { … }` blocks of jco's guest types.
fn ts_modules(text: &str) -> Vec<(String, String)> {
    let head = regex::Regex::new(r"(?m)^declare module '([^']+)' \{$").expect("a valid pattern");
    let mut out = Vec::new();
    for cap in head.captures_iter(text) {
        let start = cap.get(0).expect("the match").end();
        let end = text[start..].find("\n}").map_or(text.len(), |e| start + e);
        out.push((cap[1].to_string(), text[start..end].to_string()));
    }
    out
}

/// A type as JSDoc writes it: the module's own type names qualified with `import('SPEC')`.
fn jsdoc_type(ty: &str, spec: &str, local: &[String]) -> String {
    let word = regex::Regex::new(r"\b[A-Z]\w*\b").expect("a valid pattern");
    word.replace_all(ty, |c: &regex::Captures| {
        let name = &c[0];
        if local.iter().any(|l| l == name) {
            format!("import('{spec}').{name}")
        } else {
            name.to_string()
        }
    })
    .into_owned()
}

fn js_doc(
    out: &mut String,
    indent: &str,
    wit: Option<String>,
    f: &TsFunc,
    spec: &str,
    local: &[String],
) {
    let _ = writeln!(out, "{indent}/**");
    if let Some(wit) = wit {
        let _ = writeln!(out, "{indent} * WIT: `{wit}`");
    }
    for (name, ty) in &f.params {
        let _ = writeln!(
            out,
            "{indent} * @param {{{}}} {name}",
            jsdoc_type(ty, spec, local)
        );
    }
    if let Some(r) = f.result.as_deref().filter(|r| *r != "void") {
        let _ = writeln!(
            out,
            "{indent} * @returns {{{}}}",
            jsdoc_type(r, spec, local)
        );
    }
    let _ = writeln!(out, "{indent} */");
}

pub(super) fn js(
    src: &Source,
    (resolve, world, file): &World,
) -> Result<Vec<(PathBuf, String)>, ScaffoldError> {
    let world = *world;
    src.refuse_imports_only((resolve, world), "JavaScript", file)?;
    let staged = src.staged_wit()?;
    let types = src.scratch.join("types");
    let node = crate::toolchain::find_in_path("node")
        .ok_or_else(|| src.fail("node is not on PATH: install Node.js".into()))?;
    let mut cmd = Command::new(node);
    cmd.arg(src.toolchains.jco())
        .arg("guest-types")
        .arg(&staged)
        .arg("--world-name")
        .arg(src.world)
        .arg("-o")
        .arg(&types)
        .arg("-q");
    src.run(&mut cmd, "jco guest-types")?;
    let mut all = String::new();
    for entry in walkdir::WalkDir::new(&types).into_iter().flatten() {
        if entry.path().to_string_lossy().ends_with(".d.ts") {
            all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            all.push('\n');
        }
    }
    let modules = ts_modules(&all);
    let exports = exported_functions(resolve, world);
    // The world's own declarations are in the top-level file; its interfaces' in interfaces/.
    let top = std::fs::read_dir(&types)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".d.ts"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let world_module = ts_modules(&top).into_iter().next();
    let Some((world_spec, world_body)) = world_module else {
        return Err(src.fail("jco guest-types declared no world module".into()));
    };
    let wit_of = |iface: Option<&Interface>, js: &str| -> Option<String> {
        exports
            .iter()
            .find(|(i, _)| i.map(|i| i.name.as_deref()) == iface.map(|i| i.name.as_deref()))
            .and_then(|(_, fs)| {
                fs.iter()
                    .find(|f| crate::check::source::js_name(f.item_name()) == js)
            })
            .map(|f| wit_line(resolve, f))
    };

    let mut out = format!(
        "// `{}`: implements world `{}` ({file}).\n//\n\
         // Made by `weld new --world`: every export is here, typed in JSDoc from jco's guest types\n\
         // (`weld build` checks the code against them). Replace each `throw` with the real thing.\n",
        src.name, src.world
    );
    let local_names = |body: &str| -> Vec<String> {
        regex::Regex::new(r"(?m)^\s*export (?:interface|type|class) (\w+)")
            .expect("a valid pattern")
            .captures_iter(body)
            .map(|c| c[1].to_string())
            .collect()
    };
    let world_local = local_names(&world_body);
    for line in world_body.lines() {
        if let Some(rest) = line.trim().strip_prefix("export function ")
            && let Some(f) = ts_func(rest)
        {
            out.push('\n');
            js_doc(
                &mut out,
                "",
                wit_of(None, &f.name),
                &f,
                &world_spec,
                &world_local,
            );
            let params: Vec<&str> = f.params.iter().map(|(n, _)| n.as_str()).collect();
            let _ = writeln!(
                out,
                "export function {}({}) {{\n  throw new Error('{} is not written yet (see {file})');\n}}",
                f.name,
                params.join(", "),
                f.name
            );
        }
    }
    let reexport =
        regex::Regex::new(r"(?m)^\s*export \* as (\w+) from '([^']+)'").expect("a valid pattern");
    for cap in reexport.captures_iter(&world_body) {
        let (name, spec) = (&cap[1], &cap[2]);
        let Some((_, body)) = modules.iter().find(|(s, _)| s == spec) else {
            continue;
        };
        let iface = exports.iter().filter_map(|(i, _)| *i).find(|i| {
            i.name
                .as_deref()
                .map(crate::check::source::js_name)
                .as_deref()
                == Some(name)
        });
        let local = local_names(body);
        let _ = writeln!(out, "\n/** Exports {spec}. */\nexport const {name} = {{");
        let mut first = true;
        let mut lines = body.lines().peekable();
        while let Some(line) = lines.next() {
            let trimmed = line.trim();
            if let Some(rest) = trimmed.strip_prefix("export function ") {
                let Some(f) = ts_func(rest) else { continue };
                if !first {
                    out.push('\n');
                }
                first = false;
                js_doc(&mut out, "  ", wit_of(iface, &f.name), &f, spec, &local);
                let params: Vec<&str> = f.params.iter().map(|(n, _)| n.as_str()).collect();
                let _ = writeln!(
                    out,
                    "  {}({}) {{\n    throw new Error('{name}.{} is not written yet (see {file})');\n  }},",
                    f.name,
                    params.join(", "),
                    f.name
                );
            } else if let Some(class) = trimmed
                .strip_prefix("export class ")
                .and_then(|r| r.strip_suffix(" {"))
            {
                if !first {
                    out.push('\n');
                }
                first = false;
                let resource = iface.and_then(|i| {
                    i.types
                        .iter()
                        .find(|(n, _)| crate::check::source::python_class(n) == class)
                        .map(|(_, id)| *id)
                });
                let _ = writeln!(out, "  {class}: class {class} {{");
                let mut first_member = true;
                for member in lines.by_ref() {
                    let m = member.trim();
                    if m == "}" {
                        break;
                    }
                    let Some(f) = ts_func(m) else { continue };
                    if !first_member {
                        out.push('\n');
                    }
                    first_member = false;
                    let wit = resource.and_then(|r| {
                        iface?
                            .functions
                            .values()
                            .filter(|wf| wf.kind.resource() == Some(r))
                            .find(|wf| match wf.kind {
                                FunctionKind::Constructor(_) => f.name == "constructor",
                                _ => crate::check::source::js_name(wf.item_name()) == f.name,
                            })
                            .map(|wf| wit_line(resolve, wf))
                    });
                    js_doc(&mut out, "    ", wit, &f, spec, &local);
                    let params: Vec<&str> = f.params.iter().map(|(n, _)| n.as_str()).collect();
                    let _ = writeln!(
                        out,
                        "    {}{}({}) {{\n      throw new Error('{name}.{class}.{} is not written yet (see {file})');\n    }}",
                        if f.is_static { "static " } else { "" },
                        f.name,
                        params.join(", "),
                        f.name
                    );
                }
                let _ = writeln!(out, "  }},");
            }
        }
        let _ = writeln!(out, "}};");
    }
    Ok(vec![(src.dir.join(format!("{}.js", src.name)), out)])
}

// ---------------------------------------------------------------------------------------------
// Rust

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

pub(super) fn rust(
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
    if Shape::of(resolve, world) == Shape::ImportsOnly {
        // A world that exports nothing is a command: a `bin` crate, whose `main` std exports
        // as `wasi:cli/run`, with the world's imports generated beside it.
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
        let main = format!(
            "//! `{name}`: a command implementing world `{world}` ({file}).\n//!\n\
             //! Made by `weld new --world`: the world's imports are the modules wit-bindgen\n\
             //! generates here; `main` is where the command starts, and arguments after `--`\n\
             //! reach `std::env::args`.\n\n\
             wit_bindgen::generate!({{\n    world: \"{world}\",\n    path: \"{wit_path}\",\n{all}}});\n\n\
             fn main() {{\n{kept}    todo!(\"{name} is not written yet (see {file})\")\n}}\n",
            name = src.name,
            world = src.world,
        );
        files.push((src.dir.join("Cargo.toml"), rust_manifest(src.name, "")));
        files.push((src.dir.join("src/main.rs"), main));
        return Ok(files);
    }
    let w = &resolve.worlds[world];
    let exported: Vec<wit_parser::InterfaceId> = w
        .exports
        .values()
        .filter_map(|item| match item {
            WorldItem::Interface { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    let unsupported = |what: String| {
        src.fail(format!(
            "world `{}` uses {what}, which the Rust skeleton cannot write yet; start from `weld new --template cli` and wit-bindgen's docs",
            src.world
        ))
    };
    let mut code = format!(
        "//! `{}`: implements world `{}` ({file}).\n//!\n\
         //! Made by `weld new --world`: every export is here, with the signature wit-bindgen's\n\
         //! traits give it. Replace each `todo!` with the real thing.\n\n\
         wit_bindgen::generate!({{\n    world: \"{}\",\n    path: \"{wit_path}\",\n{all}}});\n\n\
         struct Component;\n",
        src.name, src.world, src.world
    );
    let mut resources_code = String::new();
    for (iface, functions) in exported_functions(resolve, world) {
        let id = iface.and_then(|i| {
            exported
                .iter()
                .copied()
                .find(|e| std::ptr::eq(&resolve.interfaces[*e], i))
        });
        let cx = RustCx {
            resolve,
            here: id,
            exported: &exported,
        };
        let (trait_path, label) = match (iface, id) {
            (Some(i), Some(id)) => (
                format!("{}::Guest", rust_module(resolve, id, true)),
                interface_id(resolve, i),
            ),
            _ => ("Guest".to_string(), format!("world `{}`", src.world)),
        };
        let mut items = String::new();
        // Resources first: the trait names each one's implementation.
        if let (Some(i), Some(id)) = (iface, id) {
            let module = rust_module(resolve, id, true);
            for (tname, tid) in &i.types {
                if !matches!(resolve.types[*tid].kind, TypeDefKind::Resource) {
                    continue;
                }
                let ty = rust_type_name(tname);
                let _ = writeln!(items, "    type {ty} = {ty}Impl;\n");
                let _ = writeln!(
                    resources_code,
                    "\n/// Resource `{tname}` of {label}.\nstruct {ty}Impl;\n\n#[allow(unused_variables)]\nimpl {module}::Guest{ty} for {ty}Impl {{"
                );
                let methods: Vec<&Function> = i
                    .functions
                    .values()
                    .filter(|f| f.kind.resource() == Some(*tid))
                    .collect();
                for (n, f) in methods.iter().enumerate() {
                    if n > 0 {
                        resources_code.push('\n');
                    }
                    let sig = cx.signature(f).map_err(&unsupported)?;
                    let _ = writeln!(
                        resources_code,
                        "    /// WIT: `{}`\n    {sig} {{\n        todo!(\"{tname}.{} is not written yet (see {file})\")\n    }}",
                        wit_line(resolve, f),
                        f.item_name()
                    );
                }
                resources_code.push_str("}\n");
            }
        }
        let free: Vec<&&Function> = functions
            .iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    FunctionKind::Freestanding | FunctionKind::AsyncFreestanding
                )
            })
            .collect();
        for (n, f) in free.iter().enumerate() {
            if n > 0 {
                items.push('\n');
            }
            let sig = cx.signature(f).map_err(&unsupported)?;
            let _ = writeln!(
                items,
                "    /// WIT: `{}`\n    {sig} {{\n        todo!(\"{} is not written yet (see {file})\")\n    }}",
                wit_line(resolve, f),
                f.name
            );
        }
        let _ = writeln!(
            code,
            "\n/// Exports {label}.\n#[allow(unused_variables)]\nimpl {trait_path} for Component {{\n{}}}",
            items
        );
    }
    // `use` the exported interfaces' own types, so signatures read as the WIT does.
    let mut uses = String::new();
    // A type one interface `use`s from another has the same name in both: import it once.
    let mut imported: Vec<String> = Vec::new();
    for id in &exported {
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
                    .is_match(&code)
                    || resources_code.contains(n.as_str())
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
    let code = if uses.is_empty() {
        code
    } else {
        code.replacen(
            "\nstruct Component;\n",
            &format!("\n{uses}\nstruct Component;\n"),
            1,
        )
    };
    let lib = format!("{code}{resources_code}\nexport!(Component);\n");
    files.push((
        src.dir.join("Cargo.toml"),
        rust_manifest(src.name, "[lib]\ncrate-type = [\"cdylib\"]\n\n"),
    ));
    files.push((src.dir.join("src/lib.rs"), lib));
    Ok(files)
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

/// Go: wit-bindgen-go's own stubs (the bindings weld builds with, generated with
/// `generate_stubs`), cut down to what the user writes. Each export package gets one file in
/// componentize-go's layout (`export_<ns>_<pkg>_<iface>/`), holding the functions and resource
/// types the glue calls, each panicking until it is written. A world that exports nothing is a
/// command: a `main` package.
pub(super) fn go(
    src: &Source,
    (_, _, file): &World,
) -> Result<Vec<(PathBuf, String)>, ScaffoldError> {
    let staged = src.staged_wit()?;
    let bindings = crate::build::GoBindings::with_stubs(&staged, src.world)
        .map_err(|e| src.fail(e.to_string()))?;
    let gofmt = src
        .toolchains
        .probe(crate::toolchain::Tool::Go)
        .path
        .map(|go| go.with_file_name("gofmt"));
    let format = |text: String| -> String {
        let Some(gofmt) = gofmt.as_ref().filter(|g| g.is_file()) else {
            return text;
        };
        let formatted = (|| {
            let mut cmd = Command::new(gofmt);
            crate::build::isolate_go(&mut cmd, crate::run::default_cache_dir().as_deref());
            let mut child = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .ok()?;
            std::io::Write::write_all(&mut child.stdin.take()?, text.as_bytes()).ok()?;
            let out = child.wait_with_output().ok()?;
            out.status
                .success()
                .then(|| String::from_utf8(out.stdout).ok())?
        })();
        formatted.unwrap_or(text)
    };
    let mut files = Vec::new();
    if !bindings.exports {
        // The functions of the world's own imports, by package, as the bindings name them.
        let func = regex::Regex::new(r"(?m)^func ([A-Z]\w*)\(").expect("a valid pattern");
        let mut packages = Vec::new();
        let mut kept = Vec::new();
        for (path, code) in &bindings.files {
            let Some(package) = path.strip_suffix("/wit_bindings.go") else {
                continue;
            };
            if package.contains('/')
                || package.starts_with("export_")
                || package.starts_with("wasi_")
            {
                continue;
            }
            let code = String::from_utf8_lossy(code);
            let names: Vec<String> = func
                .captures_iter(&code)
                .map(|c| format!("{package}.{}", &c[1]))
                .collect();
            if !names.is_empty() {
                packages.push(format!("\t\"wit_component/{package}\""));
                kept.extend(names);
            }
        }
        let (imports, keep) = if kept.is_empty() {
            (String::new(), String::new())
        } else {
            packages.sort();
            (
                format!("import (\n\t\"runtime\"\n\n{}\n)\n\n", packages.join("\n")),
                // The linker drops what nothing calls, and with it the import: the plugs that
                // `[compose]` names would then have nothing to plug into.
                format!(
                    "\t// The world's imports, ready to call. Kept alive here so that they stay in the\n\
                     \t// component until main calls them (the linker drops what nothing uses).\n\
                     \truntime.KeepAlive([]any{{{}}})\n",
                    kept.join(", ")
                ),
            )
        };
        files.push((
            src.dir.join("main.go"),
            format(format!(
                "// `{name}`: a command implementing world `{world}` ({file}); its imports are\n\
                 // the `wit_component/...` packages weld generates at build time.\n\
                 package main\n\n{imports}func main() {{\n{keep}\tpanic(\"{name} is not written yet (see {file})\")\n}}\n",
                name = src.name,
                world = src.world,
            )),
        ));
        return Ok(files);
    }
    for (path, stub) in &bindings.stubs {
        let Some(package) = path.strip_suffix("/wit_bindings.go") else {
            continue;
        };
        if !package.starts_with("export_") {
            continue;
        }
        let stub = String::from_utf8_lossy(stub);
        let (imports, stub_code) = split_go_imports(&stub);
        let glue = bindings
            .files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, g)| String::from_utf8_lossy(g).into_owned())
            .unwrap_or_default();
        let glue_code = split_go_imports(&glue).1;
        // The stubs follow the glue in wit-bindgen-go's stub file.
        let Some(user) = stub_code.strip_prefix(glue_code.trim_end()) else {
            return Err(src.fail(format!(
                "wit-bindgen-go's stubs for `{package}` are not laid out as weld expects; write the package by hand from the stubs `weld build` leaves in target/weld/go/{}/stubs",
                src.name
            )));
        };
        let user = fill_go_stubs(user.trim(), file);
        let kept: Vec<&str> = imports
            .iter()
            .filter(|line| {
                let ident = go_import_name(line);
                !ident.is_empty() && user.contains(&format!("{ident}."))
            })
            .map(String::as_str)
            .collect();
        let import_block = if kept.is_empty() {
            String::new()
        } else {
            format!("import (\n{}\n)\n\n", kept.join("\n"))
        };
        files.push((
            src.dir.join(package).join(format!(
                "{}.go",
                package.trim_start_matches("export_")
            )),
            format(format!(
                "// Package {package} is what component `{name}` exports for world `{world}`\n\
                 // ({file}). weld new wrote it from wit-bindgen-go's stubs: every function panics\n\
                 // until it is written; weld generates the glue that calls them at build time.\n\
                 package {package}\n\n{import_block}{user}\n",
                name = src.name,
                world = src.world,
            )),
        ));
    }
    Ok(files)
}

/// The lines of a Go file's `import ( … )` block, and the code after it.
fn split_go_imports(text: &str) -> (Vec<String>, String) {
    let Some(start) = text.find("\nimport (") else {
        return (Vec::new(), String::new());
    };
    let rest = &text[start + "\nimport (".len()..];
    let Some(end) = rest.find("\n)") else {
        return (Vec::new(), String::new());
    };
    let imports = rest[..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    (imports, rest[end + "\n)".len()..].trim_start().to_string())
}

/// The name an import line binds: its alias, or the last element of its path.
fn go_import_name(line: &str) -> String {
    let mut parts = line.split_whitespace();
    let (Some(first), second) = (parts.next(), parts.next()) else {
        return String::new();
    };
    match second {
        Some(_) if !first.starts_with('"') => first.to_string(),
        _ => first
            .trim_matches('"')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The stubs' `panic("not implemented")`, naming the function and the WIT instead.
fn fill_go_stubs(code: &str, file: &str) -> String {
    let mut current = String::new();
    let mut after_block = false;
    code.lines()
        .filter(|l| l.trim() != "// TODO: Implement")
        .map(|line| {
            // A blank line between a closing brace and the next declaration.
            let gap = if after_block && !line.trim().is_empty() {
                "\n"
            } else {
                ""
            };
            after_block = line == "}";
            if let Some(rest) = line.strip_prefix("func ") {
                // `func (self *Counter) Add(` is `Counter.Add`, `func Translate(` is `Translate`.
                let (receiver, rest) = match rest.strip_prefix('(') {
                    Some(r) => r.split_once(')').map_or(("", ""), |(recv, after)| {
                        let ty = recv.split_whitespace().last().unwrap_or_default();
                        (ty.trim_start_matches('*'), after.trim_start())
                    }),
                    None => ("", rest),
                };
                let name = rest.split('(').next().unwrap_or_default();
                current = if receiver.is_empty() {
                    name.to_string()
                } else {
                    format!("{receiver}.{name}")
                };
            }
            let line = line.replace(
                "panic(\"not implemented\")",
                &format!("panic(\"{current} is not written yet (see {file})\")"),
            );
            format!("{gap}{line}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_protocols_and_guest_types() {
        let text = "from ..exports import shapes\n\nclass Shapes(Protocol):\n\n    @abstractmethod\n    def area(self, s: shapes.Shape) -> float:\n        raise NotImplementedError\n\n    @classmethod\n    @abstractmethod\n    def make(cls) -> Self:\n        raise NotImplementedError\n\n\nclass Other:\n    def x(self): pass\n";
        let p = protocols(text);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].1.len(), 2);
        assert_eq!(p[0].1[0].def, "def area(self, s: shapes.Shape) -> float");
        assert_eq!(p[0].1[1].decorators, ["@classmethod"]);
        let f = ts_func("mix(a: Color, b: Color | undefined): Array<Color>;").unwrap();
        assert_eq!(
            f.params[1],
            ("b".to_string(), "Color | undefined".to_string())
        );
        assert_eq!(f.result.as_deref(), Some("Array<Color>"));
        assert_eq!(
            jsdoc_type("Array<Color>", "a:b/c", &["Color".into()]),
            "Array<import('a:b/c').Color>"
        );
        assert_eq!(rust_ident("type"), "type_");
    }

    /// WASI 0.3: componentize-py's protocols have `async def` for an `async func`, and a
    /// stream's type comes from its async support package.
    #[test]
    fn reads_async_methods_and_imports_their_stream_types() {
        let text = "class Words(Protocol):\n    @abstractmethod\n    async def letters(self, text: str) -> StreamReader[str]:\n        raise NotImplementedError\n\n    @abstractmethod\n    def count(self, text: str) -> int:\n        raise NotImplementedError\n";
        let p = protocols(text);
        assert_eq!(p[0].1.len(), 2);
        assert_eq!(p[0].1[0].name, "letters");
        assert_eq!(
            p[0].1[0].def,
            "async def letters(self, text: str) -> StreamReader[str]"
        );
        assert_eq!(p[0].1[1].name, "count");
        assert_eq!(
            python_imports(text, &p[0].1[0].def),
            ["from componentize_py_async_support.streams import StreamReader"]
        );
    }
}
