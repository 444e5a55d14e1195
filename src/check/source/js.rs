//! JavaScript: jco's guest types for the world, and TypeScript's compiler over the entry module.
//!
//! componentize-js takes each exported interface from the entry module's export of the same
//! name in camelCase (`countWords` in `words`) and the world's own functions from its top-level
//! exports. A generated TypeScript module holds each against the guest types: is the export
//! there, does the function take no more parameters than the WIT gives (JavaScript may take
//! fewer), and does its type (JSDoc annotations, or what tsc infers) fit. `--checkJs` also
//! checks the code's calls into the import modules, whose declarations the guest types carry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use regex::Regex;

use super::wording::tsc;
use super::{Cx, Export, Func, Site, SourceError, find_line, lower_camel, shown};
use crate::check::{Code, Finding, Location};

/// What one line of the generated module checks.
#[derive(Debug, Clone)]
enum Check {
    /// The entry module exports `export`.
    Present(usize),
    /// Export `export` has function `function`.
    HasFunction(usize, usize),
    /// It takes at most as many parameters as the WIT gives.
    Arity(usize, usize),
    /// Its type fits the guest type.
    Type(usize, usize),
}

/// One diagnostic of `tsc --pretty false`: `file(line,col): error TSnnnn: message`.
#[derive(Debug)]
struct Diagnostic {
    file: PathBuf,
    line: u32,
    column: u32,
    code: String,
    message: String,
}

pub(super) fn check(cx: &Cx) -> Result<Vec<Finding>, SourceError> {
    let node = cx.tools.node.as_deref().unwrap_or(Path::new("node"));
    let guest = GuestTypes::of(cx, node)?;
    let entry = cx
        .component
        .source
        .canonicalize()
        .unwrap_or_else(|_| cx.component.source.clone());
    let entry_text = std::fs::read_to_string(&entry).unwrap_or_default();
    let exports = guest.exports(cx, &entry_text);
    let (module, checks) = contract_module(&guest, &entry, &exports);
    let check_file = guest.dir.join("weld-contract.ts");
    std::fs::write(&check_file, module)
        .map_err(|e| cx.error(format!("cannot write {}: {e}", check_file.display()), None))?;
    let diagnostics = tsc(cx, node, &check_file, &guest.dir)?;
    let checked = Checked {
        cx,
        exports,
        entry,
        entry_text,
        check_file,
        checks,
    };
    Ok(checked.findings(&diagnostics, &guest.dir))
}

/// jco's guest types for the component's world.
struct GuestTypes {
    /// The directory jco wrote them to.
    dir: PathBuf,
    /// The world's declaration file, and its text.
    world_file: PathBuf,
    declared: String,
    /// The module the world's own functions are declared in.
    world_module: String,
}

/// An export to check: (its JS name, empty for the world's own functions; the module its guest
/// types are in; the WIT export).
type Exported<'a> = (String, String, &'a Export);

impl GuestTypes {
    fn of(cx: &Cx, node: &Path) -> Result<GuestTypes, SourceError> {
        let dir = cx.scratch("types")?;
        let mut cmd = Command::new(node);
        cmd.arg(&cx.tools.jco)
            .arg("guest-types")
            .arg(cx.staged)
            .arg("--world-name")
            .arg(&cx.contract.world)
            .arg("-o")
            .arg(&dir)
            .arg("-q");
        let out = cx.run(&mut cmd)?;
        if !out.status.success() {
            return Err(cx.error(
                format!(
                    "jco guest-types failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                Some("run ./install.sh to reinstall componentize-js, then `weld doctor`"),
            ));
        }
        let world_file = std::fs::read_dir(&dir)
            .map_err(|e| cx.error(format!("cannot read {}: {e}", dir.display()), None))?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(".d.ts"))
            .ok_or_else(|| cx.error("jco guest-types wrote no world types".into(), None))?;
        let declared = std::fs::read_to_string(&world_file).unwrap_or_default();
        static MODULE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"(?m)^declare module '([^']+)'").unwrap());
        let world_module = MODULE
            .captures(&declared)
            .map(|c| c[1].to_string())
            .ok_or_else(|| {
                cx.error(format!("{} declares no module", world_file.display()), None)
            })?;
        Ok(GuestTypes {
            dir,
            world_file,
            declared,
            world_module,
        })
    }

    /// The world's exports that the entry module must implement.
    fn exports<'a>(&self, cx: &Cx<'a>, entry_text: &str) -> Vec<Exported<'a>> {
        static EXPORT: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"(?m)^\s*export \* as (\w+) from '([^']+)'").unwrap());
        let mut exports = Vec::new();
        for cap in EXPORT.captures_iter(&self.declared) {
            let (name, spec) = (cap[1].to_string(), cap[2].to_string());
            // The engine serves `addEventListener("fetch", …)` as the HTTP handler itself.
            if spec.starts_with("wasi:http/incoming-handler@") && !exports_name(entry_text, &name) {
                continue;
            }
            if let Some(e) = cx.contract.export_named(&name, lower_camel) {
                exports.push((name, spec, e));
            }
        }
        if let Some(e) = cx.contract.world_export() {
            exports.push((String::new(), self.world_module.clone(), e));
        }
        exports
    }
}

