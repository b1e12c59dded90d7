//! Byte-level BPE spelt out: how a token is built from its bytes, one merge
//! at a time, in the order of the tokenizer's merge ranks. The `tokenizers`
//! crate does the real encoding; this replays it for one word so the tokens
//! view can show it (a unit test checks that the replay ends where the
//! tokenizer's own encoding does).

use crate::tokenizer::Tokenizer;

/// One state of the word: its pieces (bytes) after `merge`, the rank and the
/// pair applied to get here (None for the starting bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub merge: Option<(u32, Vec<u8>, Vec<u8>)>,
    pub pieces: Vec<Vec<u8>>,
}

/// BPE on `bytes` alone: start from single bytes, then repeatedly merge the
/// adjacent pair with the lowest rank (every occurrence, left to right) until
/// no pair has a merge. The first step is the bytes; the last, the tokens.
pub fn steps(tok: &Tokenizer, bytes: &[u8]) -> Vec<Step> {
    let mut pieces: Vec<Vec<u8>> = bytes.iter().map(|&b| vec![b]).collect();
    let mut out = vec![Step {
        merge: None,
        pieces: pieces.clone(),
    }];
    // Each merge joins at least two pieces into one, so at most len − 1 steps.
    for _ in 1..bytes.len().max(1) {
        let best = pieces
            .windows(2)
            .filter_map(|w| tok.merge_rank(&w[0], &w[1]).map(|r| (r, w)))
            .min_by_key(|(r, _)| *r)
            .map(|(r, w)| (r, w[0].clone(), w[1].clone()));
        let Some((rank, left, right)) = best else {
            break;
        };
        let mut merged = Vec::with_capacity(pieces.len());
        let mut i = 0;
        while i < pieces.len() {
            if i + 1 < pieces.len() && pieces[i] == left && pieces[i + 1] == right {
                merged.push([left.as_slice(), right.as_slice()].concat());
                i += 2;
            } else {
                merged.push(pieces[i].clone());
                i += 1;
            }
        }
        pieces = merged;
        out.push(Step {
            merge: Some((rank, left, right)),
            pieces: pieces.clone(),
        });
    }
    out
}

/// A word as the tokenizer's pre-tokenizer cuts text (BPE never merges
/// across words): the positions of the tokens it is made of and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub tokens: std::ops::Range<usize>,
    pub bytes: Vec<u8>,
}

