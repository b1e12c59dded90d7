//! A drawn screen as a file: SVG (a monospace grid of filled rectangles and
//! text, colours and glyphs kept), self-contained HTML, or plain text. The
//! screen comes from the same draw code the terminal shows, rendered into a
//! ratatui [`Buffer`] (a `TestBackend`'s), so a slide shows what the explorer
//! shows.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

/// The file formats a screen can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Svg,
    Html,
    Txt,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Html => "html",
            Format::Txt => "txt",
        }
    }
}

/// The screen in `format`; `title` names it (HTML title, SVG `<title>`);
/// `lang`: the page's language (HTML `lang`).
pub fn render(buf: &Buffer, format: Format, title: &str, lang: crate::i18n::Lang) -> String {
    match format {
        Format::Svg => svg(buf, title),
        Format::Html => html_page(title, &html_screen(buf), lang),
        Format::Txt => text(buf),
    }
}

/// Width and height of one cell in SVG user units (a monospace font at 14 px).
const CELL_W: f32 = 8.4;
const CELL_H: f32 = 17.0;
/// The terminal's default colours, for `Color::Reset`.
const DEFAULT_FG: (u8, u8, u8) = (0xd8, 0xd8, 0xd8);
const DEFAULT_BG: (u8, u8, u8) = (0x12, 0x12, 0x12);

/// An RGB triple as `#rrggbb`.
fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The xterm colours of the 16 named ANSI colours.
const ANSI: [(u8, u8, u8); 16] = [
    (0x00, 0x00, 0x00),
    (0xcd, 0x00, 0x00),
    (0x00, 0xcd, 0x00),
    (0xcd, 0xcd, 0x00),
    (0x00, 0x00, 0xee),
    (0xcd, 0x00, 0xcd),
    (0x00, 0xcd, 0xcd),
    (0xe5, 0xe5, 0xe5),
    (0x7f, 0x7f, 0x7f),
    (0xff, 0x00, 0x00),
    (0x00, 0xff, 0x00),
    (0xff, 0xff, 0x00),
    (0x5c, 0x5c, 0xff),
    (0xff, 0x00, 0xff),
    (0x00, 0xff, 0xff),
    (0xff, 0xff, 0xff),
];

/// A colour as RGB; None for `Reset` (the default colour).
fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    let ansi = |i: usize| Some(ANSI[i]);
    match c {
        Color::Reset => None,
        Color::Black => ansi(0),
        Color::Red => ansi(1),
        Color::Green => ansi(2),
        Color::Yellow => ansi(3),
        Color::Blue => ansi(4),
        Color::Magenta => ansi(5),
        Color::Cyan => ansi(6),
        Color::Gray => ansi(7),
        Color::DarkGray => ansi(8),
        Color::LightRed => ansi(9),
        Color::LightGreen => ansi(10),
        Color::LightYellow => ansi(11),
        Color::LightBlue => ansi(12),
        Color::LightMagenta => ansi(13),
        Color::LightCyan => ansi(14),
        Color::White => ansi(15),
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i) => Some(indexed(i)),
    }
}

/// xterm's 256-colour table: 16 ANSI, a 6×6×6 cube, 24 greys.
fn indexed(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI[i as usize],
        16..=231 => {
            let n = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            (level(n / 36), level(n / 6 % 6), level(n % 6))
        }
        _ => {
            let g = 8 + 10 * (i - 232);
            (g, g, g)
        }
    }
}

/// One cell as drawn: its glyph and final colours (reverse video applied).
struct Cell<'a> {
    sym: &'a str,
    fg: (u8, u8, u8),
    bg: (u8, u8, u8),
    bold: bool,
    italic: bool,
    underline: bool,
    dim: bool,
}

fn cell(buf: &Buffer, x: u16, y: u16) -> Cell<'_> {
    let c = &buf[(x, y)];
    let mut fg = rgb(c.fg).unwrap_or(DEFAULT_FG);
    let mut bg = rgb(c.bg).unwrap_or(DEFAULT_BG);
    if c.modifier.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    Cell {
        sym: c.symbol(),
        fg,
        bg,
        bold: c.modifier.contains(Modifier::BOLD),
        italic: c.modifier.contains(Modifier::ITALIC),
        underline: c.modifier.contains(Modifier::UNDERLINED),
        dim: c.modifier.contains(Modifier::DIM),
    }
}

/// Text escaped for XML and HTML (both in element content and in attributes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The columns a cell's glyph covers (a wide character covers the next cell,
/// which holds an empty symbol).
fn covers(buf: &Buffer, x: u16, y: u16) -> u16 {
    let w = unicode_width::UnicodeWidthStr::width(buf[(x, y)].symbol()).max(1) as u16;
    w.min(buf.area.width - x)
}

