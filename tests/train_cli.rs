//! `gptlens train` and `gptlens init` as a user (or a script) runs them:
//! signals end a run with 128 + signal and a checkpoint, during tokenizing too;
//! a killed run resumes without duplicate log rows; a full disk and a failed
//! init leave nothing behind; absurd sizes are refused before allocating.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gptlens"));
    common::in_english(&mut c).env("NO_COLOR", "1");
    c
}

/// Stories separated by `<|endoftext|>` lines, about `bytes` long.
fn stories(dir: &Path, name: &str, bytes: usize) -> PathBuf {
    let names = ["Lily", "Tom", "Sam", "Mia", "Ben", "Zoe"];
    let things = ["ball", "dog", "cake", "tree", "kite", "boat", "book"];
    let mut text = String::new();
    let mut i = 0;
    while text.len() < bytes {
        let (a, b) = (names[i % 6], names[(i * 5 + 1) % 6]);
        let t = things[(i * 7 + 3) % 7];
        text.push_str(&format!(
            "Once upon a time, {a} had a {t}. {a} loved the {t} very much.\nOne day, {b} took the {t} to the park number {}. {a} was sad.\n<|endoftext|>\n",
            i % 97
        ));
        i += 1;
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A tiny shape, so that steps take well under a millisecond.
const SMALL: &[&str] = &[
    "--layers", "1", "--heads", "2", "--embd", "16", "--ctx", "16", "--vocab", "300", "--batch",
    "2", "--lr", "1e-2", "--min-lr", "1e-3", "--warmup", "2", "--seed", "7",
];

/// `gptlens train` on the SMALL shape; a flag in `extra` replaces SMALL's.
fn train_cmd(corpus: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = bin();
    c.arg("train")
        .arg("--corpus")
        .arg(corpus)
        .arg("--out")
        .arg(out);
    for pair in SMALL.chunks(2) {
        if !extra.contains(&pair[0]) {
            c.args(pair);
        }
    }
    c.args(extra);
    c
}

/// Polls `cond` every 10 ms; panics after `secs` seconds.
fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Step numbers of the rows of a training log.
fn log_steps(out: &Path) -> Vec<u64> {
    std::fs::read_to_string(out.join("train-log.tsv"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(|c: char| c.is_ascii_digit()))
        .filter_map(|l| l.split('\t').next()?.parse().ok())
        .collect()
}

fn checkpoint_step(out: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(out.join("checkpoint/state.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["step"].as_u64()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args(["-s", sig, &child.id().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -s {sig}");
}

#[test]
fn a_signal_during_training_writes_the_checkpoint_and_exits_128_plus_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = stories(dir.path(), "c.txt", 20_000);
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let out = dir.path().join(sig);
        // Checkpoints only at the end: the one found was written by the interrupt.
        let child = train_cmd(
            &corpus,
            &out,
            &["--steps", "100000000", "--checkpoint-every", "0"],
        )
        .stderr(std::fs::File::create(dir.path().join(format!("{sig}.err"))).unwrap())
        .spawn()
        .unwrap();
        wait_for("training to reach step 10", 300, || {
            log_steps(&out).contains(&10)
        });
        signal(&child, sig);
        let status = child.wait_with_output().unwrap().status.code();
        let err = std::fs::read_to_string(dir.path().join(format!("{sig}.err"))).unwrap();
        assert_eq!(status, Some(code), "SIG{sig}: {err}");
        assert!(err.contains("interrupted at step"), "{err}");
        let step = checkpoint_step(&out).expect("a checkpoint");
        assert!(step >= 10, "checkpoint at step {step}");
        assert!(out.join("model.safetensors").is_file());
    }
}

#[test]
fn a_signal_while_tokenizing_stops_the_run_and_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough that tokenizing takes seconds (it reports every 512 KiB).
    let corpus = stories(dir.path(), "big.txt", 16_000_000);
    let out = dir.path().join("m");
    let mut child = train_cmd(&corpus, &out, &["--steps", "10"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("no tokenizing progress in {seen:?}"))
            .unwrap();
        let started = line.starts_with("tokenizing: ");
        seen.push(line);
        if started {
            break;
        }
    }
    signal(&child, "TERM");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap().code();
    assert_eq!(status, Some(143), "{seen:?} {rest:?}");
    let all = [seen, rest].concat().join("\n");
    assert!(all.contains("interrupted while tokenizing"), "{all}");
    assert!(!all.contains("training tokens"), "{all}");
    assert!(!out.exists(), "the folder this run created is removed");
}

#[test]
fn a_killed_run_resumes_without_duplicate_log_rows() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = stories(dir.path(), "c.txt", 20_000);
    let out = dir.path().join("m");
    let args = ["--steps", "3000", "--checkpoint-every", "100"];
    // SIGKILL once the log has rows past the last checkpoint (retried in the
    // unlikely case that a checkpoint landed between looking and killing).
    let mut ahead = false;
    for _ in 0..5 {
        let mut child = train_cmd(&corpus, &out, &args)
            .arg("--force")
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for("log rows past a checkpoint", 300, || {
            let steps = log_steps(&out);
            match checkpoint_step(&out) {
                Some(c) => steps.iter().any(|&s| s > c + 10),
                None => false,
            }
        });
        child.kill().unwrap();
        child.wait().unwrap();
        let c = checkpoint_step(&out).unwrap();
        if log_steps(&out).iter().any(|&s| s > c) {
            ahead = true;
            break;
        }
    }
    assert!(
        ahead,
        "could not kill the run between a log row and a checkpoint"
    );
    let o = train_cmd(&corpus, &out, &args)
        .arg("--resume")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let steps = log_steps(&out);
    let mut expected = vec![1];
    expected.extend((10..=3000).step_by(10));
    assert_eq!(steps, expected, "each step logged once, in order");
}

