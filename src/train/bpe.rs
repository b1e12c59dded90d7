//! Training a byte-level BPE tokenizer (GPT-2's pre-tokenizer, no prefix space,
//! `<|endoftext|>` as a special token) with the tokenizers crate.

use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, TokenizerBuilder};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::TrainError;
use crate::tokenizer::END_OF_TEXT;

/// [`train_bpe`] on the documents of `text` in a thread of its own, so that the
/// caller can give up when `stop` is set (the tokenizers crate cannot be
/// interrupted): returns [`TrainError::Interrupted`] within 0.1 s of it, leaving
/// the thread to finish unobserved.
pub fn train_bpe_until(
    text: Arc<String>,
    vocab_size: usize,
    stop: &AtomicBool,
) -> Result<String, TrainError> {
    let interrupted =
        || TrainError::Interrupted("while training the tokenizer, before the first step".into());
    if stop.load(Ordering::SeqCst) {
        return Err(interrupted());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("bpe".into())
        .spawn(move || {
            let docs = super::data::split_documents(&text);
            let _ = tx.send(train_bpe(&docs, vocab_size));
        })
        .map_err(|e| TrainError::Tokenizer(format!("cannot start a thread: {e}")))?;
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(r) => return r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if stop.load(Ordering::SeqCst) {
                    return Err(interrupted());
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(TrainError::Tokenizer(
                    "the tokenizer training stopped without a result".into(),
                ));
            }
        }
    }
}

/// Learns `vocab_size` tokens (the 256 bytes, `<|endoftext|>` and merges) from
/// the documents, and returns the tokenizer.json text.
pub fn train_bpe(docs: &[&str], vocab_size: usize) -> Result<String, TrainError> {
    if vocab_size < 257 {
        return Err(TrainError::Input(format!(
            "--vocab {vocab_size} is too small: a byte-level BPE needs the 256 bytes and {END_OF_TEXT} (257 at least)"
        )));
    }
    let err = |e: tokenizers::Error| TrainError::Tokenizer(e.to_string());
    let mut trainer = BpeTrainerBuilder::new()
        .vocab_size(vocab_size)
        .min_frequency(2)
        .show_progress(false)
        .special_tokens(vec![AddedToken::from(END_OF_TEXT, true)])
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build();
    let byte_level = ByteLevel::default().add_prefix_space(false);
    let mut tok = TokenizerBuilder::<
        BPE,
        NormalizerWrapper,
        ByteLevel,
        PostProcessorWrapper,
        DecoderWrapper,
    >::new()
    .with_model(BPE::default())
    .with_pre_tokenizer(Some(byte_level))
    .with_decoder(Some(DecoderWrapper::ByteLevel(byte_level)))
    .build()
    .map_err(err)?;
    tok.train(&mut trainer, docs.iter()).map_err(err)?;
    tok.to_string(true).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::Tokenizer;

    #[test]
    fn trained_tokenizer_round_trips_and_knows_end_of_text() {
        let docs = vec!["the cat sat on the mat. the cat ran."; 20];
        let json = train_bpe(&docs, 300).unwrap();
        let tok = Tokenizer::from_json(&json).unwrap();
        assert!(tok.vocab_size() <= 300 && tok.vocab_size() > 257);
        let text = "the cat sat. Ünïcode ✓";
        let ids = tok.encode(text).unwrap();
        assert_eq!(tok.decode(&ids), text);
        // Merges were learned: "the cat" takes fewer tokens than bytes.
        assert!(tok.encode("the cat").unwrap().len() < 7);
        let eot = tok.end_of_text().expect("special token");
        assert_eq!(tok.encode("a<|endoftext|>b").unwrap()[1], eot);
        let text = Arc::new(docs.join("\n<|endoftext|>\n"));
        let threaded = train_bpe_until(text.clone(), 300, &AtomicBool::new(false)).unwrap();
        let threaded = Tokenizer::from_json(&threaded).unwrap();
        assert_eq!(threaded.vocab_size(), tok.vocab_size());
        assert_eq!(
            threaded.encode(text.as_str()).unwrap(),
            tok.encode(&text).unwrap()
        );
        let stopped = train_bpe_until(text, 300, &AtomicBool::new(true));
        assert!(matches!(stopped, Err(TrainError::Interrupted(_))));
    }
}
