//! The source-level contract check: a Python or JavaScript component's code against its world,
//! before componentize-py or componentize-js turns whatever it is given into a component.
//!
//! Neither toolchain looks at the code's shape: the component's type comes from the WIT, so a
//! method with one parameter too few builds, checks clean, and fails when it is first called.
//! Here the world's bindings come from the toolchains' own generators (componentize-py's
//! `bindings`, jco's `guest-types`) and a real type checker (mypy, tsc) holds the code against
//! them. What it says is sorted into findings that point at the user's line, with the WIT
//! signature beside the code's; whatever else the checker says about the code is not weld's
//! business and is dropped.
//!
//! The result is cached per component, keyed by a fingerprint of its sources, its WIT and the
//! tools' versions, so a build and a check that follow each other run the checker once.

mod js;
mod python;
mod wording;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use wit_parser::{FunctionKind, Resolve, WorldItem, WorldKey};

use super::{Against, Code, Finding, Location, Severity};
use crate::project::{Component, Lang};
use crate::toolchain::{Probe, Status, Tool, Toolchains};

/// The tools the check runs, found by probing.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    componentize_py: Option<PathBuf>,
    mypy: Option<PathBuf>,
    node: Option<PathBuf>,
    tsc: Option<PathBuf>,
    jco: PathBuf,
    /// Each tool's version, part of the cache key.
    versions: Vec<(Tool, String)>,
}

impl Tools {
    /// The tools `probes` found usable (missing ones stay unset and make [`check`] say so).
    pub fn from_probes(probes: &[Probe], toolchains: &Toolchains) -> Tools {
        let mut tools = Tools {
            jco: toolchains.jco(),
            ..Tools::default()
        };
        for p in probes.iter().filter(|p| p.status != Status::Missing) {
            let path = p.path.clone();
            match p.tool {
                Tool::ComponentizePy => tools.componentize_py = path,
                Tool::Mypy => tools.mypy = path,
                Tool::Node => tools.node = path,
                Tool::TypeScript => tools.tsc = path,
                _ => continue,
            }
            tools
                .versions
                .push((p.tool, p.version.clone().unwrap_or_default()));
        }
        tools
    }

    /// Probes what the check of `langs` needs.
    pub fn probe(toolchains: &Toolchains, langs: &[Lang]) -> Tools {
        let needed: Vec<Tool> = [
            Tool::ComponentizePy,
            Tool::Mypy,
            Tool::Node,
            Tool::TypeScript,
        ]
        .into_iter()
        .filter(|t| langs.contains(&t.lang()))
        .collect();
        Tools::from_probes(&toolchains.probe_many(&needed), toolchains)
    }

    /// `tool=version,…` of the tools that check `lang`.
    fn version(&self, lang: Lang) -> String {
        let parts: Vec<String> = self
            .versions
            .iter()
            .filter(|(t, _)| t.lang() == lang)
            .map(|(t, v)| format!("{}={v}", t.name()))
            .collect();
        parts.join(",")
    }

    /// The tools `lang`'s check needs that are not there.
    fn missing(&self, lang: Lang) -> Vec<&'static str> {
        let need: &[(&Option<PathBuf>, &'static str)] = match lang {
            Lang::Python => &[
                (&self.componentize_py, "componentize-py"),
                (&self.mypy, "mypy"),
            ],
            Lang::Js => &[(&self.node, "node"), (&self.tsc, "typescript")],
            _ => &[],
        };
        need.iter()
            .filter(|(path, _)| path.is_none())
            .map(|(_, name)| *name)
            .collect()
    }
}

/// Whether `component` is one whose source this check reads.
pub fn applies(component: &Component) -> bool {
    matches!(component.lang, Lang::Python | Lang::Js)
        && component.source_check
        && component.wit.is_some()
        && component.world.is_some()
}

/// The check could not run: a tool failed, or its output was unreadable. Nothing is known about
/// the source (exit 2).
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("component `{component}`: the source check could not run: {message}")]
#[diagnostic(code(weld::check::source))]
pub struct SourceError {
    /// The component.
    pub component: String,
    /// What failed, in the tool's words.
    pub message: String,
    /// What to do.
    #[help]
    pub help: Option<String>,
}

