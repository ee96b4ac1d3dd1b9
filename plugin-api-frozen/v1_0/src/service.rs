//! The ticket-system service: the trait object a plugin hands to the host.

use abi_stable::{
    sabi_trait,
    std_types::{RBox, ROption, RResult, RString, RVec},
};
use async_ffi::{FfiFuture, FutureExt};

use crate::{
    error::PluginError,
    ticket::{Note, SearchQuery, Ticket, TicketUpdate},
};

/// The result of every service call.
pub type PluginResult<T> = RResult<T, PluginError>;

/// What every async service method returns.
///
/// The plugin drives the work on its own runtime (its tokio is not the host's) and hands back a
/// future the host can await on any executor. Dropping the future must cancel the work.
pub type ServiceFuture<T> = FfiFuture<PluginResult<T>>;

/// A ticket-system service as the host holds it.
pub type TicketSystemBox = TicketSystemService_TO<'static, RBox<()>>;

/// A help desk as otai sees it: read tickets, write partial updates and notes.
///
/// Ids are strings so that help desks with non-numeric keys fit; a plugin validates their form
/// (Zendesk: a 64-bit unsigned integer) and returns [`ErrorKind::VALIDATION`](crate::ErrorKind::VALIDATION)
/// otherwise. Every method catches panics and returns [`ErrorKind::PANICKED`](crate::ErrorKind::PANICKED).
///
/// Methods are only ever appended (see the crate's versioning rules); a method added after 1.0
/// has a default body.
#[sabi_trait]
pub trait TicketSystemService: Send + Sync {
    /// Every ticket matching `query`, following all pages, at most `query.limit` of them.
    fn find_tickets(&self, query: SearchQuery) -> ServiceFuture<RVec<Ticket>>;

    /// The first ticket matching `query`, or none.
    fn find_first_ticket(&self, query: SearchQuery) -> ServiceFuture<ROption<Ticket>>;

    /// One ticket by id, or none if it does not exist.
    fn get_ticket(&self, id: RString) -> ServiceFuture<ROption<Ticket>>;

    /// Applies a partial update to one ticket in a single write, and returns the ticket as it is
    /// afterwards. Either all of the update is applied or none of it. With
    /// [`TicketUpdate::if_unchanged_since`] set, a ticket changed since then is not written and
    /// [`ErrorKind::CONFLICT`](crate::ErrorKind::CONFLICT) is returned.
    fn update_ticket(&self, id: RString, update: TicketUpdate) -> ServiceFuture<Ticket>;

    /// Adds a note (a comment) to a ticket; internal unless [`Note::public`] is set.
    fn add_note(&self, id: RString, note: Note) -> ServiceFuture<()>;

    /// Makes one authenticated read and says who the service is connected as, e.g.
    /// `"support@example.com (admin) on https://example.zendesk.com"`. Used by `otai check --connect`.
    #[sabi(last_prefix_field)]
    fn check_connection(&self) -> ServiceFuture<RString> {
        async { RResult::RErr(PluginError::unsupported("check_connection")) }.into_ffi()
    }
}
