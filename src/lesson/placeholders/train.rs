//! The model folder's training record (`train-log.tsv`, `train-summary.json`).
//! A folder without one, or with a broken one, gives a sentence saying so.

use super::{Cx, NONE, Spec, ph};
use crate::fmt::{count, human_duration, human_duration_in, num};
use crate::i18n::Lang;
use crate::train::record::TrainRecord;

const NO_LOG: &str = "(not recorded: this model folder has no train-log.tsv)";
const NO_LOG_ZH: &str = "（没有记录：这个模型文件夹里没有 train-log.tsv）";

/// The model folder's training record when it has a logged training loss, or
/// Err(the text to show instead) when the record cannot be read: a broken log
/// is said in the lesson rather than stopping it.
fn train_record(c: &Cx) -> Result<Option<TrainRecord>, String> {
    let Some(dir) = c.env.model_dir else {
        return Ok(None);
    };
    match TrainRecord::read(dir) {
        Ok(r) => Ok(r.filter(|r| !r.losses().is_empty())),
        Err(e) => Err(match c.lang {
            Lang::En => format!("(the training record cannot be read: {e})"),
            Lang::Zh => format!("（训练记录读不出来：{e}）"),
        }),
    }
}

/// `f(first logged (step, loss), last, record)`, or the text saying there is none.
fn logged(
    c: &Cx,
    f: impl Fn((u64, f64), (u64, f64), &TrainRecord) -> String,
) -> Result<String, String> {
    Ok(match train_record(c) {
        Err(msg) => msg,
        Ok(None) => c.say(NO_LOG, NO_LOG_ZH).to_string(),
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

pub(super) const SPECS: &[Spec] = &[
    ph(
        "train.summary",
        NONE,
        "a paragraph on the recorded run: steps, tokens, time, first and last loss, validation loss and the curve; or one sentence saying the folder has no record",
        |c| {
            Ok(match train_record(c) {
            Err(msg) => msg,
            Ok(None) => c.say(
                "This model folder has no training record (the train-log.tsv that `gptlens train` writes), so there is no curve to show here. Train a tiny model with `gptlens train` and open its folder with `--model DIR` to see one.",
                "这个模型文件夹里没有训练记录（`gptlens train` 写出的 train-log.tsv），所以这里没有曲线可看。用 `gptlens train` 训练一个小模型，再用 `--model 目录` 打开它的文件夹，就能看到曲线。",
            ).into(),
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
                None => c
                    .say(
                        "(no baselines recorded: this model folder has no train-summary.json with them)",
                        "（没有记录基线：这个模型文件夹里没有带基线的 train-summary.json）",
                    )
                    .into(),
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
                None => c
                    .say("(no validation loss recorded)", "（没有记录验证损失）")
                    .into(),
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
];
