//! The [`HostContextRef`] handed to every plugin service: the plugin's way into the host's logs.
//!
//! A plugin's `tracing` is a private copy without a subscriber, so it forwards its events through
//! these callbacks, and they are re-emitted here under the target `otai::plugin` with the plugin's
//! own target as the `plugin_target` field (`RUST_LOG=otai::plugin=debug` shows plugin details).
//!
//! A plugin built against interface 1.0 gets [`host_context_v1_0`]: the same callbacks behind the
//! frozen 1.0 types (see `plugins::legacy`).

use std::panic::{catch_unwind, AssertUnwindSafe};

use abi_stable::{prefix_type::WithMetadata, std_types::RStr};
use otai_plugin_api::{HostContext, HostContextRef, LogLevel};
use otai_plugin_api_v1_0 as v1_0;
use tracing::level_filters::LevelFilter;

use super::legacy::Convert;

/// One instance for the whole process: the callbacks carry no state, so every service shares it.
const CONTEXT: &WithMetadata<HostContext> = &WithMetadata::new(HostContext { max_level, log });

/// The context to pass to `PluginModule::new_ticket_system`.
pub fn host_context() -> HostContextRef {
    HostContextRef(CONTEXT.static_as_prefix())
}

/// The same callbacks for plugins built against interface 1.0, whose types are distinct.
const CONTEXT_V1_0: &WithMetadata<v1_0::HostContext> = &WithMetadata::new(v1_0::HostContext {
    max_level: max_level_v1_0,
    log: log_v1_0,
});

/// The context to pass to a 1.0 plugin's `PluginModule::new_ticket_system`.
pub fn host_context_v1_0() -> v1_0::HostContextRef {
    v1_0::HostContextRef(CONTEXT_V1_0.static_as_prefix())
}

extern "C" fn max_level_v1_0() -> v1_0::LogLevel {
    max_level().convert()
}

extern "C" fn log_v1_0(level: v1_0::LogLevel, target: RStr<'_>, message: RStr<'_>) {
    log(level.convert(), target, message)
}

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
    use super::*;

    #[test]
    fn context_callbacks_are_callable_without_a_subscriber() {
        let ctx = host_context();
        let _ = (ctx.max_level())();
        ctx.emit(LogLevel::Error, "plugin::test", "A message nobody sees.");
        let ctx = host_context_v1_0();
        let _ = (ctx.max_level())();
        ctx.emit(
            v1_0::LogLevel::Error,
            "plugin::test",
            "A message nobody sees.",
        );
    }

    #[test]
    fn levels_map_to_the_plugin_vocabulary() {
        assert_eq!(plugin_level(LevelFilter::TRACE), LogLevel::Trace);
        assert_eq!(plugin_level(LevelFilter::INFO), LogLevel::Info);
        assert_eq!(plugin_level(LevelFilter::OFF), LogLevel::Error);
    }
}
