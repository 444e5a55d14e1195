//! Serving a wasi:http app (WASI 0.2's `incoming-handler` or 0.3's `handler`, chosen per app as
//! wasmtime serve does): HTTP/1.1 and h2c on one socket, a fresh instance per request from a
//! pre-instantiated component, the run's grants and limits applied to every request.
//!
//! The stage after compose for HTTP apps. A [`Server`] takes a [`Runtime`] (whose engine should
//! use a [`crate::run::Pool`] sized for [`ServeSettings::max_concurrency`]) and an [`App`] it
//! loaded; [`Server::run`] serves a bound listener until `shutdown` resolves and the requests in
//! flight have finished (or the grace period has passed), while a [`Reloader`] may swap in a new
//! version of the app. [`exchange`] answers one request in process, for HTTP tests.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::sync::{Notify, Semaphore, oneshot};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::run::host::{Captured, DeadlinePassed, Grants, Host, LimitHit, Streams};
use crate::run::{App, Handler, Limit, RunError, Runtime, Status};
use crate::settings::RunSettings;

mod launch;
mod reuse;

pub use crate::settings::{
    DEFAULT_GRACE, DEFAULT_MAX_BODY, DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_SERVE_ADDR, ServeConfig, ServeSettings,
};
pub use launch::{Launch, Observer, Started, load, serve_app, start};

/// How long a request computes before it starts yielding its thread to others at every epoch
/// tick.
const YIELD_AFTER: Duration = Duration::from_millis(50);

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

/// What every request's handler shares: one version of the app, and what all versions share
/// (the bound on requests at once, the log, the count).
#[derive(Clone)]
struct Shared {
    name: String,
    pre: Handler,
    engine: wasmtime::Engine,
    grants: Grants,
    run: RunSettings,
    max_body: u64,
    requests: Arc<Semaphore>,
    log: RequestLog,
    served: Arc<std::sync::atomic::AtomicU64>,
    /// Capture the guest's stdout and stderr (a test) rather than pass them through.
    capture: bool,
    /// Requests per instance and at once per instance; (1, _) is a fresh instance each.
    reuse: (usize, usize),
    /// The reused instances' workers, when instances are reused.
    workers: Option<reuse::Workers>,
}

/// A server of one app on one listener, whose app can be replaced while it serves.
pub struct Server {
    slot: Arc<RwLock<Arc<Shared>>>,
    settings: ServeSettings,
}

/// Replaces a [`Server`]'s app: requests that arrive afterwards go to the new version, requests
/// in flight finish on the one they started on. Cloneable and usable from any thread.
#[derive(Clone)]
pub struct Reloader {
    slot: Arc<RwLock<Arc<Shared>>>,
}

impl Server {
    /// A server of `app` with `settings`, each answered request reported to `log`. An error
    /// means the app cannot serve: it is not an HTTP app, or a grant cannot be made.
    pub fn new(app: &App, settings: &ServeSettings, log: RequestLog) -> Result<Server, RunError> {
        let mut shared = Shared::new(
            app,
            &settings.run,
            settings.max_body,
            settings.max_concurrency,
            log,
            false,
        )?;
        shared.reuse = (settings.instance_reuse, settings.instance_concurrency);
        shared.workers = shared.workers();
        Ok(Server {
            slot: Arc::new(RwLock::new(Arc::new(shared))),
            settings: settings.clone(),
        })
    }

    /// A handle that replaces the app being served.
    pub fn reloader(&self) -> Reloader {
        Reloader {
            slot: self.slot.clone(),
        }
    }

