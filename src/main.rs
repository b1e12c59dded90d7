//! The `gptlens` command line. Each subcommand lives in `cli/`.

mod cli;

use clap::Parser;
use std::io::Write;

fn main() {
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        // The reader went away (`gptlens lessons | head -1`): nothing to say.
        if cli::out::is_closed_pipe(&e) {
            std::process::exit(cli::out::CLOSED_PIPE_EXIT);
        }
        let _ = writeln!(std::io::stderr(), "error: {}", cli::out::message(&e));
        std::process::exit(1);
    }
}
