//! How much memory a model (for `gptlens init`) or a training run needs, counted
//! with checked arithmetic from the shape alone, so that an absurd shape is
//! refused with a number before anything is allocated.

use std::path::Path;

use super::TrainError;
use crate::model::Config;

/// Bytes a model or a training run needs, by part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryNeed {
    /// Parameters: the flat buffer plus the model copy written to disk (training),
    /// or the model itself (init).
    pub params: u64,
    /// Gradients, one f32 per parameter.
    pub grads: u64,
    /// AdamW's two moments and the weight-decay mask.
    pub optimizer: u64,
    /// Activations and backward scratch for one `[B, T]` batch.
    pub activations: u64,
}

impl MemoryNeed {
    pub fn total(&self) -> u64 {
        self.params + self.grads + self.optimizer + self.activations
    }

    /// "1.2 GiB (parameters …, gradients …, AdamW state …, activations …)".
    pub fn describe(&self) -> String {
        if self.grads == 0 && self.activations == 0 {
            return format!("{} (parameters)", bytes(self.total()));
        }
        format!(
            "{} (parameters {}, gradients {}, AdamW state {}, activations {})",
            bytes(self.total()),
            bytes(self.params),
            bytes(self.grads),
            bytes(self.optimizer),
            bytes(self.activations)
        )
    }
}

/// The shape is too large to even count its bytes in 64 bits.
fn too_large() -> TrainError {
    TrainError::Input(
        "the model is too large to count its memory in 64 bits; use smaller --layers / --embd / --vocab / --ctx / --batch".into(),
    )
}

/// Checked product of all factors, as u64.
fn prod(xs: &[usize]) -> Result<u64, TrainError> {
    xs.iter().try_fold(1u64, |acc, &x| {
        acc.checked_mul(x as u64).ok_or_else(too_large)
    })
}

/// Checked sum.
fn sum(xs: &[u64]) -> Result<u64, TrainError> {
    xs.iter()
        .try_fold(0u64, |acc, &x| acc.checked_add(x).ok_or_else(too_large))
}

/// Parameter count (tied unembedding counted once), the same as
/// [`Config::n_params`] but overflow-checked.
pub fn param_count(cfg: &Config) -> Result<u64, TrainError> {
    let c = cfg.n_embd;
    let m = match cfg.n_inner {
        Some(m) => m as u64,
        None => prod(&[4, c])?,
    };
    let c64 = c as u64;
    let mul = |a: u64, b: u64| a.checked_mul(b).ok_or_else(too_large);
    let per_layer = sum(&[
        mul(2, c64)?,                             // ln_1
        sum(&[prod(&[c, 3, c])?, mul(3, c64)?])?, // c_attn
        sum(&[prod(&[c, c])?, c64])?,             // attn c_proj
        mul(2, c64)?,                             // ln_2
        sum(&[mul(c64, m)?, m])?,                 // c_fc
        sum(&[mul(m, c64)?, c64])?,               // mlp c_proj
    ])?;
    sum(&[
        prod(&[cfg.vocab_size, c])?,
        prod(&[cfg.n_positions, c])?,
        mul(cfg.n_layer as u64, per_layer)?,
        mul(2, c64)?,
    ])
}

/// f32 values the training buffers for one `[b, t]` batch hold: the forward
/// activations (`gpt::Acts`), the backward scratch (`gpt::GradScratch`)
/// and, with dropout, its masks. `threads` attention-backward workers each keep
/// a block of scores.
pub fn activation_floats(
    cfg: &Config,
    b: usize,
    t: usize,
    dropout: bool,
    threads: usize,
) -> Result<u64, TrainError> {
    let n = prod(&[b, t])?;
    let c = cfg.n_embd as u64;
    let m = match cfg.n_inner {
        Some(m) => m as u64,
        None => prod(&[4, cfg.n_embd])?,
    };
    let mul = |a: u64, b: u64| a.checked_mul(b).ok_or_else(too_large);
    let nc = mul(n, c)?;
    let nm = mul(n, m)?;
    let att = prod(&[b, cfg.n_head, t, t])?;
    // Per block: ln_1, heads, resid_mid, ln_2, resid_post (5·nc), qkv (3·nc),
    // the two LayerNorms' row statistics (4·n), the attention probabilities
    // and mlp_pre, mlp_act.
    let per_layer = sum(&[mul(8, nc)?, mul(4, n)?, att, mul(2, nm)?])?;
    let per_layer = if dropout {
        sum(&[per_layer, mul(2, nc)?])?
    } else {
        per_layer
    };
    let layers = mul(cfg.n_layer as u64, per_layer)?;
    // embed, ln_f (2·nc), ln_f's statistics and the losses (3·n), probabilities.
    let outside = sum(&[
        mul(2, nc)?,
        mul(3, n)?,
        mul(n, cfg.vocab_size as u64)?,
        if dropout { nc } else { 0 },
    ])?;
    // Backward scratch: dresid, dln, dheads, dbranch (4·nc), dqkv (3·nc), dmlp.
    let scratch = sum(&[mul(7, nc)?, nm])?;
    let blocks = prod(&[threads, super::attention::ATT_BLOCK, t])?;
    sum(&[layers, outside, scratch, blocks])
}

