//! The half-block heatmap: two matrix rows per terminal cell ('▀' with the upper
//! row as foreground and the lower as background), colour-blind-safe colormaps
//! with truecolor, 256- and 16-colour fallbacks, and a glyph ramp when colour is
//! off so that nothing disappears.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::fmt::compact;

/// How many colours the terminal shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMode {
    TrueColor,
    Indexed256,
    Basic16,
    /// NO_COLOR or --no-color: glyphs and numbers only.
    None,
}

impl ColorMode {
    /// From the environment: NO_COLOR wins, then COLORTERM, then TERM.
    pub fn detect(no_color_flag: bool) -> ColorMode {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        if no_color_flag || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return ColorMode::None;
        }
        let ct = var("COLORTERM").to_ascii_lowercase();
        if ct.contains("truecolor") || ct.contains("24bit") {
            return ColorMode::TrueColor;
        }
        let term = var("TERM");
        if term.contains("256") {
            ColorMode::Indexed256
        } else if term == "dumb" {
            ColorMode::None
        } else {
            ColorMode::Basic16
        }
    }
}

/// The sequential colormap used for magnitudes (signed values always use the
/// diverging blue–white–red map).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Palette {
    Viridis,
    Cividis,
    Gray,
}

/// Everything that decides how things look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub mode: ColorMode,
    pub palette: Palette,
    /// No block or box glyphs.
    pub ascii: bool,
    /// Presenter mode: wider cells, bold, high contrast.
    pub present: bool,
    /// The interface's language (titles, captions, keys, messages).
    pub lang: crate::i18n::Lang,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            mode: ColorMode::TrueColor,
            palette: Palette::Viridis,
            ascii: false,
            present: false,
            lang: crate::i18n::Lang::En,
        }
    }
}

/// How values map to colours. Which one a view uses follows from what the
/// data means, not from the signs it happens to have: signed quantities
/// (scores, Q/K/V, the residual stream) are always [`Scale::signed`], so a head
/// whose scores are all negative is drawn blue under a blue–white–red legend.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// lo..hi onto the sequential map.
    Magnitude { lo: f32, hi: f32 },
    /// −m..m onto the diverging map, 0 white.
    Signed { max_abs: f32 },
}

impl Scale {
    /// The scale that fits `data` (NaN ignored): signed when it has both signs.
    pub fn fit(data: &[f32]) -> Scale {
        let (lo, hi) = finite_range(data);
        if !lo.is_finite() {
            return Scale::Magnitude { lo: 0.0, hi: 1.0 };
        }
        if lo < 0.0 && hi > 0.0 {
            Scale::Signed {
                max_abs: lo.abs().max(hi.abs()),
            }
        } else {
            Scale::Magnitude { lo, hi }
        }
    }

    /// The diverging scale centred on 0 for signed data, whatever signs `data`
    /// happens to have: ±max|v| (±1 when there is nothing finite or all zero).
    pub fn signed(data: &[f32]) -> Scale {
        let (lo, hi) = finite_range(data);
        let m = lo.abs().max(hi.abs());
        Scale::Signed {
            max_abs: if m.is_finite() && m > 0.0 { m } else { 1.0 },
        }
    }

    /// The sequential scale over `data`'s own range (non-negative data: norms).
    pub fn magnitude(data: &[f32]) -> Scale {
        let (lo, hi) = finite_range(data);
        if lo.is_finite() {
            Scale::Magnitude { lo, hi }
        } else {
            Scale::Magnitude { lo: 0.0, hi: 1.0 }
        }
    }

    /// Position of `v` on the colormap, 0..=1.
    pub fn unit(self, v: f32) -> f32 {
        let t = match self {
            Scale::Magnitude { lo, hi } => {
                if hi > lo {
                    (v - lo) / (hi - lo)
                } else {
                    0.5
                }
            }
            Scale::Signed { max_abs } => {
                if max_abs > 0.0 {
                    0.5 + 0.5 * v / max_abs
                } else {
                    0.5
                }
            }
        };
        t.clamp(0.0, 1.0)
    }

