//! Cost: where the work of a step goes, read from the FLOP ledger
//! ([`crate::cost::Ledger`]) for the selected position: stage by stage, for
//! that token alone and for every position up to it run in one pass; how
//! attention's share grows with the context; parameters by group; the bytes a
//! step reads and the KV cache it keeps. Every number is the ledger's.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::tokens::align_right;
use super::{Hits, fit, panel, text, token_quoted};
use crate::cost::{F32_BYTES, Kind, Ledger, Params, preset};
use crate::fmt::{bytes, count, percent, si, sig};
use crate::i18n::{Lang, Msg};
use crate::model::{Config, Trace};
use crate::pass::Stage;
use crate::tui::app::{App, Hit};

/// Contexts the attention-share table always shows (clipped to the model's
/// own context, which is shown too).
const CONTEXTS: [usize; 4] = [1, 16, 64, 256];

/// Width of the stage-name column (the ledger's longest name).
const NAME_W: usize = 28;
/// Width of a number column (`si` and `percent` need at most 6).
const COL_W: usize = 7;

/// How many stages the ledger lists: what ↑/↓ select from.
pub fn stage_count(cfg: &Config) -> usize {
    Ledger::for_step(cfg, 0, 1).rows.len()
}

/// The two ledgers of position `pos`: that token run with `pos` tokens already
/// in the KV cache (what generating it costs), and positions 0..=pos run in
/// one pass from an empty cache (what the prompt so far costs).
pub fn ledgers(cfg: &Config, pos: usize) -> (Ledger, Ledger) {
    (
        Ledger::for_step(cfg, pos, 1),
        Ledger::for_prompt(cfg, pos + 1),
    )
}

/// Share of one token's FLOPs spent in attention's own products (QKᵀ and the
/// weighted sum of V) when the token attends to `ctx` tokens, itself included.
pub fn attention_share(cfg: &Config, ctx: usize) -> f64 {
    let l = Ledger::for_step(cfg, ctx.saturating_sub(1), 1);
    let total = l.flops();
    if total > 0.0 {
        l.attention_flops() / total
    } else {
        0.0
    }
}

