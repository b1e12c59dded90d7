//! The `gptlens` command line. Each subcommand lives in `cli/`.

mod cli;

use std::io::{IsTerminal, Write};

fn main() {
    let args = cli::parse();
    if let Err(e) = cli::run(args) {
        // The reader went away (`gptlens lessons | head -1`): nothing to say.
        if cli::out::is_closed_pipe(&e) {
            std::process::exit(cli::out::CLOSED_PIPE_EXIT);
        }
        // Messages quote user input (lesson lines, names): escaped on a terminal.
        let mut msg = cli::out::message(&e);
        if std::io::stderr().is_terminal() {
            msg = gptlens::text::safe_text(&msg);
        }
        let _ = writeln!(std::io::stderr(), "error: {msg}");
        std::process::exit(if cli::out::is_usage(&e) {
            cli::out::USAGE_EXIT
        } else {
            1
        });
    }
}
