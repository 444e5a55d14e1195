//! `weld graph`: the wiring of a composition as a text tree, Graphviz DOT or Mermaid: one node per
//! component (with its language and size), one edge per wired interface (with its version), and
//! what the whole app still imports and exports.

use std::fmt::Write;

use serde::Serialize;

use super::Wiring;
use crate::check::plug::Provider;
use crate::units::format_size;

/// A component in the graph.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Its name.
    pub name: String,
    /// Its language, when weld.toml says.
    pub lang: Option<String>,
    /// Its size in bytes.
    pub size: u64,
}

/// An interface wired from a provider to a consumer.
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// The exporting component.
    pub provider: String,
    /// The importing component.
    pub consumer: String,
    /// The interface, with its version.
    pub interface: String,
    /// Its functions that are async on the provider's side (WASI 0.3's component model).
    #[serde(rename = "async", skip_serializing_if = "Vec::is_empty")]
    pub async_functions: Vec<String>,
}

/// One component's import served by one of the app's imports from the runtime.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeUse {
    /// The app's import (`wasi:io/streams@0.2.6`).
    pub import: String,
    /// The importing component.
    pub consumer: String,
    /// The import as the component names it (`wasi:io/streams@0.2.3`).
    pub interface: String,
}

/// The composition: root first.
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    /// Components, root first.
    pub nodes: Vec<Node>,
    /// Wired interfaces.
    pub edges: Vec<Edge>,
    /// What the app imports from the runtime, once per interface.
    pub imports: Vec<String>,
    /// Which of the app's runtime imports serves each component's runtime import.
    pub runtime: Vec<RuntimeUse>,
    /// Imports nobody provides (errors for compose).
    pub unresolved: Vec<String>,
    /// What the app exports (the root's exports).
    pub exports: Vec<String>,
    /// The app's exports that have async functions, with their names.
    #[serde(rename = "async_exports", skip_serializing_if = "Vec::is_empty")]
    pub async_exports: Vec<(String, Vec<String>)>,
}

impl Graph {
    /// Draws `wiring`: the same decisions `weld compose` encodes.
    pub fn new(nodes: Vec<Node>, wiring: &Wiring) -> Graph {
        let name = |id: usize| wiring.components[id].clone();
        let asyncs = |id: usize, export: &str| {
            wiring.asyncs[id]
                .iter()
                .find(|(e, _)| e == export)
                .map(|(_, f)| f.clone())
                .unwrap_or_default()
        };
        let mut edges = Vec::new();
        let mut unresolved = Vec::new();
        for link in &wiring.checked.links {
            match &link.provider {
                Provider::Component { id, export } => edges.push(Edge {
                    provider: name(*id),
                    consumer: name(link.consumer),
                    interface: link.import.clone(),
                    async_functions: asyncs(*id, export),
                }),
                Provider::Runtime => {}
                Provider::Nobody
                | Provider::AppImport(_)
                | Provider::Several(_)
                | Provider::Unfit(_) => {
                    unresolved.push(format!("{} ({})", link.import, name(link.consumer)))
                }
            }
        }
        let mut imports: Vec<String> = wiring.runtime.iter().map(|i| i.name.clone()).collect();
        imports.sort();
        let mut runtime: Vec<RuntimeUse> = wiring
            .runtime
            .iter()
            .flat_map(|import| {
                import.users.iter().map(|(user, as_named)| RuntimeUse {
                    import: import.name.clone(),
                    consumer: name(*user),
                    interface: as_named.clone(),
                })
            })
            .collect();
        runtime.sort_by(|a, b| (&a.consumer, &a.interface).cmp(&(&b.consumer, &b.interface)));
        Graph {
            nodes,
            edges,
            imports,
            runtime,
            unresolved,
            exports: wiring.exports.clone(),
            async_exports: wiring.asyncs.first().cloned().unwrap_or_default(),
        }
    }

    fn label(&self, name: &str) -> String {
        match self.nodes.iter().find(|n| n.name == name) {
            Some(Node {
                lang: Some(lang),
                size,
                ..
            }) => format!("{name} [{lang}, {}]", format_size(*size)),
            Some(n) => format!("{name} [{}]", format_size(n.size)),
            None => name.to_string(),
        }
    }

