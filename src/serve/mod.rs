//! Serving a wasi:http app: HTTP/1.1 and h2c on one socket, a fresh instance per request from
//! a pre-instantiated component, the run's grants and limits applied to every request.
//!
//! The stage after compose for HTTP apps. [`serve`] takes a [`Runtime`] (whose engine should
//! use a [`crate::run::Pool`] sized for [`ServeSettings::max_concurrency`]), an [`App`] it
//! loaded, and a bound listener; it returns when `shutdown` resolves and the requests in flight
//! have finished, or the grace period has passed.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::sync::{Semaphore, oneshot};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::project::RunSettings;
use crate::run::host::{DeadlinePassed, Grants, Host, Streams};
use crate::run::{App, Limit, RunError, Runtime, Status};

pub use crate::project::{
    DEFAULT_GRACE, DEFAULT_MAX_BODY, DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_SERVE_ADDR, ServeConfig, ServeSettings,
};

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// One answered request, for the request log.
#[derive(Debug)]
pub struct RequestRecord {
    /// The request method.
    pub method: http::Method,
    /// The request path (without the query).
    pub path: String,
    /// The response status.
    pub status: u16,
    /// From the request's arrival to the response's head.
    pub elapsed: Duration,
    /// Why the guest failed, if it did (the status is then weld's, not the guest's).
    pub failure: Option<RunError>,
}

/// Where request records go; `None` formats nothing.
pub type RequestLog = Option<Arc<dyn Fn(&RequestRecord) + Send + Sync>>;

/// How serving ended.
#[derive(Debug, Clone, Copy)]
pub struct ServeSummary {
    /// Requests answered.
    pub requests: u64,
    /// Connections still open when the grace period ran out (0 after a clean shutdown).
    pub cut_off: usize,
}

/// What every request's handler shares.
struct Shared {
    name: String,
    pre: ProxyPre<Host>,
    engine: wasmtime::Engine,
    grants: Grants,
    run: RunSettings,
    max_body: u64,
    requests: Arc<Semaphore>,
    log: RequestLog,
    served: std::sync::atomic::AtomicU64,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets requests
/// in flight finish within the grace period and returns. An error means the app cannot serve
/// (it is not an HTTP app, a grant cannot be made) and no request was answered.
pub fn serve(
    runtime: &Runtime,
    app: &App,
    settings: &ServeSettings,
    listener: std::net::TcpListener,
    log: RequestLog,
    shutdown: impl Future<Output = ()>,
) -> Result<ServeSummary, RunError> {
    let pre = app.proxy().ok_or_else(|| RunError::NotHttp {
        name: app.name.clone(),
    })?;
    let shared = Arc::new(Shared {
        name: app.name.clone(),
        pre,
        engine: runtime.engine().clone(),
        grants: Grants::prepare(&settings.run)?,
        run: settings.run.clone(),
        max_body: settings.max_body,
        requests: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
        log,
        served: Default::default(),
    });
    let connections = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let grace = settings.grace;
    runtime.tokio().block_on(async move {
        listener
            .set_nonblocking(true)
            .map_err(|e| RunError::Environment(format!("cannot use the listening socket: {e}")))?;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| RunError::Environment(format!("cannot use the listening socket: {e}")))?;
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(u32::try_from(settings.max_concurrency).unwrap_or(u32::MAX));
        let builder = Arc::new(builder);
        tokio::pin!(shutdown);
        loop {
            // A connection slot first: when all are taken, new clients wait in the backlog.
            let slot = tokio::select! {
                slot = connections.clone().acquire_owned() => slot,
                () = &mut shutdown => break,
            };
            let Ok(slot) = slot else { break };
            let (stream, _peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    // A client that went away before accept, or a full file table: the next
                    // accept may work; yield rather than spin.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let shared = shared.clone();
            let service = service_fn(move |req| handle(shared.clone(), req));
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                // A client's protocol error ends its own connection only.
                let _ = conn.await;
                drop(slot);
            });
        }
        drop(listener);
        let open = graceful.count();
        let cut_off = match tokio::time::timeout(grace, graceful.shutdown()).await {
            Ok(()) => 0,
            Err(_) => open,
        };
        Ok(ServeSummary {
            requests: shared.served.load(std::sync::atomic::Ordering::Relaxed),
            cut_off,
        })
    })
}

/// Waits for SIGINT or SIGTERM: what stops a server.
pub async fn signals() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

type Response = hyper::Response<HyperOutgoingBody>;

/// Answers one request: a fresh instance of the app in its own store, bounded by the request
/// deadline and the memory limit. Whatever the guest does, the client gets a response.
async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<Response, Infallible> {
    let start = Instant::now();
    // Only what the log needs, and only when there is a log.
    let head = shared
        .log
        .as_ref()
        .map(|_| (req.method().clone(), req.uri().path().to_string()));
    let (response, failure) = respond(&shared, req, start, &head).await;
    shared
        .served
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let (Some(log), Some((method, path))) = (&shared.log, head) {
        log(&RequestRecord {
            method,
            path,
            status: response.status().as_u16(),
            elapsed: start.elapsed(),
            failure,
        });
    }
    Ok(response)
}

