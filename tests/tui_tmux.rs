//! End to end: the real binary in a real terminal (tmux), driven with keys the
//! way a person would, checking what the screen shows and that q leaves the
//! terminal as it was. They need tmux (`.ci/run` installs it) and fail, saying
//! so, when it is missing.
//!
//! A frame is captured while the program may still be drawing, so every check
//! waits until the whole expected screen is there (all its markers at once,
//! within a generous deadline for a loaded machine), never for a first marker.

mod common;

use std::path::Path;
use std::process::Command;

use common::tmux::{Session, require_tmux};

const BIN: &str = env!("CARGO_BIN_EXE_gptlens");

/// The built-in models' folder, which is part of the repository.
fn built_in_models() -> std::path::PathBuf {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny-models");
    assert!(
        models.join("tinystories/model.safetensors").is_file(),
        "the built-in model is missing from {} (it is part of the repository)",
        models.display()
    );
    models
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
    require_tmux();
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("m");
    make_model(&model);
    let name = format!("gptlens-e2e-{}", std::process::id());
    let cmd = format!(
        "{BIN} --model {} explore --prompt 'Hello there' --seed 3; echo GPTLENS-EXIT=$?; sleep 30",
        model.display()
    );
    let s = Session::start(&name, &cmd, 120, 40);

    // The first screen: stage 1 (embed), the token strip, the embeddings view.
    // (The token strip shows the byte ids of Hello.)
    s.wait_for_all(&["embeddings", "1/31 embed", "72│101│108", "wte[token]"]);

    // Five stages on: the softmax of layer 0, with the cell's arithmetic.
    s.keys(&["Space", "Space", "Space", "Space", "Space"]);
    s.wait_for_all(&["6/31", "softmax", "the selected cell, step by step"]);

    // Zoom on the head: labelled axes.
    s.keys(&["Enter"]);
    let pane = s.wait_for_all(&["query ↓ key →"]);

    // The next token appears in the strip.
    let before = pane.lines().nth(1).unwrap_or_default().to_string();
    s.keys(&["n"]);
    let after = s.wait_until("the next token in the strip", |pane| {
        pane.lines().nth(1).unwrap_or_default() != before
    });
    let after = after.lines().nth(1).unwrap_or_default().to_string();
    assert_ne!(after, before, "n adds a token to the strip");

    // Help overlay, closed by any key.
    s.keys(&["?"]);
    s.wait_for_all(&[
        "keys (any key closes)",
        "ablate the selected head",
        "q ctrl-c",
    ]);
    s.keys(&["x"]);

    // An intervention is marked on screen.
    s.keys(&["s"]);
    s.wait_for_all(&["INTERVENTION", "no ÷√dₖ"]);

    // q quits and the shell's screen comes back.
    s.keys(&["q"]);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=0"), "{pane}");
    assert!(
        !pane.contains("INTERVENTION"),
        "alternate screen left:\n{pane}"
    );
}

#[test]
fn a_model_that_fails_to_load_is_reported_before_the_tui_starts() {
    require_tmux();
    let name = format!("gptlens-e2e-bad-{}", std::process::id());
    let cmd = format!("{BIN} --model /nonexistent/model explore; echo GPTLENS-EXIT=$?; sleep 30");
    let s = Session::start(&name, &cmd, 100, 20);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=1"), "{pane}");
    assert!(pane.contains("does not exist"), "{pane}");
}

#[test]
fn plain_gptlens_opens_the_explorer_on_the_built_in_model_with_a_default_prompt() {
    require_tmux();
    let tmp = tempfile::tempdir().expect("tempdir");
    make_model(&tmp.path().join("tinystories"));
    let name = format!("gptlens-e2e-plain-{}", std::process::id());
    let cmd = format!(
        "GPTLENS_MODELS={} {BIN}; echo GPTLENS-EXIT=$?; sleep 30",
        tmp.path().display()
    );
    let s = Session::start(&name, &cmd, 80, 24);
    // "… there was a little" in the byte tokenizer ends with l i t t l e.
    s.wait_for_all(&["108│105│116│116│108│101│", "36 tokens", "embed"]);
    s.keys(&["C-c"]);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(
        pane.contains("GPTLENS-EXIT=0"),
        "ctrl-c quits cleanly:\n{pane}"
    );
}

