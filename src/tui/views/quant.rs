//! Quantization: one real block of 32 weights of a chosen matrix, and what
//! Q8_0, Q4_0 and Q4_1 store for it (the scale, Q4_1's minimum, the
//! integers), what each weight comes back as and its error; beside it every
//! format's bits per weight and the bytes one decoded token reads. Every
//! number is `readout::quant`'s. `[ ]` choose the layer, `{ }` the matrix,
//! ↑/↓ the block.
//!
//! Two layouts: at 80×24 the 32 weights in four groups of eight with each
//! format's integers under them; from about 130×45 (a projector) the whole
//! table, one weight a row, with the values back and the errors, and the
//! formats beside it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block as Frame, Borders, Paragraph, Widget};

use super::tokens::align_right;
use super::{fit, panel, text, wrapped};
use crate::fmt::{bytes, count, sig_digits};
use crate::i18n::{Lang, Msg};
use crate::quant::{GgmlType, QK};
use crate::readout::quant::{self, Block, Coded};
use crate::tui::app::App;
use crate::tui::keymap::{Action, EXPLORER, key_name};

/// Columns and rows the one-weight-a-row table needs (inside the frame).
const TABLE_W: usize = 3 + 10 + 3 * 25;
const TABLE_H: u16 = QK as u16 + 8;
/// The formats panel beside it.
const SIDE_W: u16 = 44;

/// ↑/↓ move through the matrix's blocks.
pub fn selection_count(app: &App) -> usize {
    let w = &app.gpt().weights;
    quant::matrices(w, app.layer())
        .get(app.matrix())
        .map_or(1, |m| m.blocks().max(1))
}

/// The selected block, as the readout gives it.
pub fn selected(app: &App) -> Result<Block, quant::BlockError> {
    let gpt = app.gpt();
    quant::block(
        &gpt.weights,
        &gpt.config,
        app.layer(),
        app.matrix(),
        app.cell(),
    )
}