/// Runs `cmd` with writes beyond `blocks` × 512 (or 1024) bytes failing, as on
/// a full disk (RLIMIT_FSIZE; SIGXFSZ ignored so the write returns EFBIG).
fn with_file_limit(cmd: &Command, blocks: u64) -> Output {
    let mut argv = vec![cmd.get_program().to_string_lossy().into_owned()];
    argv.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    let quoted: Vec<String> = argv
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks} && exec {}",
            quoted.join(" ")
        ))
        .output()
        .unwrap()
}

fn tmp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for e in walk(dir) {
        if e.extension().is_some_and(|x| x == "tmp") {
            found.push(e);
        }
    }
    found
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                all.extend(walk(&p));
            }
            all.push(p);
        }
    }
    all
}

#[test]
fn a_full_disk_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = stories(dir.path(), "c.txt", 20_000);
    let out = dir.path().join("m");
    // 64 wide: the checkpoint (3 × 70k floats, 840 KB) is the only file larger
    // than the limit (350–700 KB; the model file is 280 KB).
    let shape = ["--embd", "64", "--steps", "4", "--checkpoint-every", "2"];
    let ok = train_cmd(&corpus, &out, &shape).output().unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let before = std::fs::read(out.join("checkpoint/state.safetensors")).unwrap();
    let mut again = train_cmd(&corpus, &out, &shape);
    again.arg("--force");
    let o = with_file_limit(&again, 700);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("state.safetensors"), "{err}");
    assert!(tmp_files(&out).is_empty(), "{:?}", tmp_files(&out));
    // The folder existed: it stays, with the last complete checkpoint.
    assert_eq!(
        std::fs::read(out.join("checkpoint/state.safetensors")).unwrap(),
        before
    );
}

#[test]
fn init_refuses_absurd_sizes_and_a_failed_init_leaves_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let o = bin()
        .args(["init", "--layers", "1000000000", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("needs") && err.contains("TiB"), "{err}");
    assert!(!out.exists());
    // A size the machine has, but more than --max-memory.
    let o = bin()
        .args([
            "init",
            "--layers",
            "8",
            "--embd",
            "256",
            "--max-memory",
            "1M",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("needs 24.") && err.contains("1.00 MiB --max-memory"),
        "{err}"
    );
    assert!(!out.exists());
    // Writing fails (the file limit): the folder it created goes again.
    let mut cmd = bin();
    cmd.args(["init", "--layers", "8", "--embd", "256", "--out"])
        .arg(&out);
    let o = with_file_limit(&cmd, 700);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!out.exists(), "{err}");
    let ok = cmd.output().unwrap();
    assert!(ok.status.success());
    assert!(out.join("model.safetensors").is_file());
}

#[test]
fn train_flags_with_nonsense_values_are_refused_with_the_flag_named() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = stories(dir.path(), "c.txt", 5_000);
    let out = dir.path().join("m");
    for (flag, value) in [
        ("--lr", "-1"),
        ("--grad-clip", "-1"),
        ("--grad-clip", "NaN"),
        ("--weight-decay", "inf"),
        ("--min-lr", "-1e-3"),
        ("--dropout", "-0.5"),
    ] {
        let o = train_cmd(&corpus, &out, &[flag, value]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{flag} {value}: {err}");
        assert!(
            err.contains(flag) && !err.contains("Usage"),
            "{flag} {value}: {err}"
        );
        assert!(!out.exists());
    }
    let o = bin()
        .args(["train", "--bench", "--bench-steps", "0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--bench-steps") && !err.contains("panicked"),
        "{err}"
    );
}

/// A teacher who reruns a demo gets the same model: the same seed and thread
/// count give the same weights to the bit (issue 17, point 5). The shape is
/// large enough that the parallel kernels and the gradient norm split their
/// work between threads.
#[test]
fn the_same_seed_and_threads_give_bit_identical_weights() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = stories(dir.path(), "c.txt", 60_000);
    let run = |name: &str| {
        let out = dir.path().join(name);
        let o = train_cmd(
            &corpus,
            &out,
            &[
                "--layers", "2", "--embd", "64", "--heads", "4", "--ctx", "32", "--batch", "4",
                "--steps", "12",
            ],
        )
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out.join("model.safetensors")).unwrap()
    };
    let (a, b) = (run("a"), run("b"));
    assert!(a.len() > 100_000, "the model has weights");
    assert!(
        a == b,
        "two runs with seed 7 on 2 threads gave different weights"
    );
}
