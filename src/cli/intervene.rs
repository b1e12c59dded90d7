//! `--ablate L.H`, `--no-scale`, `--no-mask`, `--no-layernorm`: the explorer's
//! interventions (`model::Interventions`) for `trace` and `generate`.

use anyhow::Result;

use gptlens::model::{Config, Interventions};

#[derive(clap::Args, Debug, Default, Clone)]
#[command(next_help_heading = "Interventions")]
pub struct Args {
    /// Zero head H of layer L before the output projection (repeatable), e.g. --ablate 0.3.
    #[arg(long, value_name = "L.H")]
    ablate: Vec<String>,
    /// Scores are QKᵀ instead of QKᵀ/√dₖ (the softmax gets sharper).
    #[arg(long)]
    no_scale: bool,
    /// No causal mask: every position attends to every other, later ones too.
    #[arg(long)]
    no_mask: bool,
    /// Every LayerNorm (ln_1, ln_2, ln_f) becomes the identity.
    #[arg(long)]
    no_layernorm: bool,
}

impl Args {
    /// The interventions, each head checked against the model's shape.
    pub fn resolve(&self, cfg: &Config) -> Result<Interventions> {
        let mut ablate = vec![];
        for a in &self.ablate {
            let (l, h) = parse_head(a, cfg)?;
            if !ablate.contains(&(l, h)) {
                ablate.push((l, h));
            }
        }
        Ok(Interventions {
            ablate,
            no_scale: self.no_scale,
            no_causal_mask: self.no_mask,
            skip_layernorm: self.no_layernorm,
        })
    }
}

fn parse_head(s: &str, cfg: &Config) -> Result<(usize, usize)> {
    let usage = |why: String| super::out::usage(format!("--ablate {s}: {why}"));
    let shape = format!(
        "this model has layers 0 to {} and heads 0 to {}",
        cfg.n_layer - 1,
        cfg.n_head - 1
    );
    let Some((l, h)) = s.split_once('.') else {
        return Err(usage(format!(
            "give LAYER.HEAD, e.g. 0.3 for head 3 of layer 0 ({shape})"
        )));
    };
    let num = |t: &str, what: &str| -> Result<usize> {
        t.trim().parse::<usize>().map_err(|_| {
            usage(format!(
                "the {what} \"{t}\" is not a whole number ≥ 0 ({shape})"
            ))
        })
    };
    let (l, h) = (num(l, "layer")?, num(h, "head")?);
    if l >= cfg.n_layer || h >= cfg.n_head {
        return Err(usage(format!("out of range: {shape}")));
    }
    Ok((l, h))
}

/// The interventions as the trace JSON echoes them.
pub fn json(iv: &Interventions) -> serde_json::Value {
    serde_json::json!({
        "ablate": iv.ablate.iter().map(|(l, h)| [l, h]).collect::<Vec<_>>(),
        "no_scale": iv.no_scale,
        "no_mask": iv.no_causal_mask,
        "no_layernorm": iv.skip_layernorm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_read_and_checked_against_the_shape() {
        let cfg = Config::new(2, 4, 16, 20, 8);
        let a = Args {
            ablate: vec!["1.3".into(), "0.0".into(), "1.3".into()],
            no_mask: true,
            ..Args::default()
        };
        let iv = a.resolve(&cfg).unwrap();
        assert_eq!(iv.ablate, [(1, 3), (0, 0)]);
        assert!(iv.no_causal_mask && !iv.no_scale && !iv.skip_layernorm);
        for (bad, says) in [
            ("2.0", "layers 0 to 1"),
            ("0.4", "heads 0 to 3"),
            ("1", "LAYER.HEAD"),
            ("a.1", "\"a\""),
            ("-1.0", "≥ 0"),
        ] {
            let a = Args {
                ablate: vec![bad.into()],
                ..Args::default()
            };
            let e = format!("{:#}", a.resolve(&cfg).unwrap_err());
            assert!(e.contains(says) && e.contains(bad), "{bad}: {e}");
        }
    }
}
