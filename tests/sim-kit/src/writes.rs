//! [`WriteLog`]: the accepted writes in order, for a simulator whose tests need only which
//! ticket was written, how and when (Zendesk's simulator keeps a richer record of its own).

use std::sync::Mutex;

use serde::Serialize;

/// One accepted write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteEntry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// The ticket written to.
    pub ticket_id: u64,
    /// `PUT`, `POST`, `DELETE`, or a label such as `agent` for a simulated concurrent edit.
    pub method: String,
    /// The request path ([`crate::Req::path`]).
    pub path: String,
    /// Unix seconds, from the account's clock.
    pub at: i64,
}

/// Accepted writes, in order; shared by `&self` so routes can record under no other lock.
#[derive(Debug, Default)]
pub struct WriteLog {
    entries: Mutex<Vec<WriteEntry>>,
}

impl WriteLog {
    /// An empty log.
    pub fn new() -> Self {
        WriteLog::default()
    }

    /// Records a write and returns its entry.
    pub fn record(&self, ticket_id: u64, method: &str, path: &str, at: i64) -> WriteEntry {
        let mut entries = self.entries.lock().unwrap();
        let entry = WriteEntry {
            seq: entries.len() as u64 + 1,
            ticket_id,
            method: method.to_string(),
            path: path.to_string(),
            at,
        };
        entries.push(entry.clone());
        entry
    }

    /// Every write, in order.
    pub fn all(&self) -> Vec<WriteEntry> {
        self.entries.lock().unwrap().clone()
    }

    /// The writes to one ticket, in order.
    pub fn for_ticket(&self, ticket_id: u64) -> Vec<WriteEntry> {
        let entries = self.entries.lock().unwrap();
        entries
            .iter()
            .filter(|w| w.ticket_id == ticket_id)
            .cloned()
            .collect()
    }

    /// How many writes were recorded.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every write (a reset).
    pub fn clear(&self) {
        self.entries.lock().unwrap().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_numbered_in_order_and_filtered_by_ticket() {
        let log = WriteLog::new();
        log.record(1, "PUT", "/api/v1/tickets/1", 10);
        log.record(2, "PUT", "/api/v1/tickets/2", 11);
        let third = log.record(1, "agent", "agent", 12);
        assert_eq!(third.seq, 3);
        assert_eq!(log.for_ticket(1).len(), 2);
        assert_eq!(log.len(), 3);
        log.clear();
        assert!(log.is_empty());
    }
}
