//! `weld push`: the project's app (or a component) to an OCI registry as a Wasm artifact.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::Context;
use weld::error::{Error, Result};
use weld::oci::{self, Artifact, Metadata, Progress, Transport};
use weld::report::{Reporter, Style};
use weld::units::format_size;

/// Push the app to an OCI registry as a Wasm artifact
///
/// Writes the CNCF Wasm OCI artifact: an OCI image manifest, a config
/// (application/vnd.wasm.config.v0+json) listing the component's imports and exports, and one
/// application/wasm layer. Without APP.wasm it pushes the project's composed app, building,
/// checking and composing it first. Blobs the registry has are not sent again. With
/// SOURCE_DATE_EPOCH set, the same app pushes to the same digest.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld push localhost:5000/shop:0.1.0                 the project's app, to a local registry
  weld push ghcr.io/you/shop:0.1.0 target/weld/app.wasm
  echo \"$TOKEN\" | weld push --username you --password-stdin ghcr.io/you/shop:0.1.0

Credentials come from Docker's config (~/.docker/config.json and its credential helpers), or
--username with --password-stdin. Registries speak TLS, checked against the system's CA
certificates (SSL_CERT_FILE and SSL_CERT_DIR replace them) and any --ca-file; a certificate
that fails the check is refused, never bypassed. Those given with --insecure, and loopback ones
(localhost, 127.0.0.0/8) unless --ca-file is given, speak plain HTTP.

Exit status:
  0  pushed; the digest is printed
  1  the project did not build, check or compose, or the file is not a component
  2  usage or environment error: a bad reference, the registry unreachable or refusing")]
pub struct PushArgs {
    /// Where to push: REGISTRY/REPOSITORY:TAG
    #[arg(value_name = "REF")]
    reference: String,

    /// The component to push [default: the project's composed app, built first]
    #[arg(value_name = "APP.wasm")]
    app: Option<PathBuf>,

    #[command(flatten)]
    registry: RegistryFlags,

    /// Build at most N components at once [default: number of cores]
    #[arg(short, long, value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,

    #[command(flatten)]
    pub(super) source: super::SourceCheck,
}

/// How to reach and log in to a registry (push and pull).
#[derive(Debug, Args)]
pub struct RegistryFlags {
    /// Speak plain HTTP to this registry (HOST:PORT); repeatable. Loopback ones are, unless
    /// --ca-file is given.
    #[arg(long, value_name = "HOST:PORT")]
    insecure: Vec<String>,

    /// Trust the certificate authorities in this PEM file too (a registry with a private CA);
    /// repeatable. A loopback registry then speaks TLS.
    #[arg(long, value_name = "CA.pem")]
    ca_file: Vec<PathBuf>,

    /// Log in as USER (the password is read from stdin, see --password-stdin)
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    username: Option<String>,

    /// Read the password (or token) for --username from stdin
    #[arg(long, requires = "username")]
    password_stdin: bool,
}

impl RegistryFlags {
    pub fn transport(&self, cx: &Context) -> Result<Transport> {
        let credentials = match &self.username {
            Some(user) => {
                let mut password = String::new();
                std::io::stdin()
                    .read_to_string(&mut password)
                    .map_err(|e| Error::Usage {
                        message: format!("cannot read the password from stdin: {e}"),
                    })?;
                let password = password.trim_end_matches(['\r', '\n']).to_string();
                if password.is_empty() {
                    return Err(Error::Usage {
                        message: "--password-stdin read an empty password".into(),
                    });
                }
                Some((user.clone(), password))
            }
            None => None,
        };
        Ok(Transport {
            insecure: self.insecure.clone(),
            ca_files: self.ca_file.iter().map(|f| cx.cwd.join(f)).collect(),
            credentials,
        })
    }
}

impl PushArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("push")?;
        let reference = oci::parse_reference(&self.reference)?;
        let transport = self.registry.transport(cx)?;
        let (path, mut meta) = match &self.app {
            Some(app) => {
                let path = cx.cwd.join(app);
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "app".into());
                let meta = Metadata {
                    name,
                    ..Metadata::default()
                };
                (path, meta)
            }
            None => {
                let plan = cx.plan()?;
                let path = super::up::prepare(cx, &plan, self.jobs)?;
                (path, weld::oci::project_metadata(&plan))
            }
        };
        meta.created = Some(weld::oci::created().map_err(|message| Error::Usage { message })?);
        let bytes = std::fs::read(&path).map_err(|e| Error::Usage {
            message: format!("cannot read {}: {e}", cx.show(&path)),
        })?;
        let artifact = Artifact::new(bytes, &meta).map_err(|e| match e {
            oci::OciError::NotComponent(why) => {
                oci::OciError::NotComponent(format!("{}: {why}", cx.show(&path)))
            }
            other => other,
        })?;
        let bar = Arc::new(Bar::new(&cx.reporter));
        let runtime = tokio_runtime()?;
        let pushed = runtime.block_on(oci::push(&reference, &artifact, &transport, bar.clone()))?;
        bar.finish();
        if cx.reporter.json() {
            cx.reporter.print_json(&pushed)?;
            return Ok(0);
        }
        let r = &cx.reporter;
        r.status(&format!(
            "{} {} to {} ({} sent, {} blob{} already there)",
            r.paint("pushed", Style::Bold),
            cx.show(&path),
            pushed.reference,
            format_size(pushed.bytes),
            pushed.skipped.len(),
            if pushed.skipped.len() == 1 { "" } else { "s" }
        ));
        r.print(&format!("{}\n", pushed.pinned))?;
        Ok(0)
    }
}

/// A current-thread runtime for one registry conversation.
pub fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage {
            message: format!("cannot start the async runtime: {e}"),
        })
}

/// A byte progress bar on a terminal; nothing elsewhere.
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
    live: bool,
}

impl Bar {
    pub fn new(reporter: &Reporter) -> Bar {
        Bar {
            bar: Mutex::new(None),
            live: reporter.verbosity() >= 0 && !reporter.json() && std::io::stderr().is_terminal(),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("no panics").take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, size: u64) {
        if !self.live {
            return;
        }
        let style = ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        let bar = ProgressBar::new(size).with_style(style);
        bar.set_message(what.to_string());
        *self.bar.lock().expect("no panics") = Some(bar);
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = &*self.bar.lock().expect("no panics") {
            bar.inc(bytes);
        }
    }

    fn done(&self) {
        self.finish();
    }
}
