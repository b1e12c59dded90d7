//! Randomly broken inputs (issue 10): weight files, config files and
//! tokenizers for the model loader, and the shipped lessons for the lesson
//! parser. Thousands of seeded cases, each tiny: nothing may panic, and
//! opening a model may not allocate more than a small multiple of the bytes
//! it was given (sizes are checked before allocating).
//!
//! Every case is derived from one seed, so a failure names a reproducible case.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use gptlens::lesson::{self, Env, render};
use gptlens::model::{Config, Gpt, Interventions, KvCache, random_model};
use gptlens::rng::Rng;
use gptlens::tokenizer::{Tokenizer, bytes_tokenizer_json};

// ---------------------------------------------------------------------------
// An allocator that counts this thread's live and peak heap bytes
// ---------------------------------------------------------------------------

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // try_with: the thread-local may already be gone while a thread exits.
    let _ = LIVE.try_with(|l| {
        let now = l.get() + delta;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new) };
        if !p.is_null() {
            track(new as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result with the peak heap bytes it added on this
/// thread (the model loader runs single-threaded).
fn peak_bytes<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(|p| p.get());
    (out, (peak - base).max(0) as usize)
}

#[test]
fn the_counting_allocator_sees_an_allocation() {
    let (v, peak) = peak_bytes(|| vec![0u8; 1 << 20]);
    assert_eq!(v.len(), 1 << 20);
    assert!(peak >= 1 << 20, "peak {peak}");
}

// ---------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------

fn pick<'a, T>(rng: &mut Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.below(xs.len())]
}

/// Numbers a hostile or careless file might hold.
fn wild_number(rng: &mut Rng) -> serde_json::Value {
    use serde_json::json;
    pick(
        rng,
        &[
            json!(0),
            json!(1),
            json!(2),
            json!(3),
            json!(7),
            json!(64),
            json!(1_000_000_000u64),
            json!(10_000_000_000u64),
            json!(1u64 << 40),
            json!(u64::MAX),
            json!(-1),
            json!(1.5),
            json!(1e300),
            json!("12"),
            json!(null),
            json!(true),
            json!([]),
        ],
    )
    .clone()
}

/// A config.json with one to three fields changed, removed or added.
fn mutate_config(rng: &mut Rng, text: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).expect("valid config");
    let keys = [
        "n_layer",
        "n_head",
        "n_embd",
        "n_positions",
        "n_ctx",
        "vocab_size",
        "n_inner",
        "layer_norm_epsilon",
        "activation_function",
        "model_type",
        "architectures",
        "tie_word_embeddings",
        "scale_attn_weights",
        "scale_attn_by_inverse_layer_idx",
        "reorder_and_upcast_attn",
        "bos_token_id",
    ];
    for _ in 0..1 + rng.below(3) {
        let k = *pick(rng, &keys);
        match rng.below(4) {
            0 => {
                v.as_object_mut().expect("object").remove(k);
            }
            1 => v[k] = serde_json::json!(*pick(rng, &["gelu", "relu", "", "gpt2", "llama"])),
            2 => v[k] = serde_json::json!(rng.below(2) == 0),
            _ => v[k] = wild_number(rng),
        }
    }
    if rng.below(20) == 0 {
        let mut cut = rng.below(text.len()); // cut short
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        return text[..cut].to_string();
    }
    v.to_string()
}

