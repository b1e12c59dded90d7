//! Count-based baselines for the model card: how well a unigram and a bigram
//! model, estimated on the training stream, predict the validation stream
//! (same tokenizer), in nats per token.

use std::collections::HashMap;

/// Validation cross-entropy (nats/token) of the count baselines.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Baselines {
    /// Add-one smoothed unigram.
    pub unigram: f64,
    /// Bigram interpolated with the unigram: λ·P(b|a) + (1−λ)·P(b).
    pub bigram: f64,
    /// The λ (from a fixed grid) that gave the lowest validation loss: the
    /// bigram's best case, tuned on the validation text itself.
    pub bigram_lambda: f64,
}

/// Fits both baselines on `train` and scores every next-token prediction in `valid`.
pub fn measure(train: &[u32], valid: &[u32], vocab: usize) -> Baselines {
    let mut uni = vec![0u64; vocab];
    for &t in train {
        uni[t as usize] += 1;
    }
    let total = train.len() as f64;
    let p_uni = |t: u32| (uni[t as usize] as f64 + 1.0) / (total + vocab as f64);
    let mut pairs: HashMap<(u32, u32), u64> = HashMap::new();
    let mut ctx = vec![0u64; vocab];
    for w in train.windows(2) {
        *pairs.entry((w[0], w[1])).or_default() += 1;
        ctx[w[0] as usize] += 1;
    }
    let n = (valid.len() - 1) as f64;
    let unigram = -valid[1..].iter().map(|&t| p_uni(t).ln()).sum::<f64>() / n;
    let mut best = (f64::INFINITY, 0.0);
    for lambda in [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98] {
        let nll: f64 = valid
            .windows(2)
            .map(|w| {
                let c = ctx[w[0] as usize];
                let p_bi = if c == 0 {
                    0.0
                } else {
                    pairs.get(&(w[0], w[1])).copied().unwrap_or(0) as f64 / c as f64
                };
                -(lambda * p_bi + (1.0 - lambda) * p_uni(w[1])).ln()
            })
            .sum();
        if nll / n < best.0 {
            best = (nll / n, lambda);
        }
    }
    Baselines {
        unigram,
        bigram: best.0,
        bigram_lambda: best.1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigram_beats_unigram_on_a_predictable_sequence() {
        let train: Vec<u32> = (0..400).map(|i| (i % 4) as u32).collect();
        let b = measure(&train, &train[..100], 8);
        // Uniform over 4 used symbols ≈ ln 4; the bigram is nearly certain.
        assert!((b.unigram - (4.0f64).ln()).abs() < 0.05, "{b:?}");
        assert!(b.bigram < 0.1, "{b:?}");
    }
}
