//! Two models on the same tokens: what the explorer's compare mode shows
//! (`gptlens explore --model A --compare B`). Each number is read off the two
//! traces; a difference is always B − A, so a negative Δloss means B predicts
//! the text better.
//!
//! The tokens mean the same to both only when the vocabularies are the same,
//! id for id: [`same_vocabulary`] checks that before anything is traced.

use std::sync::{Arc, Mutex};

use super::loss::{TokenLoss, token_losses};
use super::ranked;
use crate::model::{Gpt, Interventions, Trace, softmax_in_place};
use crate::tokenizer::Tokenizer;

/// Refuses two tokenizers that do not give every id the same bytes (a
/// different vocabulary, or the same size with other tokens): the same ids
/// would be different text to the two models.
pub fn same_vocabulary(a: &Tokenizer, b: &Tokenizer) -> Result<(), String> {
    let (na, nb) = (a.vocab_size(), b.vocab_size());
    if na != nb {
        return Err(format!(
            "the two models have different vocabularies ({na} and {nb} tokens), so the same token ids would be different text to them: compare models that share a tokenizer (a fine-tune, a quantized or pruned copy of the same model)"
        ));
    }
    match (0..na as u32).find(|&i| a.token_bytes(i) != b.token_bytes(i)) {
        None => Ok(()),
        Some(i) => Err(format!(
            "the two models' tokenizers differ at token {i} ({:?} against {:?}): the same ids would be different text to them; compare models that share a tokenizer",
            a.token_display(i),
            b.token_display(i)
        )),
    }
}

/// The second model and its trace of the tokens on screen, traced again
/// only when the tokens change.
pub struct CompareModel {
    pub gpt: Arc<Gpt>,
    /// What the screen calls it (its folder or file name).
    pub name: String,
    cache: Mutex<Option<(Vec<u32>, Arc<Trace>)>>,
}

impl CompareModel {
    pub fn new(gpt: Arc<Gpt>, name: &str) -> Self {
        CompareModel {
            gpt,
            name: name.to_string(),
            cache: Mutex::new(None),
        }
    }

    /// B's trace of `tokens` (without interventions).
    pub fn trace(&self, tokens: &[u32]) -> Result<Arc<Trace>, String> {
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((t, tr)) = c.as_ref()
            && t == tokens
        {
            return Ok(tr.clone());
        }
        let tr = Arc::new(
            self.gpt
                .trace(tokens, &Interventions::default())
                .map_err(|e| format!("{} cannot run these tokens: {e}", self.name))?,
        );
        *c = Some((tokens.to_vec(), tr.clone()));
        Ok(tr)
    }
}

/// One position's next-token loss under both models.
#[derive(Clone, Debug, PartialEq)]
pub struct LossPair {
    pub pos: usize,
    pub next: u32,
    pub a: TokenLoss,
    pub b: TokenLoss,
}

impl LossPair {
    /// Δloss = B − A, in nats.
    pub fn d_loss(&self) -> f64 {
        self.b.loss - self.a.loss
    }
    /// Δp = B − A of the token that came next.
    pub fn d_p(&self) -> f64 {
        self.b.p - self.a.p
    }
}

/// Every position with a next token, both models' loss of it (as many as
/// both traces have rows for).
pub fn losses(a: &Trace, b: &Trace) -> Vec<LossPair> {
    token_losses(a)
        .into_iter()
        .zip(token_losses(b))
        .map(|(a, b)| LossPair {
            pos: a.pos,
            next: a.next,
            a,
            b,
        })
        .collect()
}

/// The whole text under both models.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Predictions scored.
    pub n: usize,
    pub mean_a: f64,
    pub mean_b: f64,
    /// Rows (the last position's included) where both rank the same token first.
    pub top1_agree: usize,
    pub rows: usize,
    /// Mean over the rows of KL(P_A ‖ P_B), in nats.
    pub mean_kl: f64,
}

