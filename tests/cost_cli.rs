//! `gptlens cost` end to end: the published GPT-3 figures, JSON, measuring a
//! random model, and clear errors for bad input.

mod common;

use std::process::{Command, Output};

fn gptlens(args: &[&str]) -> Output {
    common::in_english(&mut Command::new(env!("CARGO_BIN_EXE_gptlens")))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run gptlens")
}

fn ok(args: &[&str]) -> String {
    let o = gptlens(args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

/// Runs a command that must fail; returns its error output.
fn fails(args: &[&str]) -> String {
    let o = gptlens(args);
    assert!(!o.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn gpt3_prints_the_published_training_compute() {
    let out = ok(&[
        "cost",
        "--preset",
        "gpt3",
        "--train-tokens",
        "300e9",
        "--measured-flops",
        "1e10",
    ]);
    assert!(out.contains("6·N·D ≈ 3.1e23 FLOPs"), "{out}");
    assert!(out.contains("published: 3.14e23"), "{out}");
    assert!(out.contains("174.6B total (published: 175.0B"), "{out}");
    assert!(out.contains("Brown et al. 2020"), "{out}");
    assert!(out.contains("Kaplan et al. 2020"), "{out}");
    assert!(out.contains("A100 Tensor Core GPU datasheet"), "{out}");
    assert!(out.contains("64-bit floating point"), "{out}");
    assert!(out.contains("--utilisation 0.4"), "{out}");
    assert!(out.contains("this machine  at 10.00 GFLOP/s"), "{out}");
}

#[test]
fn json_agrees_with_the_library() {
    let out = ok(&[
        "cost",
        "--preset",
        "gpt2",
        "--train-tokens",
        "10B",
        "--measured-flops",
        "2e9",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let e = &v["estimate"];
    assert_eq!(e["params"]["total"], 124_439_808.0);
    let n = e["params"]["non_embedding"].as_f64().unwrap();
    assert_eq!(e["training_flops"].as_f64().unwrap(), 6.0 * n * 10e9);
    assert_eq!(
        e["this_machine_seconds"].as_f64().unwrap(),
        6.0 * n * 10e9 / 2e9
    );
    assert_eq!(v["preset"], "gpt2");
    let stages = v["ledger_one_token_full_context"]["stages"]
        .as_array()
        .unwrap();
    assert!(stages.iter().any(|s| s["key"] == "scores"));
}

#[test]
fn measures_a_random_model() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    let m = m.to_str().unwrap();
    ok(&[
        "init", "--layers", "2", "--heads", "2", "--embd", "32", "--ctx", "64", "--out", m,
    ]);
    let out = ok(&["--model", m, "cost", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    // No preset and no shape: the model's own shape is priced.
    assert_eq!(v["estimate"]["shape"]["n_embd"], 32);
    let sp = &v["measured"];
    assert_eq!(sp["prefill"]["tokens"], 64);
    assert_eq!(sp["decode"]["tokens"], 0);
    let f = sp["prefill"]["flops_per_s"].as_f64().unwrap();
    assert!(f > 0.0);
    assert_eq!(v["estimate"]["measured_flops_per_s"].as_f64().unwrap(), f);
}

#[test]
fn bench_json_carries_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    let m = m.to_str().unwrap();
    ok(&["init", "--embd", "32", "--out", m]);
    let out = ok(&[
        "--model", m, "bench", "--tokens", "4", "--repeat", "1", "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let prompt = v["prompt_tokens"].as_u64().unwrap();
    assert_eq!(v["ledger_prefill"]["new_tokens"].as_u64().unwrap(), prompt);
    assert!(v["decode_flops_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn explicit_shapes_and_overrides() {
    let out = ok(&[
        "cost",
        "--layers",
        "4",
        "--embd",
        "128",
        "--heads",
        "4",
        "--vocab",
        "2048",
        "--ctx",
        "256",
        "--measured-flops",
        "1e9",
    ]);
    assert!(out.contains("4 layers, 4 heads, 128 wide, vocabulary 2048, context 256"));
    let out = ok(&[
        "cost",
        "--preset",
        "gpt2",
        "--ctx",
        "2048",
        "--measured-flops",
        "1e9",
    ]);
    assert!(
        out.contains("gpt2, modified") && out.contains("context 2048"),
        "{out}"
    );
}

#[test]
fn bad_input_gets_clear_errors() {
    let e = fails(&["cost", "--preset", "gpt5"]);
    assert!(
        e.contains("unknown preset") && e.contains("gpt2-medium, gpt2-large, gpt2-xl, gpt3"),
        "{e}"
    );
    let e = fails(&["cost", "--layers", "2", "--embd", "768", "--heads", "7"]);
    assert!(e.contains("does not divide"), "{e}");
    let e = fails(&["cost", "--layers", "-3", "--embd", "768", "--heads", "12"]);
    assert!(e.contains("positive whole number"), "{e}");
    let e = fails(&["cost", "--layers", "0", "--embd", "768", "--heads", "12"]);
    assert!(e.contains("positive whole number"), "{e}");
    let e = fails(&["cost", "--layers", "2", "--embd", "768"]);
    assert!(e.contains("missing --heads"), "{e}");
    let e = fails(&["cost", "--preset", "gpt2", "--embd", "99999999"]);
    assert!(e.contains("absurdly large"), "{e}");
    let e = fails(&["cost", "--preset", "gpt2", "--train-tokens", "1e30"]);
    assert!(e.contains("absurdly large"), "{e}");
    let e = fails(&["cost", "--preset", "gpt2", "--train-tokens", "lots"]);
    assert!(e.contains("not a number"), "{e}");
    let e = fails(&["cost", "--preset", "gpt2", "--utilisation", "1.5"]);
    assert!(e.contains("--utilisation"), "{e}");
    let e = fails(&["cost", "--preset", "gpt2", "--measured-flops", "-1"]);
    assert!(e.contains("--measured-flops"), "{e}");
}

/// `gptlens cost` counts a token's weight bytes in every format gptlens
/// writes (issue 14 point 4): GPT-2 small reads 497 MB at f32, and each
/// format its bits per weight's share of the matrices.
#[test]
fn weight_bytes_per_token_in_every_format() {
    let out = ok(&[
        "cost",
        "--preset",
        "gpt2",
        "--measured-flops",
        "2e9",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let by = &v["weight_bytes_per_token_by_format"];
    let b = |t: &str| by[t].as_f64().unwrap_or_else(|| panic!("{t}: {by}"));
    let f32_total: f64 = v["ledger_one_token_full_context"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["weight_bytes"].as_f64().unwrap())
        .sum();
    assert_eq!(b("F32"), f32_total);
    assert!(
        b("F16") < b("F32")
            && b("Q8_0") < b("F16")
            && b("Q4_1") < b("Q8_0")
            && b("Q4_0") < b("Q4_1")
    );
    // The matrices of GPT-2 small (85 M in the blocks, 38.6 M in wte read
    // once for the logits and one row for the embedding) at 8.5 bits.
    let matrices = 12.0 * 12.0 * 768.0 * 768.0 + 50257.0 * 768.0 + 768.0;
    let q8_saving = b("F32") - b("Q8_0");
    assert!(
        (q8_saving - matrices * (4.0 - 8.5 / 8.0)).abs() < 1.0,
        "{q8_saving}"
    );
    let text = ok(&["cost", "--preset", "gpt2", "--measured-flops", "2e9"]);
    assert!(
        text.contains("Q4_0 ") && text.contains("(4.5 bits/weight)"),
        "{text}"
    );
}
