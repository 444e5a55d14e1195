//! The JavaScript skeleton: jco's guest types, turned into JSDoc (which the source check reads).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use wit_parser::FunctionKind;

use super::{Block, Resource, ScaffoldError, Source, Spelling, Stub, World, walk};
use crate::check::source::{js_name, python_class};

pub(in crate::scaffold) fn js(
    src: &Source,
    (resolve, world, file): &World,
) -> Result<Vec<(PathBuf, String)>, ScaffoldError> {
    src.refuse_imports_only((resolve, *world), "JavaScript", file)?;
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
    // The world's own declarations are in the top-level file; its interfaces' in interfaces/.
    let top = std::fs::read_dir(&types)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".d.ts"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let Some((world_spec, world_body)) = ts_modules(&top).into_iter().next() else {
        return Err(src.fail("jco guest-types declared no world module".into()));
    };
    let reexport =
        regex::Regex::new(r"(?m)^\s*export \* as (\w+) from '([^']+)'").expect("a valid pattern");
    let reexports = reexport
        .captures_iter(&world_body)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    let mut js = Js {
        file,
        out: format!(
            "// `{}`: implements world `{}` ({file}).\n//\n\
             // Made by `weld new --world`: every export is here, typed in JSDoc from jco's guest types\n\
             // (`weld build` checks the code against them). Replace each `throw` with the real thing.\n",
            src.name, src.world
        ),
        world: TsModule::new(&world_spec, &world_body, ""),
        modules: ts_modules(&all),
        reexports,
        module: None,
        class: None,
        first: true,
        first_member: true,
    };
    walk(resolve, *world, &mut js)?;
    Ok(vec![(src.dir.join(format!("{}.js", src.name)), js.out)])
}

/// A module of jco's guest types, as the skeleton writes from it.
struct TsModule {
    /// `demo:kinds/shapes@0.1.0`
    spec: String,
    /// The name the world exports it as (`shapes`); empty for the world's own module.
    name: String,
    body: String,
    /// The types it declares, which JSDoc must import from it.
    local: Vec<String>,
}

impl TsModule {
    fn new(spec: &str, body: &str, name: &str) -> TsModule {
        let local = regex::Regex::new(r"(?m)^\s*export (?:interface|type|class) (\w+)")
            .expect("a valid pattern")
            .captures_iter(body)
            .map(|c| c[1].to_string())
            .collect();
        TsModule {
            spec: spec.to_string(),
            name: name.to_string(),
            body: body.to_string(),
            local,
        }
    }

    /// Its `export function NAME(…)`.
    fn function(&self, name: &str) -> Option<TsFunc> {
        self.body
            .lines()
            .filter_map(|l| l.trim().strip_prefix("export function ").and_then(ts_func))
            .find(|f| f.name == name)
    }

    /// The members of its `export class NAME { … }`.
    fn class(&self, name: &str) -> Option<Vec<TsFunc>> {
        let header = format!("export class {name} {{");
        let mut lines = self.body.lines().skip_while(|l| l.trim() != header);
        lines.next()?;
        Some(
            lines
                .map(str::trim)
                .take_while(|m| *m != "}")
                .filter_map(ts_func)
                .collect(),
        )
    }
}

/// JavaScript's spelling: the world's functions as `export function`s, each interface as an
/// exported object, its resources as classes in it.
struct Js<'a> {
    file: &'a str,
    out: String,
    world: TsModule,
    modules: Vec<(String, String)>,
    /// `export * as NAME from 'SPEC'` of the world's module: (NAME, SPEC).
    reexports: Vec<(String, String)>,
    /// The interface's module being written, if jco declared it.
    module: Option<TsModule>,
    /// The class being written: its name and members.
    class: Option<(String, Vec<TsFunc>)>,
    /// Whether nothing has been written in the current object yet.
    first: bool,
    /// Whether nothing has been written in the current class yet.
    first_member: bool,
}

impl Js<'_> {
    /// A blank line before every member but the first.
    fn gap(&mut self) {
        if !self.first {
            self.out.push('\n');
        }
        self.first = false;
    }
}