    /// Serves on `listener` until `shutdown` resolves; then stops accepting, lets requests in
    /// flight finish within the grace period and returns.
    pub fn run(
        &self,
        runtime: &Runtime,
        listener: std::net::TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<ServeSummary, RunError> {
        let settings = &self.settings;
        let slot = self.slot.clone();
        let served = current(&slot).served.clone();
        let connections = Arc::new(Semaphore::new(settings.max_connections.max(1)));
        let grace = settings.grace;
        runtime.tokio().block_on(async move {
            listener.set_nonblocking(true).map_err(|e| {
                RunError::Environment(format!("cannot use the listening socket: {e}"))
            })?;
            let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| {
                RunError::Environment(format!("cannot use the listening socket: {e}"))
            })?;
            let graceful = hyper_util::server::graceful::GracefulShutdown::new();
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_concurrent_streams(
                    u32::try_from(settings.max_concurrency).unwrap_or(u32::MAX),
                );
            let builder = Arc::new(builder);
            tokio::pin!(shutdown);
            loop {
                // A connection slot first: when all are taken, new clients wait in the backlog.
                let connection = tokio::select! {
                    connection = connections.clone().acquire_owned() => connection,
                    () = &mut shutdown => break,
                };
                let Ok(connection) = connection else { break };
                let (stream, _peer) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        // A client that went away before accept, or a full file table: the
                        // next accept may work; yield rather than spin.
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                    () = &mut shutdown => break,
                };
                let _ = stream.set_nodelay(true);
                let slot = slot.clone();
                // Each request takes the version current when it arrives.
                let service = service_fn(move |req| handle(current(&slot), req));
                let conn = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    // A client's protocol error ends its own connection only.
                    let _ = conn.await;
                    drop(connection);
                });
            }
            drop(listener);
            let open = graceful.count();
            let cut_off = match tokio::time::timeout(grace, graceful.shutdown()).await {
                Ok(()) => 0,
                Err(_) => open,
            };
            Ok(ServeSummary {
                requests: served.load(std::sync::atomic::Ordering::Relaxed),
                cut_off,
            })
        })
    }
}

impl Reloader {
    /// Serves `app` from now on, with the same grants and limits. An error (it is not an HTTP
    /// app) leaves the current version serving.
    pub fn replace(&self, app: &App) -> Result<(), RunError> {
        let pre = app.handler()?;
        let mut next = Shared {
            name: app.name.clone(),
            pre,
            // A dev runtime may compile one version with Winch and the next with Cranelift.
            engine: app.engine().clone(),
            ..(*current(&self.slot)).clone()
        };
        // The old version's workers hold its instances; the new one gets its own.
        next.workers = next.workers();
        *self.slot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        Ok(())
    }
}

fn current(slot: &RwLock<Arc<Shared>>) -> Arc<Shared> {
    slot.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Serves `app` on `listener` until `shutdown` resolves: [`Server::new`], then [`Server::run`].
pub fn serve(
    runtime: &Runtime,
    app: &App,
    settings: &ServeSettings,
    listener: std::net::TcpListener,
    log: RequestLog,
    shutdown: impl Future<Output = ()>,
) -> Result<ServeSummary, RunError> {
    Server::new(app, settings, log)?.run(runtime, listener, shutdown)
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

/// How a guest's request ended: `Ok` when `handle` returned, else the error and the limit that
/// stopped it.
type GuestEnd = (wasmtime::Result<()>, Option<LimitHit>);

/// What [`respond`] produced: the response for the client; why the app failed, when the
/// response is weld's; the guest, when it may still be writing the body; its captured output.
struct Answer {
    response: Response,
    /// Whether `response` is the app's own (not weld's 4xx/5xx on its behalf).
    from_app: bool,
    failure: Option<RunError>,
    guest: Option<tokio::task::JoinHandle<GuestEnd>>,
    captured: Captured,
}

impl Answer {
    fn weld(response: Response, failure: Option<RunError>) -> Answer {
        Answer {
            response,
            from_app: false,
            failure,
            guest: None,
            captured: Captured::none(),
        }
    }
}

/// Whether the client still waits for a request's answer. It leaves when hyper drops the
/// request's future (the connection closed before the response) or the response's body before
/// its end; then the guest answering it is stopped at once rather than at its deadline, and its
/// request slot is freed.
#[derive(Clone, Default)]
struct Client(Arc<(AtomicBool, Notify)>);

impl Client {
    fn leave(&self) {
        self.0.0.store(true, Ordering::Release);
        self.0.1.notify_waiters();
    }

    fn is_gone(&self) -> bool {
        self.0.0.load(Ordering::Acquire)
    }

    /// Resolves once the client has left.
    async fn gone(&self) {
        loop {
            let notified = self.0.1.notified();
            tokio::pin!(notified);
            // Registered before the check, so that a leave in between is not missed.
            notified.as_mut().enable();
            if self.is_gone() {
                return;
            }
            notified.await;
        }
    }
}

/// Tells its client it left when dropped while still holding it.
struct LeaveOnDrop(Option<Client>);

impl Drop for LeaveOnDrop {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            client.leave();
        }
    }
}

