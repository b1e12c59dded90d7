//! The step-through explorer, in the Elm shape: the state ([`app`]), every
//! key binding once ([`keymap`]), events turned into actions and applied
//! ([`event`]), the frame ([`draw`], [`views`], [`heatmap`], [`markdown`]), the
//! lesson player ([`player`]) and the terminal runtime ([`run`]). Drawing and
//! event handling are pure functions of the state, so tests render into
//! ratatui's `TestBackend` and call the handlers directly.

pub mod app;
pub mod compare;
pub mod draw;
pub mod event;
pub mod heatmap;
pub mod keymap;
pub mod live;
pub mod markdown;
pub mod player;
pub mod present;
pub mod prompt;
pub mod run;
pub mod views;

#[cfg(test)]
mod tests;

pub use crate::pass::{Stage, View};
pub use app::{App, Options};
