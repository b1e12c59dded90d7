//! The embedding table read as geometry: nearest tokens by cosine, and a 2-D
//! projection of the table.

use ndarray::{Array2, ArrayView1};

use super::top_by;
use crate::model::Gpt;

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

impl Projection {
    /// The two unit axes the table is projected on.
    pub fn axes(&self) -> (&[f32], &[f32]) {
        (&self.axes[0], &self.axes[1])
    }
}
