//! The hand-written backward pass checked three ways: against PyTorch autograd
//! (committed fixture), against finite differences (no fixture), and by
//! training: a few steps on one batch must drive its loss down. Also: the
//! training forward computes the same loss as the inference engine.

use std::path::Path;

use gptlens::model::{Config, Gpt, Interventions, KvCache, random_model};
use gptlens::rng::Rng;
use gptlens::train::{Dropout, Trainer};

fn batch(cfg: &Config, b: usize, t: usize, seed: u64) -> (Vec<u32>, Vec<u32>) {
    let mut rng = Rng::new(seed);
    let ids: Vec<u32> = (0..b * (t + 1))
        .map(|_| rng.below(cfg.vocab_size) as u32)
        .collect();
    let mut inputs = Vec::new();
    let mut targets = Vec::new();
    for r in ids.chunks(t + 1) {
        inputs.extend_from_slice(&r[..t]);
        targets.extend_from_slice(&r[1..]);
    }
    (inputs, targets)
}

fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
    let den: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum();
    (num / den.max(1e-30)).sqrt()
}

#[test]
fn training_loss_equals_cross_entropy_of_the_engines_logits() {
    // 150 positions: three blocks of query rows, the last one partial.
    let cfg = Config::new(2, 3, 12, 29, 150);
    let gpt = random_model(&cfg, 5, true);
    let (b, t) = (3, 150);
    let (inputs, targets) = batch(&cfg, b, t, 9);
    let mut tr = Trainer::new(&gpt, b, t);
    let loss = tr.loss(&inputs, &targets);
    let mut sum = 0.0f64;
    for r in 0..b {
        let mut cache = KvCache::new(&cfg);
        let logits = gpt
            .forward(
                &inputs[r * t..(r + 1) * t],
                &mut cache,
                &Interventions::default(),
                None,
                true,
            )
            .unwrap();
        for (i, row) in logits.rows().into_iter().enumerate() {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let lse = row
                .iter()
                .map(|&x| (x as f64 - max).exp())
                .sum::<f64>()
                .ln()
                + max;
            sum += lse - row[targets[r * t + i] as usize] as f64;
        }
    }
    let engine = sum / (b * t) as f64;
    assert!(
        (loss as f64 - engine).abs() < 1e-5,
        "training forward {loss} vs engine {engine}"
    );
}

#[test]
fn gradients_match_central_finite_differences() {
    finite_difference_check(Config::new(2, 2, 8, 13, 6), 2, 6, None);
}

#[test]
fn gradients_through_dropout_match_finite_differences_under_the_same_masks() {
    // The masks depend only on the seed, so L(p ± εd) is the same function.
    let dropout = Dropout { p: 0.3, seed: 9 };
    finite_difference_check(Config::new(2, 2, 8, 13, 6), 2, 6, Some(dropout));
}

#[test]
fn dropout_changes_the_training_loss_only() {
    let cfg = Config::new(2, 2, 16, 31, 8);
    let gpt = random_model(&cfg, 2, true);
    let (inputs, targets) = batch(&cfg, 4, 8, 4);
    let mut tr = Trainer::new(&gpt, 4, 8);
    let plain = tr.loss(&inputs, &targets);
    let d = Dropout { p: 0.5, seed: 1 };
    let dropped = tr.loss_with(&inputs, &targets, Some(d));
    assert_ne!(plain, dropped, "p = 0.5 must change the forward pass");
    // Inverted dropout: kept activations are scaled by 1/(1−p), about half are zero.
    let mask = &tr.acts.drop_embd;
    let zeros = mask.iter().filter(|&&m| m == 0.0).count() as f64 / mask.len() as f64;
    assert!((zeros - 0.5).abs() < 0.05, "{zeros} of the mask is zero");
    assert!(mask.iter().all(|&m| m == 0.0 || m == 2.0));
    assert_eq!(
        dropped,
        tr.loss_with(&inputs, &targets, Some(d)),
        "same seed, same masks"
    );
    assert_eq!(
        plain,
        tr.loss(&inputs, &targets),
        "evaluation runs without dropout"
    );
    assert!(tr.acts.drop_embd.is_empty() && tr.acts.layers[0].drop_mlp.is_empty());
}

