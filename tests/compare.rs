//! Compare mode end to end: `gptlens explore --model A --compare B` in a
//! real terminal (tmux): the loss view shows both models and the difference;
//! two models with different vocabularies are refused before the explorer
//! starts, saying why. Needs tmux (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gptlens");
const DEADLINE: Duration = Duration::from_secs(30);

fn tmux(session: &str, args: &[&str]) -> String {
    Command::new("tmux")
        .args(["-L", session])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Waits until one frame shows every marker; fails with the frame at the deadline.
fn wait_for_all(session: &str, all: &[&str]) -> String {
    let start = Instant::now();
    loop {
        let pane = tmux(session, &["capture-pane", "-p", "-t", session]);
        let missing: Vec<&&str> = all.iter().filter(|m| !pane.contains(**m)).collect();
        if missing.is_empty() {
            return pane;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "after {DEADLINE:?} the screen still lacks {missing:?}:\n{pane}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        tmux(&self.0, &["kill-server"]);
    }
}

fn start(name: &str, cmd: &str, w: u16, h: u16) -> Session {
    let ok = Command::new("tmux")
        .args(["-V"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tmux is not installed (apt-get install tmux; .ci/run installs it)"
    );
    let (w, h) = (w.to_string(), h.to_string());
    let out = Command::new("tmux")
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
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Session(name.to_string())
}

fn model(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tiny-models")
        .join(name);
    assert!(
        d.join("model.safetensors").is_file(),
        "{} is part of the repository",
        d.display()
    );
    d
}

#[test]
fn explore_compare_shows_both_models_in_the_loss_view_and_refuses_another_vocabulary() {
    let name = format!("gptlens-e2e-compare-{}", std::process::id());
    let cmd = format!(
        "{BIN} --model {} explore --compare {} --prompt 'Q: Write a story about Thepak.\nA: Once upon a time'; echo GPTLENS-EXIT=$?; sleep 30",
        model("tinystories").display(),
        model("tinystories-instruct").display()
    );
    let s = start(&name, &cmd, 120, 40);
    wait_for_all(&name, &["embed"]);
    tmux(&name, &["send-keys", "-t", &name, "8"]);
    wait_for_all(
        &name,
        &[
            "A = tinystories · B = tinystories-instruct",
            "mean loss A",
            "Δloss",
        ],
    );
    tmux(&name, &["send-keys", "-t", &name, "q"]);
    wait_for_all(&name, &["GPTLENS-EXIT=0"]);
    drop(s);

    // A byte-vocabulary model against the 2,048-token one.
    let tmp = tempfile::tempdir().expect("tempdir");
    let other = tmp.path().join("bytes");
    let ok = Command::new(BIN)
        .args([
            "init", "--layers", "1", "--heads", "2", "--embd", "16", "--ctx", "64", "--out",
        ])
        .arg(&other)
        .status()
        .expect("gptlens init");
    assert!(ok.success());
    let name = format!("gptlens-e2e-compare-vocab-{}", std::process::id());
    let cmd = format!(
        "{BIN} --model {} explore --compare {}; echo GPTLENS-EXIT=$?; sleep 30",
        model("tinystories").display(),
        other.display()
    );
    let _s = start(&name, &cmd, 200, 20);
    let pane = wait_for_all(&name, &["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=1"), "{pane}");
    assert!(pane.contains("different vocabularies"), "{pane}");
}
