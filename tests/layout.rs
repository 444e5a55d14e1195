//! The layout rules of docs/architecture.md, read from the source: no two sibling modules of the
//! library use each other (directly or around a longer circle), and no command file of the CLI
//! uses another command's module.
//!
//! A use is any `crate::`, `super::` or (in the CLI) `weld::` path in code, comments and tests
//! left out; it counts between the two siblings under the deepest module both paths share.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path from the crate root: `["check", "plug"]`.
type ModPath = Vec<String>;

/// One use of another module: who, where, and what path it named.
#[derive(Debug, Clone)]
struct Use {
    from: ModPath,
    to: ModPath,
    /// Through `super::` (else `crate::`).
    relative: bool,
    at: String,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file is: `src/check/plug.rs` → `check::plug`, `src/check/mod.rs` → `check`.
fn module_of(file: &Path, root: &Path) -> ModPath {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: ModPath = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its unit tests (which may use anything).
fn code(text: &str) -> Vec<(usize, String)> {
    let end = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..end]
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = match line.find("//") {
                Some(at) => &line[..at],
                None => line,
            };
            (!line.trim().is_empty()).then(|| (i + 1, line.to_string()))
        })
        .collect()
}

/// The paths after `prefix` in `text` (`crate::`, `super::`): `a::b` of `crate::a::b::c`, and
/// every path of a group, `crate::{a::x, b}`.
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        // `weld::` inside `some_weld::` is not the crate.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        out.extend(group(rest).into_iter().filter(|p| !p.is_empty()));
    }
    out
}

/// Reads `a::b::{c, d::e}` or `{x, y::z}` from the start of `text` into its paths.
fn group(text: &str) -> Vec<Vec<String>> {
    let mut head = Vec::new();
    let mut rest = text;
    loop {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            break;
        }
        rest = &rest[name.len()..];
        head.push(name);
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => return vec![head],
        }
    }
    let Some(inner) = rest.strip_prefix('{') else {
        return vec![head];
    };
    // Split the group at its top-level commas.
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                parts.push(&inner[start..i]);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts
        .into_iter()
        .flat_map(|p| group(p.trim()))
        .map(|tail| head.iter().cloned().chain(tail).collect())
        .collect()
}

/// Every `crate::` and `super::` use in `files`, their modules named from `root`.
fn uses(files: &[PathBuf], root: &Path) -> Vec<Use> {
    let mut out = Vec::new();
    for file in files {
        let from = module_of(file, root);
        let text = std::fs::read_to_string(file).unwrap();
        // The whole file at once, so that multi-line `use` groups are read whole.
        let lines = code(&text);
        let joined: String = lines
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let line_of = |needle: &str| {
            lines
                .iter()
                .find(|(_, l)| l.contains(needle))
                .map_or(0, |(n, _)| *n)
        };
        let mut found: Vec<(ModPath, bool)> = paths_after(&joined, "crate::")
            .into_iter()
            .map(|p| (p, false))
            .collect();
        for p in paths_after(&joined, "super::") {
            // The parent of this file's module (`super::super::` is not used in weld).
            let mut to = from[..from.len().saturating_sub(1)].to_vec();
            to.extend(p);
            found.push((to, true));
        }
        for (to, relative) in found {
            let needle = to.last().cloned().unwrap_or_default();
            out.push(Use {
                from: from.clone(),
                to,
                relative,
                at: format!("{}:{}", file.display(), line_of(&needle)),
            });
        }
    }
    out
}

/// The sibling modules a use joins: under the deepest module both share, the child holding the
/// user and the child it names, when the name is a module (not an item of the parent).
fn siblings(u: &Use, modules: &BTreeSet<ModPath>) -> Option<(ModPath, ModPath)> {
    let shared = u.from.iter().zip(&u.to).take_while(|(a, b)| a == b).count();
    if shared >= u.from.len() || shared >= u.to.len() {
        return None;
    }
    let a = u.from[..=shared].to_vec();
    let b = u.to[..=shared].to_vec();
    modules.contains(&b).then_some((a, b))
}

/// The circles of a directed graph, each once, as the modules around it.
fn circles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    let mut found = BTreeSet::new();
    for start in edges.keys() {
        // Paths from `start` back to it, through nodes greater than it (each circle once).
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, path)) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if next == start {
                    found.insert(path.clone());
                } else if next > start && !path.contains(next) && path.len() < 8 {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    found.into_iter().collect()
}

#[test]
fn no_module_circles_in_the_library() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.retain(|f| !f.starts_with(root.join("cli")) && !f.ends_with("main.rs"));
    let modules: BTreeSet<ModPath> = files.iter().map(|f| module_of(f, &root)).collect();
    let all = uses(&files, &root);
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    let mut evidence: BTreeMap<(ModPath, ModPath), String> = BTreeMap::new();
    for u in &all {
        if let Some((a, b)) = siblings(u, &modules) {
            evidence
                .entry((a.clone(), b.clone()))
                .or_insert_with(|| u.at.clone());
            edges.entry(a).or_default().insert(b);
        }
    }
    // The reader must see the library's real shape, or the rule checks nothing.
    assert!(
        edges
            .get(&vec!["build".to_string()])
            .is_some_and(|to| to.contains(&vec!["toolchain".to_string()])),
        "build uses toolchain, and this test should see it: {edges:?}"
    );
    let found = circles(&edges);
    let show = |m: &ModPath| m.join("::");
    let report: Vec<String> = found
        .iter()
        .map(|c| {
            let steps: Vec<String> = c
                .iter()
                .zip(c.iter().cycle().skip(1))
                .map(|(a, b)| {
                    format!(
                        "{} → {} ({})",
                        show(a),
                        show(b),
                        evidence[&(a.clone(), b.clone())]
                    )
                })
                .collect();
            steps.join("; ")
        })
        .collect();
    assert!(report.is_empty(), "module circles:\n{}", report.join("\n"));
}

/// The CLI's files that are not commands: the parser and context, shared flag groups, and where
/// an app comes from. Commands may use these, never each other.
const CLI_SHARED: [&str; 3] = ["mod", "flags", "apps"];

#[test]
fn no_command_uses_another_command() {
    let root = src();
    let cli = root.join("cli");
    let mut files = Vec::new();
    rust_files(&cli, &mut files);
    let command = |name: &str| !CLI_SHARED.contains(&name);
    let commands: BTreeSet<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|n| command(n))
        .collect();
    assert!(
        ["up", "serve", "run", "build", "test"]
            .iter()
            .all(|c| commands.contains(*c)),
        "the commands should be seen: {commands:?}"
    );
    let mut found = Vec::new();
    for u in uses(&files, &cli) {
        // In a command file, `super::X` is `cli::X`; `crate::` is the binary's root.
        let to = if u.relative {
            u.to.first()
        } else {
            u.to.get(1)
                .filter(|_| u.to.first().is_some_and(|c| c == "cli"))
        };
        let (Some(from), Some(to)) = (u.from.last(), to) else {
            continue;
        };
        if command(from) && commands.contains(to) && from != to {
            found.push(format!("{from} uses {to} ({})", u.at));
        }
    }
    assert!(
        found.is_empty(),
        "commands using other commands:\n{}",
        found.join("\n")
    );
}