    /// A tree from the root: each component's imports and who provides them.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let Some(root) = self.nodes.first() else {
            return out;
        };
        let _ = writeln!(out, "{}", self.label(&root.name));
        let mut seen = vec![root.name.clone()];
        self.subtree(&root.name, "", &mut seen, &mut out);
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let exports: Vec<String> = self
            .exports
            .iter()
            .map(|e| {
                let functions = self.async_exports.iter().find(|(a, _)| a == e);
                format!("{e}{}", async_note(functions.map_or(&[][..], |(_, f)| f)))
            })
            .collect();
        let _ = writeln!(out, "\nexports: {}", list(&exports));
        let _ = writeln!(
            out,
            "imports from the runtime ({}): {}",
            wasi_releases(&self.imports),
            list(&self.imports)
        );
        if !self.unresolved.is_empty() {
            let _ = writeln!(out, "unresolved: {}", self.unresolved.join(", "));
        }
        out
    }

    fn subtree(&self, consumer: &str, indent: &str, seen: &mut Vec<String>, out: &mut String) {
        let edges: Vec<&Edge> = self
            .edges
            .iter()
            .filter(|e| e.consumer == consumer)
            .collect();
        for (i, e) in edges.iter().enumerate() {
            let last = i + 1 == edges.len();
            let (branch, next) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            let _ = writeln!(
                out,
                "{indent}{branch}{}{} <- {}",
                e.interface,
                async_note(&e.async_functions),
                self.label(&e.provider)
            );
            if !seen.contains(&e.provider) {
                seen.push(e.provider.clone());
                self.subtree(&e.provider, &format!("{indent}{next}"), seen, out);
            }
        }
    }

    /// Graphviz DOT: providers point at their consumers.
    pub fn dot(&self) -> String {
        let id = |name: &str| {
            self.nodes
                .iter()
                .position(|n| n.name == name)
                .map_or("?".into(), |i| format!("n{i}"))
        };
        let mut out = String::from(
            "digraph app {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        );
        for (i, n) in self.nodes.iter().enumerate() {
            let _ = writeln!(out, "  n{i} [label={}];", quote(&self.label(&n.name)));
        }
        for e in &self.edges {
            let _ = writeln!(
                out,
                "  {} -> {} [label={}];",
                id(&e.provider),
                id(&e.consumer),
                quote(&format!(
                    "{}{}",
                    e.interface,
                    async_note(&e.async_functions)
                ))
            );
        }
        if !self.imports.is_empty() {
            let _ = writeln!(
                out,
                "  runtime [shape=ellipse, label={}];",
                quote(&format!("weld run: {} WASI imports", self.imports.len()))
            );
            let _ = writeln!(out, "  runtime -> n0 [style=dashed];");
        }
        for (i, x) in self.exports.iter().enumerate() {
            let _ = writeln!(
                out,
                "  export{i} [shape=plaintext, label={}];\n  n0 -> export{i};",
                quote(x)
            );
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart.
    pub fn mermaid(&self) -> String {
        let id = |name: &str| {
            self.nodes
                .iter()
                .position(|n| n.name == name)
                .map_or("unknown".into(), |i| format!("n{i}"))
        };
        let mut out = String::from("flowchart LR\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let _ = writeln!(out, "  n{i}[\"{}\"]", self.label(&n.name).replace('"', "'"));
        }
        for e in &self.edges {
            let _ = writeln!(
                out,
                "  {} -->|\"{}{}\"| {}",
                id(&e.provider),
                e.interface,
                async_note(&e.async_functions),
                id(&e.consumer)
            );
        }
        if !self.imports.is_empty() {
            let _ = writeln!(
                out,
                "  runtime([\"weld run: {} WASI imports\"]) -.-> n0",
                self.imports.len()
            );
        }
        for (i, x) in self.exports.iter().enumerate() {
            let _ = writeln!(out, "  n0 --> export{i}>\"{x}\"]");
        }
        out
    }
}

/// ` (async: f, g)` after an interface with async functions; nothing otherwise.
fn async_note(functions: &[String]) -> String {
    if functions.is_empty() {
        String::new()
    } else {
        format!(" (async: {})", functions.join(", "))
    }
}

/// The WASI releases the runtime imports come from: `WASI 0.2`, `WASI 0.2 and 0.3`.
fn wasi_releases(imports: &[String]) -> String {
    let mut lines: Vec<&str> = imports
        .iter()
        .filter_map(|i| i.rsplit_once('@')?.1.rsplit_once('.').map(|(line, _)| line))
        .collect();
    lines.sort();
    lines.dedup();
    if lines.is_empty() {
        lines.push("0.2");
    }
    format!("WASI {}", lines.join(" and "))
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
