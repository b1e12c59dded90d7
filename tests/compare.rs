//! Compare mode end to end: `gptlens explore --model A --compare B` in a
//! real terminal (tmux): the loss view shows both models and the difference;
//! two models with different vocabularies are refused before the explorer
//! starts, saying why. Needs tmux (`.ci/run` installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::tmux::Session;

const BIN: &str = env!("CARGO_BIN_EXE_gptlens");

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
    let s = Session::start(&name, &cmd, 120, 40);
    s.wait_for_all(&["embed"]);
    s.keys(&["8"]);
    s.wait_for_all(&[
        "A = tinystories · B = tinystories-instruct",
        "mean loss A",
        "Δloss",
    ]);
    s.keys(&["q"]);
    s.wait_for_all(&["GPTLENS-EXIT=0"]);
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
    let s = Session::start(&name, &cmd, 200, 20);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=1"), "{pane}");
    assert!(pane.contains("different vocabularies"), "{pane}");
}
