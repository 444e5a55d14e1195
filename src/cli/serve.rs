//! `weld serve`: an HTTP app (wasi:http/proxy) answering requests, a fresh instance each.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::Context;
use weld::error::{Error, Result};
use weld::report::{Reporter, Style};
use weld::run::{App, Compiled, Pool, Profile, Runtime, RuntimeOptions, default_cache_dir};
use weld::serve::{self, RequestRecord, ServeSettings, ServeSummary, Server};
use weld::units::{self, format_elapsed};

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
    grants: super::run::GrantFlags,

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
    pub(super) source: super::SourceCheck,
}

impl ServeArgs {
    pub fn exec(self, cx: &Context) -> Result<u8> {
        cx.human_or_json("serve")?;
        let (path, name, base) = match &self.app {
            Some(path) => match super::pull::oci_app(cx, path, &self.insecure, &self.ca_file)? {
                Some((file, name)) => (file, name, serve::defaults()),
                None => (path.clone(), cx.show(path), serve::defaults()),
            },
            None => {
                let plan = cx.plan()?;
                let output = super::up::prepare(cx, &plan, self.jobs)?;
                (output, plan.name.clone(), plan.serve.clone())
            }
        };
        let overrides = self.grants.overrides(self.timeout, self.max_memory, None);
        let mut settings = ServeSettings {
            run: overrides
                .apply(base.settings.run, &cx.cwd)
                .map_err(|message| Error::Usage { message })?,
            ..base.settings
        };
        if let Some(n) = self.max_concurrency {
            settings.max_concurrency = n.get();
        }
        if let Some(n) = self.max_connections {
            settings.max_connections = n.get();
        }
        if let Some(n) = self.max_body {
            settings.max_body = n;
        }
        if let Some(g) = self.grace {
            settings.grace = g;
        }
        let addr = self.addr.unwrap_or(base.addr);
        // A server runs Cranelift's optimised code: it serves for longer than it compiles.
        serve_app(
            cx,
            &path,
            &name,
            addr,
            &settings,
            Profile::Release,
            self.no_cache,
        )
    }
}

/// Serves the component at `path` (`name` in messages) on `addr` until SIGINT or SIGTERM: the
/// serve stage of `weld serve` and of `weld up` for an HTTP app.
pub(super) fn serve_app(
    cx: &Context,
    path: &Path,
    name: &str,
    addr: SocketAddr,
    settings: &ServeSettings,
    profile: Profile,
    no_cache: bool,
) -> Result<u8> {
    let started = start(cx, path, name, addr, settings, profile, no_cache)?;
    let summary = started
        .server
        .run(&started.runtime, started.listener, serve::signals())?;
    stopped(cx, &summary);
    Ok(weld::exit::EXIT_OK)
}

/// A server ready to run: its app loaded, its socket bound, its address announced.
pub(super) struct Started {
    pub runtime: Runtime,
    pub server: Server,
    pub listener: std::net::TcpListener,
}

/// Binds `addr`, loads the app (compiling it, or from the cache) into a runtime sized for
/// `settings` and prints where it serves.
pub(super) fn start(
    cx: &Context,
    path: &Path,
    name: &str,
    addr: SocketAddr,
    settings: &ServeSettings,
    profile: Profile,
    no_cache: bool,
) -> Result<Started> {
    // Bound first: a busy port is refused before seconds of compiling, and the address the
    // banner prints is one that answers.
    let listener = std::net::TcpListener::bind(addr).map_err(|e| Error::Usage {
        message: format!(
            "cannot listen on {addr}: {e}; choose another address with --addr or [serve] addr (port 0 picks a free one)"
        ),
    })?;
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: if no_cache { None } else { default_cache_dir() },
        pool: Some(Pool {
            instances: u32::try_from(settings.max_concurrency).unwrap_or(u32::MAX),
            max_memory: settings.run.max_memory,
        }),
        profile,
    })?;
    let app = load(cx, &runtime, path, name)?;
    let r = &cx.reporter;
    let log = (r.verbosity() >= 0).then(|| request_log(r.clone()));
    let server = Server::new(&app, settings, log)?;
    let local = listener.local_addr().unwrap_or(addr);
    // Scripts and tests read the address from this line, even with -q or JSON.
    if r.json() {
        r.eprint(&format!(
            "{}\n",
            serde_json::json!({"listening": format!("http://{local}"), "app": name})
        ));
    } else {
        r.eprint(&format!(
            "{} {} on http://{local}\n",
            r.paint("serving", Style::Good),
            cx.show(path)
        ));
    }
    Ok(Started {
        runtime,
        server,
        listener,
    })
}

/// Loads the app at `path`, saying so when it must be compiled first. Whether it is an HTTP
/// app is the server's to judge (`Server::new`, `Reloader::replace`).
pub(super) fn load(cx: &Context, runtime: &Runtime, path: &Path, name: &str) -> Result<App> {
    let r = &cx.reporter;
    let app = runtime.load_notify(path, name, weld::run::Entry::Http, &|compiling| {
        r.status(&super::run::compiling_status(
            &cx.show_app(path, name),
            compiling,
            Some("the compiled code is cached, so later starts are instant"),
        ))
    })?;
    if let Compiled::Fresh { compile } = app.compiled {
        r.verbose(&format!(
            "compiled with {} in {}",
            app.compiler,
            format_elapsed(compile)
        ));
    }
    Ok(app)
}

/// The last line: how many requests were answered, and any connection cut off.
pub(super) fn stopped(cx: &Context, summary: &ServeSummary) {
    cx.reporter.status(&format!(
        "stopped after {} request{}{}",
        summary.requests,
        if summary.requests == 1 { "" } else { "s" },
        if summary.cut_off > 0 {
            format!(
                "; {} connection{} still open after the grace period were closed",
                summary.cut_off,
                if summary.cut_off == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        }
    ));
}

/// One line per request on stderr: `GET /path 200 1.2ms`, and why the app failed when it did;
/// a JSON object per line with `--format json`.
fn request_log(r: Reporter) -> Arc<dyn Fn(&RequestRecord) + Send + Sync> {
    Arc::new(move |record: &RequestRecord| {
        if r.json() {
            let mut line = serde_json::json!({
                "method": record.method.as_str(),
                "path": record.path,
                "status": record.status,
                "ms": record.elapsed.as_secs_f64() * 1000.0,
            });
            if let Some(failure) = &record.failure {
                line["error"] = serde_json::json!({
                    "code": miette::Diagnostic::code(failure).map(|c| c.to_string()),
                    "message": failure.to_string(),
                });
            }
            r.eprint(&format!("{line}\n"));
            return;
        }
        let status = record.status.to_string();
        let status = match record.status {
            500.. => r.paint(&status, Style::Bad),
            400.. => r.paint(&status, Style::Warn),
            _ => status,
        };
        let mut line = format!(
            "{} {} {status} {}",
            record.method,
            record.path,
            format_elapsed(record.elapsed)
        );
        if let Some(failure) = &record.failure {
            line.push_str(&format!(": {failure}"));
        }
        line.push('\n');
        r.eprint(&line);
    })
}
