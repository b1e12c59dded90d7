//! LoRA (Hu et al., 2021): fine-tuning with the base weights frozen. Each of a
//! block's four projections — c_attn (x → q|k|v), W_O, the MLP's up and down
//! matrices — gets a low-rank update, W = W₀ + s·A·B with A `[in, r]`,
//! B `[r, out]` (GPT-2's Conv1D layout) and s = α / r; only A and B train.
//! B starts at zero, so the first step starts from the base model exactly.
//!
//! The training buffer always holds the merged W, so the forward pass, the
//! evaluation and the saved folder are those of a plain GPT-2 (the adapters are
//! merged on save by construction). The backward pass gives G = ∂L/∂W for the
//! merged matrix; since L depends on A and B only through W, the chain rule
//! gives ∂L/∂A = s·G·Bᵀ and ∂L/∂B = s·Aᵀ·G exactly. (A LoRA kernel would skip
//! forming G; at this size it costs little, and the projections stay one code
//! path with full fine-tuning.)

use super::matmul::{Threads, mat_mul};
use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2};

use super::TrainError;
use super::params::Layout;
use crate::model::Config;
use crate::rng::Rng;

/// The matrices of each block that get adapters, by their GPT-2 name suffix.
pub const ADAPTED: [&str; 4] = [
    "attn.c_attn.weight",
    "attn.c_proj.weight",
    "mlp.c_fc.weight",
    "mlp.c_proj.weight",
];

/// Refuses a rank of 0, a rank above the model's width and a bad alpha.
pub fn validate(cfg: &Config, rank: usize, alpha: f32) -> Result<(), TrainError> {
    if rank == 0 {
        return Err(TrainError::Input(
            "--lora 0: the rank of the adapters must be at least 1 (4 to 16 is typical); leave out --lora to fine-tune every weight".into(),
        ));
    }
    if rank > cfg.n_embd {
        return Err(TrainError::Input(format!(
            "--lora {rank} is above the model's width ({}): a rank-{rank} update of a {}-wide matrix is no longer low-rank; choose a rank from 1 to {}, or leave out --lora to fine-tune every weight",
            cfg.n_embd, cfg.n_embd, cfg.n_embd
        )));
    }
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(TrainError::Input(format!(
            "--lora-alpha {alpha}: give a positive number (the update is scaled by alpha / rank)"
        )));
    }
    Ok(())
}

/// The trainable values rank-`rank` adapters add to a GPT-2 of this shape,
/// Σ r·(in + out) over every block's four projections, without building them
/// (what the lesson and `finetune --lora` report).
pub fn trainable(cfg: &Config, rank: usize) -> usize {
    let layout = Layout::new(cfg);
    (0..cfg.n_layer)
        .flat_map(|l| ADAPTED.map(|s| format!("h.{l}.{s}")))
        .filter_map(|name| layout.index(&name))
        .map(|i| rank * (layout.shapes[i][0] + layout.shapes[i][1]))
        .sum()
}

/// One adapted matrix: where W sits in the parameter buffer, where its A and
/// B sit in the adapter buffer.
#[derive(Clone, Debug)]
pub struct Adapter {
    pub name: String,
    pub n_in: usize,
    pub n_out: usize,
    /// W `[n_in, n_out]` in the model's flat parameter buffer.
    pub w: Range<usize>,
    /// A `[n_in, r]` and B `[r, n_out]` in [`Lora::params`].
    pub a: Range<usize>,
    pub b: Range<usize>,
}

/// The adapters of a model and their training state.
pub struct Lora {
    pub rank: usize,
    pub alpha: f32,
    /// s = α / r.
    pub scale: f32,
    pub adapters: Vec<Adapter>,
    /// Every A and B, one flat buffer: the trainable parameters.
    pub params: Vec<f32>,
    pub grads: Vec<f32>,
    /// Weight decay applies to every adapter value.
    pub decay: Vec<bool>,
    /// The frozen W₀ of each adapted matrix, in adapter order.
    base: Vec<Vec<f32>>,
}

