//! Fine-tuning: the chat template renders as transformers' apply_chat_template
//! does (committed fixture), pairs become tokens with the response-only mask,
//! `finetune --eval --json` agrees with the engine's forward pass, a short run
//! lowers the response loss and resumes exactly, and bad input gets a clear
//! message.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};

use gptlens::finetune::{
    ChatTemplate, DEFAULT_CHAT_TEMPLATE, FinetuneError, FinetuneOptions, Formatter, Message, Pair,
};
use gptlens::model::{Gpt, Interventions, KvCache};
use gptlens::tokenizer::{END_OF_TEXT, Tokenizer};
use gptlens::train::{Hyper, RunOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn base_model() -> PathBuf {
    root().join("tiny-models/tinystories")
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gptlens"));
    common::in_english(&mut c).env("NO_COLOR", "1");
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_pairs(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

/// A few pairs in both forms.
fn some_pairs() -> Vec<String> {
    let names = ["Mia", "Tom", "Zoe", "Ben", "Lily", "Sam"];
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let story = format!(
                "Once upon a time, there was a girl named {n}. {n} liked to play with a red ball."
            );
            if i % 2 == 0 {
                serde_json::json!({"prompt": format!("Write a story about {n}."), "response": story})
            } else {
                serde_json::json!({"messages": [
                    {"role": "user", "content": format!("Write a story about {n}.")},
                    {"role": "assistant", "content": story}]})
            }
            .to_string()
        })
        .collect()
}

#[test]
fn chat_templates_render_as_transformers_apply_chat_template_byte_for_byte() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/chat-templates.json")).unwrap();
    let fx: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        fx["templates"]["default"].as_str().unwrap(),
        DEFAULT_CHAT_TEMPLATE,
        "the default template changed: rerun scripts/reference.py finetune-fixtures"
    );
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 12);
    let mut generation_prompts = 0;
    for c in cases {
        let name = c["template"].as_str().unwrap();
        let t = ChatTemplate::new(
            fx["templates"][name].as_str().unwrap(),
            c["bos_token"].as_str().unwrap(),
            c["eos_token"].as_str().unwrap(),
            name,
        )
        .unwrap();
        let messages: Vec<Message> = serde_json::from_value(c["messages"].clone()).unwrap();
        let add_gen = c["add_generation_prompt"].as_bool().unwrap();
        generation_prompts += add_gen as usize;
        let want = c["rendered"].as_str().unwrap();
        assert_eq!(
            t.render(&messages, add_gen).unwrap(),
            want,
            "{name}, add_generation_prompt {add_gen}, {messages:?}"
        );
    }
    assert!(generation_prompts * 2 == cases.len());
}

fn formatter() -> Formatter {
    let tok = Tokenizer::open(&base_model().join("tokenizer.json")).unwrap();
    Formatter::for_model(&base_model(), tok).unwrap()
}

#[test]
fn a_pair_becomes_the_templated_prompt_then_the_counted_response_and_end_of_text() {
    let f = formatter();
    let tok = &f.tokenizer;
    let pair = Pair {
        line: 1,
        messages: vec![
            Message::new("user", "Write a story about Mia."),
            Message::new("assistant", "Mia had a red ball."),
        ],
    };
    let ex = f.example(&pair).unwrap();
    let prompt = tok.encode("Q: Write a story about Mia.\nA:").unwrap();
    let response = tok.encode(" Mia had a red ball.").unwrap();
    let eot = tok.end_of_text().unwrap();
    assert_eq!(f.eot, eot);
    let mut want = prompt.clone();
    want.extend(&response);
    want.push(eot);
    assert_eq!(ex.ids, want);
    let counted: Vec<bool> = (0..want.len()).map(|i| i >= prompt.len()).collect();
    assert_eq!(ex.mask, counted);
    assert_eq!(ex.counted(), response.len() + 1);
}

