//! The Chinese lessons (lessons/zh/, docs/glossary-zh.md): each is checked
//! against its English twin step by step, so a lesson changed in one
//! language and not the other fails; each renders with live numbers; the
//! glossary's terms are the only ones used; and `--lang` chooses them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use gptlens::i18n::Lang;
use gptlens::lesson::{self, Block, Env, Lesson, Text, render};
use gptlens::model::{Config, Gpt, random_model};
use gptlens::tokenizer::{Tokenizer, bytes_tokenizer_json};

/// The placeholders of some texts, as (name, arguments): what a step shows.
fn phs<'a>(texts: impl IntoIterator<Item = &'a Text>) -> BTreeSet<String> {
    texts
        .into_iter()
        .flat_map(|t| t.placeholders())
        .map(|p| format!("{{{{{} {:?}}}}}", p.name, p.args))
        .collect()
}

/// A step's body cut at its questions: the text before the first, the text
/// after each (its reveal). Twins must show the same numbers in each part.
fn parts(body: &[Block]) -> Vec<BTreeSet<String>> {
    let mut out = vec![BTreeSet::new()];
    for b in body {
        match b {
            Block::Text(t) => out.last_mut().unwrap().extend(phs([t])),
            Block::Predict(_) => out.push(BTreeSet::new()),
        }
    }
    out
}

/// Every way `zh` differs from its English twin `en` in what it shows (not
/// in its words): empty when they are twins.
fn twin_differences(en: &Lesson, zh: &Lesson) -> Vec<String> {
    let mut d = vec![];
    let mut same = |what: String, a: String, b: String| {
        if a != b {
            d.push(format!("{what}: English {a}, Chinese {b}"));
        }
    };
    same("prompt".into(), en.prompt.clone(), zh.prompt.clone());
    same(
        "model".into(),
        format!("{:?}", en.model),
        format!("{:?}", zh.model),
    );
    same("order".into(), en.order.to_string(), zh.order.to_string());
    same(
        "architecture".into(),
        format!("{:?}", en.architecture),
        format!("{:?}", zh.architecture),
    );
    same(
        "the introduction's placeholders".into(),
        format!("{:?}", phs([&en.intro])),
        format!("{:?}", phs([&zh.intro])),
    );
    same(
        "number of steps".into(),
        en.scenes.len().to_string(),
        zh.scenes.len().to_string(),
    );
    for (i, (a, b)) in en.scenes.iter().zip(&zh.scenes).enumerate() {
        let at = |what: &str| format!("step {} (line {} / {}): {what}", i + 1, a.line, b.line);
        same(at("view"), a.view.to_string(), b.view.to_string());
        same(
            at("stage"),
            format!("{:?}", a.stage),
            format!("{:?}", b.stage),
        );
        same(
            at("selection"),
            format!("{:?}", a.select),
            format!("{:?}", b.select),
        );
        same(
            at("zoom/hide"),
            format!("{:?}", a.show),
            format!("{:?}", b.show),
        );
        let (pa, pb) = (parts(&a.body), parts(&b.body));
        same(
            at("questions"),
            (pa.len() - 1).to_string(),
            (pb.len() - 1).to_string(),
        );
        for (k, (x, y)) in pa.iter().zip(&pb).enumerate() {
            let part = if k == 0 {
                "placeholders before the first question".to_string()
            } else {
                format!("placeholders after question {k}")
            };
            same(at(&part), format!("{x:?}"), format!("{y:?}"));
        }
        let qs = |s: &lesson::Scene| -> Vec<lesson::Checkpoint> {
            s.body
                .iter()
                .filter_map(|b| match b {
                    Block::Predict(c) => Some(c.clone()),
                    Block::Text(_) => None,
                })
                .collect()
        };
        for (k, (x, y)) in qs(a).iter().zip(&qs(b)).enumerate() {
            let at = |what: &str| at(&format!("question {}: {what}", k + 1));
            let keys =
                |c: &lesson::Checkpoint| c.choices.iter().map(|(k, _)| *k).collect::<String>();
            same(at("choice keys"), keys(x), keys(y));
            for ((key, tx), (_, ty)) in x.choices.iter().zip(&y.choices) {
                same(
                    at(&format!("choice {key}'s placeholders")),
                    format!("{:?}", phs([tx])),
                    format!("{:?}", phs([ty])),
                );
            }
            same(
                at("the question's placeholders"),
                format!("{:?}", phs([&x.question])),
                format!("{:?}", phs([&y.question])),
            );
            same(
                at("the answer's placeholders"),
                format!("{:?}", phs([&x.answer])),
                format!("{:?}", phs([&y.answer])),
            );
            same(
                at("match"),
                format!("{:?}", x.matches.as_ref().map(|m| phs([m]))),
                format!("{:?}", y.matches.as_ref().map(|m| phs([m]))),
            );
        }
    }
    d
}

