//! The record a training run leaves in its model folder: `train-log.tsv` (one
//! row per logged step) and `train-summary.json` (how the run ended). Read in
//! one place so that the lessons and the explorer show the same numbers.
//!
//! Every summary field is optional: hand-written and older summaries lack some,
//! and a reader shows what is there.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The per-step log `gptlens train` appends to.
pub const LOG_FILE: &str = "train-log.tsv";
/// How the run ended (written once, at the end).
pub const SUMMARY_FILE: &str = "train-summary.json";
/// An older log form: a JSON list of `{step, loss | train_loss, val_loss}`.
pub const LEGACY_LOG_FILE: &str = "train_log.json";

/// The columns `gptlens train` writes, in its order.
const COLUMNS: &str = "step, lr, train_loss, val_loss, grad_norm, tokens_per_sec";

/// Why a training record could not be read; each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}, line {line}: {what}")]
    Malformed {
        path: PathBuf,
        line: usize,
        what: String,
    },
}

/// One logged step. Fields the row leaves empty are None (validation rows
/// carry only `val_loss`; the final one only step and `val_loss`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogRow {
    pub step: u64,
    pub lr: Option<f64>,
    pub train_loss: Option<f64>,
    pub val_loss: Option<f64>,
    pub grad_norm: Option<f64>,
    pub tokens_per_sec: Option<f64>,
}

/// The hyper-parameters as the summary records them.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RunHyper {
    pub n_layer: Option<u64>,
    pub n_head: Option<u64>,
    pub n_embd: Option<u64>,
    pub n_ctx: Option<u64>,
    pub vocab_size: Option<u64>,
    pub batch: Option<u64>,
    pub steps: Option<u64>,
    pub lr: Option<f64>,
    pub min_lr: Option<f64>,
    pub warmup: Option<u64>,
    pub weight_decay: Option<f64>,
    pub grad_clip: Option<f64>,
    pub seed: Option<u64>,
    pub dropout: Option<f64>,
}

/// Validation losses (nats/token) of the count baselines.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RunBaselines {
    pub unigram: Option<f64>,
    pub bigram: Option<f64>,
    pub bigram_lambda: Option<f64>,
}

/// `train-summary.json` (what [`super::Summary`] writes), every field optional.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RunSummary {
    pub hyper: Option<RunHyper>,
    pub n_params: Option<u64>,
    pub step: Option<u64>,
    pub tokens_seen: Option<u64>,
    pub elapsed_secs: Option<f64>,
    pub train_loss: Option<f64>,
    pub val_loss: Option<f64>,
    pub val_bits_per_byte: Option<f64>,
    pub val_tokens: Option<u64>,
    pub val_bytes: Option<u64>,
    /// Length of the tokenized training text.
    pub train_tokens: Option<u64>,
    pub baselines: Option<RunBaselines>,
    pub interrupted: Option<bool>,
}

/// What a training run left in a model folder.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainRecord {
    /// The folder the record was read from.
    pub dir: PathBuf,
    pub rows: Vec<LogRow>,
    pub summary: Option<RunSummary>,
    /// Every head's scores over the run (`train-heads.tsv`; empty in older
    /// records).
    pub heads: Vec<HeadRow>,
}

/// One head's previous-token and induction scores at one step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeadRow {
    pub step: u64,
    pub layer: usize,
    pub head: usize,
    pub previous_token: f64,
    pub induction: f64,
}

impl TrainRecord {
    /// Reads the record in `dir`: Ok(None) when the folder has neither a log
    /// nor a summary; an error naming the file (and line) when one is malformed.
    pub fn read(dir: &Path) -> Result<Option<TrainRecord>, RecordError> {
        let summary = match read_optional(&dir.join(SUMMARY_FILE))? {
            Some(text) => Some(parse_summary(&text, &dir.join(SUMMARY_FILE))?),
            None => None,
        };
        let rows = match read_optional(&dir.join(LOG_FILE))? {
            Some(text) => Some(parse_log(&text, &dir.join(LOG_FILE))?),
            None => match read_optional(&dir.join(LEGACY_LOG_FILE))? {
                Some(text) => Some(parse_legacy_log(&text, &dir.join(LEGACY_LOG_FILE))?),
                None => None,
            },
        };
        if rows.is_none() && summary.is_none() {
            return Ok(None);
        }
        let heads_path = dir.join(super::heads::HEADS_FILE);
        let heads = match read_optional(&heads_path)? {
            Some(text) => parse_heads(&text, &heads_path)?,
            None => vec![],
        };
        Ok(Some(TrainRecord {
            dir: dir.to_path_buf(),
            rows: rows.unwrap_or_default(),
            summary,
            heads,
        }))
    }

