//! Logits: the top candidates as bars with their probabilities, the entropy,
//! the sampling settings (t/T, k/K, p/P change them live), the token the
//! settings pick, and the beam-search tree when beam search is on.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::{Hits, fit, pad_start, panel, text, token_label, token_quoted};
use crate::fmt::compact;
use crate::i18n::Msg;
use crate::model::Trace;
use crate::sample::{BeamResult, Pick};
use crate::tui::app::{App, Hit};

/// ↑/↓ move through the ranked candidates.
pub fn selection_count(app: &App) -> usize {
    app.preview().map_or(1, |p| p.ranked.len())
}

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let side_w = if app.beam_on() && !app.theme().present && area.width >= 70 {
        (area.width * 2 / 5).clamp(30, 70)
    } else {
        0
    };
    let [main, side] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(side_w)]).areas(area);
    let s = app.sampling();
    let lang = app.theme().lang;
    let title = Msg::TitleLogits.fill(
        lang,
        &[
            &if s.temperature == 0.0 {
                Msg::TitleGreedy.get(lang).to_string()
            } else {
                format!("{:.2}", s.temperature)
            },
            &if s.top_k == 0 {
                Msg::TitleOff.get(lang).to_string()
            } else {
                s.top_k.to_string()
            },
            &format!("{:.2}", s.top_p),
        ],
    );
    let inner = panel(app.theme(), &title, main, buf, true);
    if let Some(p) = app.preview() {
        let alt = if app.iv().is_active() {
            app.alt_preview()
        } else {
            None
        };
        // An untied head (or a Llama model's) gets one line saying which
        // matrix makes the logits, its top logit recomputed.
        let inner = match head_line(app, tr) {
            Some(l) if inner.height > 3 => {
                text(vec![l], inner, buf);
                Rect {
                    y: inner.y + 1,
                    height: inner.height - 1,
                    ..inner
                }
            }
            _ => inner,
        };
        candidates(app, p, alt, inner, buf, hits);
    }
    if side_w > 0 {
        let inner = panel(app.theme(), Msg::TitleBeam.get(lang), side, buf, false);
        match &app.beam() {
            Some(b) => text(beam_tree(app, b, inner.height as usize), inner, buf),
            None => text(vec![Line::raw(Msg::TitleSearching.get(lang))], inner, buf),
        }
    }
}

/// Which matrix turns the final residual into logits, for a model whose
/// head is not GPT-2's tied wte: None for the tied GPT-2.
fn head_line(app: &App, tr: &Trace) -> Option<Line<'static>> {
    let a = &tr.arch;
    if a.tied_unembedding && a.family == crate::model::Family::Gpt2 || tr.is_empty() {
        return None;
    }
    let norm = if a.norm_has_bias() {
        "LN_f"
    } else {
        "RMSNorm_f"
    };
    let (v, c) = (app.vocab_len(), app.gpt().config.n_embd);
    let lang = app.theme().lang;
    let which = if a.tied_unembedding {
        Msg::LogitTied
    } else {
        Msg::LogitUntied
    }
    .fill(lang, &[&norm, &v, &c]);
    let (j, re, engine) = crate::readout::logits::recompute_top(app.gpt(), tr, tr.len() - 1);
    Some(Line::styled(
        Msg::LogitTop.fill(
            lang,
            &[
                &which,
                &token_quoted(app, j as u32),
                &compact(re),
                &compact(engine),
            ],
        ),
        app.theme().dim(),
    ))
}

