//! A check's findings as people read them: grouped by component, one row per interface, then
//! each problem with both sides, then a summary. `weld check` prints it; the pipeline's
//! observer shows it when check or compose stops.

use std::fmt::Write as _;

use super::{Reporter, Style};
use crate::check::{self, Against, Code, Finding, Severity};

/// An error's row under its component: what is wrong, in a few words (the finding below says
/// it whole).
fn error_row(f: &Finding) -> String {
    let with = match (f.against, f.provider.as_deref()) {
        (Against::World, Some(world)) => format!(" against {world}"),
        (Against::Source, Some(world)) => format!(" in the source, against {world}"),
        (Against::Runtime, _) => " against weld's runtime".to_string(),
        (_, Some(provider)) => format!(" with `{provider}`"),
        (_, None) => String::new(),
    };
    format!("{}{with} (below)", f.code.as_str())
}

/// Each item once, in the order first seen.
fn first_seen<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The findings grouped by component, then each problem with both sides, then a summary.
pub fn render(r: &Reporter, components: &[&str], findings: &[Finding]) -> String {
    let verbose = r.verbosity() >= 1;
    let mut out = String::new();
    let width = findings
        .iter()
        .filter(|f| f.severity == Severity::Info && (verbose || f.code != Code::RuntimeProvided))
        .map(|f| f.interface.len())
        .max()
        .unwrap_or(0);
    for &c in components {
        let _ = writeln!(out, "{}", r.paint(c, Style::Bold));
        let mine: Vec<&Finding> = findings.iter().filter(|f| f.consumer == c).collect();
        component_rows(r, &mut out, &mine, width);
        if mine.is_empty() {
            let _ = writeln!(out, "  (imports nothing)");
        }
    }
    for f in findings.iter().filter(|f| f.severity != Severity::Info) {
        problem(r, &mut out, f);
    }
    let count = |code: Code| findings.iter().filter(|f| f.code == code).count();
    let errors = check::count(findings, Severity::Error);
    let warnings = check::count(findings, Severity::Warning);
    let summary = format!(
        "{} satisfied by components, {} by the runtime; {errors} error{}, {warnings} warning{}",
        count(Code::Satisfied),
        count(Code::RuntimeProvided),
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
    );
    let style = if errors > 0 { Style::Bad } else { Style::Good };
    let _ = writeln!(out, "\n{}", r.paint(&summary, style));
    out
}

/// The problems among `findings` as `weld check` words them, each with both sides and what to
/// do, without colour: for an error message.
pub fn explain(findings: &[Finding]) -> String {
    let plain = Reporter::quiet();
    let mut out = String::new();
    for f in findings.iter().filter(|f| f.severity != Severity::Info) {
        problem(&plain, &mut out, f);
    }
    out.trim().to_string()
}

/// One component's rows: one per interface, with one verdict (an error outranks what was fine
/// about it), and the runtime's imports in one line unless `-v`.
fn component_rows(r: &Reporter, out: &mut String, mine: &[&Finding], width: usize) {
    let verbose = r.verbosity() >= 1;
    let failed: Vec<&str> = mine
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.interface.as_str())
        .collect();
    let mut runtime: Vec<&str> = Vec::new();
    let mut shown: Vec<&str> = Vec::new();
    let mut row = |label: &str, style: Style, interface: &str, what: &str| {
        let _ = writeln!(
            out,
            "  {} {interface:width$}  {what}",
            r.paint(label, style)
        );
    };
    for f in mine {
        if f.severity == Severity::Info && failed.contains(&f.interface.as_str()) {
            continue;
        }
        let provider = f.provider.as_deref().unwrap_or("?");
        match (f.code, f.severity) {
            (Code::Satisfied, _) => row(
                "ok     ",
                Style::Good,
                &f.interface,
                &format!("from {provider}"),
            ),
            (Code::WorldExport, _) => row(
                "ok     ",
                Style::Good,
                &f.interface,
                &format!("exported, as {provider} requires"),
            ),
            (Code::SourceChecked, _) => row(
                "ok     ",
                Style::Good,
                &f.interface,
                "source matches this world",
            ),
            (Code::RuntimeProvided, _) if verbose => row(
                "runtime",
                Style::Dim,
                &f.interface,
                "WASI 0.2, from weld's runtime",
            ),
            (Code::RuntimeProvided, _) => runtime.push(&f.interface),
            (Code::ScriptImport, _) => row(
                "import ",
                Style::Warn,
                &f.interface,
                "from the app's own import",
            ),
            (_, Severity::Error) if !shown.contains(&f.interface.as_str()) => {
                shown.push(&f.interface);
                row("error  ", Style::Bad, &f.interface, &error_row(f));
            }
            _ => {}
        }
    }
    if !runtime.is_empty() {
        let packages = first_seen(runtime.iter().map(|i| i.split('/').next().unwrap_or(i)));
        // The WASI lines they come from (`0.2`, `0.3`), named as people say them.
        let mut lines = first_seen(runtime.iter().filter_map(|i| {
            let version = i.rsplit_once('@')?.1;
            version.rsplit_once('.').map(|(line, _)| line)
        }));
        lines.sort();
        let _ = writeln!(
            out,
            "  {} {} WASI {} import{} ({}) from weld's runtime (-v lists them)",
            r.paint("runtime", Style::Dim),
            runtime.len(),
            lines.join(" and "),
            if runtime.len() == 1 { "" } else { "s" },
            packages.join(", ")
        );
    }
}

/// One problem: its message, where it is, both sides, and what to do.
fn problem(r: &Reporter, out: &mut String, f: &Finding) {
    let label = match f.severity {
        Severity::Error => r.paint(&format!("error[{}]", f.code), Style::Bad),
        _ => r.paint(&format!("warning[{}]", f.code), Style::Warn),
    };
    let _ = writeln!(out, "\n{label}: {}", f.message);
    if let Some(location) = &f.location {
        out.push_str(&check::source::excerpt(location));
    }
    if let (Some(expected), Some(found)) = (&f.expected, &f.found) {
        let other = f.provider.as_deref().unwrap_or("?");
        let (consumer, provider) = if f.against == Against::Source {
            ("the WIT says:".to_string(), "the code has:".to_string())
        } else if f.against == Against::World {
            (format!("{other} says:"), format!("{} has:", f.consumer))
        } else {
            (
                format!("expected by {}:", f.consumer),
                format!("found in {other}:"),
            )
        };
        let w = consumer.len().max(provider.len());
        let _ = writeln!(out, "    {consumer:w$}  {expected}");
        let _ = writeln!(out, "    {provider:w$}  {found}");
    }
    if let Some(help) = &f.help {
        let _ = writeln!(out, "  help: {help}");
    }
}
