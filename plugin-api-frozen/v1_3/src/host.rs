//! What the host hands to a plugin when it constructs a service.

use abi_stable::{std_types::RStr, StableAbi};

/// Severity of a log event forwarded from a plugin to the host.
#[repr(u8)]
#[derive(StableAbi, Debug, Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Something failed.
    Error = 1,
    /// Something is off but the operation went on.
    Warn = 2,
    /// Normal operation, worth seeing by default.
    Info = 3,
    /// Details for debugging.
    Debug = 4,
    /// Very verbose details (every HTTP request).
    Trace = 5,
}

/// Callbacks from a plugin into the host.
///
/// A prefix type: later 1.x releases append fields, which a plugin reads through the accessor
/// methods of [`HostContextRef`] (they return `None` from an older host).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostContextRef)))]
pub struct HostContext {
    /// The most verbose level the host will print; a plugin skips formatting events above it.
    pub max_level: extern "C" fn() -> LogLevel,
    /// Forwards one log event to the host's `tracing` output. `target` names the emitting module
    /// (e.g. `otai_zendesk::client`), `message` is the formatted event, fields included.
    /// The message must not contain secrets.
    #[sabi(last_prefix_field)]
    pub log: extern "C" fn(level: LogLevel, target: RStr<'_>, message: RStr<'_>),
}

impl HostContextRef {
    /// Whether an event at `level` would be printed by the host.
    pub fn enabled(self, level: LogLevel) -> bool {
        level <= (self.max_level())()
    }

    /// Forwards one event to the host if its level is enabled.
    pub fn emit(self, level: LogLevel, target: &str, message: &str) {
        if self.enabled(level) {
            (self.log())(level, RStr::from(target), RStr::from(message));
        }
    }
}