/// The keys bound to `actions` in the explorer's table, e.g. "{ }".
fn keys(actions: &[Action]) -> String {
    actions
        .iter()
        .flat_map(|a| {
            EXPLORER
                .rows
                .iter()
                .flat_map(|r| r.binds.iter())
                .filter(move |b| b.action == *a)
                .take(1)
                .map(|b| key_name(b.code))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A weight or a value: four significant digits (three in the tight layout).
fn val(x: f32, digits: usize) -> String {
    sig_digits(x as f64, digits)
}

/// An error: two significant digits.
fn err(x: f32) -> String {
    sig_digits(x as f64, 2)
}

/// "d 0.001234" (and "m −0.1234" for Q4_1).
fn constants(c: &Coded) -> String {
    match c.min {
        Some(m) => format!("d {}, m {}", val(c.scale, 4), val(m, 4)),
        None => format!("d {}", val(c.scale, 4)),
    }
}

/// What a matrix is (`readout::quant`'s English description) in `lang`.
fn what(what: &'static str, lang: Lang) -> &'static str {
    const WHAT: [Msg; 11] = [
        Msg::QuantWhatQ,
        Msg::QuantWhatK,
        Msg::QuantWhatV,
        Msg::CostOutProj,
        Msg::QuantWhatGate,
        Msg::QuantWhatUp,
        Msg::QuantWhatDown,
        Msg::CostQkv,
        Msg::QuantWhatTiedTable,
        Msg::QuantWhatTable,
        Msg::QuantWhatHead,
    ];
    WHAT.iter()
        .find(|m| m.get(Lang::En) == what)
        .map_or(what, |m| m.get(lang))
}

/// The panel's title; `short` for 80 columns (no description, no layer:
/// the name has it).
fn title(b: &Block, short: bool, lang: Lang) -> String {
    let m = &b.matrix;
    let at = Msg::QuantBlockAt.fill(
        lang,
        &[
            &count(b.index as f64),
            &count(m.blocks() as f64),
            &b.row,
            &b.col,
            &(b.col + QK - 1),
        ],
    );
    if short {
        return format!("{} · {at} · {}", m.name, m.stored);
    }
    let layer = m
        .layer
        .map_or(String::new(), |l| Msg::QuantLayer.fill(lang, &[&l]));
    let stored = if m.stored == GgmlType::F32 {
        Msg::QuantStoredF32.get(lang).to_string()
    } else {
        Msg::QuantStoredFile.fill(lang, &[&m.stored])
    };
    format!(
        "{} ({}){layer} · {at} · {stored}",
        m.name,
        what(m.what, lang)
    )
}

/// The line of keys: layer, matrix, block.
fn key_line(app: &App, b: &Block) -> String {
    let lang = app.theme().lang;
    let n = quant::matrices(&app.gpt().weights, app.layer()).len();
    Msg::QuantKeys.fill(
        lang,
        &[
            &keys(&[Action::LayerDown, Action::LayerUp]),
            &keys(&[Action::HeadDown, Action::HeadUp]),
            &(app.matrix() + 1),
            &n,
            &keys(&[Action::SelectUp, Action::SelectDown]),
        ],
    ) + if b.coded.iter().any(|c| c.from_file) {
        Msg::QuantFileNoError.get(lang)
    } else {
        ""
    }
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let b = match selected(app) {
        Ok(b) => b,
        Err(e) => {
            // No block to show; the formats' bytes per token still apply.
            let inner = panel(
                app.theme(),
                Msg::TitleQuant.get(app.theme().lang),
                area,
                buf,
                true,
            );
            let lang = app.theme().lang;
            let mut lines = vec![Line::raw(e.to_string()), Line::raw("")];
            for c in quant::format_costs(&app.gpt().config) {
                lines.push(Line::raw(format!(
                    "{:<5} {:>4} {}",
                    c.ty.name(),
                    sig_digits(c.bits_per_weight, 2),
                    Msg::QuantBitsPerToken.fill(lang, &[&bytes(c.bytes_per_token)])
                )));
            }
            wrapped(lines, inner, buf);
            return;
        }
    };
    let wide = area.width as usize >= TABLE_W + 2 && area.height >= TABLE_H + 4;
    if wide {
        render_table(app, &b, area, buf);
    } else {
        render_groups(app, &b, area, buf);
    }
}

/// 80×24: a frame with only its top line (the title), the weights in four
/// groups of eight with each format's integers under them, then the
/// errors and the bytes per token.
fn render_groups(app: &App, b: &Block, area: Rect, buf: &mut Buffer) {
    let t = app.theme();
    let lang = t.lang;
    let frame = Frame::default()
        .borders(Borders::TOP)
        .border_style(t.accent())
        .title(Line::styled(
            format!(" {} ", title(b, true, lang)),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    let inner = frame.inner(area);
    frame.render(area, buf);
    let w = inner.width as usize;
    let mut lines = vec![Line::raw(fit(
        &Msg::QuantScale.fill(
            lang,
            &[&b.coded
                .iter()
                .map(|c| format!("{} {}", c.ty, constants(c)))
                .collect::<Vec<_>>()
                .join(" · ")],
        ),
        w,
    ))];
    for g in 0..QK / 8 {
        let js = g * 8..g * 8 + 8;
        let mut s = format!("{:>5} ", format!("{}–{}", js.start, js.end - 1));
        for j in js.clone() {
            s.push_str(&format!(" {:>8}", val(b.weights[j], 3)));
        }
        lines.push(Line::styled(fit(&s, w), t.accent()));
        for c in &b.coded {
            let mut s = format!("{:<5} ", c.ty.name());
            for j in js.clone() {
                s.push_str(&format!(" {:>8}", c.ints[j]));
            }
            lines.push(Line::raw(fit(&s, w)));
        }
    }
    let errors = b
        .coded
        .iter()
        .map(|c| match (c.rms(), c.max_error()) {
            (Some(r), Some(m)) => format!("{} {}/{}", c.ty, err(r), err(m)),
            _ => Msg::QuantFiles.fill(lang, &[&c.ty]),
        })
        .collect::<Vec<_>>()
        .join(" · ");
    lines.push(Line::raw(fit(&Msg::QuantErrors.fill(lang, &[&errors]), w)));
    let per_token = b
        .costs
        .iter()
        .filter(|c| c.ty != GgmlType::F16 || w >= 96)
        .map(|c| format!("{} {}", c.ty, bytes(c.bytes_per_token)))
        .collect::<Vec<_>>()
        .join(" · ");
    lines.push(Line::raw(fit(
        &Msg::QuantPerToken.fill(lang, &[&per_token]),
        w,
    )));
    lines.push(Line::styled(fit(&key_line(app, b), w), t.dim()));
    text(lines, inner, buf);
}

/// A projector: one weight a row (q, the value back, the error for each
/// format), RMS and max under it, the formats beside it.
fn render_table(app: &App, b: &Block, area: Rect, buf: &mut Buffer) {
    let t = app.theme();
    let lang = t.lang;
    let side = area.width >= TABLE_W as u16 + 2 + SIDE_W;
    let main = Rect {
        width: if side {
            area.width - SIDE_W
        } else {
            area.width
        },
        ..area
    };
    let inner = panel(t, &title(b, false, lang), main, buf, true);
    let w = inner.width as usize;
    let sep = if t.ascii { "|" } else { "│" };
    let mut lines = vec![Line::styled(fit(&key_line(app, b), w), t.dim())];
    let mut head = " ".repeat(13);
    let mut consts = " ".repeat(13);
    let mut sub = format!(
        "{:>3}{}",
        "j",
        align_right(Msg::QuantColWeight.get(lang), 10)
    );
    for c in &b.coded {
        let ty = if c.from_file {
            Msg::QuantFiles.fill(lang, &[&c.ty])
        } else {
            c.ty.to_string()
        };
        head.push_str(&format!("{sep}{}", fit(&format!(" {ty}"), 24)));
        consts.push_str(&format!("{sep}{}", fit(&format!(" {}", constants(c)), 24)));
        sub.push_str(&format!(
            "{sep}{:>5}{:>10}{}",
            "q",
            c.formula(),
            align_right(Msg::QuantColError.get(lang), 9)
        ));
    }
    let bold = Style::default().add_modifier(Modifier::BOLD);
    lines.push(Line::styled(fit(&head, w), bold));
    lines.push(Line::raw(fit(&consts, w)));
    lines.push(Line::styled(fit(&sub, w), t.dim()));
    for j in 0..QK {
        let mut s = format!("{j:>3}{:>10}", val(b.weights[j], 4));
        for c in &b.coded {
            let e = c.errors.map_or("–".to_string(), |e| err(e[j]));
            s.push_str(&format!(
                "{sep}{:>5}{:>10}{:>9}",
                c.ints[j],
                val(c.values[j], 4),
                e
            ));
        }
        lines.push(Line::raw(fit(&s, w)));
    }
    for (name, f) in [
        (Msg::QuantRmsError, Coded::rms as fn(&Coded) -> Option<f32>),
        (Msg::QuantMaxError, Coded::max_error),
    ] {
        let mut s = align_right(name.get(lang), 13);
        for c in &b.coded {
            s.push_str(&format!("{sep}{:>24}", f(c).map_or("–".to_string(), err)));
        }
        lines.push(Line::raw(fit(&s, w)));
    }
    text(lines, inner, buf);
    let costs_area = if side {
        Rect {
            x: main.right(),
            width: SIDE_W,
            ..area
        }
    } else {
        let used = (TABLE_H + 3).min(area.height);
        Rect {
            y: area.y + used,
            height: area.height - used,
            ..area
        }
    };
    if costs_area.height >= 4 {
        render_costs(app, b, costs_area, buf);
    }
}

/// Every format's bits per weight and bytes per decoded token.
fn render_costs(app: &App, b: &Block, area: Rect, buf: &mut Buffer) {
    let inner = panel(
        app.theme(),
        Msg::TitleQuantFormats.get(app.theme().lang),
        area,
        buf,
        false,
    );
    let w = inner.width as usize;
    let lang = app.theme().lang;
    let mut lines = vec![Line::styled(
        fit(
            &format!(
                "{}{}{}{:>9}",
                fit(Msg::QuantColFormat.get(lang), 6),
                align_right(Msg::QuantColBits.get(lang), 5),
                align_right(Msg::QuantColBytes.get(lang), 16),
                "÷ f32"
            ),
            w,
        ),
        app.theme().dim(),
    )];
    for c in &b.costs {
        let style = if c.ty == b.matrix.stored {
            app.theme().accent()
        } else {
            Style::default()
        };
        lines.push(Line::from(Span::styled(
            fit(
                &format!(
                    "{:<6}{:>5}{:>16}{:>9}",
                    c.ty.name(),
                    sig_digits(c.bits_per_weight, 2),
                    bytes(c.bytes_per_token),
                    format!("{}×", sig_digits(c.fewer_than_f32, 3))
                ),
                w,
            ),
            style,
        )));
    }
    lines.push(Line::raw(""));
    for l in [
        Msg::QuantNote1,
        Msg::QuantNote2,
        Msg::QuantNote3,
        Msg::QuantNote4,
    ] {
        lines.push(Line::styled(fit(l.get(lang), w), app.theme().dim()));
    }
    Paragraph::new(lines).render(inner, buf);
}
