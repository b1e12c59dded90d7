//! `gptlens trace --json`: the streamed document parses and holds exactly what
//! docs/trace-format.md describes, computed here from the library's `Trace`;
//! and the selection options (--layers, --positions, --fields) cut it down
//! as documented.

use std::path::Path;
use std::process::Command;

use gptlens::model::{Gpt, Interventions, LnTrace, Trace};
use gptlens::tokenizer::Tokenizer;
use ndarray::{Array2, s};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_gptlens");

fn model(dir: &Path) {
    let out = Command::new(BIN)
        .args([
            "init", "--layers", "3", "--heads", "2", "--embd", "16", "--out",
        ])
        .arg(dir)
        .output()
        .expect("run gptlens init");
    assert!(out.status.success(), "{out:?}");
}

/// (exit code, stdout, stderr).
fn trace(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .arg("--model")
        .arg(dir)
        .arg("trace")
        .args(args)
        .output()
        .expect("run gptlens trace");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        err,
    )
}

fn parse(out: &str) -> Value {
    assert!(out.ends_with("}\n"), "one JSON object and a newline");
    serde_json::from_str(out).expect("the output is JSON")
}

fn mat(a: ndarray::ArrayView2<f32>) -> Value {
    a.rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect::<Vec<_>>()
        .into()
}

fn norms(a: ndarray::ArrayView2<f32>) -> Value {
    a.rows()
        .into_iter()
        .map(|r| r.dot(&r).sqrt())
        .collect::<Vec<_>>()
        .into()
}

fn rows(a: &Array2<f32>, r: &std::ops::Range<usize>) -> Value {
    mat(a.slice(s![r.clone(), ..]))
}

fn ln(l: &LnTrace, r: &std::ops::Range<usize>, full: bool) -> Value {
    let mut v = json!({"mean": l.mean[r.clone()], "var": l.var[r.clone()]});
    if full {
        v["xhat"] = rows(&l.xhat, r);
        v["out"] = rows(&l.out, r);
    }
    v
}

fn heads(h: &[Vec<Vec<f32>>], r: &std::ops::Range<usize>) -> Value {
    h.iter()
        .map(|q| q[r.clone()].to_vec())
        .collect::<Vec<_>>()
        .into()
}

/// The document as docs/trace-format.md describes it, for `t` (rows `r`).
fn expected(t: &Trace, tok: &Tokenizer, gpt: &Gpt, full: bool) -> Value {
    let r = 0..t.tokens.len();
    let layers: Vec<Value> = t
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut v = json!({
                "index": i,
                "ln_1": ln(&l.ln_1, &r, full),
                "attn": {"scores": heads(&l.scores, &r), "probs": heads(&l.probs, &r)},
                "ln_2": ln(&l.ln_2, &r, full),
                "resid_post_norm": norms(l.resid_post.view()),
                // The logit lens (its numbers are checked against the logits in
                // tests/cli_hardening.rs); here: its place and shape.
                "lens": l.resid_post.rows().into_iter().map(|x| {
                    gptlens::readout::lens::top(gpt, x, 5, false)
                        .into_iter()
                        .map(|(id, p)| json!({"id": id, "text": tok.token_text(id), "prob": p}))
                        .collect::<Vec<_>>()
                }).collect::<Vec<_>>(),
            });
            if full {
                for (k, a) in [
                    ("q", &l.q),
                    ("k", &l.k),
                    ("v", &l.v),
                    ("heads", &l.heads),
                    ("attn_out", &l.attn_out),
                    ("resid_mid", &l.resid_mid),
                    ("mlp_pre", &l.mlp_pre),
                    ("mlp_act", &l.mlp_act),
                    ("mlp_out", &l.mlp_out),
                    ("resid_post", &l.resid_post),
                ] {
                    v[k] = mat(a.view());
                }
            }
            v
        })
        .collect();
    let last = t.last_logits().to_vec();
    let m = last.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let z: f32 = last.iter().map(|x| (x - m).exp()).sum();
    let mut order: Vec<usize> = (0..last.len()).collect();
    order.sort_by(|&a, &b| last[b].total_cmp(&last[a]));
    let top: Vec<Value> = order[..10]
        .iter()
        .map(|&i| {
            json!({"id": i, "text": tok.token_text(i as u32), "logit": last[i],
                   "prob": (last[i] - m).exp() / z})
        })
        .collect();
    let mut v = json!({
        "format": "gptlens-trace/1",
        "config": gpt.config,
        "tokens": t.tokens.iter().map(|&id| json!({"id": id, "text": tok.token_text(id)})).collect::<Vec<_>>(),
        "embed_norm": norms(t.embed.view()),
        "layers": layers,
        "ln_f": ln(&t.ln_f, &r, full),
        "logits": last,
        "top": top,
    });
    if full {
        v["tok_emb"] = mat(t.tok_emb.view());
        v["pos_emb"] = mat(t.pos_emb.view());
        v["embed"] = mat(t.embed.view());
    }
    v
}

