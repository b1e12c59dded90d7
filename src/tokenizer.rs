//! Text ↔ token ids, through a Hugging Face `tokenizer.json` (byte-level BPE).

use std::path::Path;

use crate::model::{Config, LoadWarning, ModelError};

/// The end-of-text marker GPT-2 uses between documents.
pub const END_OF_TEXT: &str = "<|endoftext|>";

#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    /// BPE merge ranks, pieces spelt as the vocabulary spells them (GPT-2's
    /// byte-to-char map): read once from tokenizer.json, for showing merging
    /// step by step (the `tokenizers` crate keeps its own private).
    merges: std::sync::Arc<std::collections::HashMap<(String, String), u32>>,
}

impl Tokenizer {
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        // GPT-2's is 1.4 MB; the largest byte-level BPE files on the hub are
        // tens of MB. Refuse to read anything absurd whole.
        const MAX_BYTES: u64 = 256 << 20;
        let dir = path.parent().unwrap_or(Path::new("."));
        let path = match crate::paths::model_file(dir, "tokenizer.json") {
            // Many GPT-2 fine-tunes carry the slow tokenizer's two files instead.
            Err(ModelError::MissingFile { .. })
                if dir.join("vocab.json").exists() && dir.join("merges.txt").exists() =>
            {
                return Self::from_vocab_merges(dir);
            }
            other => other?,
        };
        let io = |err| ModelError::Io {
            path: path.clone(),
            err,
        };
        let text = match crate::embedded::file(&path) {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => {
                let len = std::fs::metadata(&path).map_err(io)?.len();
                if len > MAX_BYTES {
                    return Err(ModelError::Tokenizer(format!(
                        "{} is {len} bytes; a tokenizer.json is at most a few tens of MB (gptlens reads up to {MAX_BYTES})",
                        path.display()
                    )));
                }
                std::fs::read_to_string(&path).map_err(io)?
            }
        };
        Self::parse(&text).map_err(|e| {
            ModelError::Tokenizer(format!(
                "{} is not a Hugging Face tokenizer.json ({e})",
                path.display()
            ))
        })
    }

    /// GPT-2's byte-level BPE from `vocab.json` (token → id) and `merges.txt`
    /// (one merge "a b" per line, after a `#version` line), with GPT-2's
    /// pre-tokenizer and decoder: the tokenizer.json transformers would write
    /// for them, built here and read like any other.
    pub fn from_vocab_merges(dir: &Path) -> Result<Self, ModelError> {
        const MAX_BYTES: u64 = 256 << 20;
        let read = |file: &'static str| -> Result<String, ModelError> {
            let path = crate::paths::model_file(dir, file)?;
            let io = |err| ModelError::Io {
                path: path.clone(),
                err,
            };
            let len = std::fs::metadata(&path).map_err(io)?.len();
            if len > MAX_BYTES {
                return Err(ModelError::Tokenizer(format!(
                    "{} is {len} bytes; gptlens reads up to {MAX_BYTES}",
                    path.display()
                )));
            }
            std::fs::read_to_string(&path).map_err(io)
        };
        let bad = |file: &str, why: String| {
            ModelError::Tokenizer(format!("{}: {why}", dir.join(file).display()))
        };
        let vocab: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&read("vocab.json")?).map_err(|e| {
                bad(
                    "vocab.json",
                    format!("not a JSON object of token → id ({e})"),
                )
            })?;
        if let Some((t, _)) = vocab.iter().find(|(_, id)| !id.is_u64()) {
            return Err(bad(
                "vocab.json",
                format!("the id of {t:?} is not a whole number"),
            ));
        }
        let mut merges = vec![];
        for (i, line) in read("merges.txt")?.lines().enumerate() {
            if line.starts_with("#version") || line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() => {
                    merges.push(serde_json::json!([a, b]))
                }
                _ => {
                    return Err(bad(
                        "merges.txt",
                        format!(
                            "line {} is not two tokens separated by one space: {line:?}",
                            i + 1
                        ),
                    ));
                }
            }
        }
        let byte_level = serde_json::json!({
            "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true
        });
        let added: Vec<serde_json::Value> = vocab
            .get(END_OF_TEXT)
            .map(|id| {
                serde_json::json!({"id": id, "content": END_OF_TEXT, "single_word": false,
                    "lstrip": false, "rstrip": false, "normalized": false, "special": true})
            })
            .into_iter()
            .collect();
        let json = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null,
            "added_tokens": added, "normalizer": null,
            "pre_tokenizer": byte_level, "post_processor": null, "decoder": byte_level,
            "model": {"type": "BPE", "dropout": null, "unk_token": null,
                "continuing_subword_prefix": null, "end_of_word_suffix": null,
                "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": merges},
        });
        Self::parse(&json.to_string()).map_err(|e| {
            ModelError::Tokenizer(format!(
                "vocab.json and merges.txt in {} do not make a byte-level BPE ({e})",
                dir.display()
            ))
        })
    }

    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        Self::parse(json).map_err(ModelError::Tokenizer)
    }

    fn parse(json: &str) -> Result<Self, String> {
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        check_structure(&v)?;
        let inner = json
            .parse::<tokenizers::Tokenizer>()
            .map_err(|e| e.to_string())?;
        let mut t = Self::whole_text(inner).map_err(|e| match e {
            ModelError::Tokenizer(m) => m,
            other => other.to_string(),
        })?;
        t.merges = std::sync::Arc::new(merge_ranks(&v["model"]["merges"]));
        Ok(t)
    }

    /// Switches off the truncation and padding a tokenizer.json may carry (the
    /// hub's GPT-2 file truncates to 50 tokens), so encode never drops text;
    /// the context limit is applied by the caller, visibly. Refuses anything
    /// but byte-level BPE, whose tokens are runs of bytes: the token strip,
    /// the byte counts and decoding token by token all rely on that.
    fn whole_text(mut inner: tokenizers::Tokenizer) -> Result<Self, ModelError> {
        use tokenizers::{DecoderWrapper, ModelWrapper};
        let model = match inner.get_model() {
            ModelWrapper::BPE(_) => None,
            ModelWrapper::WordPiece(_) => Some("a WordPiece"),
            ModelWrapper::WordLevel(_) => Some("a WordLevel"),
            ModelWrapper::Unigram(_) => Some("a Unigram (SentencePiece)"),
        };
        fn byte_level(d: &DecoderWrapper) -> bool {
            match d {
                DecoderWrapper::ByteLevel(_) => true,
                DecoderWrapper::Sequence(s) => s.get_decoders().iter().any(byte_level),
                _ => false,
            }
        }
        let what = model.or(match inner.get_decoder() {
            Some(d) if byte_level(d) => None,
            _ => Some("a BPE tokenizer without GPT-2's byte-level decoder"),
        });
        if let Some(what) = what {
            return Err(ModelError::Tokenizer(format!(
                "tokenizer.json is {what} tokenizer; gptlens needs a byte-level BPE tokenizer (GPT-2's kind, \"model\": {{\"type\": \"BPE\"}} with a \"ByteLevel\" decoder), because it shows each token as a run of bytes"
            )));
        }
        inner
            .with_truncation(None)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        inner.with_padding(None);
        Ok(Tokenizer {
            inner,
            merges: Default::default(),
        })
    }

    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// Size of the vocabulary, special tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The tokenizer may not produce ids the model has no embedding for.
    /// (A model vocabulary larger than the tokenizer's is fine: padding.)
    pub fn check_matches(&self, cfg: &Config) -> Result<(), ModelError> {
        let max_id = self
            .inner
            .get_vocab(true)
            .values()
            .copied()
            .max()
            .unwrap_or(0) as usize;
        if max_id >= cfg.vocab_size {
            return Err(ModelError::Tokenizer(format!(
                "tokenizer.json has ids up to {max_id} but config.json's vocab_size is {}; the tokenizer belongs to another model",
                cfg.vocab_size
            )));
        }
        Ok(())
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| ModelError::Tokenizer(format!("cannot tokenize the text: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Warns when the tokenizer names far fewer ids than the model has
    /// (under 90%): the rest can still be generated but have no text.
    pub fn coverage_warning(&self, cfg: &Config) -> Option<LoadWarning> {
        let tokens = self
            .inner
            .get_vocab(true)
            .values()
            .filter(|&&id| (id as usize) < cfg.vocab_size)
            .count();
        (tokens * 10 < cfg.vocab_size * 9).then_some(LoadWarning::TokenizerCoverage {
            tokens,
            vocab: cfg.vocab_size,
        })
    }

    /// The text of `ids`. This is the one place ids become text: an id the
    /// tokenizer has no token for shows as `<id 1234>` (the model may pick
    /// one when its vocabulary is larger than the tokenizer's).
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut out = String::new();
        let mut run = 0; // ids[run..i] all have tokens and are decoded together
        for (i, &id) in ids.iter().enumerate() {
            if self.inner.id_to_token(id).is_none() {
                out += &self.decode_known(&ids[run..i]);
                out += &format!("<id {id}>");
                run = i + 1;
            }
        }
        out + &self.decode_known(&ids[run..])
    }

    fn decode_known(&self, ids: &[u32]) -> String {
        if ids.is_empty() {
            return String::new();
        }
        self.inner.decode(ids, false).unwrap_or_default()
    }

    /// The text of one token (a lone byte of a multi-byte character shows as
    /// �, an id without a token as `<id 1234>`).
    pub fn token_text(&self, id: u32) -> String {
        self.decode(&[id])
    }

    /// The bytes a token stands for: its vocabulary entry read back through
    /// GPT-2's byte-to-char map (a special token: its text's UTF-8). None for
    /// an id the tokenizer has no token for.
    pub fn token_bytes(&self, id: u32) -> Option<Vec<u8>> {
        let piece = self.inner.id_to_token(id)?;
        Some(piece_bytes(&piece).unwrap_or_else(|| piece.into_bytes()))
    }

    /// A token as a person should see it: its text, with each byte that is
    /// not part of a whole UTF-8 character (a piece of a Chinese character,
    /// say) written `<e4>`, so that no token reads as a bare `�`.
    pub fn token_display(&self, id: u32) -> String {
        match self.token_bytes(id) {
            Some(b) => bytes_display(&b),
            None => self.token_text(id),
        }
    }

    /// The rank of the merge of two adjacent pieces (lower merges first),
    /// pieces given as bytes; None when the tokenizer never merges them.
    pub fn merge_rank(&self, left: &[u8], right: &[u8]) -> Option<u32> {
        self.merges
            .get(&(bytes_piece(left), bytes_piece(right)))
            .copied()
    }

    /// How many merges the tokenizer has.
    pub fn merge_count(&self) -> usize {
        self.merges.len()
    }

    pub fn end_of_text(&self) -> Option<u32> {
        self.inner.token_to_id(END_OF_TEXT)
    }
}

/// Checks the shape of the pipeline parts before the `tokenizers` crate sees
/// them: it panics (instead of returning an error) on some malformed ones,
/// e.g. a decoder that is not an object, or a broken `Precompiled` normalizer.
/// Each part must be null or an object with a string "type"; a "Sequence"
/// holds an array of such parts.
fn check_structure(v: &serde_json::Value) -> Result<(), String> {
    fn part(v: &serde_json::Value, what: &str, list: &str, depth: usize) -> Result<(), String> {
        if v.is_null() {
            return Ok(());
        }
        let ty = v
            .get("type")
            .and_then(|t| t.as_str())
            .ok_or_else(|| format!("{what} is not an object with a \"type\""))?;
        if ty == "Precompiled" {
            return Err(format!(
                "{what} is a SentencePiece \"Precompiled\" normalizer; gptlens reads byte-level BPE tokenizers (GPT-2's kind)"
            ));
        }
        if ty == "Sequence" {
            let items = v
                .get(list)
                .and_then(|l| l.as_array())
                .ok_or_else(|| format!("{what} is a Sequence without a \"{list}\" list"))?;
            if depth > 8 {
                return Err(format!("{what} nests Sequences more than 8 deep"));
            }
            for item in items {
                part(item, what, list, depth + 1)?;
            }
        }
        Ok(())
    }
    if !v.is_object() {
        return Err("the file is not a JSON object".into());
    }
    for (key, list) in [
        ("normalizer", "normalizers"),
        ("pre_tokenizer", "pretokenizers"),
        ("post_processor", "processors"),
        ("decoder", "decoders"),
    ] {
        part(v.get(key).unwrap_or(&serde_json::Value::Null), key, list, 0)?;
    }
    match v.get("model") {
        Some(m) if m.get("type").is_none_or(|t| t.is_string()) && m.is_object() => Ok(()),
        _ => Err("\"model\" is missing or not an object".into()),
    }
}

/// The merges of a tokenizer.json's BPE model, in either spelling ("a b" or
/// ["a", "b"]), as (left, right) → rank. Anything else is skipped: merges are
/// only shown, the `tokenizers` crate does the encoding.
fn merge_ranks(v: &serde_json::Value) -> std::collections::HashMap<(String, String), u32> {
    let mut out = std::collections::HashMap::new();
    for (rank, m) in v.as_array().into_iter().flatten().enumerate() {
        let pair = match m {
            serde_json::Value::String(s) => s
                .split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string())),
            serde_json::Value::Array(a) => match a.as_slice() {
                [serde_json::Value::String(l), serde_json::Value::String(r)] => {
                    Some((l.clone(), r.clone()))
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(p) = pair {
            out.entry(p).or_insert(rank as u32);
        }
    }
    out
}

/// Bytes shown as text: whole UTF-8 characters as themselves, every other
/// byte as `<xx>`.
pub fn bytes_display(mut b: &[u8]) -> String {
    let mut out = String::new();
    while !b.is_empty() {
        match std::str::from_utf8(b) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let ok = e.valid_up_to();
                out.push_str(std::str::from_utf8(&b[..ok]).unwrap_or_default());
                let bad = e.error_len().unwrap_or(b.len() - ok).max(1);
                for x in &b[ok..ok + bad] {
                    out.push_str(&format!("<{x:02x}>"));
                }
                b = &b[ok + bad..];
            }
        }
    }
    out
}