fn candidates(
    app: &App,
    p: &Pick,
    alt: Option<&Pick>,
    area: Rect,
    buf: &mut Buffer,
    hits: &mut Hits,
) {
    let lang = app.theme().lang;
    let how = match (p.greedy, p.draw) {
        (true, _) => Msg::LogitGreedy.get(lang).to_string(),
        (false, Some(u)) => Msg::LogitDrew.fill(lang, &[&format!("{u:.3}")]),
        (false, None) => Msg::LogitSampled.get(lang).to_string(),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::raw(Msg::LogitPick.get(lang)),
            Span::styled(token_quoted(app, p.token), app.theme().accent()),
            Span::raw(Msg::LogitPickInfo.fill(
                lang,
                &[
                    &how,
                    &format!("{:.3}", p.entropy),
                    &p.kept,
                    &format!("{:.3}", p.kept_mass),
                ],
            )),
        ]),
        Line::styled(
            format!(
                "{} {} {} {} {:>7} {}{}",
                pad_start(Msg::LogitColRank.get(lang), 4),
                pad_start(Msg::LogitColId.get(lang), 6),
                fit(Msg::ColToken.get(lang), 12),
                pad_start(Msg::LogitColLogit.get(lang), 8),
                "p",
                pad_start(Msg::LogitColKept.get(lang), 7),
                if alt.is_some() {
                    Msg::LogitColAlt.get(lang)
                } else {
                    ""
                }
            ),
            app.theme().dim(),
        ),
    ];
    let rows = area.height.saturating_sub(2) as usize;
    let first = app.cell().saturating_sub(rows.saturating_sub(1));
    let fixed = 4 + 1 + 6 + 1 + 12 + 1 + 8 + 1 + 7 + 1 + 7 + 1 + if alt.is_some() { 10 } else { 0 };
    let bar_w = (area.width as usize).saturating_sub(fixed + 2);
    for (rank, c) in p.ranked.iter().enumerate().skip(first).take(rows) {
        let kept = c.kept_prob > 0.0;
        let mut st = if kept {
            Style::default()
        } else {
            app.theme().dim()
        };
        if rank == app.cell() {
            st = st.add_modifier(Modifier::REVERSED);
        }
        let bar_len = (c.prob * bar_w as f32).round() as usize;
        let bar: String = std::iter::repeat_n(app.theme().bar(), bar_len).collect();
        let mut spans = vec![Span::styled(
            format!(
                "{:>4} {:>6} {} {:>8} {:>7} {:>7} ",
                rank + 1,
                c.id,
                token_label(app, c.id, 12),
                compact(c.logit),
                compact(c.prob),
                compact(c.kept_prob)
            ),
            st,
        )];
        if let Some(a) = alt {
            let ap = a
                .ranked
                .iter()
                .find(|x| x.id == c.id)
                .map_or(0.0, |x| x.prob);
            spans.push(Span::styled(
                format!("{:>8}  ", compact(ap)),
                app.theme().alarm(),
            ));
        }
        let bar_style = match app.theme().color(c.prob.sqrt(), false) {
            Some(col) if kept => Style::default().fg(col),
            _ => app.theme().dim(),
        };
        spans.push(Span::styled(bar, bar_style));
        if c.id == p.token {
            spans.push(Span::styled(
                Msg::LogitPicked.get(lang),
                app.theme().accent(),
            ));
        } else if !kept && rank > 0 && p.ranked.get(rank - 1).is_some_and(|x| x.kept_prob > 0.0) {
            spans.push(Span::styled(Msg::LogitCut.get(lang), app.theme().dim()));
        }
        lines.push(Line::from(spans));
    }
    hits.push((
        Rect {
            y: area.y + 2,
            height: area.height.saturating_sub(2),
            ..area
        },
        Hit::ListRows { first },
    ));
    text(lines, area, buf);
}

/// The search tree, one line per node, children under their parent.
fn beam_tree(app: &App, b: &BeamResult, max_lines: usize) -> Vec<Line<'static>> {
    let mut lines = vec![];
    fn walk(
        app: &App,
        b: &BeamResult,
        parent: Option<usize>,
        depth: usize,
        out: &mut Vec<Line<'static>>,
        max: usize,
    ) {
        for (i, node) in b
            .tree
            .iter()
            .enumerate()
            .filter(|(_, n)| n.parent == parent)
        {
            if out.len() >= max {
                return;
            }
            let st = if node.survived {
                Style::default()
            } else {
                app.theme().dim()
            };
            out.push(Line::styled(
                format!(
                    "{}{} {:.2}{}",
                    "  ".repeat(depth),
                    token_quoted(app, node.token),
                    node.logprob,
                    if node.survived { "" } else { " ✗" }
                ),
                st,
            ));
            if node.survived {
                walk(app, b, Some(i), depth + 1, out, max);
            }
        }
    }
    walk(app, b, None, 0, &mut lines, max_lines.saturating_sub(2));
    if let Some(best) = b.beams.first() {
        let txt: String = best.tokens.iter().map(|&t| token_quoted(app, t)).collect();
        lines.push(Line::styled(
            Msg::LogitBest.fill(app.theme().lang, &[&format!("{:.2}", best.score), &txt]),
            app.theme().accent(),
        ));
    }
    lines
}