fn english(name: &str) -> Lesson {
    lesson::written_in(Lang::En)
        .expect("the English lessons parse")
        .into_iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("lessons/zh/{name}.md has no English twin lessons/{name}.md"))
}

fn chinese() -> Vec<Lesson> {
    lesson::written_in(Lang::Zh).expect("the Chinese lessons parse")
}

#[test]
fn every_chinese_lesson_is_its_english_twin_step_by_step() {
    let zh = chinese();
    assert!(
        zh.iter().any(|l| l.name == "attention"),
        "the attention lesson is translated"
    );
    for l in &zh {
        assert_eq!(l.lang, Lang::Zh);
        let d = twin_differences(&english(&l.name), l);
        assert!(
            d.is_empty(),
            "lessons/zh/{}.md differs from its twin:\n{}",
            l.name,
            d.join("\n")
        );
    }
}

/// The twin check notices a change made in one language only: each edit to
/// the Chinese attention lesson is reported.
#[test]
fn a_change_in_one_language_only_is_caught() {
    let en = english("attention");
    let (_, text) = lesson::builtin(Lang::Zh)
        .iter()
        .find(|(n, _)| *n == "attention")
        .expect("lessons/zh/attention.md");
    let zh = |from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        lesson::parse("attention", "zh.md", &text.replacen(from, to, 1)).expect("parses")
    };
    let cases = [
        (("layer: 1", "layer: 0"), "selection"),
        (("stage: scores", "stage: mask"), "stage"),
        (("zoom: on", "zoom: off"), "zoom/hide"),
        (("hide: view\n", ""), "zoom/hide"),
        (("{{attn.dot}}", "{{attn.score}}"), "placeholders before"),
        (("{{attn.q 6}}", "{{attn.q 4}}"), "after question 1"),
        (
            ("answer: {{attn.top}}", "answer: {{attn.top.token}}"),
            "answer's placeholders",
        ),
        (("match: {{attn.top.token}}\n", ""), "match"),
        (
            ("d: 最近提到的那个名字 {{token.back 4}}\n", ""),
            "choice keys",
        ),
        (
            (
                "b: 紧挨着的前一个词元 {{token.back 1}}",
                "b: 紧挨着的前一个词元 {{token.back 2}}",
            ),
            "choice b",
        ),
        (("prompt: Tom had", "prompt: Tim had"), "prompt"),
    ];
    for ((from, to), want) in cases {
        let d = twin_differences(&en, &zh(from, to));
        assert!(d.iter().any(|x| x.contains(want)), "{from} → {to}: {d:?}");
    }
    // a step dropped
    let cut = text.find("## 要记住的").expect("last step");
    let short = lesson::parse("attention", "zh.md", &text[..cut]).expect("parses");
    let d = twin_differences(&en, &short);
    assert!(d.iter().any(|x| x.contains("number of steps")), "{d:?}");
    // the real twin: nothing
    let real = lesson::parse("attention", "zh.md", text).expect("parses");
    assert!(twin_differences(&en, &real).is_empty());
}

