//! `gptlens train` end to end on a small made-up corpus: bad input gets a clear
//! error, a run writes a model the engine opens, Ctrl-C plus --resume loses
//! nothing, and a NaN loss stops the run with the last good checkpoint kept.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use gptlens::model::Gpt;
use gptlens::tokenizer::Tokenizer;
use gptlens::train::record::TrainRecord;
use gptlens::train::{Hyper, RunOptions, TrainError, train};

fn corpus(dir: &Path, stories: usize) -> PathBuf {
    let names = ["Lily", "Tom", "Sam", "Mia"];
    let things = ["ball", "dog", "cake", "tree", "kite"];
    let mut text = String::new();
    for i in 0..stories {
        let n = names[i % names.len()];
        let t = things[(i * 7 + 3) % things.len()];
        text.push_str(&format!(
            "Once upon a time, {n} had a {t}. {n} loved the {t} very much.\nOne day, the {t} was gone. {n} was sad.\n<|endoftext|>\n"
        ));
    }
    let p = dir.join("corpus.txt");
    std::fs::write(&p, text).unwrap();
    p
}

fn small() -> Hyper {
    Hyper {
        n_layer: 1,
        n_head: 2,
        n_embd: 16,
        n_ctx: 16,
        vocab_size: 300,
        batch: 2,
        steps: 6,
        lr: 1e-2,
        min_lr: 1e-3,
        warmup: 2,
        weight_decay: 0.1,
        grad_clip: 1.0,
        seed: 7,
        // On, so the resume test shows the masks are reproduced too.
        dropout: 0.1,
    }
}

fn opts(corpus: &Path, out: &Path) -> RunOptions {
    RunOptions {
        corpus: corpus.to_path_buf(),
        valid: Some(corpus.to_path_buf()),
        out: out.to_path_buf(),
        eval_every: 3,
        eval_batches: 2,
        checkpoint_every: 2,
        resume: false,
        force: false,
        max_memory: None,
    }
}

fn run(h: &Hyper, o: &RunOptions) -> Result<gptlens::train::Summary, TrainError> {
    train(h, o, &AtomicBool::new(false), &mut |_| {})
}

fn err_text(r: Result<gptlens::train::Summary, TrainError>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_run_writes_a_model_folder_the_engine_opens() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    let out = dir.path().join("m");
    let s = run(&small(), &opts(&c, &out)).unwrap();
    assert_eq!(s.step, 6);
    assert_eq!(s.tokens_seen, 6 * 2 * 16);
    let v = s.val_loss.expect("validation loss");
    assert!(v.is_finite() && v < (300f32).ln(), "val loss {v}");
    assert!(s.val_bits_per_byte.unwrap() > 0.0);
    let b = s.baselines.expect("baselines");
    assert!(b.bigram < b.unigram);
    let gpt = Gpt::open(&out).unwrap();
    let tok = Tokenizer::open(&out.join("tokenizer.json")).unwrap();
    tok.check_matches(&gpt.config).unwrap();
    assert!(
        gpt.last_logits(&tok.encode("Once upon a time").unwrap())
            .is_ok()
    );
    assert!(out.join("checkpoint/state.json").is_file());
}

#[test]
fn missing_empty_and_non_utf8_corpora_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let e = err_text(run(&small(), &opts(&dir.path().join("nope.txt"), &out)));
    assert!(e.contains("does not exist"), "{e}");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n  \n").unwrap();
    let e = err_text(run(&small(), &opts(&empty, &out)));
    assert!(e.contains("is empty"), "{e}");
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"caf\xe9 au lait\n").unwrap();
    let e = err_text(run(&small(), &opts(&latin1, &out)));
    assert!(e.contains("not UTF-8") && e.contains("offset 3"), "{e}");
}

#[test]
fn a_corpus_smaller_than_one_batch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 1);
    let mut h = small();
    h.batch = 8;
    let e = err_text(run(&h, &opts(&c, &dir.path().join("m"))));
    assert!(e.contains("smaller than one batch"), "{e}");
}

#[test]
fn an_existing_output_folder_needs_force_or_resume() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    let out = dir.path().join("m");
    std::fs::create_dir(&out).unwrap();
    let e = err_text(run(&small(), &opts(&c, &out)));
    assert!(e.contains("already exists") && e.contains("--force"), "{e}");
    let mut o = opts(&c, &out);
    o.force = true;
    run(&small(), &o).unwrap();
}

#[test]
fn a_dropout_that_is_not_a_probability_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    for p in [1.0, -0.1, f32::NAN] {
        let mut h = small();
        h.dropout = p;
        let e = err_text(run(&h, &opts(&c, &dir.path().join("m"))));
        assert!(e.contains("--dropout") && e.contains("[0, 1)"), "{e}");
    }
}

