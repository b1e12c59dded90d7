//! Issue 18 point 7: what the same story costs in tokens in English and in
//! Chinese, with GPT-2's real tokenizer (../shared/data/gpt2-tokenizer, never
//! copied into the repository) and the built-in model's. The tokens and cost
//! lessons print these counts live; here they are recomputed from the
//! tokenizers directly and compared with what the lessons print.

use std::path::PathBuf;
use std::process::Command;

use gptlens::lesson::placeholders::{STORY_EN, STORY_ZH, TextCost};
use gptlens::tokenizer::Tokenizer;

fn gpt2_path() -> PathBuf {
    gptlens::paths::gpt2_tokenizer()
        .expect("GPT-2's tokenizer.json in ../shared/data/gpt2-tokenizer/ beside the clone")
}

fn gpt2() -> Tokenizer {
    Tokenizer::open(&gpt2_path()).expect("GPT-2's tokenizer")
}

fn built_in() -> Tokenizer {
    let dir = gptlens::paths::default_model_dir();
    Tokenizer::open(&dir.join("tokenizer.json")).expect("the built-in tokenizer")
}

fn lesson(name: &str, lang: &str, envs: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gptlens"));
    cmd.args(["lesson", name, "--print", "--raw", "--lang", lang])
        .env("NO_COLOR", "1")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C")
        .env_remove("GPTLENS_LESSONS")
        .env_remove("GPTLENS_GPT2_TOKENIZER");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run gptlens");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The two stories say the same thing; the Chinese one is shorter in
/// characters and longer in bytes, and costs GPT-2 far more tokens per
/// character: a CJK character is three UTF-8 bytes and an English-trained
/// byte-level BPE has few merges for them.
#[test]
fn a_chinese_story_costs_gpt2_more_tokens_than_the_same_story_in_english() {
    let t = gpt2();
    let en = TextCost::of(&t, STORY_EN).expect("en");
    let zh = TextCost::of(&t, STORY_ZH).expect("zh");
    // Independent of TextCost: the tokenizer's own encoding.
    assert_eq!(en.tokens, t.encode(STORY_EN).unwrap().len());
    assert_eq!(zh.tokens, t.encode(STORY_ZH).unwrap().len());
    assert_eq!(
        zh.bytes,
        3 * zh.chars - STORY_ZH.chars().filter(|c| c.is_ascii()).count() * 2
    );
    assert!(zh.chars < en.chars && zh.bytes > en.chars, "{en:?} {zh:?}");
    assert!(zh.tokens > en.tokens, "{en:?} {zh:?}");
    assert!(
        zh.per_char() > 4.0 * en.per_char(),
        "per character: en {} zh {}",
        en.per_char(),
        zh.per_char()
    );
    // Between one and three tokens per character (three bytes, each at most one token).
    assert!(
        zh.per_char() > 1.0 && zh.per_char() <= 3.0,
        "{}",
        zh.per_char()
    );
    println!(
        "GPT-2: en {} chars {} tokens ({:.3}/char), zh {} chars {} tokens ({:.3}/char), ratio {:.2}",
        en.chars,
        en.tokens,
        en.per_char(),
        zh.chars,
        zh.tokens,
        zh.per_char(),
        zh.tokens as f64 / en.tokens as f64
    );
    let b = built_in();
    let (ben, bzh) = (
        TextCost::of(&b, STORY_EN).unwrap(),
        TextCost::of(&b, STORY_ZH).unwrap(),
    );
    assert!(bzh.per_char() > 4.0 * ben.per_char(), "{ben:?} {bzh:?}");
    println!(
        "built-in: en {} tokens, zh {} tokens, ratio {:.2}",
        ben.tokens,
        bzh.tokens,
        bzh.tokens as f64 / ben.tokens as f64
    );
}

/// The tokens lesson, in both languages, prints the counts the tokenizers
/// give (recomputed here) and the ratio; the cost lesson carries the ratio.
#[test]
fn the_tokens_and_cost_lessons_print_the_counts_the_tokenizers_give() {
    let (g, b) = (gpt2(), built_in());
    let count = |t: &Tokenizer, s: &str| TextCost::of(t, s).expect("count");
    let ratio = |t: &Tokenizer| {
        let (en, zh) = (count(t, STORY_EN), count(t, STORY_ZH));
        gptlens::fmt::num(zh.tokens as f64 / en.tokens as f64)
    };
    for lang in ["en", "zh"] {
        let md = lesson("tokens", lang, &[]);
        // (`--print` lays Chinese prose out at 80 columns: compare without line breaks.)
        let flat = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace() && *c != '>')
                .collect()
        };
        assert!(
            flat(&md).contains(&flat(STORY_EN)) && flat(&md).contains(&flat(STORY_ZH)),
            "{lang}: {md}"
        );
        let row = |who: &str, text: &str, c: TextCost| {
            format!(
                "| {who} | {text} | {} | {} | {} | {} | {} |",
                c.chars,
                c.bytes,
                c.tokens,
                gptlens::fmt::num(c.per_char()),
                gptlens::fmt::num(c.per_byte())
            )
        };
        let (en_name, zh_name) = if lang == "zh" {
            ("英文", "中文")
        } else {
            ("English", "Chinese")
        };
        for want in [
            row("GPT-2", en_name, count(&g, STORY_EN)),
            row("GPT-2", zh_name, count(&g, STORY_ZH)),
            row("tinystories", en_name, count(&b, STORY_EN)),
            row("tinystories", zh_name, count(&b, STORY_ZH)),
        ] {
            assert!(md.contains(&want), "{lang}: {want}\n{md}");
        }
        assert!(md.contains(&ratio(&g)) && md.contains(&ratio(&b)), "{md}");
        let cost = lesson("cost", lang, &[]);
        assert!(cost.contains(&ratio(&g)), "{lang} cost: {cost}");
    }
}

/// Without GPT-2's tokenizer the lessons still open and say what is missing.
#[test]
fn without_gpt2s_tokenizer_the_lessons_say_so() {
    let env = [("GPTLENS_GPT2_TOKENIZER", "/nonexistent/tokenizer.json")];
    let en = lesson("tokens", "en", &env);
    assert!(
        en.contains("GPT-2's tokenizer.json is not on this machine"),
        "{en}"
    );
    assert!(!en.contains("| GPT-2 |"), "{en}");
    let zh = lesson("tokens", "zh", &env);
    assert!(
        zh.contains("这台机器上没有 GPT-2 的 tokenizer.json"),
        "{zh}"
    );
}
