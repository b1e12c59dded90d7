//! The heads' record of a training run, `train-heads.tsv`: every head's
//! previous-token score (on the start of the validation text) and induction
//! score (on a repeated random probe; [`crate::readout::heads`]) at step 0
//! (the random initial weights), at every validation step and at the end, so
//! that the curves show when which head became what.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::files::{io_err, write_atomic};
use super::{TrainError, Trainer};
use crate::readout::heads;

pub const HEADS_FILE: &str = "train-heads.tsv";
pub(crate) const HEADER: &str = "step\tlayer\thead\tprevious_token\tinduction\n";

/// The probe's seed: one fixed probe for the whole run, so the curves compare
/// the same measurement at every step.
pub(crate) const PROBE_SEED: u64 = 17;

/// Appends every head's two scores at `step` to the record.
pub(crate) struct HeadLog {
    path: PathBuf,
    file: std::fs::File,
    /// Real text for the previous-token score (empty: the random probe).
    text: Vec<u32>,
}

impl HeadLog {
    /// Opens the record in `out`: a fresh one, or, resuming from the
    /// checkpoint at `step`, the old one without the rows after it.
    pub(crate) fn open(
        out: &Path,
        resume: bool,
        step: u64,
        text: Vec<u32>,
    ) -> Result<Self, TrainError> {
        let path = out.join(HEADS_FILE);
        if resume && path.exists() {
            let old = std::fs::read_to_string(&path).map_err(io_err(&path))?;
            let kept = rows_up_to(&old, step);
            write_atomic(&path, |tmp| std::fs::write(tmp, kept).map_err(io_err(tmp)))?;
        } else {
            std::fs::write(&path, HEADER).map_err(io_err(&path))?;
        }
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok(HeadLog { path, file, text })
    }

    /// Scores the trainer's current weights and appends them as `step`.
    pub(crate) fn record(&mut self, trainer: &Trainer, step: u64) -> Result<(), TrainError> {
        let gpt = trainer.gpt();
        let text = (!self.text.is_empty()).then_some(&self.text[..]);
        let s = heads::measure(&gpt, text, None, PROBE_SEED).map_err(TrainError::Model)?;
        let mut rows = String::new();
        for (l, (prev, ind)) in s.previous_token.iter().zip(&s.induction).enumerate() {
            for (h, (p, i)) in prev.iter().zip(ind).enumerate() {
                rows.push_str(&format!("{step}\t{l}\t{h}\t{p:.4}\t{i:.4}\n"));
            }
        }
        self.file
            .write_all(rows.as_bytes())
            .map_err(io_err(&self.path))
    }
}

/// The header and the whole rows of steps up to `step` (a killed run may have
/// written rows past its checkpoint, or half a row).
fn rows_up_to(text: &str, step: u64) -> String {
    let mut out = String::from(HEADER);
    for line in text.split_inclusive('\n').skip(1) {
        let first = line.split('\t').next().and_then(|s| s.parse::<u64>().ok());
        if line.ends_with('\n') && line.split('\t').count() == 5 && first.is_some_and(|s| s <= step)
        {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_record_keeps_the_rows_up_to_its_checkpoint() {
        let text =
            format!("{HEADER}0\t0\t0\t0.1\t0.0\n10\t0\t0\t0.2\t0.0\n20\t0\t0\t0.3\t0.0\n30\t0\t0");
        assert_eq!(
            rows_up_to(&text, 10),
            format!("{HEADER}0\t0\t0\t0.1\t0.0\n10\t0\t0\t0.2\t0.0\n")
        );
        assert_eq!(rows_up_to(&text, 0), format!("{HEADER}0\t0\t0\t0.1\t0.0\n"));
    }
}
