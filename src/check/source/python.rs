//! Python: componentize-py's own bindings for the world, and mypy over the user's module.
//!
//! componentize-py instantiates one class per exported interface (`Tidy` for `tidy`, `WitWorld`
//! for the world's own functions) from the user's module. A generated module assigns an instance
//! of each to its protocol from the bindings, so mypy reports a missing class, a missing method
//! and a method whose signature does not fit; a subclass of the protocol gets the same through
//! mypy's override check, at the method itself. Calls into the import bindings are checked as
//! any call is. `--check-untyped-defs` makes mypy look at unannotated methods too, where an
//! unannotated parameter is `Any` (fine) but a missing one is not.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::wording::mypy;
use super::{Cx, Export, Func, Site, SourceError, find_line, shown, snake, upper_camel};
use crate::check::{Code, Finding, Location};

/// The Python componentize-py 0.25 embeds: mypy checks the code as that Python reads it.
const PYTHON_VERSION: &str = "3.14";

/// The generated module that holds the user's classes against the bindings' protocols.
const CONTRACT: &str = "_weld_contract";

/// One line of `mypy -O json`.
#[derive(Debug, Deserialize)]
struct Message {
    file: String,
    line: i64,
    column: i64,
    message: String,
    hint: Option<String>,
    code: Option<String>,
    severity: String,
}

pub(super) fn check(cx: &Cx) -> Result<Vec<Finding>, SourceError> {
    let c = cx.component;
    let module = c.module.as_deref().unwrap_or("app");
    let bindings = bindings(cx)?;
    let (contract_file, lines) = contract_module(cx, &bindings, module)?;
    let imported = import_names(&bindings.join("wit_world/imports"));
    let source = c.source.canonicalize().unwrap_or_else(|_| c.source.clone());
    let module_file = module_file(&source, module);
    let messages = mypy(cx, &bindings, &source, &contract_file)?;
    let mut findings = Vec::new();
    for m in messages {
        let file = if Path::new(&m.file).is_absolute() {
            PathBuf::from(&m.file)
        } else {
            source.join(&m.file)
        };
        if file.file_stem().is_some_and(|s| s == CONTRACT) {
            if let Some((_, class, export)) = lines.iter().find(|(l, ..)| *l == m.line) {
                findings.extend(contract_finding(cx, &m, class, *export, &module_file));
            }
        } else if file.starts_with(&source) {
            findings.extend(user_finding(cx, &m, &file, &imported));
        }
    }
    Ok(findings)
}

/// componentize-py's bindings for the world, in the checker's scratch directory.
fn bindings(cx: &Cx) -> Result<PathBuf, SourceError> {
    let bindings = cx.scratch("bindings")?;
    let mut cmd = Command::new(
        cx.tools
            .componentize_py
            .as_deref()
            .unwrap_or(Path::new("componentize-py")),
    );
    cmd.arg("-d")
        .arg(cx.staged)
        .arg("-w")
        .arg(&cx.contract.world)
        .arg("bindings")
        .arg(&bindings)
        .env("RUST_BACKTRACE", "0");
    let out = cx.run(&mut cmd)?;
    if !out.status.success() {
        return Err(cx.error(
            format!(
                "componentize-py bindings failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            None,
        ));
    }
    Ok(bindings)
}

/// Which line of the contract module checks which class.
type ContractLines<'a> = Vec<(i64, String, Option<&'a Export>)>;

