//! `weld graph`: the wiring of a composition as a text tree, Graphviz DOT or Mermaid: one node per
//! component (with its language and size), one edge per wired interface (with its version), and
//! what the whole app still imports and exports.

use std::fmt::Write;

use serde::Serialize;

use crate::check::plug::InterfaceName;
use crate::check::{Finding, Severity};
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
    /// Imports nobody provides (errors for compose).
    pub unresolved: Vec<String>,
    /// What the app exports (the root's exports).
    pub exports: Vec<String>,
}

impl Graph {
    /// Builds the graph from the check stage's findings.
    pub fn new(nodes: Vec<Node>, findings: &[Finding], exports: Vec<String>) -> Graph {
        let mut edges = Vec::new();
        let mut imports: Vec<String> = Vec::new();
        let mut unresolved = Vec::new();
        for f in findings {
            match f.code {
                "satisfied" => edges.push(Edge {
                    provider: f.provider.clone().unwrap_or_default(),
                    consumer: f.consumer.clone(),
                    interface: f.interface.clone(),
                }),
                "runtime-provided" => {
                    // Once per interface, at the highest version asked for.
                    let name = InterfaceName::parse(&f.interface);
                    match imports
                        .iter_mut()
                        .find(|i| InterfaceName::parse(i).base == name.base)
                    {
                        Some(i) if InterfaceName::parse(i).version < name.version => {
                            *i = f.interface.clone()
                        }
                        Some(_) => {}
                        None => imports.push(f.interface.clone()),
                    }
                }
                _ if f.severity == Severity::Error && !f.consumer.is_empty() => {
                    unresolved.push(format!("{} ({})", f.interface, f.consumer))
                }
                _ => {}
            }
        }
        imports.sort();
        Graph {
            nodes,
            edges,
            imports,
            unresolved,
            exports,
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
        let _ = writeln!(out, "\nexports: {}", list(&self.exports));
        let _ = writeln!(
            out,
            "imports from the runtime (WASI 0.2): {}",
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
                "{indent}{branch}{} <- {}",
                e.interface,
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
                quote(&e.interface)
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
                "  {} -->|\"{}\"| {}",
                id(&e.provider),
                e.interface,
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

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
