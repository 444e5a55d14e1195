//! The Python skeleton: componentize-py's `bindings` protocols, copied method by method.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use wit_parser::FunctionKind;

use super::{Block, Resource, ScaffoldError, Source, Spelling, Stub, World, interface_id, walk};
use crate::check::source::{python_class, python_name};

pub(in crate::scaffold) fn python(
    src: &Source,
    (resolve, world, file): &World,
) -> Result<Vec<(PathBuf, String)>, ScaffoldError> {
    src.refuse_imports_only((resolve, *world), "Python", file)?;
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

    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let world_text = read(&bindings.join("wit_world/__init__.py"));
    let exports_text = read(&bindings.join("wit_world/exports/__init__.py"));
    let mut python = Python {
        resolve,
        file,
        bindings: &bindings,
        world_protocols: protocols(&world_text),
        export_protocols: protocols(&exports_text),
        class: None,
        app: Module::default(),
        uses_world: false,
        uses_exports: false,
        resource_modules: Vec::new(),
    };
    walk(resolve, *world, &mut python)?;
    let Python {
        app,
        uses_world,
        uses_exports,
        resource_modules,
        ..
    } = python;

    let head = format!(
        "\"\"\"`{}`: implements world `{}` ({file}).\n\n\
         Made by `weld new --world`: every export is here, with the signature componentize-py's\n\
         bindings give it. Replace each `raise NotImplementedError` with the real thing.\n\"\"\"\n\n",
        src.name, src.world
    );
    let mut imports = python_imports(&exports_text, &app.signatures);
    imports.extend(python_imports(&world_text, &app.signatures));
    let mut modules = Vec::new();
    if uses_world {
        modules.push("import wit_world".to_string());
    }
    if uses_exports {
        modules.push("from wit_world import exports".to_string());
    }
    let mut files = vec![(
        src.dir.join("app.py"),
        with_imports(head, imports, modules, &app.body),
    )];
    // Exported resources: componentize-py looks for each in a module named after its interface.
    for (module, m) in resource_modules {
        let head = format!(
            "\"\"\"Resources of {} for `{}`.\n\n\
             componentize-py looks for them in a module named `{module}`. Made by `weld new --world`.\n\"\"\"\n\n",
            m.label, src.name,
        );
        let mut imports = python_imports(&m.text, &m.signatures);
        imports.push(format!("from wit_world.exports import {module}"));
        files.push((
            src.dir.join(format!("{module}.py")),
            with_imports(head, imports, Vec::new(), &m.body),
        ));
    }
    Ok(files)
}

/// A module of the skeleton being written.
#[derive(Default)]
struct Module {
    /// What the bindings' module of the same name says (for its imports).
    text: String,
    /// The interface it is for.
    label: String,
    body: String,
    /// Every method signature in it, for the imports they need.
    signatures: String,
    /// Whether a method has been written in the class being written.
    started: bool,
}

impl Module {
    fn class(&mut self, header: &str, doc: &str) {
        let _ = writeln!(self.body, "\n\n{header}");
        let _ = writeln!(self.body, "    \"\"\"{doc}\"\"\"\n");
        self.started = false;
    }

    fn method(&mut self, m: &Method, wit: &str, what: &str, file: &str) {
        if self.started {
            self.body.push('\n');
        }
        self.started = true;
        self.signatures.push_str(&m.def);
        python_method(&mut self.body, m, wit, what, file);
    }
}

/// Python's spelling: a class per protocol of the bindings, in app.py for the world's and the
/// interfaces' functions and in a module per interface for its resources.
struct Python<'a> {
    resolve: &'a wit_parser::Resolve,
    file: &'a str,
    bindings: &'a Path,
    world_protocols: Vec<(String, Vec<Method>)>,
    export_protocols: Vec<(String, Vec<Method>)>,
    /// The protocol being written (its class name and methods), if the bindings have it.
    class: Option<(String, Vec<Method>)>,
    app: Module,
    uses_world: bool,
    uses_exports: bool,
    /// The resources' modules, by name, with the bindings' protocols of that module.
    resource_modules: Vec<(String, Module)>,
}

impl Python<'_> {
    fn protocol(protocols: &[(String, Vec<Method>)], class: &str) -> Option<(String, Vec<Method>)> {
        protocols.iter().find(|(c, _)| c == class).cloned()
    }

    /// The method of the current protocol that `f` is.
    fn method_of(&self, py: &str) -> Option<Method> {
        let (_, methods) = self.class.as_ref()?;
        methods.iter().find(|m| m.name == py).cloned()
    }
}

