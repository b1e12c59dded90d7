//! Fine-tuning: the lesson's prompt read as a pair the chat template wrote
//! ("Q: …\nA: …"), scored as fine-tuning scores it (only the response), and
//! the same tokens run through the other model of the pair: the built-in
//! `tinystories` (the base) and `tinystories-instruct` (fine-tuned from it).
//! A lesson model whose folder carries a chat template is the tuned side and
//! is compared with the base; any other is the base side and is compared with
//! the instruct model.

use crate::i18n::{Lang, Msg};
use std::path::Path;
use std::sync::OnceLock;

use super::{Cx, NONE, Spec, int, ph, table};
use crate::finetune::mask::{Turn, counts};
use crate::fmt::{count, num, percent};
use crate::model::{Gpt, Interventions, Trace, softmax_in_place};
use crate::readout::loss::{TokenLoss, token_losses};
use crate::readout::ranked;

const BASE: &str = crate::paths::DEFAULT_MODEL;
const TUNED: &str = "tinystories-instruct";

/// Why no token is a response, in the lesson's language.
fn not_a_pair(c: &Cx) -> String {
    Msg::FtNotAPair.get(c.lang).into()
}

/// Why the requested name cannot be followed.
fn no_name(c: &Cx) -> String {
    Msg::FtNoName.get(c.lang).into()
}

/// A built-in model, opened once.
fn builtin(name: &'static str) -> Option<&'static Gpt> {
    static MODELS: OnceLock<[Option<Gpt>; 2]> = OnceLock::new();
    let open = |n: &str| crate::paths::builtin_model(n).and_then(|d| Gpt::open(&d).ok());
    let [base, tuned] = MODELS.get_or_init(|| [open(BASE), open(TUNED)]);
    if name == BASE {
        base.as_ref()
    } else {
        tuned.as_ref()
    }
}

/// Whether the lesson's model is a fine-tune (its folder carries a template).
fn is_tuned(c: &Cx) -> bool {
    c.env
        .model_dir
        .is_some_and(|d| crate::finetune::mask::model_turn(d).is_some())
}

/// How many tokens are the prompt (the rest is the response the loss counts):
/// the template of the model folder, or the one `gptlens finetune` would give it.
fn split(c: &Cx) -> Option<usize> {
    let turn = match c.env.model_dir {
        Some(d) => Turn::for_model(d, true),
        None => Turn::for_model(Path::new(""), true),
    }?;
    let texts: Vec<String> = c
        .tr()
        .tokens
        .iter()
        .map(|&t| c.env.tokenizer.token_text(t))
        .collect();
    turn.prompt_len(&texts)
}

/// The same tokens through both models: (base, tuned), one of them the
/// lesson's own trace.
struct Both<'a> {
    other: Trace,
    this: &'a Trace,
    this_is_tuned: bool,
}

impl Both<'_> {
    fn base(&self) -> &Trace {
        if self.this_is_tuned {
            &self.other
        } else {
            self.this
        }
    }
    fn tuned(&self) -> &Trace {
        if self.this_is_tuned {
            self.this
        } else {
            &self.other
        }
    }
}

fn both<'a>(c: &'a Cx) -> Result<Both<'a>, String> {
    let this_is_tuned = is_tuned(c);
    let name = if this_is_tuned { BASE } else { TUNED };
    let other = builtin(name).ok_or_else(|| Msg::FtNoBuiltIn.fill(c.lang, &[&name]))?;
    let toks = &c.tr().tokens;
    if other.config.vocab_size != c.cfg().vocab_size
        || toks.len() > other.config.n_positions
        || other.config.n_layer != c.cfg().n_layer
        || other.config.n_head != c.cfg().n_head
    {
        return Err(Msg::FtNotSameShape.fill(c.lang, &[&name]));
    }
    let other = other
        .trace(toks, &Interventions::default())
        .map_err(|e| format!("({e})"))?;
    Ok(Both {
        other,
        this: c.tr(),
        this_is_tuned,
    })
}

/// The predictions the fine-tuning objective counts: losses[p] predicts
/// token p + 1.
fn counted(losses: &[TokenLoss], n_prompt: usize) -> Vec<&TokenLoss> {
    losses
        .iter()
        .filter(|l| counts(l.pos + 1, n_prompt))
        .collect()
}

fn mean(k: &[&TokenLoss]) -> f64 {
    k.iter().map(|l| l.loss).sum::<f64>() / k.len().max(1) as f64
}

/// Probabilities of the row that predicts the first response token.
fn first_probs(tr: &Trace, n_prompt: usize) -> Vec<f32> {
    let mut p = tr.logits.row(n_prompt - 1).to_vec();
    softmax_in_place(&mut p);
    p
}

