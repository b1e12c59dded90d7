//! Helpers shared by the integration tests that use them.

pub mod tmux;
