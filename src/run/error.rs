//! Why a component cannot be run: every case names the component and what to do.

use std::ops::Range;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};

use super::{Limit, Status};
use crate::exit::{EXIT_FAILURE, EXIT_USAGE};
use crate::units::{format_duration, format_size};

/// A reason `weld run` could not start or finish the guest (the guest's own failures are a
/// [`Status`](super::Status), not an error).
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RunError {
    /// The file is missing or unreadable.
    #[error("{}: {message}", path.display())]
    #[diagnostic(
        code(weld::run::read),
        help("check the path; `weld compose` writes the app to weld.toml's [compose] output")
    )]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        message: String,
    },

    /// The file is not a component.
    #[error("{}: {reason}", path.display())]
    #[diagnostic(code(weld::run::not_a_component))]
    NotAComponent {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        reason: String,
        /// What to do.
        #[help]
        help: Option<String>,
    },

    /// The compiler refused the component (it validated as a component, so this is rare).
    #[error("cannot compile `{name}`: {message}")]
    #[diagnostic(code(weld::run::compile))]
    Compile {
        /// The component.
        name: String,
        /// wasmtime's reason.
        message: String,
    },

    /// Imports the runner does not provide.
    #[error(
        "`{name}` imports {} that weld's runtime does not provide: {}",
        if missing.len() == 1 { "an interface" } else { "interfaces" },
        missing.join(", ")
    )]
    #[diagnostic(
        code(weld::run::missing_import),
        help(
            "plug a component that exports {} (`weld compose --plug`, or `plugs` in weld.toml); \
             weld run provides WASI 0.2 and 0.3 (cli, clocks, filesystem, io, random, sockets, outgoing http)",
            if missing.len() == 1 { "it" } else { "them" }
        )
    )]
    MissingImports {
        /// The component.
        name: String,
        /// The import names.
        missing: Vec<String>,
    },

    /// Linking failed for another reason (a WASI import of an unexpected type).
    #[error("cannot link `{name}`: {message}")]
    #[diagnostic(
        code(weld::run::link),
        help("`weld check` explains what each import expects")
    )]
    Link {
        /// The component.
        name: String,
        /// wasmtime's reason.
        message: String,
    },

    /// `weld run` without `--invoke` on a component that is not a command.
    #[error("`{name}` does not export wasi:cli/run, so there is nothing to run")]
    #[diagnostic(code(weld::run::not_a_command), help("{}", invoke_help(available)))]
    NotACommand {
        /// The component.
        name: String,
        /// Its exported functions.
        available: Vec<String>,
    },

    /// `weld run` without `--invoke` on an HTTP app.
    #[error("`{name}` is an HTTP app (it exports a wasi:http handler), not a command")]
    #[diagnostic(
        code(weld::run::http_app),
        help("serve it and send it requests: `weld serve{}`", match path {
            Some(p) => format!(" {p}"),
            None => String::new(),
        })
    )]
    HttpApp {
        /// The component.
        name: String,
        /// Its file as the user gave it, when one was given.
        path: Option<String>,
    },

    /// A request whose client went away before its answer was complete: the guest answering
    /// it was stopped, and its request slot freed.
    #[error(
        "the client closed the connection before `{name}` finished answering; the request was stopped"
    )]
    #[diagnostic(code(weld::serve::abandoned))]
    Abandoned {
        /// The app.
        name: String,
    },

    /// `weld serve` on a component that does not handle HTTP requests.
    #[error(
        "`{name}` does not export wasi:http/incoming-handler or wasi:http/handler, so it cannot answer HTTP requests"
    )]
    #[diagnostic(
        code(weld::serve::not_http),
        help(
            "an HTTP app implements WASI 0.2's wasi:http/proxy world (wasi:http/incoming-handler@0.2.x) or 0.3's wasi:http/service (wasi:http/handler@0.3.0); run a command with `weld run`"
        )
    )]
    NotHttp {
        /// The component.
        name: String,
    },

    /// An `--invoke` that does not parse.
    #[error(transparent)]
    #[diagnostic(transparent)]
    InvokeSyntax(Box<crate::call::CallSyntax>),

    /// `--invoke` names no export.
    #[error("`{name}` exports no function `{call}`")]
    #[diagnostic(code(weld::run::no_such_export), help("{}", exports_help(available, suggestion.as_deref())))]
    NoSuchExport {
        /// The component.
        name: String,
        /// The target as written.
        call: String,
        /// What it does export.
        available: Vec<String>,
        /// The export nearest to what was written, when it looks like a typo of one.
        suggestion: Option<String>,
    },

    /// `--invoke` names several exports.
    #[error("`{call}` is ambiguous in `{name}`: {}", candidates.join(", "))]
    #[diagnostic(
        code(weld::run::ambiguous_export),
        help("name the interface too, e.g. `{}`", candidates[0])
    )]
    AmbiguousExport {
        /// The component.
        name: String,
        /// The target as written.
        call: String,
        /// The exports it could mean.
        candidates: Vec<String>,
    },

    /// `--invoke` of a function that takes or returns a stream or a future: WAVE can neither
    /// write nor print one.
    #[error("`{call}` in `{name}` {what}, which --invoke cannot {verb}")]
    #[diagnostic(
        code(weld::run::async_value),
        help(
            "call it from a component that imports it (compose one with this as a plug), or invoke a function of plain values"
        )
    )]
    AsyncValue {
        /// The component.
        name: String,
        /// The export as written.
        call: String,
        /// `returns a stream<u8>`, `takes a future<string>`.
        what: String,
        /// `write` for a parameter, `print` for a result.
        verb: &'static str,
    },

    /// `--invoke` arguments of the wrong number or type.
    #[error(transparent)]
    #[diagnostic(transparent)]
    InvokeArguments(Box<InvokeArguments>),

    /// A grant that cannot be made (a directory that does not exist, an unresolvable address).
    #[error("cannot grant {what}: {message}")]
    #[diagnostic(code(weld::run::grant))]
    Grant {
        /// What was to be granted.
        what: String,
        /// Why it cannot be.
        message: String,
    },

    /// The guest trapped.
    #[error("`{name}` trapped{}: {message}{backtrace}", match component {
        Some(c) => format!(" in component `{c}`"),
        None => String::new(),
    })]
    #[diagnostic(code(weld::run::trap))]
    Trapped {
        /// The component.
        name: String,
        /// The part of a composed app it trapped in.
        component: Option<String>,
        /// What happened.
        message: String,
        /// The guest's stack, one frame per line, innermost first (empty if unknown).
        backtrace: String,
    },

    /// A limit ended the run.
    #[error("`{name}` {what}")]
    #[diagnostic(code(weld::run::limit), help("{help}"))]
    LimitReached {
        /// The component.
        name: String,
        /// Which limit, and its value.
        what: String,
        /// How to raise it.
        help: String,
    },

    /// The engine or the host environment failed.
    #[error("{0}")]
    #[diagnostic(code(weld::run::environment))]
    Environment(String),
}