#[test]
fn eval_json_losses_equal_the_engines_forward_pass() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_pairs(dir.path(), "pairs.jsonl", &some_pairs());
    let o = bin()
        .args(["finetune", "--eval", "--json", "--batch", "4", "--model"])
        .arg(base_model())
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let gpt = Gpt::open(&base_model()).unwrap();
    let pairs = v["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 6);
    let (mut sum, mut count) = (0.0f64, 0usize);
    for p in pairs {
        let ids: Vec<u32> = serde_json::from_value(p["ids"].clone()).unwrap();
        let mask: Vec<u8> = serde_json::from_value(p["mask"].clone()).unwrap();
        assert_eq!(ids.len(), mask.len());
        assert_eq!(
            mask[0], 0,
            "the first token has nothing to be predicted from"
        );
        let mut cache = KvCache::new(&gpt.config);
        let logits = gpt
            .forward(
                &ids[..ids.len() - 1],
                &mut cache,
                &Interventions::default(),
                None,
                true,
            )
            .unwrap();
        let (mut s, mut c) = (0.0f64, 0usize);
        for (i, row) in logits.rows().into_iter().enumerate() {
            if mask[i + 1] == 0 {
                continue;
            }
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let lse = row
                .iter()
                .map(|&x| (x as f64 - max).exp())
                .sum::<f64>()
                .ln()
                + max;
            s += lse - row[ids[i + 1] as usize] as f64;
            c += 1;
        }
        let got = p["loss"].as_f64().unwrap();
        assert!(
            ((got - s / c as f64) / got).abs() < 1e-5,
            "pair loss {got} vs engine {}",
            s / c as f64
        );
        sum += s;
        count += c;
    }
    assert_eq!(v["tokens"].as_u64().unwrap() as usize, count);
    let mean = v["loss"].as_f64().unwrap();
    assert!(((mean - sum / count as f64) / mean).abs() < 1e-5);
}

fn hyper(steps: u64) -> Hyper {
    let mut h = Hyper::tiny();
    h.batch = 3;
    h.steps = steps;
    h.lr = 3e-3;
    h.min_lr = 3e-4;
    h.warmup = 2;
    h.weight_decay = 0.0;
    h.dropout = 0.0;
    h.seed = 5;
    h
}

fn options(data: &Path, valid: Option<&Path>, out: &Path, resume: bool) -> FinetuneOptions {
    FinetuneOptions {
        base: base_model(),
        epochs: 1,
        run: RunOptions {
            corpus: data.to_path_buf(),
            valid: valid.map(Path::to_path_buf),
            out: out.to_path_buf(),
            eval_every: 0,
            eval_batches: 0,
            checkpoint_every: 4,
            resume,
            force: false,
            max_memory: None,
        },
        lora: None,
    }
}

#[test]
fn a_short_run_lowers_the_response_loss_and_the_folder_carries_its_template() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_pairs(dir.path(), "pairs.jsonl", &some_pairs());
    let out = dir.path().join("tuned");
    let stop = AtomicBool::new(false);
    let s = gptlens::finetune::finetune(
        &hyper(12),
        &options(&data, Some(&data), &out, false),
        &stop,
        &mut |_| {},
    )
    .unwrap();
    let (before, after) = (s.valid_loss_before.unwrap(), s.valid_loss_after.unwrap());
    assert!(after < 0.7 * before, "response loss {before} -> {after}");
    assert_eq!(s.step, 12);
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "finetune-summary.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("tokenizer_config.json")).unwrap())
            .unwrap();
    assert_eq!(
        cfg["chat_template"].as_str().unwrap(),
        DEFAULT_CHAT_TEMPLATE
    );
    assert_eq!(cfg["eos_token"].as_str().unwrap(), END_OF_TEXT);
    // The folder is a model `--eval` reads, with the loss the run reported.
    let o = bin()
        .args(["finetune", "--eval", "--json", "--model"])
        .arg(&out)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let l = v["loss"].as_f64().unwrap();
    assert!((l - after).abs() < 1e-4 * after.max(1.0), "{l} vs {after}");
}

#[test]
fn an_interrupted_run_resumes_to_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_pairs(dir.path(), "pairs.jsonl", &some_pairs());
    let whole = dir.path().join("whole");
    let stop = AtomicBool::new(false);
    gptlens::finetune::finetune(
        &hyper(10),
        &options(&data, None, &whole, false),
        &stop,
        &mut |_| {},
    )
    .unwrap();
    let split = dir.path().join("split");
    let s = gptlens::finetune::finetune(
        &hyper(10),
        &options(&data, None, &split, false),
        &stop,
        &mut |p| {
            if p.step == 5 {
                stop.store(true, Ordering::SeqCst);
            }
        },
    )
    .unwrap();
    assert!(s.interrupted && s.step == 5);
    stop.store(false, Ordering::SeqCst);
    let s = gptlens::finetune::finetune(
        &hyper(10),
        &options(&data, None, &split, true),
        &stop,
        &mut |_| {},
    )
    .unwrap();
    assert!(!s.interrupted && s.step == 10);
    let a = std::fs::read(whole.join("model.safetensors")).unwrap();
    let b = std::fs::read(split.join("model.safetensors")).unwrap();
    assert!(
        a == b,
        "resumed weights differ from the uninterrupted run's"
    );
}

