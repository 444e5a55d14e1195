//! From a file to a server answering on its socket: bind first (a taken port is refused before
//! any compiling), load the app into a runtime sized for the settings, then serve until a
//! signal. What `weld serve` and `weld up` (for an HTTP app) do, with what they show going to
//! an [`Observer`].

use std::net::{SocketAddr, TcpListener};
use std::path::Path;

use super::{RequestLog, ServeSettings, ServeSummary, Server};
use crate::run::{App, Compiling, Entry, Pool, Profile, RunError, Runtime, RuntimeOptions};

/// What a caller sees of a server starting, serving and stopping.
pub trait Observer: Sync {
    /// `app` (as messages name it) is not in the compiled-code cache and is being compiled.
    fn compiling(&self, app: &str, compiling: &Compiling);
    /// `app` is loaded (compiled or from the cache).
    fn loaded(&self, app: &App);
    /// The server listens on `addr`, serving `path` as `name`.
    fn listening(&self, addr: SocketAddr, name: &str, path: &Path);
    /// Where each answered request is reported, if anywhere.
    fn request_log(&self) -> RequestLog;
    /// The server stopped.
    fn stopped(&self, summary: &ServeSummary);
}

/// What to serve, where and how.
#[derive(Debug, Clone, Copy)]
pub struct Launch<'a> {
    /// The app's file.
    pub path: &'a Path,
    /// Its name in messages.
    pub name: &'a str,
    /// Where to listen.
    pub addr: SocketAddr,
    /// Grants, limits and bounds.
    pub settings: &'a ServeSettings,
    /// Which compiler.
    pub profile: Profile,
    /// Whether to use the compiled-code cache.
    pub cache: bool,
}

/// A server ready to run: its socket bound, its app loaded.
pub struct Started {
    /// The runtime its app was loaded into (reloads load into it too).
    pub runtime: Runtime,
    /// The server.
    pub server: Server,
    /// Its bound socket.
    pub listener: TcpListener,
}

/// Binds, loads and tells `observer` where it listens: [`Started::run`] then serves.
pub fn start(launch: &Launch, observer: &dyn Observer) -> Result<Started, RunError> {
    let addr = launch.addr;
    // Bound first: a busy port is refused before seconds of compiling, and the address the
    // banner prints is one that answers.
    let listener = TcpListener::bind(addr).map_err(|e| {
        RunError::Environment(format!(
            "cannot listen on {addr}: {e}; choose another address with --addr or [serve] addr (port 0 picks a free one)"
        ))
    })?;
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: if launch.cache {
            crate::run::default_cache_dir()
        } else {
            None
        },
        pool: Some(Pool {
            instances: u32::try_from(launch.settings.max_concurrency).unwrap_or(u32::MAX),
            max_memory: launch.settings.run.max_memory,
        }),
        profile: launch.profile,
        functions: Vec::new(),
    })?;
    let app = load(&runtime, launch.path, launch.name, observer)?;
    let server = Server::new(&app, launch.settings, observer.request_log())?;
    observer.listening(
        listener.local_addr().unwrap_or(addr),
        launch.name,
        launch.path,
    );
    Ok(Started {
        runtime,
        server,
        listener,
    })
}

impl Started {
    /// Serves until SIGINT or SIGTERM, then lets requests in flight finish.
    pub fn run(self, observer: &dyn Observer) -> Result<ServeSummary, RunError> {
        let summary = self
            .server
            .run(&self.runtime, self.listener, super::signals())?;
        observer.stopped(&summary);
        Ok(summary)
    }
}

/// [`start`], then [`Started::run`].
pub fn serve_app(launch: &Launch, observer: &dyn Observer) -> Result<ServeSummary, RunError> {
    start(launch, observer)?.run(observer)
}

/// Loads the app at `path` into `runtime`, telling `observer` when it must be compiled first.
/// Whether it is an HTTP app is the server's to judge ([`Server::new`],
/// [`super::Reloader::replace`]).
pub fn load(
    runtime: &Runtime,
    path: &Path,
    name: &str,
    observer: &dyn Observer,
) -> Result<App, RunError> {
    let shown = crate::run::shown_app(path, name);
    let app = runtime.load_notify(path, name, Entry::Http, &|compiling| {
        observer.compiling(&shown, compiling)
    })?;
    observer.loaded(&app);
    Ok(app)
}
