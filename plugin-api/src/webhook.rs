//! Since 1.4. Webhook deliveries: a help desk tells otai that tickets changed, and the plugin,
//! which knows how its help desk signs and shapes them, verifies and reads them.
//!
//! The host does the HTTP part (listening, capping bodies, de-duplicating deliveries, storing
//! accepted ticket ids before answering); the plugin only checks the signature and names the
//! tickets. It must not make requests here: `verify_webhook` is local and immediate.

use abi_stable::{
    std_types::{ROption, RString, RVec},
    StableAbi,
};

/// Since 1.4. One HTTP header of a delivery. The host lower-cases every name; a header sent
/// several times appears several times, in the order received.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookHeader {
    pub name: RString,
    pub value: RString,
}

/// Since 1.4. A delivery as the host received it.
#[repr(C)]
#[derive(StableAbi, Clone, Default, PartialEq, Eq)]
pub struct WebhookRequest {
    pub headers: RVec<WebhookHeader>,
    /// The raw body: signatures are computed over these exact bytes.
    pub body: RVec<u8>,
    /// When the host received it, in seconds since the Unix epoch: the clock a plugin compares a
    /// signed timestamp with to refuse stale (replayed) deliveries.
    pub received_at: i64,
}

/// Headers may carry credentials (Basic auth, shared secrets) and bodies ticket text: a
/// `Debug` print shows only header names and the body's length.
impl std::fmt::Debug for WebhookRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|h| h.name.as_str()).collect();
        f.debug_struct("WebhookRequest")
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .field("received_at", &self.received_at)
            .finish()
    }
}

impl WebhookRequest {
    /// The first value of header `name` (lower-case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.as_str() == name)
            .map(|h| h.value.as_str())
    }
}

/// Since 1.4. What a verified delivery is about.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The tickets to look at again (usually one). Empty: a delivery otai has nothing to do
    /// with (a test ping, another event type); the host answers 2xx and does nothing.
    pub ticket_ids: RVec<RString>,
    /// The help desk's own id of this delivery (Zendesk: `x-zendesk-webhook-invocation-id`,
    /// Zammad: `X-Zammad-Delivery`), by which the host recognises a delivery sent twice. None
    /// if the help desk sends none.
    pub delivery_id: ROption<RString>,
}