/// The error a guest is stopped with when its client has left.
#[derive(Debug, thiserror::Error)]
#[error("the client closed the connection")]
struct ClientGone;

/// The status the request log gives a request whose client left before the response (nginx's
/// "client closed request"); no client ever sees it.
const CLIENT_CLOSED: u16 = 499;

/// A response body that tells its client it left when dropped before its end.
struct Watched {
    body: HyperOutgoingBody,
    /// Until the body has ended.
    client: Option<Client>,
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && !hyper::body::Body::is_end_stream(&self.body)
        {
            client.leave();
        }
    }
}

impl hyper::body::Body for Watched {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let frame = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            // Sent in full: nobody left.
            self.client = None;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Answers one request: a fresh instance of the app in its own store, bounded by the request
/// deadline and the memory limit. Whatever the guest does, the client gets a response.
async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<Response, Infallible> {
    let client = Client::default();
    let mut leaves = LeaveOnDrop(Some(client.clone()));
    // On a task of its own, so that a request whose client left (and whose future hyper
    // dropped) still ends, frees its slot and is logged.
    let response = tokio::spawn(answer(shared, req, client))
        .await
        .unwrap_or_else(|_| internal_error());
    // From here the body watches the client.
    leaves.0 = None;
    Ok(response)
}

/// [`respond`], counted and logged, with the body watched for a client that leaves.
async fn answer(shared: Arc<Shared>, req: hyper::Request<Incoming>, client: Client) -> Response {
    let start = Instant::now();
    // Only what the log needs, and only when there is a log.
    let head = shared
        .log
        .as_ref()
        .map(|_| (req.method().clone(), req.uri().path().to_string()));
    let answer = respond(&shared, req, start, &client).await;
    shared.served.fetch_add(1, Ordering::Relaxed);
    let status = match &answer.failure {
        Some(RunError::Abandoned { .. }) => CLIENT_CLOSED,
        _ => answer.response.status().as_u16(),
    };
    if let (Some(log), Some((method, path))) = (&shared.log, &head) {
        log(&RequestRecord {
            method: method.clone(),
            path: path.clone(),
            status,
            elapsed: start.elapsed(),
            failure: answer.failure,
        });
    }
    // The guest may still be writing the body; if it fails now (or its client leaves), the
    // body is cut short and the log says why.
    if let (Some(guest), Some((method, path))) = (answer.guest, head) {
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Ok((Err(e), hit)) = guest.await
                && let Some(log) = &shared.log
            {
                log(&RequestRecord {
                    method,
                    path,
                    status,
                    elapsed: start.elapsed(),
                    failure: Some(shared.failure(&e, hit)),
                });
            }
        });
    }
    answer.response.map(|body| {
        HyperOutgoingBody::new(Watched {
            body,
            client: Some(client),
        })
    })
}

