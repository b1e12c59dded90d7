//! The `modern` lesson's placeholders: GPT-2 against a Llama-shaped model,
//! each with live numbers of both. One side is the lesson's own model; the
//! other is the built-in GPT-2 (when the lesson runs on a Llama) or a Llama:
//! SmolLM2-135M-Instruct when its GGUF is in the cache
//! (`scripts/fetch-smollm2.sh`), else a seeded random Llama made here, so the
//! lesson runs offline on a fresh clone. `modern.llama` says which.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::{Cx, NONE, Spec, ph};
use crate::cost::Ledger;
use crate::finetune::ChatTemplate;
use crate::fmt::{bytes, count, num};
use crate::i18n::{Lang, Msg};
use crate::model::{Config, Family, GgufModel, Gpt, Interventions, Trace, random_model};
use crate::readout::{layernorm, mlp, rope};
use crate::tokenizer::Tokenizer;

/// The question the chat template is shown with.
const CHAT_QUESTION: &str = "What is the capital of France?";

/// A model of the other family, run on the lesson's prompt.
struct Other {
    /// Which model, in a sentence (where it came from; why a random one).
    name: String,
    /// The same sentence for a Chinese lesson.
    name_zh: String,
    gpt: Gpt,
    trace: Trace,
    /// The chat template rendered for [`CHAT_QUESTION`] (Llama side only).
    chat: Option<String>,
}

/// The model of a side and its trace of the prompt, borrowed from the lesson
/// or from the cached other model.
struct Side<'a> {
    gpt: &'a Gpt,
    tr: &'a Trace,
    name: &'a str,
    name_zh: &'a str,
}

/// Where `scripts/fetch-smollm2.sh` leaves SmolLM2 (GPTLENS_SMOLLM2 names the file).
pub fn smollm2_path() -> PathBuf {
    if let Some(p) = std::env::var_os("GPTLENS_SMOLLM2") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("GPTLENS_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/gptlens")
        });
    cache.join("SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// The shape of the random stand-in: small, but with grouped-query attention
/// (6 query heads over 2 key/value heads) and an untied head.
fn stand_in_config() -> Config {
    Config::llama(4, 6, 2, 96, 256, 512, 256, 10000.0)
}

/// SmolLM2 run on `prompt`, or None when its file is absent or unreadable.
fn smollm2(prompt: &str) -> Option<Other> {
    let path = smollm2_path();
    if !path.is_file() {
        return None;
    }
    let m = GgufModel::open(&path).ok()?;
    let tok = Tokenizer::from_json(&m.tokenizer_json).ok()?;
    let ids = tok.encode(prompt).ok()?;
    let trace = m.gpt.trace(&ids, &Interventions::default()).ok()?;
    let chat = m.chat_template.as_deref().and_then(|src| {
        let eos = m.eos_token.as_deref().unwrap_or("<|im_end|>");
        let bos = m.bos_token.as_deref().unwrap_or(eos);
        let t = ChatTemplate::new(src, bos, eos, "the GGUF's tokenizer.chat_template").ok()?;
        t.user_turn(CHAT_QUESTION).ok()
    });
    Some(Other {
        name: format!(
            "SmolLM2-135M-Instruct, a real instruction-tuned Llama ({})",
            path.display()
        ),
        name_zh: format!(
            "SmolLM2-135M-Instruct，一个真正经过指令微调的 Llama（{}）",
            path.display()
        ),
        gpt: m.gpt,
        trace,
        chat,
    })
}

/// The seeded random Llama, run on the lesson's token ids (wrapped into its
/// vocabulary): its shape is real, its numbers are not trained.
fn stand_in(tokens: &[u32]) -> Other {
    let cfg = stand_in_config();
    let gpt = random_model(&cfg, 15, true);
    let ids: Vec<u32> = tokens
        .iter()
        .map(|&t| t % cfg.vocab_size as u32)
        .take(cfg.n_positions)
        .collect();
    let trace = gpt
        .trace(&ids, &Interventions::default())
        .expect("ids are in range and fit the context");
    Other {
        name: format!(
            "a random {}-layer Llama made by gptlens (seed 15, untrained: real shapes, meaningless predictions), because SmolLM2 is not at {}; scripts/fetch-smollm2.sh fetches it",
            cfg.n_layer,
            smollm2_path().display()
        ),
        name_zh: format!(
            "gptlens 生成的一个随机 {} 层 Llama（种子 15，未经训练：形状是真的，预测没有意义），因为 {} 不存在 SmolLM2；scripts/fetch-smollm2.sh 可以下载它",
            cfg.n_layer,
            smollm2_path().display()
        ),
        gpt,
        trace,
        chat: None,
    }
}

/// The built-in GPT-2 run on `prompt` (for a lesson opened on a Llama).
fn built_in_gpt2(prompt: &str) -> Option<Other> {
    let dir = crate::paths::default_model_dir();
    let gpt = Gpt::open(&dir).ok()?;
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).ok()?;
    let ids = tok.encode(prompt).ok()?;
    let trace = gpt.trace(&ids, &Interventions::default()).ok()?;
    Some(Other {
        name: "the built-in GPT-2 (tinystories)".into(),
        name_zh: "内置的 GPT-2（tinystories）".into(),
        gpt,
        trace,
        chat: None,
    })
}

