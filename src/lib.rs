//! gptlens: run a small GPT token by token and watch every stage.
//!
//! The engine ([`model`], [`sample`], [`session`], [`tokenizer`]) knows nothing
//! about terminals; the front ends read its [`model::Trace`]. See ARCHITECTURE.md.

pub mod cost;
pub mod distil;
pub mod embedded;
pub mod export;
pub mod finetune;
pub mod fmt;
pub mod gguf;
pub mod i18n;
pub mod lesson;
pub mod model;
pub mod pass;
pub mod paths;
pub mod quant;
pub mod readout;
pub mod rng;
pub mod sample;
pub mod session;
pub mod suggest;
pub mod text;
pub mod tokenizer;
pub mod train;
pub mod tui;
