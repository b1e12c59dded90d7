//! The prompt as tokens, and the selected position and key.

use super::{NONE, Spec, int, ph};

pub(super) const SPECS: &[Spec] = &[
    ph("tokens", NONE, "the prompt's tokens with their ids", |c| {
        Ok(c.tr()
            .tokens
            .iter()
            .map(|&t| format!("{}#{t}", c.tok(t)))
            .collect::<Vec<_>>()
            .join(" "))
    }),
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