/// The module that assigns each class componentize-py will look for (read from the bindings it
/// generated) to its protocol, one line a class.
fn contract_module<'a>(
    cx: &Cx<'a>,
    bindings: &Path,
    module: &str,
) -> Result<(PathBuf, ContractLines<'a>), SourceError> {
    let mut classes: Vec<(String, Option<&Export>)> = Vec::new();
    let exports = read(&bindings.join("wit_world/exports/__init__.py"));
    static PROTOCOL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^class (\w+)\(Protocol\):").unwrap());
    for cap in PROTOCOL.captures_iter(&exports) {
        let class = cap[1].to_string();
        let export = cx.contract.export_named(&class, upper_camel);
        classes.push((format!("wit_world.exports.{class}"), export));
    }
    if read(&bindings.join("wit_world/__init__.py")).contains("@abstractmethod") {
        classes.push(("wit_world.WitWorld".into(), cx.contract.world_export()));
    }
    let mut contract = format!("import {module}\nimport wit_world\nimport wit_world.exports\n");
    let mut lines = Vec::new();
    for (i, (protocol, export)) in classes.iter().enumerate() {
        let class = protocol.rsplit('.').next().unwrap_or(protocol);
        contract.push_str(&format!("_weld_{i}: {protocol} = {module}.{class}()\n"));
        lines.push((contract.lines().count() as i64, class.to_string(), *export));
    }
    let contract_file = bindings.join(format!("{CONTRACT}.py"));
    std::fs::write(&contract_file, contract).map_err(|e| {
        cx.error(
            format!("cannot write {}: {e}", contract_file.display()),
            None,
        )
    })?;
    Ok((contract_file, lines))
}

/// mypy's error messages on the contract module and the user's code it imports.
fn mypy(
    cx: &Cx,
    bindings: &Path,
    source: &Path,
    contract_file: &Path,
) -> Result<Vec<Message>, SourceError> {
    let search = std::env::join_paths([bindings, source])
        .map_err(|e| cx.error(format!("cannot set MYPYPATH: {e}"), None))?;
    let mut cmd = Command::new(cx.tools.mypy.as_deref().unwrap_or(Path::new("mypy")));
    cmd.args(["-O", "json", "--no-error-summary", "--check-untyped-defs"])
        .args([
            "--ignore-missing-imports",
            "--python-version",
            PYTHON_VERSION,
        ])
        .arg("--cache-dir")
        .arg(cx.work.join("mypy-cache"))
        .arg(contract_file)
        .current_dir(source)
        .env("MYPYPATH", search)
        .env_remove("MYPY_FORCE_COLOR");
    let out = cx.run(&mut cmd)?;
    // 0: clean, 1: errors found, 2: a blocking error (a syntax error, reported as a message:
    // componentize-py says it in Python's words next) or mypy itself failed (no messages).
    let stdout = String::from_utf8_lossy(&out.stdout);
    let messages: Vec<Message> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Message>(l).ok())
        .collect();
    if !matches!(out.status.code(), Some(0 | 1)) && messages.is_empty() {
        return Err(cx.error(
            format!(
                "mypy failed: {}{}",
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Some("run ./install.sh to reinstall mypy, then `weld doctor`"),
        ));
    }
    Ok(messages
        .into_iter()
        .filter(|m| m.severity == "error")
        .collect())
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `app` → SOURCE/app.py, or SOURCE/app/__init__.py for a package.
fn module_file(source: &Path, module: &str) -> PathBuf {
    let base = source.join(module.replace('.', "/"));
    let file = base.with_extension("py");
    if file.is_file() {
        file
    } else {
        base.join("__init__.py")
    }
}

/// Every function and class the import bindings define: a call mypy faults is about the WIT
/// only when it calls one of them.
fn import_names(dir: &Path) -> HashSet<String> {
    static DEF: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^\s*(?:def|class) ([A-Za-z]\w*)").unwrap());
    let mut names = HashSet::new();
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if entry.path().extension().is_some_and(|e| e == "py") {
            for cap in DEF.captures_iter(&read(entry.path())) {
                names.insert(cap[1].to_string());
            }
        }
    }
    names
}

fn location(file: &Path, line: i64, column: i64) -> Location {
    Location {
        file: shown(file),
        line: line.max(1) as u32,
        column: column.max(0) as u32 + 1,
    }
}

