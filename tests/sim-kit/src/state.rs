//! [`SimState`]: what the kit keeps for a simulator (faults with their RNG, the clock, the common
//! counters, request ids). Made before the simulator's own state so that the simulator can hold
//! the same clock and read the job faults; shared by the pipeline, the admin API and the handles.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Mutex, MutexGuard,
};

use crate::{clock::Clock, fault_state::FaultState, faults::Faults, stats::KitStats};

/// The kit's part of a running simulator.
#[derive(Debug)]
pub struct SimState {
    faults: Mutex<FaultState>,
    initial_faults: Faults,
    clock: Clock,
    stats: Mutex<KitStats>,
    request_seq: AtomicU64,
}

impl SimState {
    /// Starts with `faults` (also what a reset returns to) and a running clock.
    pub fn new(faults: Faults) -> Self {
        SimState {
            faults: Mutex::new(FaultState::new(faults.clone())),
            initial_faults: faults,
            clock: Clock::system(),
            stats: Mutex::new(KitStats::default()),
            request_seq: AtomicU64::new(0),
        }
    }

    /// The account's clock (clone it into the simulator's store).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current faults (with `next` counters as they stand).
    pub fn faults(&self) -> Faults {
        self.faults.lock().unwrap().faults().clone()
    }

    /// Replaces the faults (and reseeds the RNG).
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap() = FaultState::new(faults);
    }

    /// The fault state under its lock, e.g. for [`FaultState::job_item_fails`].
    pub fn fault_state(&self) -> MutexGuard<'_, FaultState> {
        self.faults.lock().unwrap()
    }

    /// The common counters.
    pub fn stats(&self) -> KitStats {
        self.stats.lock().unwrap().clone()
    }

    /// Faults back to those at start (RNG reseeded), counters to zero, the clock running again.
    /// Request ids keep counting, so that ids stay unique across a reset.
    pub fn reset(&self) {
        self.set_faults(self.initial_faults.clone());
        *self.stats.lock().unwrap() = KitStats::default();
        self.clock.set(None);
    }

    pub(crate) fn count(&self, f: impl FnOnce(&mut KitStats)) {
        f(&mut self.stats.lock().unwrap());
    }

    /// `sim-00000001`, `sim-00000002`, ...
    pub(crate) fn next_request_id(&self) -> String {
        let n = self.request_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("sim-{n:08}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{Fault, FaultRule};

    #[test]
    fn reset_restores_initial_faults_and_clears_counters_and_clock() {
        let initial = Faults::none().rule(FaultRule::always(Fault::Drop).next(1));
        let s = SimState::new(initial.clone());
        assert_eq!(s.fault_state().pick("GET", "/"), Some(Fault::Drop));
        s.count(|st| st.requests += 3);
        s.clock().set(Some(10));
        s.set_faults(Faults::none());
        s.reset();
        assert_eq!(s.faults(), initial);
        assert_eq!(s.stats(), KitStats::default());
        assert_eq!(s.clock().stopped(), None);
        assert_eq!(s.next_request_id(), "sim-00000001");
        assert_eq!(s.next_request_id(), "sim-00000002");
    }
}
