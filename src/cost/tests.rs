use super::*;
use crate::fmt::{human_duration, sig};
use crate::model::{Interventions, KvCache, Trace, expected_tensors, random_model};

fn small() -> Config {
    Config::new(2, 4, 32, 50, 16)
}

fn gpt3() -> Config {
    preset("gpt3").expect("gpt3 preset").shape.config()
}

#[test]
fn params_match_the_engine_count_and_tensor_shapes() {
    for cfg in [small(), Config::new(3, 2, 8, 300, 7), gpt3()] {
        let p = Params::of(&cfg);
        let from_shapes: usize = expected_tensors(&cfg)
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum();
        assert_eq!(p.total, from_shapes as f64);
        assert_eq!(p.total, cfg.n_params() as f64);
        let (v, t, c) = (cfg.vocab_size, cfg.n_positions, cfg.n_embd);
        assert_eq!(p.embedding, ((v + t) * c) as f64);
        assert_eq!(p.non_embedding, p.total - p.embedding);
        assert_eq!(p.matrices, (12 * cfg.n_layer * c * c) as f64);
    }
    let gpt = random_model(&small(), 1, false);
    let real: usize = gpt.weights.named().iter().map(|(_, t)| t.len()).sum();
    assert_eq!(Params::of(&small()).total, real as f64);
}

#[test]
fn gpt2_presets_have_the_released_parameter_counts() {
    // Exact totals of the released checkpoints (tied unembedding counted once).
    for (key, exact) in [
        ("gpt2", 124_439_808.0),
        ("gpt2-medium", 354_823_168.0),
        ("gpt2-large", 774_030_080.0),
        ("gpt2-xl", 1_557_611_200.0),
    ] {
        let p = preset(key).expect("preset");
        let total = Params::of(&p.shape.config()).total;
        assert_eq!(total, exact, "{key}");
        assert!((total / p.published_params - 1.0).abs() < 0.04, "{key}");
    }
}

#[test]
fn decode_step_matches_the_closed_form() {
    // One token at position t attends to T = t + 1 keys.
    for cfg in [small(), gpt3()] {
        let (l, c, v) = (cfg.n_layer as f64, cfg.n_embd as f64, cfg.vocab_size as f64);
        for t in [0usize, 5, cfg.n_positions - 1] {
            let led = Ledger::for_forward(&cfg, t, 1, false);
            let n = led.params.matrices;
            let tt = (t + 1) as f64;
            // Kaplan's attention term is the scores q·k: 2·L·T·C.
            assert_eq!(led.stage(Stage::Scores).unwrap().flops, 2.0 * l * tt * c);
            assert_eq!(
                led.stage(Stage::WeightedSum).unwrap().flops,
                2.0 * l * tt * c
            );
            assert_eq!(led.stage(Stage::Logits).unwrap().flops, 2.0 * c * v);
            assert_eq!(
                led.matmul_flops(),
                2.0 * n + 2.0 * l * tt * c + 2.0 * l * tt * c + 2.0 * c * v
            );
            assert_eq!(led.multiply_adds() * 2.0, led.matmul_flops());
            assert_eq!(led.kv_cache_bytes, 2.0 * l * tt * c * 4.0);
        }
    }
}

#[test]
fn gpt3_forward_is_about_2n_plus_the_attention_term() {
    let cfg = gpt3();
    let t = cfg.n_positions;
    let led = Ledger::for_forward(&cfg, t - 1, 1, false);
    let n = led.params.non_embedding;
    let kaplan = 2.0 * n + 2.0 * cfg.n_layer as f64 * t as f64 * cfg.n_embd as f64;
    let ratio = led.flops() / kaplan;
    // Above: the weighted sum of V, the unembedding and elementwise work that
    // Kaplan's approximation leaves out; all three are small at this size.
    assert!(ratio > 1.0 && ratio < 1.03, "ratio {ratio}");
    let share = led.attention_flops() / led.flops();
    assert!(share > 0.02 && share < 0.04, "attention share {share}");
}

#[test]
fn groups_add_up_to_the_total() {
    let led = Ledger::for_step(&small(), 4, 2);
    let g = led.groups();
    let names: Vec<&str> = g.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["embedding", "norm", "attention", "mlp", "logits"]);
    let sum: f64 = g.iter().map(|(_, f)| f).sum();
    assert!((sum - led.flops()).abs() <= 1e-9 * led.flops());
    let mlp = led.stage(Stage::MlpUp).unwrap().flops
        + led.stage(Stage::Gelu).unwrap().flops
        + led.stage(Stage::MlpDown).unwrap().flops;
    assert_eq!(g[3].1, mlp);
}

