//! Numbers the views show that the trace does not hold directly: nearest
//! tokens, the logit lens and a 2-D projection of the embedding table. Each is
//! computed from the weights with the engine's own functions.

use ndarray::{Array2, ArrayView1};

use crate::model::softmax_in_place;
use crate::model::{Gpt, layer_norm};

/// The `k` tokens whose embedding rows are most similar (cosine) to `x`.
pub fn nearest_tokens(gpt: &Gpt, x: ArrayView1<f32>, k: usize) -> Vec<(u32, f32)> {
    let wte = gpt.weights.wte.view2();
    let xn = x.dot(&x).sqrt().max(1e-12);
    let mut sims: Vec<(u32, f32)> = wte
        .outer_iter()
        .enumerate()
        .map(|(i, row)| {
            let n = row.dot(&row).sqrt().max(1e-12);
            (i as u32, row.dot(&x) / (n * xn))
        })
        .collect();
    top_by(&mut sims, k);
    sims
}

/// Keeps the `k` largest by value, sorted descending (ties by id).
fn top_by(v: &mut Vec<(u32, f32)>, k: usize) {
    let k = k.min(v.len());
    if k == 0 {
        v.clear();
        return;
    }
    v.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(k);
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}

/// Logit lens: the residual `x` read as if it were the last layer's output,
/// through ln_f and the tied unembedding; the top `k` tokens and probabilities.
pub fn logit_lens(gpt: &Gpt, x: ArrayView1<f32>, k: usize, skip_ln: bool) -> Vec<(u32, f32)> {
    let w = &gpt.weights;
    let row = x.to_owned().insert_axis(ndarray::Axis(0));
    let ln = layer_norm(
        row.view(),
        w.ln_f_g.data(),
        w.ln_f_b.data(),
        gpt.config.layer_norm_epsilon as f32,
        skip_ln,
    );
    let logits = w.wte.view2().dot(&ln.out.row(0));
    let mut p = logits.to_vec();
    softmax_in_place(&mut p);
    let mut v: Vec<(u32, f32)> = p
        .into_iter()
        .enumerate()
        .map(|(i, p)| (i as u32, p))
        .collect();
    top_by(&mut v, k);
    v
}

/// A 2-D map of the embedding table: the first two principal components of (a
/// sample of) its rows. Returns the sampled ids, their coordinates, and the
/// axes to project any other row with.
pub struct Projection {
    pub ids: Vec<u32>,
    pub points: Vec<(f64, f64)>,
    mean: Vec<f32>,
    axes: [Vec<f32>; 2],
}

impl Projection {
    /// Uses at most `max_rows` evenly spaced rows; power iteration with deflation.
    pub fn new(gpt: &Gpt, max_rows: usize) -> Projection {
        let wte = gpt.weights.wte.view2();
        let (v, c) = wte.dim();
        let stride = v.div_ceil(max_rows.max(1)).max(1);
        let ids: Vec<u32> = (0..v).step_by(stride).map(|i| i as u32).collect();
        let mut x = Array2::<f32>::zeros((ids.len(), c));
        for (r, &id) in ids.iter().enumerate() {
            x.row_mut(r).assign(&wte.row(id as usize));
        }
        let mean: Vec<f32> = (0..c)
            .map(|j| x.column(j).sum() / ids.len().max(1) as f32)
            .collect();
        for mut row in x.outer_iter_mut() {
            for (j, m) in mean.iter().enumerate() {
                row[j] -= m;
            }
        }
        let mut axes: [Vec<f32>; 2] = [vec![0.0; c], vec![0.0; c]];
        for a in 0..2 {
            // Deterministic start vector.
            let mut u: Vec<f32> = (0..c).map(|j| 1.0 + ((j * 7 + a * 3) % 5) as f32).collect();
            for _ in 0..40 {
                if a == 1 {
                    let d: f32 = u.iter().zip(&axes[0]).map(|(p, q)| p * q).sum();
                    for (p, q) in u.iter_mut().zip(&axes[0]) {
                        *p -= d * q;
                    }
                }
                let uv = ndarray::ArrayView1::from(&u);
                let xu = x.dot(&uv);
                let next = x.t().dot(&xu);
                let mut next = next.to_vec();
                if a == 1 {
                    // Keep the second axis orthogonal to the first.
                    let d: f32 = next.iter().zip(&axes[0]).map(|(p, q)| p * q).sum();
                    for (p, q) in next.iter_mut().zip(&axes[0]) {
                        *p -= d * q;
                    }
                }
                let n = next.iter().map(|v| v * v).sum::<f32>().sqrt();
                if n <= 1e-20 {
                    break;
                }
                u = next.iter().map(|v| v / n).collect();
            }
            axes[a] = u;
        }
        let mut p = Projection {
            ids: ids.clone(),
            points: vec![],
            mean,
            axes,
        };
        p.points = ids
            .iter()
            .map(|&id| p.project(wte.row(id as usize)))
            .collect();
        p
    }

    pub fn project(&self, row: ArrayView1<f32>) -> (f64, f64) {
        let mut out = [0.0f64; 2];
        for (a, axis) in self.axes.iter().enumerate() {
            out[a] = row
                .iter()
                .zip(&self.mean)
                .zip(axis)
                .map(|((x, m), u)| ((x - m) * u) as f64)
                .sum();
        }
        (out[0], out[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, random_model};

    #[test]
    fn a_token_is_its_own_nearest_neighbour_and_the_lens_matches_the_logits() {
        let gpt = random_model(&Config::new(1, 2, 16, 40, 16), 3, false);
        let wte = gpt.weights.wte.view2();
        let near = nearest_tokens(&gpt, wte.row(7), 3);
        assert_eq!(near[0].0, 7);
        assert!((near[0].1 - 1.0).abs() < 1e-5);
        assert!(near[1].1 <= near[0].1);

        // The lens on the last layer's residual is the model's own prediction.
        let tr = gpt.trace(&[1, 2, 3], &Default::default()).expect("trace");
        let lens = logit_lens(&gpt, tr.resid_in(1).row(2), 1, false);
        let logits = tr.last_logits();
        let best = (0..logits.len()).max_by(|&a, &b| logits[a].total_cmp(&logits[b]));
        assert_eq!(Some(lens[0].0 as usize), best);
    }

    #[test]
    fn projection_axes_are_orthonormal() {
        let gpt = random_model(&Config::new(1, 2, 16, 300, 16), 3, false);
        let p = Projection::new(&gpt, 100);
        assert_eq!(p.ids.len(), p.points.len());
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!((dot(&p.axes[0], &p.axes[0]) - 1.0).abs() < 1e-3);
        assert!(dot(&p.axes[0], &p.axes[1]).abs() < 1e-3);
    }
}
