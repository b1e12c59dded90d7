//! Truth checks for the lessons: every lesson parses and evaluates against a
//! real trace, and every kind of formula placeholder shows numbers that agree
//! with an independent computation from the other numbers shown.

use std::path::{Path, PathBuf};
use std::process::Command;

use gptlens::lesson::{
    self, Env, KeyPos, Lesson, LessonError, Placeholder, Pos, Sel, Select, placeholders, render,
};
use gptlens::model::{Config, Gpt, random_model};
use gptlens::pass::{Stage, View};
use gptlens::tokenizer::{Tokenizer, bytes_tokenizer_json};

/// A random 2-layer model folder (byte tokenizer) with a small train_log.json.
fn model_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("tiny");
    std::fs::create_dir(&dir).expect("mkdir");
    let gpt = random_model(&Config::new(2, 4, 64, 257, 128), 7, true);
    gpt.save(&dir).expect("save");
    std::fs::write(dir.join("tokenizer.json"), bytes_tokenizer_json()).expect("tokenizer");
    // What `gptlens train` leaves in its output folder.
    std::fs::write(
        dir.join("train-log.tsv"),
        "step\tlr\ttrain_loss\tval_loss\tgrad_norm\ttokens_per_sec\n1\t0.0001\t5.5000\t\t1.2\t900\n100\t0.001\t3.2500\t3.5\t0.8\t1000\n200\t0.0005\t2.0000\t\t0.5\t1000\n200\t\t\t2.5\t\t\n",
    )
    .expect("log");
    std::fs::write(
        dir.join("train-summary.json"),
        r#"{"step": 200, "tokens_seen": 409600, "elapsed_secs": 95.0, "train_loss": 2.0, "val_loss": 2.5, "baselines": {"unigram": 6.25, "bigram": 4.75, "bigram_lambda": 0.9}}"#,
    )
    .expect("summary");
    // What `scripts/compression-record.sh` leaves beside a model.
    std::fs::write(
        dir.join("compression.tsv"),
        "# made up\nwhat\tsetting\tbits_per_weight\tperplexity\tperplexity_change\tmean_kl\ttop1_agreement\nquant\tF32\t32\t20\t0\t0\t1\nquant\tQ8_0\t8.5\t20.01\t0.0005\t0.001\t0.99\nquant\tQ4_0\t4.5\t21\t0.05\t0.04\t0.9\nprune\t0.5\t32\t25\t0.25\t0.3\t0.7\n",
    )
    .expect("record");
    (tmp, dir)
}

struct Fixture {
    gpt: Gpt,
    tok: Tokenizer,
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let (tmp, dir) = model_dir();
    Fixture {
        gpt: Gpt::open(&dir).expect("open"),
        tok: Tokenizer::open(&dir.join("tokenizer.json")).expect("tok"),
        dir,
        _tmp: tmp,
    }
}

fn render_all(gpt: &Gpt, tok: &Tokenizer, dir: &Path) -> Vec<(String, String)> {
    let lessons = lesson::all().expect("all lessons parse");
    lessons
        .iter()
        .map(|l| {
            let trace =
                render::trace_prompt(l, gpt, tok).unwrap_or_else(|e| panic!("{}: {e}", l.name));
            let env = Env::new(gpt, tok, &trace, &l.prompt, Some(dir));
            let md = render::markdown(l, &env).unwrap_or_else(|e| panic!("{}: {e}", l.name));
            (l.name.clone(), md)
        })
        .collect()
}

#[test]
fn every_lesson_parses_and_renders_against_a_random_model() {
    let f = fixture();
    let names: Vec<String> = lesson::all()
        .unwrap()
        .iter()
        .map(|l| l.name.clone())
        .collect();
    for want in [
        "tokens",
        "embeddings",
        "attention",
        "multihead",
        "layernorm",
        "mlp",
        "residual",
        "logits",
        "sampling",
        "loss",
        "training",
        "cost",
        "gpt-vs-transformer",
        "modern",
        "compression",
    ] {
        assert!(names.iter().any(|n| n == want), "lesson {want} is missing");
    }
    assert_eq!(names[0], "tokens", "lessons are listed in order");
    for (name, md) in render_all(&f.gpt, &f.tok, &f.dir) {
        assert!(
            !md.contains("{{"),
            "{name}: a placeholder was left unfilled"
        );
        assert!(md.contains("## 1. "), "{name}: no steps rendered");
        assert!(
            !md.contains("not recorded"),
            "{name}: the train log was not read"
        );
    }
}

#[test]
fn built_in_copies_match_the_lesson_files() {
    for (name, text) in lesson::BUILTIN {
        let on_disk = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("lessons")
                .join(format!("{name}.md")),
        )
        .expect("lesson file");
        assert_eq!(&on_disk, text);
        lesson::parse(name, name, text).unwrap_or_else(|e| panic!("{e}"));
    }
    let files = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_file())
        .count();
    assert_eq!(
        files,
        lesson::BUILTIN.len(),
        "every lesson file is compiled into the binary"
    );
}

/// Runs every lesson on the built-in trained model (part of the repository,
/// so its absence is a failure, not a skip).
#[test]
fn every_lesson_renders_on_the_built_in_model() {
    let dir = gptlens::paths::default_model_dir();
    assert!(
        dir.join("model.safetensors").is_file(),
        "the built-in model is not at {} (it is part of the repository)",
        dir.display()
    );
    let gpt = Gpt::open(&dir).expect("open built-in model");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    for (name, md) in render_all(&gpt, &tok, &dir) {
        assert!(!md.contains("{{"), "{name}");
    }
}

