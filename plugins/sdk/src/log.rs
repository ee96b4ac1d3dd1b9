//! Log forwarding: a plugin has no `tracing` subscriber of its own (its `tracing` would be a private
//! copy), so events go to the host
//! through the host context, or to a closure when the adapter is used from Rust directly (tests).

use std::{fmt, sync::Arc};

use otai_plugin_api::{HostContextRef, LogLevel};

type LogFn = dyn Fn(LogLevel, &str, &str) + Send + Sync;

#[derive(Clone)]
enum Sink {
    Silent,
    Host(HostContextRef),
    Fn(Arc<LogFn>),
}

/// Where an adapter's log events go. Cheap to clone.
///
/// Messages never contain credentials: the transport logs method, path (without query string),
/// status, elapsed time and the help desk's request id only; adapters must do the same.
#[derive(Clone)]
pub struct Logger {
    sink: Sink,
}

impl Logger {
    /// Drops every event.
    pub fn silent() -> Self {
        Logger { sink: Sink::Silent }
    }

    /// Forwards events to the host that loaded the plugin.
    pub(crate) fn host(host: HostContextRef) -> Self {
        Logger {
            sink: Sink::Host(host),
        }
    }

    /// Forwards events to a closure `(level, target, message)`; for Rust callers and tests.
    pub fn from_fn(f: impl Fn(LogLevel, &str, &str) + Send + Sync + 'static) -> Self {
        Logger {
            sink: Sink::Fn(Arc::new(f)),
        }
    }

    /// Whether an event at `level` would go anywhere (skip formatting otherwise).
    pub fn enabled(&self, level: LogLevel) -> bool {
        match &self.sink {
            Sink::Silent => false,
            Sink::Host(host) => host.enabled(level),
            Sink::Fn(_) => true,
        }
    }

    /// Emits one event; `message` is built only if the level is enabled.
    pub fn log(&self, level: LogLevel, target: &str, message: impl FnOnce() -> String) {
        if !self.enabled(level) {
            return;
        }
        let message = message();
        match &self.sink {
            Sink::Silent => {}
            Sink::Host(host) => host.emit(level, target, &message),
            Sink::Fn(f) => f(level, target, &message),
        }
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.sink {
            Sink::Silent => "silent",
            Sink::Host(_) => "host",
            Sink::Fn(_) => "fn",
        };
        f.debug_struct("Logger").field("sink", &kind).finish()
    }
}

impl Logger {
    /// An error event (`message` built only if it goes anywhere).
    pub fn error(&self, target: &str, message: impl FnOnce() -> String) {
        self.log(LogLevel::Error, target, message)
    }

    /// A warning.
    pub fn warn(&self, target: &str, message: impl FnOnce() -> String) {
        self.log(LogLevel::Warn, target, message)
    }

    /// Normal operation, worth seeing by default.
    pub fn info(&self, target: &str, message: impl FnOnce() -> String) {
        self.log(LogLevel::Info, target, message)
    }

    /// Details for debugging.
    pub fn debug(&self, target: &str, message: impl FnOnce() -> String) {
        self.log(LogLevel::Debug, target, message)
    }
}
