//! A WAVE call as written, `[INTERFACE.]FUNCTION(ARGS)`: what `weld run --invoke` and an
//! `invoke` test take. Parsed here into its shape, with the argument syntax checked; the runner
//! ([`crate::run`]) types the arguments against the export. A leaf, so that the manifest can
//! refuse a call that does not parse without reaching into the runner.

use std::ops::Range;

use miette::{Diagnostic, NamedSource, SourceSpan};
use wasmtime::component::wasm_wave::{self, untyped::UntypedFuncCall};

/// A parsed `--invoke` call: `[INTERFACE.]FUNCTION(ARGS)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The whole text, for diagnostics.
    pub(crate) text: String,
    /// The interface part, as written (`words`, `weld:example/words`, ...), if any.
    pub(crate) interface: Option<String>,
    /// The function's name.
    pub(crate) function: String,
    /// Where the function name starts in `text`.
    pub(crate) function_at: usize,
}

impl Call {
    /// Parses the shape of a call; the arguments are typed later, against the export.
    pub fn parse(text: &str) -> Result<Call, Box<CallSyntax>> {
        let open = text.find('(').ok_or_else(|| {
            CallSyntax::new(
                text,
                text.len()..text.len(),
                "expected `(` and the arguments",
                "write the call like `words.shout(\"hi\")`, with `()` when there are no arguments",
            )
        })?;
        let callee = text[..open].trim_end();
        let (interface, function, function_at) = match callee.rfind('.') {
            // A dot inside a version (`@0.2.0`) is not the separator: functions have no `@`.
            Some(dot) if !callee[dot + 1..].contains('@') => (
                Some(callee[..dot].trim().to_string()),
                callee[dot + 1..].trim().to_string(),
                dot + 1,
            ),
            _ => (None, callee.trim().to_string(), 0),
        };
        if function.is_empty() {
            return Err(CallSyntax::new(
                text,
                function_at..open,
                "expected a function name",
                "write the call like `words.shout(\"hi\")`",
            ));
        }
        let call = Call {
            text: text.to_string(),
            interface,
            function,
            function_at,
        };
        // Check the argument syntax now, so a typo is a usage error before anything compiles.
        call.untyped()?;
        Ok(call)
    }

    /// How the call names its target: `words.shout`.
    pub fn target(&self) -> String {
        match &self.interface {
            Some(i) => format!("{i}.{}", self.function),
            None => self.function.clone(),
        }
    }

    /// The arguments as a WAVE call, with errors placed in `text`.
    pub(crate) fn untyped(&self) -> Result<UntypedFuncCall<'static>, Box<CallSyntax>> {
        let open = self.text.find('(').unwrap_or(self.text.len());
        // WAVE's call syntax takes a plain label, not `iface.func`: parse `f(ARGS)` and map
        // error spans back onto the text as written.
        let source = format!("f{}", &self.text[open..]);
        UntypedFuncCall::parse(&source)
            .map(UntypedFuncCall::into_owned)
            .map_err(|e| {
                let (span, message) = self.place(&e);
                CallSyntax::new(
                    &self.text,
                    span,
                    &message,
                    "arguments are WAVE values: \"text\", 42, 1.5, [1, 2], {x: 1}, some(1), ok(\"x\")",
                )
            })
    }
}

impl Call {
    /// A WAVE error's span in the text as written, and its message without the span.
    pub(crate) fn place(
        &self,
        e: &wasm_wave::parser::ParserError,
    ) -> (std::ops::Range<usize>, String) {
        let shift = self
            .text
            .find('(')
            .unwrap_or(self.text.len())
            .saturating_sub(1);
        let span = e.span();
        let text = e.to_string();
        let message = match text.rsplit_once(" at ") {
            Some((message, _)) => message.to_string(),
            None => text,
        };
        (span.start + shift..span.end + shift, message)
    }
}

/// An `--invoke` that does not parse, pointing into the call as written.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("cannot parse the call: {message}")]
#[diagnostic(code(weld::run::invoke_syntax))]
pub struct CallSyntax {
    #[source_code]
    src: NamedSource<String>,
    #[label("{message}")]
    span: SourceSpan,
    message: String,
    #[help]
    help: String,
}

impl CallSyntax {
    fn new(text: &str, span: Range<usize>, label: &str, help: &str) -> Box<CallSyntax> {
        Box::new(CallSyntax {
            src: NamedSource::new("--invoke", text.to_string()),
            span: span.into(),
            message: label.to_string(),
            help: help.to_string(),
        })
    }

    /// A call that does not parse is a usage error.
    pub fn exit_code(&self) -> u8 {
        crate::exit::EXIT_USAGE
    }
}
