//! The [`HostContextRef`] handed to every plugin service: the plugin's way into the host's logs.
//!
//! A plugin's `tracing` is a private copy without a subscriber, so it forwards its events through
//! these callbacks, and they are re-emitted here under the target `otai::plugin` with the plugin's
//! own target as the `plugin_target` field (`RUST_LOG=otai::plugin=debug` shows plugin details).
//!
//! A plugin built against interface 1.0, 1.1 or 1.2 gets [`host_context_v1_0`],
//! [`host_context_v1_1`], [`host_context_v1_2`] or [`host_context_v1_3`]: the same callbacks behind the frozen types of
//! its version (see `plugins::legacy`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use abi_stable::{prefix_type::WithMetadata, std_types::RStr};
use otai_plugin_api::{HostContext, HostContextRef, LogLevel};
use otai_plugin_api_v1_0 as v1_0;
use otai_plugin_api_v1_1 as v1_1;
use otai_plugin_api_v1_2 as v1_2;
use otai_plugin_api_v1_3 as v1_3;
use tracing::level_filters::LevelFilter;

use super::legacy::Convert;

/// One instance for the whole process: the callbacks carry no state, so every service shares it.
const CONTEXT: &WithMetadata<HostContext> = &WithMetadata::new(HostContext { max_level, log });

/// The context to pass to `PluginModule::new_ticket_system`.
pub fn host_context() -> HostContextRef {
    HostContextRef(CONTEXT.static_as_prefix())
}

/// The same callbacks for plugins built against an older interface, whose types are distinct:
/// `$context()` is the context to pass to that version's `PluginModule::new_ticket_system`.
macro_rules! old_host_context {
    ($v:ident, $context:ident) => {
        pub fn $context() -> $v::HostContextRef {
            extern "C" fn max_level_old() -> $v::LogLevel {
                max_level().convert()
            }
            extern "C" fn log_old(level: $v::LogLevel, target: RStr<'_>, message: RStr<'_>) {
                log(level.convert(), target, message)
            }
            const OLD: &WithMetadata<$v::HostContext> = &WithMetadata::new($v::HostContext {
                max_level: max_level_old,
                log: log_old,
            });
            $v::HostContextRef(OLD.static_as_prefix())
        }
    };
}

old_host_context!(v1_0, host_context_v1_0);
old_host_context!(v1_1, host_context_v1_1);
old_host_context!(v1_2, host_context_v1_2);
old_host_context!(v1_3, host_context_v1_3);

extern "C" fn max_level() -> LogLevel {
    plugin_level(LevelFilter::current())
}

/// The plugin interface cannot say "off": then a plugin formats only errors, which the
/// subscriber drops.
fn plugin_level(filter: LevelFilter) -> LogLevel {
    match filter {
        LevelFilter::TRACE => LogLevel::Trace,
        LevelFilter::DEBUG => LogLevel::Debug,
        LevelFilter::INFO => LogLevel::Info,
        LevelFilter::WARN => LogLevel::Warn,
        _ => LogLevel::Error,
    }
}

extern "C" fn log(level: LogLevel, target: RStr<'_>, message: RStr<'_>) {
    // A panic must not unwind back into the plugin (that would abort): a failing log line is lost.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        emit(level, target.as_str(), message.as_str())
    }));
}

fn emit(level: LogLevel, plugin_target: &str, message: &str) {
    match level {
        LogLevel::Error => tracing::error!(target: "otai::plugin", plugin_target, "{message}"),
        LogLevel::Warn => tracing::warn!(target: "otai::plugin", plugin_target, "{message}"),
        LogLevel::Info => tracing::info!(target: "otai::plugin", plugin_target, "{message}"),
        LogLevel::Debug => tracing::debug!(target: "otai::plugin", plugin_target, "{message}"),
        LogLevel::Trace => tracing::trace!(target: "otai::plugin", plugin_target, "{message}"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::{field::Field, Event, Level, Subscriber};
    use tracing_subscriber::{layer::Context, prelude::*, Layer};

    use super::*;

    /// One event as the host's subscriber saw it.
    #[derive(Debug, Clone, PartialEq)]
    struct Seen {
        level: Level,
        target: String,
        plugin_target: Option<String>,
        message: Option<String>,
    }

    /// A layer that keeps every event.
    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<Vec<Seen>>>);

    impl<S: Subscriber> Layer<S> for Collect {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            #[derive(Default)]
            struct Fields {
                plugin_target: Option<String>,
                message: Option<String>,
            }
            impl tracing::field::Visit for Fields {
                fn record_str(&mut self, field: &Field, value: &str) {
                    if field.name() == "plugin_target" {
                        self.plugin_target = Some(value.to_string());
                    }
                }
                fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                    match field.name() {
                        "message" => self.message = Some(format!("{value:?}")),
                        "plugin_target" => self.plugin_target = Some(format!("{value:?}")),
                        _ => {}
                    }
                }
            }
            let mut fields = Fields::default();
            event.record(&mut fields);
            self.0.lock().unwrap().push(Seen {
                level: *event.metadata().level(),
                target: event.metadata().target().to_string(),
                plugin_target: fields.plugin_target,
                message: fields.message,
            });
        }
    }

    /// The events `f` emitted under a subscriber that keeps them all.
    fn collect(f: impl FnOnce()) -> Vec<Seen> {
        let layer = Collect::default();
        let subscriber = tracing_subscriber::registry().with(layer.clone());
        tracing::subscriber::with_default(subscriber, f);
        let seen = layer.0.lock().unwrap().clone();
        seen
    }

    fn seen(level: Level, plugin_target: &str, message: &str) -> Seen {
        Seen {
            level,
            target: "otai::plugin".into(),
            plugin_target: Some(plugin_target.into()),
            message: Some(message.into()),
        }
    }

    #[test]
    fn plugin_log_lines_reach_the_host_under_otai_plugin_with_their_target() {
        let events = collect(|| {
            let ctx = host_context();
            for (level, message) in [
                (LogLevel::Error, "e"),
                (LogLevel::Warn, "w"),
                (LogLevel::Info, "i"),
                (LogLevel::Debug, "d"),
                (LogLevel::Trace, "t"),
            ] {
                ctx.emit(level, "otai_zendesk::http", message);
            }
        });
        assert_eq!(
            events,
            [
                seen(Level::ERROR, "otai_zendesk::http", "e"),
                seen(Level::WARN, "otai_zendesk::http", "w"),
                seen(Level::INFO, "otai_zendesk::http", "i"),
                seen(Level::DEBUG, "otai_zendesk::http", "d"),
                seen(Level::TRACE, "otai_zendesk::http", "t"),
            ]
        );
    }

    #[test]
    fn a_1_0_plugin_log_line_reaches_the_host_the_same_way() {
        let events = collect(|| {
            let ctx = host_context_v1_0();
            ctx.emit(v1_0::LogLevel::Warn, "legacy::sync", "Slow answer.");
            ctx.emit(v1_0::LogLevel::Debug, "legacy::sync", "Details.");
        });
        assert_eq!(
            events,
            [
                seen(Level::WARN, "legacy::sync", "Slow answer."),
                seen(Level::DEBUG, "legacy::sync", "Details."),
            ]
        );
    }

    #[test]
    fn levels_map_to_the_plugin_vocabulary() {
        assert_eq!(plugin_level(LevelFilter::TRACE), LogLevel::Trace);
        assert_eq!(plugin_level(LevelFilter::INFO), LogLevel::Info);
        assert_eq!(plugin_level(LevelFilter::OFF), LogLevel::Error);
    }
}