    pub fn range(self) -> (f32, f32) {
        match self {
            Scale::Magnitude { lo, hi } => (lo, hi),
            Scale::Signed { max_abs } => (-max_abs, max_abs),
        }
    }

    pub fn diverging(self) -> bool {
        matches!(self, Scale::Signed { .. })
    }
}

/// Smallest and largest finite value (∞, −∞ when there is none).
fn finite_range(data: &[f32]) -> (f32, f32) {
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in data.iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (lo, hi)
}

const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];
const CIVIDIS: [(u8, u8, u8); 5] = [
    (0, 34, 78),
    (62, 77, 108),
    (124, 123, 120),
    (188, 175, 111),
    (254, 232, 56),
];
const GRAY: [(u8, u8, u8); 2] = [(16, 16, 16), (245, 245, 245)];
/// ColorBrewer RdBu reversed (blue = negative), listed as colour-blind safe.
const DIVERGING: [(u8, u8, u8); 7] = [
    (33, 102, 172),
    (103, 169, 207),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (239, 138, 98),
    (178, 24, 43),
];

/// Dark grey for masked cells (future keys) in every colour mode.
pub const MASKED_RGB: (u8, u8, u8) = (48, 48, 48);

/// Glyph ramp for NO_COLOR, sparse to dense (magnitudes: weights, norms). It
/// holds neither '.' nor '-', which mean "masked" and "negative".
pub const RAMP: &[u8] = b" :=+*#%@";

/// Signed glyphs for NO_COLOR, weak to strong: below zero and above zero, so
/// the sign reads without colour (near zero is blank).
pub const NEG_GLYPHS: [char; 3] = ['-', '=', '≡'];
pub const POS_GLYPHS: [char; 3] = ['+', '*', '#'];
const NEG_GLYPHS_ASCII: [char; 3] = ['-', '=', '='];

/// What a masked cell (a later key) shows: '·' on dark grey, "−∞" in words.
pub const MASKED_GLYPH: char = '·';

fn lerp_table(table: &[(u8, u8, u8)], t: f32) -> (u8, u8, u8) {
    let x = t.clamp(0.0, 1.0) * (table.len() - 1) as f32;
    let i = (x.floor() as usize).min(table.len() - 2);
    let f = x - i as f32;
    let (a, b) = (table[i], table[i + 1]);
    let mix = |p: u8, q: u8| (p as f32 + (q as f32 - p as f32) * f).round() as u8;
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The xterm 256-colour index nearest to an RGB colour (cube or grey ramp).
pub fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    let level = |v: u8| ((v as f32 / 255.0) * 5.0).round() as u8;
    let (lr, lg, lb) = (level(r), level(g), level(b));
    let spread = r.max(g).max(b) - r.min(g).min(b);
    if spread < 12 {
        let grey = (r as u16 + g as u16 + b as u16) / 3;
        if grey < 8 {
            return 16;
        }
        if grey > 238 {
            return 231;
        }
        return 232 + ((grey - 8) / 10).min(23) as u8;
    }
    16 + 36 * lr + 6 * lg + lb
}

impl Theme {
    fn rgb(&self, t: f32, diverging: bool) -> (u8, u8, u8) {
        if diverging {
            return lerp_table(&DIVERGING, t);
        }
        match self.palette {
            Palette::Viridis => lerp_table(&VIRIDIS, t),
            Palette::Cividis => lerp_table(&CIVIDIS, t),
            Palette::Gray => lerp_table(&GRAY, t),
        }
    }

    /// The colour for position t (0..=1) on the map; None without colour.
    pub fn color(&self, t: f32, diverging: bool) -> Option<Color> {
        let (r, g, b) = self.rgb(t, diverging);
        match self.mode {
            ColorMode::TrueColor => Some(Color::Rgb(r, g, b)),
            ColorMode::Indexed256 => Some(Color::Indexed(rgb_to_256(r, g, b))),
            ColorMode::Basic16 => Some(basic16(t, diverging)),
            ColorMode::None => None,
        }
    }

