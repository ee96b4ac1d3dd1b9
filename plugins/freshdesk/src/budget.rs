//! The rate budget: otai spends at most its share of the account's per-minute API credits, per
//! endpoint class too, and slows down before Freshdesk says 429.
//!
//! Freshdesk limits an account per minute by plan (Growth 200, Pro 400, Enterprise 700 ...), with
//! lower limits for Ticket Create, Ticket Update and Tickets List; every app and integration of the
//! account shares them, and invalid requests count too. So otai
//!
//! - keeps its own ledger of what it sent in the last [`WINDOW`] (a sliding window, a second longer
//!   than Freshdesk's minute so that latency between sending and arriving can never fit more
//!   into one of Freshdesk's minutes than the budget) and waits before a request that would
//!   overspend its share of the total or of the endpoint's limit;
//! - reads `X-RateLimit-Total` (the limit, when the config gives none) and
//!   `X-RateLimit-Remaining` on every answer: when the account as a whole (others included) has
//!   almost nothing left, otai pauses until the account's window turns over (seen as `Remaining`
//!   going up; a minute when not seen yet) instead of collecting 429s;
//! - leaves 429 + `Retry-After` to the transport, which waits and sends again.
//!
//! The cost of a request is Freshdesk's: one credit, two more per `include`.
//!
//! This is the transport's [`Pacer`]: asked before every attempt, retries included.

use std::{collections::VecDeque, future::Future, pin::Pin, sync::Mutex, time::Duration};

use otai_plugin_sdk::{
    http::{reqwest::header::HeaderMap, Method, Pacer},
    Logger,
};
use tokio::time::Instant;

use crate::config::{Config, Limits, Share};

/// How far back otai's own ledger looks: Freshdesk's minute and a second of slack.
pub const WINDOW: Duration = Duration::from_secs(61);

/// Below this many credits left in the account's window, otai waits for the next window.
const ACCOUNT_FLOOR: u64 = 3;

/// Freshdesk's endpoint classes with limits of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// `POST /tickets`.
    Create,
    /// `PUT /tickets/{id}` and `POST /tickets/bulk_update`.
    Update,
    /// `GET /tickets` (the list).
    List,
    /// Everything else (only the account total).
    Other,
}

/// The class and credit cost of a request (`path` under the base URL).
pub fn class_and_cost(method: Method, path: &str, query: &[(&str, String)]) -> (Class, u64) {
    let rest = path.strip_prefix("/api/v2").unwrap_or(path);
    let class = match (method, rest) {
        (Method::Get, "/tickets") => Class::List,
        (Method::Post, "/tickets") => Class::Create,
        (Method::Post, "/tickets/bulk_update") => Class::Update,
        (Method::Put, p) if p.starts_with("/tickets/") && !p[9..].contains('/') => Class::Update,
        _ => Class::Other,
    };
    let includes: u64 = query
        .iter()
        .filter(|(k, _)| *k == "include")
        .map(|(_, v)| v.split(',').filter(|s| !s.trim().is_empty()).count() as u64)
        .sum();
    (class, 1 + 2 * includes)
}

/// One request in the ledger.
#[derive(Clone, Copy, Debug)]
struct Spend {
    at: Instant,
    cost: u64,
    class: Class,
}

/// What the ledger and the account's headers say.
#[derive(Debug, Default)]
struct Ledger {
    spent: VecDeque<Spend>,
    /// `X-RateLimit-Total` as last seen.
    learned_total: Option<u64>,
    /// `X-RateLimit-Remaining` as last seen.
    last_remaining: Option<u64>,
    /// When the account's current window began (seen as `Remaining` going up).
    window_began: Option<Instant>,
    /// No request before this: the account is spent until its window turns over.
    paused_until: Option<Instant>,
}

/// otai's share of the account's limits, as a pacer.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    share: Share,
    log: Logger,
    ledger: Mutex<Ledger>,
}

