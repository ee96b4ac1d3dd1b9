//! Where a plugin's code runs: on threads of its own, never on the host's.
//!
//! Plugin timeouts are otherwise cooperative: a future that blocks inside `poll` (or a method
//! that blocks before returning its future) holds the thread polling it, and `tokio::time::timeout`
//! never gets to fire. So every service call starts and is polled on the service's own
//! single-worker runtime ([`PluginThread::start`]); the host awaits the result with its timeout
//! and, when that passes, gives up on the call (the task is aborted; if the plugin's thread is
//! blocked, the thread stays blocked, is reported, and later calls fail at once while it is).
//! Synchronous plugin calls (`request_stats`, `ticket_state`) run on that runtime's blocking
//! pool and are waited for at most [`SYNC_CALL_LIMIT`]; after one that never returned, the
//! service answers them without asking the plugin (no counters, states by status name).

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use otai_plugin_api::{async_ffi::FfiFuture, TicketSystemBox};
use tokio::{runtime::Runtime, task::JoinHandle};

/// The longest a synchronous plugin call (which must return at once) is waited for.
pub const SYNC_CALL_LIMIT: Duration = Duration::from_secs(5);
/// How long a stalled plugin thread is given to show it is alive again before a call fails.
const LIVENESS_WAIT: Duration = Duration::from_millis(200);

/// A plugin service and the threads its code runs on.
pub(crate) struct PluginThread {
    inner: Arc<TicketSystemBox>,
    runtime: Option<Runtime>,
    /// An async call was abandoned and the worker did not answer a liveness check since.
    stalled: AtomicBool,
    /// A synchronous call never returned: later ones are not made.
    sync_stalled: AtomicBool,
}

impl PluginThread {
    /// Starts the service's runtime: one worker thread named after the plugin.
    pub fn new(plugin: &str, inner: TicketSystemBox) -> std::io::Result<PluginThread> {
        // The plugin logs through the host context from these threads: to the creator's subscriber.
        let dispatch = tracing::dispatcher::get_default(|d| d.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(4)
            .thread_name(format!("plugin-{plugin}"))
            .on_thread_start(move || {
                // Kept for the thread's life.
                std::mem::forget(tracing::dispatcher::set_default(&dispatch));
            })
            .enable_all()
            .build()?;
        Ok(PluginThread {
            inner: Arc::new(inner),
            runtime: Some(runtime),
            stalled: AtomicBool::new(false),
            sync_stalled: AtomicBool::new(false),
        })
    }

    fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().expect("present until drop")
    }

    /// Starts `call` on the plugin's thread: the method call that makes the future and every poll
    /// of it happen there. The returned handle aborts the call when dropped.
    pub fn start<R: Send + 'static>(
        &self,
        call: impl FnOnce(&TicketSystemBox) -> FfiFuture<R> + Send + 'static,
    ) -> Running<R> {
        let inner = self.inner.clone();
        Running(self.runtime().spawn(async move { call(&inner).await }))
    }

    /// Whether the plugin's worker can take a call: false while an abandoned call still blocks
    /// it (checked with a no-op task).
    pub async fn is_responsive(&self) -> bool {
        if !self.stalled.load(Ordering::Relaxed) {
            return true;
        }
        let alive = self.worker_answers().await;
        if alive {
            self.stalled.store(false, Ordering::Relaxed);
        }
        alive
    }

    /// After a call was abandoned: whether the worker is blocked (then later calls fail at once).
    pub async fn check_after_timeout(&self) -> bool {
        let alive = self.worker_answers().await;
        self.stalled.store(!alive, Ordering::Relaxed);
        !alive
    }

    /// Whether the worker runs a no-op task within [`LIVENESS_WAIT`].
    async fn worker_answers(&self) -> bool {
        tokio::time::timeout(LIVENESS_WAIT, self.runtime().spawn(async {}))
            .await
            .is_ok()
    }

    /// A synchronous plugin call, waited for at most [`SYNC_CALL_LIMIT`]; `None` if it did not
    /// return (or an earlier one never did).
    pub fn sync<R: Send + 'static>(
        &self,
        call: impl FnOnce(&TicketSystemBox) -> R + Send + 'static,
    ) -> Option<R> {
        if self.sync_stalled.load(Ordering::Relaxed) {
            return None;
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let inner = self.inner.clone();
        self.runtime().spawn_blocking(move || {
            let _ = tx.send(call(&inner));
        });
        match rx.recv_timeout(SYNC_CALL_LIMIT) {
            Ok(answer) => Some(answer),
            Err(_) => {
                self.sync_stalled.store(true, Ordering::Relaxed);
                None
            }
        }
    }
}

impl Drop for PluginThread {
    fn drop(&mut self) {
        // Never waits for a blocked plugin thread (and may be dropped on an async runtime).
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A call running on the plugin's thread; dropping it aborts the call (the plugin's future is
/// dropped there, which cancels its work).
pub(crate) struct Running<R>(JoinHandle<R>);

impl<R> Future for Running<R> {
    type Output = Result<R, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<R> Drop for Running<R> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
