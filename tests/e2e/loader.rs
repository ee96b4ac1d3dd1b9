//! Loading a plugins directory: each plugin through the interface version it was built against,
//! every failure reported with its path and a short reason, and the good plugin next to it still
//! loading.

use std::path::Path;

use otai::plugins::{load_dir, loader::interface_version, LoadError, LoadReport, LoadedModule};

use crate::support::{copy_plugin, plugins_dir, system_library, INCOMPATIBLE, LEGACY, MISBEHAVING};

fn assert_good_plugin_loaded(report: &LoadReport) {
    let names: Vec<&str> = report.plugins.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, [MISBEHAVING], "failures: {:?}", report.failures);
}

fn only_failure(report: &LoadReport) -> &otai::plugins::LoadFailure {
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    &report.failures[0]
}

#[test]
fn good_plugin_describes_itself() {
    let dir = plugins_dir(&[MISBEHAVING]);
    let report = load_dir(dir.path());
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let plugin = &report.plugins[0];
    assert_eq!(plugin.name, MISBEHAVING);
    assert_eq!(plugin.version, "0.1.0");
    assert_eq!(plugin.path, dir.path().join("libotai_test_misbehaving.so"));
    let services: Vec<&str> = plugin.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(services, ["MisbehavingService", "OddService"]);
}

#[test]
fn each_plugin_loads_through_the_interface_version_it_was_built_against() {
    let dir = plugins_dir(&[MISBEHAVING, LEGACY]);

    let report = load_dir(dir.path());

    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let loaded: Vec<(&str, &str, bool)> = report
        .plugins
        .iter()
        .map(|p| {
            let adapted = matches!(p.module, LoadedModule::V1_0(_));
            (p.name.as_str(), p.interface.as_str(), adapted)
        })
        .collect();
    assert_eq!(
        loaded,
        [
            (LEGACY, "1.0.0", true),
            (MISBEHAVING, interface_version(), false)
        ]
    );
    let legacy = &report.plugins[0];
    assert_eq!(legacy.services.len(), 1);
    assert_eq!(legacy.services[0].name, "LegacyService");
    assert_eq!(legacy.services[0].kind.name(), "ticket_system");
}

#[test]
fn garbage_file_is_reported_with_its_path() {
    let dir = plugins_dir(&[MISBEHAVING]);
    let garbage = dir.path().join("garbage.so");
    std::fs::write(
        &garbage,
        b"\x7fELF but not really, just some random bytes \x00\x01\x02",
    )
    .unwrap();
    let report = load_dir(dir.path());
    assert_good_plugin_loaded(&report);
    let failure = only_failure(&report);
    assert_eq!(failure.path, garbage);
    assert!(
        matches!(failure.reason, LoadError::NotALibrary(_)),
        "{failure}"
    );
    let message = failure.to_string();
    assert!(
        message.starts_with(&garbage.display().to_string()),
        "{message}"
    );
    assert!(message.lines().count() <= 3, "{message}");
}

#[test]
fn library_without_root_module_is_not_an_otai_plugin() {
    let dir = plugins_dir(&[MISBEHAVING]);
    let lib = dir.path().join("libz.so");
    std::fs::copy(system_library(), &lib).unwrap();
    let report = load_dir(dir.path());
    assert_good_plugin_loaded(&report);
    let failure = only_failure(&report);
    assert_eq!(failure.path, lib);
    assert_eq!(failure.reason, LoadError::NotAPlugin);
    assert!(
        failure.to_string().contains("not an otai plugin"),
        "{failure}"
    );
}

