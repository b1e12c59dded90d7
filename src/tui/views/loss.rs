//! Loss: the tokens on screen (prompt and generated) taken as a given text and
//! scored the way pretraining scores text. Row t of the trace's logits
//! predicts token t+1, so each position but the last has a cross-entropy
//! −ln p(token t+1 | tokens 0..=t); their mean is the loss, exp(mean) the
//! perplexity. The selected position's arithmetic is spelt out.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::tokens::align_right;
use super::{Hits, fit, panel, text, token_label, token_quoted, wrapped};
use crate::fmt::{count, num};
use crate::i18n::Msg;
use crate::model::Trace;
use crate::readout::loss::{TokenLoss, mean_loss, token_losses};
use crate::tui::app::{App, Hit};

/// How many tokens on screen are the prompt of a templated turn and reply
/// when the model folder carries a chat template (a fine-tuned model):
/// predictions of the later tokens are what fine-tuning counts.
pub fn response_start(app: &App) -> Option<usize> {
    let turn = crate::finetune::mask::model_turn(app.model_dir()?)?;
    let texts: Vec<&str> = app.tokens().iter().map(|&t| app.token_text(t)).collect();
    turn.prompt_len(&texts)
}

/// Nothing to select inside (↑/↓ move the position instead).
pub fn selection_count(_app: &App) -> usize {
    1
}

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let n = tr.len();
    let pos = app.pos().min(n.saturating_sub(1));
    let losses = token_losses(tr);
    let vocab = app.gpt().config.vocab_size as f64;
    let uniform = vocab.ln();
    let mask = response_start(app).filter(|&p| p < n);
    let counted = |t: usize| mask.is_none_or(|p| crate::finetune::mask::counts(t + 1, p));
    let side_w = if app.theme().present || app.zoom() || area.width < 110 {
        0
    } else {
        (area.width * 2 / 5).clamp(44, 72)
    };
    let [main, side] =
        Layout::horizontal([Constraint::Min(30), Constraint::Length(side_w)]).areas(area);
    let inner = panel(
        app.theme(),
        Msg::TitleLoss.get(app.theme().lang),
        main,
        buf,
        true,
    );
    let w = inner.width as usize;
    let lang = app.theme().lang;
    let mut lines = vec![];
    match mean_loss(&losses) {
        Some(m) => {
            lines.push(Line::from(vec![
                Span::raw(Msg::LossMean.get(lang)),
                Span::styled(Msg::LossNats.fill(lang, &[&num(m)]), app.theme().accent()),
                Span::raw(Msg::LossOver.fill(lang, &[&losses.len(), &num(m.exp())])),
            ]));
            lines.push(Line::styled(
                fit(
                    &Msg::LossUniform.fill(lang, &[&count(vocab), &num(uniform)]),
                    w,
                ),
                app.theme().dim(),
            ));
            if app.iv().is_active()
                && let Some(normal) = app.trace()
                && normal.len() == n
                && app.alt().is_some()
                && let Some(m0) = mean_loss(&token_losses(normal))
            {
                lines.push(Line::styled(
                    fit(&Msg::LossWithout.fill(lang, &[&num(m0), &num(m0.exp())]), w),
                    app.theme().alarm(),
                ));
            }
        }
        None => lines.push(Line::raw(Msg::LossOneToken.get(lang))),
    }
    if let Some(p) = mask {
        let k: Vec<&TokenLoss> = losses.iter().filter(|l| counted(l.pos)).collect();
        let m = k.iter().map(|l| l.loss).sum::<f64>() / k.len().max(1) as f64;
        lines.push(Line::styled(
            fit(
                &Msg::LossReplyOnly.fill(lang, &[&num(m), &k.len(), &(p - 1)]),
                w,
            ),
            app.theme().accent(),
        ));
    }
    let tok_w = 12;
    let fixed = 5 + 1 + tok_w + 3 + tok_w + 1 + 9 + 1 + 8 + 1;
    let bar_w = w.saturating_sub(fixed);
    lines.push(Line::styled(
        fit(
            &format!(
                "{} {} → {} {} {:>8} {}",
                align_right(Msg::LossColPos.get(lang), 5),
                fit(Msg::LossColToken.get(lang), tok_w),
                fit(Msg::LossColNext.get(lang), tok_w),
                align_right(Msg::LossColP.get(lang), 9),
                "−ln P",
                Msg::LossColBar.get(lang)
            ),
            w,
        ),
        app.theme().dim(),
    ));
    let detail_h = if side_w == 0 { 2 } else { 0 };
    let top = lines.len();
    let rows = (inner.height as usize)
        .saturating_sub(top + detail_h)
        .max(1);
    let first = pos.saturating_sub(rows.saturating_sub(1));
    let scale = losses
        .iter()
        .map(|l| l.loss)
        .filter(|l| l.is_finite())
        .fold(uniform, f64::max);
    let mark_at = if scale > 0.0 {
        ((uniform / scale) * bar_w as f64).round() as usize
    } else {
        0
    };
    for t in (first..n).take(rows) {
        let mut st = if counted(t) {
            Style::default()
        } else {
            app.theme().dim()
        };
        if t == pos {
            st = st.add_modifier(Modifier::REVERSED);
        }
        let y = inner.y + lines.len() as u16;
        if y < inner.bottom() {
            hits.push((Rect::new(inner.x, y, inner.width, 1), Hit::Token(t)));
        }
        let head = format!("{t:>5} {} → ", token_label(app, tr.tokens[t], tok_w));
        let Some(l) = losses.get(t) else {
            lines.push(Line::from(vec![
                Span::styled(head, st),
                Span::styled(Msg::LossNotGiven.get(lang), app.theme().dim()),
            ]));
            continue;
        };
        let len = if scale > 0.0 && l.loss.is_finite() {
            ((l.loss / scale) * bar_w as f64).round() as usize
        } else {
            bar_w
        }
        .min(bar_w);
        let mut bar: String = std::iter::repeat_n(app.theme().bar(), len).collect();
        if mark_at > len && mark_at <= bar_w {
            bar.extend(std::iter::repeat_n(' ', mark_at.saturating_sub(len + 1)));
            bar.push('|');
        }
        let colour = match app
            .theme()
            .color((l.loss / scale).clamp(0.0, 1.0) as f32, false)
        {
            Some(c) => Style::default().fg(c),
            None => Style::default(),
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{head}{} {:>9} {:>8} ",
                    token_label(app, l.next, tok_w),
                    num(l.p),
                    num(l.loss)
                ),
                st,
            ),
            Span::styled(bar, colour),
        ]));
    }
    let arithmetic = arithmetic(app, tr, losses.get(pos), side_w == 0);
    if side_w == 0 {
        let y = inner.y + lines.len() as u16;
        text(lines, inner, buf);
        let below = Rect {
            y: y.max(inner.bottom().saturating_sub(detail_h as u16)),
            height: detail_h as u16,
            ..inner
        };
        let below = below.intersection(inner);
        wrapped(arithmetic.into_iter().take(2).collect(), below, buf);
    } else {
        text(lines, inner, buf);
        let inner = panel(
            app.theme(),
            Msg::TitleSelectedPosition.get(app.theme().lang),
            side,
            buf,
            false,
        );
        wrapped(arithmetic, inner, buf);
    }
}