/// The word that token `pos` of `tokens` starts in, cut by the tokenizer's
/// own pre-tokenizer from the tokens' bytes. None when `pos` is out of range,
/// the tokenizer has no pre-tokenizer, or the bytes are not whole UTF-8 (a
/// character cut at the end): then the token alone is the word to show.
pub fn word_at(tok: &Tokenizer, tokens: &[u32], pos: usize) -> Option<Word> {
    use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};
    let spans: Vec<Vec<u8>> = tokens
        .iter()
        .map(|&id| tok.token_bytes(id).unwrap_or_default())
        .collect();
    if pos >= spans.len() {
        return None;
    }
    // starts[i]: where token i begins in the text's bytes; starts[n]: the end.
    let mut starts = Vec::with_capacity(spans.len() + 1);
    let mut at = 0;
    for s in &spans {
        starts.push(at);
        at += s.len();
    }
    starts.push(at);
    let all = spans.concat();
    let text = std::str::from_utf8(&all).ok()?;
    let mut pre = PreTokenizedString::from(text);
    tok.inner()
        .get_pre_tokenizer()?
        .pre_tokenize(&mut pre)
        .ok()?;
    let start = starts[pos];
    let (a, b) = pre
        .get_splits(OffsetReferential::Original, OffsetType::Byte)
        .into_iter()
        .map(|(_, span, _)| span)
        .find(|&(a, b)| a <= start && start < b)?;
    // Every token that overlaps the word's bytes.
    let first = (0..spans.len()).find(|&i| starts[i + 1] > a)?;
    let end = (0..spans.len()).rev().find(|&i| starts[i] < b)? + 1;
    Some(Word {
        tokens: first..end,
        bytes: all[starts[first]..starts[end]].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpt2() -> Tokenizer {
        let here = env!("CARGO_MANIFEST_DIR");
        let path = [
            format!("{here}/../shared/data/gpt2-tokenizer/tokenizer.json"),
            format!("{here}/../../shared/data/gpt2-tokenizer/tokenizer.json"),
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .unwrap_or_else(|| {
            panic!("GPT-2's tokenizer.json is expected in ../shared/data/gpt2-tokenizer/ beside the clone")
        });
        Tokenizer::open(std::path::Path::new(&path)).expect("GPT-2's tokenizer")
    }

    fn built_in() -> Tokenizer {
        let dir = crate::paths::default_model_dir();
        Tokenizer::open(&dir.join("tokenizer.json")).expect("the built-in tokenizer")
    }

    /// The replay ends where the tokenizer's own encoding does: each token of
    /// an encoded text is rebuilt from its bytes into exactly itself, and a
    /// word the pre-tokenizer keeps whole is split as the tokenizer splits it.
    #[test]
    fn merging_step_by_step_ends_at_the_tokenizers_own_tokens() {
        for (name, tok) in [("built-in", built_in()), ("GPT-2", gpt2())] {
            assert!(tok.merge_count() > 1000, "{name}: merges not read");
            let text = "小猫很开心. Once upon a time, there was a little girl named Lily.";
            for id in tok.encode(text).expect("encode") {
                let b = tok.token_bytes(id).expect("bytes");
                let s = steps(&tok, &b);
                assert_eq!(s[0].pieces.len(), b.len(), "{name}: starts from bytes");
                let last = &s.last().expect("a step").pieces;
                assert_eq!(last, &vec![b.clone()], "{name}: token {id} not rebuilt");
                // Ranks only go up: each merge is the lowest one left.
                let ranks: Vec<u32> = s
                    .iter()
                    .filter_map(|x| x.merge.as_ref().map(|m| m.0))
                    .collect();
                assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{name}: {ranks:?}");
            }
            for word in ["小猫很开心", " unbelievable", " happiness", " Lily"] {
                let ids = tok.encode(word).expect("encode");
                let want: Vec<Vec<u8>> = ids
                    .iter()
                    .map(|&id| tok.token_bytes(id).expect("bytes"))
                    .collect();
                let got = steps(&tok, word.as_bytes()).pop().expect("a step").pieces;
                assert_eq!(got, want, "{name}: {word:?}");
            }
        }
        // GPT-2 spells 小 with three bytes, the first a token of its own.
        let tok = gpt2();
        let first = tok.encode("小猫").expect("encode")[0];
        assert!(
            tok.token_display(first).contains('<'),
            "{}",
            tok.token_display(first)
        );
    }

    /// The word around a token is the pre-tokenizer's: " upon" alone, and
    /// every token of a Chinese word that GPT-2 spells in byte pieces.
    #[test]
    fn the_word_around_a_token_is_the_pre_tokenizers() {
        for (name, tok) in [("built-in", built_in()), ("GPT-2", gpt2())] {
            let ids = tok.encode("Once upon a time").expect("encode");
            let w = word_at(&tok, &ids, 1).expect("a word");
            assert_eq!(w.tokens, 1..2, "{name}");
            assert_eq!(w.bytes, b" upon", "{name}");
            let ids = tok.encode("Tom 小猫很开心 ran").expect("encode");
            let n = ids.len();
            let w = word_at(&tok, &ids, 2).expect("a word");
            assert_eq!(w.bytes, " 小猫很开心".as_bytes(), "{name}");
            assert_eq!(w.tokens.end, n - 1, "{name}: ' ran' is its own word");
            assert!(w.tokens.len() > 1, "{name}: {w:?}");
            // Its merges end in exactly these tokens.
            let last = steps(&tok, &w.bytes).pop().expect("a step").pieces;
            let want: Vec<Vec<u8>> = ids[w.tokens.clone()]
                .iter()
                .map(|&id| tok.token_bytes(id).expect("bytes"))
                .collect();
            assert_eq!(last, want, "{name}");
            assert_eq!(word_at(&tok, &ids, n), None);
        }
    }
}