#[test]
fn attention_share_grows_with_context() {
    let cfg = small();
    let shares: Vec<f64> = (0..cfg.n_positions)
        .map(|t| {
            let l = Ledger::for_forward(&cfg, t, 1, false);
            l.attention_flops() / l.flops()
        })
        .collect();
    assert!(shares.windows(2).all(|w| w[1] > w[0]));
}

#[test]
fn prefill_is_the_sum_of_single_token_steps() {
    let cfg = small();
    let t = 11;
    let prompt = Ledger::for_prompt(&cfg, t);
    let steps: Vec<Ledger> = (0..t).map(|i| Ledger::for_step(&cfg, i, 1)).collect();
    for (k, stage) in prompt.rows.iter().enumerate() {
        let sum: f64 = steps.iter().map(|s| s.rows[k].flops).sum();
        assert_eq!(stage.flops, sum, "{}", stage.key);
    }
    // Scores over a prompt: L·C·T(T+1)/2 multiply-adds.
    let (l, c) = (cfg.n_layer as f64, cfg.n_embd as f64);
    let tt = t as f64;
    assert_eq!(
        prompt.stage(Stage::Scores).unwrap().multiply_adds,
        l * c * tt * (tt + 1.0) / 2.0
    );
    assert_eq!(prompt.flops_per_token() * tt, prompt.flops());
    // Logits for the last position only, as generation runs it.
    let last = Ledger::for_forward(&cfg, 0, t, false);
    assert_eq!(last.logit_rows, 1);
    assert_eq!(
        prompt.stage(Stage::Logits).unwrap().flops,
        tt * last.stage(Stage::Logits).unwrap().flops
    );
}

#[test]
fn weight_bytes_per_decode_token_are_every_weight_once() {
    let cfg = small();
    let p = Params::of(&cfg);
    let (v, c) = (cfg.vocab_size as f64, cfg.n_embd as f64);
    let led = Ledger::for_forward(&cfg, 3, 1, false);
    // Blocks and ln_f, the whole wte for the logits, one row of wte and of wpe.
    assert_eq!(
        led.weight_bytes(),
        4.0 * (p.non_embedding + v * c + 2.0 * c)
    );
    // More tokens in one call read the same weights (plus their embedding rows).
    let five = Ledger::for_forward(&cfg, 3, 5, false);
    assert_eq!(
        five.weight_bytes() - led.weight_bytes(),
        4.0 * 4.0 * 2.0 * c
    );
    assert!(five.arithmetic_intensity() > led.arithmetic_intensity());
}

/// Counts the work from what the engine actually recorded: the weights'
/// shapes and the attention rows of a traced step.
#[test]
fn ledger_matches_the_engine_shapes_of_a_random_model() {
    let cfg = small();
    let gpt = random_model(&cfg, 7, false);
    let iv = Interventions::default();
    let (start, n) = (5usize, 3usize);
    let ids: Vec<u32> = (0..(start + n) as u32).map(|i| (i * 7) % 50).collect();
    // Trace the prefix, then the step; the step's rows are those added last.
    let mut cache = KvCache::new(&cfg);
    let mut step = Trace::new(&cfg);
    gpt.forward(&ids[..start], &mut cache, &iv, Some(&mut step), true)
        .unwrap();
    let before: Vec<usize> = step.layers[0].probs.iter().map(|h| h.len()).collect();
    gpt.forward(&ids[start..], &mut cache, &iv, Some(&mut step), true)
        .unwrap();
    let led = Ledger::for_step(&cfg, start, n);
    let dk = cfg.head_dim() as f64;

    let mut scores = 0.0;
    for lt in &step.layers {
        for (h, rows) in lt.probs.iter().enumerate() {
            for row in &rows[before[h]..] {
                scores += row.len() as f64 * dk;
            }
        }
    }
    assert_eq!(led.stage(Stage::Scores).unwrap().multiply_adds, scores);
    assert_eq!(led.stage(Stage::WeightedSum).unwrap().multiply_adds, scores);

    let rows = n as f64;
    let mm = |w: &crate::model::Tensor| rows * (w.shape[0] * w.shape[1]) as f64;
    let ws = &gpt.weights.layers;
    let sum = |f: &dyn Fn(&crate::model::LayerWeights) -> f64| ws.iter().map(f).sum::<f64>();
    assert_eq!(
        led.stage(Stage::Qkv).unwrap().multiply_adds,
        sum(&|w| mm(&w.attn_w))
    );
    assert_eq!(
        led.stage(Stage::OutProj).unwrap().multiply_adds,
        sum(&|w| mm(&w.attn_proj_w))
    );
    assert_eq!(
        led.stage(Stage::MlpUp).unwrap().multiply_adds,
        sum(&|w| mm(&w.fc_w))
    );
    assert_eq!(
        led.stage(Stage::MlpDown).unwrap().multiply_adds,
        sum(&|w| mm(&w.mlp_proj_w))
    );
    let logit_rows = step.logits.nrows() - start;
    assert_eq!(logit_rows, n);
    assert_eq!(
        led.stage(Stage::Logits).unwrap().multiply_adds,
        (logit_rows * gpt.weights.wte.len()) as f64
    );
    assert_eq!(led.kv_cache_bytes, cache.bytes() as f64);
}