/// The bytes behind a token's display: `<xx>` is byte xx, anything else its
/// UTF-8 (the inverse of [`bytes_display`]; a token whose own text is
/// literally `<e4>` reads as the byte, which the display cannot tell apart).
pub fn display_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<'
            && i + 3 < b.len()
            && b[i + 3] == b'>'
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
            && let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(x);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// A vocabulary piece read back to bytes (None if a char is not in the map).
fn piece_bytes(piece: &str) -> Option<Vec<u8>> {
    let back = char_to_byte();
    piece.chars().map(|c| back.get(&c).copied()).collect()
}

/// Bytes spelt as the vocabulary spells them.
fn bytes_piece(b: &[u8]) -> String {
    let fwd = byte_chars();
    b.iter().map(|&x| fwd[x as usize]).collect()
}

fn byte_chars() -> &'static [char] {
    static MAP: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    MAP.get_or_init(byte_to_char)
}

fn char_to_byte() -> &'static std::collections::HashMap<char, u8> {
    static MAP: std::sync::OnceLock<std::collections::HashMap<char, u8>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        byte_chars()
            .iter()
            .enumerate()
            .map(|(b, &c)| (c, b as u8))
            .collect()
    })
}

/// GPT-2's reversible map from bytes to printable characters, which byte-level
/// BPE vocabularies are written in.
pub fn byte_to_char() -> Vec<char> {
    let mut printable: Vec<u32> = ('!' as u32..='~' as u32).collect();
    printable.extend('¡' as u32..='¬' as u32);
    printable.extend('®' as u32..='ÿ' as u32);
    let mut extra = 0;
    (0u32..256)
        .map(|b| {
            if printable.contains(&b) {
                char::from_u32(b).expect("valid")
            } else {
                extra += 1;
                char::from_u32(255 + extra).expect("valid")
            }
        })
        .collect()
}

