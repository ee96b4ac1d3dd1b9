//! [`ForeignTicketSystem`]: a plugin's ticket-system service behind the host's [`TicketSystem`]
//! trait, so that nothing past this module sees an ABI type.
//!
//! Every call is bounded by the configured `call_timeout`: a plugin that never answers is reported
//! as a `timeout` error of its ticket system and its future is dropped (the interface requires a
//! plugin to cancel its work then). Plugin errors, caught plugin panics and malformed answers all
//! become [`TicketSystemError`]s; none of them stops the host.
//!
//! Batch writes (`update_tickets`, plugin API 1.1): a batch call may take `call_timeout` per
//! started [`BATCH_CHUNK`] tickets (Zendesk writes 100 tickets per job and polls each job, so a
//! batch is several calls' worth of work); when that passes, every ticket's outcome is `timeout`
//! (unknown whether applied). A plugin that answers `unsupported` (the trait's default body: a
//! plugin that does not implement batch writes, and every plugin built against API 1.0, whose
//! adapter in `plugins::legacy` keeps the default) is written one ticket at a time with
//! `update_ticket`, each call under `call_timeout`. The plugin's outcomes are checked: exactly one
//! per ticket asked about; a ticket with no outcome or several gets `invalid_response`.
//!
//! Every plugin call runs on the service's own thread ([`super::plugin_thread`]), so a plugin that
//! blocks inside a call (instead of answering or returning a pending future) cannot hold the host:
//! the call is abandoned at its timeout and reported, and while the plugin's thread stays blocked,
//! later calls fail at once. The synchronous `request_stats` and `ticket_state` (which must return
//! at once) are waited for at most [`SYNC_CALL_LIMIT`](super::plugin_thread::SYNC_CALL_LIMIT). The
//! module's `info` and `new_ticket_system` are called by the loader and the registry (see there).

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    time::Duration,
};

use abi_stable::std_types::{ROption, RResult, RString, RVec};
use otai_plugin_api as ffi;
use otai_plugin_api::{async_ffi::FfiFuture, PluginError, TicketSystemBox};

use super::{convert, plugin_thread::PluginThread};
use crate::ticket::{
    update_one_by_one, BatchOutcome, BatchUpdate, BoxFuture, ErrorKind, ExportPage, ExportRequest,
    Note, RequestStats, SearchQuery, Ticket, TicketPage, TicketResult, TicketSystem,
    TicketSystemError, TicketUpdate, WebhookEvent, WebhookRequest,
};

/// A batch call may take `call_timeout` per started chunk of this many tickets: the size of a
/// Zendesk `update_many` job, and a fair unit of work for any help desk.
pub const BATCH_CHUNK: usize = 100;

