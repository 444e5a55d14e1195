//! What can be wrong with a project manifest, as diagnostics that point into weld.toml.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};

/// One problem in weld.toml, with the span it concerns.
#[derive(Debug)]
pub struct ManifestIssue {
    code: &'static str,
    message: String,
    label: String,
    span: Option<SourceSpan>,
    help: Option<String>,
    source: NamedSource<Arc<str>>,
    /// A WIT error behind this one, shown with its own file and caret.
    wit: Option<crate::wit::WitError>,
}

impl ManifestIssue {
    pub(crate) fn new(
        source: &NamedSource<Arc<str>>,
        code: &'static str,
        span: Option<std::ops::Range<usize>>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        ManifestIssue {
            code,
            message: message.into(),
            label: label.into(),
            span: span.map(SourceSpan::from),
            help: None,
            source: source.clone(),
            wit: None,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn with_wit_error(mut self, error: crate::wit::WitError) -> Self {
        self.wit = Some(error);
        self
    }

    /// The stable code of this problem, e.g. `weld::manifest::unknown-component`.
    pub fn code_str(&self) -> &'static str {
        self.code
    }
}

impl fmt::Display for ManifestIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ManifestIssue {}

impl Diagnostic for ManifestIssue {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        let wit = self.wit.as_ref()?;
        Some(Box::new(std::iter::once(wit as &dyn Diagnostic)))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.span
            .is_some()
            .then_some(&self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone()),
            span,
        ))))
    }
}

/// Why a project could not be loaded: a usage or environment problem (exit 2), or its WIT (exit 1).
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ManifestError {
    /// No weld.toml where one was looked for.
    #[error("no weld.toml in {} or any directory above it", dir.display())]
    #[diagnostic(
        code(weld::manifest::not_found),
        help(
            "start one with `weld new NAME --lang rust` (or python, js, go), run weld inside one, or name one with `-C path/to/weld.toml` (or its directory)"
        )
    )]
    NotFound {
        /// Where the search started.
        dir: PathBuf,
    },

    /// `-C` named something that is not there.
    #[error("no project at {}: it does not exist", path.display())]
    #[diagnostic(
        code(weld::manifest::missing),
        help("a project is named by its weld.toml or the directory that holds it")
    )]
    Missing {
        /// The path given.
        path: PathBuf,
    },

    /// The file exists but could not be read.
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(weld::manifest::unreadable))]
    Unreadable {
        /// The manifest.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// One problem in the manifest.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<ManifestIssue>),

    /// The manifest is fine but the WIT it names does not load: the WIT's own error.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Wit(crate::wit::WitError),

    /// Several problems in the manifest, all reported at once.
    #[error("{} has {} problems", path.display(), issues.len())]
    #[diagnostic(
        code(weld::manifest::invalid),
        help("docs/manifest.md describes every key")
    )]
    Many {
        /// The manifest.
        path: PathBuf,
        /// Each problem.
        #[related]
        issues: Vec<ManifestIssue>,
    },
}

impl ManifestError {
    /// 1 for a WIT error (the checked thing is wrong), 2 for the rest (usage).
    pub fn exit_code(&self) -> u8 {
        match self {
            ManifestError::Wit(e) => e.exit_code(),
            _ => crate::exit::EXIT_USAGE,
        }
    }

    pub(crate) fn from_issues(path: PathBuf, mut issues: Vec<ManifestIssue>) -> Self {
        // In the order they appear in the file, as a reader goes through it.
        issues.sort_by_key(|i| i.span.map(|s| s.offset()));
        // A broken WIT directory is the only problem: say so as a WIT error, not as a
        // problem of weld.toml.
        if let [one] = issues.as_mut_slice()
            && let Some(wit) = one.wit.take()
        {
            return ManifestError::Wit(wit);
        }
        if issues.len() == 1 {
            ManifestError::Invalid(Box::new(issues.remove(0)))
        } else {
            ManifestError::Many { path, issues }
        }
    }
}