/// The findings of one component's source check, from the cache when nothing changed.
///
/// A missing toolchain is not an error here: it gives one `source-unchecked` warning, so that a
/// check of components built elsewhere still runs.
pub fn check(
    component: &Component,
    target_dir: &Path,
    tools: &Tools,
) -> Result<Vec<Finding>, SourceError> {
    let fail = |message: String, help: Option<&str>| SourceError {
        component: component.name.clone(),
        message,
        help: help.map(str::to_string),
    };
    if !applies(component) {
        return Ok(Vec::new());
    }
    let missing = tools.missing(component.lang);
    if !missing.is_empty() {
        return Ok(vec![unchecked(component, &missing)]);
    }
    let fingerprint = fingerprint(component, target_dir, tools).map_err(|e| fail(e, None))?;
    let record_path = target_dir
        .join(".cache/source-check")
        .join(format!("{}.json", component.name));
    if let Some(record) = std::fs::read(&record_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
        .filter(|r| r.fingerprint == fingerprint)
    {
        let findings = record.findings.into_iter().map(sourced).collect();
        return Ok(verdict(component, &contract_world(component), findings));
    }

    let (wit, world) = match (&component.wit, &component.world) {
        (Some(wit), Some(world)) => (wit, world),
        _ => return Ok(Vec::new()),
    };
    let contract = Contract::load(wit, world).map_err(|e| fail(e, None))?;
    let work = target_dir.join(".source-check").join(&component.name);
    let staged = target_dir.join(".wit").join(&component.name);
    let staged = crate::wit::for_toolchain(wit, &staged).map_err(|e| fail(e.to_string(), None))?;
    let cx = Cx {
        component,
        contract: &contract,
        staged: &staged,
        work: &work,
        tools,
    };
    let mut findings = match component.lang {
        Lang::Python => python::check(&cx)?,
        Lang::Js => js::check(&cx)?,
        _ => Vec::new(),
    };
    // One finding per place and statement, in file order.
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            f.location
                .as_ref()
                .map(|l| (l.file.clone(), l.line, l.column))
        };
        key(a).cmp(&key(b))
    });
    findings.dedup_by(|a, b| a.location == b.location && a.message == b.message);
    let record = Record {
        fingerprint,
        findings: findings.clone(),
    };
    // A record that cannot be written only costs the next check a run of the checker.
    if let Some(dir) = record_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let json = serde_json::to_vec_pretty(&record).expect("a record serializes");
    let _ = crate::fsutil::write_atomic(&record_path, &json);
    Ok(verdict(component, &contract.world, findings))
}

/// The findings, or the fact that there are none.
fn verdict(component: &Component, world: &str, mut findings: Vec<Finding>) -> Vec<Finding> {
    if findings.is_empty() {
        findings.push(checked(component, world));
    }
    findings
}

/// The world as the manifest resolved it (already fully qualified).
fn contract_world(component: &Component) -> String {
    component.world.clone().unwrap_or_default()
}

#[derive(Serialize, Deserialize)]
struct Record {
    fingerprint: String,
    findings: Vec<Finding>,
}

/// `against` is not serialised; a finding read back is still a source finding.
fn sourced(mut f: Finding) -> Finding {
    f.against = Against::Source;
    f
}

fn fingerprint(component: &Component, target_dir: &Path, tools: &Tools) -> Result<String, String> {
    // A JS entry module may import its neighbours: the whole directory is its source.
    let source = match component.lang {
        Lang::Js => component.source.parent().unwrap_or(&component.source),
        _ => &component.source,
    };
    let mut paths = vec![source];
    paths.extend(component.wit.as_deref());
    crate::fingerprint::fingerprint(&crate::fingerprint::Inputs {
        paths,
        exclude: vec![target_dir],
        settings: vec![
            ("check", "source".to_string()),
            ("lang", component.lang.to_string()),
            ("tools", tools.version(component.lang)),
            ("world", component.world.clone().unwrap_or_default()),
            ("module", component.module.clone().unwrap_or_default()),
            ("runtime-wit", crate::wit::RUNTIME_WASI_SOURCE.to_string()),
        ],
    })
}

