//! Every registered placeholder evaluates, on the built-in model and on a
//! random one: a value, or an error only where its entry documents one.

use std::collections::HashSet;
use std::path::Path;

use super::{Env, Sel, all, eval, eval_in, names, spec};
use crate::i18n::Lang;
use crate::lesson::{Placeholder, Select};
use crate::model::{Config, Gpt, random_model};
use crate::tokenizer::{Tokenizer, bytes_tokenizer_json};

const PROMPT: &str = "Once upon a time there was a little";

fn with_default_args(name: &str) -> Placeholder {
    let s = spec(name).expect("registered");
    Placeholder {
        name: name.into(),
        args: s.args.iter().map(|a| a.default).collect(),
        line: 0,
    }
}

/// Walks every entry at a selection inside the prompt (a position with a next
/// token and a previous one, the last layer and head): each must give text.
/// Then at a one-token prompt, where only documented cases may fail.
fn walk(gpt: &Gpt, tok: &Tokenizer, dir: Option<&Path>) {
    let ids = tok.encode(PROMPT).expect("encode");
    assert!(ids.len() >= 3, "{ids:?}");
    let trace = gpt.trace(&ids, &Default::default()).expect("trace");
    let env = Env::new(gpt, tok, &trace, PROMPT, dir);
    let cfg = &gpt.config;
    let select = Select {
        layer: Some(crate::lesson::Pos::Index(cfg.n_layer - 1)),
        head: Some(cfg.n_head - 1),
        position: Some(crate::lesson::Pos::FromLast(1)),
        key: None,
    };
    let sel = Sel::resolve(&select, &env).expect("selection");
    let mut seen = 0;
    for s in all() {
        let v = eval(&with_default_args(s.name), &env, &sel)
            .unwrap_or_else(|e| panic!("{{{{{}}}}} has no value: {e}", s.name));
        assert!(!v.trim().is_empty(), "{{{{{}}}}} is empty", s.name);
        seen += 1;
    }
    assert_eq!(seen, names().count());

    let one = gpt.trace(&ids[..1], &Default::default()).expect("trace");
    let env = Env::new(gpt, tok, &one, "Once", dir);
    let sel = Sel::resolve(&Select::default(), &env).expect("selection");
    let mut failed = 0;
    for s in all() {
        match eval(&with_default_args(s.name), &env, &sel) {
            Ok(v) => assert!(!v.trim().is_empty(), "{{{{{}}}}} is empty", s.name),
            Err(e) => {
                assert!(
                    !s.not_applicable.is_empty(),
                    "{{{{{}}}}} failed on a one-token prompt without documenting when: {e}",
                    s.name
                );
                failed += 1;
            }
        }
    }
    // The loss family and loss.at have no value on one token; token.back 1 neither.
    assert!(failed >= 9, "{failed}");
}

#[test]
fn every_placeholder_evaluates_on_the_built_in_model() {
    let dir = crate::paths::default_model_dir();
    assert!(
        dir.join("model.safetensors").is_file(),
        "the built-in model is not at {} (it is part of the repository)",
        dir.display()
    );
    let gpt = Gpt::open(&dir).expect("open built-in model");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    walk(&gpt, &tok, Some(&dir));
}

#[test]
fn every_placeholder_evaluates_on_a_random_model() {
    let gpt = random_model(&Config::new(2, 4, 64, 257, 128), 7, true);
    let tok = Tokenizer::from_json(&bytes_tokenizer_json()).expect("bytes tokenizer");
    walk(&gpt, &tok, None);
}

#[test]
fn names_are_unique_documented_and_unknown_ones_are_errors() {
    let mut seen = HashSet::new();
    for s in all() {
        assert!(seen.insert(s.name), "{} registered twice", s.name);
        assert!(!s.doc.is_empty(), "{} has no doc", s.name);
        for a in s.args {
            assert!(
                a.min <= a.default && a.default <= a.max,
                "{} {}",
                s.name,
                a.name
            );
        }
    }
    assert_eq!(seen.len(), 216);
    let gpt = random_model(&Config::new(1, 2, 16, 257, 16), 1, true);
    let tok = Tokenizer::from_json(&bytes_tokenizer_json()).expect("bytes tokenizer");
    let trace = gpt.trace(&[1, 2], &Default::default()).expect("trace");
    let env = Env::new(&gpt, &tok, &trace, "ab", None);
    let sel = Sel::resolve(&Select::default(), &env).expect("selection");
    let ph = Placeholder {
        name: "no.such".into(),
        args: vec![],
        line: 0,
    };
    assert!(
        eval(&ph, &env, &sel)
            .unwrap_err()
            .contains("unknown placeholder")
    );
}

