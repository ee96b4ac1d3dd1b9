//! Binding, the accept loop with its graceful stop, and [`Server`], the handle on a running
//! simulator. Binding comes first ([`Bound::bind`]) because a simulator needs its base URL (for
//! the `url` fields of its answers) before it can build its state.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

use crate::{
    admin, api::SimApi, clock::Clock, error::SimError, faults::Faults, pipeline, state::SimState,
    stats::KitStats,
};

/// Binds 127.0.0.1:`port` (0 = any free port), creates the kit's state with `faults`, builds the
/// simulator with `make(base_url, clock)` (the account's clock, to share with its store) and
/// serves it on the current tokio runtime: what every simulator's `start` does.
pub async fn launch<A: SimApi>(
    port: u16,
    faults: Faults,
    make: impl FnOnce(&str, Clock) -> A,
) -> Result<Server<A>, SimError> {
    let bound = Bound::bind(port)
        .await
        .map_err(|source| SimError::Bind { port, source })?;
    let state = Arc::new(SimState::new(faults));
    let api = Arc::new(make(bound.base_url(), state.clock().clone()));
    Ok(bound.serve(state, api))
}

/// A listening socket on 127.0.0.1, not yet serving.
#[derive(Debug)]
pub struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
    base_url: String,
}

impl Bound {
    /// Binds 127.0.0.1:`port` (0 = any free port).
    pub async fn bind(port: u16) -> std::io::Result<Bound> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        Ok(Bound {
            listener,
            addr,
            base_url: format!("http://{addr}"),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Serves `api` with the kit's `state` on the current tokio runtime (call it inside one)
    /// until [`Server::shutdown`].
    pub fn serve<A: SimApi>(self, state: Arc<SimState>, api: Arc<A>) -> Server<A> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            self.listener,
            state.clone(),
            api.clone(),
            stop_rx,
        ));
        tracing::info!(sim = api.name(), base_url = %self.base_url, "Simulator listening.");
        Server {
            state,
            api,
            addr: self.addr,
            base_url: self.base_url,
            stop: Arc::new(stop_tx),
            task: Arc::new(Mutex::new(Some(task))),
        }
    }
}

/// A running simulator. Cheap to clone; every method except [`shutdown`](Self::shutdown) is
/// synchronous.
pub struct Server<A> {
    state: Arc<SimState>,
    api: Arc<A>,
    addr: SocketAddr,
    base_url: String,
    stop: Arc<watch::Sender<bool>>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl<A> Clone for Server<A> {
    fn clone(&self) -> Self {
        Server {
            state: self.state.clone(),
            api: self.api.clone(),
            addr: self.addr,
            base_url: self.base_url.clone(),
            stop: self.stop.clone(),
            task: self.task.clone(),
        }
    }
}

impl<A> std::fmt::Debug for Server<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl<A: SimApi> Server<A> {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The simulator.
    pub fn api(&self) -> &Arc<A> {
        &self.api
    }

    /// The kit's state (faults, clock, counters).
    pub fn state(&self) -> &Arc<SimState> {
        &self.state
    }

    /// The common counters.
    pub fn stats(&self) -> KitStats {
        self.state.stats()
    }

    /// The current faults (with `next` counters as they stand).
    pub fn faults(&self) -> Faults {
        self.state.faults()
    }

    /// Replaces the faults (and reseeds the RNG).
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    /// Stops the account's clock at `at` (unix seconds), or lets it run with `None`.
    pub fn set_clock(&self, at: Option<i64>) {
        self.state.clock().set(at);
    }

    /// As `POST /__sim/reset`: the simulator's [`SimApi::reset`], then faults, counters and clock.
    pub fn reset(&self) {
        admin::reset(&self.state, &*self.api);
    }

    /// Stops accepting, closes connections, then calls [`SimApi::shutdown`].
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap().take();
        if let Some(t) = task {
            let _ = t.await;
        }
        self.api.shutdown();
    }
}

async fn accept_loop<A: SimApi>(
    listener: TcpListener,
    state: Arc<SimState>,
    api: Arc<A>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (state, api) = (state.clone(), api.clone());
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        pipeline::handle(state.clone(), api.clone(), req)
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
        while conns.try_join_next().is_some() {}
    }
    conns.abort_all();
}
