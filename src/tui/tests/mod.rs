//! The TUI's tests, all in this folder and attached one way (from `tui/mod.rs`):
//! `support` draws into ratatui's `TestBackend` and builds the apps and
//! players the others share; `snapshots` pins whole screens with `insta`.

mod bytes;
mod compare;
mod cost_loss;
mod explorer;
mod finetune;
mod formulas;
mod heatmaps;
mod layers;
mod llama;
mod player;
mod quant;
mod shell;
mod snapshots;
pub(crate) mod support;
mod training;
mod zh;
mod zh_other;
mod zh_pass;
mod zh_views;
