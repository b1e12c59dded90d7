//! Helpers the TUI's tests share: drawing into a `TestBackend`, reading the
//! screen back as text, and making key events.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

use super::app::App;

/// Draws the explorer into a w×h test terminal, keeping the mouse targets.
pub fn render_buffer(app: &mut App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    let mut hits = vec![];
    t.draw(|f| hits = super::draw::draw(app, f.area(), f.buffer_mut()))
        .expect("draw");
    app.hits = hits;
    t.backend().buffer().clone()
}

/// The screen as lines of text; a double-width character covers the next cell,
/// so that cell is skipped.
pub fn screen(b: &Buffer) -> String {
    let mut s = String::new();
    for y in 0..b.area.height {
        let mut x = 0;
        while x < b.area.width {
            let sym = b[(x, y)].symbol();
            s.push_str(sym);
            x += super::views::width(sym).max(1) as u16;
        }
        s.push('\n');
    }
    s
}

pub fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}