/// Compares numbers as the f32s they are (serde_json's parser may be one f64
/// ulp off; that never changes the f32), probabilities within 1e-6 relative
/// (the softmax is summed in another order here), everything else exactly.
fn same(got: &Value, want: &Value, at: &str) {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            let ok = if at.ends_with(".prob") {
                (a - b).abs() <= 1e-6 * b.abs().max(1e-30)
            } else {
                a as f32 == b as f32
            };
            assert!(ok, "{at}: {a} != {b}");
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let ka: Vec<&String> = a.keys().collect();
            let kb: Vec<&String> = b.keys().collect();
            assert_eq!(ka, kb, "{at}: keys");
            for (k, x) in a {
                same(x, &b[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(got, want, "{at}"),
    }
}

fn open(dir: &Path) -> (Gpt, Tokenizer) {
    (
        Gpt::open(dir).expect("open"),
        Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer"),
    )
}

#[test]
fn the_streamed_trace_is_the_documented_schema() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("m");
    model(&dir);
    let (gpt, tok) = open(&dir);
    let prompt = "Once upon a time, Tom";
    let ids = tok.encode(prompt).expect("encode");
    let t = gpt.trace(&ids, &Interventions::default()).expect("trace");
    for full in [false, true] {
        let mut args = vec!["--prompt", prompt, "--json"];
        if full {
            args.push("--full");
        }
        let (code, out, err) = trace(&dir, &args);
        assert_eq!(code, Some(0), "{err}");
        same(&parse(&out), &expected(&t, &tok, &gpt, full), "");
    }
    // The keys come in the order they always had (sorted).
    let (_, out, _) = trace(&dir, &["--ids", "1,2", "--json"]);
    let order: Vec<usize> = [
        "\"config\"",
        "\"embed_norm\"",
        "\"format\"",
        "\"layers\"",
        "\"ln_f\"",
        "\"logits\"",
        "\"tokens\"",
        "\"top\"",
    ]
    .iter()
    .map(|k| out.rfind(k).expect(k))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
}

#[test]
fn selections_cut_the_trace_down() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("m");
    model(&dir);
    let (gpt, tok) = open(&dir);
    let ids: Vec<u32> = (10..22).collect();
    let ids_arg = ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let (code, out, err) = trace(
        &dir,
        &[
            "--ids",
            &ids_arg,
            "--json",
            "--layers",
            "0,2",
            "--positions",
            "3..7",
            "--fields",
            "attention,logits,ln_1,embed",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let got = parse(&out);
    // Rows 3..7 of the trace of tokens 0..7 (later tokens cannot change them).
    let t = gpt
        .trace(&ids[..7], &Interventions::default())
        .expect("trace");
    let r = 3..7;
    let layer = |i: usize| {
        let l = &t.layers[i];
        json!({"index": i, "attn": {"scores": heads(&l.scores, &r), "probs": heads(&l.probs, &r)},
               "ln_1": ln(&l.ln_1, &r, false)})
    };
    let want = json!({
        "format": "gptlens-trace/1",
        "config": gpt.config,
        "tokens": ids[3..7].iter().map(|&id| json!({"id": id, "text": tok.token_text(id)})).collect::<Vec<_>>(),
        "layers": [layer(0), layer(2)],
        "logits": t.last_logits().to_vec(),
        "embed": rows(&t.embed, &r),
        "selection": {"layers": [0, 2], "positions": [3, 7], "fields": ["attn", "embed", "ln_1", "logits"]},
    });
    same(&got, &want, "");
    // Query row t of a selected position still holds its keys 0..=t.
    assert_eq!(
        got["layers"][0]["attn"]["probs"][0][0]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // --full adds LayerNorm matrices to the LayerNorm fields chosen.
    let (_, out, err) = trace(
        &dir,
        &[
            "--ids",
            &ids_arg,
            "--json",
            "--full",
            "--fields",
            "ln_f",
            "--positions",
            "5",
        ],
    );
    let got = parse(&out);
    let t = gpt
        .trace(&ids[..6], &Interventions::default())
        .expect("trace");
    same(&got["ln_f"], &ln(&t.ln_f, &(5..6), true), "ln_f");
    assert!(
        got.get("layers").is_none() && got.get("logits").is_none(),
        "{err}"
    );

    // Bad selections: a clear message listing what is valid.
    for (args, words) in [
        (
            &["--layers", "3"][..],
            &["--layers 3", "3 layers", "0 to 2"][..],
        ),
        (&["--positions", "4..4"], &["empty"]),
        (&["--positions", "0..13"], &["12 tokens", "0..12"]),
        (
            &["--fields", "logit"],
            &["`logit`", "logits", "resid_post_norm"],
        ),
    ] {
        let mut a = vec!["--ids", &ids_arg, "--json"];
        a.extend_from_slice(args);
        let (code, out, err) = trace(&dir, &a);
        assert_eq!((code, out.as_str()), (Some(1), ""), "{args:?}: {err}");
        for w in words {
            assert!(err.contains(w), "{args:?}: {err}");
        }
    }
}

/// The document is streamed, not built in memory: a trace whose JSON is
/// 120 MB (written to /dev/null) runs under a 160 MB address-space limit. (Built as one
/// `serde_json::Value` it needed between 350 and 400 MB; streamed it runs in
/// 50 MB.) One rayon thread and one malloc arena keep the address space
/// the same on machines with many cores.
#[test]
fn a_big_trace_streams_in_little_memory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("m");
    let out = Command::new(BIN)
        .args([
            "init", "--layers", "2", "--heads", "8", "--embd", "64", "--ctx", "512", "--out",
        ])
        .arg(&dir)
        .output()
        .expect("run gptlens init");
    assert!(out.status.success(), "{out:?}");
    let ids: Vec<String> = (0..512).map(|i| (i % 250 + 1).to_string()).collect();
    let run = |limit_kb: u64| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {limit_kb} && exec \"$0\" \"$@\""))
            .arg(BIN)
            .arg("--model")
            .arg(&dir)
            .args(["trace", "--json", "--full", "--ids", &ids.join(",")])
            .env("RAYON_NUM_THREADS", "1")
            .env("MALLOC_ARENA_MAX", "1")
            .stdout(std::process::Stdio::null())
            .output()
            .expect("run gptlens under sh")
    };
    let o = run(160_000);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "under 160 MB: {:?} {err}", o.status);
    // The limit is real: far below what the trace itself needs, it fails.
    assert!(!run(8_000).status.success(), "an 8 MB limit should stop it");
}