#[test]
fn measurement_divides_the_counts_by_the_time() {
    let cfg = small();
    let a = Ledger::for_forward(&cfg, 0, 4, false);
    let b = Ledger::for_forward(&cfg, 4, 1, false);
    let m = Measurement::from_ledgers("decode", &[a.clone(), b.clone()], 2.0);
    assert_eq!(m.tokens, 5);
    assert_eq!(m.flops, a.flops() + b.flops());
    assert_eq!(m.bytes, a.bytes_read() + b.bytes_read());
    assert_eq!(m.flops_per_s, m.flops / 2.0);
    assert_eq!(m.bytes_per_s, m.bytes / 2.0);
    assert_eq!(m.tokens_per_s, 2.5);
    let zero = Measurement::from_ledgers("decode", &[a], 0.0);
    assert_eq!(zero.flops_per_s, 0.0);
}

#[test]
fn measure_counts_the_tokens_it_ran() {
    let cfg = small();
    let gpt = random_model(&cfg, 3, false);
    // Asks for more than the context holds: cut to fit.
    let s = measure(&gpt, 10, 100, 2).unwrap();
    assert_eq!(s.prefill.tokens, 10);
    assert_eq!(s.decode.tokens, cfg.n_positions - 10);
    let expect: f64 = (10..cfg.n_positions)
        .map(|t| Ledger::for_forward(&cfg, t, 1, false).flops())
        .sum();
    assert_eq!(s.decode.flops, expect);
    assert!(s.decode.seconds >= 0.0 && s.prefill.flops > 0.0);
}

#[test]
fn gpt3_lands_on_the_published_figures() {
    let p = preset("gpt3").unwrap();
    let (tokens, flops) = p.published_training.expect("GPT-3's budget is published");
    assert_eq!((tokens, flops), (300e9, 3.14e23));
    let e = Estimate::new(p.shape, tokens, &Assumptions::default(), None).unwrap();
    // 175B parameters (Brown et al. 2020, Table 2.1).
    assert!(
        (e.params.total / 175e9 - 1.0).abs() < 0.01,
        "{}",
        e.params.total
    );
    // 3.14e23 training FLOPs for 300B tokens (Table D.1), two significant figures.
    assert_eq!(sig(e.training_flops, 2), sig(flops, 2));
    assert_eq!(sig(e.training_flops, 2), "3.1e23");
    assert_eq!(e.training_flops, 6.0 * e.params.non_embedding * 300e9);
    // Counting the embeddings too gives the paper's three figures exactly.
    assert_eq!(sig(e.training_flops_all_params, 3), "3.14e23");
    assert_eq!(e.inference_flops_per_token, 2.0 * e.params.non_embedding);
    // 2 bytes per weight: about 350 GB; KV cache 2·96·12288·2 bytes per token.
    assert_eq!(e.kv_cache_bytes_per_token, 2.0 * 96.0 * 12288.0 * 2.0);
    assert_eq!(e.training_memory_bytes, 16.0 * e.params.total);
    // Hours at 312 TFLOP/s and 40 %: 3.13e23 / 1.248e14 / 3600 ≈ 7.0e5.
    assert_eq!(sig(e.accelerator_hours, 2), "7.0e5");
    assert_eq!(e.price, e.accelerator_hours * 2.0);
    assert!(e.this_machine_seconds.is_none());
    let m = Estimate::new(p.shape, 300e9, &Assumptions::default(), Some(1e10)).unwrap();
    assert_eq!(m.this_machine_seconds, Some(m.training_flops / 1e10));
}

#[test]
fn bad_shapes_get_clear_errors() {
    let ok = preset("gpt2").unwrap().shape;
    let msg = |s: Shape| s.validate().unwrap_err().to_string();
    assert!(msg(Shape { n_layer: 0, ..ok }).contains("--layers is 0"));
    assert!(
        msg(Shape {
            vocab_size: 0,
            ..ok
        })
        .contains("--vocab is 0")
    );
    let m = msg(Shape {
        n_embd: 10_000_000,
        ..ok
    });
    assert!(m.contains("--embd") && m.contains("absurdly large"), "{m}");
    let m = msg(Shape {
        n_layer: 1_000_000,
        ..ok
    });
    assert!(m.contains("--layers"), "{m}");
    let m = msg(Shape { n_head: 7, ..ok });
    assert!(m.contains("does not divide") && m.contains("6, 8"), "{m}");
    assert!(ok.validate().is_ok());
}

