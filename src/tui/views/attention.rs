//! Attention: one small heatmap per head of the selected layer (the causal
//! triangle visible), a zoomed head with labelled axes, and the arithmetic of
//! the selected (query, key) cell with the real numbers. A Llama model adds
//! RoPE's rotation of q and k at the QKV stage and which query heads share a
//! key/value head (grouped-query attention).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};

use super::{Hits, attn_matrix, fit, flat, heatmap_with_legend, panel, text, token_quoted};
use crate::fmt::{compact, sig_digits};
use crate::i18n::Msg;
use crate::model::{Positions, Trace};
use crate::pass::Stage;
use crate::readout::{attention, rope};
use crate::tui::app::{App, Hit};
use crate::tui::heatmap::{Heatmap, Masked, Scale, legend};
use ratatui::widgets::{Paragraph, Widget};

/// Which matrix the stage shows: raw scores before the softmax, or weights.
fn shows_scores(stage: Stage) -> bool {
    matches!(stage, Stage::Scores | Stage::Mask | Stage::Qkv)
}

/// ↑/↓ move through the keys the query row can see (every key without the mask).
pub fn selection_count(app: &App) -> usize {
    if app.iv().no_causal_mask {
        app.tokens().len()
    } else {
        app.pos() + 1
    }
}

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let side_w = if app.theme().present || area.width < 70 {
        0
    } else {
        (area.width / 2).clamp(34, 64)
    };
    // Presenter mode keeps one line of arithmetic under the picture, outside
    // its border.
    let caption_h = u16::from(app.theme().present && side_w == 0 && area.height > 8);
    let [main, side] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(side_w)]).areas(Rect {
            height: area.height - caption_h,
            ..area
        });
    if app.stage() == Stage::Qkv && !app.zoom() {
        qkv(app, tr, main, buf);
    } else if app.stage() == Stage::OutProj && !app.zoom() {
        out_proj(app, tr, main, buf);
    } else if app.zoom() {
        zoomed(app, tr, main, buf, hits);
    } else {
        grid(app, tr, main, buf, hits);
    }
    if side_w > 0 {
        let inner = panel(
            app.theme(),
            Msg::TitleCell.get(app.theme().lang),
            side,
            buf,
            false,
        );
        super::wrapped(arithmetic(app, tr), inner, buf);
    } else if caption_h > 0 {
        let lines = arithmetic(app, tr);
        let y = area.bottom().saturating_sub(1);
        if let Some(l) = lines
            .into_iter()
            .find(|l| l.to_string().starts_with("softmax"))
        {
            text(
                vec![l],
                Rect {
                    y,
                    height: 1,
                    ..area
                },
                buf,
            );
        }
    }
}

/// The matrix of one head at this stage: raw scores (with NaN for the later
/// keys) or the weights after the softmax.
fn matrix_of(app: &App, tr: &Trace, head: usize) -> Vec<f32> {
    let n = tr.len();
    let l = &tr.layers[app.layer()];
    if shows_scores(app.stage()) {
        attn_matrix(&l.scores[head], n)
    } else {
        attn_matrix(&l.probs[head], n)
    }
}

/// The colour scale of a set of heads: scores are signed (blue–white–red
/// centred on 0, ±max|score| of those heads), weights run over [0, 1].
fn scale_of(app: &App, mats: &[&[f32]]) -> Scale {
    if shows_scores(app.stage()) {
        let all: Vec<f32> = mats.iter().flat_map(|m| m.iter().copied()).collect();
        Scale::signed(&all)
    } else {
        Scale::Magnitude { lo: 0.0, hi: 1.0 }
    }
}

/// How this stage draws the later keys, and the line that says so.
fn masked_look(app: &App) -> (Masked, Option<String>) {
    let th = app.theme();
    if app.iv().no_causal_mask {
        return (Masked::Masked, None);
    }
    let g = th.masked_glyph();
    match app.stage() {
        Stage::Scores | Stage::Qkv => {
            (Masked::Blank, Some(Msg::AttnBlankLater.get(th.lang).into()))
        }
        Stage::Mask => (
            Masked::Masked,
            Some(Msg::AttnMaskedInf.fill(th.lang, &[&g])),
        ),
        _ => (
            Masked::Masked,
            Some(Msg::AttnMaskedZero.fill(th.lang, &[&g])),
        ),
    }
}

