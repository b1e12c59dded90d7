//! The trace: every intermediate value of the forward pass, per position.
//!
//! Invariant (causality): the rows for position t depend only on tokens 0..=t,
//! so the trace of an earlier step is a prefix of the trace of a later one.
//! The engine therefore keeps one growing trace, and "going back" to step s is
//! reading the first `len` rows ([`Trace::prefix`]). Interventions that break
//! causality (no causal mask) are recomputed from scratch instead.

use ndarray::{Array2, ArrayView1, Axis};
use serde::Serialize;

/// A LayerNorm's (or RMSNorm's) input statistics and output, one row per position.
///
/// RMSNorm is LayerNorm without the centring and without β: for it `mean`
/// is 0 and `var` is mean(x²), so x̂ = (x − mean)/√(var + ε) holds for both,
/// and `rms` holds √mean(x²) (empty for LayerNorm).
#[derive(Clone, Debug, Default, Serialize)]
pub struct LnTrace {
    /// μ of each position's input vector (0 for RMSNorm, which does not centre).
    pub mean: Vec<f32>,
    /// σ² (biased, as LayerNorm uses) of each position's input vector;
    /// mean(x²) for RMSNorm.
    pub var: Vec<f32>,
    /// RMSNorm only: √mean(x²) of each position's input vector.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rms: Vec<f32>,
    /// (x − μ)/√(σ² + ε), before γ and β. [T, C]
    #[serde(skip)]
    pub xhat: Array2<f32>,
    /// γ ⊙ x̂ + β (RMSNorm: γ ⊙ x̂). [T, C]
    #[serde(skip)]
    pub out: Array2<f32>,
}

/// Everything one transformer block computed.
#[derive(Clone, Debug, Serialize)]
pub struct LayerTrace {
    pub ln_1: LnTrace,
    /// What q·k was divided by in this layer: √dₖ in GPT-2 (see
    /// [`super::Config::attn_divisor`]), before any intervention.
    #[serde(skip)]
    pub attn_divisor: f32,
    /// Queries, keys, values [T, C]; head h owns columns h·dₖ .. (h+1)·dₖ.
    /// Llama: q and k after RoPE, and k and v per *query* head (the key/value
    /// head it shares, repeated as transformers' repeat_kv does), so head h's
    /// columns are the ones its scores used in both families.
    #[serde(skip)]
    pub q: Array2<f32>,
    #[serde(skip)]
    pub k: Array2<f32>,
    #[serde(skip)]
    pub v: Array2<f32>,
    /// Llama only (empty for GPT-2): q and k before RoPE rotated them, laid
    /// out as `q` and `k`. [T, C]
    #[serde(skip)]
    pub q_pre_rope: Array2<f32>,
    #[serde(skip)]
    pub k_pre_rope: Array2<f32>,
    /// q·k/√dₖ before the mask, [head][query][key]; row t holds keys 0..=t
    /// (all keys when the causal mask is switched off).
    pub scores: Vec<Vec<Vec<f32>>>,
    /// softmax of each score row, [head][query][key].
    pub probs: Vec<Vec<Vec<f32>>>,
    /// Each head's weighted sum of V, concatenated: [T, C].
    #[serde(skip)]
    pub heads: Array2<f32>,
    /// After the output projection W_O: [T, C].
    #[serde(skip)]
    pub attn_out: Array2<f32>,
    /// x + attn(ln_1(x)): [T, C].
    #[serde(skip)]
    pub resid_mid: Array2<f32>,
    pub ln_2: LnTrace,
    /// MLP up-projection before GELU: [T, M]. Llama: the gate, x·W_gateᵀ.
    #[serde(skip)]
    pub mlp_pre: Array2<f32>,
    /// Llama only (empty for GPT-2): silu(gate) [T, M] and the up
    /// projection x·W_upᵀ [T, M], the two factors of `mlp_act`.
    #[serde(skip)]
    pub mlp_silu: Array2<f32>,
    #[serde(skip)]
    pub mlp_up: Array2<f32>,
    /// After GELU: [T, M]. Llama: silu(gate) ⊙ up. Either way, what the
    /// down-projection reads.
    #[serde(skip)]
    pub mlp_act: Array2<f32>,
    /// After the down-projection: [T, C].
    #[serde(skip)]
    pub mlp_out: Array2<f32>,
    /// resid_mid + mlp(ln_2(resid_mid)): [T, C].
    #[serde(skip)]
    pub resid_post: Array2<f32>,
}

/// Where a forward pass first produced NaN or ±inf: finite weights can still
/// overflow f32 (3e38 · 2 = inf), and everything after that point is noise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NonFinite {
    /// The stage's name, as in the trace: "embed", "ln_1", "qkv",
    /// "attention heads", "attn_out", "resid_mid", "ln_2", "mlp_pre",
    /// "mlp_act", "mlp_out", "resid_post", "ln_f", "logits".
    pub stage: &'static str,
    /// The block, for the stages inside one.
    pub layer: Option<usize>,
    /// The first position whose row holds a non-finite value.
    pub position: usize,
}

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = match self.layer {
            Some(l) => format!("layer {l}'s {}", self.stage),
            None => self.stage.to_string(),
        };
        write!(
            f,
            "the forward pass produced NaN or infinite values, first in {at} at position {}: some weights are too large for f32 arithmetic, and every number from there on is meaningless",
            self.position
        )
    }
}