#[test]
fn unknown_preset_lists_the_presets() {
    let m = preset("gpt4").unwrap_err().to_string();
    for p in PRESETS {
        assert!(m.contains(p.key), "{m}");
    }
    assert_eq!(preset(" GPT2-XL ").unwrap().key, "gpt2-xl");
}

#[test]
fn bad_budgets_and_assumptions_get_clear_errors() {
    let s = preset("gpt2").unwrap().shape;
    let a = Assumptions::default();
    let err = |d: f64, a: &Assumptions, m: Option<f64>| {
        Estimate::new(s, d, a, m).unwrap_err().to_string()
    };
    assert!(err(0.0, &a, None).contains("--train-tokens"));
    assert!(err(-5.0, &a, None).contains("--train-tokens"));
    assert!(err(f64::NAN, &a, None).contains("--train-tokens"));
    assert!(err(1e20, &a, None).contains("absurdly large"));
    assert!(err(1e9, &a, Some(0.0)).contains("--measured-flops"));
    for u in [0.0, 1.5, f64::NAN] {
        let b = Assumptions {
            utilisation: u,
            ..a.clone()
        };
        assert!(err(1e9, &b, None).contains("--utilisation"));
    }
    let b = Assumptions {
        peak_flops: 0.0,
        ..a.clone()
    };
    assert!(err(1e9, &b, None).contains("--peak-flops"));
    let b = Assumptions {
        price_per_hour: -1.0,
        ..a.clone()
    };
    assert!(err(1e9, &b, None).contains("--price"));
}

#[test]
fn products_beyond_u64_stay_finite() {
    // The largest accepted shape and budget: 6·N·D ≈ 7e32 overflows u64.
    let s = Shape {
        n_layer: MAX_LAYERS,
        n_head: 1000,
        n_embd: MAX_EMBD,
        vocab_size: MAX_VOCAB,
        n_ctx: MAX_CTX,
        llama: None,
    };
    let e = Estimate::new(s, MAX_TRAIN_TOKENS, &Assumptions::default(), Some(1.0)).unwrap();
    assert!(e.training_flops > u64::MAX as f64);
    for x in [
        e.training_flops,
        e.training_flops_with_attention,
        e.ledger_flops_per_token_full_context,
        e.training_memory_bytes,
        e.price,
        e.this_machine_seconds.unwrap(),
    ] {
        assert!(x.is_finite() && x > 0.0);
    }
}

#[test]
fn formatting_helpers() {
    assert_eq!(sig(3.14e23, 2), "3.1e23");
    assert_eq!(sig(174.6e9, 3), "1.75e11");
    assert_eq!(sig(0.5, 1), "5e-1");
    assert_eq!(human_duration(30.0), "30.0 seconds");
    assert_eq!(human_duration(7200.0), "2.0 hours");
    assert_eq!(human_duration(3.0 * 86400.0), "3.0 days");
    assert_eq!(
        human_duration(2.0 * 365.25 * 86400.0 * 1e6),
        "2.0 million years"
    );
    assert_eq!(human_duration(f64::INFINITY), "forever");
}

/// The ledger speaks the pass's vocabulary: its rows follow the order of
/// `pass::Stage::ALL`, print with the stage names, and JSON carries the same names.
#[test]
fn ledger_rows_are_keyed_by_the_stages_of_the_pass() {
    let led = Ledger::for_step(&Config::new(2, 2, 8, 16, 10), 0, 1);
    let order = |s: Stage| Stage::ALL.iter().position(|&x| x == s);
    let mut last = None;
    for r in &led.rows {
        let first = r.key.stages().into_iter().filter_map(order).min();
        if let Key::Stage(s) = r.key {
            assert_eq!(r.key.to_string().parse::<Stage>(), Ok(s));
            assert_eq!(led.stage(s), Some(r));
            assert!(first >= last, "{} out of order", r.key);
            last = first;
        }
    }
    assert_eq!(led.stage(Stage::Mask), None);
    assert_eq!(
        led.stage(Stage::OutProj).map(|r| r.name),
        Some("output projection W_O")
    );
    let v = serde_json::to_value(&led).unwrap();
    let keys: Vec<&str> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = led.rows.iter().map(|r| r.key.name()).collect();
    assert_eq!(keys, want);
    assert!(
        keys.contains(&"out-proj") && keys.contains(&"bias-residual"),
        "{keys:?}"
    );
}
