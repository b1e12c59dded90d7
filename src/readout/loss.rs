//! Loss: text scored the way pretraining scores it. Row t of the trace's
//! logits predicts token t+1, so each position but the last has a
//! cross-entropy −ln p(token t+1 | tokens 0..=t); their mean is the loss and
//! exp(mean) the perplexity.

use crate::model::Trace;

/// One scored prediction: position `pos` predicting the token that follows it.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenLoss {
    pub pos: usize,
    /// The token that actually came next (position `pos + 1`).
    pub next: u32,
    /// Its logit in row `pos`.
    pub logit: f64,
    /// ln Σ exp(logits) of row `pos`.
    pub logsumexp: f64,
    /// p = exp(logit − logsumexp).
    pub p: f64,
    /// −ln p, in nats.
    pub loss: f64,
}

/// The cross-entropy of every position that has a next token, read from the
/// trace's own logits.
pub fn token_losses(tr: &Trace) -> Vec<TokenLoss> {
    let n = tr.len().min(tr.logits.nrows());
    (0..n.saturating_sub(1))
        .map(|t| {
            let row = tr.logits.row(t);
            let next = tr.tokens[t + 1];
            let logit = row.get(next as usize).copied().unwrap_or(f32::NAN) as f64;
            let lse = super::logits::lse(row);
            let log_p = logit - lse;
            TokenLoss {
                pos: t,
                next,
                logit,
                logsumexp: lse,
                p: log_p.exp(),
                loss: -log_p,
            }
        })
        .collect()
}

/// The mean loss in nats (None when no position has a next token).
pub fn mean_loss(losses: &[TokenLoss]) -> Option<f64> {
    (!losses.is_empty()).then(|| losses.iter().map(|l| l.loss).sum::<f64>() / losses.len() as f64)
}

/// Σ ln p over the predictions: the objective on this text (≤ 0).
pub fn log_likelihood(losses: &[TokenLoss]) -> f64 {
    -losses.iter().map(|l| l.loss).sum::<f64>()
}

/// exp(mean loss).
pub fn perplexity(mean_loss: f64) -> f64 {
    mean_loss.exp()
}