/// The selected (query, key) cell.
fn selected(app: &App, n: usize) -> Option<(usize, usize)> {
    (n > 0).then(|| (app.pos().min(n - 1), app.cell().min(n - 1)))
}

/// One small heatmap per head of the layer, all on one scale with one legend.
fn grid(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let lang = app.theme().lang;
    let what = match app.stage() {
        Stage::Mask => Msg::TitleScoresMasked,
        s if shows_scores(s) => Msg::TitleScores,
        _ => Msg::TitleWeights,
    }
    .get(lang);
    let inner = panel(
        app.theme(),
        &Msg::TitleAttnGrid.fill(lang, &[&app.layer(), &what]),
        area,
        buf,
        true,
    );
    let h = app.n_head();
    let n = tr.len();
    if inner.area() == 0 || n == 0 {
        return;
    }
    let (masked, note) = masked_look(app);
    let mark = if app.theme().ascii || app.theme().mode == crate::tui::heatmap::ColorMode::None {
        Msg::AttnReversed.get(lang)
    } else {
        "◆"
    };
    let mut top = Msg::AttnAxes.fill(lang, &[&mark, &app.pos(), &app.cell()]);
    if let Some(note) = &note {
        top.push_str(" · ");
        top.push_str(note);
    }
    super::wrapped(
        vec![Line::styled(top, app.theme().dim())],
        Rect {
            height: inner.height.min(2),
            ..inner
        },
        buf,
    );
    let top_h = if inner.height > 12 { 2 } else { 1 };
    let inner = Rect {
        y: inner.y + top_h,
        height: inner.height.saturating_sub(top_h),
        ..inner
    };
    if inner.area() == 0 {
        return;
    }
    let cols = grid_columns(h, n, inner.width, inner.height.saturating_sub(1));
    let grid_rows = h.div_ceil(cols);
    let cw = inner.width / cols as u16;
    let ch = (inner.height.saturating_sub(1)) / grid_rows as u16;
    if cw < 4 || ch < 2 {
        return;
    }
    let mats: Vec<Vec<f32>> = (0..h).map(|head| matrix_of(app, tr, head)).collect();
    let refs: Vec<&[f32]> = mats.iter().map(|m| m.as_slice()).collect();
    let scale = scale_of(app, &refs);
    for (head, m) in mats.iter().enumerate() {
        let cell = Rect::new(
            inner.x + (head % cols) as u16 * cw,
            inner.y + (head / cols) as u16 * ch,
            cw - 1,
            ch,
        );
        let mut title = format!("H{head}");
        if tr.arch.heads_per_kv() > 1 {
            title.push_str(&format!(" kv{}", rope::kv_head(&tr.arch, head)));
        }
        if app.iv().ablate.contains(&(app.layer(), head)) {
            title.push_str(Msg::AttnAblatedMark.get(lang));
        }
        let tstyle = if head == app.head() {
            app.theme().accent()
        } else {
            app.theme().dim()
        };
        text(
            vec![Line::styled(fit(&title, cell.width as usize), tstyle)],
            cell,
            buf,
        );
        let map = Rect {
            y: cell.y + 1,
            height: cell.height - 1,
            ..cell
        };
        let hm = Heatmap::new(m, n, n, scale, app.theme())
            .cell_w(6)
            .mark(selected(app, n))
            .masked(masked);
        // Index labels on both axes where they leave room for the cells.
        let idx_w = n.saturating_sub(1).max(1).to_string().len() as u16;
        if map.width >= idx_w + 1 + (n as u16).min(8) && map.height >= idx_w + 3 {
            super::labelled_heatmap(app, hm, &tr.tokens, map, buf, false);
        } else {
            hm.render(map, buf);
        }
        hits.push((cell, Hit::Head(head)));
    }
    let y = inner.bottom() - 1;
    Paragraph::new(legend(app.theme(), scale, inner.width)).render(
        Rect {
            y,
            height: 1,
            ..inner
        },
        buf,
    );
}

/// How many heads side by side make each head's cells largest: a terminal
/// cell is about twice as tall as wide, so a matrix cell one row tall and two
/// columns wide is square.
fn grid_columns(heads: usize, n: usize, width: u16, height: u16) -> usize {
    let n = n.max(1) as f32;
    let size = |c: usize| {
        let w = (width / c as u16) as f32 - 4.0;
        let h = (height / heads.div_ceil(c) as u16) as f32 - 3.0;
        (w / n).min(2.0 * h / n)
    };
    (1..=heads.max(1))
        .max_by(|&a, &b| size(a).total_cmp(&size(b)).then(a.cmp(&b)))
        .unwrap_or(1)
}

