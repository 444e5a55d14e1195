//! Output: results on stdout, diagnostics and status on stderr; human or JSON.
//!
//! Every command writes through a [`Reporter`], so colour, verbosity, format and broken pipes are
//! decided in one place.

use std::io::{IsTerminal, Write};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, JSONReportHandler};
pub mod findings;
pub mod progress;
pub mod stages;

use serde::Serialize;

use crate::error::Result;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// For people: aligned text, colours on a terminal.
    Human,
    /// For programs: JSON on stdout (and JSON diagnostics on stderr).
    Json,
    /// Graphviz DOT (`weld graph` only).
    Dot,
    /// Mermaid flowchart (`weld graph` only).
    Mermaid,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Even into files and pipes.
    Always,
    /// Plain text only.
    Never,
}

impl Format {
    /// Its spelling on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Dot => "dot",
            Format::Mermaid => "mermaid",
        }
    }
}

/// Where output goes and how it looks.
#[derive(Debug, Clone)]
pub struct Reporter {
    format: Format,
    color: bool,
    verbosity: i8,
    width: usize,
}

impl Reporter {
    /// A reporter for the given global options; `verbose` counts `-v`, `quiet` is `-q`.
    pub fn new(format: Format, color: ColorChoice, verbose: u8, quiet: bool) -> Self {
        // Text is painted when some stream may show colour; each stream (anstream) then keeps
        // the colour only if it goes to a terminal, or colour is forced.
        let any_tty = std::io::stderr().is_terminal() || std::io::stdout().is_terminal();
        let (color, streams) = match color {
            ColorChoice::Always => (true, anstream::ColorChoice::Always),
            ColorChoice::Never => (false, anstream::ColorChoice::Never),
            ColorChoice::Auto => (
                any_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
                anstream::ColorChoice::Auto,
            ),
        };
        streams.write_global();
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
            .unwrap_or(100)
            .max(40);
        Reporter {
            format,
            color,
            verbosity: if quiet { -1 } else { verbose.min(3) as i8 },
            width,
        }
    }

    /// A reporter that shows nothing but what is asked of it (no status lines, no colour),
    /// for the library's own use of the pipeline: an embedding application's plugin builds.
    pub fn quiet() -> Self {
        Reporter {
            format: Format::Human,
            color: false,
            verbosity: -1,
            width: 100,
        }
    }

    /// The output format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether JSON was asked for.
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// Whether colour is on.
    pub fn color(&self) -> bool {
        self.color
    }

    /// `-v` count (0 normally, -1 with `-q`).
    pub fn verbosity(&self) -> i8 {
        self.verbosity
    }

    /// Writes a result to stdout (without colour unless stdout is a terminal or colour is
    /// forced: `weld check > out.txt` writes plain text even from a terminal).
    pub fn print(&self, text: &str) -> Result<()> {
        let mut out = anstream::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        Ok(())
    }

    /// Writes `value` as pretty JSON (and a newline) to stdout.
    pub fn print_json<T: Serialize>(&self, value: &T) -> Result<()> {
        let mut text = serde_json::to_string_pretty(value).expect("weld's JSON output serializes");
        text.push('\n');
        self.print(&text)
    }

    /// A progress or status line on stderr, unless `-q` (or JSON output) silences it.
    pub fn status(&self, text: &str) {
        if self.verbosity >= 0 && !self.json() {
            self.eprint(&format!("{text}\n"));
        }
    }

    /// Writes `text` to stderr as it is (colour only where stderr shows it).
    pub fn eprint(&self, text: &str) {
        let _ = anstream::stderr().lock().write_all(text.as_bytes());
    }

    /// Detail shown with `-v`.
    pub fn verbose(&self, text: &str) {
        if self.verbosity >= 1 && !self.json() {
            self.eprint(&format!("{text}\n"));
        }
    }

    /// Renders a diagnostic for stderr: graphical for people, one JSON object with `--format json`.
    pub fn render_diagnostic(&self, diagnostic: &dyn Diagnostic) -> String {
        let mut out = String::new();
        if self.json() {
            // Writing to a String cannot fail.
            let _ = JSONReportHandler::new().render_report(&mut out, diagnostic);
            out.push('\n');
        } else {
            let theme = if self.color {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            let handler = GraphicalReportHandler::new_themed(theme).with_width(self.width);
            // miette echoes the labelled source line whole, and panics on some very long ones:
            // a line too long to read (a 100 KB `--invoke`, a minified file) gets the message
            // with its location instead.
            let rendered = crate::contained(|| {
                let mut text = String::new();
                let _ = handler.render_report(&mut text, diagnostic);
                text
            });
            match rendered {
                Ok(text) if text.lines().all(|l| l.len() <= MAX_SHOWN_LINE) => out = text,
                _ => {
                    let compact = Compact::of(diagnostic);
                    let _ = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
                        .with_width(self.width)
                        .render_report(&mut out, &compact);
                }
            }
        }
        out
    }

    /// Prints a diagnostic to stderr (even with `-q`: errors are never silenced).
    pub fn error(&self, diagnostic: &dyn Diagnostic) {
        self.eprint(&self.render_diagnostic(diagnostic));
    }

    /// Paints `text` with an ANSI style when colour is on.
    pub fn paint(&self, text: &str, style: Style) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match style {
            Style::Good => "32",
            Style::Warn => "33",
            Style::Bad => "31",
            Style::Bold => "1",
            Style::Dim => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// Text styles for [`Reporter::paint`].
#[derive(Debug, Clone, Copy)]
pub enum Style {
    /// Success (green).
    Good,
    /// Warning (yellow).
    Warn,
    /// Failure (red).
    Bad,
    /// Emphasis.
    Bold,
    /// De-emphasis.
    Dim,
}

/// Rendered lines longer than this (bytes) mean a source line too long to show.
const MAX_SHOWN_LINE: usize = 2_000;

/// A diagnostic whose labelled source line is too long to show, as its message, location, code
/// and help.
struct Compact<'a> {
    inner: &'a dyn Diagnostic,
    location: String,
}

impl<'a> Compact<'a> {
    /// `inner` with the place its first label points at (`file:line:column`).
    fn of(inner: &'a dyn Diagnostic) -> Compact<'a> {
        let location = inner
            .source_code()
            .zip(inner.labels().and_then(|mut l| l.next()))
            .and_then(|(source, label)| {
                let contents = source.read_span(label.inner(), 0, 0).ok()?;
                let name = contents.name().map(|n| format!("{n}:")).unwrap_or_default();
                Some(format!(
                    "{name}{}:{}",
                    contents.line() + 1,
                    contents.column() + 1
                ))
            })
            .unwrap_or_else(|| "a line too long to show".into());
        Compact { inner, location }
    }
}

impl std::fmt::Display for Compact<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at {})", self.inner, self.location)
    }
}

impl std::fmt::Debug for Compact<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Compact<'_> {}

impl Diagnostic for Compact<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.code()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.help()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
}
