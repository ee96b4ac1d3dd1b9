//! `otai plugins list`: every `*.so` of the plugins directory, loaded or not.

use std::io::Write;

use anyhow::bail;

use super::Context;
use crate::plugins::PluginRegistry;

/// Lists loaded plugins (name, version, interface version, path, services) and failed files
/// (path, reason). Fails if any file failed to load, after listing everything.
pub fn list(ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let dir = ctx.plugins_dir_without_config()?;
    let registry = PluginRegistry::load(&dir);
    writeln!(out, "Plugins directory {registry}.")?;
    for plugin in registry.plugins() {
        writeln!(
            out,
            "\n{} {} (interface {})",
            plugin.name, plugin.version, plugin.interface
        )?;
        writeln!(out, "  path: {}", plugin.path.display())?;
        if plugin.services.is_empty() {
            writeln!(out, "  services: none")?;
        } else {
            writeln!(out, "  services:")?;
        }
        for service in &plugin.services {
            writeln!(
                out,
                "    {} ({}): {}",
                service.name,
                service.kind.name(),
                service.description
            )?;
        }
    }
    for failure in registry.failures() {
        writeln!(out, "\nFAILED {}", failure.path.display())?;
        writeln!(out, "  {}", failure.reason)?;
    }
    out.flush()?;
    match registry.failures().len() {
        0 => Ok(()),
        1 => bail!("1 path in {} failed to load (listed above)", dir.display()),
        n => bail!(
            "{n} paths in {} failed to load (listed above)",
            dir.display()
        ),
    }
}
