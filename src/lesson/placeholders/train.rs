//! The model folder's training record (`train-log.tsv`, `train-summary.json`,
//! and the heads' scores in `train-heads.tsv`). A folder without one, or with
//! a broken one, gives a sentence saying so.

use super::{Cx, NONE, Spec, ph, table};
use crate::fmt::{count, human_duration, human_duration_in, num};
use crate::i18n::{Lang, Msg};
use crate::train::record::{FORMED, HeadRow, TrainRecord};

/// The model folder's training record when it has a logged training loss, or
/// Err(the text to show instead) when the record cannot be read: a broken log
/// is said in the lesson rather than stopping it.
fn train_record(c: &Cx) -> Result<Option<TrainRecord>, String> {
    let Some(dir) = c.env.model_dir else {
        return Ok(None);
    };
    match TrainRecord::read(dir) {
        Ok(r) => Ok(r.filter(|r| !r.losses().is_empty())),
        Err(e) => Err(Msg::TrainUnreadable.fill(c.lang, &[&e])),
    }
}

/// `f(first logged (step, loss), last, record)`, or the text saying there is none.
fn logged(
    c: &Cx,
    f: impl Fn((u64, f64), (u64, f64), &TrainRecord) -> String,
) -> Result<String, String> {
    Ok(match train_record(c) {
        Err(msg) => msg,
        Ok(None) => Msg::TrainNoLog.get(c.lang).to_string(),
        Ok(Some(r)) => {
            let l = r.losses();
            f(l[0], l[l.len() - 1], &r)
        }
    })
}

fn summary(r: &TrainRecord, lang: Lang) -> String {
    if lang == Lang::Zh {
        return summary_zh(r);
    }
    let l = r.losses();
    let (first, last) = (l[0], l[l.len() - 1]);
    let mut out = format!(
        "The recorded run took {} optimizer steps",
        count(last.0 as f64)
    );
    let summary = r.summary.as_ref();
    if let Some(t) = summary.and_then(|s| s.tokens_seen) {
        out.push_str(&format!(" over {} tokens", count(t as f64)));
    }
    if let Some(secs) = summary.and_then(|s| s.elapsed_secs) {
        out.push_str(&format!(" in {}", human_duration(secs)));
    }
    out.push_str(&format!(
        ". The training loss went from {} at step {} to {} at step {}",
        num(first.1),
        count(first.0 as f64),
        num(last.1),
        count(last.0 as f64)
    ));
    if let Some(v) = r.final_val() {
        out.push_str(&format!("; on held-out text the final loss was {}", num(v)));
    }
    out.push_str(&format!(
        ".\n\n`{}` (training loss, step {} → {})",
        sparkline(&l.iter().map(|x| x.1).collect::<Vec<_>>()),
        count(first.0 as f64),
        count(last.0 as f64)
    ));
    out
}

/// [`summary`] for a Chinese lesson: the same numbers.
fn summary_zh(r: &TrainRecord) -> String {
    let l = r.losses();
    let (first, last) = (l[0], l[l.len() - 1]);
    let mut out = format!("这次记录下来的训练共 {} 个优化步", count(last.0 as f64));
    let summary = r.summary.as_ref();
    if let Some(t) = summary.and_then(|s| s.tokens_seen) {
        out.push_str(&format!("，看过 {} 个词元", count(t as f64)));
    }
    if let Some(secs) = summary.and_then(|s| s.elapsed_secs) {
        out.push_str(&format!("，用时 {}", human_duration_in(secs, Lang::Zh)));
    }
    out.push_str(&format!(
        "。训练损失从第 {} 步的 {} 变为第 {} 步的 {}",
        count(first.0 as f64),
        num(first.1),
        count(last.0 as f64),
        num(last.1)
    ));
    if let Some(v) = r.final_val() {
        out.push_str(&format!("；在留出的文本上，最终损失是 {}", num(v)));
    }
    out.push_str(&format!(
        "。\n\n`{}`（训练损失，第 {} 步 → 第 {} 步）",
        sparkline(&l.iter().map(|x| x.1).collect::<Vec<_>>()),
        count(first.0 as f64),
        count(last.0 as f64)
    ));
    out
}

fn sparkline(xs: &[f64]) -> String {
    let bars = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let width = 48;
    let pts: Vec<f64> = if xs.len() <= width {
        xs.to_vec()
    } else {
        (0..width)
            .map(|i| xs[i * (xs.len() - 1) / (width - 1)])
            .collect()
    };
    let lo = pts.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = pts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1e-12);
    pts.iter()
        .map(|x| bars[(((x - lo) / span) * 7.0).round().clamp(0.0, 7.0) as usize])
        .collect()
}

