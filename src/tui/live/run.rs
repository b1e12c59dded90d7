//! The live screen's terminal loop. Training runs on its own thread; this
//! thread only draws (at most 10 frames a second) and answers keys, so
//! drawing costs the run a copy of the weights twice a second and little
//! else. The terminal is restored on every way out (see [`crate::tui::run`]).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self as ct, Event, KeyEventKind};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, enable_raw_mode};

use super::{Action, Live, action_for};
use crate::train::watch::{LiveControls, LiveEvent};
use crate::train::{Summary, TrainError};

/// What the training thread ended with.
pub type Trained = Result<Summary, TrainError>;
use crate::tui::run::{Guard, install_panic_hook};

const FRAME: Duration = Duration::from_millis(100);

enum Msg {
    Term(Event),
    Live(LiveEvent),
    Done(Trained),
}

/// Runs the screen until training has ended and the person leaves it.
/// `training` yields the training thread's result when it ends; returned
/// with whether q (not a finished run or a signal) ended it.
pub fn run(
    mut live: Live,
    events: Receiver<LiveEvent>,
    controls: Arc<LiveControls>,
    stop: Arc<AtomicBool>,
    training: Receiver<Trained>,
) -> io::Result<(Trained, bool)> {
    install_panic_hook();
    enable_raw_mode()?;
    let _guard = Guard;
    execute!(io::stdout(), EnterAlternateScreen)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;

    let (tx, rx) = mpsc::channel::<Msg>();
    let keys = tx.clone();
    let c = controls.clone();
    std::thread::spawn(move || {
        while let Ok(ev) = c.screen_cpu.count(ct::read) {
            if keys.send(Msg::Term(ev)).is_err() {
                break;
            }
        }
    });
    let fwd = tx.clone();
    let c = controls.clone();
    std::thread::spawn(move || {
        c.screen_cpu.count(|| {
            while let Ok(ev) = events.recv() {
                if fwd.send(Msg::Live(ev)).is_err() {
                    break;
                }
            }
        })
    });
    std::thread::spawn(move || {
        if let Ok(r) = training.recv() {
            let _ = tx.send(Msg::Done(r));
        }
    });
    let ui = controls.clone();
    ui.screen_cpu.count(move || {
        let mut result: Option<Trained> = None;
        let mut quit_by_key = false;
        let mut dirty = true;
        let mut drawn_at = Instant::now() - FRAME;
        loop {
            if dirty && drawn_at.elapsed() >= FRAME {
                terminal.draw(|f| super::draw::render(&live, f.area(), f.buffer_mut()))?;
                drawn_at = Instant::now();
                dirty = false;
            }
            let msg = if dirty {
                match rx.recv_timeout(FRAME.saturating_sub(drawn_at.elapsed())) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            };
            dirty = true;
            match msg {
                Msg::Live(ev) => live.on_event(ev),
                Msg::Term(Event::Key(k)) if k.kind != KeyEventKind::Release => {
                    let Some(a) = action_for(&k) else { continue };
                    if result.is_some() && a == Action::Quit {
                        break;
                    }
                    match live.on_action(a) {
                        Action::Pause => controls.paused.store(live.paused(), Ordering::SeqCst),
                        Action::Checkpoint => controls.checkpoint.store(true, Ordering::SeqCst),
                        Action::Quit => {
                            quit_by_key = true;
                            controls.paused.store(false, Ordering::SeqCst);
                            stop.store(true, Ordering::SeqCst);
                        }
                        _ => {}
                    }
                }
                Msg::Term(_) => {}
                Msg::Done(r) => {
                    // Stopped by q or a signal, or failed: nothing more to watch
                    // (an error is printed once the terminal is back).
                    let failed = r.is_err();
                    result = Some(r);
                    if failed || quit_by_key || stop.load(Ordering::SeqCst) {
                        break;
                    }
                    live.set_status("training finished: q leaves (the model is written)");
                }
            }
        }
        drop(terminal);
        execute!(io::stdout(), LeaveAlternateScreen)?;
        match result {
            Some(result) => Ok((result, quit_by_key)),
            None => Err(io::Error::other(
                "the training thread ended without a result",
            )),
        }
    })
}
