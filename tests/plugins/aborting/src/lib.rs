//! A plugin that breaks the interface's first rule: its `info` panics without catching it. A
//! panic cannot unwind out of an `extern "C"` function, so Rust aborts the process that called
//! it. The e2e tests prove that otai loads plugins in a probe process first and reports this one
//! instead of dying (`plugins::probe`).

use abi_stable::{
    export_root_module,
    prefix_type::PrefixTypeTrait,
    std_types::{RResult, RStr},
};
use otai_plugin_api::{
    HostContextRef, PluginError, PluginInfo, PluginModule, PluginModuleRef, TicketSystemBox,
};

#[export_root_module]
pub fn get_library() -> PluginModuleRef {
    PluginModule {
        info,
        new_ticket_system,
    }
    .leak_into_prefix()
}

extern "C" fn info() -> PluginInfo {
    panic!("the aborting test plugin panics in info, unguarded")
}

extern "C" fn new_ticket_system(
    _service: RStr<'_>,
    _params_json: RStr<'_>,
    _host: HostContextRef,
) -> RResult<TicketSystemBox, PluginError> {
    panic!("never reached: info aborts first")
}