#[test]
fn blocked_attention_backward_matches_the_formula_across_blocks() {
    use gptlens::train::attention::{attention_backward, attention_forward};
    // Longer than one block of query rows (64), with a partial last block.
    let (b, t, c, nh) = (2, 150, 12, 3);
    let dk = c / nh;
    let mut rng = Rng::new(5);
    let qkv: Vec<f32> = (0..b * t * 3 * c).map(|_| rng.normal()).collect();
    let dout: Vec<f32> = (0..b * t * c).map(|_| rng.normal()).collect();
    let mut out = vec![0.0; b * t * c];
    let mut att = vec![0.0; b * nh * t * t];
    attention_forward(&mut out, &mut att, &qkv, t, c, nh);
    let mut dqkv = vec![0.0; b * t * 3 * c];
    attention_backward(&mut dqkv, &dout, &qkv, &att, t, c, nh);
    // Straight from the formulas, in f64, one query at a time.
    let scale = 1.0 / (dk as f64).sqrt();
    let mut want = vec![0.0f64; b * t * 3 * c];
    let at = |bi: usize, ti: usize, j: usize| qkv[(bi * t + ti) * 3 * c + j] as f64;
    for bi in 0..b {
        for h in 0..nh {
            for ti in 0..t {
                let p = |t2: usize| att[((bi * nh + h) * t + ti) * t + t2] as f64;
                let dy = |i: usize| dout[(bi * t + ti) * c + h * dk + i] as f64;
                let dp: Vec<f64> = (0..=ti)
                    .map(|t2| {
                        (0..dk)
                            .map(|i| dy(i) * at(bi, t2, 2 * c + h * dk + i))
                            .sum()
                    })
                    .collect();
                let s: f64 = (0..=ti).map(|t2| p(t2) * dp[t2]).sum();
                for t2 in 0..=ti {
                    let ds = p(t2) * (dp[t2] - s) * scale;
                    for i in 0..dk {
                        want[(bi * t + ti) * 3 * c + h * dk + i] += ds * at(bi, t2, c + h * dk + i);
                        want[(bi * t + t2) * 3 * c + c + h * dk + i] += ds * at(bi, ti, h * dk + i);
                        want[(bi * t + t2) * 3 * c + 2 * c + h * dk + i] += p(t2) * dy(i);
                    }
                }
            }
        }
    }
    let want: Vec<f32> = want.iter().map(|&x| x as f32).collect();
    let err = rel_err(&dqkv, &want);
    assert!(err < 1e-5, "relative error {err:.2e}");
}

fn finite_difference_check(cfg: Config, b: usize, t: usize, dropout: Option<Dropout>) {
    let gpt = random_model(&cfg, 11, true);
    let (inputs, targets) = batch(&cfg, b, t, 3);
    let mut tr = Trainer::new(&gpt, b, t);
    tr.loss_and_grads_with(&inputs, &targets, dropout);
    let grads = tr.grads.clone();
    let layout = tr.layout.clone();
    let eps = 1e-3f32;
    let mut rng = Rng::new(77);
    let mut worst = 0.0f64;
    for i in 0..layout.names.len() {
        // Along a random direction within each tensor: the directional
        // derivative g·d against (L(p+εd) − L(p−εd)) / 2ε.
        let range = layout.range(i);
        let d: Vec<f32> = range.clone().map(|_| rng.normal()).collect();
        let analytic: f64 = range
            .clone()
            .zip(&d)
            .map(|(k, dk)| grads[k] as f64 * *dk as f64)
            .sum();
        let base = tr.params.clone();
        for (k, dk) in range.clone().zip(&d) {
            tr.params[k] = base[k] + eps * dk;
        }
        let up = tr.loss_with(&inputs, &targets, dropout) as f64;
        for (k, dk) in range.clone().zip(&d) {
            tr.params[k] = base[k] - eps * dk;
        }
        let down = tr.loss_with(&inputs, &targets, dropout) as f64;
        tr.params = base;
        let numeric = (up - down) / (2.0 * eps as f64);
        // The loss is computed in f32: its rounding (~2e-7) over 2ε is ~1e-4 of
        // noise in `numeric`, hence the 1e-2 floor under the relative error. A
        // larger ε lets curvature in (3e-3 gave 2.7e-2 through dropout masks).
        let err = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-2);
        eprintln!(
            "{}: analytic {analytic:.6e} vs numeric {numeric:.6e} (rel {err:.2e})",
            layout.names[i]
        );
        worst = worst.max(err);
    }
    assert!(worst < 2e-2, "worst relative error {worst:.2e}");
}

#[test]
fn a_few_steps_on_one_batch_drive_the_loss_down() {
    let cfg = Config::new(2, 2, 16, 31, 8);
    let gpt = random_model(&cfg, 2, false);
    let (b, t) = (4, 8);
    let (inputs, targets) = batch(&cfg, b, t, 4);
    let mut tr = Trainer::new(&gpt, b, t);
    let first = tr.loss_and_grads(&inputs, &targets);
    let mut last = first;
    for step in 1..=30 {
        tr.update(1e-2, 0.0, 1.0, step);
        last = tr.loss_and_grads(&inputs, &targets);
    }
    assert!(
        last < 0.5 * first,
        "loss went from {first} to {last}; memorising one batch should halve it"
    );
}

#[test]
fn gradients_match_pytorch_autograd_on_the_odd_random_model() {
    check_against_pytorch("random-odd", "grads.safetensors");
}

#[test]
fn gradients_match_pytorch_autograd_with_a_custom_mlp_width() {
    check_against_pytorch("random-inner", "grads.safetensors");
}