/// Block glyphs drawn as rectangles (fraction of the cell from the top, height),
/// so heatmaps come out exact whatever the font.
fn block(sym: &str) -> Option<(f32, f32)> {
    match sym {
        "█" => Some((0.0, 1.0)),
        "▀" => Some((0.0, 0.5)),
        "▄" => Some((0.5, 0.5)),
        _ => None,
    }
}

/// The screen as a standalone SVG document.
pub fn svg(buf: &Buffer, title: &str) -> String {
    let a = buf.area;
    let (w, h) = (a.width as f32 * CELL_W, a.height as f32 * CELL_H);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.1}" height="{h:.1}" viewBox="0 0 {w:.1} {h:.1}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14">"#
    );
    let _ = writeln!(s, "<title>{}</title>", escape(title));
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="{}"/>"#,
        hex(DEFAULT_BG)
    );
    for y in 0..a.height {
        // Backgrounds: runs of one colour as one rectangle.
        let mut x = 0;
        while x < a.width {
            let bg = cell(buf, a.x + x, a.y + y).bg;
            let start = x;
            while x < a.width && cell(buf, a.x + x, a.y + y).bg == bg {
                x += 1;
            }
            if bg != DEFAULT_BG {
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{CELL_H:.1}" fill="{}"/>"#,
                    start as f32 * CELL_W,
                    y as f32 * CELL_H,
                    (x - start) as f32 * CELL_W,
                    hex(bg)
                );
            }
        }
        // Glyphs: block elements as rectangles, the rest as text placed per cell.
        let base = y as f32 * CELL_H + CELL_H * 0.78;
        let mut x = 0;
        while x < a.width {
            let c = cell(buf, a.x + x, a.y + y);
            let span = covers(buf, a.x + x, a.y + y);
            if let Some((top, height)) = block(c.sym) {
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{:.2}" width="{CELL_W:.1}" height="{:.2}" fill="{}"/>"#,
                    x as f32 * CELL_W,
                    (y as f32 + top) * CELL_H,
                    height * CELL_H,
                    hex(c.fg)
                );
            } else if !c.sym.trim().is_empty() {
                let mut attrs = format!(r#"fill="{}""#, hex(c.fg));
                if c.bold {
                    attrs.push_str(r#" font-weight="bold""#);
                }
                if c.italic {
                    attrs.push_str(r#" font-style="italic""#);
                }
                if c.underline {
                    attrs.push_str(r#" text-decoration="underline""#);
                }
                if c.dim {
                    attrs.push_str(r#" fill-opacity="0.6""#);
                }
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{base:.1}" {attrs} xml:space="preserve">{}</text>"#,
                    x as f32 * CELL_W,
                    escape(c.sym)
                );
            }
            x += span;
        }
    }
    s.push_str("</svg>\n");
    s
}

/// The screen as an HTML `<pre>` of styled spans (no script, no external
/// file: it can be pasted into any page).
pub fn html_screen(buf: &Buffer) -> String {
    let a = buf.area;
    let mut s = format!(
        r#"<pre class="gptlens-screen" style="background:{};color:{};font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:14px;line-height:1.2;display:inline-block;padding:0.5em;margin:0">"#,
        hex(DEFAULT_BG),
        hex(DEFAULT_FG)
    );
    for y in 0..a.height {
        let mut x = 0;
        while x < a.width {
            let c = cell(buf, a.x + x, a.y + y);
            let key = (c.fg, c.bg, c.bold, c.italic, c.underline, c.dim);
            let mut run = String::new();
            while x < a.width {
                let d = cell(buf, a.x + x, a.y + y);
                if (d.fg, d.bg, d.bold, d.italic, d.underline, d.dim) != key {
                    break;
                }
                run.push_str(if d.sym.is_empty() { " " } else { d.sym });
                x += covers(buf, a.x + x, a.y + y);
            }
            let mut style = format!("color:{};background:{}", hex(c.fg), hex(c.bg));
            if c.bold {
                style.push_str(";font-weight:bold");
            }
            if c.italic {
                style.push_str(";font-style:italic");
            }
            if c.underline {
                style.push_str(";text-decoration:underline");
            }
            if c.dim {
                style.push_str(";opacity:0.6");
            }
            let _ = write!(s, r#"<span style="{style}">{}</span>"#, escape(&run));
        }
        s.push('\n');
    }
    s.push_str("</pre>");
    s
}

/// A self-contained HTML page around `body`.
pub fn html_page(title: &str, body: &str, lang: crate::i18n::Lang) -> String {
    let lang = match lang {
        crate::i18n::Lang::En => "en",
        crate::i18n::Lang::Zh => "zh-Hans",
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:80em;margin:2em auto;padding:0 1em;line-height:1.5}} pre,code{{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace}} table{{border-collapse:collapse}} td,th{{border:1px solid #bbb;padding:0.2em 0.5em}}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape(title)
    )
}

/// The screen as plain text, one line per row, trailing spaces kept off.
pub fn text(buf: &Buffer) -> String {
    let a = buf.area;
    let mut s = String::new();
    for y in 0..a.height {
        let mut line = String::new();
        let mut x = 0;
        while x < a.width {
            let sym = buf[(a.x + x, a.y + y)].symbol();
            line.push_str(if sym.is_empty() { " " } else { sym });
            x += covers(buf, a.x + x, a.y + y);
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// Writes `buf` as SVG to the first free `gptlens-screen-N.svg` in `dir`
/// (the explorer's and the player's `w`); returns the path.
pub fn write_screen(buf: &Buffer, dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    let doc = svg(buf, "gptlens screen");
    for n in 1..10_000 {
        let path = dir.join(format!("gptlens-screen-{n}.svg"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(doc.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "{} already holds 9,999 gptlens-screen-N.svg files",
        dir.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn sample() -> Buffer {
        let mut b = Buffer::empty(Rect::new(0, 0, 6, 2));
        b.set_string(
            0,
            0,
            "a<&",
            Style::default().fg(Color::Red).bg(Color::Rgb(1, 2, 3)),
        );
        b.set_string(3, 0, "▀", Style::default().fg(Color::Indexed(196)));
        b.set_string(0, 1, "名x", Style::default().add_modifier(Modifier::BOLD));
        b
    }

    #[test]
    fn the_w_key_writes_the_screen_it_shows() {
        use crate::model::{Config, random_model};
        use crate::tui::{App, Options};
        let gpt = std::sync::Arc::new(random_model(&Config::new(2, 2, 8, 20, 16), 1, true));
        let vocab = (0..20).map(|i| format!("t{i}")).collect();
        let opts = Options {
            theme: Default::default(),
            sampling: Default::default(),
            seed: 0,
        };
        let mut app = App::new(gpt, vocab, &[1, 2, 3], opts).expect("app");
        let w = ratatui::crossterm::event::KeyEvent::new(
            ratatui::crossterm::event::KeyCode::Char('w'),
            ratatui::crossterm::event::KeyModifiers::NONE,
        );
        crate::tui::event::handle(&mut app, &ratatui::crossterm::event::Event::Key(w));
        assert!(app.take_write_screen(), "w asks for the screen");
        assert!(!app.take_write_screen(), "once");
        let area = Rect::new(0, 0, 80, 24);
        let mut buf = Buffer::empty(area);
        crate::tui::draw::draw(&app, area, &mut buf);
        let dir = tempfile::tempdir().expect("tempdir");
        let first = write_screen(&buf, dir.path()).expect("write");
        let second = write_screen(&buf, dir.path()).expect("write");
        assert_eq!(first, dir.path().join("gptlens-screen-1.svg"));
        assert_eq!(second, dir.path().join("gptlens-screen-2.svg"));
        let s = std::fs::read_to_string(first).unwrap();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(
            s.contains(">t1</text>") || s.contains("t</text>"),
            "the tokens are on it"
        );
    }

    #[test]
    fn colours_and_glyphs_survive() {
        let b = sample();
        let s = svg(&b, "t");
        assert!(s.contains(r##"fill="#cd0000""##), "red text: {s}");
        assert!(s.contains(r##"fill="#010203""##), "rgb background");
        assert!(
            s.contains(r##"fill="#ff0000""##),
            "index 196 → #ff0000 as a half block"
        );
        assert!(s.contains("&lt;") && s.contains("&amp;") && !s.contains("<&"));
        assert!(s.contains(">名</text>") && s.contains(r#"font-weight="bold""#));
        // The wide character covers two cells: x is placed at cell 2.
        assert!(s.contains(&format!(r#"x="{:.1}""#, 2.0 * CELL_W)), "{s}");
        let t = text(&b);
        assert_eq!(t, "a<&▀\n名x\n");
        let h = html_screen(&b);
        assert!(
            h.contains("a&lt;&amp;") && h.contains("color:#cd0000"),
            "{h}"
        );
        assert_eq!(indexed(16), (0, 0, 0));
        assert_eq!(indexed(231), (255, 255, 255));
        assert_eq!(indexed(232), (8, 8, 8));
    }
}