/// Runs of two or more English words (two letters or more, joined by single
/// spaces) in `s`, leaving out `code`, “quoted” and "quoted" text (commands,
/// file names and the English prompt's wording stay English in Chinese).
fn english_run(s: &str) -> Option<String> {
    let mut t = String::new();
    let mut until: Option<char> = None;
    for ch in s.chars() {
        match until {
            Some(end) if ch == end => {
                until = None;
                t.push(' ');
            }
            Some(_) => {}
            None => match ch {
                '`' => until = Some('`'),
                '“' => until = Some('”'),
                '"' => until = Some('"'),
                _ => t.push(ch),
            },
        }
    }
    let mut run: Vec<&str> = vec![];
    for piece in t.split(' ') {
        if piece.len() >= 2 && piece.chars().all(|c| c.is_ascii_alphabetic()) {
            run.push(piece);
            if run.len() >= 2 {
                return Some(run.join(" "));
            }
        } else {
            run.clear();
        }
    }
    None
}

/// `{{name}}` (default arguments) in English and in Chinese.
fn in_both(env: &Env, name: &str) -> (String, String) {
    let sel = Sel::resolve(&Select::default(), env).expect("selection");
    let ph = with_default_args(name);
    let get = |l| eval_in(&ph, env, &sel, l).unwrap_or_else(|e| panic!("{name}: {e}"));
    (get(Lang::En), get(Lang::Zh))
}