#[test]
fn lesson_player_in_a_real_terminal() {
    require_tmux();
    let models = built_in_models();
    let name = format!("gptlens-e2e-lesson-{}", std::process::id());
    let cmd = format!(
        "GPTLENS_MODELS={} {BIN} lesson attention; echo GPTLENS-EXIT=$?; sleep 30",
        models.display()
    );
    let s = Session::start(&name, &cmd, 200, 50);

    // The first step asks before it shows: the view is hidden until `=`.
    s.wait_for_all(&[
        "step 1/",
        "1. Queries, keys and values",
        "Predict:",
        "predict first",
    ]);
    s.keys(&["="]);
    s.wait_for_all(&["The model's answer:", "Q, K, V"]);

    // The next step: the scores heatmap, and the text with the live score.
    s.keys(&["PageDown"]);
    // Header, text and heatmap of step 2 in one frame: a frame reaches the
    // terminal top to bottom, so waiting for the header alone once captured
    // step 2's header above step 1's text.
    s.wait_for_all(&[
        "step 2/",
        "2. Scores: q·k / √dₖ",
        "score = q·k/√dₖ = ",
        // The step zooms on its head (the lesson's `zoom: on`).
        "layer 1/4 · scores · head 3",
        "layer 1 head 3 (enter: back to all heads)",
    ]);

    s.keys(&["q"]);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=0"), "{pane}");
    assert!(!pane.contains("step 2/"), "alternate screen left:\n{pane}");
}

#[test]
fn an_unknown_lesson_is_reported_before_the_player_starts() {
    let out = common::in_english(&mut Command::new(BIN))
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
    let models = built_in_models();
    let out = common::in_english(&mut Command::new(BIN))
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
    require_tmux();
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
        let s = Session::start(&name, &cmd, 120, 40);
        s.wait_for_all(&["embeddings", "embed"]);
        let pid = find_process(&marker).expect("the gptlens process");
        let killed = Command::new("sh")
            .args(["-c", &format!("kill -{signal} {pid}")])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let pane = s.wait_for_all(&["TTY-"]);
        assert!(pane.contains(&format!("GPTLENS-EXIT={code}")), "{pane}");
        assert!(pane.contains("TTY-COOKED"), "raw mode left on:\n{pane}");
        assert!(
            !pane.contains("embeddings"),
            "alternate screen left:\n{pane}"
        );
    }
}

/// `explore --chat` opens on the templated text (h-ft's test, issue 13).
#[test]
fn explore_chat_opens_on_the_templated_prompt_and_refuses_a_model_without_a_template() {
    require_tmux();
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = built_in_models().join("tinystories");
    let m = tmp.path().join("chat");
    std::fs::create_dir_all(&m).unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(base.join(f), m.join(f)).unwrap();
    }
    let cfg = serde_json::json!({"chat_template": gptlens::finetune::DEFAULT_CHAT_TEMPLATE});
    std::fs::write(m.join("tokenizer_config.json"), cfg.to_string()).unwrap();
    let tok = gptlens::tokenizer::Tokenizer::open(&m.join("tokenizer.json")).unwrap();
    let n = tok.encode("Q: Write a story about Mia.\nA:").unwrap().len();
    let name = format!("gptlens-e2e-chat-{}", std::process::id());
    let cmd = format!(
        "{BIN} --model {} explore --chat 'Write a story about Mia.'; echo GPTLENS-EXIT=$?; sleep 30",
        m.display()
    );
    let s = Session::start(&name, &cmd, 120, 40);
    s.wait_for_all(&[&format!("{n} tokens"), "embed"]);
    s.keys(&["C-c"]);
    s.wait_for_all(&["GPTLENS-EXIT=0"]);
    drop(s);
    let name = format!("gptlens-e2e-nochat-{}", std::process::id());
    let cmd = format!(
        "{BIN} --model {} explore --chat 'Write a story about Mia.'; echo GPTLENS-EXIT=$?; sleep 30",
        base.display()
    );
    let s = Session::start(&name, &cmd, 200, 20);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=1"), "{pane}");
    assert!(pane.contains("chat_template"), "{pane}");
}