/// The contexts to compare: [`CONTEXTS`], the model's context and `here`,
/// none above the model's context, ascending, each once.
pub fn contexts(n_ctx: usize, here: usize) -> Vec<usize> {
    let mut v: Vec<usize> = CONTEXTS
        .iter()
        .copied()
        .chain([n_ctx, here])
        .filter(|&c| c >= 1 && c <= n_ctx.max(1))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn bar(app: &App, share: f64, w: usize) -> String {
    let n = (share.clamp(0.0, 1.0) * w as f64).round() as usize;
    std::iter::repeat_n(app.theme().bar(), n.min(w)).collect()
}

/// Bar colour of a ledger group (attention stands out: it is what grows).
fn group_style(app: &App, group: &str) -> Style {
    let t = match group {
        "embedding" => 0.15,
        "attention" => 0.95,
        "mlp" => 0.6,
        "logits" => 0.4,
        _ => 0.0,
    };
    match app.theme().color(t, false) {
        Some(c) => Style::default().fg(c),
        None => Style::default(),
    }
}

/// A ledger row's name as a reader of `lang` sees it: the ledger's own
/// (English) name, or its translation.
fn stage_name(name: &'static str, lang: Lang) -> &'static str {
    const NAMES: [Msg; 16] = [
        Msg::CostEmbedToken,
        Msg::CostEmbedTokenPos,
        Msg::CostLn1,
        Msg::CostLn2,
        Msg::CostQkvGrouped,
        Msg::CostQkv,
        Msg::CostScores,
        Msg::CostSoftmax,
        Msg::CostWeightedSum,
        Msg::CostOutProj,
        Msg::CostRopeResidual,
        Msg::CostBiasResidual,
        Msg::CostMlpGateUp,
        Msg::CostMlpUp,
        Msg::CostMlpDown,
        Msg::CostFinalLn,
    ];
    const MORE: [Msg; 2] = [Msg::CostFinalRms, Msg::CostUnembed];
    NAMES
        .iter()
        .chain(&MORE)
        .find(|m| m.get(Lang::En) == name)
        .map_or(name, |m| m.get(lang))
}

/// A ledger group's name (the key `group_style` colours by) in `lang`.
fn group_name(group: &'static str, lang: Lang) -> &'static str {
    let m = match group {
        "embedding" => Msg::CostGroupEmbedding,
        "attention" => Msg::CostGroupAttention,
        "mlp" => Msg::CostGroupMlp,
        "norm" => Msg::CostGroupNorm,
        _ => return group,
    };
    m.get(lang)
}

/// ↑/↓ move through the ledger's stages.
pub fn selection_count(app: &App) -> usize {
    stage_count(&app.gpt().config)
}

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let cfg = &app.gpt().config;
    let pos = app.pos().min(tr.len().saturating_sub(1));
    let (tok, all) = ledgers(cfg, pos);
    let side_w = if app.theme().present || app.zoom() || area.width < 110 {
        0
    } else {
        (area.width * 2 / 5).clamp(44, 76)
    };
    let [main, side] =
        Layout::horizontal([Constraint::Min(30), Constraint::Length(side_w)]).areas(area);
    let token = tr
        .tokens
        .get(pos)
        .map_or(String::new(), |&id| token_quoted(app, id));
    let title = Msg::TitleLedger.fill(app.theme().lang, &[&pos, &token]);
    let inner = panel(app.theme(), &title, main, buf, true);
    let w = inner.width as usize;
    let lang = app.theme().lang;
    let mut lines = vec![Line::from(vec![
        Span::raw(Msg::CostToken.fill(lang, &[&pos])),
        Span::styled(
            format!("{} FLOPs", count(tok.flops())),
            app.theme().accent(),
        ),
        Span::raw(Msg::CostOnePass.fill(lang, &[&pos, &count(all.flops())])),
    ])];
    if side_w == 0 {
        lines.push(share_line(app, cfg, pos + 1, w));
        lines.push(Line::raw(fit(
            &Msg::CostReadLine.fill(
                lang,
                &[
                    &bytes(tok.weight_bytes()),
                    &bytes(tok.kv_cache_bytes),
                    &count(tok.params.total),
                    &format!("{:.2}", tok.arithmetic_intensity()),
                ],
            ),
            w,
        )));
    }
    let wide = w >= 90;
    let fixed = NAME_W + 4 * (1 + COL_W) + 1 + if wide { 1 + COL_W } else { 0 };
    let bar_w = w.saturating_sub(fixed);
    let cols = |name: &str, vals: [String; 4], more: Option<String>| -> String {
        let mut s = fit(name, NAME_W);
        for v in vals.iter().chain(more.iter()) {
            s.push(' ');
            s.push_str(&align_right(v, COL_W));
        }
        s.push(' ');
        s
    };
    let header = cols(
        Msg::CostColStage.get(lang),
        [
            Msg::CostColMulAdd.get(lang).into(),
            "FLOPs".into(),
            Msg::CostColShare.get(lang).into(),
            format!("0–{pos}"),
        ],
        wide.then(|| "0–t FLOPs".into()),
    ) + Msg::CostColBar.get(lang);
    lines.push(Line::styled(fit(&header, w), app.theme().dim()));
    // Room for every stage first, then the total, then the selected stage's line.
    let top = lines.len();
    let room = (inner.height as usize).saturating_sub(top);
    let n_st = tok.rows.len();
    let (rows, total_row, detail_row) = if room > n_st + 1 {
        (n_st, true, true)
    } else if room > n_st {
        (n_st, true, false)
    } else {
        (room.max(1), false, false)
    };
    // Too short for every stage: the matrix products, then one row for the
    // elementwise rest, so the big stages are never scrolled away.
    let condensed = rows < n_st;
    let shown: Vec<usize> = if condensed {
        (0..n_st)
            .filter(|&i| tok.rows[i].kind == Kind::Matmul)
            .collect()
    } else {
        (0..n_st).collect()
    };
    let sel = app.cell().min(n_st.saturating_sub(1));
    let shares = tok.shares();
    let all_shares = all.shares();
    let top_share = shares.iter().copied().fold(0.0, f64::max);
    let rel = |x: f64| if top_share > 0.0 { x / top_share } else { 0.0 };
    for &i in shown.iter().take(rows) {
        let st = &tok.rows[i];
        let mut style = Style::default();
        if i == sel && !condensed {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let ma = if st.kind == Kind::Matmul {
            si(st.multiply_adds)
        } else {
            "-".to_string()
        };
        let row = cols(
            stage_name(st.name, lang),
            [ma, si(st.flops), percent(shares[i]), percent(all_shares[i])],
            wide.then(|| si(all.rows[i].flops)),
        );
        lines.push(Line::from(vec![
            Span::styled(row, style),
            Span::styled(bar(app, rel(shares[i]), bar_w), group_style(app, st.group)),
        ]));
    }
    if condensed && shown.len() < rows {
        let rest = |l: &Ledger| -> f64 {
            l.rows
                .iter()
                .filter(|s| s.kind == Kind::Elementwise)
                .map(|s| s.flops)
                .sum()
        };
        let (r, ra) = (rest(&tok), rest(&all));
        let share = |x: f64, t: f64| if t > 0.0 { x / t } else { 0.0 };
        let row = cols(
            Msg::CostElementwiseRest.get(lang),
            [
                "-".into(),
                si(r),
                percent(share(r, tok.flops())),
                percent(share(ra, all.flops())),
            ],
            wide.then(|| si(ra)),
        );
        lines.push(Line::from(vec![
            Span::styled(row, app.theme().dim()),
            Span::styled(
                bar(app, rel(share(r, tok.flops())), bar_w),
                group_style(app, "norm"),
            ),
        ]));
    }
    if total_row {
        let total = cols(
            Msg::CostTotal.get(lang),
            [
                si(tok.multiply_adds()),
                si(tok.flops()),
                percent(1.0),
                percent(1.0),
            ],
            wide.then(|| si(all.flops())),
        );
        lines.push(Line::styled(
            fit(&total, w),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    }
    if detail_row && let Some(st) = tok.rows.get(sel) {
        lines.push(Line::styled(
            fit(&stage_detail(cfg, st, lang), w),
            app.theme().dim(),
        ));
    }
    // Tall panels: the same by part of the model, and the 2N rule beside the ledger.
    let extra = groups_and_rule(app, &tok, &all, pos, w);
    if lines.len() + 1 + extra.len() <= inner.height as usize {
        lines.push(Line::raw(""));
        lines.extend(extra);
    }
    if !condensed {
        hits.push((
            Rect {
                y: inner.y + top as u16,
                height: (rows as u16).min(inner.height.saturating_sub(top as u16)),
                ..inner
            },
            Hit::ListRows { first: 0 },
        ));
    }
    text(lines, inner, buf);
    if side_w > 0 {
        side_panels(app, cfg, &tok, pos + 1, side, buf);
    }
}

/// FLOPs by part of the model (the ledger's groups) for this token and for
/// positions 0..=pos, and the ≈2N rule of thumb next to the ledger's count.
fn groups_and_rule(
    app: &App,
    tok: &Ledger,
    all: &Ledger,
    pos: usize,
    w: usize,
) -> Vec<Line<'static>> {
    let (t_total, a_total) = (tok.flops(), all.flops());
    let lang = app.theme().lang;
    let share = |x: f64, total: f64| if total > 0.0 { x / total } else { 0.0 };
    let bar_w = w.saturating_sub(12 + 2 * (COL_W + 1) + 3) / 2;
    let mut lines = vec![Line::styled(
        fit(
            &format!(
                "{} {} {:>COL_W$}   {}",
                fit(Msg::CostByPart.get(lang), 12),
                align_right(Msg::CostColShare.get(lang), COL_W),
                format!("0–{pos}"),
                Msg::CostThisToken.fill(lang, &[&pos])
            ),
            w,
        ),
        app.theme().dim(),
    )];
    for ((g, f), (_, fa)) in tok.groups().into_iter().zip(all.groups()) {
        let (s, sa) = (share(f, t_total), share(fa, a_total));
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{} {:>COL_W$} {:>COL_W$}   ",
                fit(group_name(g, lang), 12),
                percent(s),
                percent(sa)
            )),
            Span::styled(fit(&bar(app, s, bar_w), bar_w), group_style(app, g)),
            Span::raw(" "),
            Span::styled(bar(app, sa, bar_w), group_style(app, g)),
        ]));
    }
    let n = tok.params.non_embedding;
    lines.push(Line::raw(""));
    lines.push(Line::raw(fit(
        &Msg::CostRule.fill(lang, &[&count(n), &count(2.0 * n)]),
        w,
    )));
    lines.push(Line::raw(fit(
        &Msg::CostLedgerCounts.fill(
            lang,
            &[
                &count(t_total),
                &count(tok.stage(Stage::Logits).map_or(0.0, |s| s.flops)),
                &count(tok.attention_flops()),
            ],
        ),
        w,
    )));
    lines
}

