//! `weld plan`: the project as weld understands it, after validation.

use std::fmt::Write;

use clap::Args;

use super::Context;
use weld::error::Result;
use weld::project::{Plan, ScriptSource, TestAction, TestTarget, Wiring};
use weld::units::{format_duration, format_size};

/// Validate weld.toml and show the resolved project: components, worlds, wiring, run settings
///
/// Every problem in weld.toml is reported at once, each pointing at its line and column: unknown
/// keys, wrong types, paths that do not exist, worlds missing from the WIT, references to
/// components that are not declared.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld plan                                      the project above the current directory
  weld plan -C fixtures/calc
  weld plan --format json                        the same, for scripts (absolute paths)

Exit status:
  0  weld.toml is valid
  2  weld.toml is missing or invalid (each problem is shown)")]
pub struct PlanArgs {}

impl PlanArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("plan")?;
        let plan = cx.plan()?;
        if cx.reporter.json() {
            cx.reporter.print_json(&plan)?;
        } else {
            cx.reporter.print(&render(&plan))?;
        }
        Ok(0)
    }
}

/// A path as the plan shows it: relative to the project.
type Rel<'a> = &'a dyn Fn(&std::path::Path) -> String;

fn render(plan: &Plan) -> String {
    let rel = |p: &std::path::Path| {
        p.strip_prefix(&plan.root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    let mut out = String::new();
    let _ = writeln!(out, "project {}", plan.name);
    components(&mut out, plan, &rel);
    compose(&mut out, plan, &rel);
    run_settings(&mut out, plan, &rel);
    serve_settings(&mut out, plan, &rel);
    tests(&mut out, plan);
    out
}

fn components(out: &mut String, plan: &Plan, rel: Rel) {
    let _ = writeln!(out, "\ncomponents ({}):", plan.components.len());
    let width = plan
        .components
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for c in &plan.components {
        let mut source = rel(&c.source);
        if let Some(module) = &c.module {
            let _ = write!(source, " (module {module})");
        }
        let world = match &c.world {
            Some(world) if c.wit_from_runtime => {
                format!(
                    "{world} (WIT from weld's runtime, {})",
                    weld::wit::RUNTIME_WASI_SOURCE
                )
            }
            Some(world) => world.clone(),
            None => "(from its sources)".into(),
        };
        let _ = writeln!(
            out,
            "  {:width$}  {:6}  {source}\n  {:width$}  {:6}  world {world}\n  {:width$}  {:6}  -> {}",
            c.name,
            c.lang.as_str(),
            "",
            "",
            "",
            "",
            rel(&c.output),
        );
    }
}

fn compose(out: &mut String, plan: &Plan, rel: Rel) {
    match &plan.compose {
        Some(compose) => {
            let wiring = match &compose.wiring {
                Wiring::Plug { root, plugs } => format!("root {root}, plugs {}", plugs.join(", ")),
                Wiring::Script { path, deps } => {
                    let deps: Vec<String> = deps
                        .iter()
                        .map(|(p, source)| match source {
                            ScriptSource::Component(c) => format!("{p}={c}"),
                            ScriptSource::Wit { dir } => format!("{p}={} (WIT)", rel(dir)),
                        })
                        .collect();
                    format!("script {}, deps {}", rel(path), deps.join(", "))
                }
            };
            let strict = if compose.strict { " (strict)" } else { "" };
            let _ = writeln!(
                out,
                "\ncompose: {wiring} -> {}{strict}",
                rel(&compose.output)
            );
        }
        None => {
            let _ = writeln!(out, "\ncompose: none");
        }
    }
}

fn run_settings(out: &mut String, plan: &Plan, rel: Rel) {
    let run = &plan.run;
    let _ = writeln!(out, "\nrun:");
    let _ = writeln!(
        out,
        "  args        {}",
        if run.args.is_empty() {
            "(none)".to_string()
        } else {
            // Quoted, so an empty or spaced argument shows as what it is.
            run.args
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    );
    let grants = describe_grants(run, rel);
    let _ = writeln!(out, "  grants      {grants}");
    let _ = writeln!(
        out,
        "  limits      timeout {}, max-memory {}",
        format_duration(run.timeout),
        format_size(run.max_memory)
    );
}

fn serve_settings(out: &mut String, plan: &Plan, rel: Rel) {
    let serve = &plan.serve;
    let _ = writeln!(out, "\nserve:");
    let _ = writeln!(out, "  addr        http://{}", serve.addr);
    let _ = writeln!(
        out,
        "  grants      {}",
        describe_grants(&serve.settings.run, rel)
    );
    let _ = writeln!(
        out,
        "  limits      per request: timeout {}, max-memory {}, body {}",
        format_duration(serve.settings.run.timeout),
        format_size(serve.settings.run.max_memory),
        format_size(serve.settings.max_body)
    );
    let _ = writeln!(
        out,
        "  bounds      {} requests at once, {} connections, {} grace on shutdown",
        serve.settings.max_concurrency,
        serve.settings.max_connections,
        format_duration(serve.settings.grace)
    );
    if serve.settings.instance_reuse > 1 {
        let _ = writeln!(
            out,
            "  instances   each answers up to {} requests (a WASI 0.3 one {} at once)",
            serve.settings.instance_reuse, serve.settings.instance_concurrency
        );
    }
}

fn tests(out: &mut String, plan: &Plan) {
    let _ = writeln!(out, "\ntests ({}):", plan.tests.len());
    let width = plan.tests.iter().map(|t| t.name.len()).max().unwrap_or(0);
    for t in &plan.tests {
        let target = match &t.target {
            TestTarget::App => "app".to_string(),
            TestTarget::Component(c) => c.clone(),
        };
        let action = match &t.action {
            TestAction::Invoke { call, .. } => format!("invoke {call}"),
            TestAction::Run { exit, .. } => format!("run, expect exit {exit}"),
            TestAction::Http { request, expect } => format!(
                "request {} {}, expect status {}",
                request.method, request.path, expect.status
            ),
        };
        let _ = writeln!(out, "  {:width$}  {:8}  {action}", t.name, target);
    }
}

fn describe_grants(run: &weld::project::RunSettings, rel: Rel) -> String {
    let mut parts = Vec::new();
    for d in &run.dirs {
        let mode = if d.read_only { "ro" } else { "rw" };
        parts.push(format!("dir {}::{} ({mode})", rel(&d.host), d.guest));
    }
    for (k, _) in &run.env {
        parts.push(format!("env {k}"));
    }
    for k in &run.env_inherit {
        parts.push(format!("env {k} (inherited)"));
    }
    for a in &run.allow_net {
        parts.push(format!("net {a}"));
    }
    for o in &run.allow_http {
        parts.push(format!("http {o}"));
    }
    if parts.is_empty() {
        "none: no files, no environment, no network".to_string()
    } else {
        parts.join(", ")
    }
}
