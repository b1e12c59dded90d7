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
}