    /// (step, training loss) of every row that has one.
    pub fn losses(&self) -> Vec<(u64, f64)> {
        self.points(|r| r.train_loss)
    }

    /// (step, validation loss) of every row that has one.
    pub fn val_losses(&self) -> Vec<(u64, f64)> {
        self.points(|r| r.val_loss)
    }

    /// (step, learning rate) of every row that has one.
    pub fn lrs(&self) -> Vec<(u64, f64)> {
        self.points(|r| r.lr)
    }

    fn points(&self, f: impl Fn(&LogRow) -> Option<f64>) -> Vec<(u64, f64)> {
        self.rows
            .iter()
            .filter_map(|r| Some((r.step, f(r)?)))
            .collect()
    }

    /// The last validation loss in the log.
    pub fn last_val(&self) -> Option<f64> {
        self.rows.iter().rev().find_map(|r| r.val_loss)
    }

    /// The run's final validation loss: the summary's (over the whole held-out
    /// text), else the log's last.
    pub fn final_val(&self) -> Option<f64> {
        self.summary
            .as_ref()
            .and_then(|s| s.val_loss)
            .or_else(|| self.last_val())
    }

    /// The run's final training loss: the summary's, else the log's last.
    pub fn final_train(&self) -> Option<f64> {
        self.summary
            .as_ref()
            .and_then(|s| s.train_loss)
            .or_else(|| self.losses().last().map(|l| l.1))
    }

    /// The count baselines, when the summary recorded them.
    pub fn baselines(&self) -> Option<&RunBaselines> {
        self.summary.as_ref()?.baselines.as_ref()
    }

    /// The recorded hyper-parameters.
    pub fn hyper(&self) -> Option<&RunHyper> {
        self.summary.as_ref()?.hyper.as_ref()
    }
}

/// `train-heads.tsv`: a header, then `step layer head previous_token induction`.
pub fn parse_heads(text: &str, path: &Path) -> Result<Vec<HeadRow>, RecordError> {
    let mut lines = text.lines().enumerate();
    let want = super::heads::HEADER.trim_end();
    match lines.next() {
        Some((_, h)) if h.trim_end() == want => {}
        _ => {
            return Err(malformed(
                path,
                1,
                format!("the first line must be the header `{want}` (tab-separated)"),
            ));
        }
    }
    let mut rows = vec![];
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let bad = || {
            malformed(
                path,
                i + 1,
                format!("expected 5 tab-separated numbers, found `{line}`"),
            )
        };
        if f.len() != 5 {
            return Err(bad());
        }
        rows.push(HeadRow {
            step: f[0].trim().parse().map_err(|_| bad())?,
            layer: f[1].trim().parse().map_err(|_| bad())?,
            head: f[2].trim().parse().map_err(|_| bad())?,
            previous_token: f[3].trim().parse().map_err(|_| bad())?,
            induction: f[4].trim().parse().map_err(|_| bad())?,
        });
    }
    Ok(rows)
}

impl TrainRecord {
    /// (step, score) of one head over the run; `induction` picks which score.
    pub fn head_curve(&self, layer: usize, head: usize, induction: bool) -> Vec<(u64, f64)> {
        self.heads
            .iter()
            .filter(|r| r.layer == layer && r.head == head)
            .map(|r| {
                (
                    r.step,
                    if induction {
                        r.induction
                    } else {
                        r.previous_token
                    },
                )
            })
            .collect()
    }

    /// The first recorded step at which a head's score reached `threshold`,
    /// for every head that did: (layer, head, step, score then).
    pub fn heads_formed(&self, threshold: f64, induction: bool) -> Vec<(usize, usize, u64, f64)> {
        let mut out: Vec<(usize, usize, u64, f64)> = vec![];
        for r in &self.heads {
            let s = if induction {
                r.induction
            } else {
                r.previous_token
            };
            if s >= threshold && !out.iter().any(|o| (o.0, o.1) == (r.layer, r.head)) {
                out.push((r.layer, r.head, r.step, s));
            }
        }
        out.sort_by_key(|o| (o.2, o.0, o.1));
        out
    }
}

/// The score at which a head counts as having become what the score measures
/// (a previous-token or an induction head): about six times what an even
/// spread gives a query on the record's text (1/(t + 1) averaged, ≈ 0.035 on
/// 128 tokens), which no head of a freshly initialised model reaches.
pub const FORMED: f64 = 0.2;

