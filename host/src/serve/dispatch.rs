//! Which pipelines get a delivery's ticket ids, and when the inbox may forget them.
//!
//! Every pipeline of a ticket system gets every id of that system; an id is settled in the
//! inbox once each of them is done with it (shown in a pass, or given up on: see
//! [`crate::pipeline::feed`]). Ids still waiting in the inbox at start are fed again.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::inbox::{Accepted, Inbox, InboxError};
use crate::{
    pipeline::{Feed, Pipeline},
    ticket::{ErrorKind, TicketSystem, WebhookRequest},
};

/// Seconds since the Unix epoch, by this machine's clock.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Whether a ticket system's deliveries can be verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookSupport {
    /// Its plugin verifies them.
    Verified,
    /// Its plugin cannot (built before plugin API 1.4, or its help desk sends none).
    Unsupported(String),
    /// Its plugin can, but the configuration lacks what it needs (a `webhook_secret`).
    NotConfigured(String),
}

impl WebhookSupport {
    /// Asks the plugin with an empty delivery: "unsupported" and "not configured" come back as
    /// such; anything else (a missing signature) means it verifies. Call it off the runtime.
    pub fn probe(system: &dyn TicketSystem) -> WebhookSupport {
        let empty = WebhookRequest {
            headers: Vec::new(),
            body: Vec::new(),
            received_at: unix_now(),
        };
        match system.verify_webhook(empty) {
            Err(e) if e.kind == ErrorKind::Unsupported => WebhookSupport::Unsupported(e.message),
            Err(e) if e.kind == ErrorKind::Config => WebhookSupport::NotConfigured(e.message),
            _ => WebhookSupport::Verified,
        }
    }
}

/// One configured ticket system as the server sees it.
#[derive(Debug)]
pub struct ServedSystem {
    pub system: Arc<dyn TicketSystem>,
    pub webhooks: WebhookSupport,
    /// The pipelines that read it, with the sender of each one's feed (only when verified).
    senders: Vec<(String, mpsc::UnboundedSender<String>)>,
}

/// The delivery side of `otai serve`: the inbox and the pipelines' feeds.
#[derive(Debug)]
pub struct Dispatch {
    inbox: Mutex<Inbox>,
    systems: BTreeMap<String, ServedSystem>,
    /// (system, id) -> pipelines not done with it yet.
    outstanding: Mutex<HashMap<(String, String), BTreeSet<String>>>,
}

/// What a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Stored and fed: the ids (new ones; an id already waiting is not fed twice).
    Accepted(Vec<String>),
    /// The delivery id was seen before.
    Duplicate,
}

