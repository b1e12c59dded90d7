//! Helpers shared by the integration tests that use them.

pub mod cli;
pub mod tmux;
