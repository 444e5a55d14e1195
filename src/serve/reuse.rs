//! Reused instances (`[serve] instance-reuse` above 1): one instance answers up to that many
//! requests before it is dropped, a WASI 0.3 one up to `instance-concurrency` of them at once,
//! as wasmtime serve does by default. wasmtime-wasi-http's `ProxyHandler` keeps the workers
//! (one store and instance each) and queues requests for them; this module gives it weld's
//! stores (the grants, the memory limiter) and weld's limits.
//!
//! What a request gives up for the speed (docs/serve.md): the instance's memory and state are
//! shared with the requests before and beside it; the memory limit bounds the instance, not
//! each request; a trap or a limit ends every request the instance is answering; a client that
//! leaves does not stop the guest's work for it. The deadline still holds per request: a
//! request past it is answered 504, and a worker whose requests are all past it is dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wasmtime::component::GuestTaskId;
use wasmtime::{Store, StoreContextMut, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, Proxy, ProxyHandler, ProxyPre, ShouldAccept, WorkerExpiration,
    WorkerState, WorkerStatus,
};

use crate::run::Handler;
use crate::run::host::{Grants, Host, Streams};

/// How long an idle reused instance is kept for the next request (wasmtime serve's default).
const IDLE: Duration = Duration::from_secs(1);

/// How long past its requests' deadline a busy worker is dropped.
const GRACE: Duration = Duration::from_millis(250);

/// The workers of one version of an app.
#[derive(Clone)]
pub(super) struct Workers(ProxyHandler<State>);

impl Workers {
    /// Workers for `handler`, each instance answering `reuse` requests, `concurrency` at once
    /// (one for a 0.2 handler), each with `grants`, the memory limit and the deadline.
    pub fn new(
        handler: &Handler,
        engine: &wasmtime::Engine,
        grants: &Grants,
        max_memory: u64,
        timeout: Duration,
        reuse: usize,
        concurrency: usize,
    ) -> Workers {
        let (pre, concurrency) = match handler {
            Handler::P2(pre) => (ProxyPre::P2(pre.clone()), 1),
            Handler::P3(pre) => (ProxyPre::P3(pre.clone()), concurrency.max(1)),
        };
        Workers(ProxyHandler::new(State {
            pre,
            engine: engine.clone(),
            grants: grants.clone(),
            max_memory,
            timeout,
            reuse: reuse.max(1),
            concurrency,
        }))
    }

    /// Answers `request` on a worker that accepts it (a new one when none does).
    pub async fn handle(
        &self,
        request: wasmtime_wasi_http::handler::Request,
    ) -> wasmtime::Result<wasmtime_wasi_http::handler::Response> {
        self.0.handle((), request).await
    }
}

struct State {
    pre: ProxyPre<Host>,
    engine: wasmtime::Engine,
    grants: Grants,
    max_memory: u64,
    timeout: Duration,
    reuse: usize,
    concurrency: usize,
}

impl HandlerState for State {
    type StoreData = Host;
    type WorkerExpiration = Expiry;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<Host, Expiry, Worker>> {
        let (host, _) = Host::new(&self.grants, &[], Streams::Output, self.max_memory)
            .map_err(wasmtime::Error::new)?;
        let mut store = Store::new(&self.engine, host);
        store.limiter(|host| &mut host.limits);
        // Every tick hands the thread back to the event loop, so that a request computing
        // forever cannot keep the worker from noticing the deadlines of all of its requests.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        let instance_deadline =
            tokio::time::timeout(self.timeout, self.pre.instantiate_async(&mut store));
        let proxy: Proxy = instance_deadline
            .await
            .map_err(|_| wasmtime::Error::new(crate::run::host::DeadlinePassed))??;
        Ok(Instance {
            store,
            proxy,
            view: WasiHttpView::http,
            expiration: Expiry {
                timeout: self.timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX)),
            },
            state: Worker {
                reuse: self.reuse,
                concurrency: self.concurrency,
                timeout: self.timeout,
            },
        })
    }
}

/// When a worker's instance is dropped: idle for [`IDLE`], or busy past the deadline of its
/// most recent request (then every request it holds is past its own).
struct Expiry {
    timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Expiry {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let wait = match status {
            WorkerStatus::Idle => IDLE,
            // A little after the deadline, so that the request's own expiry answers it first
            // when the event loop gets to poll it.
            WorkerStatus::Requests | WorkerStatus::PostReturn => self.timeout + GRACE,
        };
        let Some(deadline) = start.checked_add(wait) else {
            return Poll::Pending;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

struct Worker {
    reuse: usize,
    concurrency: usize,
    timeout: Duration,
}

impl WorkerState for Worker {
    type StoreData = Host;
    type RequestData = ();

    fn should_accept_request(&self, at_once: usize, answered: usize) -> ShouldAccept {
        if answered >= self.reuse {
            ShouldAccept::Never
        } else if at_once >= self.concurrency {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _store: StoreContextMut<'_, Host>,
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + 'static + Send + Sync>> {
        // The request's deadline: past it, its caller gets `ExpirationError`.
        Box::pin(tokio::time::sleep(self.timeout))
    }

    fn drop(&self, store: Store<Host>, _result: wasmtime::Result<()>) {
        // A failed worker's requests have their errors already; the store goes back to the
        // pool.
        drop(store);
    }
}
