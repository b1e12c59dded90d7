//! The command line under hostile conditions: a closed or full stdout, a
//! terminal that would act on escape sequences, bad settings and paths. Each
//! test runs the real binary.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gptlens");

/// What main returns after the reader of stdout went away (128 + SIGPIPE).
const CLOSED_PIPE: i32 = 141;

/// A random 2-layer model folder (byte tokenizer) made by `gptlens init`.
fn model() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("m");
    let out = Command::new(BIN)
        .arg("init")
        .arg("--out")
        .arg(&dir)
        .output()
        .expect("run gptlens init");
    assert!(out.status.success(), "{out:?}");
    (tmp, dir)
}

fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    common::in_english(&mut c)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE");
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn no_panic(args: &[String], o: &Output) {
    let e = stderr(o);
    assert!(
        !e.contains("panicked") && o.status.code() != Some(101),
        "gptlens {args:?} panicked: {e}"
    );
}

/// Every command that writes to stdout, at its smallest setting.
fn printing_commands(m: &str) -> Vec<Vec<String>> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["lessons"]),
        v(&["--model", m, "lesson", "tokens", "--print"]),
        v(&["cost"]),
        v(&["cost", "--json"]),
        v(&["--model", m, "trace", "--ids", "1,2,3", "--json"]),
        v(&[
            "--model",
            m,
            "generate",
            "--prompt",
            "hi",
            "--max-tokens",
            "3",
        ]),
        v(&[
            "--model",
            m,
            "generate",
            "--prompt",
            "hi",
            "--max-tokens",
            "2",
            "--beams",
            "2",
        ]),
        v(&["--model", m, "bench", "--tokens", "1", "--repeat", "1"]),
        v(&[
            "--model", m, "bench", "--tokens", "1", "--repeat", "1", "--json",
        ]),
    ]
}

#[test]
fn a_full_disk_is_a_clear_error_for_every_command() {
    let (_t, dir) = model();
    for args in printing_commands(dir.to_str().unwrap()) {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full exists on Linux");
        let o = cmd(&args.iter().map(|s| s.as_str()).collect::<Vec<_>>())
            .stdout(full)
            .output()
            .expect("run gptlens");
        no_panic(&args, &o);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "gptlens {args:?}: {e}");
        assert!(
            e.contains("cannot write to standard output") && e.contains("No space left on device"),
            "gptlens {args:?}: {e}"
        );
        assert!(!e.contains("cannot read"), "gptlens {args:?}: {e}");
        assert_eq!(e.matches("os error 28").count(), 1, "said once: {e}");
    }
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let (_t, dir) = model();
    for args in printing_commands(dir.to_str().unwrap()) {
        // The reader is gone before gptlens writes its first byte.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let o = cmd(&args.iter().map(|s| s.as_str()).collect::<Vec<_>>())
            .stdout(writer)
            .output()
            .expect("run gptlens");
        no_panic(&args, &o);
        assert_eq!(
            o.status.code(),
            Some(CLOSED_PIPE),
            "gptlens {args:?}: {}",
            stderr(&o)
        );
        assert_eq!(stderr(&o), "", "nothing to say about a closed pipe");
    }
}