    /// Colour of a masked cell.
    pub fn masked(&self) -> Option<Color> {
        let (r, g, b) = MASKED_RGB;
        match self.mode {
            ColorMode::TrueColor => Some(Color::Rgb(r, g, b)),
            ColorMode::Indexed256 => Some(Color::Indexed(rgb_to_256(r, g, b))),
            ColorMode::Basic16 => Some(Color::Black),
            ColorMode::None => None,
        }
    }

    /// Glyph for position t when colour is off (sequential ramp).
    pub fn glyph(t: f32) -> char {
        let i = (t.clamp(0.0, 1.0) * (RAMP.len() - 1) as f32).round() as usize;
        RAMP[i] as char
    }

    /// Glyph for position t on a diverging scale when colour is off: blank
    /// near 0, then three strengths of '−'-like or '+'-like glyphs.
    pub fn signed_glyph(&self, t: f32) -> char {
        let v = 2.0 * t.clamp(0.0, 1.0) - 1.0;
        let a = v.abs();
        if a < 0.1 {
            return ' ';
        }
        let level = if a < 0.4 {
            0
        } else if a < 0.75 {
            1
        } else {
            2
        };
        match (v < 0.0, self.ascii) {
            (true, false) => NEG_GLYPHS[level],
            (true, true) => NEG_GLYPHS_ASCII[level],
            (false, _) => POS_GLYPHS[level],
        }
    }

    /// The glyph of a masked cell.
    pub fn masked_glyph(&self) -> char {
        if self.ascii { '.' } else { MASKED_GLYPH }
    }

    /// The name of what a legend's gradient shows, true to the colour mode.
    pub fn scale_name(&self, diverging: bool) -> String {
        use crate::i18n::Msg;
        let lang = self.lang;
        match (self.mode, diverging) {
            (ColorMode::None, true) => {
                let neg = if self.ascii {
                    NEG_GLYPHS_ASCII
                } else {
                    NEG_GLYPHS
                };
                let neg = format!("{}{}{}", neg[2], neg[1], neg[0]);
                let pos = format!("{}{}{}", POS_GLYPHS[0], POS_GLYPHS[1], POS_GLYPHS[2]);
                Msg::ScaleGlyphsSigned.fill(lang, &[&neg, &pos])
            }
            (ColorMode::None, false) => Msg::ScaleGlyphs.get(lang).into(),
            (_, true) => Msg::ScaleDiverging.get(lang).into(),
            (ColorMode::Basic16, false) => Msg::ScaleBasic.get(lang).into(),
            (_, false) => match self.palette {
                Palette::Viridis => "viridis".into(),
                Palette::Cividis => "cividis".into(),
                Palette::Gray => Msg::ScaleGray.get(lang).into(),
            },
        }
    }

    /// Accent colour for highlights (selection, cursor).
    pub fn accent(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        match self.mode {
            ColorMode::None => s.add_modifier(Modifier::REVERSED),
            _ => s.fg(Color::Yellow),
        }
    }

    /// Style for warnings (interventions active).
    pub fn alarm(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        match self.mode {
            ColorMode::None => s.add_modifier(Modifier::REVERSED),
            _ => s.fg(Color::Black).bg(Color::LightRed),
        }
    }

    /// Dim text (labels); plain in presenter mode for contrast.
    pub fn dim(&self) -> Style {
        if self.present || self.mode == ColorMode::None {
            Style::default()
        } else {
            Style::default().fg(Color::DarkGray)
        }
    }

    /// Horizontal bar glyph (block or '#').
    pub fn bar(&self) -> char {
        if self.ascii { '#' } else { '█' }
    }

    /// Matrix rows drawn per terminal row.
    pub fn rows_per_cell(&self) -> usize {
        if self.ascii || self.mode == ColorMode::None {
            1
        } else {
            2
        }
    }
}

/// The 16-colour ramps, each ordered dark to bright (sequential) or blue to
/// red through white (diverging).
pub const BASIC16_SEQ: [Color; 5] = [
    Color::Blue,
    Color::LightBlue,
    Color::Cyan,
    Color::LightCyan,
    Color::White,
];
const BASIC16_DIV: [Color; 5] = [
    Color::Blue,
    Color::LightBlue,
    Color::White,
    Color::LightRed,
    Color::Red,
];