#[test]
fn incompatible_interface_is_reported_briefly() {
    let dir = plugins_dir(&[MISBEHAVING, INCOMPATIBLE]);
    let report = load_dir(dir.path());
    assert_good_plugin_loaded(&report);
    let failure = only_failure(&report);
    assert_eq!(
        failure.path,
        dir.path().join("libotai_test_incompatible.so")
    );
    assert!(
        matches!(failure.reason, LoadError::Incompatible(_)),
        "{failure}"
    );
    let message = failure.to_string();
    assert!(
        message.contains("incompatible plugin interface"),
        "{message}"
    );
    assert!(
        message.contains("incompatible plugin interface: otai-plugin-api 2.0.0;")
            && message.contains("this host loads plugins built against 1.0 to 1.4"),
        "{message}"
    );
    assert!(
        message.len() < 600 && message.lines().count() <= 3,
        "{message}"
    );
}

#[test]
fn duplicate_name_rejects_the_second_file_naming_the_first() {
    let dir = plugins_dir(&[MISBEHAVING]);
    let second = copy_plugin(dir.path(), MISBEHAVING, "zz_copy.so");
    let report = load_dir(dir.path());
    assert_good_plugin_loaded(&report);
    let failure = only_failure(&report);
    assert_eq!(failure.path, second);
    let first = dir.path().join("libotai_test_misbehaving.so");
    assert_eq!(
        failure.reason,
        LoadError::Duplicate {
            name: MISBEHAVING.into(),
            first: first.clone()
        }
    );
    assert!(
        failure.to_string().contains(&first.display().to_string()),
        "{failure}"
    );
}

#[test]
fn missing_directory_is_reported_with_its_path() {
    let dir = tempfile::TempDir::new().unwrap();
    let missing = dir.path().join("no-such-plugins");
    let report = load_dir(&missing);
    assert!(report.plugins.is_empty());
    let failure = only_failure(&report);
    assert_eq!(failure.path, missing);
    assert_eq!(failure.reason, LoadError::MissingDirectory);
    assert!(failure.to_string().contains("does not exist"), "{failure}");
}

#[test]
fn subfolders_and_other_files_are_ignored() {
    let dir = plugins_dir(&[MISBEHAVING]);
    let sub = dir.path().join("disabled");
    std::fs::create_dir(&sub).unwrap();
    copy_plugin(&sub, MISBEHAVING, "libotai_test_misbehaving.so");
    std::fs::write(sub.join("garbage.so"), b"nope").unwrap();
    std::fs::create_dir(dir.path().join("folder.so")).unwrap();
    std::fs::write(dir.path().join("README.txt"), b"not a plugin").unwrap();
    std::fs::write(dir.path().join("libold.so.bak"), b"not a plugin either").unwrap();
    let report = load_dir(dir.path());
    assert_good_plugin_loaded(&report);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

#[test]
fn every_failure_is_reported_in_file_name_order() {
    let dir = plugins_dir(&[MISBEHAVING, INCOMPATIBLE]);
    std::fs::write(dir.path().join("a_garbage.so"), b"garbage").unwrap();
    std::fs::copy(system_library(), dir.path().join("b_system.so")).unwrap();
    copy_plugin(dir.path(), MISBEHAVING, "z_duplicate.so");
    let report = load_dir(dir.path());
    assert_good_plugin_loaded(&report);
    let failed: Vec<&str> = report
        .failures
        .iter()
        .map(|f| f.path.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "a_garbage.so",
            "b_system.so",
            "libotai_test_incompatible.so",
            "z_duplicate.so"
        ]
    );
}

#[test]
fn the_same_library_in_two_directories_loads_as_two_plugins() {
    // Guards against `RootModule::load_from_file`'s per-type cache, which would hand back the
    // first module for every path.
    let a = plugins_dir(&[MISBEHAVING]);
    let b = plugins_dir(&[MISBEHAVING]);
    let first = load_dir(a.path());
    let second = load_dir(b.path());
    assert_eq!(
        first.plugins[0].path,
        a.path().join("libotai_test_misbehaving.so")
    );
    assert_eq!(
        second.plugins[0].path,
        b.path().join("libotai_test_misbehaving.so")
    );
    assert!(Path::new(&second.plugins[0].path).starts_with(b.path()));
}