fn finetune_err(data: &Path, out: &Path) -> String {
    let stop = AtomicBool::new(false);
    match gptlens::finetune::finetune(
        &hyper(2),
        &options(data, None, out, false),
        &stop,
        &mut |_| {},
    ) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_malformed_line_is_named_by_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = some_pairs();
    lines.insert(2, "{\"prompt\": \"Write\", \"response\": ".into());
    let data = write_pairs(dir.path(), "bad.jsonl", &lines);
    let out = dir.path().join("out");
    let e = finetune_err(&data, &out);
    assert!(e.contains("bad.jsonl:3:"), "{e}");
    assert!(e.contains("not a JSON object"), "{e}");
    assert!(!out.exists(), "a failed run leaves no folder");
}

#[test]
fn a_pair_without_a_response_is_refused_in_both_forms() {
    let dir = tempfile::tempdir().unwrap();
    for (i, bad) in [
        serde_json::json!({"prompt": "Write a story."}),
        serde_json::json!({"prompt": "Write a story.", "response": ""}),
        serde_json::json!({"messages": [{"role": "user", "content": "Write a story."}]}),
    ]
    .iter()
    .enumerate()
    {
        let mut lines = some_pairs();
        lines.push(bad.to_string());
        let data = write_pairs(dir.path(), &format!("p{i}.jsonl"), &lines);
        let e = finetune_err(&data, &dir.path().join("out"));
        assert!(e.contains(&format!("p{i}.jsonl:7:")), "{e}");
        assert!(e.contains("has no response"), "{e}");
    }
}

#[test]
fn pairs_whose_prompt_fills_the_context_are_skipped_counted_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = some_pairs();
    let long = "and then ".repeat(300);
    lines.insert(
        1,
        serde_json::json!({"prompt": long, "response": "Yes."}).to_string(),
    );
    let data = write_pairs(dir.path(), "pairs.jsonl", &lines);
    let out = dir.path().join("out");
    let stop = AtomicBool::new(false);
    let mut notes = Vec::new();
    let s = gptlens::finetune::finetune(
        &hyper(2),
        &options(&data, None, &out, false),
        &stop,
        &mut |p| notes.extend(p.message.clone()),
    )
    .unwrap();
    assert_eq!((s.pairs, s.skipped), (6, 1));
    assert!(
        notes
            .iter()
            .any(|n| n.contains("skipped 1 pair(s) whose prompt alone fills")
                && n.contains("line 2")),
        "{notes:?}"
    );
    // The CLI's --eval says so too.
    let o = bin()
        .args(["finetune", "--eval", "--model"])
        .arg(base_model())
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("skipped 1 pair(s)"), "{}", stderr(&o));
    // Only prompts that fill it: nothing to train on.
    let only = write_pairs(
        dir.path(),
        "long.jsonl",
        &[serde_json::json!({"prompt": long, "response": "Yes."}).to_string()],
    );
    let e = finetune_err(&only, &dir.path().join("out2"));
    assert!(e.contains("every prompt alone fills it"), "{e}");
}

/// A copy of the built-in model's folder whose tokenizer_config.json says `config`.
fn model_with_config(dir: &Path, config: serde_json::Value) -> PathBuf {
    let m = dir.join("base");
    std::fs::create_dir_all(&m).unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(base_model().join(f), m.join(f)).unwrap();
    }
    std::fs::write(m.join("tokenizer_config.json"), config.to_string()).unwrap();
    m
}

