//! The prompt scored as pretraining scores text: −ln P of each next token.

use super::{Cx, NONE, Spec, ph, table};
use crate::fmt::{list, num};
use crate::readout::loss::{TokenLoss, log_likelihood, mean_loss, perplexity, token_losses};

/// The per-token losses, or why there are none.
fn losses(c: &Cx) -> Result<Vec<TokenLoss>, String> {
    let l = token_losses(c.tr());
    if l.is_empty() {
        return Err("the prompt is one token: there is no next token to score".into());
    }
    Ok(l)
}

fn mean(c: &Cx) -> Result<f64, String> {
    mean_loss(&losses(c)?).ok_or_else(|| "no next token to score".to_string())
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "loss.table",
        NONE,
        "a table: each position, the next token, its probability and −ln P",
        |c| {
            let tr = c.tr();
            Ok(table(
                &[
                    c.say("position", "位置"),
                    c.say("reads", "读入"),
                    c.say("next token", "下一个词元"),
                    c.say("P(next)", "P(下一个)"),
                    "−ln P",
                ],
                losses(c)?
                    .iter()
                    .map(|l| {
                        vec![
                            l.pos.to_string(),
                            c.tok(tr.tokens[l.pos]),
                            c.tok(l.next),
                            num(l.p),
                            num(l.loss),
                        ]
                    })
                    .collect(),
            ))
        },
    )
    .unless("on a one-token prompt (there is no next token to score)"),
    ph(
        "loss.values",
        NONE,
        "the per-token losses −ln P(next token)",
        |c| Ok(list(losses(c)?.iter().map(|l| l.loss as f32), usize::MAX)),
    )
    .unless("on a one-token prompt (there is no next token to score)"),
    ph(
        "loss.probs",
        NONE,
        "the per-token probabilities P(next token)",
        |c| Ok(list(losses(c)?.iter().map(|l| l.p as f32), usize::MAX)),
    )
    .unless("on a one-token prompt (there is no next token to score)"),
    ph(
        "loss.at",
        NONE,
        "−ln P of the token after the selected position",
        |c| {
            let p = c.sel.pos;
            match token_losses(c.tr()).get(p) {
                Some(l) => Ok(num(l.loss)),
                None => Err(format!(
                    "loss.at needs a next token, but the step's position {p} is the last; select an earlier position"
                )),
            }
        },
    )
    .unless("at the last position (it has no next token)"),
    ph(
        "loss.sum",
        NONE,
        "Σ ln P(next token): the objective L(θ) on this text (≤ 0)",
        |c| Ok(num(log_likelihood(&losses(c)?))),
    )
    .unless("on a one-token prompt (there is no next token to score)"),
    ph(
        "loss.mean",
        NONE,
        "mean cross-entropy −(1/n)·Σ ln P, in nats per token",
        |c| Ok(num(mean(c)?)),
    )
    .unless("on a one-token prompt (there is no next token to score)"),
    ph(
        "loss.ppl",
        NONE,
        "perplexity exp(mean cross-entropy)",
        |c| Ok(num(perplexity(mean(c)?))),
    )
    .unless("on a one-token prompt (there is no next token to score)"),
    ph(
        "loss.count",
        NONE,
        "how many next-token predictions the prompt gives (tokens − 1)",
        |c| Ok(losses(c)?.len().to_string()),
    )
    .unless("on a one-token prompt (there is no next token to score)"),
    ph(
        "loss.uniform",
        NONE,
        "ln V: the loss of a model that guesses uniformly",
        |c| Ok(num((c.cfg().vocab_size as f64).ln())),
    ),
];
