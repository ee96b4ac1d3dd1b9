//! The FFI face of an adapter: [`AdapterService`] implements the plugin interface's
//! `TicketSystemService` by running a [`TicketSystemAdapter`] on the service's own tokio runtime.
//!
//! Why a runtime per service: the plugin's tokio is a private copy that cannot see the host's
//! reactor, so the plugin drives its own I/O. Each method spawns its work there and hands the
//! host a future that merely awaits the task; dropping that future aborts the task, which drops
//! the adapter's future and with it any request in flight. A panic, in the synchronous part or
//! while the task runs, becomes an error of kind `panicked`: it never unwinds into the host.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use otai_plugin_api::{
    self as ffi,
    abi_stable::{
        sabi_trait::TD_Opaque,
        std_types::{ROption, RResult, RString, RVec},
    },
    guard, PluginResult, ServiceFuture,
};
use tokio::{runtime::Runtime, task::JoinHandle};

use crate::{
    adapter::TicketSystemAdapter,
    convert,
    error::{Error, ErrorKind},
};

const WORKER_THREADS: usize = 2;

/// An adapter behind the plugin interface, with the runtime that drives it.
pub struct AdapterService<A: TicketSystemAdapter> {
    adapter: Arc<A>,
    runtime: Option<Runtime>,
}

impl<A: TicketSystemAdapter> AdapterService<A> {
    /// Starts the service's runtime (threads named after `plugin`). Local only.
    pub fn new(adapter: A, plugin: &str) -> Result<AdapterService<A>, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name(plugin.to_string())
            .enable_all()
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!("cannot start the plugin's runtime: {e}"),
                )
            })?;
        Ok(AdapterService {
            adapter: Arc::new(adapter),
            runtime: Some(runtime),
        })
    }

    /// The adapter, for Rust callers that hold the concrete type.
    pub fn adapter(&self) -> &Arc<A> {
        &self.adapter
    }

    /// The service as the trait object the host holds, as a loaded plugin would hand it over
    /// (for tests that exercise the glue without a `.so`).
    pub fn into_ffi(self) -> ffi::TicketSystemBox {
        ffi::TicketSystemService_TO::from_value(self, TD_Opaque)
    }

    /// Spawns `work` on the service's runtime and returns an FFI future awaiting it.
    fn spawn<T, F, Fut>(&self, operation: &'static str, work: F) -> ServiceFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<A>) -> Fut,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let spawned = guard::catch_panic(operation, || match &self.runtime {
            Some(rt) => RResult::ROk(AbortOnDrop(rt.spawn(work(self.adapter.clone())))),
            None => RResult::RErr(convert::error_to_ffi(&Error::new(
                ErrorKind::Transport,
                format!("{operation}: the service is shutting down"),
            ))),
        });
        guard::guarded(operation, async move {
            let handle = match spawned {
                RResult::ROk(handle) => handle,
                RResult::RErr(e) => return RResult::RErr(e),
            };
            match handle.await {
                Ok(Ok(value)) => RResult::ROk(value),
                Ok(Err(e)) => RResult::RErr(convert::error_to_ffi(&e)),
                Err(join) if join.is_panic() => {
                    RResult::RErr(guard::panicked(operation, join.into_panic().as_ref()))
                }
                Err(_) => RResult::RErr(convert::error_to_ffi(&Error::new(
                    ErrorKind::Transport,
                    format!("{operation}: the task was cancelled"),
                ))),
            }
        })
    }
}

/// A request the host sent that does not convert (JSON text that is not JSON).
fn invalid_request(operation: &str, problem: String) -> Error {
    Error::new(ErrorKind::Validation, format!("{operation}: {problem}"))
}

impl<A: TicketSystemAdapter> Drop for AdapterService<A> {
    fn drop(&mut self) {
        // Dropping a Runtime from async context panics; shutdown_background never blocks.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl<A: TicketSystemAdapter + std::fmt::Debug> std::fmt::Debug for AdapterService<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterService")
            .field("adapter", &self.adapter)
            .finish_non_exhaustive()
    }
}

fn tickets_to_ffi(tickets: &[crate::Ticket]) -> RVec<ffi::Ticket> {
    tickets.iter().map(convert::ticket_to_ffi).collect()
}

impl<A: TicketSystemAdapter> ffi::TicketSystemService for AdapterService<A> {
    fn find_tickets(&self, query: ffi::SearchQuery) -> ServiceFuture<RVec<ffi::Ticket>> {
        let query = convert::search_query_from_ffi(query);
        self.spawn("find_tickets", move |a| async move {
            Ok(tickets_to_ffi(&a.find_tickets(&query).await?))
        })
    }