#[test]
fn the_docs_list_every_placeholder_view_and_stage() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/lesson-format.md"),
    )
    .expect("docs/lesson-format.md");
    for name in placeholders::names() {
        assert!(
            doc.contains(&format!("`{{{{{name}")),
            "docs/lesson-format.md does not document {{{{{name}}}}}"
        );
    }
    let views = View::ALL.map(View::name);
    for v in views.iter().chain(&Stage::ALL.map(Stage::name)) {
        assert!(
            doc.contains(&format!("`{v}`")),
            "docs/lesson-format.md does not list {v}"
        );
    }
}

// ---------------------------------------------------------------------------
// Formula checks: the numbers shown agree with each other.
// ---------------------------------------------------------------------------

/// The numbers in a shown string (ignores the thousands separators of counts).
fn numbers(s: &str) -> Vec<f64> {
    let mut out = vec![];
    let cleaned: String = {
        let c: Vec<char> = s.chars().collect();
        c.iter()
            .enumerate()
            .filter(|(i, ch)| {
                !(**ch == ','
                    && *i > 0
                    && c[i - 1].is_ascii_digit()
                    && c.get(i + 1).is_some_and(|n| n.is_ascii_digit()))
            })
            .map(|(_, ch)| *ch)
            .collect()
    };
    let mut cur = String::new();
    for ch in cleaned.chars().chain(std::iter::once(' ')) {
        if ch.is_ascii_digit()
            || ch == '.'
            || ch == '-'
            || ch == 'e' && !cur.is_empty()
            || ch == '+' && cur.ends_with('e')
        {
            cur.push(ch);
        } else {
            if let Ok(v) = cur.trim_end_matches(['.', 'e']).parse::<f64>() {
                out.push(v);
            }
            cur.clear();
        }
    }
    out
}

struct Check<'a> {
    env: Env<'a>,
}

impl Check<'_> {
    fn show(&self, sel: &Sel, name: &str, args: &[f64]) -> String {
        let spec =
            placeholders::spec(name).unwrap_or_else(|| panic!("{name} is not a placeholder"));
        let mut a = args.to_vec();
        for arg in &spec.args[a.len()..] {
            a.push(arg.default);
        }
        let ph = Placeholder {
            name: name.into(),
            args: a,
            line: 0,
        };
        placeholders::eval(&ph, &self.env, sel).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
    fn nums(&self, sel: &Sel, name: &str, args: &[f64]) -> Vec<f64> {
        numbers(&self.show(sel, name, args))
    }
    fn one(&self, sel: &Sel, name: &str, args: &[f64]) -> f64 {
        let v = self.nums(sel, name, args);
        assert_eq!(v.len(), 1, "{name} shows one number: {v:?}");
        v[0]
    }
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * (1.0 + b.abs()),
        "{what}: shown {a}, computed {b}"
    );
}

fn close_all(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        close(*x, *y, tol, &format!("{what}[{i}]"));
    }
}

fn with_env<R>(prompt: &str, f: impl FnOnce(&Check, &Fixture) -> R) -> R {
    let fx = fixture();
    let ids = fx.tok.encode(prompt).unwrap();
    let trace = fx.gpt.trace(&ids, &Default::default()).unwrap();
    let env = Env::new(&fx.gpt, &fx.tok, &trace, prompt, Some(&fx.dir));
    f(&Check { env }, &fx)
}

fn sel(c: &Check, layer: usize, head: usize, pos: Pos, key: KeyPos) -> Sel {
    Sel::resolve(
        &Select {
            layer: Some(Pos::Index(layer)),
            head: Some(head),
            position: Some(pos),
            key: Some(key),
        },
        &c.env,
    )
    .expect("selection")
}

#[test]
fn attention_numbers_agree() {
    with_env("Tom had a red ball.", |c, _| {
        for (layer, head, pos) in [(0, 0, 4), (1, 3, 17), (1, 2, 0)] {
            let s = sel(c, layer, head, Pos::Index(pos), KeyPos::Top);
            let scores = c.nums(&s, "attn.scores", &[]);
            let weights = c.nums(&s, "attn.weights", &[]);
            assert_eq!(scores.len(), pos + 1, "the mask leaves keys 0..=pos");
            let m = scores.iter().cloned().fold(f64::MIN, f64::max);
            let z: f64 = scores.iter().map(|x| (x - m).exp()).sum();
            let soft: Vec<f64> = scores.iter().map(|x| (x - m).exp() / z).collect();
            close_all(&weights, &soft, 2e-4, "weights = softmax(scores)");
            close(
                c.one(&s, "attn.weight", &[]),
                weights[s.key],
                1e-4,
                "attn.weight",
            );
            let top = weights.iter().cloned().fold(f64::MIN, f64::max);
            close(weights[s.key], top, 1e-9, "key: top is the argmax");
            // score = q·k/√dₖ from the shown q and k (all dₖ = 16 components)
            let q = c.nums(&s, "attn.q", &[16.0]);
            let k = c.nums(&s, "attn.k", &[16.0]);
            let dot: f64 = q.iter().zip(&k).map(|(a, b)| a * b).sum();
            close(c.one(&s, "attn.dot", &[]), dot, 5e-3, "q·k");
            let sq = c.one(&s, "attn.sqrt_dk", &[]);
            close(sq, 4.0, 0.0, "√dₖ");
            close(
                c.one(&s, "attn.score", &[]),
                c.one(&s, "attn.dot", &[]) / sq,
                2e-4,
                "score",
            );
            close(
                c.one(&s, "attn.score", &[]),
                scores[s.key],
                1e-4,
                "score in the row",
            );
            // head output = Σ weight·v over the shown values
            let mut out = vec![0.0; 16];
            for (j, w) in weights.iter().enumerate() {
                let sj = sel(c, layer, head, Pos::Index(pos), KeyPos::Pos(Pos::Index(j)));
                let v = c.nums(&sj, "attn.v", &[16.0]);
                for (o, vv) in out.iter_mut().zip(v) {
                    *o += w * vv;
                }
            }
            close_all(&c.nums(&s, "attn.out", &[16.0]), &out, 2e-3, "Σ weight·v");
            // the head's output is its slice of the concatenation
            let concat = c.nums(&s, "attn.concat", &[64.0]);
            close_all(
                &concat[head * 16..head * 16 + 16],
                &c.nums(&s, "attn.out", &[16.0]),
                1e-9,
                "concat",
            );
        }
    });
}