fn basic16(t: f32, diverging: bool) -> Color {
    let pick =
        |tab: &[Color]| tab[((t * (tab.len() - 1) as f32).round() as usize).min(tab.len() - 1)];
    if diverging {
        pick(&BASIC16_DIV)
    } else {
        pick(&BASIC16_SEQ)
    }
}

/// Black or white, whichever reads on an RGB background.
fn contrast((r, g, b): (u8, u8, u8)) -> Color {
    let lum = 0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32;
    if lum > 140.0 {
        Color::Black
    } else {
        Color::White
    }
}

/// A matrix to draw: row-major `rows × cols`; NaN marks a masked cell.
#[derive(Clone, Copy)]
pub struct Heatmap<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub scale: Scale,
    pub theme: &'a Theme,
    /// Most terminal columns one matrix column may take (cells grow up to it
    /// to fill the area; presenter mode triples it, see [`Heatmap::max_cell_w`]).
    pub cell_w: u16,
    /// The selected (row, column): drawn with '◆' on its colour, or reversed
    /// without colour, so it is found on every heatmap.
    pub mark: Option<(usize, usize)>,
    /// How a NaN cell looks.
    pub masked: Masked,
}

/// What a NaN cell means where it is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Masked {
    /// Masked (score −∞, weight 0): '·' on dark grey.
    Masked,
    /// Not part of this picture (later keys before the mask is applied): blank.
    Blank,
}

impl<'a> Heatmap<'a> {
    pub fn new(data: &'a [f32], rows: usize, cols: usize, scale: Scale, theme: &'a Theme) -> Self {
        Heatmap {
            data,
            rows,
            cols,
            scale,
            theme,
            cell_w: 1,
            mark: None,
            masked: Masked::Masked,
        }
    }

    pub fn cell_w(self, cell_w: u16) -> Self {
        Heatmap { cell_w, ..self }
    }

    pub fn mark(self, mark: Option<(usize, usize)>) -> Self {
        Heatmap { mark, ..self }
    }

    pub fn masked(self, masked: Masked) -> Self {
        Heatmap { masked, ..self }
    }

    /// The cap on a cell's width: `cell_w`, three times that in presenter
    /// mode, so that a view given the whole projector gets large cells.
    pub fn max_cell_w(&self) -> u16 {
        if self.theme.present {
            self.cell_w.saturating_mul(3)
        } else {
            self.cell_w
        }
    }
}

/// Where the matrix lands on screen, shared by drawing and mouse hit-testing.
/// A small matrix is scaled up (wider cells, taller rows) to fill the area;
/// a large one is binned down (each cell shows the mean of its block).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geometry {
    pub area: Rect,
    pub rows: usize,
    pub cols: usize,
    /// Terminal columns and rows used.
    pub width: u16,
    pub height: u16,
    /// Terminal columns per matrix column (1 when binned).
    pub cell_w: u16,
    /// Matrix rows per terminal row: 2 with half blocks, else 1.
    pub rows_per_cell: usize,
    /// Terminal rows per matrix row when scaled up (then rows_per_cell is 1).
    pub row_h: u16,
}

impl Geometry {
    /// `max_cell_w` caps how wide one matrix column may grow; `rows_per_cell`
    /// is what the glyphs allow (2 for half blocks).
    pub fn new(
        area: Rect,
        rows: usize,
        cols: usize,
        max_cell_w: u16,
        rows_per_cell: usize,
    ) -> Self {
        let cols_fit = cols.max(1) as u64;
        let cell_w = ((area.width as u64 / cols_fit).min(max_cell_w.max(1) as u64)).max(1) as u16;
        let width = if cols as u64 * cell_w as u64 <= area.width as u64 {
            cols as u16 * cell_w
        } else {
            area.width
        };
        let (rows_per_cell, row_h) = if rows > 0 && rows <= area.height as usize {
            let h = (area.height as usize / rows)
                .min((cell_w as usize / 2).max(1))
                .max(1);
            (1, h as u16)
        } else {
            (rows_per_cell.max(1), 1)
        };
        let want_h =
            (rows.div_ceil(rows_per_cell) as u64 * row_h as u64).min(u16::MAX as u64) as u16;
        Geometry {
            area,
            rows,
            cols,
            width: width.min(area.width),
            height: want_h.min(area.height),
            cell_w,
            rows_per_cell,
            row_h,
        }
    }

