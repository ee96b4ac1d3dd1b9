//! [`ForeignTicketSystem`]: a plugin's ticket-system service behind the host's [`TicketSystem`]
//! trait, so that nothing past this module sees an ABI type.
//!
//! Every call is bounded by the configured `call_timeout`: a plugin that never answers is reported
//! as a `timeout` error of its ticket system and its future is dropped (the interface requires a
//! plugin to cancel its work then). Plugin errors, caught plugin panics and malformed answers all
//! become [`TicketSystemError`]s; none of them stops the host.

use std::{fmt, future::Future, time::Duration};

use abi_stable::std_types::{ROption, RResult, RString};
use otai_plugin_api::{PluginError, TicketSystemBox};

use super::convert;
use crate::ticket::{
    BoxFuture, ErrorKind, Note, SearchQuery, Ticket, TicketResult, TicketSystem, TicketSystemError,
    TicketUpdate,
};

/// A ticket system provided by a plugin. Must be used inside a tokio runtime with timers enabled.
pub struct ForeignTicketSystem {
    name: String,
    plugin: String,
    service: String,
    inner: TicketSystemBox,
    call_timeout: Duration,
}

impl fmt::Debug for ForeignTicketSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForeignTicketSystem")
            .field("name", &self.name)
            .field("plugin", &self.plugin)
            .field("service", &self.service)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

/// Whether a call that timed out may still have changed something.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Effect {
    Read,
    Write,
}

impl ForeignTicketSystem {
    /// Wraps a service the plugin `plugin` constructed as `service` for the ticket system `name`.
    pub fn new(
        name: &str,
        plugin: &str,
        service: &str,
        inner: TicketSystemBox,
        call_timeout: Duration,
    ) -> Self {
        ForeignTicketSystem {
            name: name.to_string(),
            plugin: plugin.to_string(),
            service: service.to_string(),
            inner,
            call_timeout,
        }
    }

    /// The plugin that provides this system.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The plugin's service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Awaits a plugin future under the call timeout and converts its answer.
    async fn call<R, T>(
        &self,
        operation: &'static str,
        effect: Effect,
        future: impl Future<Output = RResult<R, PluginError>>,
        convert: impl FnOnce(R) -> Result<T, String>,
    ) -> TicketResult<T> {
        let answer = match tokio::time::timeout(self.call_timeout, future).await {
            Ok(answer) => answer,
            Err(_) => {
                tracing::debug!(
                    system = %self.name,
                    plugin = %self.plugin,
                    operation,
                    timeout_secs = self.call_timeout.as_secs_f64(),
                    "A plugin call timed out and was abandoned."
                );
                return Err(self.timeout_error(operation, effect));
            }
        };
        match answer {
            RResult::ROk(value) => {
                convert(value).map_err(|problem| self.invalid_response(operation, problem))
            }
            RResult::RErr(err) => Err(convert::error_from_ffi(&self.name, err)),
        }
    }

    fn timeout_error(&self, operation: &str, effect: Effect) -> TicketSystemError {
        let mut message = format!(
            "plugin `{}` did not answer {operation} within {} s (call_timeout); the call was abandoned",
            self.plugin,
            format_secs(self.call_timeout)
        );
        if effect == Effect::Write {
            message.push_str(", and whether the change was applied is unknown");
        }
        TicketSystemError::new(&self.name, ErrorKind::Timeout, message)
    }

    fn invalid_response(&self, operation: &str, problem: String) -> TicketSystemError {
        tracing::debug!(system = %self.name, plugin = %self.plugin, operation, %problem, "A plugin returned an invalid answer.");
        TicketSystemError::new(
            &self.name,
            ErrorKind::InvalidResponse,
            format!(
                "plugin `{}` returned an invalid answer to {operation}: {problem}",
                self.plugin
            ),
        )
    }
}

fn format_secs(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs:.1}")
    }
}

/// The plugin must answer for the ticket it was asked about.
fn expect_id(asked: &str, ticket: Ticket) -> Result<Ticket, String> {
    if ticket.id == asked {
        Ok(ticket)
    } else {
        Err(format!(
            "asked for ticket {asked}, got ticket {}",
            ticket.id
        ))
    }
}

impl TicketSystem for ForeignTicketSystem {
    fn name(&self) -> &str {
        &self.name
    }

    fn find_tickets(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Vec<Ticket>>> {
        let limit = query.limit;
        let future = self.inner.find_tickets(convert::search_query_to_ffi(query));
        Box::pin(
            self.call("find_tickets", Effect::Read, future, move |tickets| {
                let mut tickets = tickets
                    .into_iter()
                    .map(convert::ticket_from_ffi)
                    .collect::<Result<Vec<_>, _>>()?;
                // The limit is the host's promise to its caller, whatever the plugin did with it.
                if let Some(limit) = limit.and_then(|l| usize::try_from(l).ok()) {
                    tickets.truncate(limit);
                }
                Ok(tickets)
            }),
        )
    }

    fn find_first_ticket(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        let future = self
            .inner
            .find_first_ticket(convert::search_query_to_ffi(query));
        Box::pin(self.call(
            "find_first_ticket",
            Effect::Read,
            future,
            |ticket: ROption<_>| {
                ticket
                    .into_option()
                    .map(convert::ticket_from_ffi)
                    .transpose()
            },
        ))
    }

    fn get_ticket(&self, id: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        let asked = id.to_string();
        let future = self.inner.get_ticket(RString::from(id));
        Box::pin(self.call(
            "get_ticket",
            Effect::Read,
            future,
            move |ticket: ROption<_>| {
                ticket
                    .into_option()
                    .map(|t| convert::ticket_from_ffi(t).and_then(|t| expect_id(&asked, t)))
                    .transpose()
            },
        ))
    }

    fn update_ticket(&self, id: &str, update: TicketUpdate) -> BoxFuture<'_, TicketResult<Ticket>> {
        let asked = id.to_string();
        let future = self
            .inner
            .update_ticket(RString::from(id), convert::update_to_ffi(update));
        Box::pin(
            self.call("update_ticket", Effect::Write, future, move |ticket| {
                convert::ticket_from_ffi(ticket).and_then(|t| expect_id(&asked, t))
            }),
        )
    }

    fn add_note(&self, id: &str, note: Note) -> BoxFuture<'_, TicketResult<()>> {
        let future = self
            .inner
            .add_note(RString::from(id), convert::note_to_ffi(note));
        Box::pin(self.call("add_note", Effect::Write, future, |()| Ok(())))
    }

    fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>> {
        let future = self.inner.check_connection();
        Box::pin(
            self.call("check_connection", Effect::Read, future, |who: RString| {
                Ok(who.into_string())
            }),
        )
    }
}
