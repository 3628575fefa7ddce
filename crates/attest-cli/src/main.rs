//! The `attest` command: parse the command line, dispatch to `cmd/<noun>.rs`, turn errors into
//! exit codes. Nothing else lives here.

mod cmd;
mod global;
mod kb_source;
mod output;

use std::process::ExitCode;

use clap::Parser;

/// Exit code for "the command ran and the answer is no" (e.g. `attest check` found a regression).
pub const EXIT_NO: u8 = 1;
/// Exit code for errors: bad input, missing files, unreachable database.
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    init_tracing(cli.global.verbose);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                // `attest rules list | head` is normal use, not an error.
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn,evtx=warn",
        1 => "info,evtx=warn",
        _ => "debug,evtx=warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATTEST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
