//! Since 1.2. otai's own words for priorities and ticket states: defined once, here, and used by
//! the host and by every adapter (which maps its help desk's words onto them).

/// otai's priorities, lowest first. A plugin maps them onto its help desk's own
/// ([`Ticket::priority`](crate::Ticket::priority), [`TicketUpdate::priority`](crate::TicketUpdate::priority)).
pub const PRIORITIES: [&str; 4] = [
    PRIORITY_LOW,
    PRIORITY_NORMAL,
    PRIORITY_HIGH,
    PRIORITY_URGENT,
];
/// The lowest priority.
pub const PRIORITY_LOW: &str = "low";
/// The usual priority.
pub const PRIORITY_NORMAL: &str = "normal";
/// Above the usual.
pub const PRIORITY_HIGH: &str = "high";
/// The highest priority.
pub const PRIORITY_URGENT: &str = "urgent";

/// The names of the status categories ([`StatusCategory`](crate::StatusCategory)).
pub mod status {
    /// Nobody has worked on the ticket yet.
    pub const NEW: &str = "new";
    /// Being worked on.
    pub const OPEN: &str = "open";
    /// Waiting for the customer or a third party.
    pub const PENDING: &str = "pending";
    /// Answered; may still reopen.
    pub const SOLVED: &str = "solved";
    /// Finished for good.
    pub const CLOSED: &str = "closed";
}
