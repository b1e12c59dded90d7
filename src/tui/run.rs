//! The terminal runtime: raw mode, alternate screen and mouse capture, restored
//! on every exit path and before a panic message prints; events are read on
//! their own thread and the UI thread blocks on a channel (no polling), so an
//! idle explorer uses no CPU; engine work on large models runs off the UI
//! thread and keys pressed meanwhile are queued, not lost.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc;

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self as ct, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use super::app::{App, JobOutput};
use super::{draw, event};

/// Above this many parameters a step may take longer than a frame, so engine
/// work runs on a worker thread.
pub const OFFLOAD_PARAMS: usize = 10_000_000;

enum Msg {
    Term(Event),
    ReadFailed(String),
    Done(JobOutput),
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
    let _ = out.flush();
}

/// Restores the terminal when dropped (normal return, `?` errors, unwinding).
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Runs the explorer until q or Ctrl-C.
pub fn run(mut app: App) -> io::Result<()> {
    install_panic_hook();
    enable_raw_mode()?;
    let _guard = Guard;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;

    let (tx, rx) = mpsc::channel::<Msg>();
    let reader = tx.clone();
    std::thread::spawn(move || {
        loop {
            let m = match ct::read() {
                Ok(ev) => Msg::Term(ev),
                Err(e) => Msg::ReadFailed(e.to_string()),
            };
            let failed = matches!(m, Msg::ReadFailed(_));
            if reader.send(m).is_err() || failed {
                break;
            }
        }
    });

    let offload = app.gpt.config.n_params() > OFFLOAD_PARAMS;
    let mut queued: VecDeque<Event> = VecDeque::new();
    loop {
        pump(&mut app, &mut queued, offload, &tx);
        if app.quit {
            break;
        }
        if app.dirty {
            let mut hits = vec![];
            terminal.draw(|f| hits = draw::draw(&app, f.area(), f.buffer_mut()))?;
            app.hits = hits;
            app.dirty = false;
        }
        match rx.recv() {
            Ok(Msg::Term(ev)) => {
                if app.session.is_none() && event::needs_session(&ev) {
                    queued.push_back(ev);
                } else {
                    event::handle(&mut app, &ev);
                }
            }
            Ok(Msg::Done(out)) => app.finish(out),
            Ok(Msg::ReadFailed(e)) => {
                return Err(io::Error::other(format!(
                    "reading the terminal failed: {e}"
                )));
            }
            Err(_) => break,
        }
    }
    Ok(())
}

/// Starts queued engine work and replays queued keys while the session is here.
fn pump(app: &mut App, queued: &mut VecDeque<Event>, offload: bool, tx: &mpsc::Sender<Msg>) {
    loop {
        while app.session.is_some() && !app.jobs.is_empty() {
            let job = app.jobs.remove(0);
            let Some(work) = app.start(job) else { continue };
            if offload {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let _ = tx.send(Msg::Done(work()));
                });
                app.dirty = true;
            } else {
                let out = work();
                app.finish(out);
            }
        }
        if app.session.is_none() || app.quit {
            return;
        }
        match queued.pop_front() {
            Some(ev) => event::handle(app, &ev),
            None => return,
        }
    }
}
