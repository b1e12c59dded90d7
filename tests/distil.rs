//! Distillation's backward pass against PyTorch autograd: the loss
//! α·CE + (1 − α)·T²·KL(softmax(u/T) ‖ softmax(z/T)) of the random-odd
//! student against fixed teacher logits (`scripts/reference.py
//! distil-fixtures`), and the gradient of every parameter through the model.

use std::path::Path;

use gptlens::distil::{Objective, loss_and_logit_grads};
use gptlens::model::Gpt;
use gptlens::train::Trainer;

fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
    let n: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum();
    (d / n.max(1e-30)).sqrt()
}

#[test]
fn distillation_loss_and_gradients_match_pytorch_autograd() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/random-odd");
    let gpt = Gpt::open(&dir).unwrap();
    let bytes = std::fs::read(dir.join("distil-grads.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let f32s = |name: &str| -> (Vec<usize>, Vec<f32>) {
        let v = st.tensor(name).unwrap_or_else(|_| panic!("{name}"));
        let d = v
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        (v.shape().to_vec(), d)
    };
    let ids = |name: &str| -> (Vec<usize>, Vec<u32>) {
        let v = st.tensor(name).unwrap();
        let d = v
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as u32)
            .collect();
        (v.shape().to_vec(), d)
    };
    let (shape, inputs) = ids("inputs");
    let (_, targets) = ids("targets");
    let (_, teacher) = f32s("teacher_logits");
    let obj = Objective {
        alpha: f32s("alpha").1[0],
        temperature: f32s("temperature").1[0],
    };
    assert_eq!((obj.alpha, obj.temperature), (0.3, 2.0));
    let mut tr = Trainer::new(&gpt, shape[0], shape[1]);
    let loss = tr.custom_loss_and_grads(&inputs, &targets, |p| {
        loss_and_logit_grads(p, &teacher, &targets, obj)
    });
    for (ours, name) in [(loss.total, "loss"), (loss.ce, "ce"), (loss.kl, "kl")] {
        let theirs = f32s(name).1[0] as f64;
        assert!(
            ((ours - theirs) / theirs).abs() < 1e-5,
            "{name}: {ours} vs PyTorch {theirs}"
        );
    }
    let layout = tr.layout.clone();
    let mut worst = (0.0, String::new());
    for i in 0..layout.names.len() {
        let name = &layout.names[i];
        let (s, g) = f32s(&format!("grad.{name}"));
        assert_eq!(s, layout.shapes[i], "{name}");
        let e = rel_err(&tr.grads[layout.range(i)], &g);
        if e > worst.0 {
            worst = (e, name.clone());
        }
        assert!(e < 1e-4, "{name}: relative error {e:.2e}");
    }
    eprintln!(
        "distillation: loss {} (ce {}, kl {}); worst gradient relative error {:.2e} ({})",
        loss.total, loss.ce, loss.kl, worst.0, worst.1
    );
    // Teeth: the plain cross-entropy's gradient is far from this one.
    tr.loss_and_grads(&inputs, &targets);
    let i = layout.names.iter().position(|n| n == "wte.weight").unwrap();
    let (_, g) = f32s("grad.wte.weight");
    assert!(rel_err(&tr.grads[layout.range(i)], &g) > 0.1);
}

/// The shared corpus folder beside the clone (worktrees sit one level deeper).
fn corpus() -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let beside = root.join("../shared/corpus/tinystories_valid.txt");
    if beside.is_file() {
        beside
    } else {
        root.join("../../shared/corpus/tinystories_valid.txt")
    }
}

/// A few steps of `gptlens distil` write a smaller student that opens; a bad
/// α is refused before anything runs.
#[test]
fn distil_cli_writes_a_smaller_student_and_refuses_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("student");
    let run = |extra: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_gptlens"));
        c.args(["distil", "--corpus"]).arg(corpus());
        c.args([
            "--chars", "20000", "--steps", "3", "--batch", "2", "--ctx", "16", "--out",
        ]);
        c.arg(&out).args(extra);
        c.output().unwrap()
    };
    for (bad, why) in [
        (&["--alpha", "1.5"][..], "outside [0, 1]"),
        (&["--temperature", "0"][..], "positive"),
        (
            &["--embd", "256", "--heads", "4", "--layers", "6"][..],
            "not smaller",
        ),
    ] {
        let r = run(bad);
        assert_eq!(r.status.code(), Some(1), "{bad:?}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(why), "{bad:?}: {err}");
        assert!(!out.exists());
    }
    let r = run(&[]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(err.contains("KL") && err.contains("step      3"), "{err}");
    let student = Gpt::open(&out).unwrap();
    assert_eq!((student.config.n_layer, student.config.n_embd), (2, 64));
    assert_eq!(student.config.vocab_size, 2048);
}
