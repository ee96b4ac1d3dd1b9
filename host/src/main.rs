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
    let mut stdout = std::io::stdout().lock();
    match otai::commands::run(cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