/// The fine-tuning loss: only response tokens and the closing end-of-text
/// token count; prompt and padding positions carry no loss and no gradient.
#[test]
fn masked_loss_and_gradients_match_pytorch_autograd_on_a_batch_of_pairs() {
    check_against_pytorch("random-odd", "masked-grads.safetensors");
}

#[test]
fn an_all_ones_mask_is_the_pretraining_loss_bit_for_bit() {
    let cfg = Config::new(2, 2, 16, 31, 8);
    let gpt = random_model(&cfg, 2, true);
    let (inputs, targets) = batch(&cfg, 4, 8, 4);
    let mut tr = Trainer::new(&gpt, 4, 8);
    let plain = tr.loss_and_grads(&inputs, &targets);
    let g = tr.grads.clone();
    let ones = vec![1.0; inputs.len()];
    let masked = tr.masked_loss_and_grads(&inputs, &targets, Some(&ones), None);
    assert_eq!(plain, masked);
    let worst = g
        .iter()
        .zip(&tr.grads)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-9, "all-ones mask moved a gradient by {worst:e}");
}

#[test]
fn masked_positions_change_neither_the_loss_nor_the_gradient() {
    let cfg = Config::new(2, 2, 16, 31, 8);
    let gpt = random_model(&cfg, 2, true);
    let (inputs, targets) = batch(&cfg, 2, 8, 4);
    let mask: Vec<f32> = (0..16)
        .map(|i| if i % 8 >= 5 { 1.0 } else { 0.0 })
        .collect();
    let mut tr = Trainer::new(&gpt, 2, 8);
    let loss = tr.masked_loss_and_grads(&inputs, &targets, Some(&mask), None);
    let g = tr.grads.clone();
    // Other targets where the mask is 0 (prompt, padding): nothing may move.
    let mut other = targets.clone();
    for (t, m) in other.iter_mut().zip(&mask) {
        if *m == 0.0 {
            *t = (*t + 7) % 31;
        }
    }
    assert_eq!(
        loss,
        tr.masked_loss_and_grads(&inputs, &other, Some(&mask), None)
    );
    assert_eq!(g, tr.grads);
    // And the masked loss is not the full one.
    assert_ne!(loss, tr.loss(&inputs, &targets));
}

/// Loss and every parameter's gradient against PyTorch autograd (float64,
/// stored f32; written by scripts/reference.py fixtures). The error measure is
/// ‖g − g_ref‖ / ‖g_ref‖ per tensor. A fixture with a `mask` tensor holds the
/// masked (fine-tuning) loss.
fn check_against_pytorch(name: &str, file: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let gpt = Gpt::open(&dir).expect("fixture model");
    let bytes = std::fs::read(dir.join(file)).expect("gradient fixture");
    let st = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let read_f32 = |name: &str| -> (Vec<usize>, Vec<f32>) {
        let v = st
            .tensor(name)
            .unwrap_or_else(|_| panic!("{name} in fixture"));
        assert_eq!(v.dtype(), safetensors::Dtype::F32, "{name}");
        let d = v
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        (v.shape().to_vec(), d)
    };
    let read_ids = |name: &str| -> (Vec<usize>, Vec<u32>) {
        let v = st
            .tensor(name)
            .unwrap_or_else(|_| panic!("{name} in fixture"));
        assert_eq!(v.dtype(), safetensors::Dtype::I64, "{name}");
        let d = v
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as u32)
            .collect();
        (v.shape().to_vec(), d)
    };
    let (shape, inputs) = read_ids("inputs");
    let (_, targets) = read_ids("targets");
    let (b, t) = (shape[0], shape[1]);
    let mut tr = Trainer::new(&gpt, b, t);
    let mask = st.tensor("mask").is_ok().then(|| read_f32("mask").1);
    let loss = tr.masked_loss_and_grads(&inputs, &targets, mask.as_deref(), None);
    let (_, ref_loss) = read_f32("loss");
    assert!(
        ((loss - ref_loss[0]) / ref_loss[0]).abs() < 1e-5,
        "loss {loss} vs PyTorch {}",
        ref_loss[0]
    );
    let layout = tr.layout.clone();
    let mut worst = (0.0, String::new());
    for i in 0..layout.names.len() {
        let name = &layout.names[i];
        let (shape, g_ref) = read_f32(&format!("grad.{name}"));
        assert_eq!(shape, layout.shapes[i], "{name}");
        let err = rel_err(&tr.grads[layout.range(i)], &g_ref);
        if err > worst.0 {
            worst = (err, name.clone());
        }
        assert!(err < 1e-4, "{name}: relative error {err:.2e}");
    }
    eprintln!(
        "{name}/{file}: loss {loss} vs {}; worst gradient relative error {:.2e} ({})",
        ref_loss[0], worst.0, worst.1
    );
}