/// One other model per prompt, made once (a lesson evaluates many placeholders).
static OTHER: Mutex<Option<(String, Arc<Other>)>> = Mutex::new(None);

fn other(c: &Cx) -> Result<Arc<Other>, String> {
    let prompt = c.env.prompt.to_string();
    let mut slot = OTHER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((p, o)) = slot.as_ref()
        && *p == prompt
    {
        return Ok(o.clone());
    }
    let o = if c.cfg().arch().family == Family::Llama {
        built_in_gpt2(&prompt).ok_or("the built-in GPT-2 cannot be opened")?
    } else {
        smollm2(&prompt).unwrap_or_else(|| stand_in(&c.tr().tokens))
    };
    let o = Arc::new(o);
    *slot = Some((prompt, o.clone()));
    Ok(o)
}

/// Runs `f` on the GPT-2 side and the Llama side.
fn both<T>(c: &Cx, f: impl Fn(&Side, &Side) -> T) -> Result<T, String> {
    let o = other(c)?;
    let mine = Side {
        gpt: c.env.gpt,
        tr: c.tr(),
        name: "the lesson's model",
        name_zh: "这一课的模型",
    };
    let theirs = Side {
        gpt: &o.gpt,
        tr: &o.trace,
        name: &o.name,
        name_zh: &o.name_zh,
    };
    Ok(if c.cfg().arch().family == Family::Llama {
        f(&theirs, &mine)
    } else {
        f(&mine, &theirs)
    })
}

fn llama<T>(c: &Cx, f: impl Fn(&Side) -> T) -> Result<T, String> {
    both(c, |_, l| f(l))
}

fn gpt2<T>(c: &Cx, f: impl Fn(&Side) -> T) -> Result<T, String> {
    both(c, |g, _| f(g))
}

fn last(s: &Side) -> usize {
    s.tr.len().saturating_sub(1)
}

/// KV cache bytes per token (all layers, f32), from the cost ledger.
fn kv_per_token(cfg: &Config) -> f64 {
    Ledger::for_forward(cfg, 0, 1, false).kv_cache_bytes
}

/// The same model with one key/value head per query head.
fn as_mha(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    c.n_kv_head = Some(c.n_head);
    c
}

