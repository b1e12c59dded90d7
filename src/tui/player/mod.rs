//! The lesson player: a lesson's text beside the explorer, one scene at a time.
//!
//! Each scene moves the explorer to the view, stage and selection the lesson
//! names; its text is filled with the numbers of the explorer's current trace
//! (by `lesson::render::fill_scene`, as `lesson --print` does). Keys the lesson
//! needs are taken first (scenes, scrolling, returning, the checkpoint's answer
//! keys while a question is open); every other key goes to the explorer, so the
//! student can explore freely inside a scene.
//!
//! `state` holds the player and keeps it in step with the explorer, `keys`
//! routes events, `draw` lays out the frame.

mod draw;
mod keys;
mod shell;
mod state;

pub use draw::{draw_player, layout};
pub use shell::{Entry, Lessons, Shell};
pub use state::{Check, FillResult, Filled, Player};
