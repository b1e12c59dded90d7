//! Where the commands write: standard output through a writer that returns
//! every error (`println!` panics on a closed pipe or a full disk), and the
//! rule for untrusted text (prompts, tokens, lessons) on a terminal.

use std::fmt;
use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};

/// The exit status after the reader of our output went away (a closed pipe):
/// 128 + SIGPIPE, what a shell reports for a program the signal ended, so a
/// script can tell "cut short" from "finished". Nothing is printed.
pub const CLOSED_PIPE_EXIT: i32 = 141;

/// Buffered standard output. Errors come back as `io::Error`s of the same
/// kind, saying they were about standard output; call [`Write::flush`] at the
/// end (a dropped buffer swallows its last error).
pub struct Stdout {
    inner: BufWriter<StdoutLock<'static>>,
}

pub fn stdout() -> Stdout {
    Stdout {
        inner: BufWriter::with_capacity(1 << 16, io::stdout().lock()),
    }
}

/// "cannot write to standard output", with the OS error as its source, so
/// the message reads "cannot write to standard output: No space left on
/// device (os error 28)" and not "cannot read".
#[derive(Debug)]
struct StdoutError(io::Error);

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot write to standard output")
    }
}

impl std::error::Error for StdoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn tag(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), StdoutError(e))
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(tag)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf).map_err(tag)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(tag)
    }
}

/// The exit status of a usage error: an option or value the command line
/// got wrong (clap's own errors exit with it too).
pub const USAGE_EXIT: i32 = 2;

/// A mistake on the command line that the program found (a value out of
/// range, an option on a command it does not act on): main exits with
/// [`USAGE_EXIT`].
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Usage(msg.into()))
}

/// A library error about a setting (e.g. `Sampling::validate`) as a usage error.
pub fn usage_from(e: impl fmt::Display) -> anyhow::Error {
    usage(e.to_string())
}

/// True when `e` is a [`Usage`] error.
pub fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<Usage>().is_some())
}

/// True when `e` (or anything it was caused by) is a write to a pipe nobody
/// reads any more: main then ends quietly with [`CLOSED_PIPE_EXIT`].
pub fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
    })
}

/// The error message: each cause once. Errors that put their source's text in
/// their own message *and* report it as their source (thiserror's `source`
/// fields do) would otherwise print the OS error twice ("Is a directory (os
/// error 21): Is a directory (os error 21)").
pub fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for c in e.chain() {
        let s = c.to_string();
        if out.ends_with(&s) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s);
    }
    out
}

/// A note on standard error (what a command wrote where).
pub fn note(msg: fmt::Arguments) {
    let _ = writeln!(io::stderr(), "{msg}");
}

/// A warning on standard error; a closed or full stderr is not worth a panic.
pub fn warn(msg: fmt::Arguments) {
    let _ = writeln!(io::stderr(), "warning: {msg}");
}

/// How untrusted text (prompt, generated tokens, lesson files) is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextMode {
    /// Control characters and escape sequences shown visibly (`␛`, `\u{7}`):
    /// a terminal would otherwise act on them (colours, titles, OSC 52
    /// clipboard writes).
    Escaped,
    /// Byte for byte (a pipe or a file, or `--raw`).
    Raw,
}

impl TextMode {
    /// Escaped on a terminal unless `--raw`; raw to anything else.
    pub fn decide(stdout_is_terminal: bool, raw: bool) -> TextMode {
        if stdout_is_terminal && !raw {
            TextMode::Escaped
        } else {
            TextMode::Raw
        }
    }

    pub fn for_stdout(raw: bool) -> TextMode {
        TextMode::decide(io::stdout().is_terminal(), raw)
    }

    pub fn show<'a>(self, s: &'a str) -> std::borrow::Cow<'a, str> {
        match self {
            TextMode::Raw => s.into(),
            TextMode::Escaped => gptlens::text::safe_text(s).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped_only_on_a_terminal_without_raw() {
        assert_eq!(TextMode::decide(true, false), TextMode::Escaped);
        assert_eq!(TextMode::decide(true, true), TextMode::Raw);
        assert_eq!(TextMode::decide(false, false), TextMode::Raw);
        assert_eq!(TextMode::decide(false, true), TextMode::Raw);
        let osc52 = "\u{1b}]52;c;aGk=\u{7}ok";
        assert_eq!(TextMode::Raw.show(osc52), osc52);
        let shown = TextMode::Escaped.show(osc52);
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown}"
        );
        assert!(shown.contains("␛]52") && shown.ends_with("ok"), "{shown}");
    }

    #[test]
    fn each_cause_is_printed_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read /x: {source}")]
        struct Twice {
            source: io::Error,
        }
        let os = io::Error::from_raw_os_error(21);
        let text = os.to_string();
        let e = anyhow::Error::new(Twice { source: os }).context("opening the lesson");
        let m = message(&e);
        assert_eq!(m.matches(&text).count(), 1, "{m}");
        assert!(m.starts_with("opening the lesson: cannot read /x: "), "{m}");
    }

    #[test]
    fn a_closed_pipe_is_recognised_through_contexts_and_serde() {
        let pipe = || tag(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(is_closed_pipe(&anyhow::Error::new(pipe()).context("x")));
        let j = serde_json::Error::io(pipe());
        assert!(is_closed_pipe(&anyhow::Error::new(j)));
        let full = tag(io::Error::from_raw_os_error(28));
        assert!(!is_closed_pipe(&anyhow::Error::new(full)));
    }
}
