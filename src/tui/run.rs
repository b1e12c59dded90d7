//! The terminal runtime: raw mode, alternate screen and mouse capture, restored
//! on every exit path and before a panic message prints; events are read on
//! their own thread (which wakes four times a second to see whether it
//! should step aside for a program run from a lesson, [`External`]) and the
//! UI thread blocks on a channel, so an idle explorer uses next to no CPU; engine work on large models runs off the UI
//! thread and keys pressed meanwhile are queued, not lost. A SIGTERM, SIGHUP,
//! SIGINT or SIGQUIT (a closed terminal window, `kill`) restores the terminal
//! too, then exits with 128 + the signal's number as a shell expects.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{self as ct, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::layout::Rect;

use super::app::{App, JobOutput};
use super::heatmap::Theme;
use super::views::Hits;
use super::{draw, event};

/// Above this many parameters a step may take longer than a frame, so engine
/// work runs on a worker thread.
pub const OFFLOAD_PARAMS: usize = 10_000_000;

enum Msg {
    Term(Event),
    Signal(i32),
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
pub(crate) struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

pub(crate) fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// What the terminal loop drives: the explorer itself, or a screen built
/// around it (the lesson player). The loop owns the engine jobs and the
/// redraws; the screen decides what a key does and what the frame shows.
pub trait Screen {
    fn app(&self) -> &App;
    fn app_mut(&mut self) -> &mut App;
    /// Applies one terminal event.
    fn handle(&mut self, ev: &Event);
    /// Draws the frame; returns the mouse targets.
    fn draw(&mut self, area: Rect, buf: &mut Buffer) -> Hits;
    /// A program the screen asked to run in the terminal in its place.
    fn take_external(&mut self) -> Option<External> {
        None
    }
}

/// A program run in the terminal while the screen steps aside (the
/// classroom training run a lesson step offers): the loop restores the
/// terminal, runs it to its end, takes the terminal back and shows `after`'s
/// sentence on the status line.
pub struct External {
    pub command: std::process::Command,
    pub after: Box<dyn FnOnce(io::Result<std::process::ExitStatus>) -> String + Send>,
}

/// Lets the key reader step aside while another program reads the terminal:
/// [`Gate::pause`] returns once the reader has stopped reading.
#[derive(Default)]
struct Gate {
    /// (paused, the reader is parked)
    state: Mutex<(bool, bool)>,
    changed: Condvar,
}

/// How long the key reader waits for a key before it looks at the gate.
const READ_POLL: Duration = Duration::from_millis(250);

impl Gate {
    /// Parks the reader here while paused.
    fn wait_open(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while s.0 {
            s.1 = true;
            self.changed.notify_all();
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.1 = false;
    }

    fn pause(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = (true, false);
        // The reader parks within one poll; never wait on one that is gone.
        let deadline = std::time::Instant::now() + READ_POLL * 8;
        while !s.1 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            s = self
                .changed
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn resume(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 = false;
        self.changed.notify_all();
    }
}

/// Runs `x` with the terminal as it was before the screen, then takes the
/// terminal back; returns what to say about the run.
fn run_external(
    terminal: &mut Terminal<CrosstermBackend<io::Stdout>>,
    gate: &Gate,
    x: External,
) -> io::Result<String> {
    let External { mut command, after } = x;
    gate.pause();
    restore_terminal();
    let ended = command.status();
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    terminal.clear()?;
    gate.resume();
    Ok(after(ended))
}

impl Screen for App {
    fn app(&self) -> &App {
        self
    }
    fn app_mut(&mut self) -> &mut App {
        self
    }
    fn handle(&mut self, ev: &Event) {
        event::handle(self, ev)
    }
    fn draw(&mut self, area: Rect, buf: &mut Buffer) -> Hits {
        draw::draw(self, area, buf)
    }
}

/// Runs the explorer until q or Ctrl-C.
pub fn run(app: App) -> io::Result<()> {
    run_screen(app)
}

/// The terminal in the explorer's mode (raw, alternate screen, mouse),
/// restored when dropped. Entering it first lets a slow load show a frame
/// that says what is loading ([`Tty::loading`]) before [`run_screen_on`] runs.
pub struct Tty {
    terminal: Terminal<CrosstermBackend<io::Stdout>>,
    /// Registered on entering, so a signal while loading is handled by the loop.
    signals: signal_hook::iterator::Signals,
    _guard: Guard,
}

impl Tty {
    pub fn enter() -> io::Result<Tty> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
        install_panic_hook();
        enable_raw_mode()?;
        let guard = Guard;
        execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        terminal.clear()?;
        let signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT])?;
        Ok(Tty {
            terminal,
            signals,
            _guard: guard,
        })
    }

