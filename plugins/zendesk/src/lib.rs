//! Zendesk adapter.