fn render_zh(gpt: &Gpt, tok: &Tokenizer, dir: &Path) -> Vec<(String, String)> {
    chinese()
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
fn every_chinese_lesson_renders_its_placeholders_on_the_built_in_model() {
    let dir = gptlens::paths::default_model_dir();
    let gpt = Gpt::open(&dir).expect("open built-in model");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    for (name, md) in render_zh(&gpt, &tok, &dir) {
        assert!(
            !md.contains("{{"),
            "{name}: a placeholder was left unfilled"
        );
        assert!(md.contains("## 1. "), "{name}: no steps rendered");
        assert!(
            !md.contains("**Predict:**"),
            "{name}: the print scaffolding is English"
        );
    }
}

/// `--print` lays Chinese prose out at 80 columns: no prose line is wider,
/// none starts with closing punctuation; tables, code and headings are kept.
#[test]
fn chinese_print_is_laid_out_at_80_columns() {
    use gptlens::text::wrap::no_line_start;
    use unicode_width::UnicodeWidthStr;
    let dir = gptlens::paths::default_model_dir();
    let gpt = Gpt::open(&dir).expect("open built-in model");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let mut prose = 0;
    for (name, md) in render_zh(&gpt, &tok, &dir) {
        let mut code = false;
        for line in md.lines() {
            if line.trim_start().starts_with("```") {
                code = !code;
            }
            let kept = code
                || ["|", "#", "<!--", "```"]
                    .iter()
                    .any(|p| line.starts_with(p));
            if kept || line.is_empty() {
                continue;
            }
            prose += 1;
            assert!(
                line.width() <= render::PRINT_WIDTH,
                "{name}: {} columns: {line}",
                line.width()
            );
            let t = line.trim_start_matches(['>', ' ']);
            assert!(!t.starts_with(no_line_start), "{name}: {line}");
        }
    }
    assert!(prose > 300, "{prose}");
}

#[test]
fn every_chinese_lesson_renders_on_a_random_model() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("tiny");
    std::fs::create_dir(&dir).expect("mkdir");
    random_model(&Config::new(2, 4, 64, 257, 128), 7, true)
        .save(&dir)
        .expect("save");
    std::fs::write(dir.join("tokenizer.json"), bytes_tokenizer_json()).expect("tokenizer");
    let gpt = Gpt::open(&dir).expect("open");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tok");
    for (name, md) in render_zh(&gpt, &tok, &dir) {
        assert!(!md.contains("{{"), "{name}");
    }
}

#[test]
fn the_built_in_chinese_lessons_are_the_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons/zh");
    let mut files = 0;
    for e in std::fs::read_dir(&root).expect("lessons/zh") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "md") {
            files += 1;
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("read");
            let built = lesson::builtin(Lang::Zh).iter().find(|(n, _)| *n == stem);
            assert_eq!(built.map(|(_, t)| *t), Some(text.as_str()), "{stem}");
        }
    }
    assert_eq!(files, lesson::builtin(Lang::Zh).len());
}

/// docs/glossary-zh.md's table: (term, words not to use instead).
fn glossary() -> Vec<(String, Vec<String>)> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/glossary-zh.md"))
            .expect("docs/glossary-zh.md");
    let a = doc.find("<!-- glossary:begin -->").expect("begin marker");
    let b = doc.find("<!-- glossary:end -->").expect("end marker");
    doc[a..b]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| 中文"))
        .map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            let avoid = cols[3].split(',').map(|w| w.trim().to_string()).collect();
            (cols[1].to_string(), avoid)
        })
        .collect()
}