impl Lora {
    /// Adapters of rank `rank` on every block's four projections of the model
    /// whose weights are `params`; A is drawn from `seed` (uniform in ±1/√in,
    /// as nn.Linear's default), B is zero.
    pub fn new(
        cfg: &Config,
        layout: &Layout,
        params: &[f32],
        rank: usize,
        alpha: f32,
        seed: u64,
    ) -> Result<Self, TrainError> {
        validate(cfg, rank, alpha)?;
        let mut rng = Rng::new(seed ^ 0x4C6F_5241_4164_6170);
        let mut adapters = Vec::new();
        let mut lora_params = Vec::new();
        let mut base = Vec::new();
        for l in 0..cfg.n_layer {
            for suffix in ADAPTED {
                let name = format!("h.{l}.{suffix}");
                let i = layout
                    .index(&name)
                    .unwrap_or_else(|| panic!("{name} is in every GPT-2 layout"));
                let (n_in, n_out) = (layout.shapes[i][0], layout.shapes[i][1]);
                let bound = 1.0 / (n_in as f32).sqrt();
                let a0 = lora_params.len();
                lora_params.extend((0..n_in * rank).map(|_| bound * (2.0 * rng.uniform() - 1.0)));
                let b0 = lora_params.len();
                lora_params.resize(b0 + rank * n_out, 0.0);
                let w = layout.range(i);
                base.push(params[w.clone()].to_vec());
                adapters.push(Adapter {
                    name,
                    n_in,
                    n_out,
                    w,
                    a: a0..b0,
                    b: b0..b0 + rank * n_out,
                });
            }
        }
        let n = lora_params.len();
        Ok(Lora {
            rank,
            alpha,
            scale: alpha / rank as f32,
            adapters,
            params: lora_params,
            grads: vec![0.0; n],
            decay: vec![true; n],
            base,
        })
    }

    /// Trainable values: Σ r·(in + out) over the adapted matrices.
    pub fn n_params(&self) -> usize {
        self.params.len()
    }

    /// Writes W = W₀ + s·A·B of every adapted matrix into `params`.
    pub fn merge(&self, params: &mut [f32]) {
        let r = self.rank;
        for (ad, w0) in self.adapters.iter().zip(&self.base) {
            let w = &mut params[ad.w.clone()];
            w.copy_from_slice(w0);
            let a = ArrayView2::from_shape((ad.n_in, r), &self.params[ad.a.clone()]).expect("A");
            let b = ArrayView2::from_shape((r, ad.n_out), &self.params[ad.b.clone()]).expect("B");
            let mut wv = ArrayViewMut2::from_shape((ad.n_in, ad.n_out), w).expect("W");
            mat_mul(self.scale, &a, &b, 1.0, &mut wv, Threads::All);
        }
    }

    /// ∂L/∂A = s·G·Bᵀ and ∂L/∂B = s·Aᵀ·G from G = ∂L/∂W in `grads` (the
    /// model's gradient buffer), into [`Lora::grads`].
    pub fn gradients(&mut self, grads: &[f32]) {
        let r = self.rank;
        for ad in &self.adapters {
            let g = ArrayView2::from_shape((ad.n_in, ad.n_out), &grads[ad.w.clone()]).expect("G");
            let a = ArrayView2::from_shape((ad.n_in, r), &self.params[ad.a.clone()]).expect("A");
            let b = ArrayView2::from_shape((r, ad.n_out), &self.params[ad.b.clone()]).expect("B");
            let (ga, gb) = self.grads.split_at_mut(ad.b.start);
            let mut da =
                ArrayViewMut2::from_shape((ad.n_in, r), &mut ga[ad.a.clone()]).expect("dA");
            mat_mul(self.scale, &g, &b.t(), 0.0, &mut da, Threads::All);
            let mut db =
                ArrayViewMut2::from_shape((r, ad.n_out), &mut gb[..ad.b.len()]).expect("dB");
            mat_mul(self.scale, &a.t(), &g, 0.0, &mut db, Threads::All);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::random_model;
    use crate::train::params::flatten;

    #[test]
    fn the_adapters_count_r_times_in_plus_out_and_start_at_the_base() {
        let cfg = Config::new(2, 2, 8, 11, 6);
        let gpt = random_model(&cfg, 3, true);
        let layout = Layout::new(&cfg);
        let params = flatten(&gpt, &layout);
        let l = Lora::new(&cfg, &layout, &params, 3, 6.0, 1).unwrap();
        let c = cfg.n_embd;
        let m = cfg.mlp_dim();
        let per_layer = 3 * ((c + 3 * c) + (c + c) + (c + m) + (m + c));
        assert_eq!(l.n_params(), cfg.n_layer * per_layer);
        assert_eq!(trainable(&cfg, 3), l.n_params());
        assert_eq!(l.scale, 2.0);
        let mut merged = params.clone();
        l.merge(&mut merged);
        assert_eq!(merged, params, "B = 0: the merged model is the base");
        assert!(l.params.iter().any(|&v| v != 0.0), "A is drawn");
    }

    #[test]
    fn rank_zero_and_a_rank_above_the_width_are_refused() {
        let cfg = Config::new(2, 2, 8, 11, 6);
        let layout = Layout::new(&cfg);
        let params = vec![0.0; layout.total];
        let e = Lora::new(&cfg, &layout, &params, 0, 1.0, 1)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--lora 0") && e.contains("at least 1"), "{e}");
        let e = Lora::new(&cfg, &layout, &params, 9, 1.0, 1)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("width (8)") && e.contains("from 1 to 8"), "{e}");
        assert!(Lora::new(&cfg, &layout, &params, 8, 1.0, 1).is_ok());
    }
}