/// The TypeScript module that holds the entry module's exports against the guest types, one
/// check a line, and which check each line is.
fn contract_module(
    guest: &GuestTypes,
    entry: &Path,
    exports: &[Exported],
) -> (String, HashMap<u32, Check>) {
    let mut module = format!(
        "/// <reference path=\"./{}\" />\nimport * as user from {};\n\
         type Arity<F> = F extends (...args: infer A) => unknown ? Required<A>[\"length\"] : never;\n",
        guest
            .world_file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
        serde_json::to_string(&entry.to_string_lossy()).expect("a string serializes"),
    );
    let mut checks: HashMap<u32, Check> = HashMap::new();
    let mut push = |module: &mut String, line: String, check: Check| {
        module.push_str(&line);
        module.push('\n');
        checks.insert(module.lines().count() as u32, check);
    };
    for (i, (name, spec, export)) in exports.iter().enumerate() {
        module.push_str(&format!("import * as wit{i} from '{spec}';\n"));
        let object = if name.is_empty() {
            "user".to_string()
        } else {
            push(
                &mut module,
                format!("const _p{i}: \"{name}\" extends keyof typeof user ? true : false = true;"),
                Check::Present(i),
            );
            format!("user.{name}")
        };
        for (j, f) in export.functions.iter().enumerate() {
            let js = lower_camel(&f.name);
            let allowed: Vec<String> = (0..=f.params).map(|n| n.to_string()).collect();
            push(
                &mut module,
                format!(
                    "const _f{i}_{j}: \"{js}\" extends keyof typeof {object} ? true : false = true;"
                ),
                Check::HasFunction(i, j),
            );
            push(
                &mut module,
                format!(
                    "const _a{i}_{j}: {} = null as unknown as Arity<typeof {object}.{js}>;",
                    allowed.join(" | ")
                ),
                Check::Arity(i, j),
            );
            push(
                &mut module,
                format!("const _t{i}_{j}: typeof wit{i}.{js} = {object}.{js};"),
                Check::Type(i, j),
            );
        }
    }
    (module, checks)
}

/// tsc's diagnostics on the contract module and the code it imports.
fn tsc(
    cx: &Cx,
    node: &Path,
    check_file: &Path,
    types: &Path,
) -> Result<Vec<Diagnostic>, SourceError> {
    let mut cmd = Command::new(node);
    cmd.arg(cx.tools.tsc.as_deref().unwrap_or(Path::new("tsc")))
        .args(["--noEmit", "--allowJs", "--checkJs", "--strict", "false"])
        .args(["--target", "es2022", "--module", "preserve"])
        .args([
            "--moduleResolution",
            "bundler",
            "--skipLibCheck",
            "--pretty",
            "false",
        ])
        .arg(check_file)
        .current_dir(types);
    let out = cx.run(&mut cmd)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let diagnostics = parse(&stdout, types);
    if !out.status.success() && diagnostics.is_empty() {
        return Err(cx.error(
            format!(
                "tsc failed: {}{}",
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Some("run ./install.sh to reinstall TypeScript, then `weld doctor`"),
        ));
    }
    Ok(diagnostics)
}

/// A checked contract module, for reading tsc's diagnostics back as findings.
struct Checked<'a> {
    cx: &'a Cx<'a>,
    exports: Vec<Exported<'a>>,
    entry: PathBuf,
    entry_text: String,
    check_file: PathBuf,
    checks: HashMap<u32, Check>,
}