/// Q, K and V of the selected head: [T, dₖ] each; with RoPE, the rotation
/// of the selected position's q and k above them.
fn qkv(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer) {
    let rotary = tr.arch.positions == Positions::Rotary;
    let title = if rotary {
        Msg::TitleQkvRope
    } else {
        Msg::TitleQkv
    }
    .fill(app.theme().lang, &[&app.layer(), &app.head()]);
    let inner = panel(app.theme(), &title, area, buf, true);
    let inner = if rotary {
        let lines = rope_lines(app, tr, inner.height.saturating_sub(6) as usize);
        let h = (lines.len() as u16).min(inner.height);
        super::wrapped(lines, Rect { height: h, ..inner }, buf);
        Rect {
            y: inner.y + h,
            height: inner.height - h,
            ..inner
        }
    } else {
        inner
    };
    let dk = app.gpt().config.head_dim();
    let l = &tr.layers[app.layer()];
    let cols = dk * app.head()..dk * (app.head() + 1);
    // A column between the three, so that their legends never touch.
    let parts = Layout::horizontal([Constraint::Ratio(1, 3); 3])
        .spacing(1)
        .split(inner);
    for (i, (name, a)) in [("Q", &l.q), ("K", &l.k), ("V", &l.v)]
        .into_iter()
        .enumerate()
    {
        let m = flat(a.slice(ndarray::s![.., cols.clone()]));
        text(vec![Line::raw(name)], parts[i], buf);
        let area = Rect {
            y: parts[i].y + 1,
            height: parts[i].height.saturating_sub(1),
            ..parts[i]
        };
        heatmap_with_legend(
            app.theme(),
            (&m, tr.len(), dk),
            Scale::signed(&m),
            4,
            area,
            buf,
        );
    }
}

/// RoPE at the selected position, in at most `max` lines: the angle of the
/// first pairs and the head's q and k before and after. Angles and operands
/// get six or seven significant digits and results four, so that each
/// rotation redoes by hand from the printed numbers.
fn rope_lines(app: &App, tr: &Trace, max: usize) -> Vec<Line<'static>> {
    let (h, t) = (app.head(), app.pos().min(tr.len().saturating_sub(1)));
    let d = app.gpt().config.head_dim();
    let base = rope::base(app.gpt());
    let lang = app.theme().lang;
    let base = if base.fract() == 0.0 {
        format!("{base:.0}")
    } else {
        sig_digits(base, 6)
    };
    let mut out = vec![
        Line::styled(
            Msg::AttnRope.fill(lang, &[&t, &(d / 2), &t, &base, &d]),
            app.theme().dim(),
        ),
        Line::styled(gqa_line(app, tr), app.theme().dim()),
    ];
    let pairs = rope::pairs(app.gpt(), tr, app.layer(), h, t, max.saturating_sub(2) / 3);
    let op = |v: f32| sig_digits(v as f64, 6);
    let res = |v: f32| sig_digits(v as f64, 4);
    for p in pairs {
        out.push(Line::raw(Msg::AttnRopePair.fill(
            lang,
            &[
                &p.i,
                &p.dims.0,
                &p.dims.1,
                &t,
                &sig_digits(p.freq as f64, 7),
                &op(p.angle),
            ],
        )));
        for (name, b, a) in [("q", p.q_before, p.q_after), ("k", p.k_before, p.k_after)] {
            out.push(Line::raw(format!(
                "  {name} ({}, {}) → ({}, {})",
                op(b.0),
                op(b.1),
                res(a.0),
                res(a.1)
            )));
        }
    }
    out
}

/// Which query heads share the selected head's keys and values.
fn gqa_line(app: &App, tr: &Trace) -> String {
    let a = &tr.arch;
    let g = rope::kv_head(a, app.head());
    let r = rope::sharing(a, g);
    let lang = app.theme().lang;
    if a.heads_per_kv() <= 1 {
        return Msg::AttnMultiHead.fill(lang, &[&a.n_head]);
    }
    Msg::AttnGqa.fill(
        lang,
        &[
            &a.n_head,
            &a.n_kv_head,
            &app.head(),
            &g,
            &r.start,
            &(r.end - 1),
        ],
    )
}