#[test]
fn a_pipe_closed_after_one_byte_ends_a_long_output_quietly() {
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    let ids = (1..=100)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let big = dir.join("big.md");
    let body = "A long lesson line, over and over.\n".repeat(30_000);
    std::fs::write(
        &big,
        format!("---\ntitle: Big\nsummary: S\nprompt: Tom\norder: 1\n---\n{body}## Step\n```step\nview: tokens\n```\n{body}"),
    )
    .expect("write lesson");
    // Megabytes each: far more than a pipe holds, so gptlens is still
    // writing when the reader goes away.
    let runs: Vec<Vec<&str>> = vec![
        vec!["--model", m, "trace", "--ids", &ids, "--json", "--full"],
        vec![
            "--model",
            m,
            "lesson",
            "--file",
            big.to_str().unwrap(),
            "--print",
        ],
    ];
    for args in runs {
        let mut child = cmd(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn gptlens");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut one = [0u8; 1];
        stdout.read_exact(&mut one).expect("the first byte");
        drop(stdout);
        let o = child.wait_with_output().expect("gptlens ends");
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        no_panic(&args, &o);
        let code = o.status.code();
        let e = stderr(&o);
        assert_eq!(code, Some(CLOSED_PIPE), "gptlens {args:?}: {e}");
        assert_eq!(e, "", "gptlens {args:?}");
    }
}

// ---------------------------------------------------------------------------
// Escapes: a terminal acts on ESC and friends, so untrusted text is shown
// escaped there, and raw to a pipe or with --raw.
// ---------------------------------------------------------------------------

/// OSC 52 (write "hi" to the clipboard), BEL, then plain text.
const HOSTILE: &str = "\u{1b}]52;c;aGk=\u{7}Tom";

/// Runs `args` under a pseudo-terminal (util-linux `script`); returns the
/// bytes gptlens wrote to it.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let mut line = format!("'{BIN}'");
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let mut c = Command::new("script");
    c.args(["-q", "-e", "-c", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c
        .output()
        .expect("`script` (util-linux) runs commands on a pseudo-terminal");
    assert!(o.status.success(), "{line}: {}", stderr(&o));
    o.stdout
}

#[test]
fn an_error_quoting_a_hostile_lesson_is_escaped_on_a_terminal() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = tmp.path().join("bad.md");
    std::fs::write(
        &f,
        format!("---\ntitle: T\nsummary: S\nprompt: Tom\norder: 1\nmodel: x{HOSTILE}/../y\n---\n"),
    )
    .expect("write lesson");
    // `script -e` passes on the exit status: run through `sh` so the error
    // (stderr is the terminal too) is what is checked, not the status.
    let l = f.to_str().unwrap();
    let line = format!("'{BIN}' lesson --file '{l}' --print; true");
    let o = Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) runs commands on a pseudo-terminal");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("bad.md:6:") && text.contains("␛]52"),
        "{text:?}"
    );
    assert!(!has_raw_escapes(&o.stdout), "{text:?}");
}

fn has_raw_escapes(b: &[u8]) -> bool {
    b.contains(&0x1b) || b.contains(&0x07)
}

/// A lesson file whose title, prompt and body carry escape sequences.
fn hostile_lesson(dir: &Path) -> PathBuf {
    let f = dir.join("hostile.md");
    let text = format!(
        "---\ntitle: T{HOSTILE}\nsummary: S\nprompt: P{HOSTILE}\norder: 1\n---\n# T{HOSTILE}\n\nBody {HOSTILE}\n\n## Step\n```step\nview: tokens\n```\nText {HOSTILE}\n"
    );
    std::fs::write(&f, text).expect("write lesson");
    f
}

#[test]
fn untrusted_text_is_escaped_on_a_terminal_and_raw_elsewhere() {
    let (t, dir) = model();
    let m = dir.to_str().unwrap();
    let lesson = hostile_lesson(t.path());
    let l = lesson.to_str().unwrap();
    let generate = [
        "--model",
        m,
        "generate",
        "--prompt",
        HOSTILE,
        "--max-tokens",
        "2",
    ];
    let print = ["--model", m, "lesson", "--file", l, "--print"];
    for args in [&generate[..], &print[..]] {
        let tty = on_a_terminal(args, &[]);
        let text = String::from_utf8_lossy(&tty);
        assert!(!has_raw_escapes(&tty), "{args:?} on a terminal: {text:?}");
        assert!(text.contains("␛]52;c;aGk=\\u{7}Tom"), "{args:?}: {text:?}");

        let mut raw_args = vec!["--raw"];
        raw_args.extend_from_slice(args);
        let raw = on_a_terminal(&raw_args, &[]);
        assert!(
            raw.windows(HOSTILE.len()).any(|w| w == HOSTILE.as_bytes()),
            "--raw keeps the bytes: {:?}",
            String::from_utf8_lossy(&raw)
        );

        let piped = cmd(args).output().expect("run gptlens");
        assert!(piped.status.success(), "{}", stderr(&piped));
        assert!(
            piped
                .stdout
                .windows(HOSTILE.len())
                .any(|w| w == HOSTILE.as_bytes()),
            "a pipe gets the bytes as they are"
        );
    }
}

// ---------------------------------------------------------------------------
// Settings: refused before anything is printed.
// ---------------------------------------------------------------------------

/// Runs gptlens with piped output; (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = cmd(args).output().expect("run gptlens");
    let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    no_panic(&a, &o);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr(&o),
    )
}