impl Budget {
    /// The budget for `config`.
    pub fn new(config: &Config, log: Logger) -> Budget {
        Budget {
            limits: config.limits,
            share: config.share,
            log,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// otai's credits per minute of the account total, once known.
    pub fn total_budget(&self) -> Option<u64> {
        let ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        let total = self.limits.total.or(ledger.learned_total)?;
        Some(self.share.of(total, total))
    }

    /// Credits otai spent in the last [`WINDOW`].
    pub fn spent(&self) -> u64 {
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        prune(&mut ledger, Instant::now());
        ledger.spent.iter().map(|s| s.cost).sum()
    }

    /// Books the request now, or says how long to wait before asking again.
    fn try_spend(&self, class: Class, cost: u64, now: Instant) -> Result<(), Duration> {
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        prune(&mut ledger, now);
        if let Some(until) = ledger.paused_until {
            if until > now {
                return Err(until - now);
            }
            ledger.paused_until = None;
        }
        if let Some(total) = self.limits.total.or(ledger.learned_total) {
            let budget = self.share.of(total, total);
            wait_for(&ledger.spent, |_| true, budget, cost, now)?;
            let class_limit = match class {
                Class::Create => self.limits.create,
                Class::Update => self.limits.update,
                Class::List => self.limits.list,
                Class::Other => None,
            };
            if let Some(limit) = class_limit {
                let budget = self.share.of(limit, total);
                wait_for(&ledger.spent, |s| s.class == class, budget, cost, now)?;
            }
        }
        ledger.spent.push_back(Spend {
            at: now,
            cost,
            class,
        });
        Ok(())
    }

    /// Reads the account's counters from an answer's headers.
    fn observe_at(&self, headers: &HeaderMap, now: Instant) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(total) = number("x-ratelimit-total") {
            ledger.learned_total = Some(total);
        }
        let Some(remaining) = number("x-ratelimit-remaining") else {
            return;
        };
        if ledger.last_remaining.is_some_and(|last| remaining > last) {
            ledger.window_began = Some(now);
        }
        ledger.last_remaining = Some(remaining);
        if remaining < ACCOUNT_FLOOR {
            let turn = ledger
                .window_began
                .map(|began| began + Duration::from_secs(60))
                .filter(|t| *t > now)
                .unwrap_or(now + Duration::from_secs(60));
            ledger.paused_until = Some(turn);
            self.log.warn("otai_freshdesk::budget", || {
                format!(
                    "the Freshdesk account has {remaining} API credits left this minute (other \
                     integrations share them); otai waits {:.0} s for the next minute instead of \
                     running into 429",
                    (turn - now).as_secs_f64()
                )
            });
        }
    }
}

/// Drops what is older than the window.
fn prune(ledger: &mut Ledger, now: Instant) {
    while ledger
        .spent
        .front()
        .is_some_and(|s| now.duration_since(s.at) >= WINDOW)
    {
        ledger.spent.pop_front();
    }
}

/// `Ok` if `cost` more fits `budget` among the entries `counts`; else how long until enough of
/// them leave the window. An empty window always admits (a budget below one request's cost must
/// still let requests through, one per window).
fn wait_for(
    spent: &VecDeque<Spend>,
    counts: impl Fn(&Spend) -> bool,
    budget: u64,
    cost: u64,
    now: Instant,
) -> Result<(), Duration> {
    let mine: Vec<&Spend> = spent.iter().filter(|s| counts(s)).collect();
    let used: u64 = mine.iter().map(|s| s.cost).sum();
    if used + cost <= budget || mine.is_empty() {
        return Ok(());
    }
    let mut freed = 0;
    for s in &mine {
        freed += s.cost;
        if used - freed + cost <= budget {
            return Err((s.at + WINDOW)
                .saturating_duration_since(now)
                .max(Duration::from_millis(5)));
        }
    }
    Err(mine
        .last()
        .map(|s| (s.at + WINDOW).saturating_duration_since(now))
        .unwrap_or_default()
        .max(Duration::from_millis(5)))
}

impl Pacer for Budget {
    fn admit(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let (class, cost) = class_and_cost(method, path, query);
        Box::pin(async move {
            let mut told = false;
            loop {
                match self.try_spend(class, cost, Instant::now()) {
                    Ok(()) => return,
                    Err(wait) => {
                        if !told && wait >= Duration::from_secs(1) {
                            told = true;
                            self.log.info("otai_freshdesk::budget", || {
                                format!(
                                    "rate budget: otai's share of the account's credits for this \
                                     minute is spent; waiting {:.1} s",
                                    wait.as_secs_f64()
                                )
                            });
                        }
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        })
    }

    fn observe(&self, _status: u16, headers: &HeaderMap) {
        self.observe_at(headers, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_sdk::{http::reqwest::header::HeaderValue, Secret};

    use super::*;

    fn budget(limits: Limits, share: Share) -> Budget {
        let mut config = Config::new("http://127.0.0.1:1", Secret::new("k"));
        config.limits = limits;
        config.share = share;
        Budget::new(&config, Logger::silent())
    }

    fn headers(total: u64, remaining: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-total", HeaderValue::from(total));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        h
    }

    #[test]
    fn costs_follow_freshdesk() {
        let inc = [("include", "description".to_string())];
        assert_eq!(
            class_and_cost(Method::Get, "/api/v2/tickets", &inc),
            (Class::List, 3)
        );
        assert_eq!(
            class_and_cost(
                Method::Get,
                "/api/v2/tickets/5",
                &[("include", "conversations,requester".into())]
            ),
            (Class::Other, 5)
        );
        assert_eq!(
            class_and_cost(Method::Put, "/api/v2/tickets/5", &[]),
            (Class::Update, 1)
        );
        assert_eq!(
            class_and_cost(Method::Post, "/api/v2/tickets/5/notes", &[]),
            (Class::Other, 1)
        );
        assert_eq!(
            class_and_cost(Method::Post, "/api/v2/tickets/bulk_update", &[]),
            (Class::Update, 1)
        );
        assert_eq!(
            class_and_cost(Method::Post, "/api/v2/tickets", &[]),
            (Class::Create, 1)
        );
    }

    #[test]
    fn the_total_share_holds_in_any_window() {
        let b = budget(
            Limits {
                total: Some(100),
                ..Limits::default()
            },
            Share::Percent(10),
        );
        let t0 = Instant::now();
        for i in 0..10 {
            b.try_spend(Class::Other, 1, t0 + Duration::from_secs(i))
                .unwrap();
        }
        let wait = b
            .try_spend(Class::Other, 1, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(
            wait,
            Duration::from_secs(51),
            "the first spend leaves the window at 61 s"
        );
        b.try_spend(Class::Other, 1, t0 + Duration::from_secs(61))
            .unwrap();
        let big = b
            .try_spend(Class::Other, 3, t0 + Duration::from_secs(61))
            .unwrap_err();
        assert_eq!(
            big,
            Duration::from_secs(3),
            "three credits need three spends to leave"
        );
    }

    #[test]
    fn endpoint_limits_have_their_own_share() {
        let b = budget(Limits::of_plan("growth").unwrap(), Share::Percent(50));
        let t0 = Instant::now();
        // Tickets List: 20 a minute on Growth, otai's half is 10 credits: three pages of 3.
        for _ in 0..3 {
            b.try_spend(Class::List, 3, t0).unwrap();
        }
        assert!(b.try_spend(Class::List, 3, t0).is_err());
        b.try_spend(Class::Other, 1, t0)
            .expect("other endpoints still go");
    }

    #[test]
    fn the_total_is_learned_and_a_spent_account_pauses() {
        let b = budget(Limits::default(), Share::Percent(50));
        let t0 = Instant::now();
        for _ in 0..100 {
            b.try_spend(Class::Other, 1, t0)
                .expect("no limit known yet");
        }
        b.observe_at(&headers(50, 40), t0);
        assert_eq!(b.total_budget(), Some(25));
        assert!(
            b.try_spend(Class::Other, 1, t0).is_err(),
            "over the learned share"
        );

        let b = budget(
            Limits {
                total: Some(1000),
                ..Limits::default()
            },
            Share::Percent(50),
        );
        b.observe_at(&headers(1000, 400), t0);
        b.observe_at(&headers(1000, 900), t0 + Duration::from_secs(20));
        b.observe_at(&headers(1000, 1), t0 + Duration::from_secs(50));
        let wait = b
            .try_spend(Class::Other, 1, t0 + Duration::from_secs(50))
            .unwrap_err();
        assert_eq!(
            wait,
            Duration::from_secs(30),
            "until the window seen at 20 s turns over"
        );
        b.try_spend(Class::Other, 1, t0 + Duration::from_secs(80))
            .unwrap();
    }
}