#[test]
fn a_template_that_fails_to_render_reports_the_engines_message_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_pairs(dir.path(), "pairs.jsonl", &some_pairs());
    // Fails while rendering (raise_exception, as Hub templates use it) ...
    let m = model_with_config(
        dir.path(),
        serde_json::json!({"chat_template":
            "{% for m in messages %}{% if m.role == 'user' %}{{ raise_exception('only system turns, please') }}{% endif %}{% endfor %}"}),
    );
    let stop = AtomicBool::new(false);
    let mut o = options(&data, None, &dir.path().join("out"), false);
    o.base = m.clone();
    let e = gptlens::finetune::finetune(&hyper(2), &o, &stop, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("only system turns, please"), "{e}");
    assert!(e.contains("tokenizer_config.json"), "{e}");
    assert!(e.contains("pair on line 1"), "{e}");
    // ... and does not compile (a syntax error, with its line).
    std::fs::write(
        m.join("tokenizer_config.json"),
        serde_json::json!({"chat_template": "{% for m in messages %}\n{{ m.content }"}).to_string(),
    )
    .unwrap();
    let e = gptlens::finetune::finetune(&hyper(2), &o, &stop, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2"), "{e}");
    assert!(e.contains("syntax error"), "{e}");
}

#[test]
fn a_tokenizer_without_end_of_text_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("noeot");
    let o = bin()
        .args([
            "init", "--layers", "1", "--embd", "16", "--heads", "2", "--out",
        ])
        .arg(&m)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let tp = m.join("tokenizer.json");
    let mut tok: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&tp).unwrap()).unwrap();
    tok["added_tokens"] = serde_json::json!([]);
    tok["model"]["vocab"]
        .as_object_mut()
        .unwrap()
        .remove(END_OF_TEXT);
    std::fs::write(&tp, tok.to_string()).unwrap();
    let data = write_pairs(dir.path(), "pairs.jsonl", &some_pairs());
    let stop = AtomicBool::new(false);
    let mut o = options(&data, None, &dir.path().join("out"), false);
    o.base = m;
    let e = gptlens::finetune::finetune(&hyper(2), &o, &stop, &mut |_| {}).unwrap_err();
    assert!(matches!(e, FinetuneError::Input(_)), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("no end-of-text token"), "{e}");
}

#[test]
fn an_existing_output_folder_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_pairs(dir.path(), "pairs.jsonl", &some_pairs());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let o = bin()
        .args(["finetune", "--steps", "2", "--model"])
        .arg(base_model())
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

/// The shared corpus folder beside the clone (developer worktrees sit one
/// level deeper, hence the second path).
fn corpus_dir() -> PathBuf {
    let beside = root().join("../shared/corpus");
    if beside.join("tinystories_train.txt").is_file() {
        beside
    } else {
        root().join("../../shared/corpus")
    }
}

fn run_data_script(out: &Path, stories: &str) {
    let o = Command::new("python3")
        .arg(root().join("scripts/finetune_data.py"))
        .arg(out)
        .args(["--corpus"])
        .arg(corpus_dir())
        .args(["--stories", stories, "--valid-stories", "20"])
        .output()
        .expect("python3 runs (CI has it)");
    assert!(
        o.status.success(),
        "finetune_data.py failed: {}",
        stderr(&o)
    );
}