/// A safetensors file broken one of several ways.
fn mutate_weights(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let mut out = bytes.to_vec();
    match rng.below(6) {
        // Cut anywhere.
        0 => out.truncate(rng.below(bytes.len())),
        // Flip bytes in the header (where the structure is).
        1 => {
            for _ in 0..1 + rng.below(4) {
                let i = 8 + rng.below(header_len);
                out[i] ^= 1 << rng.below(8);
            }
        }
        // Flip bytes anywhere, the length prefix included.
        2 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(out.len());
                out[i] = rng.next_u64() as u8;
            }
        }
        // Rewrite the header: change shapes, dtypes, offsets, add or drop tensors.
        _ => {
            let mut h: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&bytes[8..8 + header_len]).expect("valid header");
            let names: Vec<String> = h.keys().filter(|k| *k != "__metadata__").cloned().collect();
            for _ in 0..1 + rng.below(3) {
                let name = pick(rng, &names).clone();
                let roll = rng.below(6);
                let new = rng.below(40);
                let Some(t) = h.get_mut(&name) else { continue };
                match roll {
                    0 => {
                        let dims = t["shape"].as_array().map_or(0, |a| a.len());
                        if dims > 0 {
                            t["shape"][rng.below(dims)] = wild_number(rng);
                        }
                    }
                    1 => t["shape"] = serde_json::json!([wild_number(rng), wild_number(rng)]),
                    2 => {
                        t["dtype"] = serde_json::json!(*pick(
                            rng,
                            &["F16", "BF16", "I64", "U8", "F64", "Q4"]
                        ))
                    }
                    3 => t["data_offsets"][rng.below(2)] = wild_number(rng),
                    4 => {
                        h.insert(
                            format!("h.{new}.attn.c_attn.weight"),
                            serde_json::json!({"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}),
                        );
                    }
                    _ => {
                        h.remove(&name);
                    }
                }
            }
            let mut text = serde_json::to_string(&h).expect("json");
            while !text.len().is_multiple_of(8) {
                text.push(' ');
            }
            out = (text.len() as u64).to_le_bytes().to_vec();
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(&bytes[8 + header_len..]);
            if rng.below(3) == 0 {
                out.truncate(8 + text.len() + rng.below(bytes.len() - 8 - header_len));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The model loader
// ---------------------------------------------------------------------------

/// Opens the folder, returning the peak heap bytes the open took. Panics are
/// caught and reported with the case number.
fn open_case(dir: &Path, case: usize) -> (Result<Gpt, String>, usize) {
    let (r, peak) = peak_bytes(|| catch_unwind(AssertUnwindSafe(|| Gpt::open(dir))));
    match r {
        Err(_) => panic!("case {case}: Gpt::open panicked"),
        Ok(r) => (r.map_err(|e| e.to_string()), peak),
    }
}

#[test]
fn the_model_loader_survives_broken_weights_and_configs() {
    let cfg = Config::new(2, 2, 8, 20, 8);
    // In memory where there is a tmpfs: thousands of small files on ext4
    // cost milliseconds each.
    let shm = Path::new("/dev/shm");
    let tmp = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let dir = tmp.path();
    random_model(&cfg, 1, true).save(dir).expect("saves");
    let config = std::fs::read_to_string(dir.join("config.json")).expect("reads");
    let weights = std::fs::read(dir.join("model.safetensors")).expect("reads");
    let budget = |cfg_len: usize, w_len: usize| 8 * (cfg_len + w_len) + (64 << 10);

    let (ok, base_peak) = open_case(dir, usize::MAX);
    ok.expect("the unbroken model opens");
    assert!(base_peak <= budget(config.len(), weights.len()));

    let mut rng = Rng::new(2024);
    let (mut opened, mut refused, mut worst) = (0, 0, 0.0f64);
    for case in 0..3000 {
        let (c, w) = match rng.below(3) {
            0 => (mutate_config(&mut rng, &config), weights.clone()),
            1 => (config.clone(), mutate_weights(&mut rng, &weights)),
            _ => (
                mutate_config(&mut rng, &config),
                mutate_weights(&mut rng, &weights),
            ),
        };
        std::fs::write(dir.join("config.json"), &c).expect("writes");
        std::fs::write(dir.join("model.safetensors"), &w).expect("writes");
        let (r, peak) = open_case(dir, case);
        let limit = budget(c.len(), w.len());
        assert!(
            peak <= limit,
            "case {case}: opening took {peak} heap bytes for {} input bytes (limit {limit}); result {:?}",
            c.len() + w.len(),
            r.as_ref().map(|_| ()),
        );
        worst = worst.max(peak as f64 / (c.len() + w.len()) as f64);
        match r {
            Ok(gpt) => {
                opened += 1;
                // What opened must also run.
                let ids: Vec<u32> = (0..gpt.config.n_positions.min(3) as u32)
                    .map(|i| i % gpt.config.vocab_size as u32)
                    .collect();
                let run = catch_unwind(AssertUnwindSafe(|| {
                    let mut cache = KvCache::new(&gpt.config);
                    gpt.forward(&ids, &mut cache, &Interventions::default(), None, false)
                        .map(|_| ())
                }));
                assert!(
                    run.is_ok(),
                    "case {case}: the opened model panicked in forward"
                );
            }
            Err(msg) => {
                refused += 1;
                assert!(!msg.is_empty(), "case {case}: empty error");
            }
        }
    }
    println!(
        "3000 broken models: {opened} opened (and ran), {refused} refused; worst peak heap {worst:.1}x the input bytes"
    );
    assert!(refused > 1000, "the mutations should break most files");
    assert!(
        opened > 50,
        "some mutations (e.g. dropped fields with defaults) still open"
    );
}

#[test]
fn the_tokenizer_loader_survives_broken_tokenizer_json() {
    let good = bytes_tokenizer_json();
    Tokenizer::from_json(&good).expect("the unbroken tokenizer opens");
    let mut rng = Rng::new(7);
    for case in 0..400 {
        let mut v: serde_json::Value = serde_json::from_str(&good).expect("json");
        let text = match rng.below(4) {
            0 => {
                let mut cut = rng.below(good.len());
                while !good.is_char_boundary(cut) {
                    cut -= 1;
                }
                good[..cut].to_string()
            }
            1 => {
                v["model"]["type"] = serde_json::json!(*pick(
                    &mut rng,
                    &["WordPiece", "Unigram", "WordLevel", "BPE", "x"]
                ));
                v.to_string()
            }
            2 => {
                let k = *pick(
                    &mut rng,
                    &[
                        "decoder",
                        "pre_tokenizer",
                        "normalizer",
                        "added_tokens",
                        "model",
                    ],
                );
                v[k] = wild_number(&mut rng);
                v.to_string()
            }
            _ => {
                let id = rng.below(100_000);
                v["model"]["vocab"]["zz"] = serde_json::json!(id);
                v.to_string()
            }
        };
        let r = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(t) = Tokenizer::from_json(&text) {
                let ids = t.encode("héllo <|endoftext|>").unwrap_or_default();
                let _ = t.decode(&ids);
                let _ = t.decode(&[0, 5, 99_999, u32::MAX]);
                let _ = t.coverage_warning(&Config::new(1, 1, 4, 300, 8));
            }
        }));
        assert!(
            r.is_ok(),
            "case {case}: the tokenizer panicked on {text:.200}"
        );
    }
}