#[test]
fn layernorm_numbers_agree() {
    with_env("The sun was warm.", |c, _| {
        for (ln, layer, pos) in [("ln_1", 0, 3), ("ln_2", 1, 0), ("ln_f", 0, 16)] {
            let s = sel(c, layer, 0, Pos::Index(pos), KeyPos::Top);
            let p = |f: &str, n: f64| c.nums(&s, &format!("{ln}.{f}"), &[n]);
            let x = p("x", 64.0);
            let (g, b, xhat, out) = (
                p("gamma", 64.0),
                p("beta", 64.0),
                p("xhat", 64.0),
                p("out", 64.0),
            );
            let mu = c.one(&s, &format!("{ln}.mean"), &[]);
            let var = c.one(&s, &format!("{ln}.var"), &[]);
            let std = c.one(&s, &format!("{ln}.std"), &[]);
            let eps = c.one(&s, "model.eps", &[]);
            close(mu, x.iter().sum::<f64>() / 64.0, 2e-4, "μ");
            close(
                var,
                x.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / 64.0,
                2e-3,
                "σ²",
            );
            close(std, (var + eps).sqrt(), 2e-4, "√(σ²+ε)");
            let want: Vec<f64> = x.iter().map(|v| (v - mu) / std).collect();
            close_all(&xhat, &want, 5e-3, "x̂ = (x−μ)/√(σ²+ε)");
            let want: Vec<f64> = (0..64).map(|i| (x[i] - mu) / std * g[i] + b[i]).collect();
            close_all(&out, &want, 5e-3, "y = x̂·γ + β");
        }
    });
}

#[test]
fn embedding_residual_and_mlp_numbers_agree() {
    with_env("Lily liked to play.", |c, _| {
        let s = sel(c, 1, 0, Pos::Index(5), KeyPos::Top);
        let (t, p, sum) = (
            c.nums(&s, "emb.tok", &[64.0]),
            c.nums(&s, "emb.pos", &[64.0]),
            c.nums(&s, "emb.sum", &[64.0]),
        );
        let want: Vec<f64> = t.iter().zip(&p).map(|(a, b)| a + b).collect();
        close_all(&sum, &want, 2e-4, "embed = wte + wpe");
        let norm = sum.iter().map(|v| v * v).sum::<f64>().sqrt();
        close(c.one(&s, "emb.norm", &[]), norm, 1e-3, "‖embed‖");
        let (rin, attn, mid) = (
            c.nums(&s, "resid.in", &[64.0]),
            c.nums(&s, "attn.proj", &[64.0]),
            c.nums(&s, "resid.mid", &[64.0]),
        );
        let want: Vec<f64> = rin.iter().zip(&attn).map(|(a, b)| a + b).collect();
        close_all(&mid, &want, 2e-4, "resid_mid = resid_in + attention");
        let (mlp, post) = (
            c.nums(&s, "mlp.out", &[64.0]),
            c.nums(&s, "resid.post", &[64.0]),
        );
        let want: Vec<f64> = mid.iter().zip(&mlp).map(|(a, b)| a + b).collect();
        close_all(&post, &want, 2e-4, "resid_post = resid_mid + mlp");
        let attn_norm = attn.iter().map(|v| v * v).sum::<f64>().sqrt();
        close(
            c.one(&s, "resid.attn_norm", &[]),
            attn_norm,
            1e-3,
            "‖attention‖",
        );
        let pre = c.nums(&s, "mlp.pre", &[64.0]);
        let act = c.nums(&s, "mlp.act", &[64.0]);
        let gelu = |x: f64| {
            0.5 * x
                * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh())
        };
        close_all(
            &act,
            &pre.iter().map(|&x| gelu(x)).collect::<Vec<_>>(),
            2e-4,
            "GELU",
        );
        // mlp.top: the units are the largest activations, before → after GELU consistent
        let top = c.show(&s, "mlp.top", &[3.0]);
        let rows: Vec<Vec<f64>> = top.lines().skip(2).map(numbers).collect();
        assert_eq!(rows.len(), 3);
        for r in &rows {
            close(r[2], gelu(r[1]), 2e-4, "mlp.top GELU");
        }
        assert!(rows[0][2] >= rows[1][2] && rows[1][2] >= rows[2][2]);
    });
}

