//! Freshdesk's API rate limits (helpdesk-apis.md 2.6; docs "Rate Limit"): credits per account per
//! minute by [`Plan`], plus per-endpoint sub-limits (Ticket Create, Ticket Update, Tickets List,
//! Contacts List). A request costs 1 credit plus 2 per `include` item ([`cost`]).
//!
//! The simulator counts in **fixed windows of real (monotonic) time** from its start (60 s by
//! default, shorter for tests): the account clock can stand still for a test, a quota cannot.
//! A request that would take the account total or its endpoint's sub-limit over the limit is
//! refused with 429 and consumes nothing; every other request consumes its cost **before** it is
//! served, so invalid requests (4xx) count, as the docs say.

use std::time::Duration;

use serde::Serialize;

/// `X-RateLimit-Total` for [`Plan::Unlimited`] (no limit applies).
pub const UNLIMITED_TOTAL: u64 = 1_000_000;

/// A Freshdesk plan's per-minute limits (docs "Rate Limit" table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Plan {
    /// 50 credits, no sub-limits.
    Trial,
    /// 200; Ticket Create 80, Ticket Update 80, Tickets List 20, Contacts List 20.
    Growth,
    /// 400; 160 / 160 / 100 / 100.
    Pro,
    /// 700; 280 / 280 / 200 / 200 (the builder's default).
    Enterprise,
    /// Any limits (a purchased tier, or a test's small numbers); Contacts List gets `list`.
    Custom {
        /// Account total.
        total: u64,
        /// Ticket Create sub-limit.
        create: u64,
        /// Ticket Update sub-limit.
        update: u64,
        /// Tickets List (and Contacts List) sub-limit.
        list: u64,
    },
    /// No limits; the headers are still sent, with a total of [`UNLIMITED_TOTAL`].
    Unlimited,
}

/// The numbers of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Account total per window.
    pub total: u64,
    /// Sub-limits by [`Endpoint`] (Ticket Create, Ticket Update, Tickets List, Contacts List);
    /// `None`: only the total applies.
    pub per_endpoint: Option<[u64; 4]>,
    /// Whether anything is refused at all.
    pub enforced: bool,
}

impl Plan {
    /// The plan's numbers.
    pub fn limits(&self) -> Limits {
        let sub = |total, c, u, l| Limits {
            total,
            per_endpoint: Some([c, u, l, l]),
            enforced: true,
        };
        match *self {
            Plan::Trial => Limits {
                total: 50,
                per_endpoint: None,
                enforced: true,
            },
            Plan::Growth => sub(200, 80, 80, 20),
            Plan::Pro => sub(400, 160, 160, 100),
            Plan::Enterprise => sub(700, 280, 280, 200),
            Plan::Custom {
                total,
                create,
                update,
                list,
            } => sub(total, create, update, list),
            Plan::Unlimited => Limits {
                total: UNLIMITED_TOTAL,
                per_endpoint: None,
                enforced: false,
            },
        }
    }

    /// `trial`, `growth`, `pro`, `enterprise`, `unlimited` or `custom:TOTAL,CREATE,UPDATE,LIST`.
    pub fn parse(s: &str) -> Result<Plan, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "trial" => Plan::Trial,
            "growth" => Plan::Growth,
            "pro" => Plan::Pro,
            "enterprise" => Plan::Enterprise,
            "unlimited" => Plan::Unlimited,
            other => {
                let nums = other.strip_prefix("custom:").ok_or(
                    "trial, growth, pro, enterprise, unlimited or custom:TOTAL,CREATE,UPDATE,LIST",
                )?;
                let n: Vec<u64> = nums
                    .split(',')
                    .map(|x| x.trim().parse::<u64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| "custom:TOTAL,CREATE,UPDATE,LIST takes four whole numbers")?;
                let [total, create, update, list] = n[..] else {
                    return Err("custom:TOTAL,CREATE,UPDATE,LIST takes four whole numbers".into());
                };
                Plan::Custom {
                    total,
                    create,
                    update,
                    list,
                }
            }
        })
    }
}

