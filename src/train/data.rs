//! The training text: reading and checking a corpus, splitting it into stories
//! at `<|endoftext|>`, tokenizing it into one id stream and cutting batches.

use std::path::Path;

use rayon::prelude::*;

use super::TrainError;
use crate::rng::Rng;
use crate::tokenizer::{END_OF_TEXT, Tokenizer};

/// Reads a corpus, refusing a missing, empty or non-UTF-8 file with a message
/// that says how to fix it.
pub fn read_corpus(path: &Path) -> Result<String, TrainError> {
    if !path.is_file() {
        return Err(TrainError::Input(format!(
            "corpus {} does not exist (or is not a file); give a UTF-8 text file, e.g. /work/shared/corpus/tinystories_train.txt",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| TrainError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        TrainError::Input(format!(
            "corpus {} is not UTF-8 text (bad byte at offset {at}); convert it, e.g. `iconv -f latin1 -t utf-8`",
            path.display()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(TrainError::Input(format!(
            "corpus {} is empty; give a text file with some stories in it",
            path.display()
        )));
    }
    Ok(text)
}

/// The documents of a corpus: the text between `<|endoftext|>` separators,
/// without the newlines around them. A corpus without separators is one document.
pub fn split_documents(text: &str) -> Vec<&str> {
    text.split(END_OF_TEXT)
        .map(|d| d.trim_matches('\n'))
        .filter(|d| !d.trim().is_empty())
        .collect()
}

/// Tokenizes every document and joins them into one stream, each followed by
/// the end-of-text token.
pub fn encode_documents(tok: &Tokenizer, docs: &[&str]) -> Result<Vec<u32>, TrainError> {
    let eot = tok.end_of_text().ok_or_else(|| {
        TrainError::Input(format!(
            "the tokenizer has no {END_OF_TEXT} token; train a new one (leave out --resume)"
        ))
    })?;
    let parts: Result<Vec<Vec<u32>>, _> = docs.par_iter().map(|d| tok.encode(d)).collect();
    let mut stream = Vec::new();
    for p in parts? {
        stream.extend_from_slice(&p);
        stream.push(eot);
    }
    Ok(stream)
}

/// Fills `inputs` and `targets` (`[B·T]` each) with B windows of the stream at
/// random offsets; the targets are the inputs shifted by one.
pub fn random_batch(
    stream: &[u32],
    t: usize,
    rng: &mut Rng,
    inputs: &mut [u32],
    targets: &mut [u32],
) {
    let max_start = stream.len() - t - 1;
    for (inp, tg) in inputs.chunks_exact_mut(t).zip(targets.chunks_exact_mut(t)) {
        let s = rng.below(max_start + 1);
        inp.copy_from_slice(&stream[s..s + t]);
        tg.copy_from_slice(&stream[s + 1..s + t + 1]);
    }
}

/// Batch `k` of the consecutive, non-overlapping windows that cover the stream
/// (used for validation, so every token is predicted exactly once).
pub fn sequential_batch(
    stream: &[u32],
    t: usize,
    k: usize,
    inputs: &mut [u32],
    targets: &mut [u32],
) {
    let b = inputs.len() / t;
    for (j, (inp, tg)) in inputs
        .chunks_exact_mut(t)
        .zip(targets.chunks_exact_mut(t))
        .enumerate()
    {
        let s = (k * b + j) * t;
        inp.copy_from_slice(&stream[s..s + t]);
        tg.copy_from_slice(&stream[s + 1..s + t + 1]);
    }
}

/// How many full sequential batches of B windows of T the stream holds.
pub fn sequential_batches(stream_len: usize, b: usize, t: usize) -> usize {
    if stream_len < 2 {
        return 0;
    }
    (stream_len - 1) / t / b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_split_at_the_separator_line() {
        let text = "One.\nTwo.\n<|endoftext|>\nThree.\n<|endoftext|>\n";
        assert_eq!(split_documents(text), vec!["One.\nTwo.", "Three."]);
        assert_eq!(split_documents("no separator"), vec!["no separator"]);
    }

    #[test]
    fn batches_are_windows_with_targets_shifted_by_one() {
        let stream: Vec<u32> = (0..100).collect();
        let (mut i, mut t) = (vec![0; 8], vec![0; 8]);
        random_batch(&stream, 4, &mut Rng::new(1), &mut i, &mut t);
        for k in 0..8 {
            assert_eq!(t[k], i[k] + 1);
        }
        sequential_batch(&stream, 4, 1, &mut i, &mut t);
        assert_eq!(i, vec![8, 9, 10, 11, 12, 13, 14, 15]);
        assert_eq!(t[7], 16);
        assert_eq!(sequential_batches(100, 2, 4), 12);
    }
}