#[test]
fn the_data_script_is_deterministic_and_never_trains_on_a_held_out_name() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_data_script(&a, "60");
    run_data_script(&b, "60");
    for f in ["train.jsonl", "valid.jsonl", "names.json", "summary.json"] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(!x.is_empty(), "{f} is empty");
        assert!(x == y, "{f} differs between two runs");
    }
    let train = std::fs::read_to_string(a.join("train.jsonl")).unwrap();
    let names: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("names.json")).unwrap()).unwrap();
    let list = |k: &str| -> Vec<String> {
        names[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let (common, rare, pool) = (list("heldout_common"), list("heldout_rare"), list("pool"));
    assert!(common.len() >= 20 && rare.len() >= 20 && !pool.is_empty());
    // The pairs parse as gptlens reads them, each response names the requested
    // name, and the pairs of one story differ only in it.
    let pairs = gptlens::finetune::read_pairs(&a.join("train.jsonl")).unwrap();
    assert!(pairs.len() >= 60, "{} pairs from 60 stories", pairs.len());
    let mut requested = std::collections::BTreeSet::new();
    for p in &pairs {
        let prompt = &p.messages[0].content;
        let name = prompt
            .strip_prefix("Write a story about ")
            .and_then(|s| s.strip_suffix('.'))
            .unwrap_or_else(|| panic!("prompt {prompt:?}"));
        assert!(
            p.messages[1].content.contains(name),
            "{prompt} / {:?}",
            p.messages[1].content
        );
        requested.insert(name.to_string());
    }
    assert!(requested.len() >= 100, "{} distinct names", requested.len());
    for name in &pool {
        assert!(requested.contains(name), "pool name {name} never requested");
    }
    // No held-out name occurs in the training file, as a word anywhere.
    let is_word = |c: char| c.is_ascii_alphanumeric();
    for name in common.iter().chain(&rare) {
        for (i, _) in train.match_indices(name.as_str()) {
            let before = train[..i].chars().next_back();
            let after = train[i + name.len()..].chars().next();
            assert!(
                before.is_some_and(is_word) || after.is_some_and(is_word),
                "held-out name {name} occurs in train.jsonl at byte {i}"
            );
        }
    }
    // The held-out pairs ask only for held-out names.
    let valid = gptlens::finetune::read_pairs(&a.join("valid.jsonl")).unwrap();
    assert!(!valid.is_empty());
    for p in &valid {
        let prompt = &p.messages[0].content;
        assert!(
            common
                .iter()
                .chain(&rare)
                .any(|n| prompt == &format!("Write a story about {n}.")),
            "{prompt}"
        );
    }
}

/// The built-in model with a chat template: the default one, whose
/// end-of-turn token is `eos`.
fn chat_model(dir: &Path, eos: &str) -> PathBuf {
    let m = dir.join("chat-model");
    std::fs::create_dir_all(&m).unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(base_model().join(f), m.join(f)).unwrap();
    }
    let cfg = serde_json::json!({"chat_template": DEFAULT_CHAT_TEMPLATE, "eos_token": eos});
    std::fs::write(m.join("tokenizer_config.json"), cfg.to_string()).unwrap();
    m
}

fn generate(model: &Path, args: &[&str]) -> String {
    let o = bin()
        .arg("--model")
        .arg(model)
        .args(["generate", "--temperature", "0", "--max-tokens", "40"])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn generate_chat_prints_only_the_reply_to_the_templated_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let m = chat_model(dir.path(), END_OF_TEXT);
    let prompt = "Q: Write a story about Mia.\nA:";
    let written_out = generate(&m, &["--prompt", prompt]);
    let reply = generate(&m, &["--chat", "Write a story about Mia."]);
    let continuation = written_out.strip_prefix(prompt).unwrap();
    assert!(!reply.contains("Q:"), "{reply:?}");
    assert!(reply.len() > 10, "{reply:?}");
    assert_eq!(
        reply,
        continuation.trim_start(),
        "the reply is the greedy continuation"
    );
}

#[test]
fn generate_chat_stops_at_the_templates_end_of_turn_token() {
    let dir = tempfile::tempdir().unwrap();
    // "." as the end-of-turn token: the greedy reply ends at its first sentence.
    let m = chat_model(dir.path(), ".");
    let prompt = "Q: Write a story about Mia.\nA:";
    let written_out = generate(&m, &["--prompt", prompt]);
    let first = written_out.strip_prefix(prompt).unwrap().trim_start();
    let sentence = &first[..first
        .find('.')
        .expect("the base writes a full stop in 40 tokens")];
    let reply = generate(&m, &["--chat", "Write a story about Mia."]);
    assert_eq!(reply, format!("{sentence}\n"));
    // --ignore-eos goes on past it.
    let on = generate(&m, &["--chat", "Write a story about Mia.", "--ignore-eos"]);
    assert!(on.len() > reply.len() && on.starts_with(sentence), "{on:?}");
}