impl TrainRecord {
    /// The steps at which the heads were measured, in order.
    pub fn head_steps(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.heads.iter().map(|r| r.step).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Every head's row at `step`, in (layer, head) order.
    pub fn heads_at(&self, step: u64) -> Vec<&HeadRow> {
        let mut v: Vec<&HeadRow> = self.heads.iter().filter(|r| r.step == step).collect();
        v.sort_by_key(|r| (r.layer, r.head));
        v
    }

    /// The head that reached [`FORMED`] first on a score (ties: lower layer,
    /// then lower head), with the step and the score then.
    pub fn first_formed(&self, induction: bool) -> Option<(usize, usize, u64, f64)> {
        self.heads_formed(FORMED, induction).into_iter().next()
    }
}

/// The file's text, or None when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, RecordError> {
    match crate::embedded::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RecordError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn malformed(path: &Path, line: usize, what: String) -> RecordError {
    RecordError::Malformed {
        path: path.to_path_buf(),
        line,
        what,
    }
}

/// Parses a `train-log.tsv`: a header naming the columns (at least `step` and
/// `train_loss`, in any order), then one tab-separated row per logged step.
/// Empty fields are None; blank lines are skipped.
pub fn parse_log(text: &str, path: &Path) -> Result<Vec<LogRow>, RecordError> {
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.by_ref().find(|(_, l)| !l.trim().is_empty()) else {
        return Err(malformed(
            path,
            1,
            format!(
                "the file is empty; it needs a tab-separated header ({COLUMNS}) — delete the file if the run never started"
            ),
        ));
    };
    let names: Vec<&str> = header.split('\t').map(str::trim).collect();
    let col = |name: &str| names.iter().position(|h| *h == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            malformed(
                path,
                1,
                format!(
                    "the header has no `{name}` column (it has: {}); `gptlens train` writes {COLUMNS}, tab-separated",
                    names.join(", ")
                ),
            )
        })
    };
    let (c_step, c_train) = (need("step")?, need("train_loss")?);
    let optional = [
        col("lr"),
        col("val_loss"),
        col("grad_norm"),
        col("tokens_per_sec"),
    ];
    let mut rows = vec![];
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() > names.len() {
            return Err(malformed(
                path,
                n,
                format!(
                    "{} fields, but the header names {}; each row needs one tab-separated field per column",
                    fields.len(),
                    names.len()
                ),
            ));
        }
        let field = |c: usize| -> Result<Option<f64>, RecordError> {
            let s = fields.get(c).map_or("", |s| s.trim());
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<f64>().map(Some).map_err(|_| {
                malformed(
                    path,
                    n,
                    format!(
                        "`{}` is {s:?}, not a number (leave the field empty when there is no value)",
                        names[c]
                    ),
                )
            })
        };
        let raw = fields.get(c_step).map_or("", |s| s.trim());
        let step = raw.parse::<u64>().map_err(|_| {
            malformed(
                path,
                n,
                format!("the step is {raw:?}; every row needs a whole step number"),
            )
        })?;
        let opt = |c: Option<usize>| c.map_or(Ok(None), field);
        rows.push(LogRow {
            step,
            train_loss: field(c_train)?,
            lr: opt(optional[0])?,
            val_loss: opt(optional[1])?,
            grad_norm: opt(optional[2])?,
            tokens_per_sec: opt(optional[3])?,
        });
    }
    Ok(rows)
}

/// Parses `train-summary.json`.
pub fn parse_summary(text: &str, path: &Path) -> Result<RunSummary, RecordError> {
    serde_json::from_str(text).map_err(|e| {
        malformed(
            path,
            e.line(),
            format!("{e}; `gptlens train` writes this file as a JSON object (fix it or delete it)"),
        )
    })
}

