//! The gptlens binary run from a test, as a user runs it.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::process::{Command, Output};

/// `gptlens ARGS` in English, its cache (GGUF companion folders) in a fresh
/// temporary folder, with `env` set on top.
pub fn gptlens<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &OsStr)]) -> Output {
    let cache = tempfile::tempdir().expect("temp dir");
    let mut c = Command::new(env!("CARGO_BIN_EXE_gptlens"));
    super::in_english(&mut c)
        .args(args)
        .env("GPTLENS_CACHE", cache.path());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run gptlens")
}

/// The same, which must succeed: its stdout.
pub fn gptlens_ok<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &OsStr)]) -> String {
    let out = gptlens(args, env);
    assert!(
        out.status.success(),
        "gptlens {:?} failed: {}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