fn checked(component: &Component, world: &str) -> Finding {
    let checker = if component.lang == Lang::Python {
        "mypy"
    } else {
        "tsc"
    };
    Finding {
        location: None,
        severity: Severity::Info,
        code: Code::SourceChecked,
        against: Against::Source,
        consumer: component.name.clone(),
        provider: Some(format!("world `{world}`")),
        interface: world.to_string(),
        item: None,
        expected: None,
        found: None,
        message: format!(
            "`{}`'s {} source matches world {world} ({checker} over the world's bindings)",
            component.name, component.lang
        ),
        help: None,
    }
}

fn unchecked(component: &Component, missing: &[&str]) -> Finding {
    Finding {
        location: None,
        severity: Severity::Warning,
        code: Code::SourceUnchecked,
        against: Against::Source,
        consumer: component.name.clone(),
        provider: component.world.as_ref().map(|w| format!("world `{w}`")),
        interface: component.world.clone().unwrap_or_default(),
        item: None,
        expected: None,
        found: None,
        message: format!(
            "`{}`'s {} source was not checked against its world: {} {} not installed",
            component.name,
            component.lang,
            missing.join(" and "),
            if missing.len() == 1 { "is" } else { "are" }
        ),
        help: Some(
            "run ./install.sh from weld's source checkout to install the checkers, or turn the check off with `source-check = false`".into(),
        ),
    }
}

/// What one checker run needs.
struct Cx<'a> {
    component: &'a Component,
    contract: &'a Contract,
    /// The WIT directory, with the runtime's WASI in deps/ when it lacks it.
    staged: &'a Path,
    /// A scratch directory of the checker's own, under the project's target directory.
    work: &'a Path,
    tools: &'a Tools,
}

impl Cx<'_> {
    fn error(&self, message: String, help: Option<&str>) -> SourceError {
        SourceError {
            component: self.component.name.clone(),
            message,
            help: help.map(str::to_string),
        }
    }

    /// Runs a checker tool; its failure to start is the environment's fault.
    fn run(&self, cmd: &mut Command) -> Result<Output, SourceError> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        cmd.output().map_err(|e| {
            self.error(
                format!("cannot run {program}: {e}"),
                Some("`weld doctor` checks the toolchains"),
            )
        })
    }

    /// A fresh scratch directory `name` under the work directory.
    fn scratch(&self, name: &str) -> Result<PathBuf, SourceError> {
        let dir = self.work.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| self.error(format!("cannot create {}: {e}", dir.display()), None))?;
        Ok(dir)
    }

    /// A finding about this component's source.
    fn finding(&self, code: Code, site: Site<'_>, message: String) -> Finding {
        Finding {
            severity: Severity::Error,
            code,
            against: Against::Source,
            consumer: self.component.name.clone(),
            provider: self
                .component
                .world
                .as_ref()
                .map(|w| format!("world `{w}`")),
            interface: site.interface.to_string(),
            item: site.function.map(|f| format!("function `{f}`")),
            expected: site.expected,
            found: site.found,
            message,
            help: Some(help(code, self.component.lang)),
            location: site.location,
        }
    }
}

/// Where a finding is and what the two sides say.
struct Site<'a> {
    /// The export or import, as WIT names it.
    interface: &'a str,
    /// The WIT function.
    function: Option<&'a str>,
    expected: Option<String>,
    found: Option<String>,
    location: Option<Location>,
}

fn help(code: Code, lang: Lang) -> String {
    let builder = if lang == Lang::Python {
        "componentize-py"
    } else {
        "componentize-js"
    };
    match code {
        Code::SourceMissingExport => format!(
            "define it as the WIT names it: {builder} looks it up by that name when the component is built"
        ),
        Code::SourceMissingFunction => {
            "implement the function (its WIT signature is shown), or remove it from the WIT".into()
        }
        Code::SourceArity => {
            "give the function the WIT's parameters, in the WIT's order, or change the WIT (and rebuild the components that import it)".into()
        }
        Code::SourceType => {
            "make the annotation match the WIT type (shown), or change the WIT".into()
        }
        Code::SourceImportCall => {
            "call the imported function as its WIT signature (shown) says".into()
        }
        _ => String::new(),
    }
}

