//! What compression costs in accuracy: loss over windows of a token stream,
//! and against a reference model the KL divergence, top-1 agreement and
//! rounding error per tensor.

use crate::model::{Gpt, Interventions, KvCache, ModelError};

/// Windows of `t` tokens (each predicting the next `t`) the stream holds,
/// rounded down to a multiple of `batch_multiple` (0: keep all), as
/// `scripts/reference.py eval` and `gptlens train` count them.
pub fn window_count(stream_len: usize, t: usize, batch_multiple: usize) -> usize {
    let w = stream_len.saturating_sub(1) / t.max(1);
    if batch_multiple > 0 {
        w - w % batch_multiple
    } else {
        w
    }
}

/// Sums over every scored position.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scores {
    pub positions: usize,
    /// Σ cross-entropy of the model, nats.
    pub nats: f64,
    /// Σ cross-entropy of the reference, nats.
    pub ref_nats: f64,
    /// Σ KL(p_reference ‖ p_model), nats.
    pub kl: f64,
    /// Positions where both models rank the same token first.
    pub top1_same: usize,
}

impl Scores {
    pub fn loss(&self) -> f64 {
        self.nats / self.positions as f64
    }
    pub fn ref_loss(&self) -> f64 {
        self.ref_nats / self.positions as f64
    }
    pub fn mean_kl(&self) -> f64 {
        self.kl / self.positions as f64
    }
    pub fn top1_agreement(&self) -> f64 {
        self.top1_same as f64 / self.positions as f64
    }
    /// exp(loss) / exp(ref_loss) − 1.
    pub fn perplexity_change(&self) -> f64 {
        (self.loss() - self.ref_loss()).exp() - 1.0
    }
}

/// log-softmax of one row, in f64.
fn log_softmax(row: &[f32], out: &mut Vec<f64>) {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let sum: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
    let lse = max + sum.ln();
    out.clear();
    out.extend(row.iter().map(|&v| v as f64 - lse));
}

fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Scores `windows` consecutive windows of `t` tokens of `stream` (window w
/// reads tokens w·t .. w·t+t and predicts w·t+1 .. w·t+t+1), each from an
/// empty cache; `reference` runs the same windows. `progress(done, windows)`
/// after each window.
pub fn evaluate(
    gpt: &Gpt,
    reference: Option<&Gpt>,
    stream: &[u32],
    t: usize,
    windows: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Scores, ModelError> {
    if windows == 0 || windows * t + 1 > stream.len() {
        return Err(ModelError::Input(format!(
            "{} tokens do not make {windows} windows of {t} (plus one to predict)",
            stream.len()
        )));
    }
    let iv = Interventions::default();
    let mut s = Scores::default();
    let (mut lp, mut lq) = (Vec::new(), Vec::new());
    for w in 0..windows {
        let x = &stream[w * t..w * t + t];
        let y = &stream[w * t + 1..w * t + t + 1];
        let logits = gpt.forward(x, &mut KvCache::new(&gpt.config), &iv, None, true)?;
        let ref_logits = match reference {
            Some(r) => Some(r.forward(x, &mut KvCache::new(&r.config), &iv, None, true)?),
            None => None,
        };
        for (i, &target) in y.iter().enumerate() {
            let row = logits.row(i);
            let row = row.as_slice().expect("logits rows are contiguous");
            log_softmax(row, &mut lq);
            s.nats -= lq[target as usize];
            if let Some(rl) = &ref_logits {
                let rrow = rl.row(i);
                let rrow = rrow.as_slice().expect("contiguous");
                log_softmax(rrow, &mut lp);
                s.ref_nats -= lp[target as usize];
                s.kl += lp
                    .iter()
                    .zip(&lq)
                    .map(|(p, q)| p.exp() * (p - q))
                    .sum::<f64>();
                s.top1_same += usize::from(argmax(row) == argmax(rrow));
            }
        }
        s.positions += t;
        progress(w + 1, windows);
    }
    Ok(s)
}

/// How far a tensor of one model is from the same tensor of another.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TensorError {
    pub name: String,
    pub rms: f64,
    pub max: f64,
}

/// RMS and maximum |difference| of every tensor the two models share by name
/// and shape (a quantized model against its original: the rounding error).
pub fn weight_errors(model: &Gpt, reference: &Gpt) -> Vec<TensorError> {
    let theirs: std::collections::BTreeMap<String, _> =
        reference.weights.named().into_iter().collect();
    model
        .weights
        .named()
        .into_iter()
        .filter_map(|(name, t)| {
            let r = theirs.get(&name)?;
            if r.shape != t.shape || t.is_empty() {
                return None;
            }
            let (mut sq, mut max) = (0.0f64, 0.0f64);
            for (a, b) in t.data().iter().zip(r.data()) {
                let d = (*a as f64 - *b as f64).abs();
                sq += d * d;
                max = max.max(d);
            }
            Some(TensorError {
                rms: (sq / t.len() as f64).sqrt(),
                max,
                name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_as_reference_py_counts_them() {
        assert_eq!(window_count(257, 256, 16), 0);
        assert_eq!(window_count(256 * 40 + 1, 256, 16), 32);
        assert_eq!(window_count(256 * 40 + 1, 256, 0), 40);
        assert_eq!(window_count(256 * 40, 256, 0), 39);
        assert_eq!(window_count(0, 256, 0), 0);
    }

    #[test]
    fn a_model_against_itself_has_zero_kl_and_full_agreement() {
        let cfg = crate::model::Config::new(1, 2, 8, 11, 6);
        let gpt = crate::model::random_model(&cfg, 3, false);
        let stream: Vec<u32> = (0..13).map(|i| (i * 7 % 11) as u32).collect();
        let s = evaluate(&gpt, Some(&gpt), &stream, 6, 2, &mut |_, _| {}).unwrap();
        assert_eq!(s.positions, 12);
        assert!(s.mean_kl().abs() < 1e-12, "{}", s.mean_kl());
        assert_eq!(s.top1_agreement(), 1.0);
        assert_eq!(s.loss(), s.ref_loss());
        assert!(s.loss() > 0.0);
        let other = crate::model::random_model(&cfg, 4, false);
        let s2 = evaluate(&gpt, Some(&other), &stream, 6, 2, &mut |_, _| {}).unwrap();
        assert!(s2.mean_kl() > 1e-6);
        assert!(weight_errors(&gpt, &gpt).iter().all(|e| e.max == 0.0));
        assert!(weight_errors(&gpt, &other).iter().any(|e| e.rms > 0.0));
    }
}