/// `--invoke` arguments that do not fit the function, pointing at the one that does not.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("wrong arguments for `{call}`: {message}")]
#[diagnostic(code(weld::run::invoke_arguments))]
pub struct InvokeArguments {
    call: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("{message}")]
    span: SourceSpan,
    message: String,
    #[help]
    signature: Option<String>,
}

fn exports_help(available: &[String], suggestion: Option<&str>) -> String {
    match (available.is_empty(), suggestion) {
        (true, _) => "it exports no functions".to_string(),
        (false, Some(best)) => format!(
            "did you mean `{best}`? it exports: {}",
            available.join(", ")
        ),
        (false, None) => format!("it exports: {}", available.join(", ")),
    }
}

fn invoke_help(available: &[String]) -> String {
    if available.is_empty() {
        "it exports no functions either; is this the right file?".to_string()
    } else {
        format!(
            "call one of its exports with --invoke, e.g. --invoke '{}(...)'; it exports: {}",
            available[0],
            available.join(", ")
        )
    }
}

impl RunError {
    /// 1 when the component is wrong, 2 for usage and environment errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::NotAComponent { .. }
            | RunError::Compile { .. }
            | RunError::Trapped { .. } => EXIT_FAILURE,
            RunError::LimitReached { .. } => super::EXIT_LIMIT,
            _ => EXIT_USAGE,
        }
    }

    /// The diagnostic for a run the guest did not finish by itself: a trap or a limit.
    pub fn stopped(name: &str, status: &Status) -> Option<RunError> {
        let limit = |what: String, help: &str| RunError::LimitReached {
            name: name.to_string(),
            what,
            help: help.to_string(),
        };
        match status {
            Status::Trapped(trap) => Some(RunError::Trapped {
                name: name.to_string(),
                component: trap.component.clone(),
                message: trap.message.clone(),
                backtrace: trap
                    .backtrace
                    .iter()
                    .enumerate()
                    .map(|(i, frame)| format!("\n  {i:>3}: {frame}"))
                    .collect(),
            }),
            Status::Limit(Limit::Deadline(d)) => Some(limit(
                format!(
                    "did not finish within its deadline of {}",
                    format_duration(*d)
                ),
                "raise it with --timeout (e.g. --timeout 2m) or `timeout` in weld.toml's [run] or [[test]]",
            )),
            Status::Limit(Limit::Memory {
                limit: max,
                requested,
            }) => Some(limit(
                format!(
                    "reached its memory limit of {}: it asked for {} of linear memory in all",
                    format_size(*max),
                    format_size(*requested)
                ),
                "raise it with --max-memory (e.g. --max-memory 2GiB) or `max-memory` in weld.toml",
            )),
            Status::Limit(Limit::Table { requested }) => Some(limit(
                format!("reached its table limit: it asked for {requested} table elements in all"),
                "the table limit is fixed at 10 million elements",
            )),
            Status::Limit(Limit::Stack) => Some(limit(
                format!(
                    "overflowed its call stack ({} of wasm stack): runaway recursion?",
                    format_size(super::MAX_WASM_STACK as u64)
                ),
                "the stack limit is fixed; make the recursion shallower",
            )),
            _ => None,
        }
    }

    pub(super) fn read(path: &Path, e: std::io::Error) -> RunError {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            "no such file".to_string()
        } else {
            format!("cannot read: {e}")
        };
        RunError::Read {
            path: path.to_path_buf(),
            message,
        }
    }

    pub(super) fn engine(e: &wasmtime::Error) -> RunError {
        RunError::Environment(format!("cannot set up wasmtime: {e:#}"))
    }

    pub(crate) fn internal(message: String) -> RunError {
        RunError::Environment(message)
    }

    pub(super) fn invoke_arguments(
        call: String,
        text: &str,
        span: Range<usize>,
        message: String,
        signature: Option<String>,
    ) -> RunError {
        RunError::InvokeArguments(Box::new(InvokeArguments {
            call,
            src: NamedSource::new("--invoke", text.to_string()),
            span: span.into(),
            message,
            signature: Some(match signature {
                Some(sig) => format!("the function is `{sig}`"),
                None => "check the function's WIT signature (`weld wit APP.wasm`)".to_string(),
            }),
        }))
    }
}

impl From<Box<crate::call::CallSyntax>> for RunError {
    fn from(e: Box<crate::call::CallSyntax>) -> RunError {
        RunError::InvokeSyntax(e)
    }
}