    /// Matrix column range shown in terminal column group `gx`.
    fn col_range(&self, gx: usize) -> (usize, usize) {
        let groups = (self.width / self.cell_w).max(1) as usize;
        bin(gx, groups, self.cols)
    }

    /// Matrix row range for sub-row `k` of terminal row `ty`.
    fn row_range(&self, ty: usize, k: usize) -> (usize, usize) {
        if self.row_h > 1 || self.rows_per_cell == 1 && self.rows <= self.height as usize {
            let r = ty / self.row_h as usize;
            return if r < self.rows { (r, r + 1) } else { (r, r) };
        }
        let sub = self.height as usize * self.rows_per_cell;
        bin(ty * self.rows_per_cell + k, sub, self.rows)
    }

    /// The matrix cell under a screen position, if any.
    pub fn cell_at(&self, x: u16, y: u16) -> Option<(usize, usize)> {
        let a = self.area;
        if x < a.x || y < a.y || x >= a.x + self.width || y >= a.y + self.height {
            return None;
        }
        let gx = ((x - a.x) / self.cell_w) as usize;
        let (r0, r1) = self.row_range((y - a.y) as usize, 0);
        let (c0, _) = self.col_range(gx);
        (r0 < r1 && r0 < self.rows && c0 < self.cols).then_some((r0, c0))
    }

    /// Screen x of matrix column c (first terminal column of its group).
    pub fn x_of_col(&self, c: usize) -> u16 {
        let groups = (self.width / self.cell_w).max(1) as usize;
        let g = if self.cols <= groups {
            c
        } else {
            c * groups / self.cols.max(1)
        };
        self.area.x + (g as u16).saturating_mul(self.cell_w)
    }

    /// Screen y of matrix row r (its first terminal row).
    pub fn y_of_row(&self, r: usize) -> u16 {
        if self.row_h > 1 || self.rows_per_cell == 1 && self.rows <= self.height as usize {
            return self.area.y + (r as u16).saturating_mul(self.row_h);
        }
        let sub = self.height as usize * self.rows_per_cell;
        let s = if self.rows <= sub {
            r
        } else {
            r * sub / self.rows.max(1)
        };
        self.area.y + (s / self.rows_per_cell) as u16
    }

    /// Whether every matrix row has its own terminal row (labels fit).
    pub fn one_row_per_line(&self) -> bool {
        self.rows_per_cell == 1 && self.rows <= self.height as usize
    }
}

/// Splits n items into `parts` bins; when there are fewer items than parts
/// each bin is one item (or empty past the end).
fn bin(i: usize, parts: usize, n: usize) -> (usize, usize) {
    if n <= parts {
        return (i, (i + 1).min(n).max(i));
    }
    let lo = i * n / parts;
    let hi = ((i + 1) * n / parts).max(lo + 1);
    (lo, hi.min(n))
}

impl Heatmap<'_> {
    pub fn geometry(&self, area: Rect) -> Geometry {
        Geometry::new(
            area,
            self.rows,
            self.cols,
            self.max_cell_w(),
            self.theme.rows_per_cell(),
        )
    }

    /// Mean of the finite values in a block; NaN when all are masked.
    fn block(&self, (r0, r1): (usize, usize), (c0, c1): (usize, usize)) -> f32 {
        let (mut s, mut n) = (0.0f32, 0u32);
        for r in r0..r1 {
            for c in c0..c1 {
                if let Some(&v) = self.data.get(r * self.cols + c)
                    && v.is_finite()
                {
                    s += v;
                    n += 1;
                }
            }
        }
        if n == 0 { f32::NAN } else { s / n as f32 }
    }
}