impl Spelling for Python<'_> {
    fn open(&mut self, block: &Block) -> Result<(), ScaffoldError> {
        self.class = match block.iface {
            None => Self::protocol(&self.world_protocols, "WitWorld")
                .filter(|(_, methods)| !methods.is_empty()),
            Some((_, i)) => Self::protocol(
                &self.export_protocols,
                &python_class(i.name.as_deref().unwrap_or("")),
            ),
        };
        let Some((class, _)) = &self.class else {
            return Ok(());
        };
        match block.iface {
            None => {
                self.uses_world = true;
                self.app.class(
                    "class WitWorld(wit_world.WitWorld):",
                    "The world's own exports.",
                );
            }
            Some((_, i)) => {
                self.uses_exports = true;
                let header = format!("class {class}(exports.{class}):");
                self.app.class(
                    &header,
                    &format!("Exports {}.", interface_id(self.resolve, i)),
                );
            }
        }
        Ok(())
    }

    fn function(&mut self, _: &Block, stub: &Stub) -> Result<(), ScaffoldError> {
        let py = python_name(&stub.function.name);
        let Some(m) = self.method_of(&py) else {
            return Ok(());
        };
        let what = match &self.class {
            Some((class, _)) if class != "WitWorld" => format!("{class}.{py}"),
            _ => py,
        };
        self.app.method(&m, &stub.wit, &what, self.file);
        Ok(())
    }

    fn resource(&mut self, block: &Block, resource: &Resource) -> Result<(), ScaffoldError> {
        let Some((_, i)) = block.iface else {
            return Ok(());
        };
        let module = python_name(i.name.as_deref().unwrap_or(""));
        if !self.resource_modules.iter().any(|(m, _)| *m == module) {
            let text = std::fs::read_to_string(
                self.bindings.join(format!("wit_world/exports/{module}.py")),
            )
            .unwrap_or_default();
            self.resource_modules.push((
                module.clone(),
                Module {
                    text,
                    label: interface_id(self.resolve, i),
                    ..Module::default()
                },
            ));
        }
        let (_, m) = self
            .resource_modules
            .iter_mut()
            .find(|(m, _)| *m == module)
            .expect("pushed above");
        let class = python_class(resource.name);
        self.class = Self::protocol(&protocols(&m.text), &class);
        if self.class.is_some() {
            m.class(
                &format!("class {class}({module}.{class}):"),
                &format!("Resource `{}` of {}.", resource.name, m.label),
            );
        }
        Ok(())
    }

    fn method(&mut self, _: &Block, _: &Resource, stub: &Stub) -> Result<(), ScaffoldError> {
        let py = match stub.function.kind {
            FunctionKind::Constructor(_) => "__init__".to_string(),
            _ => python_name(stub.function.item_name()),
        };
        let Some(m) = self.method_of(&py) else {
            return Ok(());
        };
        let class = self
            .class
            .as_ref()
            .map(|(c, _)| c.clone())
            .unwrap_or_default();
        let (_, module) = self
            .resource_modules
            .last_mut()
            .expect("a resource's module is open");
        module.method(&m, &stub.wit, &format!("{class}.{py}"), self.file);
        Ok(())
    }

    fn close(&mut self, _: &Block) -> Result<(), ScaffoldError> {
        // A module whose bindings had none of its resources is not written.
        self.resource_modules.retain(|(_, m)| !m.body.is_empty());
        Ok(())
    }
}

/// A module's text: its docstring, standard imports, then the bindings' imports, then its body.
fn with_imports(
    mut head: String,
    mut imports: Vec<String>,
    modules: Vec<String>,
    body: &str,
) -> String {
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
    for l in modules.iter().chain(&wit_lines) {
        let _ = writeln!(head, "{l}");
    }
    format!("{head}{body}")
}

/// One method of a protocol in componentize-py's bindings.
#[derive(Debug, Clone)]
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
fn python_method(out: &mut String, m: &Method, wit: &str, what: &str, file: &str) {
    for d in &m.decorators {
        let _ = writeln!(out, "    {d}");
    }
    let _ = writeln!(out, "    {}:", m.def);
    let _ = writeln!(out, "        # WIT: {wit}");
    if wit.contains("-> result<") {
        let _ = writeln!(
            out,
            "        # Return the ok value; fail with `raise componentize_py_types.Err(value)`."
        );
    }
    let _ = writeln!(
        out,
        "        raise NotImplementedError(\"{what} is not written yet (see {file})\")"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_protocols() {
        let text = "from ..exports import shapes\n\nclass Shapes(Protocol):\n\n    @abstractmethod\n    def area(self, s: shapes.Shape) -> float:\n        raise NotImplementedError\n\n    @classmethod\n    @abstractmethod\n    def make(cls) -> Self:\n        raise NotImplementedError\n\n\nclass Other:\n    def x(self): pass\n";
        let p = protocols(text);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].1.len(), 2);
        assert_eq!(p[0].1[0].def, "def area(self, s: shapes.Shape) -> float");
        assert_eq!(p[0].1[1].decorators, ["@classmethod"]);
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