#[test]
fn the_chinese_lessons_use_the_glossarys_terms() {
    let g = glossary();
    // The issue's list of terms is the glossary's.
    for term in [
        "词元",
        "词表",
        "嵌入",
        "位置编码",
        "查询",
        "键",
        "值",
        "自注意力",
        "多头注意力",
        "因果掩码",
        "层归一化",
        "残差流",
        "前馈网络",
        "交叉熵",
        "困惑度",
        "温度",
        "束搜索",
        "长度惩罚",
        "重复惩罚",
        "预训练",
        "微调",
        "量化",
        "剪枝",
        "蒸馏",
    ] {
        assert!(
            g.iter().any(|(t, _)| t == term),
            "the glossary has no {term}"
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons/zh");
    let mut bad = vec![];
    for (name, text) in lesson::builtin(Lang::Zh) {
        for (term, avoid) in &g {
            for w in avoid.iter().filter(|w| !w.is_empty()) {
                for (n, line) in text.lines().enumerate() {
                    if line.contains(w.as_str()) {
                        bad.push(format!(
                            "{}:{}: `{w}` — the glossary's word is `{term}`",
                            root.join(format!("{name}.md")).display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // and the words are used: 词元 for token, in every lesson that says token
    let attention = lesson::builtin(Lang::Zh)
        .iter()
        .find(|(n, _)| *n == "attention")
        .unwrap()
        .1;
    for w in ["词元", "查询", "自注意力", "因果掩码", "残差流"] {
        assert!(attention.contains(w), "the attention lesson never says {w}");
    }
}

/// Issue 18 point 4: the attention lesson names the two misprinted forms and
/// says why each is wrong; gpt-vs-transformer names MLM/NSP as BERT's and GPT
/// as decoder-only; logits and sampling say no RNN generates the text.
#[test]
fn the_chinese_lessons_correct_the_popular_misstatements() {
    let dir = gptlens::paths::default_model_dir();
    let gpt = Gpt::open(&dir).expect("open built-in model");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    // Whitespace removed: --print lays the lines out anew.
    let md: std::collections::HashMap<String, String> = render_zh(&gpt, &tok, &dir)
        .into_iter()
        .map(|(n, t)| (n, squash(&t)))
        .collect();
    let a = &md["attention"];
    assert!(a.contains("softmax(QKᵀ/√dₖ)·V"), "the right form");
    assert!(
        a.contains("softmax(QKᵀ/√dₖ)/V") && a.contains("除以V"),
        "dividing by V"
    );
    assert!(
        a.contains("‖K‖") && a.contains("常数"),
        "a K-dependent denominator"
    );
    // BERT's objectives and the encoder–decoder, where GPT is compared with the Transformer.
    let g = &md["gpt-vs-transformer"];
    assert!(
        g.contains("MLM") && g.contains("NSP") && g.contains("BERT的两个训练目标"),
        "{g}"
    );
    assert!(
        g.contains("只有解码器") && g.contains("编码器–解码器"),
        "{g}"
    );
    // No recurrent network generates the text: the same Transformer, once per token, a KV cache.
    for name in ["logits", "sampling"] {
        let t = &md[name];
        assert!(
            t.contains("没有任何RNN") || t.contains("没有循环神经网络"),
            "{name}"
        );
        assert!(t.contains("同一个") && t.contains("Transformer"), "{name}");
    }
    assert!(md["logits"].contains("KV缓存"));
    // The first lesson says once, plainly, that the prompts stay English.
    let first = chinese().into_iter().min_by_key(|l| l.order).unwrap();
    assert_eq!(first.name, "tokens");
    let said = md
        .values()
        .filter(|t| t.contains("提示（prompt）仍然是英文"))
        .count();
    assert_eq!(said, 1, "said once");
    assert!(md["tokens"].contains("只读得懂英文"));
}

/// `s` without whitespace.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn gptlens(args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gptlens"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .env_remove("GPTLENS_LESSONS");
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
fn lang_zh_lists_every_lesson_and_names_the_untranslated() {
    let (ok, out, err) = gptlens(&["lessons", "--lang", "zh"], &[]);
    assert!(ok, "{err}");
    let (_, en, _) = gptlens(&["lessons"], &[]);
    let names = |s: &str| -> Vec<String> {
        s.lines()
            .take_while(|l| !l.is_empty())
            .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        names(&out),
        names(&en),
        "the same lessons, in the same order"
    );
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap()
            .to_string()
    };
    assert!(line("attention").contains("查询、键、值"), "{out}");
    assert!(out.contains("用 `gptlens lesson 名称` 打开一课"), "{out}");
    let translated: BTreeSet<String> = chinese().into_iter().map(|l| l.name).collect();
    let missing: Vec<String> = names(&en)
        .into_iter()
        .filter(|n| !translated.contains(n))
        .collect();
    if missing.is_empty() {
        assert!(!out.contains("尚未翻译"), "{out}");
    } else {
        let note = out
            .lines()
            .find(|l| l.starts_with("尚未翻译"))
            .unwrap_or_else(|| panic!("{out}"));
        for n in &missing {
            assert!(
                note.contains(n.as_str()) && line(n).ends_with("（英文）"),
                "{n}: {out}"
            );
        }
    }
    // English is untouched by the Chinese files.
    assert!(!en.contains("查询") && en.contains("Open one with"), "{en}");
}

#[test]
fn the_locale_chooses_chinese_and_lang_en_overrides_it() {
    let zh_env = [("LANG", "zh_CN.UTF-8")];
    let (ok, zh, err) = gptlens(&["lesson", "attention", "--print"], &zh_env);
    assert!(ok, "{err}");
    assert!(
        zh.contains("# 注意力") && zh.contains("**先猜一猜：**"),
        "{zh}"
    );
    assert!(zh.contains("视图：attention"), "the caption is Chinese too");
    let (ok, en, _) = gptlens(&["--lang", "en", "lesson", "attention", "--print"], &zh_env);
    assert!(
        ok && en.contains("# Attention") && en.contains("**Predict:**"),
        "{en}"
    );
    let (ok, flag, _) = gptlens(&["lesson", "attention", "--print", "--lang", "zh"], &[]);
    assert!(ok);
    assert_eq!(flag, zh, "--lang zh after the command, same lesson");
    let (ok, c, _) = gptlens(
        &["lesson", "attention", "--print"],
        &[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")],
    );
    assert!(ok && c.contains("# Attention"), "LC_ALL wins over LANG");
    let (ok, _, err) = gptlens(&["lessons", "--lang", "fr"], &[]);
    assert!(!ok && err.contains("zh") && err.contains("en"), "{err}");
}

/// A lesson with no Chinese twin is shown in English, and the reader is told.
#[test]
fn a_lesson_without_a_translation_falls_back_to_english_and_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    std::fs::copy(root.join("attention.md"), tmp.path().join("attention.md")).unwrap();
    std::fs::copy(root.join("tokens.md"), tmp.path().join("tokens.md")).unwrap();
    std::fs::create_dir(tmp.path().join("zh")).unwrap();
    std::fs::copy(
        root.join("zh/attention.md"),
        tmp.path().join("zh/attention.md"),
    )
    .unwrap();
    let dir = tmp.path().to_str().unwrap();
    let env = [("GPTLENS_LESSONS", dir)];
    let (ok, out, err) = gptlens(&["lesson", "tokens", "--print", "--lang", "zh"], &env);
    assert!(ok, "{err}");
    assert!(err.contains("`tokens` 还没有中文版"), "{err}");
    assert!(
        out.contains("**Predict:**") || out.contains("## 1. "),
        "English: {out}"
    );
    let (ok, out, err) = gptlens(&["lesson", "attention", "--print", "--lang", "zh"], &env);
    assert!(
        ok && err.is_empty() && out.contains("# 注意力"),
        "{err}{out}"
    );
    let (ok, out, _) = gptlens(&["lessons", "--lang", "zh"], &env);
    assert!(
        ok && out.contains("尚未翻译、以英文显示的课程：tokens"),
        "{out}"
    );
}

/// Runs of two or more English words (of two letters or more) in `s`, once
/// the parts that are the model's text are taken out: quoted tokens
/// ('·Lily'), code spans, `prompt` and the English story the tokens lesson
/// measures.
fn english_runs(s: &str, prompt: &str) -> BTreeSet<String> {
    let mut t = s
        .replace(prompt, " ")
        .replace(gptlens::lesson::placeholders::STORY_EN, " ");
    for q in ['\'', '`'] {
        let mut out = String::new();
        for (i, piece) in t.split(q).enumerate() {
            if i % 2 == 0 {
                out.push_str(piece);
            }
            out.push(' ');
        }
        t = out;
    }
    let mut runs = BTreeSet::new();
    let mut run: Vec<String> = vec![];
    let mut word = String::new();
    let mut flush_run = |run: &mut Vec<String>| {
        if run.len() >= 2 {
            runs.insert(run.join(" "));
        }
        run.clear();
    };
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphabetic() {
            word.push(c);
            continue;
        }
        if word.len() >= 2 {
            run.push(std::mem::take(&mut word));
        } else {
            word.clear();
            flush_run(&mut run);
        }
        // Words of a phrase are joined by one space.
        if !(c == ' ' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic())) {
            flush_run(&mut run);
        }
    }
    if word.len() >= 2 {
        run.push(word);
    }
    flush_run(&mut run);
    runs
}

/// Issue 18: a placeholder that writes words (table headers, phrases,
/// units) writes them in the lesson's language. Every placeholder of every
/// Chinese lesson, at its step's selection, is evaluated in English and in
/// Chinese: no English phrase of the first is left in the second.
#[test]
fn filled_chinese_lessons_carry_no_english_phrase_from_a_placeholder() {
    use gptlens::lesson::placeholders::{eval, eval_in};
    let dir = gptlens::paths::default_model_dir();
    let gpt = Gpt::open(&dir).expect("open built-in model");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let mut with_words = BTreeSet::new();
    let mut bad: Vec<String> = vec![];
    for l in chinese() {
        let trace = render::trace_prompt(&l, &gpt, &tok).expect("trace");
        let env = Env::new(&gpt, &tok, &trace, &l.prompt, Some(&dir));
        for s in &l.scenes {
            let sel = render::scene_sel(&l, s, &env).expect("selection");
            let mut texts: Vec<&Text> = vec![];
            for b in &s.body {
                match b {
                    Block::Text(t) => texts.push(t),
                    Block::Predict(c) => {
                        texts.push(&c.question);
                        texts.push(&c.answer);
                        texts.extend(c.choices.iter().map(|(_, t)| t));
                        texts.extend(c.matches.iter());
                    }
                }
            }
            for p in texts.iter().flat_map(|t| t.placeholders()) {
                let en = eval(p, &env, &sel).unwrap_or_else(|e| panic!("{}: {e}", p.name));
                let zh = eval_in(p, &env, &sel, Lang::Zh).expect("zh");
                let en_runs = english_runs(&en, &l.prompt);
                if en_runs.is_empty() {
                    continue;
                }
                with_words.insert(p.name.clone());
                let left: Vec<&String> =
                    en_runs.iter().filter(|r| zh.contains(r.as_str())).collect();
                if !left.is_empty() {
                    bad.push(format!(
                        "{}: {{{{{}}}}} writes English in Chinese: {left:?}\nEnglish: {en}\nChinese: {zh}",
                        l.name, p.name
                    ));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
    // The check saw the placeholders that write words.
    for name in [
        "attn.heads",
        "loss.table",
        "lens",
        "lens.when",
        "sample.topk",
        "train.summary",
    ] {
        assert!(
            with_words.contains(name),
            "{name} not checked: {with_words:?}"
        );
    }
}

/// Issue 18: `export --lesson NAME --lang zh` draws the Chinese lesson's
/// step with the interface in Chinese, and the HTML handout
/// (`lesson NAME --print --format html --lang zh`) is a Chinese page: its
/// text, its captions and the screens in it.
#[test]
fn export_and_the_html_handout_speak_chinese_under_lang_zh() {
    let args = [
        "export",
        "--lesson",
        "attention",
        "--step",
        "2",
        "--size",
        "200x60",
        "--format",
        "txt",
    ];
    let (ok, en, err) = gptlens(&args, &[]);
    assert!(ok, "{err}");
    assert!(en.contains("step 2/6") && en.contains("? help"), "{en}");
    let zh_args: Vec<&str> = args.iter().copied().chain(["--lang", "zh"]).collect();
    let (ok, zh, err) = gptlens(&zh_args, &[]);
    assert!(ok, "{err}");
    for want in ["第 2/6 步", "? 帮助", "q 退出", "分数"] {
        assert!(zh.contains(want), "{want}:\n{zh}");
    }
    for unwanted in ["step 2/6", "? help", "q quit", "Predict"] {
        assert!(!zh.contains(unwanted), "{unwanted}:\n{zh}");
    }
    let (ok, page, err) = gptlens(
        &[
            "lesson",
            "attention",
            "--print",
            "--format",
            "html",
            "--lang",
            "zh",
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert!(page.contains("<html lang=\"zh-Hans\">"), "{page}");
    assert!(page.contains("第 1 步：这一步设置好的探索器画面"));
    assert!(page.contains("先猜一猜"));
    assert!(!page.contains("the explorer as this step sets it up"));
    let (ok, page_en, _) = gptlens(&["lesson", "attention", "--print", "--format", "html"], &[]);
    assert!(ok && page_en.contains("<html lang=\"en\">"));
    assert!(page_en.contains("Step 1: the explorer as this step sets it up"));
}