/// `f(record, zh)` when the folder's record has the heads' scores, else the
/// sentence saying why not, in the lesson's language.
fn with_heads(c: &Cx, f: impl Fn(&TrainRecord, bool) -> String) -> Result<String, String> {
    let zh = c.lang == Lang::Zh;
    let none = Msg::TrainNoHeads.get(c.lang);
    let Some(dir) = c.env.model_dir else {
        return Ok(none.into());
    };
    Ok(match TrainRecord::read(dir) {
        Err(e) => Msg::TrainUnreadable.fill(c.lang, &[&e]),
        Ok(Some(r)) if !r.heads.is_empty() => f(&r, zh),
        Ok(_) => none.into(),
    })
}

/// A head as the lesson text names it.
fn head_name(layer: usize, head: usize, zh: bool) -> String {
    if zh {
        format!("第 {layer} 层 {head} 号头")
    } else {
        format!("layer {layer}, head {head}")
    }
}

/// A score in [0, 1]: three decimals below 0.1 (an even head's 0.035), else two.
fn score(x: f64) -> String {
    if x < 0.1 {
        format!("{x:.3}")
    } else {
        format!("{x:.2}")
    }
}

/// The head that became a previous-token head first, else the one that
/// ends with the highest previous-token score; and whether it formed.
fn prev_head(r: &TrainRecord) -> (usize, usize, bool) {
    if let Some((l, h, ..)) = r.first_formed(false) {
        return (l, h, true);
    }
    let last = r.head_steps().last().copied().unwrap_or(0);
    let best = r
        .heads_at(last)
        .into_iter()
        .max_by(|a, b| a.previous_token.total_cmp(&b.previous_token));
    best.map_or((0, 0, false), |b| (b.layer, b.head, false))
}

/// The steps the heads' table shows: the first, the one before the first
/// head formed and the one it formed at (else the middle), and the last.
fn table_steps(r: &TrainRecord) -> Vec<u64> {
    let steps = r.head_steps();
    let mut pick = vec![steps[0]];
    match r.first_formed(false).or_else(|| r.first_formed(true)) {
        Some((.., at, _)) => {
            let i = steps.iter().position(|&s| s == at).unwrap_or(0);
            pick.push(steps[i.saturating_sub(1)]);
            pick.push(at);
        }
        None => pick.push(steps[steps.len() / 2]),
    }
    pick.push(steps[steps.len() - 1]);
    pick.dedup();
    pick
}

