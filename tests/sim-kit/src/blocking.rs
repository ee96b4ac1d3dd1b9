//! [`Blocking`]: a simulator on its own runtime thread, for synchronous tests (and for code that
//! must not share the test's runtime, such as a plugin's blocking client).

use std::future::Future;

/// A handle on a running simulator that can be stopped.
pub trait Stop: Clone + Send + 'static {
    /// Stops the simulator (what [`Blocking`] does when dropped).
    fn stop(&self) -> impl Future<Output = ()> + Send;
}

impl<A: crate::SimApi> Stop for crate::Server<A> {
    fn stop(&self) -> impl Future<Output = ()> + Send {
        self.shutdown()
    }
}

/// A simulator on its own single-worker runtime thread; derefs to its handle `H` and stops the
/// simulator and the thread when dropped.
pub struct Blocking<H: Stop> {
    handle: H,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<H: Stop> Blocking<H> {
    /// Runs `start` on a new thread's runtime and waits for the handle it gives (or its error).
    /// `E` must take an I/O error: the thread or the runtime may fail to start.
    pub fn start<E, F, Fut>(thread_name: &str, start: F) -> Result<Self, E>
    where
        E: From<std::io::Error> + Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<H, E>>,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(thread_name.to_string())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(E::from(e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    match start().await {
                        Ok(h) => {
                            let _ = tx.send(Ok(h.clone()));
                            let _ = stop_rx.await;
                            h.stop().await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        let handle = rx
            .recv()
            .map_err(|_| E::from(std::io::Error::other("simulator thread ended")))??;
        Ok(Blocking {
            handle,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl<H: Stop> std::ops::Deref for Blocking<H> {
    type Target = H;

    fn deref(&self) -> &H {
        &self.handle
    }
}

impl<H: Stop> Drop for Blocking<H> {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