impl Widget for Heatmap<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() || self.rows == 0 || self.cols == 0 {
            return;
        }
        let g = self.geometry(area);
        let div = self.scale.diverging();
        let groups = (g.width / g.cell_w).max(1) as usize;
        for ty in 0..g.height as usize {
            for gx in 0..groups {
                let cols = g.col_range(gx);
                if cols.0 >= cols.1 {
                    continue;
                }
                let mut vals = [None; 2];
                for (k, v) in vals.iter_mut().enumerate().take(g.rows_per_cell) {
                    let rr = g.row_range(ty, k);
                    *v = (rr.0 < rr.1).then(|| self.block(rr, cols));
                }
                let (ch, style) = self.cell_look(&vals[..g.rows_per_cell.min(2)], div);
                for dx in 0..g.cell_w {
                    let x = area.x + gx as u16 * g.cell_w + dx;
                    let y = area.y + ty as u16;
                    if let Some(cell) = buf.cell_mut((x, y)) {
                        cell.set_char(ch).set_style(style);
                    }
                }
            }
        }
        if let Some((r, c)) = self.mark
            && r < self.rows
            && c < self.cols
        {
            let x = g.x_of_col(c) + g.cell_w / 2;
            let y = g.y_of_row(r) + g.row_h / 2;
            let v = self
                .data
                .get(r * self.cols + c)
                .copied()
                .unwrap_or(f32::NAN);
            let (ch, style) = self.mark_look(v, div);
            if x < g.area.x + g.width
                && y < g.area.y + g.height
                && let Some(cell) = buf.cell_mut((x, y))
            {
                cell.set_style(Style::reset());
                cell.set_char(ch).set_style(style);
            }
        }
    }
}

impl Heatmap<'_> {
    /// Glyph and colours of one terminal cell; `None` is a row past the end.
    fn cell_look(&self, vals: &[Option<f32>], div: bool) -> (char, Style) {
        let th = self.theme;
        let blank = self.masked == Masked::Blank;
        let colour = |v: f32| {
            if v.is_nan() {
                if blank { None } else { th.masked() }
            } else {
                th.color(self.scale.unit(v), div)
            }
        };
        let masked_fg = match th.mode {
            ColorMode::Basic16 => Color::Gray,
            ColorMode::Indexed256 => Color::Indexed(rgb_to_256(150, 150, 150)),
            _ => Color::Rgb(150, 150, 150),
        };
        match (th.mode, vals) {
            (ColorMode::None, [Some(v), ..]) => {
                let ch = if v.is_nan() {
                    if blank { ' ' } else { th.masked_glyph() }
                } else if div {
                    th.signed_glyph(self.scale.unit(*v))
                } else {
                    Theme::glyph(self.scale.unit(*v))
                };
                (ch, Style::default())
            }
            (_, [Some(v)]) | (_, [Some(v), None]) if v.is_nan() && !blank => (
                th.masked_glyph(),
                Style::default()
                    .fg(masked_fg)
                    .bg(th.masked().unwrap_or(Color::Reset)),
            ),
            (_, [Some(a), Some(b)]) if a.is_nan() && b.is_nan() && !blank => (
                th.masked_glyph(),
                Style::default()
                    .fg(masked_fg)
                    .bg(th.masked().unwrap_or(Color::Reset)),
            ),
            (_, [Some(v)]) => {
                let bg = colour(*v).unwrap_or(Color::Reset);
                (' ', Style::default().bg(bg))
            }
            (_, [Some(top), bottom]) => {
                let fg = colour(*top).unwrap_or(Color::Reset);
                match bottom {
                    Some(b) => (
                        '▀',
                        Style::default()
                            .fg(fg)
                            .bg(colour(*b).unwrap_or(Color::Reset)),
                    ),
                    // Odd row count: the lower half keeps the terminal's background.
                    None => ('▀', Style::default().fg(fg)),
                }
            }
            _ => (' ', Style::default()),
        }
    }

    /// The selected cell: '◆' (ascii 'X') in a contrasting colour on the
    /// value's own colour; without colour, the value's glyph reversed.
    fn mark_look(&self, v: f32, div: bool) -> (char, Style) {
        let th = self.theme;
        let bold = Style::default().add_modifier(Modifier::BOLD);
        if th.mode == ColorMode::None {
            let ch = if v.is_nan() {
                th.masked_glyph()
            } else if div {
                th.signed_glyph(self.scale.unit(v))
            } else {
                Theme::glyph(self.scale.unit(v))
            };
            return (ch, bold.add_modifier(Modifier::REVERSED));
        }
        let ch = if th.ascii { 'X' } else { '◆' };
        let (rgb, bg) = if v.is_nan() {
            (MASKED_RGB, th.masked())
        } else {
            let t = self.scale.unit(v);
            (th.rgb(t, div), th.color(t, div))
        };
        let fg = match (th.mode, bg) {
            (ColorMode::Basic16, Some(Color::Blue | Color::Red | Color::Black)) => Color::White,
            (ColorMode::Basic16, _) => Color::Black,
            _ => contrast(rgb),
        };
        (ch, bold.fg(fg).bg(bg.unwrap_or(Color::Reset)))
    }
}

