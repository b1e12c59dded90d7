//! Each readout recomputes something the engine also recorded: the two must agree.

use super::*;
use crate::model::{Config, Gpt, Trace, random_model};
use crate::pass::Stage;

fn model() -> (Gpt, Trace) {
    let gpt = random_model(&Config::new(2, 2, 16, 40, 16), 3, false);
    let tr = gpt
        .trace(&[1, 2, 3, 4, 5], &Default::default())
        .expect("trace");
    (gpt, tr)
}

#[test]
fn a_token_is_its_own_nearest_neighbour_and_the_lens_matches_the_logits() {
    let gpt = random_model(&Config::new(1, 2, 16, 40, 16), 3, false);
    let wte = gpt.weights.wte.view2();
    let near = embedding::nearest_tokens(&gpt, wte.row(7), 3);
    assert_eq!(near[0].0, 7);
    assert!((near[0].1 - 1.0).abs() < 1e-5);
    assert!(near[1].1 <= near[0].1);

    // The lens on the last layer's residual is the model's own prediction.
    let tr = gpt.trace(&[1, 2, 3], &Default::default()).expect("trace");
    let top = lens::top(&gpt, tr.resid_in(1).row(2), 1, false);
    let logits = tr.last_logits();
    let best = (0..logits.len()).max_by(|&a, &b| logits[a].total_cmp(&logits[b]));
    assert_eq!(Some(top[0].0 as usize), best);
    let tops = lens::tops(&gpt, &tr, 2);
    assert_eq!(tops.len(), 2);
    assert_eq!(Some(tops[1].0), best);
    assert!(lens::settles(&tops) <= 1);
}

#[test]
fn projection_axes_are_orthonormal() {
    let gpt = random_model(&Config::new(1, 2, 16, 300, 16), 3, false);
    let p = embedding::Projection::new(&gpt, 100);
    assert_eq!(p.ids.len(), p.points.len());
    let (a0, a1) = p.axes();
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!((dot(a0, a0) - 1.0).abs() < 1e-3);
    assert!(dot(a0, a1).abs() < 1e-3);
}

#[test]
fn the_cell_arithmetic_gives_the_engines_weight_and_output() {
    let (gpt, tr) = model();
    let dk = gpt.config.head_dim();
    for (layer, head, q, k) in [(0, 0, 4, 2), (1, 1, 3, 3), (1, 0, 0, 0)] {
        let c = attention::cell(&tr, layer, head, q, k, true);
        assert!((c.score - tr.layers[layer].scores[head][q][k]).abs() < 1e-5);
        assert!((c.weight - c.engine_weight).abs() < 1e-6, "{c:?}");
        for d in 0..dk {
            let got = attention::weighted_sum(&tr, layer, head, q, d);
            assert!((got - tr.layers[layer].heads[[q, head * dk + d]]).abs() < 1e-5);
        }
    }
    // A key past the query is clamped to the query's row.
    assert_eq!(attention::cell(&tr, 0, 0, 1, 4, true).key, 1);
    let unscaled = attention::cell(&tr, 0, 0, 4, 2, false);
    assert_eq!(unscaled.scale, 1.0);
    assert_eq!(attention::masked_keys(&tr, 1), 3);
    let w = &tr.layers[0].probs[1][4];
    assert_eq!(
        w[attention::top_key(&tr, 0, 1, 4)],
        w.iter().copied().fold(0.0, f32::max)
    );
}

#[test]
fn layernorm_elements_match_the_engine_at_every_site() {
    let (gpt, tr) = model();
    for (stage, layer) in [(Stage::Ln1, 1), (Stage::Ln2, 0), (Stage::FinalLn, 0)] {
        let at = layernorm::at(&gpt, &tr, layernorm::Site::of(stage, layer));
        for (t, d) in [(0, 0), (4, 15), (2, 7)] {
            let e = at.element(t, d);
            assert!((e.xhat - e.engine_xhat).abs() < 1e-4, "{stage} {e:?}");
            assert!((e.y - e.engine_y).abs() < 1e-4, "{stage} {e:?}");
        }
    }
    assert_eq!(layernorm::Site::of(Stage::Qkv, 1), layernorm::Site::Ln1(1));
}

#[test]
fn losses_are_minus_log_softmax_of_the_next_token() {
    let (gpt, tr) = model();
    let l = loss::token_losses(&tr);
    assert_eq!(l.len(), tr.len() - 1);
    for x in &l {
        let p = logits::softmax_t(tr.logits.row(x.pos), 1.0);
        let want = -(p[x.next as usize] as f64).ln();
        assert!((x.loss - want).abs() < 1e-4, "{x:?} vs {want}");
        assert!((logits::log_prob(tr.logits.row(x.pos), x.next as usize) + x.loss).abs() < 1e-12);
    }
    let mean = loss::mean_loss(&l).unwrap();
    assert!((loss::log_likelihood(&l) + mean * l.len() as f64).abs() < 1e-9);
    assert!(loss::perplexity(mean) > 1.0);
    let one = gpt.trace(&[3], &Default::default()).unwrap();
    assert_eq!(loss::mean_loss(&loss::token_losses(&one)), None);
}

#[test]
fn distributions_rankings_and_the_tied_unembedding() {
    let (gpt, tr) = model();
    let row = tr.logits.row(2);
    let p = logits::softmax_t(row, 1.0);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    let r = ranked(&p);
    assert!(p[r[0]] >= p[r[1]]);
    assert_eq!(r[0], argmax(&p));
    assert!((logits::top_k_mass(&p, p.len()) - 1.0).abs() < 1e-5);
    // A lower temperature sharpens the distribution.
    assert!(entropy(&logits::softmax_t(row, 0.5)) < entropy(&logits::softmax_t(row, 2.0)));
    assert!((entropy(&[0.5, 0.5]) - 2f64.ln()).abs() < 1e-12);
    let (j, re, engine) = logits::recompute_top(&gpt, &tr, 2);
    assert_eq!(j, r[0]);
    assert!((re - engine).abs() < 1e-4);
}

#[test]
fn a_continuation_is_the_greedy_generation_and_stops_at_the_context() {
    let (gpt, tr) = model();
    let s = crate::sample::Sampling::greedy();
    let c = generate::continuation(&gpt, &tr.tokens[..3], 4, &s, 0, None).unwrap();
    assert_eq!(c.len(), 4);
    // Its first token is the argmax of the trace's logits at that position.
    assert_eq!(c[0] as usize, argmax(&tr.logits.row(2).to_vec()));
    let full: Vec<u32> = vec![1; gpt.config.n_positions];
    assert!(
        generate::continuation(&gpt, &full, 4, &s, 0, None)
            .unwrap()
            .is_empty()
    );
    let room = generate::continuation(&gpt, &full[1..], 4, &s, 0, None).unwrap();
    assert_eq!(room.len(), 1);
}
