//! Checkpoints: the parameters and AdamW moments of a run plus the step they
//! belong to, written through temporary names (tensors first, then the
//! metadata naming their step) and read back only under the same settings.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::files::{commit, io_err, write_atomic, write_tmp};
use super::{Hyper, TrainError, Trainer};
use crate::model::write_safetensors;

/// The state a checkpoint holds besides the tensors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CheckpointMeta {
    pub(crate) hyper: Hyper,
    pub(crate) step: u64,
    pub(crate) tokens_seen: u64,
    pub(crate) elapsed_secs: f64,
    pub(crate) last_train_loss: Option<f32>,
}

/// Writes the model folder files (config.json, model.safetensors) through
/// temporary names, so a reader never sees half a file.
pub(super) fn write_model(trainer: &Trainer, out: &Path) -> Result<(), TrainError> {
    write_atomic(&out.join("model.safetensors"), |tmp| {
        Ok(trainer.gpt().weights.save_safetensors(tmp)?)
    })?;
    write_atomic(&out.join("config.json"), |tmp| {
        Ok(trainer.cfg.write(tmp)?)
    })
}

pub(super) fn checkpoint_dir(out: &Path) -> PathBuf {
    out.join("checkpoint")
}

pub(super) fn write_checkpoint(
    trainer: &Trainer,
    out: &Path,
    meta: &CheckpointMeta,
) -> Result<(), TrainError> {
    let dir = checkpoint_dir(out);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let (n, k) = (trainer.params.len(), trainer.opt.m.len());
    let st = dir.join("state.safetensors");
    // A LoRA run also keeps its adapters (the moments are theirs) and scale.
    let scale = trainer.lora.as_ref().map(|l| [l.scale]);
    let (n, k, one) = ([n], [k], [1]);
    let mut tensors = vec![
        ("params".to_string(), &n[..], &trainer.params[..]),
        ("adam_m".to_string(), &k[..], &trainer.opt.m[..]),
        ("adam_v".to_string(), &k[..], &trainer.opt.v[..]),
    ];
    if let (Some(l), Some(s)) = (&trainer.lora, &scale) {
        tensors.push(("lora".to_string(), &k[..], &l.params[..]));
        tensors.push(("lora_scale".to_string(), &one[..], &s[..]));
    }
    let st_tmp = write_tmp(&st, |tmp| Ok(write_safetensors(tmp, &tensors, &[])?))?;
    let js = dir.join("state.json");
    let text = serde_json::to_string_pretty(meta).expect("json");
    let js_tmp =
        write_tmp(&js, |tmp| std::fs::write(tmp, text).map_err(io_err(tmp))).inspect_err(|_| {
            let _ = std::fs::remove_file(&st_tmp);
        })?;
    // The tensors first, then the metadata that names their step.
    commit(&st_tmp, &st).inspect_err(|_| {
        let _ = std::fs::remove_file(&js_tmp);
    })?;
    commit(&js_tmp, &js)?;
    write_model(trainer, out)
}

pub(crate) fn read_checkpoint(
    trainer: &mut Trainer,
    out: &Path,
    hyper: &Hyper,
) -> Result<CheckpointMeta, TrainError> {
    let dir = checkpoint_dir(out);
    let js = dir.join("state.json");
    if !js.is_file() {
        return Err(TrainError::Input(format!(
            "--resume: there is no checkpoint in {} (no state.json); start a new run with --force instead",
            dir.display()
        )));
    }
    let text = std::fs::read_to_string(&js).map_err(io_err(&js))?;
    let meta: CheckpointMeta = serde_json::from_str(&text).map_err(|e| {
        TrainError::Input(format!(
            "{} is not a gptlens checkpoint ({e})",
            js.display()
        ))
    })?;
    let diff = hyper.differences(&meta.hyper);
    if !diff.is_empty() {
        return Err(TrainError::Input(format!(
            "--resume: the checkpoint in {} was made with other settings ({}); resume with the same options, or start a new run with --force",
            dir.display(),
            diff.join("; ")
        )));
    }
    let st = dir.join("state.safetensors");
    let bytes = std::fs::read(&st).map_err(io_err(&st))?;
    let tensors = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| {
        TrainError::Input(format!(
            "{} is corrupt ({e}); start again with --force",
            st.display()
        ))
    })?;
    let (n, k) = (trainer.params.len(), trainer.opt.m.len());
    let has_lora = tensors.tensor("lora").is_ok();
    if has_lora != trainer.lora.is_some() {
        return Err(TrainError::Input(format!(
            "--resume: the checkpoint in {} is of a {} run; resume it {} --lora, or start a new run with --force",
            dir.display(),
            if has_lora { "LoRA" } else { "full fine-tuning" },
            if has_lora { "with the same" } else { "without" }
        )));
    }
    let mut scale = [0.0f32];
    let mut lora_params = trainer
        .lora
        .as_mut()
        .map(|l| std::mem::take(&mut l.params))
        .unwrap_or_default();
    let mut targets: Vec<(&str, &mut [f32], usize)> = vec![
        ("params", &mut trainer.params[..], n),
        ("adam_m", &mut trainer.opt.m[..], k),
        ("adam_v", &mut trainer.opt.v[..], k),
    ];
    if has_lora {
        targets.push(("lora", &mut lora_params[..], k));
        targets.push(("lora_scale", &mut scale[..], 1));
    }
    for (name, dst, n) in targets {
        let view = tensors.tensor(name).map_err(|e| {
            TrainError::Input(format!(
                "{} lacks {name} ({e}); start again with --force",
                st.display()
            ))
        })?;
        if view.shape() != [n] || view.dtype() != safetensors::Dtype::F32 {
            return Err(TrainError::Input(format!(
                "{}: {name} has shape {:?}, this run needs [{n}]; start again with --force",
                st.display(),
                view.shape()
            )));
        }
        for (d, b) in dst.iter_mut().zip(view.data().chunks_exact(4)) {
            *d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
    if let Some(l) = &mut trainer.lora {
        l.params = lora_params;
        if scale[0] != l.scale {
            return Err(TrainError::Input(format!(
                "--resume: the checkpoint's LoRA scale alpha/rank is {}, this run's {}; resume with the same --lora and --lora-alpha, or start a new run with --force",
                scale[0], l.scale
            )));
        }
        l.merge(&mut trainer.params);
    }
    Ok(meta)
}
