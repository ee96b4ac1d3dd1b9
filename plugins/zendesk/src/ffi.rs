//! The FFI face of the plugin: [`ZendeskTicketsystemService`] implements the ABI-stable
//! [`TicketSystemService`] trait by running [`ZendeskClient`] on the service's own tokio runtime.
//!
//! Why a runtime per service: the plugin's tokio is a private copy that cannot see the host's
//! reactor, so the plugin must drive its own I/O. Each method spawns its work there and hands the
//! host a future that merely awaits the task; dropping that future aborts the task.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString, RVec},
};
use otai_plugin_api::{
    guard, BatchOutcome, BatchUpdate, ErrorKind, ExportPage, ExportRequest, HostContextRef,
    LogLevel, Note, PluginError, PluginInfo, RequestStats, SearchQuery, ServiceFuture, ServiceInfo,
    ServiceKind, Ticket, TicketSystemBox, TicketSystemService, TicketSystemService_TO,
    TicketUpdate,
};
use tokio::{runtime::Runtime, task::JoinHandle};

use crate::{client::ZendeskClient, log::Logger};

/// The plugin's name, used before the colon in `use: otai_zendesk:ZendeskTicketsystemService`.
pub const PLUGIN_NAME: &str = "otai_zendesk";
/// The service's name, used after the colon.
pub const SERVICE_NAME: &str = "ZendeskTicketsystemService";
const WORKER_THREADS: usize = 2;

/// What the plugin says about itself (the root module's `info`).
pub extern "C" fn info() -> PluginInfo {
    // A panic here must not unwind into the host; `info` has no error channel, so fall back to a
    // minimal description.
    std::panic::catch_unwind(plugin_info).unwrap_or_else(|_| PluginInfo {
        name: PLUGIN_NAME.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        services: RVec::new(),
    })
}

fn plugin_info() -> PluginInfo {
    PluginInfo {
        name: PLUGIN_NAME.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        services: vec![ServiceInfo {
            name: SERVICE_NAME.into(),
            kind: ServiceKind::TICKET_SYSTEM,
            description: "Zendesk Support: search, read and update tickets, add internal notes, export the ticket history"
                .into(),
        }]
        .into(),
    }
}

/// The root module's constructor: validates the params and builds an independent service.
/// Never touches the network.
pub extern "C" fn new_ticket_system(
    service: RStr<'_>,
    params_json: RStr<'_>,
    host: HostContextRef,
) -> RResult<TicketSystemBox, PluginError> {
    guard::catch_panic("new_ticket_system", || {
        if service.as_str() != SERVICE_NAME {
            return RResult::RErr(PluginError::new(
                ErrorKind::CONFIG,
                format!(
                    "plugin {PLUGIN_NAME} has no service `{}`; available services: {SERVICE_NAME}",
                    service.as_str()
                ),
            ));
        }
        match ZendeskTicketsystemService::from_params_json(params_json.as_str(), Logger::host(host))
        {
            Ok(svc) => {
                host.emit(
                    LogLevel::Debug,
                    "otai_zendesk::ffi",
                    &format!("Created {SERVICE_NAME} for {}.", svc.client.base_url()),
                );
                RResult::ROk(TicketSystemService_TO::from_value(svc, TD_Opaque))
            }
            Err(e) => RResult::RErr(e),
        }
    })
}

/// One configured Zendesk account behind the ABI: a [`ZendeskClient`] and the runtime that
/// drives it. Instances share nothing.
pub struct ZendeskTicketsystemService {
    client: Arc<ZendeskClient>,
    runtime: Option<Runtime>,
}

impl ZendeskTicketsystemService {
    /// Builds the service from its params JSON; local only.
    pub fn from_params_json(params_json: &str, log: Logger) -> Result<Self, PluginError> {
        let client = ZendeskClient::from_params_json(params_json, log)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("otai-zendesk")
            .enable_all()
            .build()
            .map_err(|e| {
                PluginError::new(
                    ErrorKind::CONFIG,
                    format!("cannot start the plugin's runtime: {e}"),
                )
            })?;
        Ok(ZendeskTicketsystemService {
            client: Arc::new(client),
            runtime: Some(runtime),
        })
    }

