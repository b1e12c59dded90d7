//! A real terminal for end-to-end tests: the binary under tmux, driven with
//! keys, its screen captured. Each session has its own tmux server (`-L`),
//! so tests running in parallel never share one. A frame is captured while
//! the program may still be drawing, so checks wait for the whole expected
//! screen (every marker in one frame), never for a first marker.

#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

/// How long a screen may take to appear on a loaded machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

fn tmux(session: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("tmux")
        .args(["-L", session])
        .args(args)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Fails the test, saying how to fix it, when tmux is not installed.
pub fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tmux is not installed; these end-to-end tests need it (apt-get install tmux; .ci/run installs it)"
    );
}

/// A detached tmux session running one command; killed when dropped.
pub struct Session(pub String);

impl Session {
    /// Runs `cmd` (through the shell) in a new `w`×`h` session.
    pub fn start(name: &str, cmd: &str, w: u16, h: u16) -> Session {
        require_tmux();
        let (w, h) = (w.to_string(), h.to_string());
        let started = super::in_english(&mut Command::new("tmux"))
            .args([
                "-L",
                name,
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                &w,
                "-y",
                &h,
                cmd,
            ])
            .env("TERM", "xterm-256color")
            .output()
            .expect("start tmux");
        assert!(
            started.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        Session(name.to_string())
    }

    pub fn capture(&self) -> String {
        tmux(&self.0, &["capture-pane", "-p", "-t", &self.0]).unwrap_or_default()
    }

    /// Everything the pane printed, scrolled-off lines included.
    pub fn history(&self) -> String {
        tmux(&self.0, &["capture-pane", "-p", "-S", "-", "-t", &self.0]).unwrap_or_default()
    }

    /// Waits until one frame shows every marker in `all`; returns that frame.
    pub fn wait_for_all(&self, all: &[&str]) -> String {
        self.wait_until(&format!("{all:?}"), |pane| {
            all.iter().all(|m| pane.contains(m))
        })
    }

    /// Waits until `ok` holds for one frame; returns it.
    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let pane = self.capture();
            if ok(&pane) {
                return pane;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "after {DEADLINE:?} the screen still does not show {what}:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Any other tmux command against this session's server.
    pub fn tmux(&self, args: &[&str]) -> Option<String> {
        tmux(&self.0, args)
    }

    pub fn keys(&self, k: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.0.as_str()];
        args.extend_from_slice(k);
        tmux(&self.0, &args);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        tmux(&self.0, &["kill-server"]);
    }
}