// ---------------------------------------------------------------------------
// The lesson parser
// ---------------------------------------------------------------------------

/// One of the shipped lessons, broken one to three ways.
fn mutate_lesson(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let junk = [
        "---",
        "## ",
        "## 9. ",
        "view: nowhere",
        "stage: ln_9",
        "layer: 99999999999999999999",
        "head: -1",
        "position: 1e9",
        "prompt: ",
        "model: ../../../../etc",
        "{{",
        "}}",
        "{{attn.score}}",
        "{{attn.score layer=99 head=99}}",
        "{{no.such.placeholder}}",
        "{{logits.top 1000000000}}",
        "{{emb.tok 18446744073709551615}}",
        "```",
        "\u{1b}]52;c;aGk=\u{7}",
        "é\u{200b}\u{202e}",
        "",
    ];
    for _ in 0..1 + rng.below(3) {
        let n = lines.len().max(1);
        match rng.below(7) {
            0 if !lines.is_empty() => {
                lines.remove(rng.below(n));
            }
            1 if !lines.is_empty() => {
                let i = rng.below(n);
                let l = lines[i].clone();
                lines.insert(rng.below(n), l);
            }
            2 if lines.len() > 1 => {
                let (a, b) = (rng.below(n), rng.below(n));
                lines.swap(a, b);
            }
            3 => lines.insert(rng.below(n), pick(rng, &junk).to_string()),
            4 if !lines.is_empty() => {
                // Cut a line at a character boundary and glue junk on.
                let i = rng.below(n);
                let cut = lines[i]
                    .char_indices()
                    .map(|(j, _)| j)
                    .nth(rng.below(lines[i].chars().count().max(1)))
                    .unwrap_or(0);
                lines[i] = format!("{}{}", &lines[i][..cut], pick(rng, &junk));
            }
            5 => {
                let keep = rng.below(n + 1);
                lines.truncate(keep);
            }
            _ => {
                // Replace the number in a line, if any, with a wild one.
                let i = rng.below(n);
                if let Some(l) = lines.get_mut(i)
                    && let Some(p) = l.find(|c: char| c.is_ascii_digit())
                {
                    l.replace_range(p..p + 1, &wild_number(rng).to_string());
                }
            }
        }
    }
    lines.join("\n")
}

#[test]
fn the_lesson_parser_survives_mutated_lessons() {
    let cfg = Config::new(2, 2, 16, 257, 64);
    let gpt = random_model(&cfg, 3, true);
    let tok = Tokenizer::from_json(&bytes_tokenizer_json()).expect("tokenizer");
    let mut rng = Rng::new(99);
    let (mut parsed, mut refused, mut rendered) = (0, 0, 0);
    for case in 0..3000 {
        let (name, text) = lesson::BUILTIN[rng.below(lesson::BUILTIN.len())];
        let broken = mutate_lesson(&mut rng, text);
        let render_this = case % 8 == 0;
        let r = catch_unwind(AssertUnwindSafe(|| {
            match lesson::parse(name, &format!("{name}.md"), &broken) {
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    (false, false)
                }
                Ok(l) if render_this => {
                    // What parses must also render, or fail with an error.
                    let Ok(trace) = render::trace_prompt(&l, &gpt, &tok) else {
                        return (true, false);
                    };
                    let env = Env::new(&gpt, &tok, &trace, &l.prompt, None);
                    (true, render::markdown(&l, &env).is_ok())
                }
                Ok(_) => (true, false),
            }
        }));
        match r {
            Err(_) => panic!("case {case}: lesson {name} panicked on:\n{broken}"),
            Ok((true, r)) => {
                parsed += 1;
                rendered += r as usize;
            }
            Ok((false, _)) => refused += 1,
        }
    }
    println!("3000 mutated lessons: {parsed} parsed ({rendered} rendered), {refused} refused");
    assert!(
        parsed > 100 && refused > 100,
        "{parsed} parsed, {refused} refused"
    );
}