/// The requested name ("… about NAME.") as tokens: its positions in the
/// prompt, and where the response first writes it.
struct Name {
    text: String,
    in_prompt: Vec<usize>,
    in_response: usize,
}

fn name(c: &Cx, n_prompt: usize) -> Option<Name> {
    let p = c.env.prompt;
    let start = p.find("about ")? + "about ".len();
    let end = start + p[start..].find(['.', '\n'])?;
    let text = p[start..end].trim().to_string();
    let pieces = c.env.tokenizer.encode(&format!(" {text}")).ok()?;
    let toks = &c.tr().tokens;
    if pieces.is_empty() {
        return None;
    }
    let find = |from: usize, to: usize| {
        (from..to.saturating_sub(pieces.len() - 1)).find(|&i| toks[i..].starts_with(&pieces))
    };
    let first = find(0, n_prompt)?;
    let in_response = find(n_prompt, toks.len())?;
    Some(Name {
        text,
        in_prompt: (first..first + pieces.len()).collect(),
        in_response,
    })
}

/// One head's weight on the name: (layer, head, base, fine-tuned).
type HeadWeight = (usize, usize, f64, f64);

/// Every head's attention from the position that predicts the name's first
/// piece in the response onto the name's tokens in the prompt: (layer, head,
/// base, tuned), the tuned model's largest first.
fn head_weights(b: &Both, n: &Name) -> Vec<HeadWeight> {
    let q = n.in_response - 1;
    let w = |tr: &Trace, l: usize, h: usize| -> f64 {
        n.in_prompt
            .iter()
            .map(|&k| tr.layers[l].probs[h][q][k] as f64)
            .sum()
    };
    let t = b.tuned();
    let mut rows = vec![];
    for l in 0..t.layers.len() {
        for h in 0..t.layers[l].probs.len() {
            rows.push((l, h, w(b.base(), l, h), w(t, l, h)));
        }
    }
    rows.sort_by(|a, b| b.3.total_cmp(&a.3));
    rows
}

/// What the name placeholders need, or the sentence saying why not.
fn name_and_heads(c: &Cx) -> Result<(Name, Vec<HeadWeight>), String> {
    let n = split(c).ok_or_else(|| not_a_pair(c))?;
    let name = name(c, n).ok_or_else(|| no_name(c))?;
    let b = both(c)?;
    let rows = head_weights(&b, &name);
    Ok((name, rows))
}

/// The counted token whose loss fell most from base to fine-tuned: (token,
/// base loss, fine-tuned loss, whether it is a piece of the requested name).
fn gain(c: &Cx) -> Result<(u32, f64, f64, bool), String> {
    let n = split(c).ok_or_else(|| not_a_pair(c))?;
    let b = both(c)?;
    let (lb, lt) = (token_losses(b.base()), token_losses(b.tuned()));
    let (t, base) = counted(&lt, n)
        .into_iter()
        .zip(counted(&lb, n))
        .max_by(|x, y| (x.1.loss - x.0.loss).total_cmp(&(y.1.loss - y.0.loss)))
        .ok_or_else(|| Msg::FtNoResponse.get(c.lang).to_string())?;
    let at = t.pos + 1;
    let in_name = name(c, n).is_some_and(|nm| {
        let k = nm.in_prompt.len();
        let toks = &c.tr().tokens;
        let pieces: Vec<u32> = nm.in_prompt.iter().map(|&i| toks[i]).collect();
        (at.saturating_sub(k - 1)..=at)
            .any(|s| s >= n && s + k <= toks.len() && toks[s..s + k] == pieces[..])
    });
    Ok((t.next, base.loss, t.loss, in_name))
}

/// Every entry has a value: where the prompt or the model does not allow
/// one, a sentence in parentheses saying why.
fn said(r: Result<String, String>) -> Result<String, String> {
    Ok(r.unwrap_or_else(|e| e))
}