#[test]
fn logits_loss_and_sampling_numbers_agree() {
    with_env("The bird sang a song.", |c, fx| {
        let s = sel(c, 0, 0, Pos::FromLast(0), KeyPos::Top);
        let vals = c.nums(&s, "logits.values", &[8.0]);
        let probs = c.nums(&s, "logits.probs", &[8.0]);
        let lse = c.one(&s, "logits.lse", &[]);
        let want: Vec<f64> = vals.iter().map(|l| (l - lse).exp()).collect();
        close_all(&probs, &want, 2e-4, "p = exp(logit − lse)");
        assert!(vals.windows(2).all(|w| w[0] >= w[1]), "ranked");
        let check = c.nums(&s, "logits.check", &[]);
        let n = check.len();
        close(
            check[n - 2],
            check[n - 1],
            1e-3,
            "ln_f(x)·wte = logit (tied)",
        );
        // top-k mass = the sum of the k largest probabilities shown
        let mass = numbers(&c.show(&s, "sample.topk", &[5.0, 1.0]));
        close(mass[1], probs[..5].iter().sum(), 5e-4, "top-k mass");
        // temperature 1 equals plain softmax
        let shown = c.show(&s, "logits.temp", &[1.0, 3.0]);
        let t1: Vec<f64> = shown
            .split(", ")
            .filter_map(|item| item.rsplit(' ').next()?.parse().ok())
            .collect();
        close_all(&t1, &probs[..3], 2e-4, "temperature 1 = softmax");
        // at T = 0.5 the top probability grows, at T = 2 it shrinks, and the order is kept
        let top_at = |t: f64| -> f64 {
            let shown = c.show(&s, "logits.temp", &[t, 1.0]);
            shown.rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert!(top_at(0.5) > probs[0] && top_at(2.0) < probs[0]);
        // sharper at low temperature: lower entropy
        assert!(c.one(&s, "logits.entropy", &[0.5]) < c.one(&s, "logits.entropy", &[2.0]));
        // loss
        let values = c.nums(&s, "loss.values", &[]);
        let lp = c.nums(&s, "loss.probs", &[]);
        assert_eq!(values.len(), c.env.trace.len() - 1);
        close_all(
            &values,
            &lp.iter().map(|p| -p.ln()).collect::<Vec<_>>(),
            2e-3,
            "loss = −ln P",
        );
        let mean = c.one(&s, "loss.mean", &[]);
        close(
            mean,
            values.iter().sum::<f64>() / values.len() as f64,
            2e-4,
            "mean loss",
        );
        close(
            c.one(&s, "loss.ppl", &[]),
            mean.exp(),
            2e-3,
            "perplexity = exp(mean loss)",
        );
        close(
            c.one(&s, "loss.sum", &[]),
            -values.iter().sum::<f64>(),
            2e-3,
            "L(θ) = Σ ln P",
        );
        close(c.one(&s, "loss.uniform", &[]), (257f64).ln(), 1e-4, "ln V");
        // the loss table's last row matches loss.at at the position before last
        let s2 = sel(c, 0, 0, Pos::FromLast(1), KeyPos::Top);
        close(
            c.one(&s2, "loss.at", &[]),
            *values.last().unwrap(),
            2e-4,
            "loss.at",
        );
        // the loss is the engine's: recompute −ln softmax(logits)[next] from the trace
        let tr = &c.env.trace;
        let t = tr.len() - 2;
        let row = tr.logits.row(t);
        let m = row.iter().cloned().fold(f32::MIN, f32::max) as f64;
        let z: f64 = row.iter().map(|&x| (x as f64 - m).exp()).sum();
        let want = -((row[tr.tokens[t + 1] as usize] as f64 - m).exp() / z).ln();
        close(*values.last().unwrap(), want, 2e-4, "loss from the trace");
        // greedy continuation starts with the top token
        let greedy = c.show(&s, "sample.greedy", &[3.0]);
        let top = c.show(&s, "logits.top.token", &[]);
        assert!(greedy.starts_with(&top), "{greedy} starts with {top}");
        let _ = fx;
    });
}

#[test]
fn cost_numbers_follow_the_closed_forms() {
    with_env("Once upon a time", |c, fx| {
        let s = sel(c, 0, 0, Pos::FromLast(0), KeyPos::Top);
        let cfg = &fx.gpt.config;
        let (l, cc, v) = (cfg.n_layer as f64, cfg.n_embd as f64, cfg.vocab_size as f64);
        let t = c.env.trace.len() as f64;
        // N without the embedding tables: the blocks' matrices, biases and LayerNorms, and ln_f
        let n = l * (12.0 * cc * cc + 13.0 * cc) + 2.0 * cc;
        close(c.one(&s, "cost.params_nonembed", &[]), n, 0.0, "N");
        close(
            c.one(&s, "cost.params", &[]),
            cfg.n_params() as f64,
            0.0,
            "params",
        );
        close(c.one(&s, "cost.flops_token", &[]), 2.0 * n, 1e-4, "2N");
        close(
            c.one(&s, "cost.train_flops_token", &[]),
            6.0 * n,
            1e-4,
            "6N",
        );
        close(
            c.one(&s, "cost.attn_flops_token", &[]),
            4.0 * l * (t + 1.0) * cc,
            1e-4,
            "4·L·T·C",
        );
        close(
            c.one(&s, "cost.unembed_flops_token", &[]),
            2.0 * v * cc,
            1e-4,
            "2·V·C",
        );
        let ledger = c.one(&s, "cost.ledger_flops_token", &[]);
        let matmuls = 2.0 * l * 12.0 * cc * cc + 2.0 * v * cc + 4.0 * l * (t + 1.0) * cc;
        assert!(
            ledger > matmuls && ledger < 1.2 * matmuls,
            "ledger {ledger} ≈ matmuls {matmuls} + elementwise"
        );
        let g3 = c.one(&s, "cost.gpt3_train_flops", &[]);
        assert!((3.1e23..3.2e23).contains(&g3), "GPT-3 6ND = {g3}");
        close(
            c.one(&s, "cost.gpt3_gpu_hours", &[]),
            g3 / (312e12 * 0.4) / 3600.0,
            2e-3,
            "GPU-hours",
        );
        close(
            c.one(&s, "cost.gpt3_dollars", &[]),
            2.0 * c.one(&s, "cost.gpt3_gpu_hours", &[]),
            1e-6,
            "price",
        );
        let tps = c.one(&s, "cost.measured", &[]);
        assert!(tps > 0.0);
        assert!(
            c.show(&s, "cost.kv_token", &[]).starts_with("1.00 KiB"),
            "2·2·64·4 bytes"
        );
        assert!(
            c.show(&s, "cost.kv_context", &[]).starts_with("128.00 KiB"),
            "× 128 positions"
        );
        // the train log is read
        assert_eq!(c.one(&s, "train.first", &[]), 5.5);
        assert_eq!(c.one(&s, "train.last", &[]), 2.0);
        assert_eq!(c.one(&s, "train.val", &[]), 2.5);
        assert_eq!(c.one(&s, "train.steps", &[]), 200.0);
        assert_eq!(c.show(&s, "train.curve", &[]).chars().count(), 3);
        let summary = c.show(&s, "train.summary", &[]);
        for want in [
            "200 optimizer steps",
            "409,600 tokens",
            "from 5.5000 at step 1 to 2 at step 200",
            "final loss was 2.5000",
        ] {
            assert!(summary.contains(want), "{want}: {summary}");
        }
        let b = c.nums(&s, "train.baselines", &[]);
        assert_eq!(b, [6.25, 4.75, 2.5]);
    });
}

/// The compression lesson's numbers redo: each integer from its weight and
/// scale by the format's rule, each value back from its integer, the bytes
/// per token from the ledger, the live comparison from its own parts; the
/// recorded accuracy is the record's (and its absence is said).
#[test]
fn compression_numbers_agree() {
    use gptlens::cost::Ledger;
    use gptlens::quant::GgmlType;
    // Shown to four significant digits: agree to a few parts in a thousand.
    let rel = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 3e-3 * b.abs() + 1e-9,
            "{what}: shown {a}, computed {b}"
        )
    };
    with_env("Once upon a time, there was a little girl", |c, fx| {
        let cfg = &fx.gpt.config;
        for layer in [0, 1] {
            let s = sel(c, layer, 0, Pos::FromLast(0), KeyPos::Top);
            let w = c.nums(&s, "compress.weights", &[32.0]);
            assert_eq!(w.len(), 32);
            let absmax = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            rel(c.one(&s, "compress.absmax", &[]), absmax, "max|w|");
            let d8 = c.one(&s, "compress.q8.d", &[]);
            rel(d8, absmax / 127.0, "d = max|w|/127 (an f16)");
            let q8 = c.nums(&s, "compress.q8.ints", &[32.0]);
            let d4 = c.one(&s, "compress.q4.d", &[]);
            let q4 = c.nums(&s, "compress.q4.ints", &[32.0]);
            for i in [0usize, 5, 31] {
                let wi = c.one(&s, "compress.weight", &[i as f64]);
                assert_eq!(wi, w[i], "weight i");
                let q = c.one(&s, "compress.q8.int", &[i as f64]);
                assert_eq!(q, q8[i]);
                assert!(
                    (wi / d8 - q).abs() <= 0.5 + 4e-3 * q.abs() + 1e-2,
                    "q8 = round(w/d): {wi} {d8} {q}"
                );
                rel(c.one(&s, "compress.q8.value", &[i as f64]), d8 * q, "d·q");
                let q = c.one(&s, "compress.q4.int", &[i as f64]);
                assert_eq!(q, q4[i]);
                assert!((0.0..=15.0).contains(&q));
                let expect = (wi / d4 + 8.5).floor().min(15.0);
                assert!((q - expect).abs() <= 1.0, "q4 = ⌊w/d + 8.5⌋: {wi} {d4} {q}");
                rel(
                    c.one(&s, "compress.q4.value", &[i as f64]),
                    d4 * (q - 8.0),
                    "d·(q−8)",
                );
            }
            let (r8, r4, r41) = (
                c.one(&s, "compress.q8.rms", &[]),
                c.one(&s, "compress.q4.rms", &[]),
                c.one(&s, "compress.q41.rms", &[]),
            );
            assert!(
                r8 > 0.0 && r8 * 4.0 < r4 && r8 * 4.0 < r41,
                "{r8} {r4} {r41}"
            );
            assert!(
                c.show(&s, "compress.block", &[])
                    .starts_with(&format!("h.{layer}.attn.c_attn.weight"))
            );
        }
        let s = sel(c, 0, 0, Pos::FromLast(0), KeyPos::Top);
        let ledger = Ledger::for_forward(cfg, 0, 1, false);
        for (name, ty) in [
            ("compress.f32.token", GgmlType::F32),
            ("compress.q8.token", GgmlType::Q8_0),
            ("compress.q4.token", GgmlType::Q4_0),
        ] {
            assert_eq!(
                c.show(&s, name, &[]),
                gptlens::fmt::bytes(ledger.weight_bytes_in(ty)),
                "{name}"
            );
        }
        let f = ledger.weight_bytes();
        close(
            c.one(&s, "compress.q8.fewer", &[]),
            f / ledger.weight_bytes_in(GgmlType::Q8_0),
            5e-3,
            "÷",
        );
        close(
            c.one(&s, "compress.q4.fewer", &[]),
            f / ledger.weight_bytes_in(GgmlType::Q4_0),
            5e-3,
            "÷",
        );
        let table = c.show(&s, "compress.formats", &[]);
        assert_eq!(table.lines().count(), 2 + 5, "{table}");
        // Live: the copies agree less as the bits drop; the counts are the prompt's.
        let (k8, k4) = (
            c.one(&s, "compress.q8.kl", &[]),
            c.one(&s, "compress.q4.kl", &[]),
        );
        assert!(k8 >= 0.0 && k8 < k4, "{k8} {k4}");
        let top = c.nums(&s, "compress.q4.top1", &[]);
        assert_eq!(top[1], c.env.trace.len() as f64);
        assert!(top[0] <= top[1]);
        let losses = c.nums(&s, "compress.q4.loss", &[]);
        assert_eq!(losses.len(), 2);
        let soft = c.show(&s, "compress.soft", &[3.0]);
        let rows: Vec<Vec<f64>> = soft.lines().skip(2).map(numbers).collect();
        assert_eq!(rows.len(), 3);
        // Softening flattens: the top token loses probability at T = 2.
        let p = |r: &Vec<f64>| (r[r.len() - 2], r[r.len() - 1]);
        assert!(p(&rows[0]).1 < p(&rows[0]).0, "{soft}");
        // The fixture folder's record: its rows as written.
        assert_eq!(c.show(&s, "compress.q4.change", &[]), "+5.00%");
        assert_eq!(c.show(&s, "compress.prune.half", &[]), "+25.00%");
        let acc = c.show(&s, "compress.accuracy", &[]);
        assert!(
            acc.contains("| Q8_0 | 8.5 | 20.0100 | +0.05% |") && acc.contains("| 99.0% |"),
            "{acc}"
        );
        // Without a folder (or a record in it) it is said, not invented.
        let none = Env::new(c.env.gpt, c.env.tokenizer, c.env.trace, "", None);
        let ph = Placeholder {
            name: "compress.accuracy".into(),
            args: vec![],
            line: 0,
        };
        let said = placeholders::eval(&ph, &none, &s).unwrap();
        assert!(
            said.contains("not recorded") && said.contains("compression-record.sh"),
            "{said}"
        );
    });
    // The built-in model ships its record: the lesson shows its rows.
    let dir = gptlens::paths::default_model_dir();
    let gpt = Gpt::open(&dir).unwrap();
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).unwrap();
    let ids = tok.encode("Once upon a time").unwrap();
    let trace = gpt.trace(&ids, &Default::default()).unwrap();
    let c = Check {
        env: Env::new(&gpt, &tok, &trace, "Once upon a time", Some(&dir)),
    };
    let s = sel(&c, 0, 0, Pos::FromLast(0), KeyPos::Top);
    let rows = gptlens::quant::record::read(&dir).unwrap().unwrap();
    let q4 = gptlens::quant::record::find(&rows, "quant", "Q4_0").unwrap();
    let shown = c.nums(&s, "compress.q4.change", &[]);
    close(
        shown[0],
        100.0 * q4.perplexity_change,
        1e-3,
        "Q4_0's change in %",
    );
    let table = c.show(&s, "compress.pruning", &[]);
    assert_eq!(table.lines().count(), 2 + 9, "{table}");
    assert!(
        c.show(&s, "compress.accuracy", &[])
            .contains("| Q4_0 | 4.5 |")
    );
}