/// One stage in words: per layer, what it reads.
fn stage_detail(cfg: &Config, st: &crate::cost::Row, lang: Lang) -> String {
    let layers = if st.per_layer {
        Msg::CostLayersTimes.fill(
            lang,
            &[&cfg.n_layer, &count(st.flops / cfg.n_layer.max(1) as f64)],
        )
    } else {
        String::new()
    };
    let how = match st.kind {
        Kind::Matmul => Msg::CostHowMatmul,
        Kind::Elementwise => Msg::CostHowElementwise,
    }
    .get(lang);
    Msg::CostDetail.fill(
        lang,
        &[
            &stage_name(st.name, lang),
            &count(st.flops),
            &layers,
            &how,
            &bytes(st.weight_bytes),
        ],
    )
}

/// Attention's share at each context on one line, the current one marked.
fn share_line(app: &App, cfg: &Config, here: usize, w: usize) -> Line<'static> {
    let lang = app.theme().lang;
    let mut spans = vec![Span::raw(Msg::CostShareByContext.get(lang))];
    for c in contexts(cfg.n_positions, here) {
        let s = format!("{c}:{}", percent(attention_share(cfg, c)));
        if c == here {
            spans.push(Span::styled(format!(" [{s}]"), app.theme().accent()));
        } else {
            spans.push(Span::raw(format!(" {s}")));
        }
    }
    let used: usize = spans.iter().map(|s| super::width(&s.content)).sum();
    if used > w {
        // Too narrow for every context: keep the first, the current and the last.
        let all = contexts(cfg.n_positions, here);
        let keep = [all.first().copied(), Some(here), all.last().copied()];
        let mut spans = vec![Span::raw(Msg::CostShareShort.get(lang))];
        let mut last = 0;
        for c in keep.into_iter().flatten() {
            if c == last {
                continue;
            }
            last = c;
            let s = format!("{c}:{}", percent(attention_share(cfg, c)));
            spans.push(if c == here {
                Span::styled(format!(" [{s}]"), app.theme().accent())
            } else {
                Span::raw(format!(" {s}"))
            });
        }
        return Line::from(spans);
    }
    Line::from(spans)
}