async fn respond(
    shared: &Arc<Shared>,
    req: hyper::Request<Incoming>,
    start: Instant,
    head: &Option<(http::Method, String)>,
) -> (Response, Option<RunError>) {
    // A body declared larger than the limit is refused before any instance is made.
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_body) {
        return (
            plain(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large\n",
            ),
            None,
        );
    }
    let Ok(permit) = shared.requests.clone().acquire_owned().await else {
        return (
            plain(http::StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
            None,
        );
    };
    let max_body = usize::try_from(shared.max_body).unwrap_or(usize::MAX);
    let req = req.map(|body| {
        Limited::new(body, max_body).map_err(|e| match e.downcast::<hyper::Error>() {
            Ok(e) => wasmtime_wasi_http::Error::from(*e),
            Err(_) => wasmtime_wasi_http::Error::HttpRequestBodySize(None),
        })
    });

    let (host, _) = match Host::new(&shared.grants, &[], Streams::Output, shared.run.max_memory) {
        Ok(host) => host,
        Err(e) => return (internal_error(), Some(e)),
    };
    let mut store = Store::new(&shared.engine, host);
    store.limiter(|host| &mut host.limits);
    let deadline = start + shared.run.timeout;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Err(wasmtime::Error::new(DeadlinePassed))
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    let (sender, receiver) = oneshot::channel();
    let resources = (|| -> wasmtime::Result<_> {
        let mut http = store.data_mut().http();
        let req = http.new_incoming_request(Scheme::Http, req)?;
        let out = http.new_response_outparam(sender)?;
        Ok((req, out))
    })();
    let (req, out) = match resources {
        Ok(r) => r,
        // The only request wasi:http refuses to represent: one with no authority at all.
        Err(_) => {
            return (
                plain(http::StatusCode::BAD_REQUEST, "the request names no host\n"),
                None,
            );
        }
    };

    let pre = shared.pre.clone();
    let timeout = deadline.saturating_duration_since(Instant::now());
    let guest = tokio::spawn(async move {
        let _permit = permit;
        let call = async {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, req, out)
                .await
        };
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(wasmtime::Error::new(DeadlinePassed)),
        };
        let hit = store.data().limits.hit.clone();
        (result, hit)
    });

    match receiver.await {
        Ok(Ok(response)) => {
            // The guest may still be writing the body; if it fails now, the body is cut short
            // and the log says why.
            let shared = shared.clone();
            let head = head.clone();
            let status = response.status().as_u16();
            tokio::spawn(async move {
                if let Ok((Err(e), hit)) = guest.await {
                    let stopped = crate::run::classify(&e, hit, &shared.run);
                    if let (Some(log), Some((method, path)), Some(failure)) =
                        (&shared.log, head, RunError::stopped(&shared.name, &stopped))
                    {
                        log(&RequestRecord {
                            method,
                            path,
                            status,
                            elapsed: start.elapsed(),
                            failure: Some(failure),
                        });
                    }
                }
            });
            (response, None)
        }
        Ok(Err(code)) => (
            internal_error(),
            Some(RunError::Environment(format!(
                "`{}` answered with an error instead of a response: {code:?}",
                shared.name
            ))),
        ),
        // The guest ended without setting a response: it failed, or it forgot.
        Err(_) => match guest.await {
            Ok((Ok(()), _)) => (
                internal_error(),
                Some(RunError::Environment(format!(
                    "`{}` returned without sending a response",
                    shared.name
                ))),
            ),
            Ok((Err(e), hit)) => {
                let status = crate::run::classify(&e, hit, &shared.run);
                let code = match &status {
                    Status::Limit(Limit::Deadline(_)) => http::StatusCode::GATEWAY_TIMEOUT,
                    Status::Limit(Limit::Memory { .. } | Limit::Table { .. }) => {
                        http::StatusCode::SERVICE_UNAVAILABLE
                    }
                    _ => http::StatusCode::INTERNAL_SERVER_ERROR,
                };
                let failure = RunError::stopped(&shared.name, &status).unwrap_or_else(|| {
                    RunError::Environment(format!("`{}` failed: {e:#}", shared.name))
                });
                (plain(code, reason(code)), Some(failure))
            }
            Err(join) => (
                internal_error(),
                Some(RunError::internal(format!(
                    "the request's task failed: {join}"
                ))),
            ),
        },
    }
}

/// What a client is told when the app failed: the status only; the details are in the log,
/// not sent to a client that may be anyone.
fn reason(code: http::StatusCode) -> &'static str {
    match code {
        http::StatusCode::GATEWAY_TIMEOUT => "the app did not answer in time\n",
        http::StatusCode::SERVICE_UNAVAILABLE => "the app ran out of memory\n",
        _ => "the app failed\n",
    }
}

fn internal_error() -> Response {
    plain(
        http::StatusCode::INTERNAL_SERVER_ERROR,
        reason(http::StatusCode::INTERNAL_SERVER_ERROR),
    )
}

fn plain(code: http::StatusCode, text: &'static str) -> Response {
    let body = Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = code;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Whether the component at `path` is an HTTP app: it exports `wasi:http/incoming-handler`
/// 0.2 (read from its export section, without compiling it).
pub fn is_http_app(path: &std::path::Path) -> std::io::Result<bool> {
    let bytes = crate::fsutil::read_file(path)?;
    Ok(crate::check::sections::top_level(&bytes)
        .filter_map(Result::ok)
        .any(|(_, payload)| match payload {
            wasmparser::Payload::ComponentExportSection(exports) => exports
                .into_iter()
                .filter_map(Result::ok)
                .any(|e| e.name.name.starts_with("wasi:http/incoming-handler@0.2.")),
            _ => false,
        }))
}

/// The server of a single component outside a project: loopback, nothing granted, default
/// limits.
pub fn defaults() -> ServeConfig {
    ServeConfig {
        addr: DEFAULT_SERVE_ADDR,
        settings: ServeSettings {
            run: crate::run::grants::defaults(),
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_body: DEFAULT_MAX_BODY,
            grace: DEFAULT_GRACE,
        },
    }
}
