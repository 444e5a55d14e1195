//! `weld check`: WIT contracts, worlds and plug compatibility.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::Context;
use weld::check::{self, Finding, Severity, load, plug, target};
use weld::compose::Input;
use weld::error::{Error, Result};
use weld::pipeline;
use weld::report::Style;

/// Check components against each other: every import, who provides it, or exactly why nobody does
///
/// For every import of every component, says who satisfies it (another component, or the WASI
/// runtime weld provides), or why nobody does: nobody exports it, two components do, a version
/// that is not semver-compatible, or a contract that differs (a missing function, a parameter of
/// another type, a record field that changed), shown as WIT on both sides. Without arguments,
/// checks the project's built components as [compose] wires them.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld check                                     the project's components, as weld.toml wires them
  weld check app.wasm --plug arith.wasm --plug words.wasm
  weld check cli.wasm                            which of its imports need a provider
  weld check --format json                       one object per finding, for CI (docs/check-json.md)

Exit status:
  0  everything fits
  1  something does not fit (each finding is explained), or a file is not a component
  2  usage or environment error: missing file, components not built yet")]
pub struct CheckArgs {
    /// A component to check [default: the project's components]
    #[arg(value_name = "COMPONENT.wasm")]
    component: Option<PathBuf>,

    /// Check COMPONENT's imports against what these components export
    #[arg(long, value_name = "PLUG.wasm", requires = "component")]
    plug: Vec<PathBuf>,

    /// A WIT directory: checked on its own, or holding the --world COMPONENT must implement
    #[arg(long, value_name = "DIR")]
    wit: Option<PathBuf>,

    /// The world in --wit that COMPONENT must implement (exports all of it, imports no more)
    #[arg(long, value_name = "NAME", requires_all = ["wit", "component"])]
    world: Option<String>,

    /// An older version of the WIT package in --wit, to list breaking changes
    #[arg(long, value_name = "DIR", requires = "wit")]
    against: Option<PathBuf>,

    #[command(flatten)]
    pub(super) source: super::flags::SourceCheck,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    errors: usize,
    warnings: usize,
    findings: &'a [Finding],
}

impl CheckArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("check")?;
        if let (Some(wit), Some(against)) = (&self.wit, &self.against) {
            return check_breaking(cx, wit, against);
        }
        if let (Some(wit), None) = (&self.wit, &self.component) {
            return check_wit_dir(cx, wit);
        }
        let (names, findings) = match &self.component {
            Some(root) => {
                let mut files = vec![root.clone()];
                files.extend(self.plug.iter().cloned());
                let mut loaded = Vec::new();
                for input in Input::from_paths(&files) {
                    loaded.push(load::load(&input.path, &input.name)?);
                }
                // Against a world alone, the component's imports are the world's business, not
                // plugs'.
                let mut findings = if self.world.is_some() && self.plug.is_empty() {
                    Vec::new()
                } else {
                    plug::check(&loaded, 1).findings
                };
                if let (Some(wit), Some(world)) = (&self.wit, &self.world) {
                    let (resolve, pkg) = weld::wit::load_dir(wit, wit)?;
                    let id = pipeline::select_world(&resolve, pkg, world, wit)?;
                    findings.extend(target::check(&loaded[0], &resolve, id, world));
                }
                (loaded.into_iter().map(|c| c.name).collect(), findings)
            }
            None => {
                let project = pipeline::check(&cx.plan()?)?;
                (project.components, project.findings)
            }
        };
        let errors = check::count(&findings, Severity::Error);
        let warnings = check::count(&findings, Severity::Warning);
        if cx.reporter.json() {
            cx.reporter.print_json(&JsonReport {
                ok: errors == 0,
                errors,
                warnings,
                findings: &findings,
            })?;
        } else {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            cx.reporter.print(&weld::report::findings::render(
                &cx.reporter,
                &names,
                &findings,
            ))?;
        }
        Ok(if check::has_errors(&findings) { 1 } else { 0 })
    }
}