impl Checked<'_> {
    fn findings(&self, diagnostics: &[Diagnostic], types: &Path) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut absent: Vec<usize> = Vec::new();
        let mut absent_fn: Vec<(usize, usize)> = Vec::new();
        // Presence first: a missing export makes every later line about it fail too.
        let mut ordered: Vec<(&Diagnostic, Option<&Check>)> = diagnostics
            .iter()
            .map(|d| {
                (
                    d,
                    (d.file == self.check_file)
                        .then(|| self.checks.get(&d.line))
                        .flatten(),
                )
            })
            .collect();
        ordered.sort_by_key(|(_, c)| match c {
            Some(Check::Present(_)) => 0,
            Some(Check::HasFunction(..)) => 1,
            _ => 2,
        });
        for (d, check) in ordered {
            if d.file != self.check_file {
                if !d.file.starts_with(types) {
                    findings.extend(import_call(self.cx, d));
                }
                continue;
            }
            let found = match check {
                Some(&Check::Present(i)) => {
                    absent.push(i);
                    Some(self.missing_export(i))
                }
                Some(&Check::HasFunction(i, j)) if !absent.contains(&i) => {
                    absent_fn.push((i, j));
                    Some(self.missing_function(i, j))
                }
                Some(&Check::Arity(i, j))
                    if !absent.contains(&i) && !absent_fn.contains(&(i, j)) =>
                {
                    self.arity(d, i, j)
                }
                Some(&Check::Type(i, j))
                    if !absent.contains(&i) && !absent_fn.contains(&(i, j)) =>
                {
                    self.type_mismatch(d, i, j)
                }
                _ => None,
            };
            findings.extend(found);
        }
        findings
    }

    fn interface_of(&self, i: usize) -> &str {
        self.exports[i].2.shown(self.cx.contract)
    }

    fn missing_export(&self, i: usize) -> Finding {
        let name = &self.exports[i].0;
        self.cx.finding(
            Code::SourceMissingExport,
            Site {
                interface: self.interface_of(i),
                function: None,
                expected: None,
                found: None,
                location: Some(Location {
                    file: shown(&self.entry),
                    line: 1,
                    column: 1,
                }),
            },
            format!(
                "the entry module has no export `{name}`, which implements {}",
                self.interface_of(i)
            ),
        )
    }

    fn missing_function(&self, i: usize, j: usize) -> Finding {
        let f = &self.exports[i].2.functions[j];
        let js = lower_camel(&f.name);
        let owner = owner(&self.exports[i].0);
        self.cx.finding(
            Code::SourceMissingFunction,
            Site {
                interface: self.interface_of(i),
                function: Some(&f.name),
                expected: Some(f.signature.clone()),
                found: Some("(nothing)".into()),
                location: Some(export_site(
                    &self.entry,
                    &self.entry_text,
                    &self.exports[i].0,
                )),
            },
            format!(
                "{owner} has no function `{js}`, which {} exports",
                self.interface_of(i)
            ),
        )
    }

    fn arity(&self, d: &Diagnostic, i: usize, j: usize) -> Option<Finding> {
        // `Type '3' is not assignable to type '0 | 1 | 2'`; `number` is a rest parameter,
        // which takes any count.
        let n = tsc::COUNT
            .captures(&d.message)
            .and_then(|c| c[1].parse::<usize>().ok())?;
        let f = &self.exports[i].2.functions[j];
        Some(self.function_finding(
            Code::SourceArity,
            i,
            f,
            format!(
                "`{}` takes {}, but the WIT gives it {}",
                lower_camel(&f.name),
                plural(n, "parameter"),
                plural(f.params, "parameter")
            ),
            None,
        ))
    }

    fn type_mismatch(&self, d: &Diagnostic, i: usize, j: usize) -> Option<Finding> {
        // An arity finding already says what is wrong with this function.
        if d.message.contains(tsc::TOO_FEW_ARGUMENTS) {
            return None;
        }
        let f = &self.exports[i].2.functions[j];
        // `Type '(name: number) => string' is not assignable to type '…'.` and TypeScript's
        // reason on the next line.
        let found = d
            .message
            .lines()
            .next()
            .and_then(|l| tsc::TYPE.captures(l))
            .map(|c| c[1].to_string());
        // TypeScript's elaboration, from the outermost reason in.
        let reason = d
            .message
            .lines()
            .skip(1)
            .map(|l| lowercase_first(l.trim().trim_end_matches('.')))
            .collect::<Vec<_>>()
            .join(": ");
        Some(self.function_finding(
            Code::SourceType,
            i,
            f,
            format!(
                "`{}` does not match its WIT: {}",
                lower_camel(&f.name),
                lowercase_first(&reason)
            ),
            found,
        ))
    }

    /// A finding about function `f` of export `i`, at its definition in the entry module.
    fn function_finding(
        &self,
        code: Code,
        i: usize,
        f: &Func,
        message: String,
        found: Option<String>,
    ) -> Finding {
        let text = &self.entry_text;
        let at = function_site(&self.entry, text, &self.exports[i].0, &lower_camel(&f.name));
        let found = found.or_else(|| {
            text.lines()
                .nth(at.line as usize - 1)
                .map(|l| l.trim().trim_end_matches('{').trim().to_string())
        });
        self.cx.finding(
            code,
            Site {
                interface: self.interface_of(i),
                function: Some(&f.name),
                expected: Some(f.signature.clone()),
                found,
                location: Some(at),
            },
            message,
        )
    }
}