/// Where `class NAME` is defined in the module, or where `def METHOD` is inside it.
fn class_site(module_file: &Path, class: &str, method: Option<&str>) -> Location {
    let text = read(module_file);
    let class_re = Regex::new(&format!(r"^class\s+{}\b", regex::escape(class))).unwrap();
    let (line, column) = find_line(&text, &class_re, 1).unwrap_or((1, 1));
    let (line, column) = match method {
        Some(m) => {
            let def =
                Regex::new(&format!(r"^\s+(?:async\s+)?def\s+{}\b", regex::escape(m))).unwrap();
            find_line(&text, &def, line)
                .map(|(l, _)| {
                    let indent = text
                        .lines()
                        .nth(l as usize - 1)
                        .map_or(0, |s| s.len() - s.trim_start().len());
                    (l, indent as u32 + 1)
                })
                .unwrap_or((line, column))
        }
        None => (line, column),
    };
    Location {
        file: shown(module_file),
        line,
        column,
    }
}

/// A finding from the generated module: the class is missing, lacks methods, or has methods
/// that do not fit (when it does not subclass the protocol).
fn contract_finding(
    cx: &Cx,
    m: &Message,
    class: &str,
    export: Option<&Export>,
    module_file: &Path,
) -> Vec<Finding> {
    let c = ClassCheck {
        cx,
        class,
        interface: export.map_or(cx.contract.world.as_str(), |e| e.shown(cx.contract)),
        export,
        module_file,
    };
    match m.code.as_deref() {
        // The generated module names the user's class; mypy finds no such attribute.
        Some("attr-defined") => vec![c.missing_class()],
        // `Cannot instantiate abstract class "Tidy" with abstract attributes "a" and "b"`
        Some("abstract") => {
            let names = m
                .message
                .split_once(mypy::ABSTRACT_NAMES)
                .map_or("", |(_, rest)| rest);
            quoted(names).iter().map(|n| c.missing(n)).collect()
        }
        Some("assignment") => c.not_the_protocol(m),
        _ => vec![c.generic(m)],
    }
}

/// The user's class that implements one export, as the generated module checks it.
struct ClassCheck<'a> {
    cx: &'a Cx<'a>,
    class: &'a str,
    /// The interface as findings name it.
    interface: &'a str,
    export: Option<&'a Export>,
    module_file: &'a Path,
}

impl ClassCheck<'_> {
    fn wit(&self, method: &str) -> Option<&Func> {
        self.export.and_then(|e| e.function(method, snake))
    }

    fn missing_class(&self) -> Finding {
        let (class, interface) = (self.class, self.interface);
        self.cx.finding(
            Code::SourceMissingExport,
            Site {
                interface,
                function: None,
                expected: None,
                found: None,
                location: Some(Location {
                    file: shown(self.module_file),
                    line: 1,
                    column: 1,
                }),
            },
            format!(
                "module `{}` defines no class `{class}`, which implements {interface}",
                self.cx.component.module.as_deref().unwrap_or("app")
            ),
        )
    }

    fn missing(&self, method: &str) -> Finding {
        let (class, interface) = (self.class, self.interface);
        let f = self.wit(method);
        self.cx.finding(
            Code::SourceMissingFunction,
            Site {
                interface,
                function: f.map(|f| f.name.as_str()),
                expected: f.map(|f| f.signature.clone()),
                found: Some("(nothing)".into()),
                location: Some(class_site(self.module_file, class, None)),
            },
            format!("class `{class}` has no method `{method}`, which {interface} exports"),
        )
    }

    fn generic(&self, m: &Message) -> Finding {
        generic(
            self.cx,
            m,
            self.interface,
            class_site(self.module_file, self.class, None),
        )
    }

    /// The class is not the protocol: mypy lists the members it lacks and those that conflict.
    fn not_the_protocol(&self, m: &Message) -> Vec<Finding> {
        let hint = m.hint.as_deref().unwrap_or("");
        let mut out = Vec::new();
        // `"Tidy" is missing following "Tidy" protocol member(s):\n    a\n    b`
        if let Some((_, rest)) = hint
            .split_once(mypy::MISSING_MEMBERS[0])
            .or_else(|| hint.split_once(mypy::MISSING_MEMBERS[1]))
        {
            for name in rest
                .lines()
                .map(str::trim)
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty() && !l.contains(' '))
            {
                out.push(self.missing(name));
            }
        }
        // `Following member(s) of "Tidy" have conflicts:\n Expected:\n def …\n Got:\n def …`
        let mut rest = hint;
        while let Some(start) = rest.find(mypy::EXPECTED) {
            let after = &rest[start + mypy::EXPECTED.len()..];
            let expected = after
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("");
            let Some(got_at) = after.find(mypy::GOT) else {
                break;
            };
            let got_text = &after[got_at + mypy::GOT.len()..];
            let got = got_text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("");
            rest = got_text;
            let Some(method) = def_name(got).or_else(|| def_name(expected)) else {
                continue;
            };
            let code = if param_count(expected) != param_count(got) {
                Code::SourceArity
            } else {
                Code::SourceType
            };
            out.push(signature_finding(
                self.cx,
                code,
                self.interface,
                self.wit(method),
                self.class,
                method,
                got,
                Some(class_site(self.module_file, self.class, Some(method))),
            ));
        }
        if out.is_empty() {
            out.push(self.generic(m));
        }
        out
    }
}