#[test]
fn resume_refuses_a_checkpoint_made_with_other_settings() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    let out = dir.path().join("m");
    run(&small(), &opts(&c, &out)).unwrap();
    let mut h = small();
    h.n_embd = 32;
    h.lr = 5e-3;
    let mut o = opts(&c, &out);
    o.resume = true;
    let e = err_text(run(&h, &o));
    assert!(
        e.contains("other settings") && e.contains("n_embd") && e.contains("lr"),
        "{e}"
    );
    let fresh = dir.path().join("fresh");
    let mut o = opts(&c, &fresh);
    o.resume = true;
    let e = err_text(run(&small(), &o));
    assert!(
        e.contains("tokenizer.json") || e.contains("no checkpoint"),
        "{e}"
    );
}

#[test]
fn interrupt_then_resume_finishes_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    let straight = run(&small(), &opts(&c, &dir.path().join("a"))).unwrap();

    let out = dir.path().join("b");
    let stop = AtomicBool::new(false);
    // "Ctrl-C" after step 3: the run writes a checkpoint and returns.
    let s = train(&small(), &opts(&c, &out), &stop, &mut |p| {
        if p.step == 3 {
            stop.store(true, Ordering::SeqCst);
        }
    })
    .unwrap();
    assert!(s.interrupted);
    assert_eq!(s.step, 3);
    let mut o = opts(&c, &out);
    o.resume = true;
    let resumed = run(&small(), &o).unwrap();
    assert_eq!(resumed.step, 6);
    assert_eq!(resumed.tokens_seen, straight.tokens_seen);
    let (a, b) = (straight.val_loss.unwrap(), resumed.val_loss.unwrap());
    assert!((a - b).abs() < 1e-4, "straight {a} vs resumed {b}");

    // The heads' record: every head at step 0, at each validation step and
    // at the end, the same whether the run was interrupted or not.
    let heads =
        |d: &str| std::fs::read_to_string(dir.path().join(d).join("train-heads.tsv")).unwrap();
    assert_eq!(heads("a"), heads("b"));
    let rec = TrainRecord::read(&dir.path().join("b")).unwrap().unwrap();
    let steps: Vec<u64> = rec.heads.iter().map(|r| r.step).collect();
    assert_eq!(steps, vec![0, 0, 3, 3, 6, 6], "2 heads at steps 0, 3 and 6");
    assert!(
        rec.heads
            .iter()
            .all(|r| (0.0..=1.0).contains(&r.previous_token))
    );
    assert_eq!(rec.head_curve(0, 1, false).len(), 3);
}

#[test]
fn a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    let out = dir.path().join("m");
    let mut h = small();
    // A learning rate this large overflows the weights within a few steps.
    h.lr = 1e30;
    h.min_lr = 1e30;
    h.warmup = 0;
    h.steps = 50;
    let mut o = opts(&c, &out);
    o.checkpoint_every = 1;
    let e = run(&h, &o).unwrap_err();
    let TrainError::NonFinite { step, .. } = &e else {
        panic!("expected NonFinite, got {e}");
    };
    let msg = e.to_string();
    assert!(msg.contains(&format!("at step {step}")), "{msg}");
    assert!(msg.contains("last good checkpoint"), "{msg}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("checkpoint/state.json")).unwrap())
            .unwrap();
    assert_eq!(meta["step"].as_u64().unwrap(), step - 1);
    let gpt = Gpt::open(&out).unwrap();
    assert!(gpt.weights.non_finite().is_empty());
}

fn messages(
    h: &Hyper,
    o: &RunOptions,
) -> (Result<gptlens::train::Summary, TrainError>, Vec<String>) {
    let mut m = Vec::new();
    let r = train(h, o, &AtomicBool::new(false), &mut |p| {
        if let Some(s) = &p.message {
            m.push(s.clone());
        }
    });
    (r, m)
}

#[test]
fn a_run_too_large_for_memory_is_refused_before_the_tokenizer_is_trained() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    let out = dir.path().join("m");
    let mut h = small();
    h.n_embd = 1_000_000;
    let (r, notes) = messages(&h, &opts(&c, &out));
    let e = err_text(r);
    assert!(
        e.contains("needs") && e.contains("TiB") && e.contains("available"),
        "{e}"
    );
    assert!(notes.iter().all(|n| !n.contains("BPE")), "{notes:?}");
    assert!(!out.exists());
    // The limit can be set; then the need is printed.
    let mut o = opts(&c, &out);
    o.max_memory = Some(1 << 20);
    let e = err_text(run(&small(), &{
        let mut o = o.clone();
        o.max_memory = Some(1000);
        o
    }));
    assert!(e.contains("needs") && e.contains("--max-memory"), "{e}");
    o.max_memory = Some(1 << 30);
    let (r, notes) = messages(&small(), &o);
    r.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("memory: ") && n.contains("AdamW")),
        "{notes:?}"
    );
}

