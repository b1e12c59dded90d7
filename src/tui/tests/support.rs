//! Helpers the TUI's tests share: drawing into a `TestBackend`, reading the
//! screen back as text, and making key events.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

use crate::model::Gpt;
use crate::tokenizer::Tokenizer;
use crate::tui::app::App;

/// Draws the explorer into a w×h test terminal, keeping the mouse targets.
pub fn render_buffer(app: &mut App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    let mut hits = vec![];
    t.draw(|f| hits = crate::tui::draw::draw(app, f.area(), f.buffer_mut()))
        .expect("draw");
    app.drawn(hits);
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
            x += crate::tui::views::width(sym).max(1) as u16;
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

/// The built-in model's folder. It is checked into the repository, so a test
/// that needs it fails (it does not skip) when it is missing.
pub fn built_in_dir() -> std::path::PathBuf {
    let dir = crate::paths::default_model_dir();
    assert!(
        dir.join("model.safetensors").is_file(),
        "the built-in model is not at {} (it is part of the repository: restore tiny-models/, \
         or unset GPTLENS_MODELS)",
        dir.display()
    );
    dir
}

/// The built-in model and its tokenizer.
pub fn built_in() -> (std::sync::Arc<Gpt>, Tokenizer) {
    let dir = built_in_dir();
    let gpt = Gpt::open(&dir).expect("built-in model");
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("built-in tokenizer");
    (std::sync::Arc::new(gpt), tok)
}

/// Every token id's text as the explorer gets it (partial UTF-8 bytes as `<e4>`).
pub fn vocab_of(gpt: &Gpt, tok: &Tokenizer) -> Vec<String> {
    (0..gpt.config.vocab_size as u32)
        .map(|i| tok.token_display(i))
        .collect()
}