/// Every head's scores, narrow enough for an 80-column panel: the heads as
/// `L0 H3`, the steps after the first by their number alone.
fn heads_table(r: &TrainRecord, zh: bool) -> String {
    let steps = table_steps(r);
    let last = steps[steps.len() - 1];
    let mut header: Vec<String> = vec![
        if zh {
            "前一个词元分数"
        } else {
            "previous-token score"
        }
        .into(),
    ];
    header.extend(steps.iter().enumerate().map(|(i, s)| match (i, zh) {
        (0, true) => format!("第 {} 步", count(*s as f64)),
        (0, false) => format!("step {}", count(*s as f64)),
        _ => count(*s as f64),
    }));
    header.push(if zh { "结束时归纳" } else { "induction" }.into());
    header.push(if zh {
        format!("达到 {FORMED} 的步")
    } else {
        format!("≥ {FORMED} at step")
    });
    let formed = r.heads_formed(FORMED, false);
    let rows = r
        .heads_at(steps[0])
        .into_iter()
        .map(|h0| {
            let at = |st: u64| -> Option<&HeadRow> {
                r.heads
                    .iter()
                    .find(|x| x.step == st && (x.layer, x.head) == (h0.layer, h0.head))
            };
            let mut row = vec![format!("L{} H{}", h0.layer, h0.head)];
            for &st in &steps {
                row.push(at(st).map_or("–".into(), |x| score(x.previous_token)));
            }
            row.push(at(last).map_or("–".into(), |x| score(x.induction)));
            row.push(
                formed
                    .iter()
                    .find(|f| (f.0, f.1) == (h0.layer, h0.head))
                    .map_or("–".into(), |f| count(f.2 as f64)),
            );
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&header, rows)
}

/// Which heads crossed [`FORMED`] and when; the layers where none did, with
/// their best; and the induction score's best.
fn heads_formed(r: &TrainRecord, zh: bool) -> String {
    let steps = r.head_steps();
    let last = steps[steps.len() - 1];
    let end = r.heads_at(last);
    let formed = r.heads_formed(FORMED, false);
    let before = |l: usize, h: usize, at: u64| -> Option<(u64, f64)> {
        r.head_curve(l, h, false)
            .into_iter()
            .rfind(|&(s, _)| s < at)
    };
    let mut out = if formed.is_empty() {
        if zh {
            format!("这次运行中，没有一个头的前一个词元分数达到 {FORMED}。")
        } else {
            format!("No head's previous-token score reached {FORMED} in this run.")
        }
    } else {
        let each: Vec<String> = formed
            .iter()
            .map(|&(l, h, at, s)| {
                let was = before(l, h, at).map_or(String::new(), |(bs, bv)| {
                    if zh {
                        format!("，第 {} 步时还是 {}", count(bs as f64), score(bv))
                    } else {
                        format!(", up from {} at step {}", score(bv), count(bs as f64))
                    }
                });
                if zh {
                    format!(
                        "{}在第 {} 步（{}{was}）",
                        head_name(l, h, zh),
                        count(at as f64),
                        score(s)
                    )
                } else {
                    format!(
                        "{} at step {} ({}{was})",
                        head_name(l, h, zh),
                        count(at as f64),
                        score(s)
                    )
                }
            })
            .collect();
        if zh {
            format!(
                "有 {} 个头成了“前一个词元”头（分数达到 {FORMED} 或更高）：{}。",
                formed.len(),
                each.join("；")
            )
        } else {
            let n = if formed.len() == 1 {
                "One head became a previous-token head".to_string()
            } else {
                format!("{} heads became previous-token heads", formed.len())
            };
            format!("{n} (a score of {FORMED} or more): {}.", each.join("; "))
        }
    };
    let layers = end.iter().map(|h| h.layer).max().map_or(0, |l| l + 1);
    for l in 0..layers {
        if formed.iter().any(|f| f.0 == l) {
            continue;
        }
        if let Some(b) = end
            .iter()
            .filter(|h| h.layer == l)
            .max_by(|a, b| a.previous_token.total_cmp(&b.previous_token))
        {
            out.push_str(&if zh {
                format!(
                    "第 {l} 层没有一个头做到：最好的{}，结束时是 {}。",
                    head_name(b.layer, b.head, zh),
                    score(b.previous_token)
                )
            } else {
                format!(
                    " No head of layer {l} did: the best, {}, ends at {}.",
                    head_name(b.layer, b.head, zh),
                    score(b.previous_token)
                )
            });
        }
    }
    if let Some((l, h, at, s)) = r.first_formed(true) {
        out.push_str(&if zh {
            format!(
                "在归纳探针上，{}在第 {} 步达到 {}。",
                head_name(l, h, zh),
                count(at as f64),
                score(s)
            )
        } else {
            format!(
                " On the induction probe, {} reached {} at step {}.",
                head_name(l, h, zh),
                score(s),
                count(at as f64)
            )
        });
    } else if let Some(b) = end
        .iter()
        .max_by(|a, b| a.induction.total_cmp(&b.induction))
    {
        out.push_str(&if zh {
            format!(
                "没有一个头成为归纳头：结束时最高的归纳分数是 {}（{}）。",
                score(b.induction),
                head_name(b.layer, b.head, zh)
            )
        } else {
            format!(
                " No head became an induction head: the highest induction score at the end is {} ({}).",
                score(b.induction),
                head_name(b.layer, b.head, zh)
            )
        });
    }
    out
}

/// The selected head on the lesson's prompt: mean weight on the previous
/// token, and at how many positions that token is its top key.
fn head_on_prompt(c: &Cx) -> Result<String, String> {
    let n = c.tr().len();
    if n < 2 {
        return Err("a one-token prompt has no previous token".into());
    }
    let zh = c.lang == Lang::Zh;
    let probs = &c.layer().probs[c.sel.head];
    let mean = crate::readout::heads::previous_token_score(probs) as f64;
    let top = (1..n)
        .filter(|&t| crate::readout::argmax(&probs[t]) == t - 1)
        .count();
    let even = (1..n).map(|t| 1.0 / (t + 1) as f64).sum::<f64>() / (n - 1) as f64;
    let name = head_name(c.sel.layer, c.sel.head, zh);
    Ok(if zh {
        format!(
            "在这个提示上，{name}平均把 {} 的权重放在前一个词元上（位置 1 到 {}；平均分配会得到 {}），在这 {} 个位置中，有 {} 个位置上前一个词元是它权重最大的键",
            score(mean),
            n - 1,
            score(even),
            count((n - 1) as f64),
            count(top as f64)
        )
    } else {
        format!(
            "On this prompt {name} puts {} of its weight on the previous token on average (over positions 1 to {}; an even spread would give {}), and the previous token is its top key at {} of those {} positions",
            score(mean),
            n - 1,
            score(even),
            count(top as f64),
            count((n - 1) as f64)
        )
    })
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "train.summary",
        NONE,
        "a paragraph on the recorded run: steps, tokens, time, first and last loss, validation loss and the curve; or one sentence saying the folder has no record",
        |c| {
            Ok(match train_record(c) {
            Err(msg) => msg,
            Ok(None) => Msg::TrainNoRecord.get(c.lang).into(),
            Ok(Some(r)) => summary(&r, c.lang),
        })
        },
    ),
    ph(
        "train.baselines",
        NONE,
        "a sentence comparing the validation loss with the unigram and bigram baselines the run measured (or saying there are none)",
        |c| {
            let b = match train_record(c) {
                Err(msg) => return Ok(msg),
                Ok(r) => r.and_then(|r| {
                    let b = r.baselines()?;
                    Some((b.unigram?, b.bigram?, r.summary.as_ref()?.val_loss?))
                }),
            };
            Ok(match b {
                Some((u, bi, v)) if c.lang == Lang::Zh => format!(
                    "在同一段留出的文本上，一元模型（只看词元出现的频率）的损失是 {}，二元模型（只看前一个词元）是 {} 奈特/词元；这个 Transformer 是 {}。",
                    num(u),
                    num(bi),
                    num(v)
                ),
                Some((u, bi, v)) => format!(
                    "On the same held-out text, a unigram model (token frequencies only) scores {} and a bigram model (the previous token only) {} nats per token; the transformer scores {}.",
                    num(u),
                    num(bi),
                    num(v)
                ),
                None => Msg::TrainNoBaselines.get(c.lang).into(),
            })
        },
    ),
    ph(
        "train.steps",
        NONE,
        "optimizer steps in the recorded run",
        |c| logged(c, |_, last, _| count(last.0 as f64)),
    ),
    ph(
        "train.first",
        NONE,
        "the recorded training loss at the first logged step",
        |c| logged(c, |first, _, _| num(first.1)),
    ),
    ph(
        "train.last",
        NONE,
        "the recorded training loss at the last logged step",
        |c| logged(c, |_, last, _| num(last.1)),
    ),
    ph(
        "train.val",
        NONE,
        "the last recorded validation loss",
        |c| {
            logged(c, |_, _, r| match r.final_val() {
                Some(v) => num(v),
                None => Msg::TrainNoVal.get(c.lang).into(),
            })
        },
    ),
    ph(
        "train.curve",
        NONE,
        "the recorded training loss as a one-line sparkline",
        |c| {
            logged(c, |_, _, r| {
                sparkline(&r.losses().iter().map(|x| x.1).collect::<Vec<_>>())
            })
        },
    ),
    ph(
        "train.heads.threshold",
        NONE,
        "the score at which the training record counts a head as formed (a previous-token or induction head)",
        |_| Ok(FORMED.to_string()),
    ),
    ph(
        "train.heads.start",
        NONE,
        "the heads' mean previous-token score at the first recorded step (random weights: about what an even spread gives)",
        |c| {
            with_heads(c, |r, _| {
                let first = r.heads_at(r.head_steps()[0]);
                let m = first.iter().map(|h| h.previous_token).sum::<f64>() / first.len() as f64;
                score(m)
            })
        },
    ),
    ph(
        "train.heads.table",
        NONE,
        "a table: every head's previous-token score at the first step, before and when the first head formed, and at the end; its induction score at the end; the step its previous-token score reached the threshold",
        |c| with_heads(c, heads_table),
    ),
    ph(
        "train.heads.formed",
        NONE,
        "sentences: which heads became previous-token heads and at what step (from what score), the layers where none did, and the best induction score",
        |c| with_heads(c, heads_formed),
    ),
    ph(
        "train.prev_head",
        NONE,
        "the head that became a previous-token head first (else the one that ends highest, said so), as `layer L, head H`",
        |c| {
            with_heads(c, |r, zh| {
                let (l, h, formed) = prev_head(r);
                let name = head_name(l, h, zh);
                if formed {
                    name
                } else {
                    name + &Msg::TrainBestNotFormed.fill(c.lang, &[&FORMED])
                }
            })
        },
    ),
    ph(
        "train.prev_head.step",
        NONE,
        "the recorded step at which that head's previous-token score first reached the threshold",
        |c| {
            with_heads(c, |r, _| match r.first_formed(false) {
                Some((.., at, _)) => count(at as f64),
                None => Msg::TrainNoHeadReached.fill(c.lang, &[&FORMED]),
            })
        },
    ),
    ph(
        "train.prev_head.end",
        NONE,
        "that head's previous-token score at the end of the run",
        |c| {
            with_heads(c, |r, _| {
                let (l, h, _) = prev_head(r);
                r.head_curve(l, h, false)
                    .last()
                    .map_or("–".into(), |p| score(p.1))
            })
        },
    ),
    ph(
        "train.head.prompt",
        NONE,
        "a sentence: the selected head on the lesson's prompt, its mean weight on the previous token and at how many positions that is its top key",
        head_on_prompt,
    )
    .unless("on a one-token prompt"),
];