/// The forward pass of a whole sequence, stage by stage.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The architecture that produced it: which norm, MLP, positions and
    /// how many key/value heads (what a stage's label or cost depends on).
    pub arch: super::Arch,
    pub tokens: Vec<u32>,
    /// Token embedding rows wte[token]: [T, C].
    pub tok_emb: Array2<f32>,
    /// Position embedding rows wpe[t]: [T, C]. Zeros for Llama, whose
    /// positions enter as RoPE rotations inside attention instead.
    pub pos_emb: Array2<f32>,
    /// Their sum, the residual stream entering layer 0: [T, C].
    pub embed: Array2<f32>,
    pub layers: Vec<LayerTrace>,
    pub ln_f: LnTrace,
    /// Logits for every position: [T, V].
    pub logits: Array2<f32>,
    /// Where NaN or ±inf first appeared, if anywhere.
    pub non_finite: Option<NonFinite>,
}

fn empty(c: usize) -> Array2<f32> {
    Array2::zeros((0, c))
}

impl LnTrace {
    fn new(c: usize) -> Self {
        LnTrace {
            mean: vec![],
            var: vec![],
            rms: vec![],
            xhat: empty(c),
            out: empty(c),
        }
    }
    fn prefix(&self, n: usize) -> Self {
        LnTrace {
            mean: self.mean[..n].to_vec(),
            var: self.var[..n].to_vec(),
            rms: self.rms[..n.min(self.rms.len())].to_vec(),
            xhat: rows(&self.xhat, n),
            out: rows(&self.out, n),
        }
    }
}

/// The first `n` rows (all of them when there are fewer: the family-only
/// fields are empty in the other family).
fn rows(a: &Array2<f32>, n: usize) -> Array2<f32> {
    a.slice(ndarray::s![..n.min(a.nrows()), ..]).to_owned()
}

/// Appends the rows of `src` to `dst`.
pub(crate) fn push_rows(dst: &mut Array2<f32>, src: ndarray::ArrayView2<f32>) {
    for r in src.axis_iter(Axis(0)) {
        push_row(dst, r);
    }
}

pub(crate) fn push_row(dst: &mut Array2<f32>, r: ArrayView1<f32>) {
    dst.push_row(r).expect("row width matches the trace");
}

impl Trace {
    pub fn new(cfg: &super::Config) -> Self {
        let (c, m, h) = (cfg.n_embd, cfg.mlp_dim(), cfg.n_head);
        Trace {
            arch: cfg.arch(),
            tokens: vec![],
            tok_emb: empty(c),
            pos_emb: empty(c),
            embed: empty(c),
            layers: (0..cfg.n_layer)
                .map(|l| LayerTrace {
                    ln_1: LnTrace::new(c),
                    attn_divisor: cfg.attn_divisor(l),
                    q: empty(c),
                    k: empty(c),
                    v: empty(c),
                    q_pre_rope: empty(c),
                    k_pre_rope: empty(c),
                    scores: vec![vec![]; h],
                    probs: vec![vec![]; h],
                    heads: empty(c),
                    attn_out: empty(c),
                    resid_mid: empty(c),
                    ln_2: LnTrace::new(c),
                    mlp_pre: empty(m),
                    mlp_silu: empty(m),
                    mlp_up: empty(m),
                    mlp_act: empty(m),
                    mlp_out: empty(c),
                    resid_post: empty(c),
                })
                .collect(),
            ln_f: LnTrace::new(c),
            logits: empty(cfg.vocab_size),
            non_finite: None,
        }
    }

    /// Number of positions traced.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The trace as it was when only the first `n` tokens existed.
    pub fn prefix(&self, n: usize) -> Trace {
        let n = n.min(self.len());
        let tri = |v: &Vec<Vec<Vec<f32>>>| -> Vec<Vec<Vec<f32>>> {
            v.iter().map(|head| head[..n].to_vec()).collect()
        };
        Trace {
            arch: self.arch,
            tokens: self.tokens[..n].to_vec(),
            tok_emb: rows(&self.tok_emb, n),
            pos_emb: rows(&self.pos_emb, n),
            embed: rows(&self.embed, n),
            layers: self
                .layers
                .iter()
                .map(|l| LayerTrace {
                    ln_1: l.ln_1.prefix(n),
                    attn_divisor: l.attn_divisor,
                    q: rows(&l.q, n),
                    k: rows(&l.k, n),
                    v: rows(&l.v, n),
                    q_pre_rope: rows(&l.q_pre_rope, n),
                    k_pre_rope: rows(&l.k_pre_rope, n),
                    scores: tri(&l.scores),
                    probs: tri(&l.probs),
                    heads: rows(&l.heads, n),
                    attn_out: rows(&l.attn_out, n),
                    resid_mid: rows(&l.resid_mid, n),
                    ln_2: l.ln_2.prefix(n),
                    mlp_pre: rows(&l.mlp_pre, n),
                    mlp_silu: rows(&l.mlp_silu, n),
                    mlp_up: rows(&l.mlp_up, n),
                    mlp_act: rows(&l.mlp_act, n),
                    mlp_out: rows(&l.mlp_out, n),
                    resid_post: rows(&l.resid_post, n),
                })
                .collect(),
            ln_f: self.ln_f.prefix(n),
            logits: rows(&self.logits, n),
            non_finite: self.non_finite.clone().filter(|nf| nf.position < n),
        }
    }

    /// The residual stream entering layer `l` (l = n_layer: entering ln_f).
    pub fn resid_in(&self, l: usize) -> &Array2<f32> {
        if l == 0 {
            &self.embed
        } else {
            &self.layers[l - 1].resid_post
        }
    }

    /// The last position's logits (what picks the next token).
    pub fn last_logits(&self) -> ArrayView1<'_, f32> {
        self.logits.row(self.len() - 1)
    }
}
