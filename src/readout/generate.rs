//! Short continuations for previews: what the model would write next from a
//! position of the prompt, on the engine's fast path.

use crate::model::{Gpt, ModelError};
use crate::sample::Sampling;

/// Up to `n` tokens continuing `prefix`, no further than the context allows
/// (empty when the context is full); stops after `stop_at`.
pub fn continuation(
    gpt: &Gpt,
    prefix: &[u32],
    n: usize,
    sampling: &Sampling,
    seed: u64,
    stop_at: Option<u32>,
) -> Result<Vec<u32>, ModelError> {
    let n = n.min(gpt.config.n_positions.saturating_sub(prefix.len()));
    if n == 0 {
        return Ok(vec![]);
    }
    crate::session::generate(gpt, prefix, n, sampling, seed, stop_at, |_| {})
        .map(|(tokens, _)| tokens)
}