/// The JSON of a byte-level tokenizer with the 256 bytes and `<|endoftext|>`
/// (id 256) and no merges: what a freshly initialised model gets.
pub fn bytes_tokenizer_json() -> String {
    let mut vocab = serde_json::Map::new();
    for (b, ch) in byte_to_char().into_iter().enumerate() {
        vocab.insert(ch.to_string(), b.into());
    }
    vocab.insert(END_OF_TEXT.into(), 256.into());
    let bl = serde_json::json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true});
    serde_json::to_string_pretty(&serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [{"id": 256, "content": END_OF_TEXT, "single_word": false, "lstrip": false,
                          "rstrip": false, "normalized": true, "special": true}],
        "normalizer": null,
        "pre_tokenizer": bl,
        "post_processor": bl,
        "decoder": bl,
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false,
                  "vocab": vocab, "merges": []}
    }))
    .expect("json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_tokenizer_round_trips_and_uses_one_id_per_byte() {
        let t = Tokenizer::from_json(&bytes_tokenizer_json()).expect("loads");
        let s = "héllo\n\t<|endoftext|> ✓";
        let ids = t.encode(s).unwrap();
        assert_eq!(t.decode(&ids), s);
        assert!(ids.contains(&256));
        assert_eq!(t.encode("ab").unwrap(), vec![b'a' as u32, b'b' as u32]);
        assert_eq!(t.vocab_size(), 257);
    }

    #[test]
    fn partial_characters_show_their_real_bytes() {
        let t = Tokenizer::from_json(&bytes_tokenizer_json()).expect("loads");
        // 猫 is e7 8c ab: each byte alone is a token of this tokenizer.
        let ids = t.encode("猫").unwrap();
        assert_eq!(ids, vec![0xe7, 0x8c, 0xab]);
        assert_eq!(t.token_bytes(0xe7), Some(vec![0xe7]));
        assert_eq!(t.token_display(0xe7), "<e7>");
        assert_eq!(t.token_text(0xe7), "\u{fffd}");
        assert_eq!(t.token_display(b'a' as u32), "a");
        assert_eq!(t.token_display(256), END_OF_TEXT);
        assert_eq!(t.token_display(300), "<id 300>");
        assert_eq!(bytes_display(b" \xe5\xb0"), " <e5><b0>");
        assert_eq!(bytes_display("猫".as_bytes()), "猫");
        assert_eq!(bytes_display(b"a\xffb"), "a<ff>b");
        assert_eq!(display_bytes(" <e5><b0>"), b" \xe5\xb0");
        assert_eq!(display_bytes("猫<x"), "猫<x".as_bytes());
        assert_eq!(display_bytes("<+f>"), b"<+f>");
    }

    #[test]
    fn ids_without_a_token_show_as_their_number() {
        let t = Tokenizer::from_json(&bytes_tokenizer_json()).expect("loads");
        assert_eq!(t.token_text(300), "<id 300>");
        assert_eq!(
            t.decode(&[b'h' as u32, b'i' as u32, 1234, b'!' as u32]),
            "hi<id 1234>!"
        );
        assert_eq!(t.decode(&[999, 998]), "<id 999><id 998>");
        assert_eq!(t.token_text(b'a' as u32), "a");
        // A multi-byte character split around an unknown id stays two halves.
        let e = "é".as_bytes();
        assert_eq!(t.decode(&[e[0] as u32, e[1] as u32]), "é");
    }

    #[test]
    fn coverage_warning_only_when_far_fewer_tokens_than_ids() {
        let t = Tokenizer::from_json(&bytes_tokenizer_json()).expect("loads");
        let cfg = |v| Config::new(1, 1, 4, v, 8);
        assert_eq!(t.coverage_warning(&cfg(257)), None);
        assert_eq!(t.coverage_warning(&cfg(280)), None); // padding
        let w = t.coverage_warning(&cfg(2048)).expect("257 of 2048");
        assert_eq!(
            w,
            LoadWarning::TokenizerCoverage {
                tokens: 257,
                vocab: 2048
            }
        );
        assert!(w.to_string().contains("1791 ids have no text"));
    }

    #[test]
    fn malformed_pipeline_parts_are_errors_not_panics() {
        let good: serde_json::Value = serde_json::from_str(&bytes_tokenizer_json()).unwrap();
        for (key, bad) in [
            ("decoder", serde_json::json!(1)),
            (
                "decoder",
                serde_json::json!({"type": "Sequence", "decoders": [3]}),
            ),
            (
                "normalizer",
                serde_json::json!({"type": "Precompiled", "precompiled_charsmap": "x"}),
            ),
            ("normalizer", serde_json::json!([])),
            ("model", serde_json::json!(null)),
        ] {
            let mut v = good.clone();
            v[key] = bad;
            let msg = Tokenizer::from_json(&v.to_string())
                .err()
                .expect("refused")
                .to_string();
            assert!(msg.contains(key), "{key}: {msg}");
        }
    }

    #[test]
    fn tokenizers_that_are_not_byte_level_bpe_are_refused() {
        let mut v: serde_json::Value = serde_json::from_str(&bytes_tokenizer_json()).unwrap();
        v["decoder"] = serde_json::json!({"type": "WordPiece", "prefix": "##", "cleanup": true});
        let msg = Tokenizer::from_json(&v.to_string())
            .err()
            .expect("refused")
            .to_string();
        assert!(msg.contains("byte-level BPE"), "{msg}");
        v["model"] = serde_json::json!({"type": "WordPiece", "unk_token": "[UNK]",
            "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
            "vocab": {"[UNK]": 0, "a": 1}});
        let msg = Tokenizer::from_json(&v.to_string())
            .err()
            .expect("refused")
            .to_string();
        assert!(
            msg.contains("WordPiece") && msg.contains("byte-level BPE"),
            "{msg}"
        );
    }
}