/// The heads' outputs side by side, and what W_O makes of them.
fn out_proj(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer) {
    let inner = panel(
        app.theme(),
        &Msg::TitleOutProj.fill(app.theme().lang, &[&app.layer()]),
        area,
        buf,
        true,
    );
    let l = &tr.layers[app.layer()];
    let c = app.gpt().config.n_embd;
    let lang = app.theme().lang;
    let parts = Layout::vertical([Constraint::Ratio(1, 2); 2]).split(inner);
    for (i, (name, a)) in [
        (
            Msg::AttnConcat.fill(lang, &[&app.n_head(), &app.gpt().config.head_dim()]),
            &l.heads,
        ),
        (
            if tr.arch.norm_has_bias() {
                Msg::AttnOutBias.get(lang).to_string()
            } else {
                Msg::AttnOutNoBias.get(lang).to_string()
            },
            &l.attn_out,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let p = parts[i];
        if p.height < 3 {
            continue;
        }
        text(vec![Line::styled(name, app.theme().dim())], p, buf);
        let m = flat(a.view());
        let area = Rect {
            y: p.y + 1,
            height: p.height - 1,
            ..p
        };
        heatmap_with_legend(
            app.theme(),
            (&m, tr.len(), c),
            Scale::signed(&m),
            2,
            area,
            buf,
        );
    }
}

/// One head, large, with token labels on both axes.
fn zoomed(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let n = tr.len();
    let inner = panel(
        app.theme(),
        &Msg::TitleZoomed.fill(app.theme().lang, &[&app.layer(), &app.head()]),
        area,
        buf,
        true,
    );
    if inner.height < 5 || inner.width < 16 || n == 0 {
        return;
    }
    let m = matrix_of(app, tr, app.head());
    let scale = scale_of(app, &[&m]);
    let (masked, note) = masked_look(app);
    let (q, k) = selected(app, n).unwrap_or((0, 0));
    let lang = app.theme().lang;
    let spans = vec![
        Span::styled(Msg::AttnZoomAxes.get(lang), app.theme().dim()),
        Span::raw(Msg::AttnZoomCell.fill(
            lang,
            &[
                &q,
                &token_quoted(app, tr.tokens[q]),
                &k,
                &token_quoted(app, tr.tokens[k]),
            ],
        )),
    ];
    let mut lines = vec![Line::from(spans)];
    if let Some(note) = note {
        lines.push(Line::styled(note, app.theme().dim()));
    }
    text(
        lines,
        Rect {
            height: 2.min(inner.height),
            ..inner
        },
        buf,
    );
    let map = Rect {
        y: inner.y + 2,
        height: inner.height - 2,
        ..inner
    };
    let hm = Heatmap::new(&m, n, n, scale, app.theme())
        .cell_w(6)
        .mark(selected(app, n))
        .masked(masked);
    let g = super::labelled_heatmap(app, hm, &tr.tokens, map, buf, true);
    hits.push((
        Rect {
            width: g.width,
            height: g.height,
            ..g.area
        },
        Hit::AttnCells(g),
    ));
}

/// The selected cell's arithmetic, each line with the engine's numbers.
pub fn arithmetic(app: &App, tr: &Trace) -> Vec<Line<'static>> {
    let n = tr.len();
    if n == 0 {
        return vec![];
    }
    let dk = app.gpt().config.head_dim();
    let (h, qi) = (app.head(), app.pos().min(n - 1));
    let l = &tr.layers[app.layer()];
    let c = attention::cell(tr, app.layer(), h, qi, app.cell(), !app.iv().no_scale);
    let ki = c.key;
    let (dot, scale, s, max, e, z, p) = (
        c.dot, c.scale, c.score, c.row_max, c.exp, c.sum_exp, c.weight,
    );
    let engine_p = c.engine_weight;
    let dim = app.theme().dim();
    let lang = app.theme().lang;
    let engine = |v: f32| Msg::EngineValue.fill(lang, &[&compact(v)]);
    let mut out = vec![
        Line::from(vec![
            Span::raw(Msg::AttnCellQuery.fill(lang, &[&app.layer(), &h, &qi])),
            Span::styled(token_quoted(app, tr.tokens[qi]), app.theme().accent()),
        ]),
        Line::from(vec![
            Span::raw(Msg::AttnCellKey.fill(lang, &[&ki])),
            Span::styled(token_quoted(app, tr.tokens[ki]), app.theme().accent()),
        ]),
    ];
    if tr.arch.positions == Positions::Rotary {
        out.push(Line::styled(
            Msg::AttnAfterRope.fill(lang, &[&qi, &ki, &(qi as i64 - ki as i64)]),
            dim,
        ));
        out.push(Line::styled(gqa_line(app, tr), dim));
    }
    out.push(Line::styled(Msg::AttnDot.fill(lang, &[&dk]), dim));
    let shown = dk.min(3);
    let mut sum = String::new();
    for (i, (q, k)) in c.q.iter().zip(&c.k).take(shown).enumerate() {
        if i > 0 {
            sum.push_str(" + ");
        }
        sum.push_str(&format!("{}×{}", compact(*q), compact(*k)));
    }
    if dk > shown {
        sum.push_str(&Msg::AttnMore.fill(lang, &[&(dk - shown)]));
    }
    out.push(Line::raw(format!("  = {} = {sum}", compact(dot))));
    if app.iv().no_scale {
        out.push(Line::styled(
            Msg::AttnNoScale.get(lang).to_string(),
            app.theme().alarm(),
        ));
    } else {
        out.push(Line::raw(format!("÷ √dₖ = ÷ √{dk} = ÷ {}", compact(scale))));
    }
    if app.iv().no_scale {
        out.push(Line::raw(Msg::AttnScore.fill(lang, &[&compact(s)])));
    } else {
        out.push(Line::raw(
            Msg::AttnScoreDiv.fill(lang, &[&compact(dot), &compact(scale), &compact(s)]),
        ));
    }
    if app.iv().no_causal_mask {
        out.push(Line::styled(
            Msg::AttnMaskOff.get(lang).to_string(),
            app.theme().alarm(),
        ));
    } else {
        let hidden = if qi + 1 >= n {
            Msg::AttnMaskLast.get(lang).to_string()
        } else {
            Msg::AttnMaskHidden.fill(lang, &[&(qi + 1), &(n - 1)])
        };
        out.push(Line::styled(hidden, dim));
    }
    out.push(Line::raw(Msg::AttnRowMax.fill(lang, &[&compact(max)])));
    if c.shifted == 0.0 {
        out.push(Line::raw(Msg::AttnExpMax.get(lang)));
    } else {
        out.push(Line::raw(format!(
            "exp(s − m) = exp({}) = {}",
            compact(c.shifted),
            compact(e)
        )));
    }
    out.push(Line::raw(Msg::AttnRowSum.fill(lang, &[&compact(z)])));
    out.push(Line::raw(format!(
        "softmax = {} ÷ {} = {}",
        compact(e),
        compact(z),
        compact(p)
    )));
    out.push(Line::styled(format!("  {}", engine(engine_p)), dim));
    // Weighted sum of V for the first dims of this head.
    let v = &l.v;
    let probs = &l.probs[h][qi];
    if app.iv().ablate.contains(&(app.layer(), h)) {
        out.push(Line::styled(
            Msg::AttnAblated.get(lang).to_string(),
            app.theme().alarm(),
        ));
    }
    out.push(Line::styled(
        Msg::AttnWeightedSum.get(lang).to_string(),
        dim,
    ));
    for d in 0..dk.min(2) {
        let c = dk * h + d;
        let val = attention::weighted_sum(tr, app.layer(), h, qi, d);
        let first: Vec<String> = probs
            .iter()
            .enumerate()
            .take(2)
            .map(|(kk, pk)| format!("{}·{}", compact(*pk), compact(v[[kk, c]])))
            .collect();
        let more = if probs.len() > 2 { " + …" } else { "" };
        out.push(Line::raw(format!(
            " d{d} = {} = {}{more}",
            compact(val),
            first.join(" + "),
        )));
        out.push(Line::styled(
            format!("     {}", engine(l.heads[[qi, c]])),
            dim,
        ));
    }
    if app.iv().is_active()
        && let Some(normal) = app.trace()
        && normal.len() == n
    {
        let np = normal.layers[app.layer()].probs[h][qi]
            .get(ki)
            .copied()
            .unwrap_or(f32::NAN);
        out.push(Line::styled(
            Msg::AttnWithout.fill(lang, &[&compact(np), &compact(engine_p)]),
            app.theme().alarm(),
        ));
    }
    out
}