/// A one-line legend: low end, the gradient (colours, or the glyphs drawn
/// when colour is off), high end, and what the gradient is called in this mode.
pub fn legend(theme: &Theme, scale: Scale, width: u16) -> Line<'static> {
    let (lo, hi) = scale.range();
    let div = scale.diverging();
    let (los, his) = (compact(lo), compact(hi));
    let name = theme.scale_name(div);
    // Never wider than `width`: the name goes first, then gradient steps, so
    // that legends side by side never run into each other.
    let w = width as usize;
    let numbers = los.chars().count() + his.chars().count() + 2;
    let name_w = unicode_width::UnicodeWidthStr::width(name.as_str()) + 1;
    let (n, name) = if w >= numbers + 4 + name_w {
        ((w - numbers - name_w).min(24), name)
    } else if w >= numbers + 2 {
        ((w - numbers).min(24), String::new())
    } else {
        let both = format!("{los}…{his}");
        return if both.chars().count() <= w {
            Line::raw(both)
        } else {
            Line::default()
        };
    };
    let mut spans = vec![Span::raw(format!("{los} "))];
    for i in 0..n {
        let t = i as f32 / (n - 1) as f32;
        match theme.color(t, div) {
            Some(c) => spans.push(Span::styled(" ", Style::default().bg(c))),
            None if div => spans.push(Span::raw(theme.signed_glyph(t).to_string())),
            None => spans.push(Span::raw(Theme::glyph(t).to_string())),
        }
    }
    if name.is_empty() {
        spans.push(Span::raw(format!(" {his}")));
    } else {
        spans.push(Span::raw(format!(" {his} ")));
        spans.push(Span::styled(name, theme.dim()));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme(mode: ColorMode) -> Theme {
        Theme {
            mode,
            ..Theme::default()
        }
    }

    #[test]
    fn viridis_ends_and_diverging_middle_are_the_published_colours() {
        let t = theme(ColorMode::TrueColor);
        assert_eq!(t.color(0.0, false), Some(Color::Rgb(68, 1, 84)));
        assert_eq!(t.color(1.0, false), Some(Color::Rgb(253, 231, 37)));
        assert_eq!(t.color(0.5, true), Some(Color::Rgb(247, 247, 247)));
        assert_eq!(Scale::Signed { max_abs: 2.0 }.unit(-2.0), 0.0);
        assert_eq!(
            Scale::fit(&[1.0, 3.0]),
            Scale::Magnitude { lo: 1.0, hi: 3.0 }
        );
        assert_eq!(Scale::fit(&[-1.0, 3.0]), Scale::Signed { max_abs: 3.0 });
    }

    #[test]
    fn fallbacks_map_into_their_palettes() {
        assert_eq!(rgb_to_256(0, 0, 0), 16);
        assert_eq!(rgb_to_256(255, 0, 0), 196);
        assert!(matches!(rgb_to_256(128, 128, 128), 232..=255));
        let t = theme(ColorMode::Basic16);
        assert_eq!(t.color(0.0, true), Some(Color::Blue));
        assert_eq!(t.color(1.0, true), Some(Color::Red));
        assert_eq!(theme(ColorMode::None).color(0.3, false), None);
        assert_eq!(Theme::glyph(0.0), ' ');
        assert_eq!(Theme::glyph(1.0), '@');
    }

    #[test]
    fn half_blocks_carry_two_rows_and_masked_cells_are_grey() {
        let th = theme(ColorMode::TrueColor);
        // 2×2 lower-triangular: [0, NaN; 0.5, 1]
        let data = [0.0, f32::NAN, 0.5, 1.0];
        let hm = Heatmap {
            data: &data,
            rows: 2,
            cols: 2,
            scale: Scale::Magnitude { lo: 0.0, hi: 1.0 },
            theme: &th,
            cell_w: 1,
            mark: None,
            masked: Masked::Masked,
        };
        // One terminal row for two matrix rows: half blocks.
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
        hm.render(Rect::new(0, 0, 4, 1), &mut buf);
        let c0 = &buf[(0, 0)];
        assert_eq!(c0.symbol(), "▀");
        assert_eq!(c0.fg, Color::Rgb(68, 1, 84));
        assert_eq!(c0.bg, th.color(0.5, false).unwrap_or(Color::Reset));
        let c1 = &buf[(1, 0)];
        assert_eq!(c1.fg, Color::Rgb(48, 48, 48));
        assert_eq!(c1.bg, Color::Rgb(253, 231, 37));
        assert_eq!(buf[(2, 0)].symbol(), " ", "nothing drawn past the matrix");
        let g = hm.geometry(Rect::new(0, 0, 4, 1));
        assert_eq!(g.cell_at(1, 0), Some((0, 1)));
        assert_eq!(g.cell_at(3, 0), None);
    }

    #[test]
    fn no_colour_uses_the_glyph_ramp_one_row_per_cell() {
        let th = theme(ColorMode::None);
        let data = [0.0, 1.0];
        let hm = Heatmap {
            data: &data,
            rows: 2,
            cols: 1,
            scale: Scale::Magnitude { lo: 0.0, hi: 1.0 },
            theme: &th,
            cell_w: 1,
            mark: None,
            masked: Masked::Masked,
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 1, 2));
        hm.render(Rect::new(0, 0, 1, 2), &mut buf);
        assert_eq!(buf[(0, 0)].symbol(), " ");
        assert_eq!(buf[(0, 1)].symbol(), "@");
    }

    #[test]
    fn a_small_matrix_is_scaled_up_to_fill_the_area() {
        let g = Geometry::new(Rect::new(0, 0, 40, 20), 4, 4, 8, 2);
        assert_eq!((g.cell_w, g.row_h, g.rows_per_cell), (8, 4, 1));
        assert_eq!((g.width, g.height), (32, 16));
        assert_eq!(g.cell_at(9, 5), Some((1, 1)));
        assert_eq!(g.y_of_row(3), 12);
        assert_eq!(g.x_of_col(2), 16);
    }

    #[test]
    fn a_large_matrix_is_binned_into_the_area() {
        let th = theme(ColorMode::TrueColor);
        let data: Vec<f32> = (0..1000 * 3).map(|i| (i % 3) as f32).collect();
        let hm = Heatmap {
            data: &data,
            rows: 1000,
            cols: 3,
            scale: Scale::fit(&data),
            theme: &th,
            cell_w: 2,
            mark: None,
            masked: Masked::Masked,
        };
        let area = Rect::new(0, 0, 10, 5);
        let mut buf = Buffer::empty(area);
        hm.render(area, &mut buf);
        let g = hm.geometry(area);
        assert_eq!((g.width, g.height), (6, 5));
        assert_eq!(g.cell_at(5, 4).map(|c| c.1), Some(2));
        assert!(g.cell_at(5, 4).is_some_and(|c| c.0 >= 800));
    }
}