#[test]
fn a_large_model_shows_a_loading_frame_before_its_weights_are_read() {
    require_tmux();
    let tmp = tempfile::tempdir().expect("tempdir");
    // GPT-2 small's shape (vocabulary, width, heads, context) with one layer
    // instead of twelve: 46M parameters, 185 MB, so CI stays fast.
    let model = tmp.path().join("gpt2-shaped");
    let ok = Command::new(BIN)
        .args([
            "init", "--layers", "1", "--heads", "12", "--embd", "768", "--vocab", "50257", "--ctx",
            "1024", "--seed", "1", "--out",
        ])
        .arg(&model)
        .status()
        .expect("run gptlens init");
    assert!(ok.success());
    let go = tmp.path().join("go");
    let log = tmp.path().join("screen.log");
    let name = format!("gptlens-e2e-loading-{}", std::process::id());
    // gptlens starts only once everything it writes is being recorded, so
    // the test sees every frame, however briefly the loading frame shows.
    let cmd = format!(
        "while [ ! -e {} ]; do sleep 0.05; done; {BIN} --model {} explore --prompt 'Hello'; echo GPTLENS-EXIT=$?; sleep 30",
        go.display(),
        model.display()
    );
    let s = Session::start(&name, &cmd, 120, 40);
    s.tmux(&[
        "pipe-pane",
        "-t",
        &name,
        "-o",
        &format!("cat >> {}", log.display()),
    ]);
    std::fs::write(&go, "").expect("write the go file");
    s.wait_for_all(&["1/18 embed", "wte[token]", "? help"]);
    let recorded =
        String::from_utf8_lossy(&std::fs::read(&log).expect("the recording")).into_owned();
    let loading = recorded
        .find("loading gpt2-shaped")
        .unwrap_or_else(|| panic!("no loading frame was drawn:\n{recorded:?}"));
    let explorer = recorded.find("wte[token]").expect("the explorer's frame");
    assert!(loading < explorer, "the loading frame comes first");
    // The frame's other words (a terminal is sent the words of a line
    // between cursor moves, not its blanks), before the explorer's frame.
    let frame = &recorded[loading..explorer];
    for word in [
        "46.5M",
        "parameters",
        "layers",
        "heads",
        "width",
        "768",
        "context",
        "1024",
        "model.safetensors",
        "177.28",
        "MiB",
    ] {
        assert!(frame.contains(word), "the loading frame lacks {word:?}");
    }
    s.keys(&["q"]);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=0"), "{pane}");
}

#[test]
fn a_prompt_longer_than_the_context_is_cut_with_a_notice_on_screen() {
    require_tmux();
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = tmp.path().join("m");
    make_model(&model);
    let name = format!("gptlens-e2e-cut-{}", std::process::id());
    let prompt = "ab".repeat(50);
    let cmd = format!(
        "{BIN} --model {} explore --prompt '{prompt}'; echo GPTLENS-EXIT=$?; sleep 30",
        model.display()
    );
    let s = Session::start(&name, &cmd, 120, 40);
    s.wait_for_all(&[
        "64 tokens",
        "the prompt is 100 tokens but the model's context is 64: kept the last 64",
        "q quit",
    ]);
    // The prompt editor: a longer prompt is refused, a short one runs.
    s.keys(&["i"]);
    s.wait_for_all(&["prompt: abab", "esc cancels"]);
    s.keys(&["C-u", "a", "b", "c", "Enter"]);
    s.wait_for_all(&["3 tokens", "97│98│99│", "q quit"]);
    s.keys(&["q"]);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=0"), "{pane}");
}

/// Issue 12 points 8 and 10 in a real terminal: `lesson NAME --present`
/// starts in presenter mode (the formula card), `o` lists the lessons and
/// opens one, and PgDn at a lesson's last step goes on to the next lesson.
#[test]
fn lesson_present_and_moving_between_lessons_without_quitting() {
    require_tmux();
    let models = built_in_models();
    let name = format!("gptlens-e2e-present-{}", std::process::id());
    let cmd = format!(
        "GPTLENS_MODELS={} {BIN} --lang en lesson attention --present; echo GPTLENS-EXIT=$?; sleep 30",
        models.display()
    );
    let s = Session::start(&name, &cmd, 120, 35);
    s.wait_for_all(&["step 1/", "predict first"]);
    s.keys(&["="]);
    s.wait_for_all(&["step 1/", "the formula, live"]);
    // The lesson list, from the lesson: enter on the next row opens it.
    s.keys(&["o"]);
    s.wait_for_all(&["lessons: open one", "enter open", "multihead"]);
    s.keys(&["Down", "Enter"]);
    // The whole new screen: the lesson drawn and the list gone (a frame
    // caught mid-redraw can show both).
    s.wait_until("the lesson drawn and the list gone", |pane| {
        pane.contains("step 1/") && pane.contains("Multi") && !pane.contains("lessons: open one")
    });
    // To the last step: the key line offers the next lesson; PgDn says
    // which, PgDn again opens it.
    let steps = include_str!("../lessons/multihead.md")
        .matches("```step")
        .count();
    for _ in 1..steps {
        s.keys(&["PageDown"]);
    }
    s.wait_for_all(&[&format!("step {steps}/{steps}"), "next lesson"]);
    s.keys(&["PageDown"]);
    s.wait_for_all(&["again: the next lesson, LayerNorm"]);
    s.keys(&["PageDown"]);
    s.wait_for_all(&["step 1/", "LayerNorm"]);
    s.keys(&["q"]);
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    assert!(pane.contains("GPTLENS-EXIT=0"), "{pane}");
}
