//! The `otai` binary: parses the command line, sets up logging and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = otai::cli::Cli::parse();
    if let Err(err) = otai::logging::init(cli.log_level.as_deref(), cli.command.default_log_level())
    {
        eprintln!("error: {err}");
        return ExitCode::FAILURE;
    }
    // Every plugin is loaded in a throwaway process first (except by that process itself), so
    // one that aborts while loading is reported, not fatal.
    let probing = matches!(
        cli.command,
        otai::cli::Command::Plugins(otai::cli::PluginsCommand::Probe { .. })
    );
    if !probing {
        if let Ok(exe) = std::env::current_exe() {
            otai::plugins::probe::enable(exe);
        }
    }
    let mut stdout = std::io::stdout().lock();
    match otai::commands::run(cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
