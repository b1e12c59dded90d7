//! Text ↔ token ids, through a Hugging Face `tokenizer.json` (byte-level BPE).

use std::path::Path;

use crate::model::{Config, ModelError};

/// The end-of-text marker GPT-2 uses between documents.
pub const END_OF_TEXT: &str = "<|endoftext|>";

pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
}

impl Tokenizer {
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        if !path.is_file() {
            return Err(ModelError::MissingFile {
                dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
                file: "tokenizer.json",
            });
        }
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| {
            ModelError::Tokenizer(format!(
                "{} is not a Hugging Face tokenizer.json ({e})",
                path.display()
            ))
        })?;
        Self::whole_text(inner)
    }

    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        let inner = json
            .parse::<tokenizers::Tokenizer>()
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        Self::whole_text(inner)
    }

    /// Switches off the truncation and padding a tokenizer.json may carry (the
    /// hub's GPT-2 file truncates to 50 tokens), so encode never drops text;
    /// the context limit is applied by the caller, visibly.
    fn whole_text(mut inner: tokenizers::Tokenizer) -> Result<Self, ModelError> {
        inner
            .with_truncation(None)
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        inner.with_padding(None);
        Ok(Tokenizer { inner })
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

    pub fn decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, false).unwrap_or_default()
    }

    /// The text of one token (a lone byte of a multi-byte character shows as �).
    pub fn token_text(&self, id: u32) -> String {
        self.decode(&[id])
    }

    pub fn end_of_text(&self) -> Option<u32> {
        self.inner.token_to_id(END_OF_TEXT)
    }
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
}