/// A finding mypy made in the user's own file: an override of a binding's method that does not
/// fit, or a call into the import bindings with the wrong arguments. Anything else is dropped.
fn user_finding(cx: &Cx, m: &Message, file: &Path, imported: &HashSet<String>) -> Option<Finding> {
    let at = location(file, m.line, m.column);
    match m.code.as_deref()? {
        "override" => {
            // The supertype is a binding's protocol (`"wit_world.exports.Tidy"`).
            let class = mypy::SUPERTYPE.captures(&m.message)?[1].to_string();
            let export = if class == "WitWorld" {
                cx.contract.world_export()
            } else {
                cx.contract.export_named(&class, upper_camel)
            };
            let interface = export.map_or(cx.contract.world.as_str(), |e| e.shown(cx.contract));
            let names = quoted(&m.message);
            let hint = m.hint.as_deref().unwrap_or("");
            if m.message.starts_with(mypy::SIGNATURE) {
                let method = names.first()?;
                let sup = after_label(hint, mypy::SUPERCLASS);
                let sub = after_label(hint, mypy::SUBCLASS);
                let code = if param_count(&sup) != param_count(&sub) {
                    Code::SourceArity
                } else {
                    Code::SourceType
                };
                let wit = export.and_then(|e| e.function(method, snake));
                return Some(signature_finding(
                    cx,
                    code,
                    interface,
                    wit,
                    &class,
                    method,
                    &sub,
                    Some(at),
                ));
            }
            // `Return type "int" of "initials" incompatible with return type "str" in supertype …`
            // `Argument 1 of "initials" is incompatible with supertype …; supertype defines the
            // argument type as "str"`
            let (method, found, what) = if m.message.starts_with(mypy::RETURN_TYPE) {
                // [returned, method, the WIT's, supertype]
                let (got, method, want) = (names.first()?, names.get(1)?, names.get(2)?);
                (
                    method.clone(),
                    format!("-> {got}"),
                    format!("it returns `{got}`, where the WIT's bindings return `{want}`"),
                )
            } else {
                // `Argument 1 of "initials" is incompatible …; … argument type as "str"`
                let n = m
                    .message
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("?")
                    .to_string();
                let want = names.last()?.clone();
                (
                    names.first()?.clone(),
                    line_of(file, m.line),
                    format!("its parameter {n} does not take `{want}`, the type the WIT passes"),
                )
            };
            let wit = export.and_then(|e| e.function(&method, snake));
            Some(cx.finding(
                Code::SourceType,
                Site {
                    interface,
                    function: wit.map(|f| f.name.as_str()),
                    expected: wit.map(|f| f.signature.clone()),
                    found: Some(found),
                    location: Some(at),
                },
                format!("`{class}.{method}` does not match its WIT: {what}"),
            ))
        }
        "call-arg" | "arg-type" | "call-overload" | "misc" => {
            // `Too many arguments for "write"`, `Argument 1 to "write" has incompatible type …`,
            // `Missing named argument "text" for "Entry"`: the callee is the last quoted name
            // after "for"/"to".
            let callee = mypy::CALLEE.captures_iter(&m.message).last()?[1].to_string();
            if !imported.contains(&callee) {
                return None;
            }
            let import = cx.contract.import_named(&callee, snake);
            Some(cx.finding(
                Code::SourceImportCall,
                Site {
                    interface: import.map_or(cx.contract.world.as_str(), |(i, _)| i.as_str()),
                    function: import.map(|(_, f)| f.name.as_str()),
                    expected: import.map(|(_, f)| f.signature.clone()),
                    found: Some(line_of(file, m.line)),
                    location: Some(at),
                },
                format!(
                    "call to imported `{callee}` does not match its WIT: {}",
                    lowercase_first(&m.message)
                ),
            ))
        }
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn signature_finding(
    cx: &Cx,
    code: Code,
    interface: &str,
    wit: Option<&super::Func>,
    class: &str,
    method: &str,
    got: &str,
    at: Option<Location>,
) -> Finding {
    let message = match (code, wit) {
        (Code::SourceArity, Some(f)) => format!(
            "`{class}.{method}` takes {}, but the WIT gives it {}",
            plural(param_count(got), "parameter"),
            plural(f.params, "parameter")
        ),
        (Code::SourceArity, None) => {
            format!("`{class}.{method}` takes another number of parameters than its WIT")
        }
        _ => format!("`{class}.{method}`'s annotations contradict its WIT"),
    };
    cx.finding(
        code,
        Site {
            interface,
            function: wit.map(|f| f.name.as_str()),
            expected: wit.map(|f| f.signature.clone()),
            found: Some(got.to_string()),
            location: at,
        },
        message,
    )
}

fn generic(cx: &Cx, m: &Message, interface: &str, at: Location) -> Finding {
    cx.finding(
        Code::SourceType,
        Site {
            interface,
            function: None,
            expected: None,
            found: None,
            location: Some(at),
        },
        format!("mypy: {}", m.message),
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or(String::new(), |c| {
        c.to_lowercase().chain(chars).collect::<String>()
    })
}

/// The line `n` of `file`, trimmed.
fn line_of(file: &Path, n: i64) -> String {
    read(file)
        .lines()
        .nth((n.max(1) - 1) as usize)
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Every `"quoted"` word of a mypy message.
fn quoted(text: &str) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The first non-empty line after `label` in a mypy hint.
fn after_label(hint: &str, label: &str) -> String {
    hint.split_once(label)
        .map(|(_, rest)| {
            rest.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("")
        })
        .unwrap_or("")
        .to_string()
}

/// `def initials(self, name: str) -> str` → `initials`.
fn def_name(sig: &str) -> Option<&str> {
    let rest = sig.trim().strip_prefix("async ").unwrap_or(sig.trim());
    let rest = rest.strip_prefix("def ")?;
    rest.split('(').next().map(str::trim)
}

/// The parameters of a `def` as mypy prints it, without `self`, `*args` and `**kwargs`.
fn param_count(sig: &str) -> usize {
    let Some(open) = sig.find('(') else {
        return 0;
    };
    let mut depth = 0usize;
    let mut params = Vec::new();
    let mut current = String::new();
    for ch in sig[open + 1..].chars() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ']' | '}' => depth = depth.saturating_sub(1),
            ')' if depth == 0 => break,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                params.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    params.push(current);
    params
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty() && *p != "self" && !p.starts_with('*') && *p != "/")
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parameters_as_mypy_prints_them() {
        assert_eq!(param_count("def initials(self, name: Any) -> Any"), 1);
        assert_eq!(
            param_count(
                "def f(self, a: dict[str, tuple[int, int]], b: Callable[[int], str]) -> None"
            ),
            2
        );
        assert_eq!(param_count("def f(self) -> None"), 0);
        assert_eq!(
            param_count("def f(self, *args: Any, **kwargs: Any) -> None"),
            0
        );
    }

    #[test]
    fn reads_names_from_messages() {
        assert_eq!(def_name("def initials(self) -> str"), Some("initials"));
        assert_eq!(
            quoted(
                r#"Cannot instantiate abstract class "Tidy" with abstract attributes "a" and "b""#
            ),
            ["Tidy", "a", "b"]
        );
    }
}