impl Spelling for Js<'_> {
    fn open(&mut self, block: &Block) -> Result<(), ScaffoldError> {
        let Some((_, i)) = block.iface else {
            return Ok(());
        };
        let name = js_name(i.name.as_deref().unwrap_or(""));
        self.module = self
            .reexports
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, spec)| {
                let (_, body) = self.modules.iter().find(|(s, _)| s == spec)?;
                Some(TsModule::new(spec, body, &name))
            });
        if let Some(m) = &self.module {
            let _ = writeln!(
                self.out,
                "\n/** Exports {}. */\nexport const {} = {{",
                m.spec, m.name
            );
            self.first = true;
        }
        Ok(())
    }

    fn function(&mut self, block: &Block, stub: &Stub) -> Result<(), ScaffoldError> {
        let name = js_name(stub.function.item_name());
        let file = self.file;
        if block.iface.is_none() {
            let Some(f) = self.world.function(&name) else {
                return Ok(());
            };
            self.out.push('\n');
            js_doc(
                &mut self.out,
                "",
                &stub.wit,
                &f,
                &self.world.spec,
                &self.world.local,
            );
            let _ = writeln!(
                self.out,
                "export function {}({}) {{\n  throw new Error('{} is not written yet (see {file})');\n}}",
                f.name,
                params(&f),
                f.name
            );
            return Ok(());
        }
        let Some(f) = self.module.as_ref().and_then(|m| m.function(&name)) else {
            return Ok(());
        };
        self.gap();
        let m = self.module.as_ref().expect("found above");
        js_doc(&mut self.out, "  ", &stub.wit, &f, &m.spec, &m.local);
        let _ = writeln!(
            self.out,
            "  {}({}) {{\n    throw new Error('{}.{} is not written yet (see {file})');\n  }},",
            f.name,
            params(&f),
            m.name,
            f.name
        );
        Ok(())
    }

    fn resource(&mut self, _: &Block, resource: &Resource) -> Result<(), ScaffoldError> {
        let class = python_class(resource.name);
        self.class = self
            .module
            .as_ref()
            .and_then(|m| m.class(&class))
            .map(|members| (class.clone(), members));
        if self.class.is_some() {
            self.gap();
            self.first_member = true;
            let _ = writeln!(self.out, "  {class}: class {class} {{");
        }
        Ok(())
    }

    fn method(&mut self, _: &Block, _: &Resource, stub: &Stub) -> Result<(), ScaffoldError> {
        let name = match stub.function.kind {
            FunctionKind::Constructor(_) => "constructor".to_string(),
            _ => js_name(stub.function.item_name()),
        };
        let (Some(m), Some((class, members))) = (&self.module, &self.class) else {
            return Ok(());
        };
        let Some(f) = members.iter().find(|f| f.name == name) else {
            return Ok(());
        };
        if !self.first_member {
            self.out.push('\n');
        }
        self.first_member = false;
        js_doc(&mut self.out, "    ", &stub.wit, f, &m.spec, &m.local);
        let _ = writeln!(
            self.out,
            "    {}{}({}) {{\n      throw new Error('{}.{class}.{} is not written yet (see {})');\n    }}",
            if f.is_static { "static " } else { "" },
            f.name,
            params(f),
            m.name,
            f.name,
            self.file,
        );
        Ok(())
    }

    fn close_resource(&mut self, _: &Block, _: &Resource) -> Result<(), ScaffoldError> {
        if self.class.take().is_some() {
            let _ = writeln!(self.out, "  }},");
        }
        Ok(())
    }

    fn close(&mut self, _: &Block) -> Result<(), ScaffoldError> {
        if self.module.take().is_some() {
            let _ = writeln!(self.out, "}};");
        }
        Ok(())
    }
}

/// A function's parameter names, as its stub takes them.
fn params(f: &TsFunc) -> String {
    f.params
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

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

fn js_doc(out: &mut String, indent: &str, wit: &str, f: &TsFunc, spec: &str, local: &[String]) {
    let _ = writeln!(out, "{indent}/**");
    let _ = writeln!(out, "{indent} * WIT: `{wit}`");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_guest_types() {
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
        let m = TsModule::new(
            "a:b/c",
            "  export function area(s: Shape): number;\n  export class Counter {\n    constructor(start: number)\n    static make(): Counter;\n  }\n  export type Shape = number;",
            "c",
        );
        assert_eq!(m.local, ["Counter", "Shape"]);
        assert_eq!(m.function("area").map(|f| f.params.len()), Some(1));
        let members = m.class("Counter").unwrap();
        assert_eq!(members.len(), 2);
        assert!(members[1].is_static);
    }
}