/// The world's side: what it exports and imports, with signatures as WIT.
#[derive(Debug, Default)]
struct Contract {
    /// The world's fully qualified name.
    world: String,
    exports: Vec<Export>,
    /// Imported functions: (interface as WIT names it, function).
    imports: Vec<(String, Func)>,
}

/// An exported interface, or the world's own exported functions (`interface` is None).
#[derive(Debug)]
struct Export {
    /// `demo:names/tidy@0.1.0`; None for the world's own functions.
    interface: Option<String>,
    /// The interface's short name (`tidy`).
    short: Option<String>,
    functions: Vec<Func>,
}

impl Export {
    /// As a finding names it.
    fn shown<'a>(&'a self, contract: &'a Contract) -> &'a str {
        self.interface.as_deref().unwrap_or(&contract.world)
    }
}

#[derive(Debug, Clone)]
struct Func {
    /// The WIT name, `parse-numbers`.
    name: String,
    /// `parse-numbers: func(text: string) -> result<list<f64>, string>`.
    signature: String,
    /// How many parameters the WIT gives it.
    params: usize,
}

impl Contract {
    fn load(wit: &Path, world: &str) -> Result<Contract, String> {
        let (resolve, pkg) = crate::wit::load_dir(wit, wit).map_err(|e| e.to_string())?;
        let id = resolve
            .select_world(&[pkg], Some(world))
            .map_err(|e| format!("{e:#}"))?;
        let w = &resolve.worlds[id];
        let mut contract = Contract {
            world: resolve.id_of_name(w.package.unwrap_or(pkg), &w.name),
            ..Contract::default()
        };
        let mut own = Vec::new();
        for (key, item) in &w.exports {
            match item {
                WorldItem::Interface { id, .. } => contract.exports.push(Export {
                    interface: Some(interface_name(&resolve, key, *id)),
                    short: resolve.interfaces[*id].name.clone(),
                    functions: functions(&resolve, resolve.interfaces[*id].functions.values()),
                }),
                WorldItem::Function(f) => own.extend(functions(&resolve, [f])),
                WorldItem::Type { .. } => {}
            }
        }
        if !own.is_empty() {
            contract.exports.push(Export {
                interface: None,
                short: None,
                functions: own,
            });
        }
        for (key, item) in &w.imports {
            match item {
                WorldItem::Interface { id, .. } => {
                    let name = interface_name(&resolve, key, *id);
                    for f in functions(&resolve, resolve.interfaces[*id].functions.values()) {
                        contract.imports.push((name.clone(), f));
                    }
                }
                WorldItem::Function(f) => {
                    for f in functions(&resolve, [f]) {
                        contract.imports.push((contract.world.clone(), f));
                    }
                }
                WorldItem::Type { .. } => {}
            }
        }
        Ok(contract)
    }

    /// The export whose short name, in a language's spelling, is `name`.
    fn export_named(&self, name: &str, spell: fn(&str) -> String) -> Option<&Export> {
        self.exports
            .iter()
            .find(|e| e.short.as_deref().is_some_and(|s| spell(s) == name))
    }

    /// The world's own exported functions.
    fn world_export(&self) -> Option<&Export> {
        self.exports.iter().find(|e| e.interface.is_none())
    }

    /// The imported function whose name, in a language's spelling, is `name`.
    fn import_named(&self, name: &str, spell: fn(&str) -> String) -> Option<&(String, Func)> {
        self.imports.iter().find(|(_, f)| spell(&f.name) == name)
    }
}

impl Export {
    fn function(&self, name: &str, spell: fn(&str) -> String) -> Option<&Func> {
        self.functions.iter().find(|f| spell(&f.name) == name)
    }
}

fn interface_name(resolve: &Resolve, key: &WorldKey, id: wit_parser::InterfaceId) -> String {
    resolve
        .id_of(id)
        .unwrap_or_else(|| resolve.name_world_key(key))
}

