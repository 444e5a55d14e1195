//! The weld command: parses flags, runs the subcommand, prints any failure once, exits with the
//! documented code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not failures; everything else clap rejects is usage (2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                weld::error::EXIT_USAGE
            } else {
                0
            });
        }
    };
    let reporter = cli.reporter();
    match cli.exec(reporter.clone()) {
        Ok(code) => ExitCode::from(code),
        Err(weld::error::Error::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            reporter.error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}
