//! The training text: reading and checking a corpus, splitting it into stories
//! at `<|endoftext|>`, tokenizing it into one id stream and cutting batches.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Text per piece a document is cut into for encoding, and text per parallel
/// round: between rounds the stop flag is checked and progress reported, so a
/// round must take well under a second.
const PIECE: usize = 64 * 1024;
const ROUND: usize = 512 * 1024;

/// Cuts a document into pieces of about `max` bytes that encode to the same ids
/// as the whole: only at the start of a line whose first character and the
/// character before its newline are both non-whitespace. There GPT-2's
/// pre-tokenizer always ends a word before the newline and makes the newline a
/// piece of its own, so no pre-token spans the cut. A document without such a
/// place stays whole.
pub fn split_pieces(doc: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = doc;
    while rest.len() > max {
        let b = rest.as_bytes();
        let cut = (max.max(2)..b.len()).find(|&i| {
            b[i - 1] == b'\n'
                && rest.is_char_boundary(i)
                && !rest[i..].starts_with(char::is_whitespace)
                && rest[..i - 1]
                    .chars()
                    .next_back()
                    .is_some_and(|c| !c.is_whitespace())
        });
        let Some(cut) = cut else { break };
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    pieces.push(rest);
    pieces
}

/// Tokenizes every document and joins them into one stream, each followed by
/// the end-of-text token. Encodes in parallel rounds of pieces
/// ([`split_pieces`]); between rounds it reports `progress(bytes done, bytes)`
/// and returns [`TrainError::Interrupted`] once `stop` is set.
pub fn encode_documents(
    tok: &Tokenizer,
    docs: &[&str],
    stop: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<u32>, TrainError> {
    encode_in_rounds(tok, docs, PIECE, ROUND, stop, progress)
}

fn encode_in_rounds(
    tok: &Tokenizer,
    docs: &[&str],
    piece: usize,
    round_bytes: usize,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<u32>, TrainError> {
    let eot = tok.end_of_text().ok_or_else(|| {
        TrainError::Input(format!(
            "the tokenizer has no {END_OF_TEXT} token; train a new one (leave out --resume)"
        ))
    })?;
    // (piece, whether it ends its document)
    let pieces: Vec<(&str, bool)> = docs
        .iter()
        .flat_map(|d| {
            let p = split_pieces(d, piece);
            let n = p.len();
            p.into_iter().enumerate().map(move |(i, s)| (s, i + 1 == n))
        })
        .collect();
    let total: usize = pieces.iter().map(|(s, _)| s.len()).sum();
    let mut stream = Vec::new();
    let mut done = 0;
    let mut rest = &pieces[..];
    while !rest.is_empty() {
        if stop.load(Ordering::SeqCst) {
            return Err(TrainError::Interrupted(
                "while tokenizing the corpus, before the first step".into(),
            ));
        }
        let mut bytes = 0;
        let n = rest
            .iter()
            .position(|(s, _)| {
                bytes += s.len();
                bytes >= round_bytes
            })
            .map_or(rest.len(), |i| i + 1);
        let (round, next) = rest.split_at(n);
        let ids: Result<Vec<Vec<u32>>, _> = round.par_iter().map(|(s, _)| tok.encode(s)).collect();
        for (p, (s, last)) in ids?.into_iter().zip(round) {
            stream.extend_from_slice(&p);
            if *last {
                stream.push(eot);
            }
            done += s.len();
        }
        progress(done, total);
        rest = next;
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

    /// Text with every kind of whitespace run, punctuation, digits and
    /// contractions next to newlines, where a careless cut would change the ids.
    fn tricky_text(lines: usize) -> String {
        let shapes = [
            "Tom's dog ran.",
            "  indented line",
            "trailing spaces   ",
            "",
            "12 cats, 3.5 kg!",
            "\ttab\tline",
            "Ünïcode ✓ “quotes”",
            "it'll be 'fine'",
            "--- ... ???",
            " leading space",
        ];
        let mut text = String::new();
        for i in 0..lines {
            text.push_str(&format!("{} {}", shapes[i % shapes.len()], i * 7));
            // Mostly single newlines (where cuts are possible), some blank lines.
            text.push_str(if i % 3 == 2 { "\n\n" } else { "\n" });
        }
        text
    }

    #[test]
    fn pieces_cover_the_document_and_encode_like_the_whole() {
        let docs = vec!["the cat sat on the mat. the dog's ball ran, 42 times.\n"; 30];
        let json = crate::train::bpe::train_bpe(&docs, 320).unwrap();
        let tok = Tokenizer::from_json(&json).unwrap();
        for lines in [1, 7, 40, 41, 300] {
            let doc = tricky_text(lines);
            for max in [1, 16, 50, 200, 1 << 20] {
                let pieces = split_pieces(&doc, max);
                assert_eq!(pieces.concat(), doc);
                let mut ids = Vec::new();
                for p in &pieces {
                    ids.extend(tok.encode(p).unwrap());
                }
                assert_eq!(ids, tok.encode(&doc).unwrap(), "{lines} lines, max {max}");
                if lines >= 40 && max <= 50 {
                    // Cuts happen (the text has safe places).
                    assert!(pieces.len() > 5, "{} pieces", pieces.len());
                }
            }
        }
    }

    /// The chunked, parallel stream equals encoding each document sequentially.
    #[test]
    fn parallel_encoding_equals_sequential_encoding() {
        let docs_text: Vec<String> = (0..40).map(|i| tricky_text(20 + i * 13)).collect();
        let docs: Vec<&str> = docs_text.iter().map(|s| s.as_str()).collect();
        let json = crate::train::bpe::train_bpe(&docs, 400).unwrap();
        let tok = Tokenizer::from_json(&json).unwrap();
        let eot = tok.end_of_text().unwrap();
        let mut sequential = Vec::new();
        for d in &docs {
            sequential.extend(tok.encode(d).unwrap());
            sequential.push(eot);
        }
        let total: usize = docs.iter().map(|d| d.len()).sum();
        for (piece, round) in [(PIECE, ROUND), (100, 1000), (1, 1)] {
            let mut reports = Vec::new();
            let no = AtomicBool::new(false);
            let stream = encode_in_rounds(&tok, &docs, piece, round, &no, &mut |d, t| {
                reports.push((d, t))
            })
            .unwrap();
            assert_eq!(stream, sequential, "pieces of {piece}, rounds of {round}");
            assert_eq!(reports.last(), Some(&(total, total)));
            if round == 1000 {
                assert!(reports.len() > 50, "{} rounds", reports.len());
            }
        }
        let stopped = encode_documents(&tok, &docs, &AtomicBool::new(true), &mut |_, _| {});
        assert!(matches!(stopped, Err(TrainError::Interrupted(_))));
    }
}