/// The endpoint classes with a sub-limit of their own; everything else counts only against
/// the account total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /api/v2/tickets`.
    TicketCreate = 0,
    /// `PUT /api/v2/tickets/{id}`, `POST /api/v2/tickets/bulk_update`.
    TicketUpdate = 1,
    /// `GET /api/v2/tickets` (the list; not search).
    TicketsList = 2,
    /// `GET /api/v2/contacts`.
    ContactsList = 3,
}

/// The class of a request (`path` normalised, as [`otai_sim_kit::Req::path`]).
pub fn classify(method: &str, path: &str) -> Option<Endpoint> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, &segs[..]) {
        ("POST", ["api", "v2", "tickets"]) => Some(Endpoint::TicketCreate),
        ("PUT", ["api", "v2", "tickets", _])
        | ("POST", ["api", "v2", "tickets", "bulk_update"]) => Some(Endpoint::TicketUpdate),
        ("GET", ["api", "v2", "tickets"]) => Some(Endpoint::TicketsList),
        ("GET", ["api", "v2", "contacts"]) => Some(Endpoint::ContactsList),
        _ => None,
    }
}

/// A request's cost: 1, plus 2 per `include` item on the ticket list and on one ticket (docs:
/// "Each include will consume an additional 2 credits"). Items are counted as sent, valid or
/// not: an invalid request costs too.
pub fn cost(method: &str, path: &str, include: Option<&str>) -> u64 {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let includes = match (method, &segs[..]) {
        ("GET", ["api", "v2", "tickets"]) | ("GET", ["api", "v2", "tickets", _]) => include
            .map(|i| i.split(',').filter(|s| !s.trim().is_empty()).count() as u64)
            .unwrap_or(0),
        _ => 0,
    };
    1 + 2 * includes
}

/// What [`Windows::admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Admitted; the credits were consumed.
    Admitted {
        /// The account total's remaining credits in the window, after this request.
        remaining: u64,
    },
    /// Refused (429); nothing consumed.
    Refused {
        /// Whole seconds until the window ends (at least 1).
        retry_after: u64,
        /// The account total's remaining credits in the window.
        remaining: u64,
    },
}

/// The credits used in the current fixed window. Pure: the caller passes the time elapsed since
/// the simulator's start, so the accounting is testable without waiting.
#[derive(Debug, Clone)]
pub struct Windows {
    limits: Limits,
    len: Duration,
    index: u64,
    used_total: u64,
    used: [u64; 4],
}

