//! The error every weld operation returns, and its exit code.

use miette::Diagnostic;

use crate::build::BuildError;
use crate::check::LoadError;
use crate::project::ManifestError;
use crate::toolchain::ToolchainError;

pub use crate::exit::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

/// Anything that stops a weld command.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    /// The project manifest is missing or wrong.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(#[from] ManifestError),

    /// Building components failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Build(#[from] BuildError),

    /// A component file that cannot be used.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),

    /// Composing failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Compose(#[from] crate::compose::ComposeError),

    /// A component that cannot be run (the guest's own failures are not errors).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Run(#[from] crate::run::RunError),

    /// Registry WIT packages could not be provided or published.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Packages(#[from] crate::packages::PackageError),

    /// A registry push or pull failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Oci(#[from] crate::oci::OciError),

    /// Manifests for a target the app cannot run on.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Deploy(#[from] crate::deploy::DeployError),

    /// A starter that cannot be made.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Scaffold(#[from] crate::scaffold::ScaffoldError),

    /// A WIT directory that does not load.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Wit(#[from] crate::wit::WitError),

    /// The source check could not run.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] crate::check::source::SourceError),

    /// The checked components do not fit (the findings were printed already). No code: the
    /// findings above carry theirs, and this line only says what stopped.
    #[error("{0}")]
    Checked(String),

    /// A required toolchain is missing or unusable.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Toolchain(#[from] ToolchainError),

    /// A combination of flags that makes no sense.
    #[error("{message}")]
    #[diagnostic(code(weld::usage))]
    Usage {
        /// What is wrong and what to do.
        message: String,
    },

    /// Writing output failed (other than the reader going away).
    #[error("cannot write output: {0}")]
    #[diagnostic(code(weld::io))]
    Output(std::io::Error),

    /// The reader of our output went away (`weld … | head`): not an error to report.
    #[error("broken pipe")]
    BrokenPipe,
}

impl Error {
    /// The exit code this error maps to (see README, "Exit status").
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Build(e) => e.exit_code(),
            Error::Load(e) => e.exit_code(),
            Error::Compose(e) => e.exit_code(),
            Error::Run(e) => e.exit_code(),
            Error::Wit(e) => e.exit_code(),
            Error::Oci(e) => e.exit_code(),
            Error::Packages(e) => e.exit_code(),
            Error::Deploy(e) => e.exit_code(),
            Error::Scaffold(e) => e.exit_code(),
            Error::Checked(_) => EXIT_FAILURE,
            Error::Manifest(e) => e.exit_code(),
            Error::Toolchain(_) | Error::Source(_) => EXIT_USAGE,
            Error::Usage { .. } | Error::Output(_) => EXIT_USAGE,
            Error::BrokenPipe => EXIT_OK,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Error::BrokenPipe
        } else {
            Error::Output(e)
        }
    }
}

/// Shorthand for results in weld.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Box<crate::call::CallSyntax>> for Error {
    fn from(e: Box<crate::call::CallSyntax>) -> Error {
        Error::Run(e.into())
    }
}