/// `weld check --wit NEW --against OLD`: what changed, what breaks, and whether the version bump
/// says so.
fn check_breaking(cx: &Context, new: &std::path::Path, old: &std::path::Path) -> Result<u8> {
    use weld::check::breaking;
    let (nr, np) = weld::wit::load_dir(new, new)?;
    let (or, op) = weld::wit::load_dir(old, old)?;
    let (on, nn) = (&or.packages[op].name, &nr.packages[np].name);
    if (&on.namespace, &on.name) != (&nn.namespace, &nn.name) {
        return Err(Error::Usage {
            message: format!(
                "{} holds {nn} but {} holds {on}: --against takes an older version of the same package",
                new.display(),
                old.display()
            ),
        });
    }
    let changes = breaking::diff((&or, op), (&nr, np));
    let breaking_count = changes.iter().filter(|c| c.breaking).count();
    let bump = match (&on.version, &nn.version) {
        (Some(o), Some(n)) => Some(breaking::bump(o, n)),
        _ => None,
    };
    let (ok, verdict) = breaking::verdict(bump, breaking_count, changes.len());
    let show = |v: &Option<semver::Version>| {
        v.as_ref()
            .map_or("(unversioned)".to_string(), |v| v.to_string())
    };
    if cx.reporter.json() {
        let value = serde_json::json!({
            "ok": ok,
            "package": format!("{}:{}", nn.namespace, nn.name),
            "old_version": show(&on.version),
            "new_version": show(&nn.version),
            "bump": bump,
            "breaking": breaking_count,
            "changes": changes,
            "verdict": verdict,
        });
        cx.reporter.print_json(&value)?;
    } else {
        let r = &cx.reporter;
        let mut out = format!(
            "{}:{} {} -> {}\n\n",
            nn.namespace,
            nn.name,
            show(&on.version),
            show(&nn.version)
        );
        for c in &changes {
            let label = if c.breaking {
                r.paint("breaking  ", Style::Bad)
            } else {
                r.paint("compatible", Style::Good)
            };
            let _ = writeln!(out, "  {label}  {}", c.message);
            if let Some(o) = &c.old {
                let _ = writeln!(out, "              was: {o}");
            }
            if let (Some(n), true) = (&c.new, c.old.is_some()) {
                let _ = writeln!(out, "              now: {n}");
            }
        }
        if !changes.is_empty() {
            out.push('\n');
        }
        let style = if ok { Style::Good } else { Style::Bad };
        let _ = writeln!(
            out,
            "{}",
            r.paint(
                &format!(
                    "{breaking_count} breaking of {} changes; {verdict}",
                    changes.len()
                ),
                style
            )
        );
        cx.reporter.print(&out)?;
    }
    Ok(if ok { 0 } else { 1 })
}

/// `weld check --wit DIR`: the WIT on its own.
fn check_wit_dir(cx: &Context, wit: &std::path::Path) -> Result<u8> {
    let (resolve, pkg) = weld::wit::load_dir(wit, wit)?;
    let p = &resolve.packages[pkg];
    let worlds: Vec<&str> = p.worlds.keys().map(String::as_str).collect();
    let interfaces: Vec<&str> = p.interfaces.keys().map(String::as_str).collect();
    let deps: Vec<String> = resolve
        .packages
        .iter()
        .filter(|(id, _)| *id != pkg)
        .map(|(_, d)| d.name.to_string())
        .collect();
    if cx.reporter.json() {
        let value = serde_json::json!({
            "ok": true,
            "package": p.name.to_string(),
            "interfaces": interfaces,
            "worlds": worlds,
            "deps": deps,
        });
        cx.reporter.print_json(&value)?;
    } else {
        let list = |v: &[&str]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let mut out = format!(
            "{}: package {}
",
            wit.display(),
            p.name
        );
        let _ = writeln!(out, "  interfaces  {}", list(&interfaces));
        let _ = writeln!(out, "  worlds      {}", list(&worlds));
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        let _ = writeln!(out, "  deps        {}", list(&deps));
        cx.reporter.print(&out)?;
    }
    Ok(0)
}