pub fn summary(a: &Trace, b: &Trace) -> Summary {
    let l = losses(a, b);
    let n = l.len();
    let mean = |f: &dyn Fn(&LossPair) -> f64| l.iter().map(f).sum::<f64>() / n.max(1) as f64;
    let rows = a
        .len()
        .min(b.len())
        .min(a.logits.nrows())
        .min(b.logits.nrows());
    let (mut agree, mut kl_sum) = (0, 0.0);
    for t in 0..rows {
        let (pa, pb) = (probs(a, t), probs(b, t));
        agree += usize::from(super::argmax(&pa) == super::argmax(&pb));
        kl_sum += kl(&pa, &pb);
    }
    Summary {
        n,
        mean_a: mean(&|p| p.a.loss),
        mean_b: mean(&|p| p.b.loss),
        top1_agree: agree,
        rows,
        mean_kl: kl_sum / rows.max(1) as f64,
    }
}

/// softmax of row `t` of a trace's logits.
pub fn probs(tr: &Trace, t: usize) -> Vec<f32> {
    let mut p = tr.logits.row(t).to_vec();
    softmax_in_place(&mut p);
    p
}

/// KL(P ‖ Q) = Σ p·ln(p/q) in nats (terms with p = 0 are 0; q = 0 where
/// p > 0 gives +∞).
pub fn kl(p: &[f32], q: &[f32]) -> f64 {
    p.iter()
        .zip(q)
        .filter(|(p, _)| **p > 0.0)
        .map(|(&p, &q)| p as f64 * ((p as f64).ln() - (q as f64).ln()))
        .sum()
}

/// One candidate next token under both models.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub token: u32,
    pub p_a: f64,
    pub p_b: f64,
    /// 1 = most likely.
    pub rank_a: usize,
    pub rank_b: usize,
}

impl Candidate {
    /// Δp = B − A.
    pub fn d_p(&self) -> f64 {
        self.p_b - self.p_a
    }
}

/// The next-token candidates at row `t`: the `n` most likely under A, then
/// those of B's `n` most likely that A's list lacks, each with both models'
/// probability and rank.
pub fn candidates(a: &Trace, b: &Trace, t: usize, n: usize) -> Vec<Candidate> {
    let (pa, pb) = (probs(a, t), probs(b, t));
    let (ra, rb) = (ranked(&pa), ranked(&pb));
    let mut rank_a = vec![0; pa.len()];
    let mut rank_b = vec![0; pb.len()];
    for (r, &i) in ra.iter().enumerate() {
        rank_a[i] = r + 1;
    }
    for (r, &i) in rb.iter().enumerate() {
        rank_b[i] = r + 1;
    }
    let mut ids: Vec<usize> = ra.iter().take(n).copied().collect();
    ids.extend(rb.iter().take(n).filter(|i| rank_a[**i] > n));
    ids.into_iter()
        .filter(|&i| i < pb.len())
        .map(|i| Candidate {
            token: i as u32,
            p_a: pa[i] as f64,
            p_b: pb[i] as f64,
            rank_a: rank_a[i],
            rank_b: rank_b[i],
        })
        .collect()
}