/// `f(how many tokens are the prompt)` when the prompt is one templated
/// turn and its reply, else the sentence saying it is not; said either way.
fn on_pair(c: &Cx, f: impl FnOnce(usize) -> Result<String, String>) -> Result<String, String> {
    said(split(c).ok_or_else(|| not_a_pair(c)).and_then(f))
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "ft.split",
        NONE,
        "how many tokens are the templated prompt (no loss) and how many predictions the response gives the loss",
        |c| {
            on_pair(c, |n| {
                let r = c.tr().len() - n;
                Ok(match c.lang {
                    Lang::En => format!(
                        "the first {n} tokens are the prompt and carry no loss; the loss counts the {r} predictions of the {r} response tokens"
                    ),
                    Lang::Zh => format!(
                        "前 {n} 个词元是提示，不计损失；损失只算回答的 {r} 个词元上的 {r} 次预测"
                    ),
                })
            })
        },
    ),
    ph(
        "ft.mask",
        NONE,
        "the tokens with the loss mask: prompt tokens in italics (no loss), counted response tokens in bold",
        |c| {
            on_pair(c, |n| {
                Ok(c.tr()
                    .tokens
                    .iter()
                    .enumerate()
                    .map(|(i, &t)| {
                        if counts(i, n) {
                            format!("**{}**", c.tok(t))
                        } else {
                            format!("*{}*", c.tok(t))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" "))
            })
        },
    ),
    ph(
        "ft.objective",
        NONE,
        "L′(θ) = Σᵢ log P(rᵢ │ c, r₍<ᵢ₎; θ) over the response tokens, with how many and its mean negative",
        |c| {
            on_pair(c, |n| {
                let l = token_losses(c.tr());
                let k = counted(&l, n);
                let sum: f64 = k.iter().map(|l| -l.loss).sum();
                let (sum, n, m) = (num(sum), k.len(), num(mean(&k)));
                Ok(match c.lang {
                    Lang::En => format!(
                        "L′(θ) = {sum} over the {n} response tokens, a mean loss of {m} nats per counted token"
                    ),
                    Lang::Zh => format!(
                        "在回答的 {n} 个词元上 L′(θ) = {sum}，平均每个计入的词元损失 {m} 奈特"
                    ),
                })
            })
        },
    ),
    ph(
        "ft.next",
        &[int("n", 5.0, 1.0, 20.0)],
        "a table: the n most likely first tokens of the response, base model against fine-tuned",
        |c| {
            on_pair(c, |n| {
                let b = match both(c) {
                    Ok(b) => b,
                    Err(e) => return Ok(e),
                };
                let (pb, pt) = (first_probs(b.base(), n), first_probs(b.tuned(), n));
                let (rb, rt) = (ranked(&pb), ranked(&pt));
                Ok(table(
                    &[
                        c.say("rank", "名次"),
                        c.say("base", "基础模型"),
                        "P",
                        c.say("fine-tuned", "微调后"),
                        "P",
                    ],
                    (0..c.n().min(pb.len()))
                        .map(|i| {
                            vec![
                                (i + 1).to_string(),
                                c.tok(rb[i] as u32),
                                num(pb[rb[i]] as f64),
                                c.tok(rt[i] as u32),
                                num(pt[rt[i]] as f64),
                            ]
                        })
                        .collect(),
                ))
            })
        },
    ),
    ph(
        "ft.next.tuned",
        NONE,
        "the fine-tuned model's most likely first token of the response",
        |c| {
            on_pair(c, |n| {
                let b = both(c)?;
                Ok(c.tok(crate::readout::argmax(&first_probs(b.tuned(), n)) as u32))
            })
        },
    ),
    ph(
        "ft.losses",
        &[int("n", 12.0, 1.0, 64.0)],
        "a table: the first n response tokens and −ln P of each under the base and the fine-tuned model, with both means over the whole response",
        |c| {
            on_pair(c, |n| {
                let b = match both(c) {
                    Ok(b) => b,
                    Err(e) => return Ok(e),
                };
                let (lb, lt) = (token_losses(b.base()), token_losses(b.tuned()));
                let (kb, kt) = (counted(&lb, n), counted(&lt, n));
                let mut rows: Vec<Vec<String>> = kt
                    .iter()
                    .zip(&kb)
                    .take(c.n())
                    .map(|(t, b)| vec![c.tok(t.next), num(b.loss), num(t.loss)])
                    .collect();
                rows.push(vec![
                    match c.lang {
                        Lang::En => format!("mean over all {}", kt.len()),
                        Lang::Zh => format!("全部 {} 个的平均", kt.len()),
                    },
                    num(mean(&kb)),
                    num(mean(&kt)),
                ]);
                Ok(table(
                    &[
                        c.say("response token", "回答的词元"),
                        c.say("base −ln P", "基础模型 −ln P"),
                        c.say("fine-tuned −ln P", "微调后 −ln P"),
                    ],
                    rows,
                ))
            })
        },
    ),
    ph(
        "ft.gain",
        NONE,
        "the response token whose loss fine-tuning lowered most, with −ln P under the base and the fine-tuned model",
        |c| {
            said(gain(c).map(|(t, b, f, _)| {
                let (t, b, f) = (c.tok(t), num(b), num(f));
                match c.lang {
                    Lang::En => format!("{t}: −ln P {b} under the base model, {f} fine-tuned"),
                    Lang::Zh => format!("{t}：基础模型下 −ln P 为 {b}，微调后为 {f}"),
                }
            }))
        },
    ),
    ph(
        "ft.gain.kind",
        NONE,
        "what that token is: \"a piece of the name\" when it is one of the requested name's pieces in the response, else the token",
        |c| {
            said(gain(c).map(|(t, _, _, in_name)| {
                if in_name {
                    c.say("a piece of the name", "名字的一个片段").to_string()
                } else {
                    c.tok(t)
                }
            }))
        },
    ),
    ph(
        "ft.name",
        NONE,
        "the name the prompt asks for and the tokens it is cut into",
        |c| {
            on_pair(c, |n| {
                let name = name(c, n).ok_or_else(|| no_name(c))?;
                let toks = &c.tr().tokens;
                let pieces = name
                    .in_prompt
                    .iter()
                    .map(|&i| c.tok(toks[i]))
                    .collect::<Vec<_>>()
                    .join(" ");
                let k = name.in_prompt.len();
                Ok(match c.lang {
                    Lang::En => format!("\"{}\" ({k} tokens: {pieces})", name.text),
                    Lang::Zh => format!("“{}”（{k} 个词元：{pieces}）", name.text),
                })
            })
        },
    ),
    ph(
        "ft.head",
        NONE,
        "the head of the fine-tuned model that attends most to the name in the instruction from the position that predicts the name's first piece in the response, with that weight and the base model's",
        |c| {
            said((|| {
                let (name, rows) = name_and_heads(c)?;
                let (l, h, wb, wt) = rows[0];
                let (wt, k, wb) = (percent(wt), name.in_prompt.len(), percent(wb));
                Ok(match c.lang {
                    Lang::En => format!(
                        "layer {l}, head {h}: it puts {wt} of its attention on the name's {k} tokens in the instruction; the base model's same head puts {wb} there"
                    ),
                    Lang::Zh => format!(
                        "第 {l} 层第 {h} 个头：它把 {wt} 的注意力放在指令里名字的 {k} 个词元上；基础模型的同一个头只放了 {wb}"
                    ),
                })
            })())
        },
    ),
    ph(
        "ft.head.layer",
        NONE,
        "just that head's layer, as \"layer L\"",
        |c| {
            said(name_and_heads(c).map(|(_, rows)| match c.lang {
                Lang::En => format!("layer {}", rows[0].0),
                Lang::Zh => format!("第 {} 层", rows[0].0),
            }))
        },
    ),
    ph(
        "ft.heads",
        &[int("n", 6.0, 1.0, 64.0)],
        "a table of the n heads that attend most to the name in the instruction from there: fine-tuned against base",
        |c| {
            said((|| {
                let (_, rows) = match name_and_heads(c) {
                    Ok(x) => x,
                    Err(e) => return Ok(e),
                };
                Ok(table(
                    &[
                        c.say("layer", "层"),
                        c.say("head", "头"),
                        c.say("base: weight on the name", "基础模型：放在名字上的权重"),
                        c.say("fine-tuned: weight on the name", "微调后：放在名字上的权重"),
                    ],
                    rows.iter()
                        .take(c.n())
                        .map(|&(l, h, wb, wt)| {
                            vec![l.to_string(), h.to_string(), percent(wb), percent(wt)]
                        })
                        .collect(),
                ))
            })())
        },
    ),
    ph(
        "ft.lora",
        &[int("r", 8.0, 1.0, 4096.0)],
        "rank-r LoRA on every block's c_attn, W_O and MLP matrices: its trainable parameters against full fine-tuning's",
        |c| {
            said((|| {
                let cfg = c.cfg();
                if cfg.arch().family != crate::model::Family::Gpt2 {
                    return Err(Msg::FtLoraGpt2Only.get(c.lang).into());
                }
                let r = c.n();
                let lora = crate::train::lora::trainable(cfg, r);
                let full = crate::cost::Params::of(cfg).total;
                let (n, p, f) = (count(lora as f64), percent(lora as f64 / full), count(full));
                Ok(match c.lang {
                    Lang::En => format!(
                        "rank {r}: {n} trainable parameters, {p} of the {f} that full fine-tuning trains"
                    ),
                    Lang::Zh => {
                        format!("秩 {r}：{n} 个可训练参数，是全量微调所训练的 {f} 个参数的 {p}")
                    }
                })
            })())
        },
    ),
];