    /// Draws the loading frame (before the weights are read).
    pub fn loading(&mut self, what: &draw::Loading, theme: &Theme) -> io::Result<()> {
        self.terminal
            .draw(|f| draw::loading(what, theme, f.area(), f.buffer_mut()))?;
        Ok(())
    }
}

/// Runs any [`Screen`] until its explorer quits.
pub fn run_screen<S: Screen>(screen: S) -> io::Result<()> {
    run_screen_on(Tty::enter()?, screen)
}

/// [`run_screen`] on a terminal already entered.
pub fn run_screen_on<S: Screen>(tty: Tty, mut screen: S) -> io::Result<()> {
    let Tty {
        mut terminal,
        mut signals,
        _guard,
    } = tty;

    let (tx, rx) = mpsc::channel::<Msg>();
    let reader = tx.clone();
    let gate = Arc::new(Gate::default());
    let reader_gate = gate.clone();
    std::thread::spawn(move || {
        loop {
            reader_gate.wait_open();
            let m = match ct::poll(READ_POLL).and_then(|ready| ready.then(ct::read).transpose()) {
                Ok(Some(ev)) => Msg::Term(ev),
                Ok(None) => continue,
                Err(e) => Msg::ReadFailed(e.to_string()),
            };
            let failed = matches!(m, Msg::ReadFailed(_));
            if reader.send(m).is_err() || failed {
                break;
            }
        }
    });

    let signal_handle = signals.handle();
    let on_signal = tx.clone();
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let _ = on_signal.send(Msg::Signal(sig));
        }
    });

    let offload = screen.app().gpt().config.n_params() > OFFLOAD_PARAMS;
    let mut queued: VecDeque<Event> = VecDeque::new();
    loop {
        pump(&mut screen, &mut queued, offload, &tx);
        if screen.app().should_quit() {
            break;
        }
        if screen.app().is_dirty() {
            let mut hits = vec![];
            let frame = terminal.draw(|f| hits = screen.draw(f.area(), f.buffer_mut()))?;
            // `w`: the frame just drawn is the screen the person sees.
            let said = screen
                .app_mut()
                .take_write_screen()
                .then(|| crate::export::write_screen(frame.buffer, Path::new(".")));
            screen.app_mut().drawn(hits);
            if let Some(r) = said {
                let lang = screen.app().theme().lang;
                screen.app_mut().set_status(Some(match r {
                    Ok(p) => crate::i18n::Msg::StatusScreenWritten.fill(lang, &[&p.display()]),
                    Err(e) => crate::i18n::Msg::StatusScreenFailed.fill(lang, &[&e]),
                }));
                let mut hits = vec![];
                terminal.draw(|f| hits = screen.draw(f.area(), f.buffer_mut()))?;
                screen.app_mut().drawn(hits);
            }
        }
        match rx.recv() {
            Ok(Msg::Term(ev)) => {
                if screen.app().session().is_none() && event::needs_session(&ev) {
                    queued.push_back(ev);
                } else {
                    screen.handle(&ev);
                }
                if let Some(x) = screen.take_external() {
                    let said = run_external(&mut terminal, &gate, x)?;
                    screen.app_mut().set_status(Some(said));
                    screen.app_mut().mark_dirty();
                }
            }
            Ok(Msg::Done(out)) => event::finish(screen.app_mut(), out),
            Ok(Msg::Signal(sig)) => {
                drop(terminal);
                restore_terminal();
                std::process::exit(128 + sig);
            }
            Ok(Msg::ReadFailed(e)) => {
                return Err(io::Error::other(format!(
                    "reading the terminal failed: {e}"
                )));
            }
            Err(_) => break,
        }
    }
    signal_handle.close();
    Ok(())
}

/// Starts queued engine work and replays queued keys while the session is here.
fn pump<S: Screen>(
    screen: &mut S,
    queued: &mut VecDeque<Event>,
    offload: bool,
    tx: &mpsc::Sender<Msg>,
) {
    loop {
        let app = screen.app_mut();
        while let Some(job) = app.next_job() {
            let Some(work) = app.start(job) else { continue };
            if offload {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let _ = tx.send(Msg::Done(work()));
                });
                app.mark_dirty();
            } else {
                let out = work();
                event::finish(app, out);
            }
        }
        if app.session().is_none() || app.should_quit() {
            return;
        }
        match queued.pop_front() {
            Some(ev) => screen.handle(&ev),
            None => return,
        }
    }
}