impl Windows {
    /// Windows of `len` (at least 1 ms) under `limits`.
    pub fn new(limits: Limits, len: Duration) -> Self {
        Windows {
            limits,
            len: len.max(Duration::from_millis(1)),
            index: 0,
            used_total: 0,
            used: [0; 4],
        }
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn roll(&mut self, elapsed: Duration) {
        let index = (elapsed.as_nanos() / self.len.as_nanos()) as u64;
        if index != self.index {
            self.index = index;
            self.used_total = 0;
            self.used = [0; 4];
        }
    }

    fn remaining(&self) -> u64 {
        self.limits.total.saturating_sub(self.used_total)
    }

    /// Admits a request of `endpoint` class costing `cost` at `elapsed`, or refuses it.
    pub fn admit(&mut self, elapsed: Duration, endpoint: Option<Endpoint>, cost: u64) -> Verdict {
        self.roll(elapsed);
        let over_total = self.used_total + cost > self.limits.total;
        let over_endpoint = match (endpoint, self.limits.per_endpoint) {
            (Some(e), Some(sub)) => self.used[e as usize] + cost > sub[e as usize],
            _ => false,
        };
        if self.limits.enforced && (over_total || over_endpoint) {
            let window_end = self.len.as_nanos() * (self.index as u128 + 1);
            let left_ns = window_end.saturating_sub(elapsed.as_nanos());
            let retry_after = left_ns.div_ceil(1_000_000_000).max(1) as u64;
            return Verdict::Refused {
                retry_after,
                remaining: self.remaining(),
            };
        }
        self.used_total += cost;
        if let Some(e) = endpoint {
            self.used[e as usize] += cost;
        }
        Verdict::Admitted {
            remaining: self.remaining(),
        }
    }

    /// Credits used by someone else (another integration, a custom app) at `elapsed`: they count
    /// against the account total of the window, never refused.
    pub fn consume(&mut self, elapsed: Duration, credits: u64) {
        self.roll(elapsed);
        self.used_total = self.used_total.saturating_add(credits);
    }

    /// Credits used in the window at `elapsed`.
    pub fn used(&mut self, elapsed: Duration) -> u64 {
        self.roll(elapsed);
        self.used_total
    }
}

/// The largest sum of `(at_ms, cost)` costs within any window `[t, t + window)`; `points` in
/// time order.
pub fn max_in_window(points: &[(u64, u64)], window: Duration) -> u64 {
    let w = window.as_millis() as u64;
    let (mut best, mut sum, mut start) = (0, 0, 0);
    for end in 0..points.len() {
        sum += points[end].1;
        while points[end].0 >= points[start].0 + w.max(1) {
            sum -= points[start].1;
            start += 1;
        }
        best = best.max(sum);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn plans_have_the_documented_numbers() {
        assert_eq!(Plan::Trial.limits().total, 50);
        assert_eq!(Plan::Trial.limits().per_endpoint, None);
        assert_eq!(Plan::Growth.limits().per_endpoint, Some([80, 80, 20, 20]));
        assert_eq!(Plan::Pro.limits().total, 400);
        assert_eq!(
            Plan::Enterprise.limits().per_endpoint,
            Some([280, 280, 200, 200])
        );
        assert_eq!(
            Plan::parse("custom:10,2,3,4").unwrap(),
            Plan::Custom {
                total: 10,
                create: 2,
                update: 3,
                list: 4
            }
        );
        assert!(Plan::parse("custom:1,2").is_err());
        assert_eq!(Plan::parse("Unlimited").unwrap(), Plan::Unlimited);
    }

    #[test]
    fn classes_and_costs() {
        assert_eq!(
            classify("PUT", "/api/v2/tickets/5"),
            Some(Endpoint::TicketUpdate)
        );
        assert_eq!(
            classify("POST", "/api/v2/tickets/bulk_update"),
            Some(Endpoint::TicketUpdate)
        );
        assert_eq!(
            classify("GET", "/api/v2/tickets"),
            Some(Endpoint::TicketsList)
        );
        assert_eq!(classify("GET", "/api/v2/search/tickets"), None);
        assert_eq!(classify("GET", "/api/v2/tickets/5"), None);
        assert_eq!(cost("GET", "/api/v2/tickets", Some("description,stats")), 5);
        assert_eq!(cost("GET", "/api/v2/tickets/3", Some("conversations")), 3);
        assert_eq!(cost("GET", "/api/v2/groups", Some("x")), 1);
    }

    #[test]
    fn the_total_and_a_sub_limit_refuse_until_the_window_ends() {
        let plan = Plan::Custom {
            total: 5,
            create: 5,
            update: 2,
            list: 5,
        };
        let mut w = Windows::new(plan.limits(), 60 * S);
        let up = Some(Endpoint::TicketUpdate);
        assert_eq!(w.admit(S, up, 1), Verdict::Admitted { remaining: 4 });
        assert_eq!(w.admit(S, up, 1), Verdict::Admitted { remaining: 3 });
        assert_eq!(
            w.admit(10 * S, up, 1),
            Verdict::Refused {
                retry_after: 50,
                remaining: 3
            }
        );
        assert_eq!(w.admit(10 * S, None, 3), Verdict::Admitted { remaining: 0 });
        assert!(matches!(
            w.admit(Duration::from_millis(59_900), None, 1),
            Verdict::Refused { retry_after: 1, .. }
        ));
        assert_eq!(w.admit(60 * S, up, 1), Verdict::Admitted { remaining: 4 });
        w.consume(61 * S, 10);
        assert_eq!(w.used(61 * S), 11);
        let mut free = Windows::new(Plan::Unlimited.limits(), 60 * S);
        for _ in 0..100 {
            assert!(matches!(free.admit(S, up, 50), Verdict::Admitted { .. }));
        }
    }

    #[test]
    fn the_sliding_maximum_finds_the_busiest_window() {
        let pts = [(0, 3), (500, 1), (999, 2), (1000, 5), (2500, 1)];
        assert_eq!(max_in_window(&pts, S), 8);
        assert_eq!(max_in_window(&pts, 3 * S), 12);
        assert_eq!(max_in_window(&[], S), 0);
    }
}
