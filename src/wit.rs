//! WIT directories: loading one (with its deps/) with wit-parser, and turning its errors into
//! diagnostics that point at the file, line and column, with a caret under the spot.

use std::fmt;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};
use wit_parser::{PackageId, ParseError, ParseErrorKind, Resolve, ResolveError, ResolveErrorKind};

/// Why a WIT directory does not load.
#[derive(Debug, Clone)]
pub struct WitError {
    /// The directory.
    pub dir: PathBuf,
    /// wit-parser's message for the innermost problem.
    pub message: String,
    /// Whether the problem is a name that is declared nowhere (a type, interface, world or
    /// package), which deps/ may be missing.
    pub unknown_name: bool,
    /// Whether the directory is not there at all (a usage error, not a WIT one).
    pub missing: bool,
    /// The file and span it concerns, when wit-parser knows them.
    location: Option<Box<(NamedSource<String>, SourceSpan)>>,
}

impl WitError {
    /// 2 when the directory is not there, 1 when its WIT is wrong.
    pub fn exit_code(&self) -> u8 {
        if self.missing {
            crate::exit::EXIT_USAGE
        } else {
            crate::exit::EXIT_FAILURE
        }
    }

    /// `file:line:col` of the problem, when known.
    pub fn location(&self) -> Option<String> {
        let (src, span) = self.location.as_deref()?;
        let contents = src.inner();
        let before = &contents[..span.offset().min(contents.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some(format!("{}:{line}:{col}", src.name()))
    }
}

impl fmt::Display for WitError {
    /// The message alone when the diagnostic carries the location; with the directory otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(_) => f.write_str(&self.message),
            None => write!(f, "{}: {}", self.dir.display(), self.message),
        }
    }
}

impl std::error::Error for WitError {}

impl Diagnostic for WitError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(if self.missing {
            "weld::wit::missing"
        } else {
            "weld::wit::invalid"
        }))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.location
            .as_deref()
            .map(|(src, _)| src as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, span) = self.location.as_deref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".into()),
            *span,
        ))))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let help = if self.missing {
            "name the directory that holds the package's .wit files (with deps/ for its dependencies)"
        } else if self.unknown_name {
            "a name must be declared in this package or `use`d from one in deps/ (deps/NAME/*.wit or deps/NAME.wit)"
        } else {
            "the WIT reference: https://component-model.bytecodealliance.org/design/wit.html"
        };
        Some(Box::new(help))
    }
}

/// Parses and resolves the WIT package in `dir` (and `dir/deps`).
pub fn load_dir(dir: &Path, shown: &Path) -> Result<(Resolve, PackageId), WitError> {
    if !dir.is_dir() {
        return Err(WitError {
            dir: shown.to_path_buf(),
            message: if dir.exists() {
                "this is not a directory: a WIT package is a directory of .wit files".into()
            } else {
                "no such directory".into()
            },
            unknown_name: false,
            missing: true,
            location: None,
        });
    }
    let mut resolve = Resolve::default();
    // wit-parser panics on some malformed text (found by fuzzing: a doc comment right after a
    // block comment); that is the input's fault, reported against the package.
    match crate::contained(|| resolve.push_dir(dir)) {
        Ok(Ok((pkg, _))) => Ok((resolve, pkg)),
        Ok(Err(e)) => Err(locate(&resolve, &e, dir, shown)),
        Err(panic) => Err(WitError {
            dir: shown.to_path_buf(),
            message: format!("wit-parser cannot read this package (it failed: {panic})"),
            unknown_name: false,
            missing: false,
            location: None,
        }),
    }
}

/// Finds wit-parser's typed error in the chain and the span it carries; the spans of a failed
/// `push_dir` stay valid against the `Resolve`'s source map.
fn locate(resolve: &Resolve, e: &anyhow::Error, dir: &Path, shown: &Path) -> WitError {
    let typed = e.chain().find_map(|cause| {
        cause
            .downcast_ref::<ParseError>()
            .map(|p| {
                let unknown = matches!(p.kind(), ParseErrorKind::ItemNotFound { .. });
                (p.kind().span(), p.kind().to_string(), unknown)
            })
            .or_else(|| {
                cause.downcast_ref::<ResolveError>().map(|r| {
                    let unknown = matches!(r.kind(), ResolveErrorKind::PackageNotFound { .. });
                    (r.kind().span(), r.kind().to_string(), unknown)
                })
            })
    });
    let unknown_name = typed.as_ref().is_some_and(|t| t.2);
    let message = typed
        .as_ref()
        .map(|(_, m, _)| m.clone())
        .unwrap_or_else(|| e.root_cause().to_string());
    let location = typed.and_then(|(span, _, _)| {
        let loc = resolve.source_map.resolve_span(span)?;
        let path = Path::new(loc.path);
        let contents = std::fs::read_to_string(path).ok()?;
        let name = match path.strip_prefix(dir) {
            Ok(rel) => shown.join(rel).display().to_string(),
            Err(_) => path.display().to_string(),
        };
        let len = loc.range.end.saturating_sub(loc.range.start).max(1);
        Some(Box::new((
            NamedSource::new(name, contents).with_language("wit"),
            SourceSpan::new(loc.range.start.into(), len),
        )))
    });
    WitError {
        dir: shown.to_path_buf(),
        message,
        unknown_name,
        missing: false,
        location,
    }
}