/// One head's attention row at query `pos` in both models: (weight A,
/// weight B) per key.
pub fn attention_row(
    a: &Trace,
    b: &Trace,
    layer: usize,
    head: usize,
    pos: usize,
) -> Option<Vec<(f32, f32)>> {
    let ra = a.layers.get(layer)?.probs.get(head)?.get(pos)?;
    let rb = b.layers.get(layer)?.probs.get(head)?.get(pos)?;
    Some(ra.iter().copied().zip(rb.iter().copied()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, random_model};
    use crate::tokenizer::bytes_tokenizer_json;

    fn traces() -> (Trace, Trace) {
        let cfg = Config::new(2, 2, 16, 257, 32);
        let (a, b) = (random_model(&cfg, 1, true), random_model(&cfg, 2, true));
        let toks = [72, 105, 32, 116, 104, 101, 114, 101];
        let iv = Default::default();
        (a.trace(&toks, &iv).unwrap(), b.trace(&toks, &iv).unwrap())
    }

    #[test]
    fn a_model_against_itself_differs_by_nothing() {
        let (a, _) = traces();
        let s = summary(&a, &a);
        assert_eq!((s.top1_agree, s.rows, s.n), (8, 8, 7));
        assert_eq!(s.mean_a, s.mean_b);
        assert!(s.mean_kl.abs() < 1e-9, "{}", s.mean_kl);
        assert!(
            losses(&a, &a)
                .iter()
                .all(|p| p.d_loss() == 0.0 && p.d_p() == 0.0)
        );
    }

    #[test]
    fn differences_are_b_minus_a_and_agree_with_the_loss_readout() {
        let (a, b) = traces();
        let l = losses(&a, &b);
        let (la, lb) = (token_losses(&a), token_losses(&b));
        assert_eq!(l.len(), 7);
        for (p, (x, y)) in l.iter().zip(la.iter().zip(&lb)) {
            assert_eq!(p.d_loss(), y.loss - x.loss);
            assert_eq!(p.d_p(), y.p - x.p);
            assert_eq!(p.next, a.tokens[p.pos + 1]);
        }
        let s = summary(&a, &b);
        let mean = |v: &[TokenLoss]| v.iter().map(|l| l.loss).sum::<f64>() / v.len() as f64;
        assert_eq!((s.mean_a, s.mean_b), (mean(&la), mean(&lb)));
        assert!(s.mean_kl > 0.0);
        // KL by hand on the last row.
        let (pa, pb) = (probs(&a, 7), probs(&b, 7));
        let by_hand: f64 = (0..pa.len())
            .map(|i| pa[i] as f64 * (pa[i] as f64 / pb[i] as f64).ln())
            .sum();
        assert!((kl(&pa, &pb) - by_hand).abs() < 1e-9);
    }

    #[test]
    fn candidates_are_a_top_then_what_b_adds_with_both_ranks() {
        let (a, b) = traces();
        let c = candidates(&a, &b, 3, 5);
        assert!(c.len() >= 5 && c.len() <= 10, "{}", c.len());
        assert_eq!(
            c.iter().take(5).map(|c| c.rank_a).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert!(c[5..].iter().all(|c| c.rank_a > 5 && c.rank_b <= 5));
        let pb = probs(&b, 3);
        for x in &c {
            assert_eq!(x.p_b, pb[x.token as usize] as f64);
            assert_eq!(x.d_p(), x.p_b - x.p_a);
        }
        let row = attention_row(&a, &b, 1, 1, 3).expect("row");
        assert_eq!(row.len(), 4, "the causal row of position 3");
        assert!(attention_row(&a, &b, 2, 0, 3).is_none());
    }

    #[test]
    fn the_second_model_is_traced_again_only_when_the_tokens_change() {
        let cfg = Config::new(2, 2, 16, 257, 32);
        let m = CompareModel::new(Arc::new(random_model(&cfg, 2, true)), "b");
        let t1 = m.trace(&[1, 2, 3]).unwrap();
        assert!(Arc::ptr_eq(&t1, &m.trace(&[1, 2, 3]).unwrap()));
        let t2 = m.trace(&[1, 2, 3, 4]).unwrap();
        assert_eq!(t2.len(), 4);
        assert_eq!(
            t2.prefix(3).logits,
            t1.logits,
            "causal: the same first rows"
        );
        let e = m.trace(&[1; 33]).unwrap_err();
        assert!(e.starts_with("b cannot run these tokens"), "{e}");
    }

    #[test]
    fn different_vocabularies_are_refused_with_the_reason() {
        let bytes = Tokenizer::from_json(&bytes_tokenizer_json()).unwrap();
        assert!(same_vocabulary(&bytes, &bytes).is_ok());
        let dir = crate::paths::default_model().expect("built-in");
        let bpe = Tokenizer::open(&dir.join("tokenizer.json")).unwrap();
        let e = same_vocabulary(&bytes, &bpe).unwrap_err();
        assert!(
            e.contains("different vocabularies (257 and 2048 tokens)"),
            "{e}"
        );
        // Same size, other tokens: id 97 is "ab" instead of "a".
        let json = bytes_tokenizer_json();
        assert!(json.contains("\"a\": 97"), "the byte vocabulary's layout");
        let other = Tokenizer::from_json(&json.replacen("\"a\": 97", "\"ab\": 97", 1)).unwrap();
        let e = same_vocabulary(&bytes, &other).unwrap_err();
        assert!(e.contains("differ at token 97"), "{e}");
    }
}
