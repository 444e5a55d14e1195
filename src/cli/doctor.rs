//! `weld doctor`: which toolchains weld finds, at which versions, and what to do if one is
//! missing.

use std::fmt::Write;

use clap::Args;
use serde::Serialize;

use super::Context;
use weld::error::{Error, Result};
use weld::project::{Lang, ManifestError, Plan};
use weld::report::Style;
use weld::toolchain::{Probe, Status, Tool, ToolchainError, Toolchains};

/// Show the toolchains weld uses, their versions and where they were found
///
/// Inside a project, the toolchains its components' languages need are required; elsewhere all
/// of them are. Each probe runs the real tool, so the report is the truth about this machine.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld doctor
  weld doctor -C fixtures/hello                  only what that project needs is required
  weld doctor --format json

Exit status:
  0  every required toolchain is ready
  2  a required toolchain is missing (the report says what to run), or weld.toml is invalid")]
pub struct DoctorArgs {}

#[derive(Serialize)]
struct Report<'a> {
    weld: &'static str,
    toolchain_dir: String,
    project: Option<&'a str>,
    ready: bool,
    tools: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    required: bool,
    #[serde(flatten)]
    probe: Probe,
}

impl DoctorArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("doctor")?;
        // Outside a project everything is required; a broken weld.toml is reported after the
        // toolchains, which are worth seeing either way.
        let (plan, manifest_error) = match cx.plan() {
            Ok(plan) => (Some(plan), None),
            Err(Error::Manifest(ManifestError::NotFound { .. })) if cx.manifest_path.is_none() => {
                (None, None)
            }
            Err(e) => (None, Some(e)),
        };
        let needed: Vec<Lang> = match &plan {
            Some(plan) => plan.langs(),
            None => vec![Lang::Rust, Lang::Python, Lang::Js, Lang::Go],
        };
        let chains = Toolchains::default();
        let tools: Vec<Entry> = chains
            .probe_many(&Tool::ALL)
            .into_iter()
            .map(|probe| Entry {
                required: needed.contains(&probe.lang),
                probe,
            })
            .collect();
        let missing: Vec<String> = tools
            .iter()
            .filter(|e| e.required && e.probe.status == Status::Missing)
            .map(|e| e.probe.name.to_string())
            .collect();
        let report = Report {
            weld: env!("CARGO_PKG_VERSION"),
            toolchain_dir: chains.dir().display().to_string(),
            project: plan.as_ref().map(|p| p.name.as_str()),
            ready: missing.is_empty() && manifest_error.is_none(),
            tools,
        };
        if cx.reporter.json() {
            cx.reporter.print_json(&report)?;
        } else {
            cx.reporter.print(&render(cx, &report, plan.as_ref()))?;
        }
        if let Some(e) = manifest_error {
            return Err(e);
        }
        if !missing.is_empty() {
            return Err(ToolchainError {
                missing,
                fix: "run ./install.sh from weld's source checkout; it installs every toolchain weld needs".into(),
            }
            .into());
        }
        Ok(0)
    }
}

fn render(cx: &Context, report: &Report, plan: Option<&Plan>) -> String {
    let r = &cx.reporter;
    let mut out = String::new();
    let _ = writeln!(out, "weld {}", report.weld);
    let _ = writeln!(out, "toolchain dir: {}", report.toolchain_dir);
    match plan {
        Some(plan) => {
            let langs: Vec<&str> = plan.langs().iter().map(|l| l.as_str()).collect();
            let _ = writeln!(
                out,
                "project: {} ({}) builds {}",
                plan.name,
                cx.show(&plan.manifest),
                if langs.is_empty() {
                    "nothing".to_string()
                } else {
                    langs.join(", ")
                }
            );
        }
        None => {
            let _ = writeln!(out, "project: none here, so every toolchain is required");
        }
    }
    out.push('\n');
    for e in &report.tools {
        let p = &e.probe;
        let (label, style) = match (p.status, e.required) {
            (Status::Ok, _) => ("ok", Style::Good),
            (Status::Mismatch, _) => ("version", Style::Warn),
            (Status::Missing, true) => ("missing", Style::Bad),
            (Status::Missing, false) => ("absent", Style::Dim),
        };
        let label = r.paint(&format!("{label:8}"), style);
        let version = p.version.as_deref().unwrap_or("-");
        let place = p
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        // Found, but this project has no component that needs it: not counted as required.
        let unneeded = if !e.required && p.status == Status::Ok {
            "  (not needed by this project)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {label} {:16} {:10} {place}{unneeded}",
            p.name, version
        );
        if let Some(problem) = &p.problem {
            let note = if e.required || p.status != Status::Missing {
                problem.clone()
            } else {
                format!("{problem} (not needed by this project)")
            };
            let _ = writeln!(out, "  {:8} {:16} {note}", "", "");
        }
        if let (Some(fix), true) = (&p.fix, e.required || p.status == Status::Mismatch) {
            let _ = writeln!(out, "  {:8} {:16} -> {fix}", "", "");
        }
    }
    out.push('\n');
    let required = report.tools.iter().filter(|e| e.required).count();
    let missing = report
        .tools
        .iter()
        .filter(|e| e.required && e.probe.status == Status::Missing)
        .count();
    let summary = if missing == 0 {
        r.paint(
            &format!("all {required} required toolchains are ready"),
            Style::Good,
        )
    } else {
        r.paint(
            &format!("{missing} of {required} required toolchains missing"),
            Style::Bad,
        )
    };
    let _ = writeln!(out, "{summary}");
    out
}
