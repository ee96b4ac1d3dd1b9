//! [`Shared`]: the simulated Zendesk account's state, shared by the request pipeline
//! ([`crate::api`]), the job tasks and the handles, beside the kit's ([`otai_sim_kit::SimState`]:
//! faults, clock, common counters).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use otai_sim_kit::{KitStats, SimState};

use crate::{
    auth::Credential,
    jobs::{self, Job, JobDelays},
    oauth::OAuthState,
    rate::RateLimiter,
    server::Stats,
    store::Store,
};

/// Zendesk's counters beside the kit's ([`Stats`] joins them).
#[derive(Debug, Clone, Default)]
pub(crate) struct Counters {
    pub accepted: u64,
    pub rate_limited: u64,
    pub jobs_submitted: u64,
    pub jobs_completed: u64,
}

/// State shared by the server, the job tasks and the handles.
pub(crate) struct Shared {
    pub base_url: String,
    pub kit: Arc<SimState>,
    pub store: Mutex<Store>,
    pub initial: Store,
    pub jobs: Mutex<BTreeMap<String, Job>>,
    pub job_ids: Mutex<fastrand::Rng>,
    pub rate: Mutex<RateLimiter>,
    pub counters: Mutex<Counters>,
    pub job_delays: Mutex<JobDelays>,
    pub oauth: Mutex<OAuthState>,
    pub credentials: Vec<Credential>,
    pub tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    pub webhooks: crate::webhooks::Webhooks,
}

impl Shared {
    /// The counters as [`Stats`], the kit's included.
    pub fn stats(&self, kit: &KitStats) -> Stats {
        let c = self.counters.lock().unwrap().clone();
        Stats {
            requests: kit.requests,
            accepted: c.accepted,
            rate_limited: c.rate_limited,
            max_requests_in_60s: self.rate.lock().unwrap().max_in_window,
            unauthorized: kit.answered(&[401, 403]),
            faults_injected: kit.faults_injected,
            dropped_connections: kit.dropped_connections,
            writes: self.store.lock().unwrap().writes().len() as u64,
            jobs_submitted: c.jobs_submitted,
            jobs_completed: c.jobs_completed,
            by_status: kit.by_status.clone(),
        }
    }

    pub fn spawn_job(self: &Arc<Shared>, id: String) {
        let h = tokio::spawn(jobs::run(self.clone(), id));
        self.tasks.lock().unwrap().push(h.abort_handle());
    }

    /// Stops running jobs.
    pub fn abort_jobs(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// The account back to its state at start (the kit resets faults, its counters and the
    /// clock itself).
    pub fn reset(&self) {
        self.abort_jobs();
        *self.store.lock().unwrap() = self.initial.clone();
        self.jobs.lock().unwrap().clear();
        let limits = self.rate.lock().unwrap().limits.clone();
        *self.rate.lock().unwrap() = RateLimiter::new(limits);
        *self.counters.lock().unwrap() = Counters::default();
        self.oauth.lock().unwrap().reset(Instant::now());
    }
}