/// The memory a training run with batches of `[b, t]` needs: parameters (the
/// flat buffer and the copy written at each checkpoint), gradients, AdamW
/// moments and decay mask, activations.
pub fn training_need(
    cfg: &Config,
    b: usize,
    t: usize,
    dropout: bool,
) -> Result<MemoryNeed, TrainError> {
    let p = param_count(cfg)?;
    let mul = |a: u64, b: u64| a.checked_mul(b).ok_or_else(too_large);
    let threads = rayon::current_num_threads();
    let need = MemoryNeed {
        params: mul(p, 8)?,
        grads: mul(p, 4)?,
        optimizer: mul(p, 9)?,
        activations: mul(activation_floats(cfg, b, t, dropout, threads)?, 4)?,
    };
    // The total must be countable too.
    sum(&[need.params, need.grads, need.optimizer, need.activations])?;
    Ok(need)
}

/// The memory a random model (`gptlens init`) needs: its parameters.
pub fn model_need(cfg: &Config) -> Result<MemoryNeed, TrainError> {
    let p = param_count(cfg)?;
    Ok(MemoryNeed {
        params: p.checked_mul(4).ok_or_else(too_large)?,
        grads: 0,
        optimizer: 0,
        activations: 0,
    })
}

/// `MemAvailable` from /proc/meminfo, in bytes (None where there is none).
pub fn available_memory() -> Option<u64> {
    parse_meminfo(&std::fs::read_to_string(Path::new("/proc/meminfo")).ok()?)
}

fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// Refuses `need` when it exceeds `limit` (the `--max-memory` override) or, without
/// one, the memory the machine has available. Returns the limit it checked against.
pub fn check(need: &MemoryNeed, limit: Option<u64>, what: &str) -> Result<(), TrainError> {
    let (limit, source) = match limit {
        Some(l) => (l, "--max-memory".to_string()),
        None => match available_memory() {
            Some(a) => (a, "available (MemAvailable in /proc/meminfo)".to_string()),
            None => return Ok(()),
        },
    };
    if need.total() > limit {
        return Err(TrainError::Input(format!(
            "{what} needs {} but {} {source}; use a smaller --layers / --embd / --vocab{}, or raise the limit with --max-memory SIZE (e.g. 8G)",
            need.describe(),
            bytes(limit),
            if need.activations > 0 {
                " / --ctx / --batch"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// Parses a size such as `8G`, `512M`, `1.5GiB` or `1000000` (bytes); the
/// suffixes are binary (K = 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "{s:?} is not a size; write a number of bytes with an optional K, M, G or T, e.g. 8G"
            ));
        }
    };
    let x: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size; write e.g. 8G or 512M"))?;
    let b = x * mult as f64;
    if !(b.is_finite() && b >= 1.0 && b < u64::MAX as f64) {
        return Err(format!("{s:?} is not a usable size; write e.g. 8G or 512M"));
    }
    Ok(b as u64)
}

/// Bytes in the one unit policy (binary: KiB, MiB, GiB …), see [`crate::fmt::bytes`].
pub fn bytes(b: u64) -> String {
    crate::fmt::bytes(b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::gpt::{Acts, Dropout, GradScratch};

    #[test]
    fn param_count_matches_the_config() {
        for cfg in [
            Config::new(2, 4, 64, 257, 128),
            Config::new(12, 12, 768, 50257, 1024),
        ] {
            assert_eq!(param_count(&cfg).unwrap(), cfg.n_params() as u64);
        }
    }

    /// The count matches what the buffers really hold, after a forward pass with
    /// dropout has drawn its masks.
    #[test]
    fn activation_count_matches_the_allocated_buffers() {
        let cfg = Config::new(2, 2, 16, 300, 8);
        let (b, t) = (3, 8);
        let gpt = crate::model::random_model(&cfg, 1, false);
        let mut tr = crate::train::Trainer::new(&gpt, b, t);
        let ids: Vec<u32> = (0..b * t).map(|i| (i % 300) as u32).collect();
        tr.loss_and_grads_with(&ids, &ids, Some(Dropout { p: 0.1, seed: 3 }));
        let floats = acts_floats(&tr.acts) + scratch_floats(&GradScratch::new(&cfg, b, t));
        let blocks = (super::super::attention::ATT_BLOCK * t) as u64;
        assert_eq!(
            activation_floats(&cfg, b, t, true, 1).unwrap(),
            floats + blocks
        );
        let fresh = Acts::new(&cfg, b, t);
        assert_eq!(
            activation_floats(&cfg, b, t, false, 1).unwrap(),
            acts_floats(&fresh) + scratch_floats(&GradScratch::new(&cfg, b, t)) + blocks
        );
    }

    fn acts_floats(a: &Acts) -> u64 {
        a.floats() as u64
    }

    fn scratch_floats(s: &GradScratch) -> u64 {
        s.floats() as u64
    }

    #[test]
    fn absurd_shapes_are_counted_or_refused_without_allocating() {
        let huge = Config::new(1_000_000_000, 1, 128, 2048, 256);
        let need = training_need(&huge, 16, 256, false).unwrap();
        assert!(need.total() > 1 << 40, "{}", need.describe());
        let e = check(&need, Some(1 << 30), "this run")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs") && e.contains("--max-memory"), "{e}");
        let overflow = Config::new(usize::MAX / 2, 1, usize::MAX / 4, 2, 2);
        assert!(param_count(&overflow).is_err());
        assert!(training_need(&Config::new(1, 1, 8, 8, 8), usize::MAX, 2, false).is_err());
    }

    #[test]
    fn sizes_and_meminfo_parse() {
        assert_eq!(parse_size("8G").unwrap(), 8 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        for bad in ["", "G", "-1G", "1X", "NaN", "inf"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        let info = "MemTotal: 24000000 kB\nMemFree: 1 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(parse_meminfo(info), Some(2048 * 1024));
        assert_eq!(parse_meminfo("MemTotal: 5 kB\n"), None);
    }
}