// ---------------------------------------------------------------------------
// Bad input.
// ---------------------------------------------------------------------------

const MINI: &str = "---\ntitle: T\nsummary: S\nprompt: PROMPT\norder: 1\n---\n## Step\n```step\nview: attention\nlayer: LAYER\n```\nText {{attn.weights}}\n";

fn mini(prompt: &str, layer: &str) -> Lesson {
    lesson::parse(
        "mini",
        "mini.md",
        &MINI.replace("PROMPT", prompt).replace("LAYER", layer),
    )
    .expect("parses")
}

#[test]
fn a_prompt_longer_than_the_context_is_refused() {
    let f = fixture();
    let l = mini(&"a".repeat(200), "0");
    let e = render::trace_prompt(&l, &f.gpt, &f.tok)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("200 tokens") && e.contains("context is 128"),
        "{e}"
    );
}

#[test]
fn a_step_outside_the_model_is_an_error_with_its_line() {
    let f = fixture();
    let l = mini("hello", "7");
    let trace = render::trace_prompt(&l, &f.gpt, &f.tok).unwrap();
    let env = Env::new(&f.gpt, &f.tok, &trace, &l.prompt, None);
    match render::markdown(&l, &env) {
        Err(LessonError::Eval { file, line, msg }) => {
            assert_eq!((file.as_str(), line), ("mini.md", 7));
            assert!(msg.contains("layer 7") && msg.contains("2 layers"), "{msg}");
        }
        other => panic!("expected an evaluation error, got {other:?}"),
    }
}