/// The selected position's loss step by step, with the trace's numbers.
/// `compact`: the two lines that fit under the list; otherwise one step a line.
fn arithmetic(app: &App, tr: &Trace, l: Option<&TokenLoss>, compact: bool) -> Vec<Line<'static>> {
    let lang = app.theme().lang;
    let Some(l) = l else {
        return vec![Line::raw(
            Msg::LossLastNoNext.fill(lang, &[&tr.len().saturating_sub(1)]),
        )];
    };
    let (from, to) = (
        token_quoted(app, tr.tokens[l.pos]),
        token_quoted(app, l.next),
    );
    let (logit, lse, p, loss) = (num(l.logit), num(l.logsumexp), num(l.p), num(l.loss));
    if compact {
        return vec![
            Line::raw(Msg::LossCompact1.fill(lang, &[&l.pos, &from, &to, &logit, &lse])),
            Line::styled(
                Msg::LossCompact2.fill(lang, &[&logit, &lse, &p, &loss]),
                app.theme().accent(),
            ),
        ];
    }
    let row = tr.logits.row(l.pos);
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let top = crate::readout::argmax(&row.to_vec()) as u32;
    let rank = 1 + row.iter().filter(|&&x| x as f64 > l.logit).count();
    vec![
        Line::raw(Msg::LossPosition.fill(lang, &[&l.pos, &from, &to])),
        Line::raw(Msg::LossLogitOf.fill(lang, &[&to, &logit])),
        Line::raw(Msg::LossLseOfRow.fill(lang, &[&lse])),
        Line::raw(format!("p = exp({logit} − {lse}) = {p}")),
        Line::styled(Msg::LossMinusLn.fill(lang, &[&loss]), app.theme().accent()),
        Line::raw(""),
        Line::raw(Msg::LossLseSum.fill(lang, &[&num(max), &num(l.logsumexp - max), &row.len()])),
        Line::raw(Msg::LossRanked.fill(
            lang,
            &[
                &rank,
                &token_quoted(app, top),
                &num(((row[top as usize] as f64) - l.logsumexp).exp()),
            ],
        )),
        Line::raw(""),
        Line::styled(Msg::LossNote.get(lang).to_string(), app.theme().dim()),
    ]
}