/// Whether the module text exports `name` (by declaration or in an export list).
fn exports_name(text: &str, name: &str) -> bool {
    let re = Regex::new(&format!(
        r"export\s+(?:(?:const|let|var|function\*?|class|async\s+function)\s+{0}\b|\{{[^}}]*\b{0}\b)",
        regex::escape(name)
    ))
    .unwrap();
    re.is_match(text)
}

fn owner(name: &str) -> String {
    if name.is_empty() {
        "the entry module".into()
    } else {
        format!("export `{name}`")
    }
}

/// Where the entry module exports `name` (line 1 when it cannot be found).
fn export_site(entry: &Path, text: &str, name: &str) -> Location {
    let re = Regex::new(&format!(
        r"export\s+(?:(?:const|let|var|function\*?|class|async\s+function)\s+{0}\b|\{{[^}}]*\b{0}\b)",
        regex::escape(name)
    ))
    .unwrap();
    let (line, column) = if name.is_empty() {
        None
    } else {
        find_line(text, &re, 1)
    }
    .unwrap_or((1, 1));
    Location {
        file: shown(entry),
        line,
        column,
    }
}

/// Where function `js` is defined in the entry module: a declaration, a method, or a property
/// holding a function; else where its export is.
fn function_site(entry: &Path, text: &str, export: &str, js: &str) -> Location {
    let name = regex::escape(js);
    let patterns = [
        format!(r"\bfunction\*?\s+{name}\s*\("),
        format!(r"^\s*(?:async\s+)?\*?{name}\s*\([^)]*\)\s*\{{"),
        format!(r"\b{name}\s*[:=]\s*(?:async\s+)?(?:function\b|\(|\w+\s*=>)"),
    ];
    for p in patterns {
        let re = Regex::new(&p).unwrap();
        if let Some((line, column)) = find_line(text, &re, 1) {
            return Location {
                file: shown(entry),
                line,
                column,
            };
        }
    }
    export_site(entry, text, export)
}

