//! The prompt as tokens, and the selected position and key; what the same
//! story costs in tokens in English and in Chinese.

use std::sync::OnceLock;

use super::{Cx, NONE, Spec, int, ph, table};
use crate::fmt::num;
use crate::i18n::Lang;
use crate::tokenizer::Tokenizer;

/// One short story, in English and in Chinese (the same content), whose
/// token counts the tokens and cost lessons compare.
pub const STORY_EN: &str = "Once upon a time, a little girl named Lily found a shiny key in the garden. She wanted to know what it could open, so she ran to ask her mother.";
pub const STORY_ZH: &str = "从前，一个名叫莉莉的小女孩在花园里找到了一把闪闪发亮的钥匙。她想知道这把钥匙能打开什么，就跑去问她的妈妈。";

/// A text's length three ways: characters, UTF-8 bytes, tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextCost {
    pub chars: usize,
    pub bytes: usize,
    pub tokens: usize,
}

impl TextCost {
    /// `text` as `tok` encodes it.
    pub fn of(tok: &Tokenizer, text: &str) -> Result<TextCost, String> {
        Ok(TextCost {
            chars: text.chars().count(),
            bytes: text.len(),
            tokens: tok.encode(text).map_err(|e| e.to_string())?.len(),
        })
    }

    pub fn per_char(&self) -> f64 {
        self.tokens as f64 / self.chars.max(1) as f64
    }

    pub fn per_byte(&self) -> f64 {
        self.tokens as f64 / self.bytes.max(1) as f64
    }
}

/// GPT-2's own tokenizer ([`crate::paths::gpt2_tokenizer`]), read once; Err:
/// the sentence a lesson shows instead (in English and Chinese).
fn gpt2() -> Result<&'static Tokenizer, (String, String)> {
    static GPT2: OnceLock<Result<Tokenizer, String>> = OnceLock::new();
    let r = GPT2.get_or_init(|| match crate::paths::gpt2_tokenizer() {
        Some(p) => Tokenizer::open(&p).map_err(|e| e.to_string()),
        None => Err(String::new()),
    });
    r.as_ref().map_err(|e| {
        let en = "GPT-2's tokenizer.json is not on this machine (set GPTLENS_GPT2_TOKENIZER to its path)";
        let zh = "这台机器上没有 GPT-2 的 tokenizer.json（把 GPTLENS_GPT2_TOKENIZER 设成它的路径即可）";
        if e.is_empty() {
            (format!("({en})"), format!("（{zh}）"))
        } else {
            (format!("({en}: {e})"), format!("（{zh}：{e}）"))
        }
    })
}

/// The story in English and in Chinese under `tok`.
fn both(tok: &Tokenizer) -> Result<(TextCost, TextCost), String> {
    Ok((TextCost::of(tok, STORY_EN)?, TextCost::of(tok, STORY_ZH)?))
}

/// How many times the Chinese story's tokens the English one's: the same
/// content's price in tokens.
fn zh_over_en(tok: &Tokenizer) -> Result<String, String> {
    let (en, zh) = both(tok)?;
    Ok(num(zh.tokens as f64 / en.tokens.max(1) as f64))
}

/// [`zh_over_en`] with GPT-2's tokenizer, or the sentence saying it is missing.
fn with_gpt2(c: &Cx, f: impl Fn(&Tokenizer) -> Result<String, String>) -> Result<String, String> {
    match gpt2() {
        Ok(t) => f(t),
        Err((en, zh)) => Ok(match c.lang {
            Lang::En => en,
            Lang::Zh => zh,
        }),
    }
}