/// Issue 18: the sentence a placeholder shows when the model, its folder or
/// the prompt cannot give its value is in the lesson's language. Each entry
/// is evaluated in its not-applicable case: under Lang::En it shows the
/// English sentence; under Lang::Zh the Chinese one and no English.
#[test]
fn fallback_sentences_are_in_the_lessons_language() {
    use crate::i18n::Msg;
    let quotes_error = [
        Msg::TrainUnreadable,
        Msg::CompressUnreadable,
        Msg::ModernTemplateFails,
    ];
    let mut checked = 0;
    let mut check = |env: &Env, names: &[&str], m: Msg| {
        let (en_head, zh_head) = (
            m.get(Lang::En).split("{}").next().unwrap_or(""),
            m.get(Lang::Zh).split("{}").next().unwrap_or(""),
        );
        for name in names {
            let (en, zh) = in_both(env, name);
            assert!(en.contains(en_head), "{name} under en: {en:?}, not {m:?}");
            assert!(zh.contains(zh_head), "{name} under zh: {zh:?}, not {m:?}");
            assert!(!zh.contains(en_head), "{name} under zh: {zh:?}");
            assert!(
                zh.chars().any(crate::text::wrap::is_cjk),
                "{name} under zh: {zh:?}"
            );
            // An error message filled in stays English (its file and line).
            let own = match zh.find(zh_head) {
                Some(i) if quotes_error.contains(&m) => &zh[..i + zh_head.len()],
                _ => &zh[..],
            };
            assert_eq!(english_run(own), None, "{name} under zh: {zh:?}");
            // The check can fail: the English sentence has English words.
            let words = en.split(|c: char| !c.is_ascii_alphabetic());
            assert!(
                words.filter(|w| w.len() >= 2).count() >= 3,
                "{name}: {en:?}"
            );
            assert!(!en.chars().any(crate::text::wrap::is_cjk), "{name}: {en:?}");
            checked += 1;
        }
    };
    let dir = crate::paths::default_model_dir();
    let gpt = Gpt::open(&dir).expect("open built-in model");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let trace_of = |gpt: &Gpt, tok: &Tokenizer, prompt: &str| {
        let ids = tok.encode(prompt).expect("encode");
        gpt.trace(&ids, &Default::default()).expect("trace")
    };

    // Fine-tuning: a prompt that is not a Q/A pair; a pair whose response
    // never writes the name it asks for.
    let tr = trace_of(&gpt, &tok, PROMPT);
    let env = Env::new(&gpt, &tok, &tr, PROMPT, Some(&dir));
    let ft = [
        "ft.split",
        "ft.mask",
        "ft.objective",
        "ft.next",
        "ft.next.tuned",
        "ft.losses",
        "ft.gain",
        "ft.gain.kind",
        "ft.name",
        "ft.head",
        "ft.head.layer",
        "ft.heads",
    ];
    check(&env, &ft, Msg::FtNotAPair);
    let pair = "Q: Tell me a story.\nA: Once upon a time there was a girl.";
    let tr = trace_of(&gpt, &tok, pair);
    let env = Env::new(&gpt, &tok, &tr, pair, Some(&dir));
    check(
        &env,
        &["ft.name", "ft.head", "ft.head.layer", "ft.heads"],
        Msg::FtNoName,
    );

    // A folder with no record: training and compression.
    let empty = tempfile::tempdir().expect("tempdir");
    let tr = trace_of(&gpt, &tok, PROMPT);
    let env = Env::new(&gpt, &tok, &tr, PROMPT, Some(empty.path()));
    check(&env, &["train.summary"], Msg::TrainNoRecord);
    let log = ["train.steps", "train.first", "train.last", "train.val"];
    check(&env, &log, Msg::TrainNoLog);
    check(&env, &["train.curve"], Msg::TrainNoLog);
    check(&env, &["train.baselines"], Msg::TrainNoBaselines);
    let heads = [
        "train.heads.start",
        "train.heads.table",
        "train.heads.formed",
        "train.prev_head",
        "train.prev_head.step",
        "train.prev_head.end",
    ];
    check(&env, &heads, Msg::TrainNoHeads);
    let compress = [
        "compress.accuracy",
        "compress.q8.change",
        "compress.q4.change",
        "compress.pruning",
        "compress.prune.half",
    ];
    check(&env, &compress, Msg::CompressNotRecorded);

    // Broken records.
    let broken = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        broken.path().join("train-log.tsv"),
        "step\tnot a column\n1\tx\n",
    )
    .unwrap();
    std::fs::write(broken.path().join("compression.tsv"), "not\ta header\n").unwrap();
    let env = Env::new(&gpt, &tok, &tr, PROMPT, Some(broken.path()));
    check(
        &env,
        &["train.steps", "train.summary"],
        Msg::TrainUnreadable,
    );
    check(&env, &["train.heads.table"], Msg::TrainUnreadable);
    check(
        &env,
        &["compress.accuracy", "compress.q8.change"],
        Msg::CompressUnreadable,
    );

    // A log with no validation loss and no summary, heads that never form,
    // a compression record with its header only.
    let thin = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        thin.path().join("train-log.tsv"),
        "step\tlr\ttrain_loss\tval_loss\tgrad_norm\ttokens_per_sec\n1\t0.001\t5.5\t\t1.0\t100\n2\t0.001\t5.0\t\t1.0\t100\n",
    )
    .unwrap();
    std::fs::write(
        thin.path().join("train-heads.tsv"),
        "step\tlayer\thead\tprevious_token\tinduction\n0\t0\t0\t0.03\t0.01\n0\t0\t1\t0.04\t0.01\n2\t0\t0\t0.05\t0.01\n2\t0\t1\t0.06\t0.02\n",
    )
    .unwrap();
    let real = std::fs::read_to_string(dir.join("compression.tsv")).expect("record");
    let header: String = real
        .lines()
        .take_while(|l| l.starts_with('#'))
        .chain(real.lines().find(|l| !l.starts_with('#')))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(thin.path().join("compression.tsv"), header).unwrap();
    let env = Env::new(&gpt, &tok, &tr, PROMPT, Some(thin.path()));
    check(&env, &["train.val"], Msg::TrainNoVal);
    check(&env, &["train.baselines"], Msg::TrainNoBaselines);
    check(&env, &["train.prev_head"], Msg::TrainBestNotFormed);
    check(&env, &["train.prev_head.step"], Msg::TrainNoHeadReached);
    check(
        &env,
        &["compress.q8.change", "compress.prune.half"],
        Msg::CompressNoRow,
    );

    // A model of another shape than the built-in pair.
    let small = random_model(&Config::new(2, 4, 64, 257, 128), 7, true);
    let bytes = Tokenizer::from_json(&bytes_tokenizer_json()).expect("bytes tokenizer");
    let named = "Q: Write a story about Tom.\nA: Tom";
    let tr = trace_of(&small, &bytes, named);
    let env = Env::new(&small, &bytes, &tr, named, None);
    check(
        &env,
        &["ft.next", "ft.heads", "ft.head"],
        Msg::FtNotSameShape,
    );

    // A Llama: LoRA is for GPT-2; its chat template with no folder, with
    // none in the folder, and one that does not read.
    let llama = random_model(&Config::llama(2, 4, 2, 64, 128, 257, 128, 10000.0), 3, true);
    let tr = trace_of(&llama, &bytes, PROMPT);
    let env = Env::new(&llama, &bytes, &tr, PROMPT, None);
    check(&env, &["ft.lora"], Msg::FtLoraGpt2Only);
    check(&env, &["modern.chat"], Msg::ModernNoFolder);
    let env = Env::new(&llama, &bytes, &tr, PROMPT, Some(empty.path()));
    check(&env, &["modern.chat"], Msg::ModernNoTemplate);
    std::fs::write(broken.path().join("tokenizer_config.json"), "{ not json").unwrap();
    let env = Env::new(&llama, &bytes, &tr, PROMPT, Some(broken.path()));
    check(&env, &["modern.chat"], Msg::ModernTemplateFails);
    assert!(checked >= 50, "{checked}");
}
