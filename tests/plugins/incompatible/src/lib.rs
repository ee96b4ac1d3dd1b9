//! A test library that exports an abi_stable root module under otai's root-module name
//! (`otai_plugin`) but built against a different interface: a "2.0.0" major version whose
//! root module has another layout. The host must refuse it with a short "incompatible
//! interface" reason, and keep loading the other plugins.

use abi_stable::{
    declare_root_module_statics, export_root_module, library::RootModule,
    prefix_type::PrefixTypeTrait, sabi_types::VersionStrings, std_types::RString, StableAbi,
};

/// A root module as a hypothetical otai-plugin-api 2.0 might declare it.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = IncompatibleModuleRef)))]
#[sabi(missing_field(panic))]
pub struct IncompatibleModule {
    /// A different first field than otai's `info`.
    pub describe: extern "C" fn(verbose: u32) -> RString,
    #[sabi(last_prefix_field)]
    pub answer: extern "C" fn() -> u64,
}

impl RootModule for IncompatibleModuleRef {
    declare_root_module_statics! {IncompatibleModuleRef}
    const BASE_NAME: &'static str = "otai_plugin";
    const NAME: &'static str = "otai_plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("2.0.0");
}

#[export_root_module]
pub fn get_library() -> IncompatibleModuleRef {
    IncompatibleModule { describe, answer }.leak_into_prefix()
}

extern "C" fn describe(_verbose: u32) -> RString {
    "an otai plugin from the future".into()
}

extern "C" fn answer() -> u64 {
    42
}