fn gptlens(args: &[&str], envs: &[(&str, &Path)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gptlens"));
    // English, whatever the machine's locale (tests/lessons_zh.rs tests --lang).
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run gptlens");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_prints_the_attention_lesson_with_consistent_numbers() {
    let (_t, dir) = model_dir();
    let d = dir.to_str().unwrap();
    let (ok, out, err) = gptlens(&["--model", d, "lesson", "attention", "--print"], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("softmax(QKᵀ/√dₖ)·V"));
    assert!(!out.contains("{{"));
    // The softmax table: the weights shown are the softmax of the scores shown.
    let section = out
        .split("## 4.")
        .nth(1)
        .expect("step 4")
        .split("## 5.")
        .next()
        .unwrap();
    let rows: Vec<Vec<f64>> = section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| key"))
        .map(|l| {
            let cols: Vec<&str> = l.split('|').collect();
            numbers(&cols[cols.len() - 3..].join("|"))
        })
        .collect();
    assert!(rows.len() > 3, "{section}");
    let scores: Vec<f64> = rows.iter().map(|r| r[r.len() - 2]).collect();
    let weights: Vec<f64> = rows.iter().map(|r| r[r.len() - 1]).collect();
    let m = scores.iter().cloned().fold(f64::MIN, f64::max);
    let z: f64 = scores.iter().map(|x| (x - m).exp()).sum();
    for (s, w) in scores.iter().zip(&weights) {
        close(*w, (s - m).exp() / z, 2e-4, "printed softmax");
    }
    close(weights.iter().sum(), 1.0, 2e-3, "weights sum to 1");
    // without --print the lesson is printed too, with a note on stderr
    let (ok, out2, err2) = gptlens(&["--model", d, "lesson", "attention"], &[]);
    assert!(ok && err2.contains("player"), "{err2}");
    assert_eq!(out, out2);
}

#[test]
fn cli_lists_the_lessons_in_order() {
    let (ok, out, _) = gptlens(&["lessons"], &[]);
    assert!(ok);
    let first: Vec<&str> = out
        .lines()
        .take(3)
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(first, ["tokens", "embeddings", "attention"]);
    assert!(out.contains("gpt-vs-transformer"));
}

#[test]
fn cli_unknown_lesson_suggests_and_lists() {
    let (ok, _, err) = gptlens(&["lesson", "atention"], &[]);
    assert!(!ok);
    assert!(err.contains("unknown lesson `atention`"), "{err}");
    assert!(err.contains("did you mean `attention`"), "{err}");
    assert!(err.contains("tokens, embeddings"), "lists them: {err}");
}

#[test]
fn cli_malformed_file_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("mine.md");
    let (_t, dir) = model_dir();
    // (what to break in the mini lesson, what the error must say)
    let cases = [
        (
            ("view: attention", "view: atention"),
            "mine.md:9: unknown view `atention` (did you mean `attention`?)",
        ),
        (
            ("attn.weights", "attn.wieghts"),
            "mine.md:12: unknown placeholder `{{attn.wieghts}}`",
        ),
        (
            ("```step", "```stpe"),
            "mine.md:8: expected a ```step block",
        ),
    ];
    for ((from, to), want) in cases {
        let text = MINI
            .replace("PROMPT", "hi")
            .replace("LAYER", "0")
            .replace(from, to);
        std::fs::write(&p, text).unwrap();
        let args = ["--model", dir.to_str().unwrap(), "lesson", "--file"];
        let mut args = args.to_vec();
        args.push(p.to_str().unwrap());
        let (ok, _, err) = gptlens(&args, &[]);
        assert!(!ok);
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn cli_lesson_naming_a_missing_model_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, _, err) = gptlens(
        &["lesson", "attention", "--print"],
        &[("GPTLENS_MODELS", tmp.path())],
    );
    assert!(!ok);
    assert!(
        err.contains("built-in model `tinystories`") && err.contains("--model DIR"),
        "{err}"
    );
}