impl Shared {
    /// One version of `app`, serving with `run`'s grants and limits, bodies up to `max_body`
    /// and `concurrency` requests at once.
    fn new(
        app: &App,
        run: &RunSettings,
        max_body: u64,
        concurrency: usize,
        log: RequestLog,
        capture: bool,
    ) -> Result<Shared, RunError> {
        Ok(Shared {
            name: app.name.clone(),
            pre: app.handler()?,
            engine: app.engine().clone(),
            grants: Grants::prepare(run)?,
            run: run.clone(),
            max_body,
            requests: Arc::new(Semaphore::new(concurrency.max(1))),
            log,
            served: Default::default(),
            capture,
            reuse: (1, 1),
            workers: None,
        })
    }

    /// Workers that reuse instances of this version, when its settings reuse them.
    fn workers(&self) -> Option<reuse::Workers> {
        let (reuse, concurrency) = self.reuse;
        (reuse > 1).then(|| {
            reuse::Workers::new(
                &self.pre,
                &self.engine,
                &self.grants,
                self.run.max_memory,
                self.run.timeout,
                reuse,
                concurrency,
            )
        })
    }

    /// What a guest's error means, as a diagnostic that names the app.
    fn failure(&self, e: &wasmtime::Error, hit: Option<LimitHit>) -> RunError {
        if e.downcast_ref::<ClientGone>().is_some() {
            return self.abandoned();
        }
        self.stopped(&crate::run::classify(e, hit, &self.run), e)
    }

    fn abandoned(&self) -> RunError {
        RunError::Abandoned {
            name: self.name.clone(),
        }
    }

    /// [`RunError::stopped`] for `status`, which `e` ended the guest with.
    fn stopped(&self, status: &Status, e: &wasmtime::Error) -> RunError {
        RunError::stopped(&self.name, status)
            .unwrap_or_else(|| RunError::Environment(format!("`{}` failed: {e:#}", self.name)))
    }
}

async fn respond<B>(
    shared: &Arc<Shared>,
    req: hyper::Request<B>,
    start: Instant,
    client: &Client,
) -> Answer
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // A body declared larger than the limit is refused before any instance is made.
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_body) {
        return Answer::weld(
            plain(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large\n",
            ),
            None,
        );
    }
    // A client that leaves while its request waits for a slot never takes one.
    let permit = tokio::select! {
        permit = shared.requests.clone().acquire_owned() => permit,
        () = client.gone() => {
            return Answer::weld(internal_error(), Some(shared.abandoned()));
        }
    };
    let Ok(permit) = permit else {
        return Answer::weld(
            plain(http::StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
            None,
        );
    };
    let max_body = usize::try_from(shared.max_body).unwrap_or(usize::MAX);
    let req = req.map(|body| {
        Limited::new(body, max_body)
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(e) => wasmtime_wasi_http::Error::from(*e),
                Err(_) => wasmtime_wasi_http::Error::HttpRequestBodySize(None),
            })
            .boxed_unsync()
    });
    match &shared.workers {
        Some(workers) => {
            let answer = reused(shared, workers, req).await;
            drop(permit);
            answer
        }
        None => fresh(shared, req, start, client, permit).await,
    }
}