#[test]
fn bad_beam_settings_are_refused_with_the_limit() {
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    let beams = |extra: &[&str]| {
        let mut a = vec![
            "--model",
            m,
            "generate",
            "--prompt",
            "Tom",
            "--max-tokens",
            "2",
        ];
        a.extend_from_slice(extra);
        run(&a)
    };
    for bad in ["NaN", "inf", "-inf"] {
        let flag = format!("--length-penalty={bad}");
        let (code, out, err) = beams(&["--beams", "2", &flag]);
        // A setting out of range is a usage error (exit 2).
        assert_eq!((code, out.as_str()), (Some(2), ""), "{bad}: {err}");
        assert!(
            err.contains("length penalty") && err.contains("finite"),
            "{err}"
        );
    }
    let (code, out, err) = beams(&["--beams", "100000"]);
    assert_eq!((code, out.as_str()), (Some(2), ""), "{err}");
    assert!(
        err.contains("100000 beams") && err.contains("1 to 32"),
        "{err}"
    );
    let (code, _, err) = beams(&["--beams", "0"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, out, err) = beams(&["--beams", "32"]);
    assert_eq!(code, Some(0), "the cap itself is allowed: {err}");
    assert!(out.starts_with("Tom"), "{out}");
}

#[test]
fn sampling_errors_come_before_the_prompt_is_printed() {
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    for bad in [
        &["--temperature=-1"][..],
        &["--top-p", "0"],
        &["--repetition-penalty", "NaN"],
    ] {
        let mut a = vec!["--model", m, "generate", "--prompt", "Tom"];
        a.extend_from_slice(bad);
        let (code, out, err) = run(&a);
        assert_eq!(code, Some(2), "{bad:?}: a usage error: {err}");
        assert_eq!(out, "", "{bad:?}: nothing printed before the error");
        assert!(err.starts_with("error: "), "{err}");
    }
}

#[test]
fn an_os_error_is_said_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().unwrap();
    let (code, _, err) = run(&["lesson", "--file", d, "--print"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(err.matches("os error 21").count(), 1, "{err}");
    assert!(err.contains(d), "{err}");
}

// ---------------------------------------------------------------------------
// Paths and messages.
// ---------------------------------------------------------------------------

/// A lesson file with this `model:` line (line 5) and prompt (line 4).
fn lesson_file(dir: &Path, name: &str, prompt: &str, model: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::write(
        &f,
        format!("---\ntitle: T\nsummary: S\nprompt: {prompt}\nmodel: {model}\norder: 1\n---\n## Step\n```step\nview: tokens\n```\nText {{{{model.layers}}}}\n"),
    )
    .expect("write lesson");
    f
}

#[test]
fn a_lesson_names_only_built_in_models_or_folders_beside_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lessons = tmp.path().join("lessons");
    std::fs::create_dir(&lessons).expect("mkdir");
    // A model folder beside the lesson file, and one elsewhere on the disk.
    let (_t, elsewhere) = model();
    let beside = lessons.join("mine");
    std::fs::rename(&elsewhere, &beside).expect("move the model beside the lesson");
    let (_t2, elsewhere) = model();
    let far = elsewhere.to_str().unwrap();
    let up = format!("../../../../../../..{far}");

    for (model, why) in [(far, "absolute"), (up.as_str(), "`..`")] {
        let f = lesson_file(&lessons, "far.md", "Tom", model);
        let (code, out, err) = run(&["lesson", "--file", f.to_str().unwrap(), "--print"]);
        assert_eq!((code, out.as_str()), (Some(1), ""), "{model}: {err}");
        assert!(
            err.contains("far.md:5:") && err.contains(why) && err.contains("--model DIR"),
            "{model}: {err}"
        );
    }

    let f = lesson_file(&lessons, "mine.md", "Tom", "mine");
    let (code, out, err) = run(&["lesson", "--file", f.to_str().unwrap(), "--print"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("· model mine ·"),
        "ran on the folder beside it: {out}"
    );
    // A bare file name: the folder beside it is the current directory.
    let o = cmd(&["lesson", "--file", "mine.md", "--print"])
        .current_dir(&lessons)
        .output()
        .expect("run gptlens");
    assert!(o.status.success(), "{}", stderr(&o));

    let f = lesson_file(&lessons, "none.md", "Tom", "nothere");
    let (code, _, err) = run(&["lesson", "--file", f.to_str().unwrap(), "--print"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("`nothere`")
            && err.contains("beside the lesson file")
            && err.contains("--model DIR"),
        "{err}"
    );
}

#[test]
fn a_prompt_too_long_for_the_model_points_at_the_prompt_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_t, m) = model();
    let f = lesson_file(tmp.path(), "long.md", &"a".repeat(300), "tinystories");
    let (code, _, err) = run(&[
        "--model",
        m.to_str().unwrap(),
        "lesson",
        "--file",
        f.to_str().unwrap(),
        "--print",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("long.md:4:") && err.contains("300 tokens"),
        "{err}"
    );
}

#[test]
fn a_model_file_is_not_called_missing() {
    let (_t, m) = model();
    let file = m.join("config.json");
    let (code, _, err) = run(&[
        "--model",
        file.to_str().unwrap(),
        "generate",
        "--prompt",
        "Tom",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("is a file, not a folder") && err.contains(m.to_str().unwrap()),
        "{err}"
    );
    assert!(!err.contains("does not exist"), "{err}");
}

// ---------------------------------------------------------------------------
// A self-contained binary: the built-in models and lessons are inside it.
// ---------------------------------------------------------------------------

#[test]
fn a_copied_binary_runs_everything_with_no_source_tree() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = tmp.path().join("bin").join("gptlens");
    std::fs::create_dir(tmp.path().join("bin")).expect("mkdir");
    std::fs::copy(BIN, &bin).expect("copy the binary");
    let elsewhere = tmp.path().join("cwd");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let source_tree = env!("CARGO_MANIFEST_DIR");
    let run = |args: &[&str]| {
        // A test running beside this one may fork while the copy's write handle
        // is still open; its child holds that handle until it execs, and
        // executing the copy meanwhile fails with ETXTBSY (26). Retry that.
        let mut tries = 0;
        let o = loop {
            let r = common::in_english(&mut Command::new(&bin))
                .args(args)
                .current_dir(&elsewhere)
                .env_remove("CARGO_MANIFEST_DIR")
                .env_remove("GPTLENS_MODELS")
                .env_remove("GPTLENS_LESSONS")
                .env("NO_COLOR", "1")
                .output();
            match r {
                Err(e) if e.raw_os_error() == Some(26) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                r => break r.expect("run the copied gptlens"),
            }
        };
        let (out, err) = (String::from_utf8_lossy(&o.stdout).into_owned(), stderr(&o));
        assert!(o.status.success(), "gptlens {args:?}: {err}");
        // Nothing it says points into the tree it was built in.
        assert!(
            !out.contains(source_tree) && !err.contains(source_tree),
            "gptlens {args:?} names the build directory: {out}{err}"
        );
        out
    };
    let lessons = run(&["lessons"]);
    assert!(
        lessons.contains("attention") && lessons.contains("tokens"),
        "{lessons}"
    );
    let md = run(&["lesson", "attention", "--print"]);
    assert!(
        md.contains("· model tinystories ·") && md.contains("# Attention"),
        "{md}"
    );
    let text = run(&[
        "generate",
        "--prompt",
        "Once upon a time",
        "--max-tokens",
        "5",
        "--temperature",
        "0",
    ]);
    assert!(
        text.starts_with("Once upon a time") && text.len() > 17,
        "{text}"
    );
    let cost = run(&["cost"]);
    assert!(cost.contains("(built-in)/tinystories"), "{cost}");
    let bench = run(&["bench", "--tokens", "1", "--repeat", "1"]);
    assert!(bench.contains("(built-in)/tinystories"), "{bench}");
    // A folder still opens, and the built-in model goes by its name too.
    let (_t, m) = model();
    run(&[
        "--model",
        m.to_str().unwrap(),
        "generate",
        "--prompt",
        "hi",
        "--max-tokens",
        "1",
    ]);
    run(&[
        "--model",
        "(built-in)/tinystories",
        "trace",
        "--ids",
        "1",
        "--json",
        "--fields",
        "top",
    ]);
}

// ---------------------------------------------------------------------------
// Pipes: `gptlens … | head -c 1` for every printing command.
// ---------------------------------------------------------------------------

/// Runs `gptlens ARGS | head -c 1` in bash; gptlens's exit status and stderr.
fn into_head(args: &[String]) -> (Option<i32>, String) {
    let script = r#"bin="$1"; shift; "$bin" "$@" 2>"$ERRFILE" | head -c 1 >/dev/null; exit "${PIPESTATUS[0]}""#;
    let tmp = tempfile::tempdir().expect("tempdir");
    let errfile = tmp.path().join("stderr");
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .arg(BIN)
        .args(args)
        .env("ERRFILE", &errfile)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .spawn()
        .expect("run bash");
    // A watchdog, not a measurement: a command that keeps working after its
    // reader left (generate used to) would otherwise hang the suite.
    let mut waited = 0;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if waited > 1200 {
            let _ = child.kill();
            panic!("gptlens {args:?} | head -c 1 did not end in 2 minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    };
    let err = std::fs::read_to_string(&errfile).unwrap_or_default();
    (status.code(), err)
}

#[test]
fn every_printing_command_piped_into_head_ends_quietly() {
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    let pairs = dir.join("pairs.jsonl");
    std::fs::write(
        &pairs,
        "{\"prompt\": \"Hi\", \"response\": \"Hello there.\"}\n{\"prompt\": \"Yo\", \"response\": \"Hey.\"}\n",
    )
    .expect("write pairs");
    let mut runs = printing_commands(m);
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    runs.extend([
        v(&["--help"]),
        v(&["trace", "--help"]),
        v(&["lesson", "attention", "--print"]),
        v(&["lesson", "attention", "--print", "--format", "html"]),
        v(&["export", "--view", "attention", "--format", "txt"]),
        v(&["export", "--view", "mlp", "--format", "svg"]),
        v(&[
            "--model",
            m,
            "finetune",
            "--data",
            pairs.to_str().unwrap(),
            "--eval",
        ]),
        v(&[
            "train",
            "--bench",
            "--bench-steps",
            "1",
            "--layers",
            "1",
            "--heads",
            "1",
            "--embd",
            "8",
            "--ctx",
            "8",
            "--vocab",
            "300",
            "--batch",
            "1",
        ]),
    ]);
    for args in &runs {
        let (code, err) = into_head(args);
        assert!(!err.contains("panicked"), "gptlens {args:?}: {err}");
        // Short outputs may be written whole before head exits.
        assert!(
            code == Some(CLOSED_PIPE) || code == Some(0),
            "gptlens {args:?}: exit {code:?}: {err}"
        );
        assert_eq!(
            err, "",
            "gptlens {args:?}: nothing to say about a closed pipe"
        );
    }
    // Far more than a pipe holds: gptlens must notice, and stop generating.
    let endless = v(&[
        "--model",
        m,
        "generate",
        "--prompt",
        "hi",
        "--max-tokens",
        "100000000",
        "--ignore-eos",
    ]);
    let (code, err) = into_head(&endless);
    assert_eq!(code, Some(CLOSED_PIPE), "{err}");
    assert_eq!(err, "");
}

// ---------------------------------------------------------------------------
// The command line itself: headings, help, values, prefixes, exit codes.
// ---------------------------------------------------------------------------

fn help(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    out
}

#[test]
fn shared_options_sit_under_their_heading_only_where_they_act() {
    let top = help(&["--help"]);
    for h in [
        "Display:",
        "Model:",
        "Output:",
        "Exit status: 0",
        "2 a usage error",
    ] {
        assert!(top.contains(h), "gptlens --help lacks {h}: {top}");
    }
    for (cmd, has, lacks) in [
        (
            "explore",
            &["Display:", "--palette", "--no-color", "--ascii", "Model:"][..],
            &["--raw"][..],
        ),
        (
            "lesson",
            &["Display:", "--palette", "Output:", "--raw", "Model:"],
            &[],
        ),
        (
            "generate",
            &[
                "Model:",
                "--model",
                "Output:",
                "--raw",
                "Interventions:",
                "--ablate",
            ],
            &["--palette", "--no-color", "--ascii"],
        ),
        (
            "trace",
            &["Model:", "Interventions:", "--no-mask"],
            &["--palette", "--no-color", "--ascii", "--raw"],
        ),
        (
            "cost",
            &["Model:"],
            &["--palette", "--no-color", "--ascii", "--raw"],
        ),
        ("bench", &["Model:"], &["--palette", "--no-color", "--raw"]),
        (
            "train",
            &[],
            &["--palette", "--no-color", "--raw", "--model"],
        ),
        (
            "init",
            &[],
            &["--palette", "--no-color", "--raw", "--model"],
        ),
        ("lessons", &["--raw"], &["--palette", "--model"]),
    ] {
        let h = help(&[cmd, "--help"]);
        for s in has {
            assert!(h.contains(s), "gptlens {cmd} --help lacks {s}: {h}");
        }
        for s in lacks {
            assert!(!h.contains(s), "gptlens {cmd} --help shows {s}: {h}");
        }
    }
    // Given before the command, a shared option acts on it or is refused.
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    let (code, out, _) = run(&[
        "--model",
        m,
        "--raw",
        "generate",
        "--prompt",
        "hi",
        "--max-tokens",
        "1",
    ]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("hi"), "{out}");
    let (code, out, err) = run(&[
        "--model",
        m,
        "--palette",
        "gray",
        "generate",
        "--prompt",
        "hi",
    ]);
    assert_eq!((code, out.as_str()), (Some(2), ""), "{err}");
    assert!(
        err.starts_with("error: --palette does not apply to `gptlens generate`"),
        "{err}"
    );
    let (code, _, err) = run(&["--model", m, "train"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--model does not apply"), "{err}");
}

#[test]
fn numbers_with_a_minus_sign_are_read_and_refused_with_the_range() {
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    for (flag, value, says) in [
        ("--temperature", "-1", "must be ≥ 0"),
        ("--top-p", "1.5", "≤ 1"),
        ("--top-p", "-0.5", "> 0"),
        ("--top-k", "-1", "must be 0 or more"),
        ("--max-tokens", "-3", "must be 0 or more"),
        ("--repetition-penalty", "-2", "positive"),
    ] {
        let (code, out, err) = run(&["--model", m, "generate", "--prompt", "hi", flag, value]);
        assert_eq!(code, Some(2), "{flag} {value}: {err}");
        assert_eq!(out, "", "{flag} {value}: nothing printed before the error");
        assert!(
            err.starts_with("error: ") && err.contains(says),
            "{flag} {value}: {err}"
        );
        assert!(!err.contains("unexpected argument"), "{err}");
    }
    let (code, _, err) = run(&["--model", m, "trace", "--ids", "1", "--ablate", "-1.0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("≥ 0"), "{err}");
}

#[test]
fn every_error_has_one_prefix_and_the_documented_status() {
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    let missing = dir.join("nothing-here");
    for (args, status) in [
        (vec!["generate", "--prompt", "hi", "--no-such-option"], 2),
        (vec!["generate"], 2),
        (vec!["lesson", "atention", "--print"], 1),
        (
            vec![
                "--model",
                missing.to_str().unwrap(),
                "generate",
                "--prompt",
                "hi",
            ],
            1,
        ),
        (
            vec!["--model", m, "trace", "--ids", "1", "--ablate", "9.0"],
            2,
        ),
        (
            vec![
                "--model",
                m,
                "generate",
                "--prompt",
                "hi",
                "--beams",
                "2",
                "--no-mask",
            ],
            2,
        ),
        (
            vec!["lesson", "--file", missing.to_str().unwrap(), "--print"],
            1,
        ),
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(status), "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(!err.contains("Error:"), "{args:?}: {err}");
        assert_eq!(err.matches("error: ").count(), 1, "{args:?}: {err}");
        assert_eq!(
            err.matches("os error 2)").count().min(1),
            err.matches("os error").count().min(1),
            "{err}"
        );
        if let Some(i) = err.find("(os error") {
            assert_eq!(err.matches(&err[i..i + 12]).count(), 1, "said once: {err}");
        }
    }
}

// ---------------------------------------------------------------------------
// Interventions from the command line, and the logit lens in the trace.
// ---------------------------------------------------------------------------

fn trace_json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = run(args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    serde_json::from_str(&out).expect("trace JSON")
}

#[test]
fn an_ablated_head_writes_zeros_and_the_others_do_not() {
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    let t = |extra: &[&str]| {
        let mut a = vec![
            "--model", m, "trace", "--ids", "5,6,7,8", "--fields", "heads", "--layers", "1",
        ];
        a.extend_from_slice(extra);
        trace_json(&a)
    };
    let cfg = t(&[])["config"].clone();
    let dk = (cfg["n_embd"].as_u64().unwrap() / cfg["n_head"].as_u64().unwrap()) as usize;
    let cols = |v: &serde_json::Value, head: usize| -> Vec<f64> {
        v["layers"][0]["heads"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap()[head * dk..(head + 1) * dk].to_vec())
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let plain = t(&[]);
    let ablated = t(&["--ablate", "1.1"]);
    assert!(
        cols(&plain, 1).iter().any(|x| *x != 0.0),
        "head 1 is live unablated"
    );
    assert!(
        cols(&ablated, 1).iter().all(|x| *x == 0.0),
        "head 1 ablated is zero"
    );
    assert_eq!(cols(&plain, 0), cols(&ablated, 0), "head 0 untouched");
    assert_eq!(
        ablated["interventions"]["ablate"],
        serde_json::json!([[1, 1]])
    );
    assert!(plain.get("interventions").is_none());
}

#[test]
fn no_mask_lets_early_positions_see_later_ones_and_changes_later_attention() {
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    let args = [
        "--model",
        m,
        "trace",
        "--ids",
        "5,6,7,8,9",
        "--fields",
        "attention",
    ];
    let masked = trace_json(&args);
    let mut a = args.to_vec();
    a.push("--no-mask");
    let open = trace_json(&a);
    let probs = |v: &serde_json::Value, layer: usize, q: usize| -> Vec<f64> {
        v["layers"][layer]["attn"]["probs"][0][q]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    assert_eq!(
        probs(&masked, 0, 0),
        [1.0],
        "masked: query 0 sees key 0 only"
    );
    let q0 = probs(&open, 0, 0);
    assert_eq!(q0.len(), 5, "unmasked: every key");
    assert!(q0[1..].iter().all(|p| *p > 0.0), "{q0:?}");
    // Layer 0's last query saw every key anyway; layer 1's reads a residual
    // stream the earlier positions wrote while looking ahead.
    assert_eq!(probs(&masked, 0, 4).len(), probs(&open, 0, 4).len());
    assert_ne!(probs(&masked, 1, 4), probs(&open, 1, 4));
    assert_eq!(open["interventions"]["no_mask"], true);
}

#[test]
fn the_logit_lens_at_the_last_layer_is_the_logits() {
    let (_t, dir) = model();
    let m = dir.to_str().unwrap();
    for extra in [
        &[][..],
        &["--no-layernorm"],
        &["--no-scale", "--ablate", "0.0"],
    ] {
        let mut a = vec!["--model", m, "trace", "--ids", "3,1,4,1,5"];
        a.extend_from_slice(extra);
        let v = trace_json(&a);
        let layers = v["layers"].as_array().unwrap();
        let last = layers.last().unwrap()["lens"].as_array().unwrap();
        assert_eq!(last.len(), 5, "one entry per position");
        let lens_top = &last[4].as_array().unwrap()[0];
        let top = &v["top"][0];
        assert_eq!(lens_top["id"], top["id"], "{extra:?}");
        let (p, q) = (
            lens_top["prob"].as_f64().unwrap(),
            top["prob"].as_f64().unwrap(),
        );
        assert!((p - q).abs() < 1e-5, "{extra:?}: {p} vs {q}");
        for l in layers {
            let tops = l["lens"][0].as_array().unwrap();
            assert_eq!(tops.len(), 5);
            let ps: Vec<f64> = tops.iter().map(|t| t["prob"].as_f64().unwrap()).collect();
            assert!(ps.windows(2).all(|w| w[0] >= w[1]), "ranked: {ps:?}");
            assert!(tops[0]["text"].is_string());
        }
    }
}

#[test]
fn generate_takes_the_interventions() {
    // The built-in model: a random one repeats one token whatever is done to it.
    let g = |extra: &[&str]| {
        let mut a = vec![
            "generate",
            "--prompt",
            "Tom",
            "--max-tokens",
            "20",
            "--temperature",
            "0",
            "--ignore-eos",
        ];
        a.extend_from_slice(extra);
        let (code, out, err) = run(&a);
        assert_eq!(code, Some(0), "{extra:?}: {err}");
        out
    };
    let plain = g(&[]);
    assert_eq!(plain, g(&[]), "greedy is reproducible");
    let changed = [
        g(&["--no-layernorm"]),
        g(&["--no-mask"]),
        g(&["--ablate", "0.0", "--ablate", "1.1", "--no-scale"]),
    ];
    for c in &changed {
        assert_ne!(*c, plain, "each intervention changes the greedy text");
    }
    for c in &changed {
        assert!(c.starts_with("Tom"), "{c}");
    }
}

// ---------------------------------------------------------------------------
// Folders as fine-tunes ship them: vocab.json + merges.txt, or a pickle.
// ---------------------------------------------------------------------------

/// The built-in model with its tokenizer.json replaced by vocab.json and
/// merges.txt made from it (what the slow GPT-2 tokenizer files hold).
fn vocab_merges_model() -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny-models/tinystories");
    let tmp = tempfile::tempdir().expect("tempdir");
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(src.join(f), tmp.path().join(f)).expect("copy");
    }
    let tj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("tokenizer.json")).unwrap())
            .unwrap();
    let mut vocab = tj["model"]["vocab"].as_object().unwrap().clone();
    for t in tj["added_tokens"].as_array().unwrap() {
        vocab.insert(t["content"].as_str().unwrap().into(), t["id"].clone());
    }
    std::fs::write(
        tmp.path().join("vocab.json"),
        serde_json::to_string(&vocab).unwrap(),
    )
    .unwrap();
    let mut merges = String::from("#version: 0.2\n");
    for m in tj["model"]["merges"].as_array().unwrap() {
        let pair = match m {
            serde_json::Value::String(s) => s.clone(),
            v => format!("{} {}", v[0].as_str().unwrap(), v[1].as_str().unwrap()),
        };
        merges.push_str(&pair);
        merges.push('\n');
    }
    std::fs::write(tmp.path().join("merges.txt"), merges).unwrap();
    tmp
}

#[test]
fn a_folder_with_vocab_json_and_merges_txt_opens_and_tokenizes_the_same() {
    let m = vocab_merges_model();
    let d = m.path().to_str().unwrap();
    let text = "Once upon a time, Tom saw a big dog.<|endoftext|>Lily's cat: \"hi\" 42 ünïcode";
    let ids = |model: &[&str]| {
        let mut a = model.to_vec();
        a.extend(["trace", "--prompt", text, "--fields", "top"]);
        let (code, out, err) = run(&a);
        assert_eq!(code, Some(0), "{a:?}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (v["tokens"].clone(), v["top"].clone())
    };
    let built_in = ids(&[]);
    assert_eq!(
        ids(&["--model", d]),
        built_in,
        "same tokens, same prediction"
    );
    let eot = built_in
        .0
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["text"] == "<|endoftext|>")
        .count();
    assert_eq!(eot, 1, "<|endoftext|> is one special token");
    let generated = |model: &[&str]| {
        let mut a = model.to_vec();
        a.extend([
            "generate",
            "--prompt",
            "Tom had",
            "--max-tokens",
            "12",
            "--temperature",
            "0",
        ]);
        run(&a).1
    };
    assert_eq!(
        generated(&["--model", d]),
        generated(&[]),
        "decodes the same"
    );

    std::fs::write(
        m.path().join("merges.txt"),
        "#version: 0.2\nĠ t\nbroken line here\n",
    )
    .unwrap();
    let (code, _, err) = run(&["--model", d, "generate", "--prompt", "hi"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("merges.txt") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn a_folder_with_only_pytorch_model_bin_is_refused_with_the_reason_and_the_fix() {
    let (_t, m) = model();
    std::fs::remove_file(m.join("model.safetensors")).unwrap();
    std::fs::write(m.join("pytorch_model.bin"), b"PK\x03\x04 a pickle").unwrap();
    let (code, out, err) = run(&["--model", m.to_str().unwrap(), "generate", "--prompt", "hi"]);
    assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
    for says in [
        "pytorch_model.bin",
        "pickle",
        "runs",
        "safetensors",
        "save_pretrained(",
        "safe_serialization=True",
    ] {
        assert!(err.contains(says), "{says}: {err}");
    }
    assert_eq!(err.lines().count(), 1, "{err}");
}
