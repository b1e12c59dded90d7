//! A model's weights quantized in memory, as `gptlens quantize` would write
//! them and `--model FILE.gguf` would open them, without the file: what a
//! lesson compares the f32 model with.

use super::{GgmlType, QK, QMatrix, QuantError};
use crate::model::{LayerWeights, LlamaLayerWeights, Tensor, Weights};

/// `t` (`[in, out]` when `transposed`, else `[out, in]`) in `ty`'s blocks,
/// or in F16 when its rows are no whole number of blocks (the writer's rule).
fn matrix(t: &Tensor, ty: GgmlType, transposed: bool) -> Result<Tensor, QuantError> {
    let [a, b] = t.shape[..] else {
        return Ok(t.clone());
    };
    let (rows, cols) = if transposed { (b, a) } else { (a, b) };
    let ty = if cols.is_multiple_of(QK) {
        ty
    } else {
        GgmlType::F16
    };
    let d = t.data();
    let m: Vec<f32> = if transposed {
        let mut m = vec![0.0; d.len()];
        for i in 0..a {
            for j in 0..b {
                m[j * a + i] = d[i * b + j];
            }
        }
        m
    } else {
        d.to_vec()
    };
    Ok(Tensor::quantized(
        QMatrix::quantize(ty, &m, rows, cols)?,
        transposed,
    ))
}

/// Every weight matrix of `w` in `ty` (the position table only when `ty` is
/// F16, as the GGUF writer does; vectors stay f32). `ty` F32 is a copy.
pub fn quantized(w: &Weights, ty: GgmlType) -> Result<Weights, QuantError> {
    if ty == GgmlType::F32 {
        return Ok(w.clone());
    }
    if !super::matrix::MATRIX_TYPES.contains(&ty) {
        return Err(QuantError::Unsupported { ty });
    }
    let gpt2 = !w.is_llama();
    let m = |t: &Tensor, transposed| matrix(t, ty, transposed);
    let layers = w
        .layers
        .iter()
        .map(|l| {
            Ok(LayerWeights {
                attn_w: m(&l.attn_w, true)?,
                attn_proj_w: m(&l.attn_proj_w, true)?,
                fc_w: m(&l.fc_w, true)?,
                mlp_proj_w: m(&l.mlp_proj_w, true)?,
                ..l.clone()
            })
        })
        .collect::<Result<Vec<_>, QuantError>>()?;
    let llama_layers = w
        .llama_layers
        .iter()
        .map(|l| {
            Ok(LlamaLayerWeights {
                wq: m(&l.wq, false)?,
                wk: m(&l.wk, false)?,
                wv: m(&l.wv, false)?,
                wo: m(&l.wo, false)?,
                w_gate: m(&l.w_gate, false)?,
                w_up: m(&l.w_up, false)?,
                w_down: m(&l.w_down, false)?,
                ..l.clone()
            })
        })
        .collect::<Result<Vec<_>, QuantError>>()?;
    let wpe = if gpt2 && ty == GgmlType::F16 {
        m(&w.wpe, false)?
    } else {
        w.wpe.clone()
    };
    Ok(Weights {
        wte: m(&w.wte, false)?,
        wpe,
        layers,
        llama_layers,
        lm_head: w.lm_head.as_ref().map(|h| m(h, false)).transpose()?,
        ln_f_g: w.ln_f_g.clone(),
        ln_f_b: w.ln_f_b.clone(),
        warnings: w.warnings.clone(),
    })
}