/// Answers an admitted request (`permit` holds its slot) in a fresh instance of its own, whose
/// store is dropped before the slot is given up.
async fn fresh(
    shared: &Arc<Shared>,
    req: http::Request<wasmtime_wasi_http::WasiBody>,
    start: Instant,
    client: &Client,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Answer {
    let streams = if shared.capture {
        Streams::Capture(&[])
    } else {
        Streams::Output
    };
    let deadline = start + shared.run.timeout;
    let (mut store, captured) = match new_store(
        &shared.engine,
        &shared.grants,
        streams,
        shared.run.max_memory,
        deadline,
        client.clone(),
    ) {
        Ok(store) => store,
        Err(e) => return Answer::weld(internal_error(), Some(e)),
    };
    let (input, receiver) = match input(&shared.pre, &mut store, req) {
        Ok(made) => made,
        Err(answer) => return *answer,
    };
    let timeout = deadline.saturating_duration_since(Instant::now());
    let watching = client.clone();
    let guest = tokio::spawn(async move {
        let call = async {
            match input {
                Input::P2 { pre, req, out } => {
                    let proxy = pre.instantiate_async(&mut store).await?;
                    proxy
                        .wasi_http_incoming_handler()
                        .call_handle(&mut store, req, out)
                        .await
                }
                Input::P3 {
                    pre,
                    req,
                    io,
                    sender,
                } => {
                    let service = pre.instantiate_async(&mut store).await?;
                    store
                        .run_concurrent(async |store| {
                            serve_p3(&service, store, req, io, sender).await
                        })
                        .await?
                }
            }
        };
        // A guest computing is stopped by its epoch callback; one waiting in the host (a
        // sleep, an outgoing request) by dropping the call.
        let result = tokio::select! {
            result = tokio::time::timeout(timeout, call) => match result {
                Ok(result) => result,
                Err(_) => Err(wasmtime::Error::new(DeadlinePassed)),
            },
            () = watching.gone() => Err(wasmtime::Error::new(ClientGone)),
        };
        let hit = store.data().limits.hit.clone();
        // The instance goes back to the pool before the slot is given up: the pool holds
        // one instance per slot, so the next request would otherwise find it still taken.
        drop(store);
        drop(permit);
        (result, hit)
    });

    let (response, failure, guest) = outcome(shared, receiver, guest).await;
    Answer {
        from_app: failure.is_none(),
        response,
        failure,
        guest,
        captured,
    }
}

/// What the client gets from a fresh instance's handler: its response, or weld's answer for why
/// there is none; and the guest while it may still be writing the body.
async fn outcome(
    shared: &Shared,
    receiver: Receiver,
    guest: tokio::task::JoinHandle<GuestEnd>,
) -> (
    Response,
    Option<RunError>,
    Option<tokio::task::JoinHandle<GuestEnd>>,
) {
    match receiver.recv().await {
        Ok(Ok(response)) => (response, None, Some(guest)),
        Ok(Err(code)) => (
            internal_error(),
            Some(RunError::Environment(format!(
                "`{}` answered with an error instead of a response: {code}",
                shared.name
            ))),
            Some(guest),
        ),
        // The guest ended without setting a response: it failed, or it forgot.
        Err(_) => match guest.await {
            Ok((Ok(()), _)) => (
                internal_error(),
                Some(RunError::Environment(format!(
                    "`{}` returned without sending a response",
                    shared.name
                ))),
                None,
            ),
            Ok((Err(e), _)) if e.downcast_ref::<ClientGone>().is_some() => {
                (internal_error(), Some(shared.abandoned()), None)
            }
            Ok((Err(e), hit)) => {
                let status = crate::run::classify(&e, hit, &shared.run);
                let code = status_code(&status);
                (
                    plain(code, reason(code)),
                    Some(shared.stopped(&status, &e)),
                    None,
                )
            }
            Err(join) => (
                internal_error(),
                Some(RunError::internal(format!(
                    "the request's task failed: {join}"
                ))),
                None,
            ),
        },
    }
}

/// The request as `pre`'s handler takes it, made in `store`, and where its response will
/// arrive; weld's own answer when wasi:http cannot represent the request.
fn input(
    pre: &Handler,
    store: &mut Store<Host>,
    req: http::Request<wasmtime_wasi_http::WasiBody>,
) -> Result<(Input, Receiver), Box<Answer>> {
    Ok(match pre {
        Handler::P2(pre) => {
            let (sender, receiver) = oneshot::channel();
            let resources = (|| -> wasmtime::Result<_> {
                let mut http = store.data_mut().http();
                let req = http.new_incoming_request(Scheme::Http, req)?;
                let out = http.new_response_outparam(sender)?;
                Ok((req, out))
            })();
            match resources {
                Ok((req, out)) => (
                    Input::P2 {
                        pre: pre.clone(),
                        req,
                        out,
                    },
                    Receiver::P2(receiver),
                ),
                // The only request wasi:http refuses to represent: one with no authority.
                Err(_) => {
                    return Err(Box::new(Answer::weld(
                        plain(http::StatusCode::BAD_REQUEST, "the request names no host\n"),
                        None,
                    )));
                }
            }
        }
        Handler::P3(pre) => {
            let (sender, receiver) = oneshot::channel();
            let hooks = store.data_mut().http().hooks;
            let (req, io) = wasmtime_wasi_http::p3::Request::from_http(hooks, req);
            (
                Input::P3 {
                    pre: pre.clone(),
                    req,
                    io: Box::pin(io),
                    sender,
                },
                Receiver::P3(receiver),
            )
        }
    })
}

/// Answers a request on a reused instance ([`reuse`]): the response as the worker gives it, or
/// weld's answer when the guest failed (the deadline 504, a trap 500).
async fn reused(
    shared: &Shared,
    workers: &reuse::Workers,
    req: http::Request<wasmtime_wasi_http::WasiBody>,
) -> Answer {
    use wasmtime_wasi_http::handler::{ExpirationError, InstantiationError, TrapOrPanicError};
    let start = Instant::now();
    let e = match workers.handle(req).await {
        Ok(response) => {
            return Answer {
                response,
                from_app: true,
                failure: None,
                guest: None,
                captured: Captured::none(),
            };
        }
        Err(e) => e,
    };
    // A worker dropped with its requests past their deadline (one computing may keep the
    // request's own expiry from being polled) fails them all: that is the deadline too.
    let past = start.elapsed() >= shared.run.timeout;
    let e = if e.downcast_ref::<ExpirationError>().is_some()
        || (past && e.downcast_ref::<TrapOrPanicError>().is_some())
    {
        wasmtime::Error::new(DeadlinePassed)
    } else {
        e
    };
    if let Some(failed) = e.downcast_ref::<InstantiationError<()>>() {
        return Answer::weld(
            plain(
                http::StatusCode::SERVICE_UNAVAILABLE,
                reason(http::StatusCode::SERVICE_UNAVAILABLE),
            ),
            Some(RunError::Environment(format!(
                "cannot make an instance of `{}`: {:#}",
                shared.name, failed.error
            ))),
        );
    }
    if e.downcast_ref::<TrapOrPanicError>().is_some() {
        return Answer::weld(
            internal_error(),
            Some(RunError::Environment(format!(
                "the instance of `{}` answering this request failed (with the other requests it was answering)",
                shared.name
            ))),
        );
    }
    let status = crate::run::classify(&e, None, &shared.run);
    let code = status_code(&status);
    Answer::weld(plain(code, reason(code)), Some(shared.stopped(&status, &e)))
}

/// weld's answer for a guest that ended as `status` without a response: 504 at the deadline,
/// 503 at the memory or table limit, else 500.
fn status_code(status: &Status) -> http::StatusCode {
    match status {
        Status::Limit(Limit::Deadline(_)) => http::StatusCode::GATEWAY_TIMEOUT,
        Status::Limit(Limit::Memory { .. } | Limit::Table { .. }) => {
            http::StatusCode::SERVICE_UNAVAILABLE
        }
        _ => http::StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A request as the app's handler takes it, with the handler.
enum Input {
    /// 0.2: the request and the outparam the response goes out through.
    P2 {
        pre: wasmtime_wasi_http::p2::bindings::ProxyPre<Host>,
        req: wasmtime::component::Resource<wasmtime_wasi_http::p2::types::HostIncomingRequest>,
        out: wasmtime::component::Resource<wasmtime_wasi_http::p2::types::HostResponseOutparam>,
    },
    /// 0.3: the request, the future that reports how reading its body went, and where the
    /// response goes.
    P3 {
        pre: wasmtime_wasi_http::p3::bindings::ServicePre<Host>,
        req: wasmtime_wasi_http::p3::Request,
        io: Pin<Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>>,
        sender: oneshot::Sender<Result<Response, String>>,
    },
}

/// Where a request's response arrives, by WASI release.
enum Receiver {
    P2(
        oneshot::Receiver<
            Result<Response, wasmtime_wasi_http::p2::bindings::http::types::ErrorCode>,
        >,
    ),
    P3(oneshot::Receiver<Result<Response, String>>),
}

impl Receiver {
    /// The response, or the error code the guest answered with instead; `Err` when the guest
    /// ended without either.
    async fn recv(self) -> Result<Result<Response, String>, oneshot::error::RecvError> {
        match self {
            Receiver::P2(r) => r.await.map(|r| r.map_err(|code| format!("{code:?}"))),
            Receiver::P3(r) => r.await,
        }
    }
}

/// Calls a 0.3 handler inside the store's event loop and sends its response on; then keeps the
/// loop running until the response's body has been sent (the guest writes it through a stream
/// the loop drives, often after `handle` has returned) or the client has stopped reading it.
async fn serve_p3(
    service: &wasmtime_wasi_http::p3::bindings::Service,
    store: &wasmtime::component::Accessor<Host>,
    req: wasmtime_wasi_http::p3::Request,
    io: Pin<Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>>,
    sender: oneshot::Sender<Result<Response, String>>,
) -> wasmtime::Result<()> {
    let response = match service.handle(store, req).await? {
        Ok(response) => response,
        Err(code) => {
            let _ = sender.send(Err(format!("{code:?}")));
            return Ok(());
        }
    };
    let response = store.with(|mut store| response.into_http(&mut store, io))?;
    let (done, sent) = oneshot::channel();
    let response = response.map(|body| {
        HyperOutgoingBody::new(Finished {
            body,
            done: Some(done),
        })
    });
    if sender.send(Ok(response)).is_ok() {
        // Fires when the body ends, fails or is dropped.
        let _ = sent.await;
    }
    Ok(())
}

/// A response body that says when it is over: at its end, at an error, or when dropped.
struct Finished {
    body: HyperOutgoingBody,
    /// Dropped when the body is over, which wakes the receiver.
    done: Option<oneshot::Sender<()>>,
}

impl hyper::body::Body for Finished {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let frame = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(frame, Poll::Ready(None | Some(Err(_)))) || self.body.is_end_stream() {
            self.done = None;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A request's store: WASI from `grants`, the memory limiter, and an epoch deadline at
/// `deadline`; the guest is stopped at the next epoch tick once `client` has left.
fn new_store(
    engine: &wasmtime::Engine,
    grants: &Grants,
    streams: Streams<'_>,
    max_memory: u64,
    deadline: Instant,
    client: Client,
) -> Result<(Store<Host>, Captured), RunError> {
    let (host, captured) = Host::new(grants, &[], streams, max_memory)?;
    let mut store = Store::new(engine, host);
    store.limiter(|host| &mut host.limits);
    let start = Instant::now();
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        let now = Instant::now();
        if now >= deadline {
            Err(wasmtime::Error::new(DeadlinePassed))
        } else if client.is_gone() {
            Err(wasmtime::Error::new(ClientGone))
        } else if now - start >= YIELD_AFTER {
            // A long request yields at every tick, so that it shares its thread with others.
            Ok(UpdateDeadline::Yield(1))
        } else {
            // A short one runs to its end: yielding it would only interleave requests and
            // lengthen every one of them.
            Ok(UpdateDeadline::Continue(1))
        }
    });
    Ok((store, captured))
}

/// A response an HTTP test got, or why the app gave none.
#[derive(Debug)]
pub struct Exchange {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The whole body.
    pub body: Vec<u8>,
    /// Why the app failed, if it did: then the status is weld's (500, 503, 504), or (when
    /// `from_app`) the app's body was cut short.
    pub failure: Option<RunError>,
    /// Whether the status and headers are the app's own.
    pub from_app: bool,
    /// What the guest wrote to stdout and stderr.
    pub stdout: Vec<u8>,
    /// See `stdout`.
    pub stderr: Vec<u8>,
    /// From the request to the end of the body.
    pub elapsed: Duration,
}

/// Sends `request` to `app` in process, with no socket: a fresh instance under `settings`'
/// grants, deadline and memory limit, exactly as a server would answer it. What HTTP
/// `[[test]]`s use.
pub fn exchange(
    runtime: &Runtime,
    app: &App,
    settings: &crate::settings::RunSettings,
    request: http::Request<Bytes>,
) -> Result<Exchange, RunError> {
    let shared = Arc::new(Shared::new(app, settings, u64::MAX, 1, None, true)?);
    let start = Instant::now();
    let timeout = settings.timeout;
    runtime.tokio().block_on(async move {
        // In process, nobody leaves.
        let answer = respond(&shared, request.map(Full::new), start, &Client::default()).await;
        let status = answer.response.status().as_u16();
        let from_app = answer.from_app;
        let (parts, body) = answer.response.into_parts();
        let remaining = (start + timeout).saturating_duration_since(Instant::now());
        // The body ends when the guest finishes writing it, or fails.
        let body = match tokio::time::timeout(remaining, body.collect()).await {
            Ok(Ok(collected)) => collected.to_bytes().to_vec(),
            Ok(Err(_)) | Err(_) => Vec::new(),
        };
        let mut failure = answer.failure;
        if let Some(guest) = answer.guest {
            let remaining = (start + timeout).saturating_duration_since(Instant::now());
            match tokio::time::timeout(remaining + Duration::from_secs(1), guest).await {
                Ok(Ok((Err(e), hit))) => failure = failure.or(Some(shared.failure(&e, hit))),
                Ok(_) => {}
                Err(_) => {
                    failure = failure.or(Some(
                        RunError::stopped(&shared.name, &Status::Limit(Limit::Deadline(timeout)))
                            .expect("a limit is a stop"),
                    ))
                }
            }
        }
        let (stdout, stderr) = answer.captured.take();
        Ok(Exchange {
            status,
            headers: parts.headers,
            body,
            failure,
            from_app,
            stdout,
            stderr,
            elapsed: start.elapsed(),
        })
    })
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

/// The cost of a fresh instance, as a request pays it: `n` times a store with the grants and
/// limits of `settings` and an instance of `app` in it, each timed and then dropped. What
/// benches/serve.sh reports beside the request rates.
pub fn instantiation_times(
    runtime: &Runtime,
    app: &App,
    settings: &RunSettings,
    n: usize,
) -> Result<Vec<Duration>, RunError> {
    let pre = app.handler()?;
    let grants = Grants::prepare(settings)?;
    let engine = app.engine().clone();
    runtime.tokio().block_on(async move {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let start = Instant::now();
            let (mut store, _) = new_store(
                &engine,
                &grants,
                Streams::Output,
                settings.max_memory,
                start + settings.timeout,
                Client::default(),
            )?;
            pre.instantiate_only(&mut store)
                .await
                .map_err(|e| RunError::Environment(format!("cannot instantiate: {e:#}")))?;
            times.push(start.elapsed());
        }
        Ok(times)
    })
}

/// Whether the component at `path` is an HTTP app: it exports `wasi:http/incoming-handler`
/// 0.2 or `wasi:http/handler` 0.3 (read from its export section, without compiling it).
pub fn is_http_app(path: &std::path::Path) -> std::io::Result<bool> {
    let bytes = crate::fsutil::read_file(path)?;
    Ok(crate::check::sections::top_level(&bytes)
        .filter_map(Result::ok)
        .any(|(_, payload)| match payload {
            wasmparser::Payload::ComponentExportSection(exports) => {
                exports.into_iter().filter_map(Result::ok).any(|e| {
                    e.name.name.starts_with("wasi:http/incoming-handler@0.2.")
                        || e.name.name.starts_with("wasi:http/handler@0.3.")
                })
            }
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
            instance_reuse: crate::settings::DEFAULT_INSTANCE_REUSE,
            instance_concurrency: crate::settings::DEFAULT_INSTANCE_CONCURRENCY,
        },
    }
}