#[test]
fn trace_chat_runs_the_templated_text() {
    let dir = tempfile::tempdir().unwrap();
    let m = chat_model(dir.path(), END_OF_TEXT);
    let o = bin()
        .arg("--model")
        .arg(&m)
        .args([
            "trace",
            "--json",
            "--fields",
            "top",
            "--chat",
            "Write a story about Mia.",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<u32> = v["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap() as u32)
        .collect();
    let tok = Tokenizer::open(&m.join("tokenizer.json")).unwrap();
    assert_eq!(ids, tok.encode("Q: Write a story about Mia.\nA:").unwrap());
}

#[test]
fn chat_on_a_model_without_a_template_says_so_and_how_to_give_one() {
    for cmd in [&["generate"][..], &["trace", "--json"]] {
        let o = bin()
            .arg("--model")
            .arg(base_model())
            .args(cmd)
            .args(["--chat", "Write a story about Mia."])
            .output()
            .unwrap();
        assert!(!o.status.success(), "{cmd:?}");
        let e = stderr(&o);
        assert!(o.stdout.is_empty(), "{cmd:?}");
        for part in [
            "has none",
            "chat_template",
            "tokenizer_config.json",
            "gptlens finetune",
            "--prompt",
        ] {
            assert!(e.contains(part), "{cmd:?}: {part:?} missing from {e}");
        }
        assert!(!e.contains("panicked"), "{e}");
    }
}

fn lora_options(data: &Path, out: &Path, resume: bool, rank: usize) -> FinetuneOptions {
    let mut o = options(data, Some(data), out, resume);
    o.lora = Some(gptlens::finetune::LoraOptions {
        rank,
        alpha: 2.0 * rank as f32,
    });
    o
}

#[test]
fn a_lora_run_trains_only_adapters_and_saves_a_plain_merged_gpt2_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_pairs(dir.path(), "pairs.jsonl", &some_pairs());
    let out = dir.path().join("lora");
    let stop = AtomicBool::new(false);
    let mut notes = Vec::new();
    let s = gptlens::finetune::finetune(
        &hyper(12),
        &lora_options(&data, &out, false, 4),
        &stop,
        &mut |p| notes.extend(p.message.clone()),
    )
    .unwrap();
    let base = Gpt::open(&base_model()).unwrap();
    let cfg = &base.config;
    let (c, m) = (cfg.n_embd, cfg.mlp_dim());
    let expected = cfg.n_layer * 4 * ((c + 3 * c) + (c + c) + (c + m) + (m + c));
    assert_eq!(s.trainable_params, expected);
    assert!(
        notes
            .iter()
            .any(|n| n.contains(&format!("{expected} trainable parameters"))),
        "{notes:?}"
    );
    let (before, after) = (s.valid_loss_before.unwrap(), s.valid_loss_after.unwrap());
    assert!(after < 0.85 * before, "response loss {before} -> {after}");
    // A plain GPT-2 folder: the engine opens it, and its file holds exactly
    // GPT-2's tensors (no adapters).
    let tuned = Gpt::open(&out).unwrap();
    let bytes = std::fs::read(out.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(|n| n.to_string()).collect();
    names.sort();
    let mut want: Vec<String> = gptlens::model::expected_tensors(cfg)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    want.sort();
    assert_eq!(names, want);
    // The base is frozen: only the four projections of each block changed,
    // each by a matrix of rank at most 4.
    for ((name, a), (_, b)) in base.weights.named().into_iter().zip(tuned.weights.named()) {
        let adapted = gptlens::train::lora::ADAPTED
            .iter()
            .any(|s| name.ends_with(s));
        if adapted {
            assert!(a.data() != b.data(), "{name} did not train");
            let (rows, cols) = a.view2().dim();
            let delta: Vec<f64> = a
                .data()
                .iter()
                .zip(b.data())
                .map(|(x, y)| (*y - *x) as f64)
                .collect();
            assert!(numerical_rank(&delta, rows, cols) <= 4, "{name}");
        } else {
            assert!(a.data() == b.data(), "{name} is frozen but changed");
        }
    }
}

/// The rank of a `rows × cols` matrix by Gaussian elimination with partial
/// pivoting (pivots below 1e-3 of the largest entry count as zero: the f32
/// rounding of W₀ + ΔW is far below that).
fn numerical_rank(m: &[f64], rows: usize, cols: usize) -> usize {
    let mut a = m.to_vec();
    let tol = 1e-3 * a.iter().fold(0.0f64, |x, y| x.max(y.abs()));
    let mut rank = 0;
    for col in 0..cols {
        if rank == rows {
            break;
        }
        let pivot = (rank..rows)
            .max_by(|&i, &j| a[i * cols + col].abs().total_cmp(&a[j * cols + col].abs()))
            .unwrap();
        if a[pivot * cols + col].abs() <= tol {
            continue;
        }
        for k in 0..cols {
            a.swap(rank * cols + k, pivot * cols + k);
        }
        for i in rank + 1..rows {
            let f = a[i * cols + col] / a[rank * cols + col];
            for k in col..cols {
                a[i * cols + k] -= f * a[rank * cols + k];
            }
        }
        rank += 1;
    }
    rank
}

#[test]
fn an_interrupted_lora_run_resumes_to_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_pairs(dir.path(), "pairs.jsonl", &some_pairs());
    let stop = AtomicBool::new(false);
    let whole = dir.path().join("whole");
    gptlens::finetune::finetune(
        &hyper(10),
        &lora_options(&data, &whole, false, 2),
        &stop,
        &mut |_| {},
    )
    .unwrap();
    let split = dir.path().join("split");
    let s = gptlens::finetune::finetune(
        &hyper(10),
        &lora_options(&data, &split, false, 2),
        &stop,
        &mut |p| {
            if p.step == 5 {
                stop.store(true, Ordering::SeqCst);
            }
        },
    )
    .unwrap();
    assert!(s.interrupted && s.step == 5);
    stop.store(false, Ordering::SeqCst);
    // Resuming a LoRA checkpoint as full fine-tuning is refused.
    let e = gptlens::finetune::finetune(
        &hyper(10),
        &options(&data, None, &split, true),
        &stop,
        &mut |_| {},
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("LoRA run"), "{e}");
    let s = gptlens::finetune::finetune(
        &hyper(10),
        &lora_options(&data, &split, true, 2),
        &stop,
        &mut |_| {},
    )
    .unwrap();
    assert!(!s.interrupted && s.step == 10);
    let a = std::fs::read(whole.join("model.safetensors")).unwrap();
    let b = std::fs::read(split.join("model.safetensors")).unwrap();
    assert!(
        a == b,
        "resumed LoRA weights differ from the uninterrupted run's"
    );
}

#[test]
fn lora_rank_zero_and_a_rank_above_the_width_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_pairs(dir.path(), "pairs.jsonl", &some_pairs());
    for (rank, want) in [
        ("0", "--lora 0: the rank"),
        ("129", "above the model's width (128)"),
    ] {
        let out = dir.path().join(format!("out-{rank}"));
        let o = bin()
            .arg("--model")
            .arg(base_model())
            .args(["finetune", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .args(["--lora", rank, "--steps", "2"])
            .output()
            .unwrap();
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(e.contains(want), "--lora {rank}: {e}");
        assert!(!e.contains("panicked"), "{e}");
        assert!(!out.exists(), "--lora {rank} left a folder");
    }
}

/// The LoRA gradients against PyTorch: the random-odd model with fixed
/// adapters A, B (B non-zero, so that both gradients are), the masked loss of
/// the fine-tuning batch, and ∂L/∂A, ∂L/∂B from float64 autograd
/// (`scripts/reference.py lora-fixtures`).
#[test]
fn lora_gradients_match_pytorch() {
    let dir = root().join("tests/fixtures/random-odd");
    let bytes = std::fs::read(dir.join("lora-grads.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let f32s = |name: &str| -> Vec<f32> {
        let t = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        t.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let i64s = |name: &str| -> Vec<u32> {
        let t = st.tensor(name).unwrap();
        t.data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as u32)
            .collect()
    };
    let (inputs, targets, mask) = (i64s("inputs"), i64s("targets"), f32s("mask"));
    let shape = st.tensor("inputs").unwrap().shape().to_vec();
    let (b, t) = (shape[0], shape[1]);
    let meta = f32s("rank_alpha");
    let (rank, alpha) = (meta[0] as usize, meta[1]);
    let gpt = Gpt::open(&dir).unwrap();
    let mut trainer = gptlens::train::Trainer::new(&gpt, b, t);
    trainer.enable_lora(rank, alpha, 0).unwrap();
    let lora = trainer.lora.as_mut().unwrap();
    for ad in lora.adapters.clone() {
        lora.params[ad.a.clone()].copy_from_slice(&f32s(&format!("lora.{}.A", ad.name)));
        lora.params[ad.b.clone()].copy_from_slice(&f32s(&format!("lora.{}.B", ad.name)));
    }
    let lora = trainer.lora.take().unwrap();
    lora.merge(&mut trainer.params);
    trainer.lora = Some(lora);
    let loss = trainer.masked_loss_and_grads(&inputs, &targets, Some(&mask), None);
    let want = f32s("loss")[0];
    assert!((loss - want).abs() < 1e-5, "loss {loss} vs PyTorch {want}");
    let grads = trainer.grads.clone();
    let lora = trainer.lora.as_mut().unwrap();
    lora.gradients(&grads);
    let mut worst = 0.0f32;
    for ad in &lora.adapters {
        for (part, range) in [("A", &ad.a), ("B", &ad.b)] {
            let want = f32s(&format!("grad.lora.{}.{part}", ad.name));
            let got = &lora.grads[range.clone()];
            let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
            for (g, w) in got.iter().zip(&want) {
                worst = worst.max((g - w).abs() / scale);
            }
            assert!(
                want.iter().any(|&v| v != 0.0),
                "{} {part}: zero reference",
                ad.name
            );
        }
    }
    assert!(worst < 1e-4, "worst relative LoRA gradient error {worst}");
}

/// The shipped instruct model copies a name it never saw in training (a
/// held-out generated one, several tokens long) into its greedy reply, from
/// its folder on disk and as the built-in model read from the binary.
#[test]
fn the_shipped_instruct_model_writes_about_a_held_out_name() {
    let disk = root().join("tiny-models/tinystories-instruct");
    for model in [disk.as_path(), Path::new("(built-in)/tinystories-instruct")] {
        let reply = generate(model, &["--chat", "Write a story about Thepak."]);
        assert!(reply.contains("Thepak"), "{}: {reply:?}", model.display());
        assert!(!reply.starts_with("Q:"), "{reply:?}");
    }
    let tok = Tokenizer::open(&disk.join("tokenizer.json")).unwrap();
    assert!(
        tok.encode(" Thepak").unwrap().len() >= 3,
        "a multi-piece name"
    );
}

/// The finetuning lesson, on the shipped model it was written for: the head
/// step selects the head `{{ft.head}}` measures (the one whose weight from the
/// position before the reply's name onto the instruction's name is largest,
/// and which the base model's same head does not have), the mask splits the
/// text where the template's generation prompt ends, and the LoRA count is
/// the adapters' own.
#[test]
fn the_finetuning_lesson_selects_the_head_it_measures() {
    use gptlens::lesson::{self, Env, Placeholder, Sel, render};
    let dir = gptlens::paths::builtin_model("tinystories-instruct").expect("built-in");
    let gpt = Gpt::open(&dir).expect("open");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let l = lesson::find("finetuning").expect("the lesson");
    assert_eq!(l.model.as_deref(), Some("tinystories-instruct"));
    let trace = render::trace_prompt(&l, &gpt, &tok).expect("trace");
    let env = Env::new(&gpt, &tok, &trace, &l.prompt, Some(&dir));
    let scene = l
        .scenes
        .iter()
        .find(|s| s.title.contains("reads the name"))
        .expect("the head step");
    let sel = Sel::resolve(&scene.select, &env).expect("selection");
    let eval = |name: &str, args: Vec<f64>| {
        lesson::placeholders::eval(
            &Placeholder {
                name: name.into(),
                args,
                line: 0,
            },
            &env,
            &sel,
        )
        .expect(name)
    };
    let head = eval("ft.head", vec![]);
    assert!(
        head.starts_with(&format!("layer {}, head {}:", sel.layer, sel.head)),
        "the step selects layer {} head {}, the measurement says: {head}",
        sel.layer,
        sel.head
    );
    // The step's query is the position just before the reply writes the name.
    let name = tok.encode(" Thepak").expect("encode");
    assert!(trace.tokens[sel.pos + 1..].starts_with(&name), "{sel:?}");
    let w: f32 = (0..trace.tokens.len())
        .filter(|&k| k < 15 && trace.tokens[k..].starts_with(&name[..1]))
        .flat_map(|k| k..k + name.len())
        .map(|k| trace.layers[sel.layer].probs[sel.head][sel.pos][k])
        .sum();
    assert!(w > 0.5, "the head puts {w} on the instruction's name");
    assert!(
        eval("ft.split", vec![]).starts_with("the first 15 tokens are the prompt"),
        "\"Q: Write a story about Thepak.\\nA:\" is 15 tokens"
    );
    let lora = eval("ft.lora", vec![8.0]);
    let trainable = gptlens::train::lora::trainable(&gpt.config, 8);
    assert_eq!(
        trainable,
        4 * 8 * ((128 + 384) + (128 + 128) + (128 + 512) + (512 + 128))
    );
    assert!(
        lora.contains(&gptlens::fmt::count(trainable as f64)),
        "{lora}"
    );
}