impl Dispatch {
    /// Opens the inbox, asks every ticket system of `pipelines` whether it verifies webhooks,
    /// and makes the feeds of those that do (polling at `poll_interval`). Ids still waiting in
    /// the inbox are fed at once. Blocking (the inbox file, the plugins): call it off the runtime.
    pub fn open(
        inbox_path: &std::path::Path,
        pipelines: &[Pipeline],
        poll_interval: Duration,
    ) -> Result<(Arc<Dispatch>, HashMap<String, Feed>), InboxError> {
        let inbox = Inbox::open(inbox_path, unix_now())?;
        let mut systems: BTreeMap<String, ServedSystem> = BTreeMap::new();
        let mut receivers = Vec::new();
        for pipeline in pipelines {
            let name = pipeline.config().ticket_system.clone();
            let served = systems.entry(name.clone()).or_insert_with(|| ServedSystem {
                webhooks: WebhookSupport::probe(pipeline.system().as_ref()),
                system: pipeline.system().clone(),
                senders: Vec::new(),
            });
            match &served.webhooks {
                WebhookSupport::Verified => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    served.senders.push((pipeline.name().to_string(), tx));
                    receivers.push((pipeline.name().to_string(), name.clone(), rx));
                    info!(pipeline = %pipeline.name(), ticket_system = %name, path = %format!("/webhooks/{name}"), poll_interval_secs = poll_interval.as_secs_f64(), "Webhooks wake this pipeline; it polls as a safety net.");
                }
                WebhookSupport::Unsupported(why) | WebhookSupport::NotConfigured(why) => {
                    warn!(pipeline = %pipeline.name(), ticket_system = %name, reason = %why, interval_secs = pipeline.config().interval.as_secs_f64(), "This pipeline's webhooks are refused; it polls at its own interval.");
                }
            }
        }
        let dispatch = Arc::new(Dispatch {
            inbox: Mutex::new(inbox),
            systems,
            outstanding: Mutex::new(HashMap::new()),
        });
        let mut feeds = HashMap::new();
        for (pipeline, system, ids) in receivers {
            let (dispatch_ref, pipeline_name) = (Arc::downgrade(&dispatch), pipeline.clone());
            feeds.insert(
                pipeline,
                Feed {
                    ids,
                    settle: Box::new(move |done: &[String]| {
                        if let Some(dispatch) = dispatch_ref.upgrade() {
                            dispatch.settle(&pipeline_name, &system, done);
                        }
                    }),
                    poll_interval,
                },
            );
        }
        let waiting = dispatch.lock_inbox().waiting();
        for (system, ids) in waiting {
            if dispatch.systems.contains_key(&system) {
                info!(ticket_system = %system, tickets = ids.len(), "Routing the webhook tickets the inbox kept from before.");
                dispatch.feed(&system, &ids);
            }
        }
        Ok((dispatch, feeds))
    }

    pub fn system(&self, name: &str) -> Option<&ServedSystem> {
        self.systems.get(name)
    }

    pub fn systems(&self) -> impl Iterator<Item = (&String, &ServedSystem)> {
        self.systems.iter()
    }

    /// Ids waiting in the inbox (the queue depth).
    pub fn waiting(&self) -> usize {
        self.lock_inbox().len()
    }

    /// Stores a verified delivery's ids durably, then feeds them. Blocking (an `fsync`).
    pub fn deliver(
        &self,
        system: &str,
        delivery: Option<&str>,
        ids: &[String],
    ) -> Result<Delivered, InboxError> {
        let accepted = self
            .lock_inbox()
            .accept(system, delivery, ids, unix_now())?;
        match accepted {
            Accepted::Duplicate => Ok(Delivered::Duplicate),
            Accepted::Stored(new) => {
                self.feed(system, &new);
                Ok(Delivered::Accepted(new))
            }
        }
    }

    fn feed(&self, system: &str, ids: &[String]) {
        let Some(served) = self.systems.get(system) else {
            return;
        };
        let mut outstanding = self.outstanding.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            let waiting_for = outstanding
                .entry((system.to_string(), id.clone()))
                .or_default();
            for (pipeline, tx) in &served.senders {
                // A pipeline that stopped leaves its ids to the inbox (routed after a restart).
                if tx.send(id.clone()).is_ok() {
                    waiting_for.insert(pipeline.clone());
                }
            }
        }
    }

    /// `pipeline` is done with `ids`; those no pipeline waits for any more leave the inbox.
    fn settle(&self, pipeline: &str, system: &str, ids: &[String]) {
        let mut finished = Vec::new();
        {
            let mut outstanding = self.outstanding.lock().unwrap_or_else(|e| e.into_inner());
            for id in ids {
                let key = (system.to_string(), id.clone());
                if let Some(waiting_for) = outstanding.get_mut(&key) {
                    waiting_for.remove(pipeline);
                    if waiting_for.is_empty() {
                        outstanding.remove(&key);
                        finished.push(id.clone());
                    }
                }
            }
        }
        if finished.is_empty() {
            return;
        }
        let mut inbox = self.lock_inbox();
        if let Err(e) = inbox.settle(system, &finished, unix_now()) {
            // Kept in the inbox: routed again after a restart, which the tags make harmless.
            error!(error = %e, "Cannot record routed webhook tickets in the inbox.");
        }
    }

    fn lock_inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner())
    }
}