/// Freestanding functions only: a resource's methods live on its class, which the generated
/// bindings check as a class.
fn functions<'a>(
    resolve: &Resolve,
    funcs: impl IntoIterator<Item = &'a wit_parser::Function>,
) -> Vec<Func> {
    funcs
        .into_iter()
        .filter(|f| {
            matches!(
                f.kind,
                FunctionKind::Freestanding | FunctionKind::AsyncFreestanding
            )
        })
        .map(|f| Func {
            name: f.name.clone(),
            signature: format!("{}: {}", f.name, super::wit_text::func_sig(resolve, f)),
            params: f.params.len(),
        })
        .collect()
}

/// `parse-numbers` as Python names it: `parse_numbers` (a keyword gets a trailing `_`).
fn snake(name: &str) -> String {
    const KEYWORDS: [&str; 35] = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ];
    let s = name.replace('-', "_");
    if KEYWORDS.contains(&s.as_str()) {
        s + "_"
    } else {
        s
    }
}

/// `incoming-handler` as a Python class: `IncomingHandler`.
fn upper_camel(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect()
}

/// `count-words` as JavaScript names it: `countWords`.
fn lower_camel(name: &str) -> String {
    let upper = upper_camel(name);
    let mut chars = upper.chars();
    chars.next().map_or(String::new(), |c| {
        c.to_lowercase().chain(chars).collect::<String>()
    })
}

/// A WIT function or interface name as componentize-py spells a method or module.
pub fn python_name(name: &str) -> String {
    snake(name)
}

/// A WIT interface or resource name as componentize-py spells its class.
pub fn python_class(name: &str) -> String {
    upper_camel(name)
}

/// A WIT name as jco and componentize-js spell it (`count-words` → `countWords`).
pub fn js_name(name: &str) -> String {
    lower_camel(name)
}

/// A path as findings show it.
fn shown(path: &Path) -> String {
    crate::fsutil::shown(path)
}

/// The 1-based (line, column) of the first match of `pattern` in `text` at or after line `from`.
fn find_line(text: &str, pattern: &regex::Regex, from: u32) -> Option<(u32, u32)> {
    for (i, line) in text.lines().enumerate() {
        let n = i as u32 + 1;
        if n < from {
            continue;
        }
        if let Some(m) = pattern.find(line) {
            return Some((n, line[..m.start()].chars().count() as u32 + 1));
        }
    }
    None
}

/// The source line a location points at, with a caret under its column, as compilers show it:
///
/// ```text
///   --> names-py/app.py:5:5
///    |
///  5 |     def initials(self, name):
///    |     ^
/// ```
pub fn excerpt(location: &Location) -> String {
    let mut out = format!(
        "  --> {}:{}:{}\n",
        location.file, location.line, location.column
    );
    let text = std::fs::read_to_string(&location.file).unwrap_or_default();
    if let Some(line) = text.lines().nth(location.line.saturating_sub(1) as usize) {
        let number = location.line.to_string();
        let pad = " ".repeat(number.len());
        let line = line.replace('\t', "    ");
        let caret = " ".repeat(location.column.saturating_sub(1) as usize);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{number} | {line}");
        let _ = writeln!(out, "{pad} | {caret}^");
    }
    out
}

/// Findings as a build failure shows them: each with its place, its line of code, and both
/// sides of the contract.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "error[{}]: {}", f.code, f.message);
        if let Some(location) = &f.location {
            out.push_str(&excerpt(location));
        }
        if let Some(expected) = &f.expected {
            let _ = writeln!(out, "  the WIT says:  {expected}");
        }
        if let Some(found) = &f.found {
            let _ = writeln!(out, "  the code has:  {found}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_spelled_as_the_bindings_spell_them() {
        assert_eq!(snake("parse-numbers"), "parse_numbers");
        assert_eq!(snake("from"), "from_");
        assert_eq!(upper_camel("incoming-handler"), "IncomingHandler");
        assert_eq!(lower_camel("count-words"), "countWords");
        assert_eq!(lower_camel("tidy"), "tidy");
    }

    #[test]
    fn find_line_counts_from_one() {
        let re = regex::Regex::new(r"def b\b").unwrap();
        assert_eq!(find_line("x\n  def b(self):\n", &re, 1), Some((2, 3)));
        assert_eq!(find_line("x\n  def b(self):\n", &re, 3), None);
    }
}
