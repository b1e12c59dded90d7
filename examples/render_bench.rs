//! Frame-time benchmark for the explorer: renders each view into a ratatui
//! `TestBackend` at 200×60 and 80×24 and prints the median frame time.
//!
//! cargo run --release --example render_bench [-- MODEL_DIR]
//!
//! Without a folder it uses a random model shaped like the built-in tiny model
//! (4 layers, 4 heads, 128 wide, 2048 tokens, context 256) and a 64-token prompt.

use std::sync::Arc;
use std::time::Instant;

use gptlens::model::{Config, Gpt, random_model};
use gptlens::pass::View;
use gptlens::sample::Sampling;
use gptlens::tokenizer::Tokenizer;
use gptlens::tui::heatmap::Theme;
use gptlens::tui::{App, Options, draw, event};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (gpt, vocab, what) = match std::env::args().nth(1) {
        Some(dir) => {
            let dir = std::path::PathBuf::from(dir);
            let gpt = Gpt::open(&dir)?;
            let tok = Tokenizer::open(&dir.join("tokenizer.json"))?;
            let vocab = (0..gpt.config.vocab_size as u32)
                .map(|i| tok.token_text(i))
                .collect();
            (gpt, vocab, dir.display().to_string())
        }
        None => {
            let cfg = Config::new(4, 4, 128, 2048, 256);
            let vocab = (0..2048).map(|i| format!("tok{i}")).collect();
            (
                random_model(&cfg, 1, false),
                vocab,
                "random 4×4×128, vocab 2048".to_string(),
            )
        }
    };
    let prompt: Vec<u32> = (0..64u32)
        .map(|i| (i * 37) % gpt.config.vocab_size as u32)
        .collect();
    let mut app = App::new(
        Arc::new(gpt),
        vocab,
        &prompt,
        Options {
            theme: Theme::default(),
            sampling: Sampling::default(),
            seed: 0,
        },
    )?;
    println!("model: {what}; prompt 64 tokens; median of 200 frames (truecolor)");
    println!(
        "{:<16} {:>12} {:>12} {:>16}",
        "view", "200×60 ms", "80×24 ms", "enter view ms"
    );
    let mut views: Vec<(String, View, bool)> = View::ALL
        .iter()
        .map(|v| (v.name().to_string(), *v, false))
        .collect();
    views.insert(3, ("attention-zoom".into(), View::Attention, true));
    let mut worst: f64 = 0.0;
    for (name, view, zoom) in views {
        app.show_view(view);
        app.set_zoom(zoom);
        // Entering a view computes what it derives (nearest tokens, logit lens).
        app.forget_derived();
        let t = Instant::now();
        event::settle(&mut app);
        event::run_jobs_blocking(&mut app);
        let enter = t.elapsed().as_secs_f64() * 1e3;
        let mut row = vec![];
        for (w, h) in [(200u16, 60u16), (80, 24)] {
            let mut term = Terminal::new(TestBackend::new(w, h))?;
            let mut times = vec![];
            for _ in 0..200 {
                let t = Instant::now();
                term.draw(|f| {
                    let hits = draw::draw(&app, f.area(), f.buffer_mut());
                    app.drawn(hits);
                })?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            times.sort_by(f64::total_cmp);
            row.push(times[times.len() / 2]);
        }
        worst = worst.max(row[0]);
        println!("{name:<16} {:>12.3} {:>12.3} {enter:>16.3}", row[0], row[1]);
    }
    println!("slowest view at 200×60: {worst:.3} ms per frame");
    Ok(())
}