/// The right-hand panels: attention's share by context, parameters, memory,
/// and the same context at GPT-3's shape.
fn side_panels(app: &App, cfg: &Config, tok: &Ledger, here: usize, area: Rect, buf: &mut Buffer) {
    let ctxs = contexts(cfg.n_positions, here);
    let lang = app.theme().lang;
    let share_h = ctxs.len() as u16 + 4;
    let params_h = 7;
    let [a, b, c] = Layout::vertical([
        Constraint::Length(share_h),
        Constraint::Length(params_h),
        Constraint::Min(3),
    ])
    .areas(area);
    // Attention's share grows with the context.
    let inner = panel(
        app.theme(),
        Msg::TitleAttnShare.get(app.theme().lang),
        a,
        buf,
        false,
    );
    let w = inner.width as usize;
    let mut lines = vec![Line::styled(
        fit(Msg::CostOneTokenAttending.get(lang), w),
        app.theme().dim(),
    )];
    let label_w = 14;
    let bar_w = w.saturating_sub(label_w + 8);
    let top = attention_share(cfg, ctxs.last().copied().unwrap_or(1));
    for &ctx in &ctxs {
        let s = attention_share(cfg, ctx);
        let rel = if top > 0.0 { s / top } else { 0.0 };
        let mark = if ctx == here { "▶" } else { " " };
        let mark = if app.theme().ascii && ctx == here {
            ">"
        } else {
            mark
        };
        let style = if ctx == here {
            app.theme().accent()
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(fit(&format!("{mark}ctx {ctx}"), label_w), style),
            Span::styled(format!("{:>7} ", percent(s)), style),
            Span::styled(bar(app, rel, bar_w), group_style(app, "attention")),
        ]));
    }
    lines.push(Line::styled(
        fit(Msg::CostMatricesSame.get(lang), w),
        app.theme().dim(),
    ));
    crate::tui::views::wrapped(lines, inner, buf);

    // Parameters by group: the ledger's weight bytes per stage, in numbers.
    let inner = panel(
        app.theme(),
        Msg::TitleParameters.get(app.theme().lang),
        b,
        buf,
        false,
    );
    let p = Params::of(cfg);
    let group = |stages: &[Stage]| -> f64 {
        stages
            .iter()
            .filter_map(|&k| tok.stage(k))
            .map(|s| s.weight_bytes / F32_BYTES)
            .sum()
    };
    let rows = [
        (Msg::CostParamsEmbedding.get(lang), p.embedding),
        (
            Msg::CostParamsAttention.get(lang),
            group(&[Stage::Qkv, Stage::OutProj]),
        ),
        (
            Msg::CostParamsMlp.get(lang),
            group(&[Stage::MlpUp, Stage::MlpDown]),
        ),
        (
            Msg::CostParamsNorms.get(lang),
            group(&[Stage::Ln1, Stage::Ln2, Stage::FinalLn]),
        ),
    ];
    let w = inner.width as usize;
    let name_w = w.saturating_sub(19).min(31);
    let mut lines = vec![];
    for (name, n) in rows {
        let share = if p.total > 0.0 { n / p.total } else { 0.0 };
        lines.push(Line::raw(fit(
            &format!(
                "{} {:>11} {:>6}",
                fit(name, name_w),
                count(n),
                percent(share)
            ),
            w,
        )));
    }
    lines.push(Line::styled(
        fit(
            &format!(
                "{} {:>11}",
                fit(Msg::CostTotal.get(lang), name_w),
                count(p.total)
            ),
            w,
        ),
        Style::default().add_modifier(Modifier::BOLD),
    ));
    text(lines, inner, buf);

    // Memory, and the same context at GPT-3's shape.
    let inner = panel(
        app.theme(),
        Msg::TitleBytes.get(app.theme().lang),
        c,
        buf,
        false,
    );
    let kv_token = Ledger::for_prompt(cfg, 1).kv_cache_bytes;
    let mut lines = vec![
        Line::raw(Msg::CostWeightsRead.fill(lang, &[&bytes(tok.weight_bytes())])),
        Line::raw(Msg::CostKvHeld.fill(
            lang,
            &[
                &bytes(tok.kv_cache_bytes),
                &bytes(kv_token),
                &bytes(Ledger::for_prompt(cfg, cfg.n_positions).kv_cache_bytes),
                &cfg.n_positions,
            ],
        )),
        Line::raw(Msg::CostPerByte.fill(lang, &[&format!("{:.2}", tok.arithmetic_intensity())])),
    ];
    if let Ok(g) = preset("gpt3") {
        let g_cfg = g.shape.config();
        let ctx = here.min(g_cfg.n_positions);
        let gl = Ledger::for_step(&g_cfg, ctx - 1, 1);
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            Msg::CostGpt3.fill(
                lang,
                &[
                    &g_cfg.n_layer,
                    &g_cfg.n_embd,
                    &ctx,
                    &sig(gl.flops(), 3),
                    &percent(attention_share(&g_cfg, ctx)),
                    &g_cfg.n_positions,
                    &percent(attention_share(&g_cfg, g_cfg.n_positions)),
                ],
            ),
            app.theme().dim(),
        ));
    }
    crate::tui::views::wrapped(lines, inner, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_keeps_three_significant_digits_in_six_columns() {
        assert_eq!(si(0.0), "0");
        assert_eq!(si(999.0), "999");
        assert_eq!(si(1000.0), "1.00k");
        assert_eq!(si(2_631_680.0), "2.63M");
        assert_eq!(si(12_345_678.0), "12.3M");
        assert_eq!(si(999_999.0), "1.00M");
        assert_eq!(si(1.75e11), "175G");
    }

    #[test]
    fn contexts_are_clipped_sorted_and_include_the_current_one() {
        assert_eq!(contexts(256, 10), vec![1, 10, 16, 64, 256]);
        assert_eq!(contexts(32, 16), vec![1, 16, 32]);
        assert_eq!(contexts(1024, 1024), vec![1, 16, 64, 256, 1024]);
    }

    #[test]
    fn attention_share_is_the_ledgers_and_grows_with_context() {
        let cfg = Config::new(4, 4, 128, 2048, 256);
        let l = Ledger::for_step(&cfg, 99, 1);
        assert_eq!(attention_share(&cfg, 100), l.attention_flops() / l.flops());
        let s: Vec<f64> = contexts(256, 100)
            .iter()
            .map(|&c| attention_share(&cfg, c))
            .collect();
        assert!(s.windows(2).all(|p| p[0] < p[1]), "{s:?}");
        // Scores and weighted sum: 2 products × L × C multiply-adds per key.
        let ma_per_key = 2.0 * 4.0 * 128.0;
        let l1 = Ledger::for_step(&cfg, 0, 1);
        assert_eq!(l1.attention_flops(), 2.0 * ma_per_key);
    }
}