/// Parses the older `train_log.json`: a list of records (or an object holding
/// one) with `loss` or `train_loss`, and optionally `step` (default: the index)
/// and `val_loss`.
pub fn parse_legacy_log(text: &str, path: &Path) -> Result<Vec<LogRow>, RecordError> {
    use serde_json::Value;
    let v: Value = serde_json::from_str(text).map_err(|e| {
        malformed(
            path,
            e.line(),
            format!("{e} (expected a JSON list of records)"),
        )
    })?;
    let has_loss = |r: &Value| r.get("loss").is_some() || r.get("train_loss").is_some();
    let list = match &v {
        Value::Array(a) => Some(a),
        Value::Object(o) => o.values().find_map(|x| match x {
            Value::Array(a) if a.iter().any(has_loss) => Some(a),
            _ => None,
        }),
        _ => None,
    };
    let Some(list) = list else {
        return Err(malformed(
            path,
            1,
            "no list of records with a `loss` or `train_loss` field".into(),
        ));
    };
    Ok(list
        .iter()
        .enumerate()
        .map(|(i, r)| LogRow {
            step: r
                .get("step")
                .and_then(Value::as_f64)
                .map_or(i as u64, |s| s.max(0.0) as u64),
            train_loss: r
                .get("loss")
                .or_else(|| r.get("train_loss"))
                .and_then(Value::as_f64),
            val_loss: r.get("val_loss").and_then(Value::as_f64),
            ..LogRow::default()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "step\tlr\ttrain_loss\tval_loss\tgrad_norm\ttokens_per_sec\n\
        1\t0.000030\t7.6571\t\t2.3881\t5069\n\
        10\t0.000300\t7.2950\t\t1.1933\t7094\n\
        250\t0.002959\t3.8189\t3.727232\t0.5858\t5285\n\
        \n\
        2000\t\t\t2.751371\t\t\n";

    fn p() -> &'static Path {
        Path::new("m/train-log.tsv")
    }

    fn err(r: Result<Vec<LogRow>, RecordError>) -> String {
        match r {
            Ok(rows) => panic!("parsed {rows:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_good_log_keeps_every_field_and_leaves_empty_ones_none() {
        let rows = parse_log(GOOD, p()).expect("parses");
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows[0],
            LogRow {
                step: 1,
                lr: Some(0.00003),
                train_loss: Some(7.6571),
                val_loss: None,
                grad_norm: Some(2.3881),
                tokens_per_sec: Some(5069.0),
            }
        );
        assert_eq!(rows[2].val_loss, Some(3.727232));
        assert_eq!(
            rows[3],
            LogRow {
                step: 2000,
                val_loss: Some(2.751371),
                ..LogRow::default()
            }
        );
        let rec = TrainRecord {
            rows,
            ..TrainRecord::default()
        };
        assert_eq!(rec.losses().len(), 3);
        assert_eq!(rec.val_losses(), vec![(250, 3.727232), (2000, 2.751371)]);
        assert_eq!(rec.final_val(), Some(2.751371));
        assert_eq!(rec.final_train(), Some(3.8189));
    }

    #[test]
    fn columns_are_found_by_name_and_optional_ones_may_be_missing() {
        let rows = parse_log("train_loss\tstep\n5.5\t3\n4\t7\n", p()).expect("parses");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[1].step, rows[1].train_loss, rows[1].lr),
            (7, Some(4.0), None)
        );
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let e = err(parse_log("step\tlr\tloss\n1\t0.1\t5\n", p()));
        assert!(
            e.contains("m/train-log.tsv, line 1") && e.contains("`train_loss`"),
            "{e}"
        );
        let e = err(parse_log("lr\ttrain_loss\n0.1\t5\n", p()));
        assert!(e.contains("`step`") && e.contains("lr, train_loss"), "{e}");
    }

    #[test]
    fn a_garbage_line_is_reported_with_its_line_number() {
        let text = "step\ttrain_loss\n1\t5.0\n2\tfive\n";
        let e = err(parse_log(text, p()));
        assert!(
            e.contains("line 3") && e.contains("\"five\"") && e.contains("train_loss"),
            "{e}"
        );
        let e = err(parse_log("step\ttrain_loss\n1\t5.0\nhello world\n", p()));
        assert!(e.contains("line 3") && e.contains("step"), "{e}");
        let e = err(parse_log("step\ttrain_loss\n1\t5.0\t3\t4\n", p()));
        assert!(e.contains("line 2") && e.contains("4 fields"), "{e}");
    }

    #[test]
    fn an_empty_log_is_an_error_and_a_header_alone_has_no_rows() {
        let e = err(parse_log("", p()));
        assert!(e.contains("empty") && e.contains("header"), "{e}");
        assert!(err(parse_log("\n  \n", p())).contains("empty"));
        assert_eq!(
            parse_log("step\ttrain_loss\n", p()).expect("parses"),
            vec![]
        );
    }

    #[test]
    fn the_summary_reads_partial_files_and_names_bad_ones() {
        let path = Path::new("m/train-summary.json");
        let s = parse_summary(
            r#"{"val_loss": 2.5, "baselines": {"unigram": 6.25, "bigram": 4.75}, "extra": 1}"#,
            path,
        )
        .expect("parses");
        assert_eq!(s.val_loss, Some(2.5));
        assert_eq!(s.baselines.as_ref().and_then(|b| b.bigram), Some(4.75));
        assert_eq!(s.hyper, None);
        let e = parse_summary("{\n\"val_loss\": \"low\"}", path)
            .expect_err("a string loss")
            .to_string();
        assert!(e.contains("m/train-summary.json, line 2"), "{e}");
        assert!(parse_summary("[1, 2", path).is_err());
    }

    #[test]
    fn read_finds_nothing_in_a_bare_folder_and_everything_in_a_trained_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        assert_eq!(TrainRecord::read(tmp.path()).expect("reads"), None);
        std::fs::write(
            tmp.path().join(LEGACY_LOG_FILE),
            r#"[{"loss": 5.5}, {"step": 10, "loss": 4}]"#,
        )
        .expect("write");
        let r = TrainRecord::read(tmp.path())
            .expect("reads")
            .expect("a record");
        assert_eq!(r.losses(), vec![(0, 5.5), (10, 4.0)]);
        std::fs::write(tmp.path().join(LOG_FILE), GOOD).expect("write");
        std::fs::write(
            tmp.path().join(SUMMARY_FILE),
            r#"{"val_loss": 2.7, "hyper": {"lr": 0.003}}"#,
        )
        .expect("write");
        let r = TrainRecord::read(tmp.path())
            .expect("reads")
            .expect("a record");
        assert_eq!(r.rows.len(), 4, "the TSV wins over the older JSON");
        assert_eq!(r.final_val(), Some(2.7), "the summary's loss wins");
        assert_eq!(r.hyper().and_then(|h| h.lr), Some(0.003));
        std::fs::write(tmp.path().join(LOG_FILE), "step\ttrain_loss\n1\tx\n").expect("write");
        let e = TrainRecord::read(tmp.path())
            .expect_err("bad log")
            .to_string();
        assert!(e.contains(LOG_FILE) && e.contains("line 2"), "{e}");
    }

    #[test]
    fn the_heads_record_says_when_each_head_formed_and_names_a_bad_line() {
        let text = "step\tlayer\thead\tprevious_token\tinduction\n\
                    0\t0\t0\t0.05\t0.01\n0\t0\t1\t0.04\t0.01\n\
                    100\t0\t0\t0.61\t0.02\n100\t0\t1\t0.20\t0.01\n\
                    200\t0\t0\t0.80\t0.02\n200\t0\t1\t0.55\t0.45\n";
        let rows = parse_heads(text, p()).expect("parses");
        let rec = TrainRecord {
            heads: rows,
            ..TrainRecord::default()
        };
        assert_eq!(
            rec.heads_formed(0.5, false),
            vec![(0, 0, 100, 0.61), (0, 1, 200, 0.55)]
        );
        assert_eq!(rec.heads_formed(0.5, true), vec![]);
        assert_eq!(
            rec.head_curve(0, 1, true),
            vec![(0, 0.01), (100, 0.01), (200, 0.45)]
        );
        let bad = parse_heads(
            "step\tlayer\thead\tprevious_token\tinduction\n5\t0\tx\t0.1\t0.1\n",
            p(),
        );
        let e = bad.unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("5 tab-separated"), "{e}");
        assert!(
            parse_heads("", p())
                .unwrap_err()
                .to_string()
                .contains("header")
        );
    }
    /// The shipped classroom model (tiny-models/classroom, also built in):
    /// its record parses, every head was measured from step 0, and a head of
    /// layer 0 became a previous-token head (the training lesson shows it).
    #[test]
    fn the_shipped_classroom_record_has_a_previous_token_head_in_layer_0() {
        let dirs = [
            crate::paths::tiny_models_dir().join("classroom"),
            crate::embedded::dir("classroom").expect("the classroom model is built in"),
        ];
        for dir in dirs {
            let r = TrainRecord::read(&dir)
                .expect("reads")
                .unwrap_or_else(|| panic!("no record in {}", dir.display()));
            let steps = r.head_steps();
            assert_eq!(steps.first(), Some(&0), "{}", dir.display());
            assert_eq!(steps.last(), r.rows.last().map(|l| &l.step));
            for &st in &steps {
                assert_eq!(r.heads_at(st).len(), 8, "2 layers × 4 heads at step {st}");
            }
            let start = r.heads_at(0);
            assert!(start.iter().all(|h| h.previous_token < FORMED));
            let (l, h, step, score) = r.first_formed(false).expect("a previous-token head");
            assert_eq!((l, h), (0, 3), "{:?}", r.heads_formed(FORMED, false));
            assert!(step > 0 && score >= FORMED);
            assert_eq!(r.first_formed(true), None, "no induction head in 2 layers");
            let (v, b) = (
                r.final_val().expect("val"),
                r.baselines().expect("baselines"),
            );
            assert!(v < b.bigram.expect("bigram"), "{v}");
            assert_eq!(r.hyper().and_then(|h| h.steps), Some(4000));
        }
    }
}
