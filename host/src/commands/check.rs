//! `otai check [--connect]`: everything that can be verified before automation is turned on.
//!
//! Goes as far as it can and lists every problem: a broken configuration still gets its plugins
//! directory checked, and one system that cannot be constructed does not hide the others.

use std::io::Write;

use anyhow::bail;

use super::Context;
use crate::{cli::CheckArgs, plugins::PluginRegistry, ticket::ErrorKind};

pub async fn check(ctx: &Context, args: &CheckArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut problems: Vec<String> = Vec::new();

    writeln!(out, "Configuration {}:", ctx.config_path().display())?;
    let config = match ctx.load_config() {
        Ok(config) => {
            let names: Vec<&str> = config.ticket_systems.keys().map(String::as_str).collect();
            let pipelines: Vec<&str> = config.pipelines.keys().map(String::as_str).collect();
            writeln!(
                out,
                "  OK: parsed, templates rendered, {} ticket system(s){}, {} pipeline(s){}.",
                names.len(),
                if names.is_empty() {
                    String::new()
                } else {
                    format!(": {}", names.join(", "))
                },
                pipelines.len(),
                if pipelines.is_empty() {
                    String::new()
                } else {
                    format!(": {}", pipelines.join(", "))
                }
            )?;
            Some(config)
        }
        Err(err) => {
            for problem in err.problems() {
                writeln!(out, "  PROBLEM: {problem}")?;
                problems.push(problem);
            }
            None
        }
    };

    let dir = match &config {
        Some(config) => ctx.plugins_dir(config),
        // Still worth checking the plugins: use what can be found without a valid config.
        None => ctx
            .plugins_dir_without_config()
            .unwrap_or_else(|_| crate::config::resolve_plugins_dir(None, None)),
    };
    let registry = PluginRegistry::load(&dir);
    writeln!(out, "Plugins directory {registry}.")?;
    for plugin in registry.plugins() {
        let services: Vec<&str> = plugin.services.iter().map(|s| s.name.as_str()).collect();
        writeln!(
            out,
            "  OK: {} {} from {} ({})",
            plugin.name,
            plugin.version,
            plugin.path.display(),
            services.join(", ")
        )?;
    }
    for failure in registry.failures() {
        writeln!(out, "  PROBLEM: {failure}")?;
        problems.push(failure.to_string());
    }

    if let Some(library) = config.as_ref().and_then(|c| c.onnxruntime.as_deref()) {
        // Only where it would be loaded from: loading it belongs to the commands that classify.
        match crate::classifier::runtime::locate(Some(library)) {
            Ok(found) => writeln!(out, "ONNX Runtime {}: OK, a file.", found.display())?,
            Err(err) => {
                writeln!(out, "ONNX Runtime:\n  PROBLEM: {err}")?;
                problems.push(err.to_string());
            }
        }
    }

    if let Some(config) = &config {
        for (name, result) in crate::pipeline::assemble::check_models(config) {
            let p = &config.pipelines[&name];
            match result {
                Ok(fields) => writeln!(
                    out,
                    "Pipeline {name} ({} with model {}): OK, {fields}.",
                    p.ticket_system,
                    p.model.display()
                )?,
                Err(found) => {
                    writeln!(
                        out,
                        "Pipeline {name} ({} with model {}):",
                        p.ticket_system,
                        p.model.display()
                    )?;
                    for problem in found {
                        writeln!(out, "  PROBLEM: {problem}")?;
                        problems.push(problem);
                    }
                }
            }
        }
        let mut constructed = Vec::new();
        for (name, system) in &config.ticket_systems {
            match registry.ticket_system(config, name) {
                Ok(built) => {
                    let keys: Vec<&str> = system.param_keys().collect();
                    writeln!(
                        out,
                        "Ticket system {name} ({}): OK, constructed with params {} and a call timeout of {} s.",
                        system.use_spec(),
                        if keys.is_empty() { "(none)".to_string() } else { keys.join(", ") },
                        system.call_timeout.as_secs_f64()
                    )?;
                    constructed.push(built);
                }
                Err(err) => {
                    writeln!(
                        out,
                        "Ticket system {name} ({}):\n  PROBLEM: {err}",
                        system.use_spec()
                    )?;
                    problems.push(err.to_string());
                }
            }
        }
        if args.connect {
            for system in &constructed {
                match system.check_connection().await {
                    Ok(who) => {
                        writeln!(out, "Connection {}: OK, connected as {who}.", system.name())?
                    }
                    // Not a problem with the setup: the plugin just cannot tell.
                    Err(err) if err.kind == ErrorKind::Unsupported => writeln!(
                        out,
                        "Connection {}: not checked, the plugin cannot: {}",
                        system.name(),
                        err.message
                    )?,
                    Err(err) => {
                        writeln!(out, "Connection {}:\n  PROBLEM: {err}", system.name())?;
                        problems.push(err.to_string());
                    }
                }
            }
        } else if !constructed.is_empty() {
            writeln!(out, "Connections not checked (add --connect to make one authenticated read per ticket system).")?;
        }
    }

    out.flush()?;
    if problems.is_empty() {
        writeln!(out, "All checks passed.")?;
        return Ok(());
    }
    writeln!(out, "\n{} problem(s):", problems.len())?;
    for problem in &problems {
        writeln!(out, "  - {problem}")?;
    }
    out.flush()?;
    bail!("check found {} problem(s) (listed above)", problems.len())
}
