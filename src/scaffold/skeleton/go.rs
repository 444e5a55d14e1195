//! The Go skeleton: wit-bindgen-go's own stubs (the bindings weld builds with, generated with
//! `generate_stubs`), cut down to what the user writes.
//!
//! Go alone does not go through [`super::walk`]: wit-bindgen-go already walks the world and
//! spells every stub in Go, resource types and all, so the skeleton trims its stubs instead of
//! writing them again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{ScaffoldError, Source, World};

/// Each export package gets one file in componentize-go's layout
/// (`export_<ns>_<pkg>_<iface>/`), holding the functions and resource types the glue calls, each
/// panicking until it is written. A world that exports nothing is a command: a `main` package.
pub(in crate::scaffold) fn go(
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
        .map(|go| go.with_file_name("gofmt"))
        .filter(|g| g.is_file());
    let format = |text: String| match &gofmt {
        Some(gofmt) => gofmt_text(gofmt, &text).unwrap_or(text),
        None => text,
    };
    if !bindings.exports {
        return Ok(vec![(
            src.dir.join("main.go"),
            format(command(src, &bindings, file)),
        )]);
    }
    let mut files = Vec::new();
    for (path, stub) in &bindings.stubs {
        let Some(package) = path
            .strip_suffix("/wit_bindings.go")
            .filter(|p| p.starts_with("export_"))
        else {
            continue;
        };
        let glue = bindings
            .files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, g)| String::from_utf8_lossy(g).into_owned())
            .unwrap_or_default();
        let code = export_package(src, package, &String::from_utf8_lossy(stub), &glue, file)?;
        files.push((
            src.dir
                .join(package)
                .join(format!("{}.go", package.trim_start_matches("export_"))),
            format(code),
        ));
    }
    Ok(files)
}

/// `text` as gofmt writes it, or None if gofmt cannot.
fn gofmt_text(gofmt: &Path, text: &str) -> Option<String> {
    let mut cmd = Command::new(gofmt);
    crate::build::isolate_go(&mut cmd, crate::run::default_cache_dir().as_deref());
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    std::io::Write::write_all(&mut child.stdin.take()?, text.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).ok())?
}

/// A command's `main` package, keeping the world's own imports alive.
fn command(src: &Source, bindings: &crate::build::GoBindings, file: &str) -> String {
    // The functions of the world's own imports, by package, as the bindings name them.
    let func = regex::Regex::new(r"(?m)^func ([A-Z]\w*)\(").expect("a valid pattern");
    let mut packages = Vec::new();
    let mut kept = Vec::new();
    for (path, code) in &bindings.files {
        let Some(package) = path.strip_suffix("/wit_bindings.go") else {
            continue;
        };
        if package.contains('/') || package.starts_with("export_") || package.starts_with("wasi_") {
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
    format!(
        "// `{name}`: a command implementing world `{world}` ({file}); its imports are\n\
         // the `wit_component/...` packages weld generates at build time.\n\
         package main\n\n{imports}func main() {{\n{keep}\tpanic(\"{name} is not written yet (see {file})\")\n}}\n",
        name = src.name,
        world = src.world,
    )
}

/// One export package: the stubs that follow the glue in wit-bindgen-go's stub file, with the
/// imports they use.
fn export_package(
    src: &Source,
    package: &str,
    stub: &str,
    glue: &str,
    file: &str,
) -> Result<String, ScaffoldError> {
    let (imports, stub_code) = split_go_imports(stub);
    let glue_code = split_go_imports(glue).1;
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
    Ok(format!(
        "// Package {package} is what component `{name}` exports for world `{world}`\n\
         // ({file}). weld new wrote it from wit-bindgen-go's stubs: every function panics\n\
         // until it is written; weld generates the glue that calls them at build time.\n\
         package {package}\n\n{import_block}{user}\n",
        name = src.name,
        world = src.world,
    ))
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
