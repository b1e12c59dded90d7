//! Helpers shared by the integration tests that use them.

pub mod cli;
pub mod tmux;

/// Makes `cmd` (gptlens, or the tmux server that runs it) speak English
/// whatever the machine's locale: gptlens takes Chinese from LC_ALL,
/// LC_MESSAGES or LANG when they name it (`--lang`'s default), and these
/// tests read English. `C.UTF-8` keeps UTF-8, which tmux needs to draw the
/// screen's box and block characters.
#[allow(dead_code)]
pub fn in_english(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
}
