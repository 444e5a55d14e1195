//! The host side of one run or request: WASI (and wasi:http) built from the grants and nothing
//! else, and the limiter.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::RunError;
use crate::settings::{HttpOrigin, RunSettings};

/// How much of a guest's stdout and stderr is kept when captured (beyond it, writes fail).
const CAPTURE_LIMIT: usize = 64 << 20;

/// Tables may hold this many elements in all: generous for real programs, a bound for hostile
/// ones (a table element costs the host 8 bytes or more).
const MAX_TABLE_ELEMENTS: usize = 10_000_000;

/// The store's data: WASI state and the limiter.
pub(crate) struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: HttpGrants,
    pub(crate) limits: Limits,
    /// How long instantiation took, once it is done.
    pub(crate) instantiated: Option<Duration>,
    /// The instances of an app run as its parts, providers first (see `parts.rs`).
    pub(crate) parts: Vec<wasmtime::component::Instance>,
    /// The part a failure happened in, for an app run as its parts.
    pub(crate) failed_in: Option<String>,
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The error a deadline raises inside the guest, recognised when the run ends.
#[derive(Debug, thiserror::Error)]
#[error("the deadline passed")]
pub(crate) struct DeadlinePassed;

/// Which limit refused a request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LimitHit {
    /// Linear memory: the total the guest asked for.
    Memory { requested: u64 },
    /// Table elements: the total the guest asked for.
    Table { requested: usize },
}

/// Bounds the guest's linear memory in total across all its memories (a composed app has one
/// per language), and its tables.
pub(crate) struct Limits {
    max_memory: u64,
    used_memory: u64,
    used_table: usize,
    /// The growth approved last, taken back if wasmtime then fails it (a memory's own maximum).
    pending_memory: u64,
    pending_table: usize,
    pub(crate) hit: Option<LimitHit>,
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let requested = self.used_memory + (desired - current) as u64;
        if requested > self.max_memory {
            self.hit = Some(LimitHit::Memory { requested });
            // Trapping (rather than letting `memory.grow` return -1) stops a guest at once;
            // most guests abort on a failed allocation anyway, less clearly.
            return Err(wasmtime::format_err!("memory limit reached"));
        }
        self.used_memory = requested;
        self.pending_memory = (desired - current) as u64;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.used_memory -= std::mem::take(&mut self.pending_memory);
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let requested = self.used_table + (desired - current);
        if requested > MAX_TABLE_ELEMENTS {
            self.hit = Some(LimitHit::Table { requested });
            return Err(wasmtime::format_err!("table limit reached"));
        }
        self.used_table = requested;
        self.pending_table = desired - current;
        Ok(true)
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.used_table -= std::mem::take(&mut self.pending_table);
        Ok(())
    }
}

/// The captured streams of a run, read once it ends.
pub(crate) struct Captured(Option<(MemoryOutputPipe, MemoryOutputPipe)>);

impl Captured {
    /// Nothing captured.
    pub(crate) fn none() -> Captured {
        Captured(None)
    }

    pub(crate) fn take(self) -> (Vec<u8>, Vec<u8>) {
        match self.0 {
            Some((out, err)) => (out.contents().to_vec(), err.contents().to_vec()),
            None => (Vec::new(), Vec::new()),
        }
    }
}

/// A run's grants made ready once: variables read, addresses resolved. A server builds every
/// request's WASI context from one of these, without touching the host again.
#[derive(Clone)]
pub(crate) struct Grants {
    env: Vec<(String, String)>,
    dirs: Vec<crate::settings::DirGrant>,
    net: Option<Arc<[SocketAddr]>>,
    http: HttpGrants,
}

impl Grants {
    /// What `settings` grant, checked and resolved.
    pub(crate) fn prepare(settings: &RunSettings) -> Result<Grants, RunError> {
        // Each variable once: an explicit value wins over the host's.
        let mut env: Vec<(String, String)> = Vec::new();
        for key in &settings.env_inherit {
            // A variable the host does not have is simply absent for the guest too.
            if let Ok(value) = std::env::var(key) {
                env.push((key.clone(), value));
            }
        }
        for (key, value) in &settings.env {
            env.retain(|(k, _)| k != key);
            env.push((key.clone(), value.clone()));
        }
        let net = if settings.allow_net.is_empty() {
            None
        } else {
            Some(resolve_addresses(&settings.allow_net)?.into())
        };
        Ok(Grants {
            env,
            dirs: settings.dirs.clone(),
            net,
            http: HttpGrants {
                allowed: settings.allow_http.clone().into(),
            },
        })
    }
}