fn shape(s: &Side, lang: Lang) -> String {
    let cfg = &s.gpt.config;
    let a = cfg.arch();
    let (v, p) = (
        count(cfg.vocab_size as f64),
        count(crate::cost::Params::of(cfg).total),
    );
    match lang {
        Lang::En => format!(
            "{} layers, {} query heads over {} key/value heads of width {}, residual width {}, MLP width {}, vocabulary {v}, {p} parameters",
            cfg.n_layer,
            a.n_head,
            a.n_kv_head,
            cfg.head_dim(),
            cfg.n_embd,
            cfg.mlp_dim(),
        ),
        Lang::Zh => format!(
            "{} 层，{} 个查询头共用 {} 个键/值头，每个头宽 {}，残差流宽 {}，前馈网络宽 {}，词表 {v}，参数 {p} 个",
            cfg.n_layer,
            a.n_head,
            a.n_kv_head,
            cfg.head_dim(),
            cfg.n_embd,
            cfg.mlp_dim(),
        ),
    }
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "modern.llama",
        NONE,
        "which Llama model the modern lesson's Llama numbers come from",
        |c| llama(c, |l| c.say(l.name, l.name_zh).to_string()),
    ),
    ph(
        "modern.llama.shape",
        NONE,
        "the Llama's layers, query and key/value heads, widths, vocabulary, parameters",
        |c| llama(c, |l| shape(l, c.lang)),
    ),
    ph(
        "modern.gpt2.shape",
        NONE,
        "the GPT-2's layers, heads, widths, vocabulary, parameters",
        |c| gpt2(c, |g| shape(g, c.lang)),
    ),
    ph(
        "modern.pos.table",
        NONE,
        "GPT-2's learned position table: rows × width = parameters",
        |c| {
            gpt2(c, |g| {
                let (p, w) = (g.gpt.config.n_positions, g.gpt.config.n_embd);
                let n = count((p * w) as f64);
                match c.lang {
                    Lang::En => format!("{p} × {w} = {n} parameters"),
                    Lang::Zh => format!("{p} × {w} = {n} 个参数"),
                }
            })
        },
    ),
    ph(
        "modern.pos.row",
        NONE,
        "GPT-2: the length ‖wpe[t]‖ of the last position's row of the table",
        |c| {
            gpt2(c, |g| {
                let r = g.tr.pos_emb.row(last(g));
                num(r.iter().map(|x| (x * x) as f64).sum::<f64>().sqrt())
            })
        },
    ),
    ph(
        "modern.rope.base",
        NONE,
        "the Llama's RoPE base θ (rope_theta)",
        |c| llama(c, |l| num(rope::base(l.gpt))),
    ),
    ph(
        "modern.rope.angles",
        NONE,
        "the Llama's RoPE angles at the last position: the fastest, a middle and the slowest pair",
        |c| {
            llama(c, |l| {
                let t = last(l);
                let all = rope::pairs(l.gpt, l.tr, 0, 0, t, usize::MAX);
                let Some(end) = all.len().checked_sub(1) else {
                    return c.say("no RoPE pairs", "没有 RoPE 维度对").to_string();
                };
                [0, end / 2, end]
                    .iter()
                    .map(|&i| {
                        let p = &all[i];
                        let a = num(p.angle as f64);
                        match c.lang {
                            Lang::En => format!("pair {}: {a} rad", p.i),
                            Lang::Zh => format!("第 {} 对：{a} rad", p.i),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(c.say(", ", "，"))
            })
        },
    ),
    ph(
        "modern.rope.norms",
        NONE,
        "the Llama: ‖q‖ of head 0 in layer 0 at the last position, before and after RoPE",
        |c| {
            llama(c, |l| {
                let (b, a) = q_norms(l);
                let (b, a) = (num(b), num(a));
                match c.lang {
                    Lang::En => format!("‖q‖ = {b} before RoPE and {a} after"),
                    Lang::Zh => format!("RoPE 之前 ‖q‖ = {b}，之后是 {a}"),
                }
            })
        },
    ),
    ph(
        "modern.rope.same",
        NONE,
        "\"the same\" when RoPE kept ‖q‖ (a rotation keeps lengths), else \"changed\"",
        |c| {
            llama(c, |l| {
                let (b, a) = q_norms(l);
                if (b - a).abs() <= 1e-4 * b.max(1.0) {
                    c.say("the same", "不变").to_string()
                } else {
                    c.say("changed", "变了").to_string()
                }
            })
        },
    ),
    ph(
        "modern.norm.gpt2",
        NONE,
        "GPT-2's LN1 of layer 0 at the last position: μ and σ² of its input",
        |c| {
            gpt2(c, |g| {
                let at = layernorm::at(g.gpt, g.tr, layernorm::Site::Ln1(0));
                let t = last(g);
                format!(
                    "μ = {}, σ² = {}",
                    num(at.ln.mean[t] as f64),
                    num(at.ln.var[t] as f64)
                )
            })
        },
    ),
    ph(
        "modern.norm.llama",
        NONE,
        "the Llama's first RMSNorm at the last position: mean(x²) and the RMS it divides by",
        |c| {
            llama(c, |l| {
                let at = layernorm::at(l.gpt, l.tr, layernorm::Site::Ln1(0));
                let t = last(l);
                format!(
                    "mean(x²) = {}, RMS = {}",
                    num(at.ln.var[t] as f64),
                    num(at.rms(t).unwrap_or(f32::NAN) as f64)
                )
            })
        },
    ),
    ph(
        "modern.norm.kept_mean",
        NONE,
        "the Llama: the mean of the first RMSNorm's input at the last position (RMSNorm leaves it in)",
        |c| {
            llama(c, |l| {
                let x = l.tr.resid_in(0).row(last(l));
                num(x.iter().map(|&v| v as f64).sum::<f64>() / x.len().max(1) as f64)
            })
        },
    ),
    ph(
        "modern.norm.params",
        NONE,
        "parameters of one norm: GPT-2's γ and β against the Llama's γ alone",
        |c| {
            both(c, |g, l| {
                let (gn, ln) = (
                    count(2.0 * g.gpt.config.n_embd as f64),
                    count(l.gpt.config.n_embd as f64),
                );
                match c.lang {
                    Lang::En => format!(
                        "{gn} for GPT-2's LayerNorm (γ and β), {ln} for the Llama's RMSNorm (γ only)"
                    ),
                    Lang::Zh => format!(
                        "GPT-2 的 LayerNorm 有 {gn} 个（γ 和 β），Llama 的 RMSNorm 有 {ln} 个（只有 γ）"
                    ),
                }
            })
        },
    ),
    ph(
        "modern.mlp.weights",
        NONE,
        "weights of one MLP: GPT-2's two matrices against the Llama's three",
        |c| {
            both(c, |g, l| {
                let (gc, gm) = (g.gpt.config.n_embd, g.gpt.config.mlp_dim());
                let (lc, lm) = (l.gpt.config.n_embd, l.gpt.config.mlp_dim());
                let (g2, l3) = (count((2 * gc * gm) as f64), count((3 * lc * lm) as f64));
                match c.lang {
                    Lang::En => format!(
                        "GPT-2: 2 · {gc} · {gm} = {g2} (up and down); the Llama: 3 · {lc} · {lm} = {l3} (gate, up and down)"
                    ),
                    Lang::Zh => format!(
                        "GPT-2：2 · {gc} · {gm} = {g2}（升维和降维）；Llama：3 · {lc} · {lm} = {l3}（gate、up 和 down）"
                    ),
                }
            })
        },
    ),
    ph(
        "modern.swiglu",
        NONE,
        "the Llama's most active MLP neuron in layer 0 at the last position: gate, SiLU(gate), up, product",
        |c| {
            llama(c, |l| {
                top_neuron(c, l, |n| {
                    format!(
                        "gate {} → SiLU {} × up {} = {}",
                        num(n.pre as f64),
                        num(n.engine_act as f64),
                        num(n.up.unwrap_or(f32::NAN) as f64),
                        num(n.engine_out as f64)
                    )
                })
            })
        },
    ),
    ph(
        "modern.gelu",
        NONE,
        "GPT-2's most active MLP neuron in layer 0 at the last position: h → GELU(h)",
        |c| {
            gpt2(c, |g| {
                top_neuron(c, g, |n| {
                    format!(
                        "h = {} → GELU(h) = {}",
                        num(n.pre as f64),
                        num(n.engine_out as f64)
                    )
                })
            })
        },
    ),
    ph(
        "modern.kv",
        NONE,
        "KV cache per token, from the cost ledger: GPT-2, the Llama, and the Llama with one key/value head per query head",
        |c| {
            both(c, |g, l| {
                let (gb, lb, h, mb) = (
                    bytes(kv_per_token(&g.gpt.config)),
                    bytes(kv_per_token(&l.gpt.config)),
                    l.gpt.config.n_head,
                    bytes(kv_per_token(&as_mha(&l.gpt.config))),
                );
                match c.lang {
                    Lang::En => format!(
                        "GPT-2: {gb} per token; the Llama: {lb} per token, where {h} key/value heads per layer would need {mb}"
                    ),
                    Lang::Zh => format!(
                        "GPT-2：每个词元 {gb}；Llama：每个词元 {lb}，如果每层有 {h} 个键/值头，就要 {mb}"
                    ),
                }
            })
        },
    ),
    ph(
        "modern.kv.context",
        NONE,
        "the Llama's KV cache for its whole context, with GQA and as if it had multi-head attention",
        |c| {
            llama(c, |l| {
                let cfg = &l.gpt.config;
                let t = cfg.n_positions as f64;
                let (n, with, without) = (
                    count(t),
                    bytes(kv_per_token(cfg) * t),
                    bytes(kv_per_token(&as_mha(cfg)) * t),
                );
                match c.lang {
                    Lang::En => format!(
                        "{n} tokens: {with} with grouped-query attention, {without} without"
                    ),
                    Lang::Zh => format!("{n} 个词元：用分组查询注意力是 {with}，不用是 {without}"),
                }
            })
        },
    ),
    ph(
        "modern.kv.saving",
        NONE,
        "how many times smaller GQA makes the Llama's KV cache (query heads per key/value head)",
        |c| {
            llama(c, |l| {
                let cfg = &l.gpt.config;
                let x = num(kv_per_token(&as_mha(cfg)) / kv_per_token(cfg));
                match c.lang {
                    Lang::En => format!("{x}× smaller"),
                    Lang::Zh => format!("小到原来的 1/{x}"),
                }
            })
        },
    ),
    ph(
        "modern.chat",
        NONE,
        "the Llama's chat template rendered for one question, as a code block (or why there is none)",
        |c| {
            if c.cfg().arch().family == Family::Llama {
                return Ok(own_chat(c));
            }
            let o = other(c)?;
            Ok(match &o.chat {
                Some(t) => code_block(t),
                None => Msg::ModernStandInNoChat.get(c.lang).to_string(),
            })
        },
    ),
];

/// The side's most active MLP neuron in layer 0 at its last position, as
/// "neuron i: " and `numbers` of it; or a word saying it has none.
fn top_neuron(c: &Cx, s: &Side, numbers: impl Fn(&mlp::Neuron) -> String) -> String {
    let t = last(s);
    let Some(&i) = mlp::most_active(s.tr, 0, t).first() else {
        return c.say("no neurons", "没有神经元").to_string();
    };
    let n = mlp::neuron(s.tr, 0, t, i);
    format!(
        "{} {i}{} {}",
        c.say("neuron", "神经元"),
        c.say(":", "："),
        numbers(&n)
    )
}

fn code_block(text: &str) -> String {
    format!("```\n{}\n```", text.trim_end())
}

/// The lesson's own Llama's chat template (tokenizer.chat_template of its
/// GGUF, or its folder's tokenizer_config.json), read and rendered for
/// [`CHAT_QUESTION`] as `generate --chat` does; or why there is none.
fn own_chat(c: &Cx) -> String {
    let Some(dir) = c.env.model_dir else {
        return Msg::ModernNoFolder.get(c.lang).into();
    };
    let turn = ChatTemplate::from_model_dir(dir, crate::tokenizer::END_OF_TEXT)
        .and_then(|t| t.map(|t| t.user_turn(CHAT_QUESTION)).transpose());
    match turn {
        Ok(Some(text)) => code_block(&text),
        Ok(None) => Msg::ModernNoTemplate.get(c.lang).into(),
        Err(e) => Msg::ModernTemplateFails.fill(c.lang, &[&e]),
    }
}

/// ‖q‖ of head 0, layer 0, last position, before and after RoPE.
fn q_norms(l: &Side) -> (f64, f64) {
    let l0 = &l.tr.layers[0];
    let d = l.gpt.config.head_dim();
    let t = last(l);
    let norm = |m: &ndarray::Array2<f32>| {
        if m.nrows() <= t {
            return f64::NAN;
        }
        m.row(t)
            .iter()
            .take(d)
            .map(|&x| (x as f64) * (x as f64))
            .sum::<f64>()
            .sqrt()
    };
    (norm(&l0.q_pre_rope), norm(&l0.q))
}
