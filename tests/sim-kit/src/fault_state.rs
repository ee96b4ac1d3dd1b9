//! [`FaultState`]: the fault configuration with its seeded RNG, deciding per request (latency,
//! which rule fires) and per job item. Seeded so that a drill run twice injects the same faults.

use std::time::Duration;

use crate::{
    faults::{Fault, Faults},
    glob::glob,
};

/// Faults plus the RNG and the rules' `next` counters as they count down.
#[derive(Debug)]
pub struct FaultState {
    faults: Faults,
    rng: fastrand::Rng,
}

impl FaultState {
    /// Starts from `faults`, the RNG seeded with `faults.seed`.
    pub fn new(faults: Faults) -> Self {
        let rng = fastrand::Rng::with_seed(faults.seed);
        FaultState { faults, rng }
    }

    /// The configuration, with `next` counters as they stand.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The latency to add to this request (fixed plus jitter).
    pub fn delay(&mut self) -> Duration {
        let l = &self.faults.latency;
        let jitter = if l.jitter_ms > 0 {
            self.rng.u64(0..=l.jitter_ms)
        } else {
            0
        };
        Duration::from_millis(l.fixed_ms + jitter)
    }

    /// The fault for this request (`path` as in [`crate::Req::path`]), if a rule fires; a
    /// firing rule with `next` counts down.
    pub fn pick(&mut self, method: &str, path: &str) -> Option<Fault> {
        for rule in self.faults.rules.iter_mut() {
            if rule
                .method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
            {
                continue;
            }
            if rule.path.as_deref().is_some_and(|g| !glob(g, path)) {
                continue;
            }
            if rule.next == Some(0) {
                continue;
            }
            let p = rule.probability.unwrap_or(1.0);
            if p < 1.0 && self.rng.f64() >= p {
                continue;
            }
            if let Some(n) = rule.next.as_mut() {
                *n -= 1;
            }
            return Some(rule.fault.clone());
        }
        None
    }

    /// Whether this job item (a ticket id) fails by injection ([`crate::JobFaults`]).
    pub fn job_item_fails(&mut self, id: u64) -> bool {
        let j = &self.faults.jobs;
        j.fail_ids.contains(&id) || (j.fail_share > 0.0 && self.rng.f64() < j.fail_share)
    }

    /// Whether jobs are stalled ([`crate::JobFaults::stall`]).
    pub fn jobs_stalled(&self) -> bool {
        self.faults.jobs.stall
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{FaultRule, JobFaults, Latency};

    #[test]
    fn latency_stays_within_fixed_plus_jitter() {
        let mut s = FaultState::new(Faults {
            latency: Latency {
                fixed_ms: 10,
                jitter_ms: 5,
            },
            ..Faults::none()
        });
        for _ in 0..50 {
            let d = s.delay().as_millis();
            assert!((10..=15).contains(&d), "{d}");
        }
    }

    #[test]
    fn next_n_counts_down_and_seed_repeats() {
        let faults = Faults::none().rule(FaultRule::always(Fault::Drop).method("PUT").next(2));
        let mut s = FaultState::new(faults);
        assert_eq!(s.pick("GET", "/x"), None);
        assert_eq!(s.pick("PUT", "/x"), Some(Fault::Drop));
        assert_eq!(s.pick("put", "/x"), Some(Fault::Drop));
        assert_eq!(s.pick("PUT", "/x"), None);
        assert_eq!(s.faults().rules[0].next, Some(0));

        let half = Faults {
            seed: 3,
            ..Faults::none().rule(FaultRule::always(Fault::Truncate).probability(0.5))
        };
        let run = |f: &Faults| {
            let mut s = FaultState::new(f.clone());
            (0..64)
                .map(|_| s.pick("GET", "/").is_some())
                .collect::<Vec<_>>()
        };
        let a = run(&half);
        assert_eq!(a, run(&half));
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
    }

    #[test]
    fn first_matching_rule_wins_and_paths_must_match() {
        let faults = Faults::none()
            .rule(FaultRule::always(Fault::Truncate).path("/a/*"))
            .rule(FaultRule::always(Fault::Malformed));
        let mut s = FaultState::new(faults);
        assert_eq!(s.pick("GET", "/a/1"), Some(Fault::Truncate));
        assert_eq!(s.pick("GET", "/b/1"), Some(Fault::Malformed));
    }

    #[test]
    fn job_items_fail_by_id_or_share() {
        let mut s = FaultState::new(Faults {
            jobs: JobFaults {
                fail_ids: vec![7],
                fail_share: 0.0,
                stall: true,
            },
            ..Faults::none()
        });
        assert!(s.job_item_fails(7));
        assert!(!s.job_item_fails(8));
        assert!(s.jobs_stalled());
    }
}
