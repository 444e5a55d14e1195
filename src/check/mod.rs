//! Stage 3, check: components against each other, explained in WIT terms.
//!
//! [`load`] turns a file into its world (or a one-line reason it is not a component);
//! [`plug`] decides, for every import of every component, who provides it; [`compat`] compares
//! two views of an interface structurally; [`wit_text`] renders what differs as WIT.

pub mod breaking;
pub mod compat;
pub mod load;
pub mod plug;
pub mod target;
pub mod wit_text;

use serde::Serialize;

pub use load::{LoadError, Loaded};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// A fact: an import and who provides it.
    Info,
    /// Worth knowing; not wrong (e.g. a plug nobody uses).
    Warning,
    /// The components do not fit.
    Error,
}

/// One statement about one import (or one plug). The JSON form is documented in
/// docs/check-json.md.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Stable code: `satisfied`, `runtime-provided`, `unsatisfied-import`, `ambiguous-provider`,
    /// `incompatible-version`, `incompatible-type`, `missing-function`, `missing-type`,
    /// `unused-plug`.
    pub code: &'static str,
    /// The importing component.
    pub consumer: String,
    /// The exporting component(s), when there are any.
    pub provider: Option<String>,
    /// The interface, as imported (`weld:example/arith@0.1.0`).
    pub interface: String,
    /// The item that differs: `function `divide`, param `a``.
    pub item: Option<String>,
    /// What the consumer expects, as WIT.
    pub expected: Option<String>,
    /// What the provider has, as WIT.
    pub found: Option<String>,
    /// The whole story in one sentence.
    pub message: String,
    /// What to do.
    pub help: Option<String>,
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// How many findings have `severity`.
pub fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}