/// docs/lesson-format.md embeds the generated placeholder table; regenerate
/// with `UPDATE_DOCS=1 cargo test --release --test lessons docs_placeholder_table`.
#[test]
fn docs_placeholder_table_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/lesson-format.md");
    let doc = std::fs::read_to_string(&path).expect("docs/lesson-format.md");
    let (begin, end) = ("<!-- placeholders:begin -->\n", "<!-- placeholders:end -->");
    let a = doc.find(begin).expect("begin marker") + begin.len();
    let b = doc.find(end).expect("end marker");
    let want = placeholders::reference_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &doc[..a], &doc[b..])).unwrap();
        return;
    }
    assert_eq!(
        &doc[a..b],
        want,
        "the placeholder table is stale: rerun with UPDATE_DOCS=1"
    );
}

/// A model folder without a training record: the training lesson still runs and says so once.
#[test]
fn training_lesson_without_a_record_says_so() {
    let (_t, dir) = model_dir();
    std::fs::remove_file(dir.join("train-log.tsv")).unwrap();
    std::fs::remove_file(dir.join("train-summary.json")).unwrap();
    let d = dir.to_str().unwrap();
    let (ok, out, err) = gptlens(&["--model", d, "lesson", "training", "--print"], &[]);
    assert!(ok, "{err}");
    assert_eq!(out.matches("no training record").count(), 1, "{out}");
    // the older JSON form is read too
    std::fs::write(
        dir.join("train_log.json"),
        r#"[{"step": 0, "loss": 5.5}, {"step": 10, "loss": 4.0}]"#,
    )
    .unwrap();
    let (ok, out, _) = gptlens(&["--model", d, "lesson", "training", "--print"], &[]);
    assert!(
        ok && out.contains("from 5.5000 at step 0 to 4 at step 10"),
        "{out}"
    );
}

/// The logit lens read after the last layer is the model's own prediction, and
/// `lens.first` / `lens.when` agree with the lens table.
#[test]
fn logit_lens_ends_at_the_real_prediction() {
    with_env("Once upon a time", |c, fx| {
        let s = sel(c, 0, 0, Pos::FromLast(0), KeyPos::Top);
        let table = c.show(&s, "lens", &[]);
        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(rows.len(), fx.gpt.config.n_layer + 1);
        let top = c.show(&s, "logits.top.token", &[]);
        let last = rows.last().unwrap();
        assert!(last.contains(&format!("| {top} |")), "{last} vs {top}");
        let lens_p = numbers(last.rsplit('|').nth(1).unwrap())[0];
        let p = c.nums(&s, "logits.probs", &[1.0])[0];
        close(
            lens_p,
            p,
            2e-3,
            "lens after the last layer = softmax(logits)",
        );
        let first = c.show(&s, "lens.first", &[]);
        let when = c.show(&s, "lens.when", &[]);
        let idx = rows
            .iter()
            .position(|r| r.contains(&format!("| {top} |")))
            .unwrap();
        let agree_from = (idx..rows.len()).all(|i| rows[i].contains(&format!("| {top} |")));
        if agree_from && idx == 0 {
            assert_eq!(
                (first.as_str(), when.as_str()),
                ("the embeddings", "from the embeddings")
            );
        } else {
            assert!(first.starts_with("layer "), "{first}");
            assert!(
                when == "somewhere in between" || when == "only after the last layer",
                "{when}"
            );
        }
    });
}

