//! [`KitStats`]: the counters every simulator keeps the same way, counted by the kit's request
//! pipeline; a simulator adds its own ([`crate::SimApi::stats`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Counters common to every simulator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KitStats {
    /// API requests received ([`crate::RequestKind::Api`]; admin and auxiliary requests
    /// excluded).
    pub requests: u64,
    /// Faults that fired (drops included), on API and auxiliary requests.
    pub faults_injected: u64,
    /// Connections closed without an answer (API and auxiliary requests).
    pub dropped_connections: u64,
    /// API answers by status code.
    pub by_status: BTreeMap<u16, u64>,
}

impl KitStats {
    /// API answers with one of these statuses, e.g. `&[401, 403]`.
    pub fn answered(&self, statuses: &[u16]) -> u64 {
        statuses.iter().filter_map(|s| self.by_status.get(s)).sum()
    }
}
