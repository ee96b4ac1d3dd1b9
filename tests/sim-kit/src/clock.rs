//! [`Clock`]: the simulated account's clock in unix seconds. It runs with the system clock or is
//! stopped at a second of the test's choosing (`PUT /__sim/clock`), which makes same-second races
//! (two changes sharing one `updated_at`) reproducible. It stamps the `Date` header of every
//! answer and, through the simulator, every stamp the simulator writes.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A shared handle on the account's clock: clones read and set the same clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    stopped_at: Arc<Mutex<Option<i64>>>,
}

impl Clock {
    /// A clock running with the system's.
    pub fn system() -> Self {
        Clock::default()
    }

    /// The current second (unix seconds).
    pub fn now(&self) -> i64 {
        self.stopped().unwrap_or_else(system_now)
    }

    /// Stops the clock at `at` (unix seconds; every later reading is `at` until set again), or
    /// lets it run with the system clock again with `None`.
    pub fn set(&self, at: Option<i64>) {
        *self.stopped_at.lock().unwrap() = at;
    }

    /// Where the clock stands still, if it does.
    pub fn stopped(&self) -> Option<i64> {
        *self.stopped_at.lock().unwrap()
    }
}

/// The system clock in unix seconds.
pub fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for unix seconds `secs` (the `Date` header's form).
pub fn http_date(secs: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_clock_stands_still_for_every_clone() {
        let clock = Clock::system();
        let other = clock.clone();
        clock.set(Some(784_111_777));
        assert_eq!(other.now(), 784_111_777);
        assert_eq!(http_date(other.now()), "Sun, 06 Nov 1994 08:49:37 GMT");
        other.set(None);
        assert!(clock.now() >= system_now() - 1);
        assert_eq!(clock.stopped(), None);
    }
}
