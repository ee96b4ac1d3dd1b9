//! The `otai` binary on a temporary working directory: exit codes, stdout and stderr.

use std::{
    path::Path,
    process::{Command, Output},
};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::{copy_plugin, ABORTING, MISBEHAVING};

/// Runs `otai` in `cwd` with a clean environment for its own variables.
fn otai(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("OTAI_CONFIG")
        .output()
        .expect("run the otai binary")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A working directory with `plugins/` holding the misbehaving plugin and `config/config.yml`
/// using it as `desk` (mode `ok`) and `broken` (mode `panic`).
fn workdir() -> TempDir {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    copy_plugin(
        &dir.path().join("plugins"),
        MISBEHAVING,
        "libotai_test_misbehaving.so",
    );
    write_config(
        dir.path(),
        "ticket_systems:\n  desk:\n    use: otai_test_misbehaving:MisbehavingService\n    params:\n      mode: ok\n    call_timeout: 2\n",
    );
    dir
}

fn write_config(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(dir.join("config/config.yml"), text).unwrap();
}

#[test]
fn a_plugins_dir_written_for_the_working_directory_is_refused_naming_both_places() {
    // A file written when relative paths were the working directory's: `plugins` exists beside
    // config/, not in it. otai says so instead of loading nothing.
    let dir = workdir();
    write_config(dir.path(), "plugins_dir: plugins\n");
    let output = otai(dir.path(), &["plugins", "list"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let err = stderr(&output);
    for expected in [
        "config/config.yml",
        "plugins_dir: `plugins` is read relative to the configuration file's folder",
        &format!(
            "{} does not exist",
            dir.path().join("config/plugins").display()
        ),
        &format!("`{}`", dir.path().join("plugins").display()),
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn plugins_list_without_config_shows_loaded_and_failed() {
    let dir = TempDir::new().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    copy_plugin(&plugins, MISBEHAVING, "libotai_test_misbehaving.so");
    std::fs::write(plugins.join("broken.so"), b"not a library").unwrap();

    let output = otai(dir.path(), &["plugins", "list"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}\n{}", stderr(&output));
    for expected in [
        "Plugins directory plugins: 1 loaded, 1 failed.",
        "otai_test_misbehaving 0.1.0",
        "path: plugins/libotai_test_misbehaving.so",
        "MisbehavingService (ticket_system)",
        "FAILED plugins/broken.so",
        "not a loadable shared library",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    assert!(
        stderr(&output).contains("1 path in plugins failed to load"),
        "{}",
        stderr(&output)
    );
}

/// A plugin whose `info` panics unguarded aborts whatever process loads it: otai loads every
/// plugin in a probe process first, so it reports that one and goes on with the others.
#[test]
fn a_plugin_that_aborts_while_loading_is_reported_and_otai_goes_on() {
    let dir = workdir();
    copy_plugin(
        &dir.path().join("plugins"),
        ABORTING,
        "libotai_test_aborting.so",
    );

    let listed = otai(dir.path(), &["plugins", "list"]);
    let found = otai(dir.path(), &["tickets", "find", "desk"]);

    let out = stdout(&listed);
    // Exit 1: a plugin failed to load (not the 134 of an abort).
    assert_eq!(listed.status.code(), Some(1), "{out}\n{}", stderr(&listed));
    for expected in [
        "Plugins directory plugins: 1 loaded, 1 failed.",
        "otai_test_misbehaving 0.1.0",
        "FAILED plugins/libotai_test_aborting.so",
        "killed a probe process with signal 6 (SIGABRT)",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    assert!(found.status.success(), "{}", stderr(&found));
    assert_eq!(stdout(&found).lines().count(), 2, "{}", stdout(&found));
}

#[test]
fn plugins_list_takes_the_directory_from_flag_then_config() {
    let dir = workdir();
    std::fs::rename(dir.path().join("plugins"), dir.path().join("elsewhere")).unwrap();
    // Read from the configuration file's folder (config/), wherever otai starts.
    write_config(dir.path(), "plugins_dir: ../elsewhere\n");
    let config = dir.path().join("config/config.yml");
    let expected = format!(
        "Plugins directory {}: 1 loaded, 0 failed.",
        dir.path().join("config/../elsewhere").display()
    );
    for cwd in [dir.path(), Path::new("/")] {
        let output = otai(
            cwd,
            &["--config", config.to_str().unwrap(), "plugins", "list"],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains(&expected), "{}", stdout(&output));
    }

    let output = otai(dir.path(), &["--plugins-dir", "nowhere", "plugins", "list"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("FAILED nowhere"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("does not exist"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_passes_on_a_good_setup_and_connects_on_request() {
    let dir = workdir();
    let output = otai(dir.path(), &["check"]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(
        out.contains("Ticket system desk (otai_test_misbehaving:MisbehavingService): OK"),
        "{out}"
    );
    assert!(out.contains("params mode"), "{out}");
    assert!(out.contains("All checks passed."), "{out}");

    let output = otai(dir.path(), &["check", "--connect"]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(
        out.contains("Connection desk: OK, connected as tester@example.com"),
        "{out}"
    );
}

#[test]
fn check_lists_every_problem_and_fails() {
    let dir = workdir();
    std::fs::write(dir.path().join("plugins/garbage.so"), b"garbage").unwrap();
    write_config(
        dir.path(),
        "ticket_systems:\n  desk:\n    use: otai_test_misbehaving:MisbehavingService\n    params: {mode: panic}\n    call_timeout: 2\n  other:\n    use: otai_missing:SomeService\n",
    );
    let output = otai(dir.path(), &["check", "--connect"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("3 problem(s):"), "{out}");
    assert!(out.contains("plugins/garbage.so"), "{out}");
    assert!(
        out.contains("ticket_systems.other.use")
            && out.contains("otai_missing")
            && out.contains("SomeService"),
        "{out}"
    );
    assert!(out.contains("panicked error"), "{out}");
    assert!(
        stderr(&output).contains("check found 3 problem(s)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_configured_onnx_runtime_is_checked_and_used_from_the_files_folder() {
    // Beside the default search (which finds the repository's library): a configured path that
    // is not there must fail `check` and `run`, naming the path resolved from config/.
    let dir = workdir();
    let model = crate::support::demo_model("this test needs");
    write_config(
        dir.path(),
        &format!(
            "onnxruntime: ../lib/libonnxruntime.so\n\
             ticket_systems:\n  desk:\n    use: otai_test_misbehaving:MisbehavingService\n    params: {{mode: ok}}\n\
             pipelines:\n  p:\n    ticket_system: desk\n    model: {}\n    state_file: null\n    audit_log: null\n    fields: {{queue: {{action: tag}}}}\n",
            model.display()
        ),
    );
    let missing = format!(
        "`onnxruntime:` in the configuration points to {}, which is not a file",
        dir.path().join("config/../lib/libonnxruntime.so").display()
    );
    let check = otai(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    assert!(stdout(&check).contains(&missing), "{}", stdout(&check));
    let run = otai(dir.path(), &["run", "--once", "--dry-run"]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(stderr(&run).contains(&missing), "{}", stderr(&run));
}

#[test]
fn check_reports_config_errors_with_file_key_and_line() {
    let dir = workdir();
    write_config(
        dir.path(),
        "ticket_systems:\n  desk:\n    use: a:B\n    parms: {}\n",
    );
    let output = otai(dir.path(), &["check"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("config/config.yml: ticket_systems.desk.parms: unknown field `parms`"),
        "{out}"
    );
    assert!(out.contains("(line 4, column 5)"), "{out}");
    // The plugins are still checked.
    assert!(out.contains("OK: otai_test_misbehaving"), "{out}");
}

#[test]
fn config_path_comes_from_flag_or_environment() {
    let dir = workdir();
    std::fs::rename(
        dir.path().join("config/config.yml"),
        dir.path().join("custom.yml"),
    )
    .unwrap();
    assert!(otai(dir.path(), &["--config", "custom.yml", "check"])
        .status
        .success());
    let output = Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(["check"])
        .current_dir(dir.path())
        .env("OTAI_CONFIG", "custom.yml")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stdout(&output));
    let missing = otai(dir.path(), &["check"]);
    assert!(
        stdout(&missing).contains("cannot read configuration file config/config.yml"),
        "{}",
        stdout(&missing)
    );
}

#[test]
fn tickets_find_prints_json_lines() {
    let dir = workdir();
    let output = otai(dir.path(), &["tickets", "find", "desk"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tickets: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0]["id"], "1");
    assert_eq!(
        tickets[0]["custom_fields"][0],
        serde_json::json!({"id": "100", "value": "printer"})
    );

    let output = otai(
        dir.path(),
        &[
            "tickets",
            "find",
            "desk",
            "--status",
            "open",
            "--without-tag",
            "hardware",
            "--limit",
            "5",
        ],
    );
    let lines: Vec<String> = stdout(&output).lines().map(String::from).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("\"Invoice missing\""));
}

#[test]
fn tickets_get_and_update_print_the_ticket() {
    let dir = workdir();
    let output = otai(dir.path(), &["tickets", "get", "desk", "2"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let ticket: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(ticket["subject"], "Invoice missing");

    let output = otai(
        dir.path(),
        &[
            "tickets",
            "update",
            "desk",
            "2",
            "--queue",
            "Billing",
            "--priority",
            "urgent",
            "--add-tag",
            "otai",
            "--field",
            "200=[\"a\",\"b\"]",
            "--note",
            "Routed by otai.",
            "--if-unchanged-since",
            "2024-01-02T00:00:00Z",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let ticket: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(
        ticket["queue"],
        serde_json::json!({"id": "12", "name": "Billing"})
    );
    assert_eq!(ticket["priority"], "urgent");
    assert_eq!(ticket["tags"], serde_json::json!(["billing", "otai"]));
    assert_eq!(
        ticket["custom_fields"][1],
        serde_json::json!({"id": "200", "value": ["a", "b"]})
    );
    assert_eq!(ticket["raw"]["notes"][0]["public"], false);
}

#[test]
fn tickets_errors_are_one_clear_line_and_exit_non_zero() {
    let dir = workdir();
    let cases: [(&[&str], &str); 4] = [
        (
            &["tickets", "get", "desk", "404"],
            "ticket 404 does not exist in ticket system `desk`",
        ),
        (
            &["tickets", "get", "nope", "1"],
            "no ticket system named `nope` is configured; configured: desk",
        ),
        (&["tickets", "update", "desk", "1"], "nothing to update"),
        (
            &["tickets", "update", "desk", "1", "--field", "7=bare"],
            "--field 7: the value is not JSON",
        ),
    ];
    for (args, expected) in cases {
        let output = otai(dir.path(), args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(stdout(&output).is_empty(), "{args:?}: {}", stdout(&output));
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn tickets_note_adds_a_note() {
    let dir = workdir();
    let output = otai(
        dir.path(),
        &[
            "tickets",
            "note",
            "desk",
            "1",
            "Checked by a person.",
            "--public",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        r#"{"note_added":true,"ticket":"1"}"#
    );
}

#[test]
fn classify_file_reads_exports_and_carries_each_id_into_its_result() {
    let dir = TempDir::new().unwrap();
    let model = crate::support::demo_model("otai classify --file needs");
    let model = model.to_str().unwrap();
    let jsonl = dir.path().join("export.jsonl");
    std::fs::write(
        &jsonl,
        "{\"id\": \"42\", \"subject\": \"Card gone\", \"body\": \"I lost my card, please block it\", \"status\": \"new\"}\n\
         {\"id\": 9007199254740993, \"text\": \"How long does a transfer to another bank take?\", \"tags\": []}\n",
    )
    .unwrap();
    let csv = dir.path().join("export.csv");
    std::fs::write(
        &csv,
        "id,status,subject,body\n7,new,Card gone,\"I lost my card, please block it\"\n",
    )
    .unwrap();

    let json = otai(
        dir.path(),
        &[
            "classify",
            "--model",
            model,
            "--file",
            jsonl.to_str().unwrap(),
            "--json",
        ],
    );
    let text = otai(
        dir.path(),
        &[
            "classify",
            "--model",
            model,
            "--file",
            csv.to_str().unwrap(),
        ],
    );

    assert!(json.status.success(), "{}", stderr(&json));
    let lines: Vec<Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&json));
    assert_eq!(lines[0]["id"], "42");
    assert_eq!(lines[1]["id"], "9007199254740993", "digits kept exactly");
    assert_eq!(lines[0]["predictions"]["queue"][0]["label"], "cards");
    assert_eq!(lines[1]["predictions"]["queue"][0]["label"], "transfers");
    assert!(text.status.success(), "{}", stderr(&text));
    let out = stdout(&text);
    assert!(
        out.starts_with("[1] id 7: Card gone / I lost my card"),
        "{out}"
    );
    assert!(out.contains("queue     cards"), "{out}");
}

#[test]
fn a_plugin_others_could_have_written_is_refused_naming_it_unless_the_operator_allows_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let lib = copy_plugin(&plugins, MISBEHAVING, "libotai_test_misbehaving.so");
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o666)).unwrap();

    let refused = otai(dir.path(), &["plugins", "list"]);
    let allowed = Command::new(env!("CARGO_BIN_EXE_otai"))
        .args(["plugins", "list"])
        .current_dir(dir.path())
        .env("OTAI_ALLOW_UNTRUSTED_PLUGINS", "1")
        .env("RUST_LOG", "info")
        .env_remove("OTAI_CONFIG")
        .output()
        .unwrap();

    let out = stdout(&refused);
    assert_eq!(refused.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAILED plugins/libotai_test_misbehaving.so"),
        "{out}"
    );
    assert!(
        out.contains("refused, not loaded: writable by everyone (mode 666)"),
        "{out}"
    );
    assert!(out.contains("OTAI_ALLOW_UNTRUSTED_PLUGINS=1"), "{out}");
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    assert!(stdout(&allowed).contains("otai_test_misbehaving 0.1.0"));
    let log = stderr(&allowed);
    let sha = crate::support::sha256_of(&lib);
    assert_eq!(sha.len(), 64);
    assert!(
        log.contains(&sha),
        "the load is logged with the file's sha256: {log}"
    );
}