    fn find_first_ticket(&self, query: ffi::SearchQuery) -> ServiceFuture<ROption<ffi::Ticket>> {
        let query = convert::search_query_from_ffi(query);
        self.spawn("find_first_ticket", move |a| async move {
            let found = a.find_first_ticket(&query).await?;
            Ok(found.as_ref().map(convert::ticket_to_ffi).into())
        })
    }

    fn get_ticket(&self, id: RString) -> ServiceFuture<ROption<ffi::Ticket>> {
        self.spawn("get_ticket", move |a| async move {
            let found = a.get_ticket(&id).await?;
            Ok(found.as_ref().map(convert::ticket_to_ffi).into())
        })
    }

    fn update_ticket(&self, id: RString, update: ffi::TicketUpdate) -> ServiceFuture<ffi::Ticket> {
        let update = convert::update_from_ffi(update, &id);
        self.spawn("update_ticket", move |a| async move {
            let update = update.map_err(|p| invalid_request("update_ticket", p))?;
            Ok(convert::ticket_to_ffi(
                &a.update_ticket(&id, &update).await?,
            ))
        })
    }

    fn add_note(&self, id: RString, note: ffi::Note) -> ServiceFuture<()> {
        let note = convert::note_from_ffi(note);
        self.spawn(
            "add_note",
            move |a| async move { a.add_note(&id, &note).await },
        )
    }

    fn check_connection(&self) -> ServiceFuture<RString> {
        self.spawn("check_connection", move |a| async move {
            a.check_connection().await.map(RString::from)
        })
    }

    fn update_tickets(
        &self,
        updates: RVec<ffi::BatchUpdate>,
    ) -> ServiceFuture<RVec<ffi::BatchOutcome>> {
        let updates = convert::batch_from_ffi(updates);
        self.spawn("update_tickets", move |a| async move {
            let updates = updates.map_err(|p| invalid_request("update_tickets", p))?;
            Ok(convert::outcomes_to_ffi(&a.update_tickets(&updates).await?))
        })
    }

    fn request_stats(&self) -> ROption<ffi::RequestStats> {
        // No error channel: a panic reads as "not counted".
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.adapter.request_stats()
        }))
        .ok()
        .flatten()
        .map(convert::request_stats_to_ffi)
        .into()
    }

    fn export_tickets(&self, request: ffi::ExportRequest) -> ServiceFuture<ffi::ExportPage> {
        let request = convert::export_request_from_ffi(request);
        self.spawn("export_tickets", move |a| async move {
            Ok(convert::export_page_to_ffi(
                &a.export_tickets(&request).await?,
            ))
        })
    }

    fn find_tickets_page(
        &self,
        query: ffi::SearchQuery,
        cursor: ROption<RString>,
    ) -> ServiceFuture<ffi::TicketPage> {
        let query = convert::search_query_from_ffi(query);
        let cursor = cursor.into_option().map(RString::into_string);
        self.spawn("find_tickets_page", move |a| async move {
            let page = a.find_tickets_page(&query, cursor.as_deref()).await?;
            Ok(convert::ticket_page_to_ffi(&page))
        })
    }

    fn ticket_state(&self, status: RString, tags: RVec<RString>) -> ffi::TicketState {
        let tags: Vec<String> = tags.into_iter().map(RString::into_string).collect();
        // No error channel: a panic reads as "unknown".
        let state = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.adapter.ticket_state(&status, &tags)
        }))
        .unwrap_or_default();
        convert::state_to_ffi(state)
    }

    fn verify_webhook(&self, request: ffi::WebhookRequest) -> PluginResult<ffi::WebhookEvent> {
        let request = convert::webhook_request_from_ffi(request);
        let verified = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.adapter.verify_webhook(&request)
        }));
        match verified {
            Ok(Ok(event)) => RResult::ROk(convert::webhook_event_to_ffi(&event)),
            Ok(Err(err)) => RResult::RErr(convert::error_to_ffi(&err)),
            Err(_) => RResult::RErr(ffi::PluginError::new(
                ffi::ErrorKind::PANICKED,
                "verify_webhook panicked; the delivery was not accepted",
            )),
        }
    }
}

/// A JoinHandle that aborts its task when dropped, so that a host dropping the `FfiFuture`
/// (a timeout, a cancelled pipeline) also stops the HTTP work.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
