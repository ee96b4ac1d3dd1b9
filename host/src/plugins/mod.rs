//! Adapter plugins: finding and loading the `.so` files, and wrapping their services in the host's
//! own types.
//!
//! ## Layout
//! - [`loader`]: scans the plugins directory and loads each library through the interface version
//!   it was built against, keeping every failure.
//! - [`probe`]: loads each library in a throwaway process first (the `otai` binary), so one that
//!   aborts while loading is reported instead of taking otai down.
//! - `plugin_thread`: where a plugin service's calls run (its own threads), so a blocking plugin
//!   cannot hold the host.
//! - [`trust`]: refuses plugin files (and folders) that someone other than root or otai's user could
//!   have written; the sha256 logged for every plugin that loads.
//! - `legacy`: plugins built against interface 1.0 (a frozen copy of it), adapted to look like
//!   current ones.
//! - [`registry`]: the loaded plugins, and construction of configured ticket systems from them.
//! - [`foreign`]: [`ForeignTicketSystem`], a plugin service behind the native [`TicketSystem`](crate::ticket::TicketSystem) trait.
//! - `convert`: `R*` interface types to and from the host's ticket types.
//! - [`host_context`]: the logging callbacks handed to plugins.

mod convert;
pub mod foreign;
pub mod host_context;
mod legacy;
pub mod loader;
mod plugin_thread;
pub mod probe;
pub mod registry;
pub mod trust;

pub use foreign::ForeignTicketSystem;
pub use loader::{
    load_dir, LoadError, LoadFailure, LoadReport, LoadedModule, LoadedPlugin, ServiceDescription,
};
pub use registry::{PluginRegistry, ServiceError, ServiceProblem};