/// The corrections of issue 12, on the built-in model: each lesson states
/// what is true, with the number of the model it belongs to, and claims only
/// what its own live output shows.
#[test]
fn lesson_claims_are_true_and_shown_on_the_built_in_model() {
    let dir = gptlens::paths::default_model_dir();
    let gpt = Gpt::open(&dir).expect("open built-in model");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let md: std::collections::HashMap<String, String> =
        render_all(&gpt, &tok, &dir).into_iter().collect();
    let l = |n: &str| md.get(n).unwrap_or_else(|| panic!("lesson {n}")).as_str();
    // The 2017 Transformer already ties its embedding and pre-softmax weights.
    let gvt = l("gpt-vs-transformer");
    assert!(
        gvt.contains("§3.4") && gvt.contains("not* a difference"),
        "{gvt}"
    );
    assert!(!gvt.contains("GELU, tied output embedding"), "{gvt}");
    // Whose context: GPT-2's 1,024 positions, this model's own.
    let emb = l("embeddings");
    let ctx = gpt.config.n_positions.to_string();
    assert!(
        emb.contains("1,024 positions") && emb.contains(&format!("has {ctx}.")),
        "{emb}"
    );
    assert!(!emb.contains("cannot read more than"), "{emb}");
    // The residual additions are not small: the text says so next to the norms.
    let res = l("residual");
    assert!(
        !res.contains("small correction") || res.contains("not small corrections"),
        "{res}"
    );
    // Sampling: the loops the text talks about are on the page.
    let smp = l("sampling");
    let greedy = smp
        .lines()
        .find(|x| x.starts_with("tokens it writes"))
        .unwrap_or_else(|| panic!("the greedy repeat sentence:\n{smp}"));
    assert!(greedy.contains("a second time"), "{greedy}");
    assert!(
        smp.contains("2 of the 3 final beams write")
            || smp.contains("3 of the 3 final beams write"),
        "{smp}"
    );
    assert!(!smp.contains("love to repeat") && !smp.contains("tends to repeat itself"));
    // One table per length penalty only if it changes a ranking: none is shown.
    assert_eq!(smp.matches("| beam | continuation").count(), 1, "{smp}");
    // Training: 0.02 is a standard deviation; heads are not all given a job.
    let trn = l("training");
    assert!(
        trn.contains("N(0, 0.02²)") && !trn.contains("N(0, 0.02))"),
        "{trn}"
    );
    assert!(!trn.contains("found a job"), "{trn}");
    // Tokens: GPT-2's vocabulary against this model's.
    let tks = l("tokens");
    let v = gptlens::fmt::count(gpt.config.vocab_size as f64);
    assert!(
        tks.contains("50,257") && tks.contains(&format!("has {v}.")),
        "{tks}"
    );
    // LayerNorm: the GPT-2 paper gives no reason for pre-LN.
    let ln = l("layernorm");
    assert!(
        !ln.contains("that is why GPT-2 moved it") && ln.contains("Xiong"),
        "{ln}"
    );
}

/// `layer: last` and `layer: last-N` count back from the model's last layer;
/// past the first layer is an error that says how many there are.
#[test]
fn a_step_layer_can_count_back_from_the_last() {
    let text = "---\ntitle: T\nsummary: S\nprompt: ab\norder: 1\n---\n## A\n```step\nview: attention\nlayer: last\n```\nx\n## B\n```step\nview: attention\nlayer: last-1\n```\ny\n## C\n```step\nview: attention\nlayer: last-2\n```\nz\n";
    let l = lesson::parse("t", "t.md", text).expect("parses");
    assert_eq!(l.scenes[0].select.layer, Some(Pos::FromLast(0)));
    let fx = fixture();
    let trace = fx.gpt.trace(&[97, 98], &Default::default()).unwrap();
    let env = Env::new(&fx.gpt, &fx.tok, &trace, "ab", Some(&fx.dir));
    let layer = |i: usize| Sel::resolve(&l.scenes[i].select, &env).map(|s| s.layer);
    assert_eq!(layer(0), Ok(1), "the fixture has 2 layers");
    assert_eq!(layer(1), Ok(0));
    let e = layer(2).unwrap_err();
    assert!(e.contains("layer last-2") && e.contains("2 layers"), "{e}");
    let bad = text.replace("layer: last-1", "layer: lest");
    let e = lesson::parse("t", "t.md", &bad).unwrap_err().to_string();
    assert!(e.contains("t.md:16") && e.contains("`layer:`"), "{e}");
}

/// The training lesson runs on the shipped classroom model: every step that
/// selects a head selects the one its record says became a previous-token
/// head first, and the text prints the record's step and scores for it.
#[test]
fn the_training_lesson_selects_the_head_that_formed_and_prints_the_records_numbers() {
    use gptlens::train::record::{FORMED, TrainRecord};
    let l = lesson::find("training").expect("the lesson");
    assert_eq!(l.model.as_deref(), Some("classroom"));
    let dir = gptlens::paths::builtin_model("classroom").expect("the classroom model is built in");
    let gpt = Gpt::open(&dir).expect("open");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let rec = TrainRecord::read(&dir).expect("reads").expect("a record");
    let (layer, head, at, score) = rec.first_formed(false).expect("a previous-token head");
    let trace = render::trace_prompt(&l, &gpt, &tok).expect("trace");
    let env = Env::new(&gpt, &tok, &trace, &l.prompt, Some(&dir));
    let picked: Vec<(View, usize, usize)> = l
        .scenes
        .iter()
        .filter(|s| s.select.head.is_some())
        .map(|s| {
            let sel = Sel::resolve(&s.select, &env).expect("selection");
            (s.view, sel.layer, sel.head)
        })
        .collect();
    assert!(
        picked.iter().any(|p| p.0 == View::Training)
            && picked.iter().any(|p| p.0 == View::Attention),
        "{picked:?}"
    );
    for p in &picked {
        assert_eq!((p.1, p.2), (layer, head), "{p:?}");
    }
    let md = render::markdown(&l, &env).expect("renders");
    let end = rec.head_curve(layer, head, false).last().expect("curve").1;
    for want in [
        format!(
            "layer {layer}, head {head} at step {}",
            gptlens::fmt::count(at as f64)
        ),
        format!("({score:.2}"),
        format!("ended the run at {end:.2}"),
        format!("a score of {FORMED} or more"),
        "No head became an induction head".to_string(),
    ] {
        assert!(md.contains(&want), "{want:?} is not in:\n{md}");
    }
    assert!(
        !md.contains("train-heads.tsv"),
        "the record has the heads:\n{md}"
    );
}