/// The table of the story under this model's tokenizer and GPT-2's.
fn story_table(c: &Cx) -> Result<String, String> {
    let name = c.env.model_dir.and_then(|d| d.file_name()).map_or_else(
        || c.say("this model", "本模型").to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut rows = vec![];
    let mut row = |who: &str, lang: &str, t: TextCost| {
        rows.push(vec![
            who.to_string(),
            lang.to_string(),
            t.chars.to_string(),
            t.bytes.to_string(),
            t.tokens.to_string(),
            num(t.per_char()),
            num(t.per_byte()),
        ])
    };
    let (en_name, zh_name) = (c.say("English", "英文"), c.say("Chinese", "中文"));
    let (en, zh) = both(c.env.tokenizer)?;
    row(&name, en_name, en);
    row(&name, zh_name, zh);
    let note = match gpt2() {
        Ok(t) => {
            let (en, zh) = both(t)?;
            row("GPT-2", en_name, en);
            row("GPT-2", zh_name, zh);
            String::new()
        }
        Err((en, zh)) => format!("\n\n{}", if c.lang == Lang::Zh { zh } else { en }),
    };
    let t = table(
        &[
            c.say("tokenizer", "分词器"),
            c.say("text", "文本"),
            c.say("characters", "字符"),
            c.say("bytes (UTF-8)", "字节（UTF-8）"),
            c.say("tokens", "词元"),
            c.say("tokens per character", "每字符词元数"),
            c.say("tokens per byte", "每字节词元数"),
        ],
        rows,
    );
    Ok(t + &note)
}

pub(super) const SPECS: &[Spec] = &[
    ph("tokens", NONE, "the prompt's tokens with their ids", |c| {
        Ok(c.tr()
            .tokens
            .iter()
            .map(|&t| format!("{}#{t}", c.tok(t)))
            .collect::<Vec<_>>()
            .join(" "))
    }),
    ph(
        "tokens.story_en",
        NONE,
        "a short story in English, the same as tokens.story_zh",
        |_| Ok(STORY_EN.to_string()),
    ),
    ph("tokens.story_zh", NONE, "the same story in Chinese", |_| {
        Ok(STORY_ZH.to_string())
    }),
    ph(
        "tokens.story_table",
        NONE,
        "a table: the story in English and in Chinese, its characters, UTF-8 bytes and tokens, tokens per character and per byte, under this model's tokenizer and GPT-2's",
        story_table,
    ),
    ph(
        "tokens.zh_cost",
        NONE,
        "how many times the English story's tokens the Chinese one takes, with this model's tokenizer",
        |c| zh_over_en(c.env.tokenizer),
    ),
    ph(
        "tokens.zh_cost_gpt2",
        NONE,
        "the same with GPT-2's tokenizer (a sentence saying so when its tokenizer.json is not here)",
        |c| with_gpt2(c, zh_over_en),
    ),
    ph(
        "tokens.zh_per_char_gpt2",
        NONE,
        "GPT-2's tokens per Chinese character of the story",
        |c| with_gpt2(c, |t| Ok(num(TextCost::of(t, STORY_ZH)?.per_char()))),
    ),
    ph("tokens.count", NONE, "how many tokens the prompt is", |c| {
        Ok(c.tr().len().to_string())
    }),
    ph(
        "tokens.chars",
        NONE,
        "how many characters the prompt is",
        |c| Ok(c.env.prompt.chars().count().to_string()),
    ),
    ph(
        "tokens.words",
        NONE,
        "how many words the prompt is (runs of text between spaces)",
        |c| Ok(c.env.prompt.split_whitespace().count().to_string()),
    ),
    ph("token", NONE, "the token at the selected position", |c| {
        Ok(c.tok(c.tr().tokens[c.sel.pos]))
    }),
    ph("token.id", NONE, "its id in the vocabulary", |c| {
        Ok(c.tr().tokens[c.sel.pos].to_string())
    }),
    ph(
        "token.at",
        &[int("i", 0.0, 0.0, 1e6)],
        "the token at position i (counting from 0)",
        |c| {
            let (tr, n) = (c.tr(), c.n());
            match tr.tokens.get(n) {
                Some(&t) => Ok(c.tok(t)),
                None => Err(format!(
                    "position {n} is past the prompt's {} tokens",
                    tr.len()
                )),
            }
        },
    )
    .unless("when position i is past the prompt"),
    ph(
        "token.back",
        &[int("i", 1.0, 0.0, 1e6)],
        "the token i positions before the selected one",
        |c| {
            let (p, n) = (c.sel.pos, c.n());
            match p.checked_sub(n) {
                Some(i) => Ok(c.tok(c.tr().tokens[i])),
                None => Err(format!(
                    "{n} positions before position {p} is before the start"
                )),
            }
        },
    )
    .unless("when i positions back is before the start"),
    ph(
        "position",
        NONE,
        "the selected position (counting from 0)",
        |c| Ok(c.sel.pos.to_string()),
    ),
    ph(
        "key.token",
        NONE,
        "the token at the selected attention key",
        |c| Ok(c.tok(c.tr().tokens[c.sel.key])),
    ),
    ph("key.position", NONE, "the selected key's position", |c| {
        Ok(c.sel.key.to_string())
    }),
];