/// A diagnostic in the user's code about a call into an import module, found by the names the
/// file imports from WIT specifiers (`ns:pkg/iface`): any other complaint of tsc's about the
/// code is not about its contract.
fn import_call(cx: &Cx, d: &Diagnostic) -> Option<Finding> {
    const ABOUT_ARGUMENTS: [&str; 10] = [
        "TS2554", "TS2555", "TS2345", "TS2353", "TS2561", "TS2741", "TS2322", "TS2559", "TS2769",
        "TS2739",
    ];
    if !ABOUT_ARGUMENTS.contains(&d.code.as_str()) {
        return None;
    }
    let text = std::fs::read_to_string(&d.file).ok()?;
    let line = text.lines().nth(d.line as usize - 1)?;
    static NAMED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"import\s*\{([^}]*)\}\s*from\s*['"]([^'"]+:[^'"]+)['"]"#).unwrap()
    });
    static NAMESPACE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"import\s*\*\s*as\s+(\w+)\s+from\s*['"]([^'"]+:[^'"]+)['"]"#).unwrap()
    });
    // The local name a call would use → the function's JS name (None: any in a namespace).
    let mut called: Option<Option<String>> = None;
    for cap in NAMED.captures_iter(&text) {
        for item in cap[1].split(',') {
            let mut parts = item.split_whitespace();
            let Some(imported) = parts.next() else {
                continue;
            };
            let local = match (parts.next(), parts.next()) {
                (Some("as"), Some(local)) => local,
                _ => imported,
            };
            if Regex::new(&format!(r"\b{}\s*\(", regex::escape(local)))
                .unwrap()
                .is_match(line)
            {
                called = Some(Some(imported.to_string()));
            }
        }
    }
    for cap in NAMESPACE.captures_iter(&text) {
        let re = Regex::new(&format!(r"\b{}\.(\w+)\s*\(", regex::escape(&cap[1]))).unwrap();
        if let Some(m) = re.captures(line) {
            called = Some(Some(m[1].to_string()));
        }
    }
    let name = called??;
    let import = cx.contract.import_named(&name, lower_camel);
    Some(cx.finding(
        Code::SourceImportCall,
        Site {
            interface: import.map_or(cx.contract.world.as_str(), |(i, _)| i.as_str()),
            function: import.map(|(_, f)| f.name.as_str()),
            expected: import.map(|(_, f)| f.signature.clone()),
            found: Some(line.trim().to_string()),
            location: Some(Location {
                file: shown(&d.file),
                line: d.line,
                column: d.column,
            }),
        },
        format!(
            "call to imported `{name}` does not match its WIT: {}",
            lowercase_first(d.message.lines().next().unwrap_or("").trim_end_matches('.'))
        ),
    ))
}

/// tsc's diagnostics; a message's continuation lines are indented.
fn parse(output: &str, cwd: &Path) -> Vec<Diagnostic> {
    static HEAD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(.+)\((\d+),(\d+)\): error (TS\d+): (.*)$").unwrap());
    let mut out: Vec<Diagnostic> = Vec::new();
    for line in output.lines() {
        if let Some(c) = HEAD.captures(line) {
            let file = cwd.join(&c[1]);
            out.push(Diagnostic {
                file: file.canonicalize().unwrap_or(file),
                line: c[2].parse().unwrap_or(1),
                column: c[3].parse().unwrap_or(1),
                code: c[4].to_string(),
                message: c[5].to_string(),
            });
        } else if let Some(last) = out.last_mut()
            && line.starts_with(' ')
        {
            last.message.push('\n');
            last.message.push_str(line.trim());
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tsc_output_with_continuations() {
        let out = "a.ts(5,7): error TS2322: Type 'x' is not assignable to type 'y'.\n  Target signature provides too few arguments.\nb.js(1,2): error TS2554: Expected 1 arguments, but got 2.\n";
        let d = parse(out, Path::new("/nonexistent"));
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].line, d[0].column), (5, 7));
        assert!(
            d[0].message
                .ends_with("Target signature provides too few arguments.")
        );
        assert_eq!(d[1].code, "TS2554");
    }

    #[test]
    fn finds_where_a_function_is_defined() {
        let text = "function shout(text) {}\nexport const words = { shout, countWords };\nconst countWords = (t) => 1;\n";
        let p = Path::new("w.js");
        assert_eq!(function_site(p, text, "words", "shout").line, 1);
        assert_eq!(function_site(p, text, "words", "countWords").line, 3);
        assert_eq!(function_site(p, text, "words", "titleCase").line, 2);
        assert!(exports_name(text, "words"));
        assert!(!exports_name(text, "incomingHandler"));
    }
}