    /// The client, for Rust callers that hold the concrete type.
    pub fn client(&self) -> &Arc<ZendeskClient> {
        &self.client
    }

    /// Spawns `work` on the service's runtime and returns an FFI future awaiting it.
    fn spawn<T, F, Fut>(&self, operation: &'static str, work: F) -> ServiceFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<ZendeskClient>) -> Fut,
        Fut: Future<Output = Result<T, PluginError>> + Send + 'static,
    {
        let spawned = guard::catch_panic(operation, || match &self.runtime {
            Some(rt) => RResult::ROk(AbortOnDrop(rt.spawn(work(self.client.clone())))),
            None => RResult::RErr(PluginError::new(
                ErrorKind::TRANSPORT,
                format!("{operation}: the service is shutting down"),
            )),
        });
        guard::guarded(operation, async move {
            let handle = match spawned {
                RResult::ROk(handle) => handle,
                RResult::RErr(e) => return RResult::RErr(e),
            };
            match handle.await {
                Ok(Ok(value)) => RResult::ROk(value),
                Ok(Err(e)) => RResult::RErr(e),
                Err(join) if join.is_panic() => {
                    RResult::RErr(guard::panicked(operation, join.into_panic().as_ref()))
                }
                Err(_) => RResult::RErr(PluginError::new(
                    ErrorKind::TRANSPORT,
                    format!("{operation}: the task was cancelled"),
                )),
            }
        })
    }
}

impl Drop for ZendeskTicketsystemService {
    fn drop(&mut self) {
        // Dropping a Runtime from async context panics; shutdown_background never blocks.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for ZendeskTicketsystemService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZendeskTicketsystemService")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl TicketSystemService for ZendeskTicketsystemService {
    fn find_tickets(&self, query: SearchQuery) -> ServiceFuture<RVec<Ticket>> {
        self.spawn("find_tickets", move |c| async move {
            c.find_tickets(&query).await.map(RVec::from)
        })
    }

    fn find_first_ticket(&self, query: SearchQuery) -> ServiceFuture<ROption<Ticket>> {
        self.spawn("find_first_ticket", move |c| async move {
            c.find_first_ticket(&query).await.map(ROption::from)
        })
    }

    fn get_ticket(&self, id: RString) -> ServiceFuture<ROption<Ticket>> {
        self.spawn("get_ticket", move |c| async move {
            c.get_ticket(&id).await.map(ROption::from)
        })
    }

    fn update_ticket(&self, id: RString, update: TicketUpdate) -> ServiceFuture<Ticket> {
        self.spawn("update_ticket", move |c| async move {
            c.update_ticket(&id, &update).await
        })
    }

    fn add_note(&self, id: RString, note: Note) -> ServiceFuture<()> {
        self.spawn(
            "add_note",
            move |c| async move { c.add_note(&id, &note).await },
        )
    }

    fn check_connection(&self) -> ServiceFuture<RString> {
        self.spawn("check_connection", move |c| async move {
            c.check_connection().await.map(RString::from)
        })
    }

    fn update_tickets(&self, updates: RVec<BatchUpdate>) -> ServiceFuture<RVec<BatchOutcome>> {
        self.spawn("update_tickets", move |c| async move {
            c.update_tickets(&updates).await.map(RVec::from)
        })
    }

    fn export_tickets(&self, request: ExportRequest) -> ServiceFuture<ExportPage> {
        self.spawn("export_tickets", move |c| async move {
            c.export_tickets(&request).await
        })
    }

    fn request_stats(&self) -> ROption<RequestStats> {
        // No error channel: a panic (there is none to expect from atomics) reads as "not counted".
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.client.request_stats()))
            .ok()
            .into()
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