#[test]
fn a_vocabulary_larger_than_the_tokenizer_learned_is_reduced_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    for asked in [5000, 100_000_000] {
        let out = dir.path().join(format!("m{asked}"));
        let mut h = small();
        h.vocab_size = asked;
        let (r, notes) = messages(&h, &opts(&c, &out));
        let s = r.unwrap();
        let tok = Tokenizer::open(&out.join("tokenizer.json")).unwrap();
        let learned = tok.vocab_size();
        assert!(learned < 1000, "{learned}");
        assert_eq!(s.hyper.vocab_size, learned);
        assert_eq!(Gpt::open(&out).unwrap().config.vocab_size, learned);
        assert!(
            notes
                .iter()
                .any(|n| n.contains(&format!("learned {learned} tokens"))),
            "{notes:?}"
        );
        // The same command resumes: the request is reduced the same way.
        let mut o = opts(&c, &out);
        o.resume = true;
        assert_eq!(run(&h, &o).unwrap().hyper.vocab_size, learned);
    }
}

#[test]
fn nonsense_numbers_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    let out = dir.path().join("m");
    type Set = Box<dyn Fn(&mut Hyper)>;
    let cases: Vec<(&str, Set)> = vec![
        ("--lr", Box::new(|h| h.lr = -1.0)),
        ("--lr", Box::new(|h| h.lr = 0.0)),
        ("--lr", Box::new(|h| h.lr = f32::NAN)),
        ("--lr", Box::new(|h| h.lr = f32::INFINITY)),
        ("--min-lr", Box::new(|h| h.min_lr = -1e-3)),
        ("--min-lr", Box::new(|h| h.min_lr = f32::NAN)),
        ("--min-lr", Box::new(|h| h.min_lr = 1.0)),
        ("--weight-decay", Box::new(|h| h.weight_decay = -0.1)),
        ("--weight-decay", Box::new(|h| h.weight_decay = f32::NAN)),
        (
            "--weight-decay",
            Box::new(|h| h.weight_decay = f32::INFINITY),
        ),
        ("--grad-clip", Box::new(|h| h.grad_clip = -1.0)),
        ("--grad-clip", Box::new(|h| h.grad_clip = f32::NAN)),
        ("--grad-clip", Box::new(|h| h.grad_clip = f32::INFINITY)),
        ("--batch", Box::new(|h| h.batch = 0)),
        ("--steps", Box::new(|h| h.steps = 0)),
        ("n_head", Box::new(|h| h.n_head = 3)),
        ("n_layer", Box::new(|h| h.n_layer = 0)),
    ];
    for (flag, set) in cases {
        let mut h = small();
        set(&mut h);
        let e = err_text(run(&h, &opts(&c, &out)));
        assert!(e.contains(flag), "{flag}: {e}");
        assert!(!out.exists(), "{flag}");
    }
}

#[test]
fn a_failed_run_removes_the_folder_it_created_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 1);
    let mut h = small();
    h.batch = 8;
    let out = dir.path().join("new/m");
    // Fails after the tokenizer was written: the same command fails the same way.
    for _ in 0..2 {
        let e = err_text(run(&h, &opts(&c, &out)));
        assert!(e.contains("smaller than one batch"), "{e}");
        assert!(!dir.path().join("new").exists());
    }
    // A folder that existed is left alone (with --force its files get replaced).
    let old = dir.path().join("old");
    std::fs::create_dir(&old).unwrap();
    std::fs::write(old.join("notes.txt"), "mine").unwrap();
    let mut o = opts(&c, &old);
    o.force = true;
    err_text(run(&h, &o));
    assert_eq!(
        std::fs::read_to_string(old.join("notes.txt")).unwrap(),
        "mine"
    );
    // A NaN before the first checkpoint keeps nothing either.
    let big = corpus(dir.path(), 40);
    let mut h = small();
    h.lr = 1e30;
    h.min_lr = 1e30;
    h.warmup = 0;
    h.steps = 50;
    let mut o = opts(&big, &out);
    o.checkpoint_every = 0;
    assert!(matches!(run(&h, &o), Err(TrainError::NonFinite { .. })));
    assert!(!dir.path().join("new").exists());
}

#[test]
fn resume_of_a_folder_without_a_run_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let c = corpus(dir.path(), 40);
    let mut o = opts(&c, &dir.path().join("nonexistent"));
    o.resume = true;
    let e = err_text(run(&small(), &o));
    assert!(
        e.contains("does not exist") && !e.contains("gptlens init"),
        "{e}"
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let mut o = opts(&c, &empty);
    o.resume = true;
    let e = err_text(run(&small(), &o));
    assert!(
        e.contains("no tokenizer.json") && e.contains("--force"),
        "{e}"
    );
    assert!(empty.is_dir());
}
