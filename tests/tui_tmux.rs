//! End to end: the real binary in a real terminal (tmux), driven with keys the
//! way a person would, checking what the screen shows and that q leaves the
//! terminal as it was. Skipped, with a message, when tmux is not installed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gptlens");

fn tmux(args: &[&str]) -> Option<String> {
    let out = Command::new("tmux").args(args).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn has_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Waits until the pane shows `what` (or gives up after `secs`); returns the pane.
fn wait_for(session: &str, what: &str, secs: u64) -> String {
    let start = Instant::now();
    loop {
        let pane = tmux(&["capture-pane", "-p", "-t", session]).unwrap_or_default();
        if pane.contains(what) || start.elapsed() > Duration::from_secs(secs) {
            return pane;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn keys(session: &str, k: &[&str]) {
    let mut args = vec!["send-keys", "-t", session];
    args.extend_from_slice(k);
    tmux(&args);
}

struct Session(String);

/// Runs `cmd` in a new detached tmux session of `w`×`h`; killed when dropped.
fn start(name: &str, cmd: &str, w: u16, h: u16) -> Session {
    let (w, h) = (w.to_string(), h.to_string());
    let started = Command::new("tmux")
        .args(["new-session", "-d", "-s", name, "-x", &w, "-y", &h, cmd])
        .env("TERM", "xterm-256color")
        .status()
        .expect("start tmux");
    assert!(started.success());
    Session(name.to_string())
}

impl Drop for Session {
    fn drop(&mut self) {
        tmux(&["kill-session", "-t", &self.0]);
    }
}

fn make_model(dir: &Path) {
    let ok = Command::new(BIN)
        .args([
            "init", "--layers", "2", "--heads", "2", "--embd", "32", "--ctx", "64", "--out",
        ])
        .arg(dir)
        .status()
        .expect("run gptlens init");
    assert!(ok.success());
}

#[test]
fn explorer_in_a_real_terminal() {
    if !has_tmux() {
        eprintln!(
            "SKIPPED explorer_in_a_real_terminal: tmux is not installed (apt-get install tmux)"
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("m");
    make_model(&model);
    let name = format!("gptlens-e2e-{}", std::process::id());
    let cmd = format!(
        "{BIN} --model {} explore --prompt 'Hello there' --seed 3; echo GPTLENS-EXIT=$?; sleep 30",
        model.display()
    );
    let _guard = start(&name, &cmd, 120, 40);

    // The first screen: stage 1 (embed), the token strip, the embeddings view.
    let pane = wait_for(&name, "embeddings", 10);
    assert!(pane.contains("1/31 embed"), "{pane}");
    assert!(
        pane.contains("72│101│108"),
        "token strip with the byte ids of Hello:\n{pane}"
    );
    assert!(pane.contains("wte[token]"), "{pane}");

    // Five stages on: the softmax of layer 0, with the cell's arithmetic.
    keys(&name, &["Space", "Space", "Space", "Space", "Space"]);
    let pane = wait_for(&name, "6/31", 5);
    assert!(pane.contains("softmax"), "{pane}");
    assert!(pane.contains("the selected cell, step by step"), "{pane}");

    // Zoom on the head: labelled axes.
    keys(&name, &["Enter"]);
    let pane = wait_for(&name, "query ↓ key →", 5);
    assert!(pane.contains("query ↓ key →"), "{pane}");

    // The next token appears in the strip.
    let before = pane.lines().nth(1).unwrap_or_default().to_string();
    keys(&name, &["n"]);
    let start = Instant::now();
    let mut after = before.clone();
    while after == before && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
        let p = tmux(&["capture-pane", "-p", "-t", &name]).unwrap_or_default();
        after = p.lines().nth(1).unwrap_or_default().to_string();
    }
    assert_ne!(after, before, "n adds a token to the strip");

    // Help overlay, closed by any key.
    keys(&name, &["?"]);
    let pane = wait_for(&name, "keys (any key closes)", 5);
    assert!(pane.contains("ablate the selected head"), "{pane}");
    keys(&name, &["x"]);

    // An intervention is marked on screen.
    keys(&name, &["s"]);
    let pane = wait_for(&name, "INTERVENTION", 5);
    assert!(pane.contains("no ÷√dₖ"), "{pane}");

    // q quits and the shell's screen comes back.
    keys(&name, &["q"]);
    let pane = wait_for(&name, "GPTLENS-EXIT=", 5);
    assert!(pane.contains("GPTLENS-EXIT=0"), "{pane}");
    assert!(
        !pane.contains("INTERVENTION"),
        "alternate screen left:\n{pane}"
    );
}

#[test]
fn a_model_that_fails_to_load_is_reported_before_the_tui_starts() {
    if !has_tmux() {
        eprintln!("SKIPPED: tmux is not installed");
        return;
    }
    let name = format!("gptlens-e2e-bad-{}", std::process::id());
    let cmd = format!("{BIN} --model /nonexistent/model explore; echo GPTLENS-EXIT=$?; sleep 30");
    let _guard = start(&name, &cmd, 100, 20);
    let pane = wait_for(&name, "GPTLENS-EXIT=", 10);
    assert!(pane.contains("GPTLENS-EXIT=1"), "{pane}");
    assert!(pane.contains("does not exist"), "{pane}");
}

#[test]
fn plain_gptlens_opens_the_explorer_on_the_built_in_model_with_a_default_prompt() {
    if !has_tmux() {
        eprintln!("SKIPPED: tmux is not installed");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    make_model(&tmp.path().join("tinystories"));
    let name = format!("gptlens-e2e-plain-{}", std::process::id());
    let cmd = format!(
        "GPTLENS_MODELS={} {BIN}; echo GPTLENS-EXIT=$?; sleep 30",
        tmp.path().display()
    );
    let _guard = start(&name, &cmd, 80, 24);
    // "… there was a little" in the byte tokenizer ends with l i t t l e.
    let pane = wait_for(&name, "108│105│116│116│108│101│", 10);
    assert!(pane.contains("108│105│116│116│108│101│"), "{pane}");
    assert!(pane.contains("36 tokens"), "{pane}");
    assert!(pane.contains("embed"), "{pane}");
    keys(&name, &["C-c"]);
    let pane = wait_for(&name, "GPTLENS-EXIT=", 5);
    assert!(
        pane.contains("GPTLENS-EXIT=0"),
        "ctrl-c quits cleanly:\n{pane}"
    );
}

#[test]
fn lesson_player_in_a_real_terminal() {
    if !has_tmux() {
        eprintln!("SKIPPED lesson_player_in_a_real_terminal: tmux is not installed");
        return;
    }
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny-models");
    if !models.join("tinystories/model.safetensors").is_file() {
        eprintln!("SKIPPED lesson_player_in_a_real_terminal: the built-in model is missing");
        return;
    }
    let name = format!("gptlens-e2e-lesson-{}", std::process::id());
    let cmd = format!(
        "GPTLENS_MODELS={} {BIN} lesson attention; echo GPTLENS-EXIT=$?; sleep 30",
        models.display()
    );
    let _guard = start(&name, &cmd, 200, 50);

    let pane = wait_for(&name, "step 1/", 15);
    assert!(pane.contains("1. Queries, keys and values"), "{pane}");
    assert!(pane.contains("Q, K, V"), "the attention view:\n{pane}");

    // The next step: the scores heatmap, and the text with the live score.
    keys(&name, &["PageDown"]);
    let pane = wait_for(&name, "step 2/", 5);
    assert!(pane.contains("2. Scores: q·k / √dₖ"), "{pane}");
    assert!(pane.contains("score = q·k/√dₖ = "), "{pane}");
    assert!(
        pane.contains("scores q·k/√dₖ"),
        "the scores heatmap:\n{pane}"
    );
    assert!(pane.contains("rows: query, cols: key"), "{pane}");

    keys(&name, &["q"]);
    let pane = wait_for(&name, "GPTLENS-EXIT=", 5);
    assert!(pane.contains("GPTLENS-EXIT=0"), "{pane}");
    assert!(!pane.contains("step 2/"), "alternate screen left:\n{pane}");
}

#[test]
fn an_unknown_lesson_is_reported_before_the_player_starts() {
    let out = Command::new(BIN)
        .args(["lesson", "atention"])
        .output()
        .expect("run gptlens");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown lesson") && err.contains("attention"),
        "{err}"
    );
}

#[test]
fn the_lesson_without_a_terminal_is_printed_with_a_note() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny-models");
    if !models.join("tinystories/model.safetensors").is_file() {
        eprintln!("SKIPPED: the built-in model is missing");
        return;
    }
    let out = Command::new(BIN)
        .args(["lesson", "attention"])
        .env("GPTLENS_MODELS", &models)
        .output()
        .expect("run gptlens");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Scores: q·k / √dₖ"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("interactive terminal") && err.contains("--print"),
        "{err}"
    );
}

/// The pid of the gptlens process whose command line contains `marker`.
fn find_process(marker: &str) -> Option<u32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.starts_with(BIN) && cmdline.contains(marker) {
            return Some(pid);
        }
    }
    None
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    if !has_tmux() {
        eprintln!("SKIPPED sigterm_and_sighup_restore_the_terminal: tmux is not installed");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("m");
    make_model(&model);
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let marker = format!("signal-{signal}-{}", std::process::id());
        let name = format!("gptlens-e2e-{marker}");
        // After gptlens: its exit status, and whether the tty is still raw.
        let cmd = format!(
            "{BIN} --model {} explore --prompt '{marker}'; echo GPTLENS-EXIT=$?; \
             if stty -a | grep -q -- '-icanon'; then echo TTY-RAW; else echo TTY-COOKED; fi; sleep 30",
            model.display()
        );
        let _guard = start(&name, &cmd, 120, 40);
        let pane = wait_for(&name, "embeddings", 10);
        assert!(pane.contains("embed"), "{pane}");
        let pid = find_process(&marker).expect("the gptlens process");
        let killed = Command::new("sh")
            .args(["-c", &format!("kill -{signal} {pid}")])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let pane = wait_for(&name, "TTY-", 5);
        assert!(pane.contains(&format!("GPTLENS-EXIT={code}")), "{pane}");
        assert!(pane.contains("TTY-COOKED"), "raw mode left on:\n{pane}");
        assert!(
            !pane.contains("embeddings"),
            "alternate screen left:\n{pane}"
        );
    }
}
