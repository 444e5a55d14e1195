//! Stage 3, check: components against each other, explained in WIT terms.
//!
//! [`load`] turns a file into its world (or a one-line reason it is not a component);
//! [`plug`] decides, for every import of every component, who provides it; [`compat`] compares
//! two views of an interface structurally; [`wit_text`] renders what differs as WIT.

pub mod breaking;
pub mod compat;
pub mod load;
pub mod names;
pub mod plug;
pub mod runtime;
pub mod sections;
pub mod source;
pub mod target;
pub mod validate;
pub mod wit_text;

use serde::{Deserialize, Serialize};

pub use load::{LoadError, Loaded};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// A fact: an import and who provides it.
    Info,
    /// Worth knowing; not wrong (e.g. a plug nobody uses).
    Warning,
    /// The components do not fit.
    Error,
}

/// What a finding says, as a stable code: serialised in kebab-case (`unsatisfied-import`), the
/// codes docs/check-json.md lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// Exactly one component exports the import, with the same contract.
    Satisfied,
    /// A WASI 0.2 interface that weld's runtime provides.
    RuntimeProvided,
    /// Nobody exports it.
    UnsatisfiedImport,
    /// Several components export it at compatible versions.
    AmbiguousProvider,
    /// Only versions that are not semver-compatible are exported.
    IncompatibleVersion,
    /// The provider lacks a function the consumer imports.
    MissingFunction,
    /// The provider lacks a type the consumer declares.
    MissingType,
    /// A parameter, result, field, case, flag or resource differs.
    IncompatibleType,
    /// A plug that provides nothing any component imports.
    UnusedPlug,
    /// Components that import from each other, around a cycle: none can be instantiated first.
    PlugCycle,
    /// A WAC script passes an import of the app itself: whoever runs the app must provide it.
    ScriptImport,
    /// Target world: the component exports this as the world requires.
    WorldExport,
    /// Target world: the component does not export something the world exports.
    MissingExport,
    /// Target world: the component imports something the world does not.
    ImportNotInWorld,
    /// Source: the code defines nothing for an interface (or world) the world exports.
    SourceMissingExport,
    /// Source: an exported interface's class or object lacks one of its functions.
    SourceMissingFunction,
    /// Source: a function takes another number of parameters than the WIT gives it.
    SourceArity,
    /// Source: an annotated parameter or result type contradicts the WIT.
    SourceType,
    /// Source: a call to an imported function passes arguments its WIT does not take.
    SourceImportCall,
    /// Source: the code matches its world (as far as the type checker can tell).
    SourceChecked,
    /// Source: the check could not run (its toolchain is missing); nothing was checked.
    SourceUnchecked,
}

impl Code {
    /// The code as JSON and `error[…]` labels show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Satisfied => "satisfied",
            Code::RuntimeProvided => "runtime-provided",
            Code::UnsatisfiedImport => "unsatisfied-import",
            Code::AmbiguousProvider => "ambiguous-provider",
            Code::IncompatibleVersion => "incompatible-version",
            Code::MissingFunction => "missing-function",
            Code::MissingType => "missing-type",
            Code::IncompatibleType => "incompatible-type",
            Code::UnusedPlug => "unused-plug",
            Code::PlugCycle => "plug-cycle",
            Code::ScriptImport => "script-import",
            Code::WorldExport => "world-export",
            Code::MissingExport => "missing-export",
            Code::ImportNotInWorld => "import-not-in-world",
            Code::SourceMissingExport => "source-missing-export",
            Code::SourceMissingFunction => "source-missing-function",
            Code::SourceArity => "source-arity",
            Code::SourceType => "source-type",
            Code::SourceImportCall => "source-import-call",
            Code::SourceChecked => "source-checked",
            Code::SourceUnchecked => "source-unchecked",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the other side of a finding is: another component, or the world a component is checked
/// against (`weld check --world`, or `world` in weld.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Against {
    /// Components checked against each other.
    #[default]
    Components,
    /// A component checked against a target world; `provider` names the world.
    World,
    /// A component's WASI import checked against what weld's runtime implements.
    Runtime,
    /// A component's source code checked against its world (`provider` names the world).
    Source,
}

/// A place in a source file: 1-based line and column, as editors count them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The file, as the user names it (relative to the working directory when under it).
    pub file: String,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

/// One statement about one import (or one plug). The JSON form is documented in
/// docs/check-json.md.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// What kind of statement it is.
    pub code: Code,
    /// Whether `provider` is a component or a target world.
    #[serde(skip)]
    pub against: Against,
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
    /// Where in the component's source the finding points (source findings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// How many findings have `severity`.
pub fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}