/// A ticket system provided by a plugin. Must be used inside a tokio runtime with timers enabled.
pub struct ForeignTicketSystem {
    name: String,
    plugin: String,
    service: String,
    inner: PluginThread,
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
    ) -> std::io::Result<Self> {
        Ok(ForeignTicketSystem {
            name: name.to_string(),
            plugin: plugin.to_string(),
            service: service.to_string(),
            inner: PluginThread::new(plugin, inner)?,
            call_timeout,
        })
    }

    /// Awaits a plugin future under the call timeout and converts its answer.
    /// Checks and converts tickets from the plugin, with their states in otai's words.
    fn tickets_in(&self, tickets: RVec<ffi::Ticket>) -> Result<Vec<Ticket>, String> {
        let mut tickets = tickets
            .into_iter()
            .map(convert::ticket_from_ffi)
            .collect::<Result<Vec<_>, _>>()?;
        self.fill_states(&mut tickets);
        Ok(tickets)
    }

    fn ticket_in(&self, ticket: ffi::Ticket) -> Result<Ticket, String> {
        let mut one = self.tickets_in(RVec::from(vec![ticket]))?;
        Ok(one.pop().expect("one ticket in, one out"))
    }

    /// Asks the plugin what each ticket's status means (plugin API 1.2; older plugins answer by
    /// the status's name): the host never interprets a help desk's status names itself. One
    /// synchronous hop to the plugin's thread for all of them; a plugin that does not answer
    /// gets the states by status name.
    fn fill_states(&self, tickets: &mut [Ticket]) {
        if tickets.is_empty() {
            return;
        }
        let asked: Vec<(RString, RVec<RString>)> = tickets
            .iter()
            .map(|t| {
                let tags = t
                    .tags
                    .iter()
                    .map(|tag| RString::from(tag.as_str()))
                    .collect();
                (RString::from(t.status.as_str()), tags)
            })
            .collect();
        let states = self.inner.sync(move |inner| {
            asked
                .into_iter()
                .map(|(status, tags)| inner.ticket_state(status, tags))
                .collect::<Vec<_>>()
        });
        match states {
            Some(states) => {
                for (ticket, state) in tickets.iter_mut().zip(states) {
                    ticket.state = convert::state_from_ffi(state);
                }
            }
            None => {
                self.sync_stalled("ticket_state");
                for ticket in tickets {
                    ticket.state = crate::ticket::TicketState::of(
                        crate::ticket::StatusCategory::from_name(&ticket.status),
                    );
                }
            }
        }
    }

    fn sync_stalled(&self, operation: &str) {
        tracing::error!(
            system = %self.name,
            plugin = %self.plugin,
            operation,
            "The plugin did not return from a call that must return at once; it is not asked again (its thread stays blocked)."
        );
    }

    /// Starts a call on the plugin's thread, awaits it under `timeout` and converts its answer.
    async fn call<R: Send + 'static, T>(
        &self,
        operation: &'static str,
        effect: Effect,
        start: impl FnOnce(&TicketSystemBox) -> FfiFuture<RResult<R, PluginError>> + Send + 'static,
        convert: impl FnOnce(R) -> Result<T, String>,
    ) -> TicketResult<T> {
        self.call_within(self.call_timeout, operation, effect, start)
            .await
            .and_then(|value| {
                convert(value).map_err(|problem| self.invalid_response(operation, problem))
            })
    }

    /// [`call`](Self::call) without the conversion, under `limit`; a timeout is [`Effect`]-worded.
    async fn call_within<R: Send + 'static>(
        &self,
        limit: Duration,
        operation: &'static str,
        effect: Effect,
        start: impl FnOnce(&TicketSystemBox) -> FfiFuture<RResult<R, PluginError>> + Send + 'static,
    ) -> TicketResult<R> {
        if !self.inner.is_responsive().await {
            return Err(self.blocked_error(operation));
        }
        let running = self.inner.start(start);
        let began = std::time::Instant::now();
        let answered = tokio::time::timeout(limit, running).await;
        crate::serve::metrics::observe_call(&self.name, operation, began.elapsed());
        let answer = match answered {
            Ok(Ok(answer)) => answer,
            Ok(Err(join)) => {
                return Err(TicketSystemError::new(
                    &self.name,
                    ErrorKind::Panicked,
                    format!("plugin `{}`: {operation} stopped: {join}", self.plugin),
                ))
            }
            Err(_) => {
                if self.inner.check_after_timeout().await {
                    tracing::error!(system = %self.name, plugin = %self.plugin, operation, "The plugin's thread is blocked inside a call; it was abandoned, and calls fail at once until the thread answers again.");
                }
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
            RResult::ROk(value) => Ok(value),
            RResult::RErr(err) => Err(convert::error_from_ffi(&self.name, err)),
        }
    }

    fn blocked_error(&self, operation: &str) -> TicketSystemError {
        TicketSystemError::new(
            &self.name,
            ErrorKind::Timeout,
            format!(
                "plugin `{}` is blocked inside an earlier call (its thread does not answer); \
                 {operation} was not started",
                self.plugin
            ),
        )
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

impl ForeignTicketSystem {
    /// How long a batch of `n` tickets may take: `call_timeout` per started [`BATCH_CHUNK`].
    pub fn batch_timeout(&self, n: usize) -> Duration {
        let chunks = u32::try_from(n.div_ceil(BATCH_CHUNK).max(1)).unwrap_or(u32::MAX);
        self.call_timeout.saturating_mul(chunks)
    }

    /// Pairs the plugin's outcomes with the tickets asked about, in the order asked. A ticket the
    /// plugin gave no outcome, or several, gets `invalid_response`: its fate is unknown.
    fn check_outcomes(
        &self,
        asked: &[String],
        answer: RVec<ffi::BatchOutcome>,
    ) -> Vec<BatchOutcome> {
        let in_order = answer.len() == asked.len()
            && answer.iter().zip(asked).all(|(o, id)| o.id.as_str() == id);
        let mut asked_count: HashMap<&str, usize> = HashMap::new();
        for id in asked {
            *asked_count.entry(id.as_str()).or_default() += 1;
        }
        let mut by_id: HashMap<String, VecDeque<TicketResult<()>>> = HashMap::new();
        let mut strangers = Vec::new();
        for outcome in answer {
            let id = outcome.id.into_string();
            let result = match outcome.result {
                RResult::ROk(()) => Ok(()),
                RResult::RErr(e) => Err(convert::error_from_ffi(&self.name, e)),
            };
            if asked_count.contains_key(id.as_str()) {
                by_id.entry(id).or_default().push_back(result);
            } else {
                strangers.push(id);
            }
        }
        if !strangers.is_empty() {
            strangers.truncate(10);
            tracing::warn!(system = %self.name, plugin = %self.plugin, ids = ?strangers, "A plugin returned batch outcomes for tickets it was not asked about; they were ignored.");
        } else if !in_order {
            tracing::debug!(system = %self.name, plugin = %self.plugin, "A plugin returned batch outcomes out of order; they were matched by ticket id.");
        }
        asked
            .iter()
            .map(|id| {
                let want = asked_count[id.as_str()];
                let result = match by_id.get_mut(id) {
                    Some(results) if results.len() == want => {
                        results.pop_front().expect("as many results as asked")
                    }
                    other => Err(self.bad_outcome(id, other.map_or(0, |r| r.len()), want)),
                };
                BatchOutcome {
                    id: id.clone(),
                    result,
                }
            })
            .collect()
    }

    fn bad_outcome(&self, id: &str, got: usize, want: usize) -> TicketSystemError {
        TicketSystemError::new(
            &self.name,
            ErrorKind::InvalidResponse,
            format!(
                "plugin `{}` returned {got} outcome(s) for ticket {id} in a batch that asked for \
                 {want}; whether the update was applied is unknown",
                self.plugin
            ),
        )
    }

    fn batch_timeout_error(&self, n: usize, limit: Duration) -> TicketSystemError {
        TicketSystemError::new(
            &self.name,
            ErrorKind::Timeout,
            format!(
                "plugin `{}` did not answer update_tickets for {n} tickets within {} s \
                 (call_timeout per {BATCH_CHUNK} tickets); the call was abandoned, and whether \
                 each update was applied is unknown",
                self.plugin,
                format_secs(limit)
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
        let query = convert::search_query_to_ffi(&query);
        Box::pin(self.call(
            "find_tickets",
            Effect::Read,
            move |inner| inner.find_tickets(query),
            move |tickets| {
                let mut tickets = self.tickets_in(tickets)?;
                // The limit is the host's promise to its caller, whatever the plugin did with it.
                if let Some(limit) = limit.and_then(|l| usize::try_from(l).ok()) {
                    tickets.truncate(limit);
                }
                Ok(tickets)
            },
        ))
    }

    /// One search page under `call_timeout` (plugin API 1.3; older plugins answer their whole
    /// `find_tickets` as one page through the host's adapters).
    fn find_tickets_page(
        &self,
        query: SearchQuery,
        cursor: Option<String>,
    ) -> BoxFuture<'_, TicketResult<TicketPage>> {
        let query = convert::search_query_to_ffi(&query);
        let cursor: ROption<RString> = cursor.map(RString::from).into();
        Box::pin(self.call(
            "find_tickets_page",
            Effect::Read,
            move |inner| inner.find_tickets_page(query, cursor),
            |page| {
                let mut page = convert::ticket_page_from_ffi(page)?;
                self.fill_states(&mut page.tickets);
                Ok(page)
            },
        ))
    }

    fn find_first_ticket(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        let query = convert::search_query_to_ffi(&query);
        Box::pin(self.call(
            "find_first_ticket",
            Effect::Read,
            move |inner| inner.find_first_ticket(query),
            |ticket: ROption<_>| ticket.into_option().map(|t| self.ticket_in(t)).transpose(),
        ))
    }

    fn get_ticket(&self, id: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
        let asked = id.to_string();
        let id = RString::from(id);
        Box::pin(self.call(
            "get_ticket",
            Effect::Read,
            move |inner| inner.get_ticket(id),
            move |ticket: ROption<_>| {
                ticket
                    .into_option()
                    .map(|t| self.ticket_in(t).and_then(|t| expect_id(&asked, t)))
                    .transpose()
            },
        ))
    }

    fn update_ticket(&self, id: &str, update: TicketUpdate) -> BoxFuture<'_, TicketResult<Ticket>> {
        let asked = id.to_string();
        let (id, update) = (RString::from(id), convert::update_to_ffi(&update));
        Box::pin(self.call(
            "update_ticket",
            Effect::Write,
            move |inner| inner.update_ticket(id, update),
            move |ticket| self.ticket_in(ticket).and_then(|t| expect_id(&asked, t)),
        ))
    }

    fn add_note(&self, id: &str, note: Note) -> BoxFuture<'_, TicketResult<()>> {
        let (id, note) = (RString::from(id), convert::note_to_ffi(&note));
        Box::pin(self.call(
            "add_note",
            Effect::Write,
            move |inner| inner.add_note(id, note),
            |()| Ok(()),
        ))
    }

    fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>> {
        Box::pin(self.call(
            "check_connection",
            Effect::Read,
            |inner| inner.check_connection(),
            |who: RString| Ok(who.into_string()),
        ))
    }

    fn update_tickets(
        &self,
        updates: Vec<BatchUpdate>,
    ) -> BoxFuture<'_, TicketResult<Vec<BatchOutcome>>> {
        Box::pin(async move {
            if updates.is_empty() {
                return Ok(Vec::new());
            }
            let limit = self.batch_timeout(updates.len());
            // The plugin gets a converted copy; `updates` stays here for the one-by-one fallback.
            let batch = convert::batch_to_ffi(&updates);
            let answer = self
                .call_within(limit, "update_tickets", Effect::Write, move |inner| {
                    inner.update_tickets(batch)
                })
                .await;
            match answer {
                Ok(outcomes) => {
                    let asked: Vec<String> = updates.into_iter().map(|u| u.id).collect();
                    Ok(self.check_outcomes(&asked, outcomes))
                }
                Err(e) if e.kind == ErrorKind::Unsupported => {
                    tracing::debug!(system = %self.name, plugin = %self.plugin, "The plugin has no batch writes; writing the tickets one by one.");
                    update_one_by_one(self, updates).await
                }
                Err(e) if e.kind == ErrorKind::Timeout => {
                    tracing::debug!(system = %self.name, plugin = %self.plugin, tickets = updates.len(), timeout_secs = limit.as_secs_f64(), "A batch call timed out and was abandoned.");
                    let err = self.batch_timeout_error(updates.len(), limit);
                    Ok(updates
                        .into_iter()
                        .map(|u| BatchOutcome {
                            id: u.id,
                            result: Err(err.clone()),
                        })
                        .collect())
                }
                Err(e) => Err(e),
            }
        })
    }

    /// One export page under `call_timeout` (a plugin paces its help desk's export limit inside
    /// the call, so the timeout must exceed that pause). A plugin without an export (and every
    /// 1.0 plugin) answers `unsupported`.
    fn export_tickets(&self, request: ExportRequest) -> BoxFuture<'_, TicketResult<ExportPage>> {
        let request = convert::export_request_to_ffi(&request);
        Box::pin(self.call(
            "export_tickets",
            Effect::Read,
            move |inner| inner.export_tickets(request),
            |page| {
                let mut page = convert::export_page_from_ffi(page)?;
                self.fill_states(&mut page.tickets);
                Ok(page)
            },
        ))
    }

    fn verify_webhook(&self, request: WebhookRequest) -> TicketResult<WebhookEvent> {
        let request = convert::webhook_request_to_ffi(&request);
        match self.inner.sync(move |inner| inner.verify_webhook(request)) {
            Some(RResult::ROk(event)) => convert::webhook_event_from_ffi(event)
                .map_err(|problem| self.invalid_response("verify_webhook", problem)),
            Some(RResult::RErr(err)) => Err(convert::error_from_ffi(&self.name, err)),
            None => {
                self.sync_stalled("verify_webhook");
                Err(self.blocked_error("verify_webhook"))
            }
        }
    }

    /// A synchronous plugin call (counters only; plugins must answer at once), waited for at most
    /// `SYNC_CALL_LIMIT`; a plugin that does not answer is not counted.
    fn request_stats(&self) -> Option<RequestStats> {
        match self.inner.sync(|inner| inner.request_stats()) {
            Some(stats) => stats.into_option().map(convert::request_stats_from_ffi),
            None => {
                self.sync_stalled("request_stats");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use abi_stable::{sabi_trait::TD_Opaque, std_types::RVec};
    use async_ffi::FutureExt;
    use ffi::{ServiceFuture, TicketSystemService, TicketSystemService_TO};

    use super::*;

    /// A plugin service whose batch call answers `outcomes` (ids, ok?) or never answers.
    struct Batch(Option<Vec<(&'static str, bool)>>);

    fn nothing<T: 'static>() -> ServiceFuture<T> {
        async { RResult::RErr(PluginError::unsupported("test")) }.into_ffi()
    }

    impl TicketSystemService for Batch {
        fn find_tickets(&self, _: ffi::SearchQuery) -> ServiceFuture<RVec<ffi::Ticket>> {
            nothing()
        }
        fn find_first_ticket(&self, _: ffi::SearchQuery) -> ServiceFuture<ROption<ffi::Ticket>> {
            nothing()
        }
        fn get_ticket(&self, _: RString) -> ServiceFuture<ROption<ffi::Ticket>> {
            nothing()
        }
        fn update_ticket(&self, _: RString, _: ffi::TicketUpdate) -> ServiceFuture<ffi::Ticket> {
            nothing()
        }
        fn add_note(&self, _: RString, _: ffi::Note) -> ServiceFuture<()> {
            nothing()
        }
        fn update_tickets(
            &self,
            _: RVec<ffi::BatchUpdate>,
        ) -> ServiceFuture<RVec<ffi::BatchOutcome>> {
            let Some(outcomes) = self.0.clone() else {
                return std::future::pending().into_ffi();
            };
            async move {
                RResult::ROk(
                    outcomes
                        .into_iter()
                        .map(|(id, ok)| ffi::BatchOutcome {
                            id: id.into(),
                            result: if ok {
                                RResult::ROk(())
                            } else {
                                RResult::RErr(PluginError::new(ffi::ErrorKind::CONFLICT, "x"))
                            },
                        })
                        .collect(),
                )
            }
            .into_ffi()
        }
    }

    fn system(service: Batch) -> ForeignTicketSystem {
        ForeignTicketSystem::new(
            "desk",
            "fake",
            "Batch",
            TicketSystemService_TO::from_value(service, TD_Opaque),
            Duration::from_secs(2),
        )
        .unwrap()
    }

    fn asked(ids: &[&str]) -> Vec<BatchUpdate> {
        ids.iter()
            .map(|id| BatchUpdate {
                id: id.to_string(),
                ..Default::default()
            })
            .collect()
    }

    #[tokio::test]
    async fn missing_extra_and_repeated_outcomes_become_invalid_response() {
        let desk = system(Batch(Some(vec![
            ("2", false),
            ("1", true),
            ("9", true),
            ("3", true),
            ("3", true),
        ])));

        let outcomes = desk
            .update_tickets(asked(&["1", "2", "3", "4"]))
            .await
            .unwrap();

        let ids: Vec<&str> = outcomes.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "4"], "in the order asked");
        assert!(outcomes[0].result.is_ok());
        assert_eq!(
            outcomes[1].result.as_ref().unwrap_err().kind,
            ErrorKind::Conflict
        );
        for garbage in &outcomes[2..] {
            let e = garbage.result.as_ref().unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidResponse);
            assert!(e.message.contains("plugin `fake`"), "{}", e.message);
            assert!(e.message.contains(&format!("ticket {}", garbage.id)));
        }
    }

    #[tokio::test]
    async fn a_plugin_without_an_export_answers_unsupported() {
        let desk = system(Batch(Some(Vec::new())));
        let err = desk
            .export_tickets(ExportRequest {
                start_time: Some("2024-01-01T00:00:00Z".into()),
                cursor: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert_eq!(err.system, "desk");
    }

    // On tokio's paused clock: the never-answering call is abandoned when the clock reaches the
    // limit, whatever the machine's load.
    #[tokio::test(start_paused = true)]
    async fn a_batch_gets_call_timeout_per_100_tickets_then_every_ticket_times_out() {
        let mut desk = system(Batch(None));
        assert_eq!(desk.batch_timeout(1), Duration::from_secs(2));
        assert_eq!(desk.batch_timeout(100), Duration::from_secs(2));
        assert_eq!(desk.batch_timeout(101), Duration::from_secs(4));
        desk.call_timeout = Duration::from_millis(200);
        let started = tokio::time::Instant::now();

        let outcomes = desk.update_tickets(asked(&["1", "2"])).await.unwrap();

        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
        assert_eq!(outcomes.len(), 2);
        for outcome in &outcomes {
            let e = outcome.result.as_ref().unwrap_err();
            assert_eq!(e.kind, ErrorKind::Timeout);
            assert!(e.message.contains("unknown"), "{}", e.message);
        }
    }

    #[tokio::test]
    async fn an_unsupported_batch_falls_back_to_one_by_one() {
        // Does not implement update_tickets: the trait's default body answers UNSUPPORTED.
        struct Old;
        impl TicketSystemService for Old {
            fn find_tickets(&self, _: ffi::SearchQuery) -> ServiceFuture<RVec<ffi::Ticket>> {
                nothing()
            }
            fn find_first_ticket(
                &self,
                _: ffi::SearchQuery,
            ) -> ServiceFuture<ROption<ffi::Ticket>> {
                nothing()
            }
            fn get_ticket(&self, _: RString) -> ServiceFuture<ROption<ffi::Ticket>> {
                nothing()
            }
            fn update_ticket(
                &self,
                id: RString,
                _: ffi::TicketUpdate,
            ) -> ServiceFuture<ffi::Ticket> {
                async move {
                    RResult::ROk(ffi::Ticket {
                        id,
                        ..Default::default()
                    })
                }
                .into_ffi()
            }
            fn add_note(&self, _: RString, _: ffi::Note) -> ServiceFuture<()> {
                nothing()
            }
        }
        let desk = ForeignTicketSystem::new(
            "desk",
            "old",
            "Old",
            TicketSystemService_TO::from_value(Old, TD_Opaque),
            Duration::from_secs(2),
        )
        .unwrap();

        let outcomes = desk.update_tickets(asked(&["5", "6"])).await.unwrap();

        assert_eq!(outcomes.len(), 2);
        assert!(outcomes.iter().all(|o| o.result.is_ok()));
        assert_eq!(desk.request_stats(), None);
    }
}