/// Where a guest's standard streams go, decided per store.
pub(crate) enum Streams<'a> {
    /// weld's own.
    Inherit,
    /// Stdin from these bytes, the rest captured.
    Capture(&'a [u8]),
    /// No stdin; stdout and stderr to weld's (a server's guests).
    Output,
}

impl Host {
    /// WASI with exactly what `grants` allow, `args` after the program name, and `max_memory`.
    pub(crate) fn new(
        grants: &Grants,
        args: &[String],
        streams: Streams<'_>,
        max_memory: u64,
    ) -> Result<(Host, Captured), RunError> {
        let mut wasi = WasiCtxBuilder::new();
        // The program name guests see as argv[0], like a shell would pass it.
        wasi.arg("main");
        wasi.args(args);
        let captured = match streams {
            Streams::Inherit => {
                wasi.inherit_stdio();
                Captured(None)
            }
            Streams::Capture(stdin) => {
                let out = MemoryOutputPipe::new(CAPTURE_LIMIT);
                let err = MemoryOutputPipe::new(CAPTURE_LIMIT);
                wasi.stdin(MemoryInputPipe::new(stdin.to_vec()))
                    .stdout(out.clone())
                    .stderr(err.clone());
                Captured(Some((out, err)))
            }
            Streams::Output => {
                wasi.inherit_stdout().inherit_stderr();
                Captured(None)
            }
        };
        wasi.envs(&grants.env);
        for dir in &grants.dirs {
            let perms = if dir.read_only {
                FsPerms::ReadOnly
            } else {
                FsPerms::ReadWrite
            };
            wasi.preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| RunError::Grant {
                    what: format!("directory {}", dir.host.display()),
                    message: format!("{e:#}"),
                })?;
        }
        if let Some(allowed) = &grants.net {
            let allowed = allowed.clone();
            wasi.allow_tcp(true)
                .allow_udp(true)
                // Name lookup lets a guest write `localhost:8080`; where it may connect is
                // still only the granted addresses. (Lookups themselves reach the host's
                // resolver: granting any address grants that, as docs/run.md says.)
                .allow_ip_name_lookup(true)
                .socket_addr_check(move |addr: SocketAddr, usage: SocketAddrUse| {
                    let ok = socket_allowed(&allowed, addr, usage);
                    Box::pin(async move { ok })
                });
        }
        let host = Host {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: grants.http.clone(),
            limits: Limits {
                max_memory,
                used_memory: 0,
                used_table: 0,
                pending_memory: 0,
                pending_table: 0,
                hit: None,
            },
            instantiated: None,
            parts: Vec::new(),
            failed_in: None,
        };
        Ok((host, captured))
    }
}

/// Outgoing HTTP for a guest: sent only to the granted origins; anything else fails inside the
/// guest with `HTTP-request-denied`, before a connection is made.
#[derive(Clone)]
pub(crate) struct HttpGrants {
    allowed: Arc<[HttpOrigin]>,
}

impl WasiHttpHooks for HttpGrants {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        drop(fut);
        let allowed = self.allowed.iter().any(|o| o.allows(request.uri()));
        Box::new(async move {
            if !allowed {
                return Err(HttpError::HttpRequestDenied);
            }
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// Whether a guest may use `addr` so: connect or send only to a granted address; bind or listen
/// only on one, except the wildcard bind to an ephemeral port that every outgoing connection
/// makes implicitly (a listener on it still needs its actual address granted).
fn socket_allowed(allowed: &[SocketAddr], addr: SocketAddr, usage: SocketAddrUse) -> bool {
    match usage {
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
            (addr.ip().is_unspecified() && addr.port() == 0) || allowed.contains(&addr)
        }
        // Clients reach only listeners that passed the listen check.
        SocketAddrUse::TcpAccept => true,
        _ => allowed.contains(&addr),
    }
}

/// The socket addresses `--allow-net HOST:PORT` names, resolved once before the guest starts.
fn resolve_addresses(allow: &[String]) -> Result<Vec<SocketAddr>, RunError> {
    use std::net::ToSocketAddrs;
    let mut out = Vec::new();
    for entry in allow {
        let addrs = entry.to_socket_addrs().map_err(|e| RunError::Grant {
            what: format!("address {entry}"),
            message: format!("cannot resolve it: {e}"),
        })?;
        out.extend(addrs);
    }
    Ok(out)
}
