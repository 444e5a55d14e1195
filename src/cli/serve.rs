//! `weld serve`: an HTTP app (wasi:http/proxy) answering requests, a fresh instance each.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{Context, apps};
use weld::error::{Error, Result};
use weld::pipeline;
use weld::project::ServeOverrides;
use weld::run::Profile;
use weld::serve::{self, Launch};
use weld::units;

/// Serve an HTTP app: every request gets a fresh instance of it
///
/// The app is a component exporting wasi:http/incoming-handler (the wasi:http/proxy world).
/// Each request runs in its own instance with the grants given here and nothing else, bounded by
/// a deadline and a memory limit; a guest that fails gets a 500, 503 or 504 and the server keeps
/// serving. SIGINT or SIGTERM stops accepting, lets requests in flight finish, and exits 0.
///
/// The app is compiled with Cranelift, for optimised code (a server runs longer than it
/// compiles), once: later starts load it from the compiled-code cache. The address is bound and
/// the app's exports and imports checked first, so a taken port or a component that is not an
/// HTTP app is refused before anything compiles.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  weld serve                                     the project's app, built and composed first
  weld serve app.wasm --addr 127.0.0.1:3000
  weld serve app.wasm --allow-http https://api.example.com --env MODE=dev
  weld serve app.wasm --format json              request log as JSON lines

Exit status:
  0  stopped by SIGINT or SIGTERM
  1  the project did not build, check or compose
  2  usage or environment error: the address is taken, not an HTTP app, a missing import")]
pub struct ServeArgs {
    /// The component to serve, a file or oci://REGISTRY/REPOSITORY:TAG [default: the project's
    /// composed app, built first]
    #[arg(value_name = "APP.wasm")]
    app: Option<PathBuf>,

    /// Speak plain HTTP to this registry (HOST:PORT) for an oci:// app; loopback ones are, unless
    /// --ca-file is given
    #[arg(long, value_name = "HOST:PORT")]
    insecure: Vec<String>,

    /// Trust the certificate authorities in this PEM file too, for an oci:// app's registry
    /// (a private CA); a loopback registry then speaks TLS
    #[arg(long, value_name = "CA.pem")]
    ca_file: Vec<PathBuf>,

    /// Address to listen on (port 0 picks a free one) [default: 127.0.0.1:8080]
    #[arg(long, value_name = "IP:PORT")]
    addr: Option<SocketAddr>,

    #[command(flatten)]
    grants: super::flags::GrantFlags,

    /// Deadline per request, e.g. 500ms, 30s [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = units::parse_duration)]
    timeout: Option<Duration>,

    /// Linear-memory limit per request, e.g. 64MiB [default: 1GiB]
    #[arg(long, value_name = "SIZE", value_parser = units::parse_size)]
    max_memory: Option<u64>,

    /// Requests handled at once; more wait [default: 128]
    #[arg(long, value_name = "N")]
    max_concurrency: Option<std::num::NonZeroUsize>,

    /// Connections open at once; more wait to be accepted [default: 1024]
    #[arg(long, value_name = "N")]
    max_connections: Option<std::num::NonZeroUsize>,

    /// Largest request body, e.g. 1MiB [default: 16MiB]
    #[arg(long, value_name = "SIZE", value_parser = units::parse_size)]
    max_body: Option<u64>,

    /// Answer up to N requests with one instance before dropping it, instead of a fresh
    /// instance per request: faster, but requests share the instance's memory and state
    /// [default: 1]
    #[arg(long, value_name = "N")]
    instance_reuse: Option<std::num::NonZeroUsize>,

    /// Requests a reused instance of a WASI 0.3 app answers at once [default: 16]
    #[arg(long, value_name = "N")]
    instance_concurrency: Option<std::num::NonZeroUsize>,

    /// How long requests in flight may take to finish on shutdown [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = units::parse_duration)]
    grace: Option<Duration>,

    /// Build at most N components at once (the project's app) [default: number of cores]
    #[arg(short, long, value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,

    /// Compile from scratch instead of using the compiled-code cache
    #[arg(long)]
    no_cache: bool,

    #[command(flatten)]
    pub(super) source: super::flags::SourceCheck,
}

impl ServeArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("serve")?;
        let (path, name, base) = match &self.app {
            Some(path) => match apps::oci_app(cx, path, &self.insecure, &self.ca_file)? {
                Some((file, name)) => (file, name, serve::defaults()),
                None => (path.clone(), cx.show(path), serve::defaults()),
            },
            None => {
                let plan = cx.plan()?;
                let output = pipeline::prepare(&plan, self.jobs, &cx.reporter)?;
                (output, plan.name.clone(), plan.serve.clone())
            }
        };
        let run = self
            .grants
            .overrides(self.timeout, self.max_memory, None)
            .apply(base.settings.run.clone(), &cx.cwd)
            .map_err(|message| Error::Usage { message })?;
        let settings = base.settings.overridden(
            run,
            &ServeOverrides {
                max_concurrency: self.max_concurrency,
                max_connections: self.max_connections,
                max_body: self.max_body,
                grace: self.grace,
                instance_reuse: self.instance_reuse,
                instance_concurrency: self.instance_concurrency,
            },
        );
        let launch = Launch {
            path: &path,
            name: &name,
            addr: self.addr.unwrap_or(base.addr),
            settings: &settings,
            // A server runs Cranelift's optimised code: it serves for longer than it compiles.
            profile: Profile::Release,
            cache: !self.no_cache,
        };
        serve::serve_app(&launch, &cx.reporter)?;
        Ok(weld::exit::EXIT_OK)
    }
}
