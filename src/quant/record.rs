//! The compression record a model folder may ship (`compression.tsv`,
//! written by `scripts/compression-record.sh`): what each format and each
//! pruning sparsity cost the model in accuracy, as `gptlens eval
//! --reference` measured it. The `compression` lesson reads it; a folder
//! without one has no record, and a broken line is named.

use std::path::Path;

/// The record's file name in a model folder.
pub const RECORD_FILE: &str = "compression.tsv";

const HEADER: [&str; 7] = [
    "what",
    "setting",
    "bits_per_weight",
    "perplexity",
    "perplexity_change",
    "mean_kl",
    "top1_agreement",
];

/// One measured variant of the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// `quant` or `prune`.
    pub what: String,
    /// The format (`Q4_0`) or the sparsity (`0.5`).
    pub setting: String,
    pub bits_per_weight: f64,
    pub perplexity: f64,
    /// exp(loss − reference loss) − 1.
    pub perplexity_change: f64,
    /// Mean KL(reference ‖ model) per position, nats.
    pub mean_kl: f64,
    /// Share of positions whose top token is the reference's.
    pub top1_agreement: f64,
}

/// Reads `dir`'s record: None when there is none, Err naming the file and
/// line when it is malformed.
pub fn read(dir: &Path) -> Result<Option<Vec<Measured>>, String> {
    let path = dir.join(RECORD_FILE);
    let text = match crate::embedded::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    parse(&text)
        .map(Some)
        .map_err(|(line, why)| format!("{}:{line}: {why}", path.display()))
}

/// The record's rows; Err((line, why)).
pub fn parse(text: &str) -> Result<Vec<Measured>, (usize, String)> {
    let mut rows = vec![];
    let mut header = false;
    for (i, line) in text.lines().enumerate() {
        let ln = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if !header {
            if f != HEADER {
                return Err((ln, format!("expected the header {}", HEADER.join(" "))));
            }
            header = true;
            continue;
        }
        if f.len() != HEADER.len() {
            return Err((ln, format!("{} fields, expected {}", f.len(), HEADER.len())));
        }
        let num = |k: usize| -> Result<f64, (usize, String)> {
            f[k].trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| (ln, format!("{} is `{}`, not a number", HEADER[k], f[k])))
        };
        rows.push(Measured {
            what: f[0].to_string(),
            setting: f[1].to_string(),
            bits_per_weight: num(2)?,
            perplexity: num(3)?,
            perplexity_change: num(4)?,
            mean_kl: num(5)?,
            top1_agreement: num(6)?,
        });
    }
    if !header {
        return Err((1, format!("no header line ({})", HEADER.join(" "))));
    }
    Ok(rows)
}

/// The row of `what` with `setting` (case-insensitive).
pub fn find<'a>(rows: &'a [Measured], what: &str, setting: &str) -> Option<&'a Measured> {
    rows.iter()
        .find(|r| r.what == what && r.setting.eq_ignore_ascii_case(setting))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "# a comment\nwhat\tsetting\tbits_per_weight\tperplexity\tperplexity_change\tmean_kl\ttop1_agreement\nquant\tQ8_0\t8.5\t10.467\t-5e-6\t0.00015\t0.992\nprune\t0.5\t32\t12.74\t0.217\t0.25\t0.723\n";

    #[test]
    fn reads_rows_and_names_a_broken_line() {
        let rows = parse(OK).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(find(&rows, "quant", "q8_0").unwrap().top1_agreement, 0.992);
        assert_eq!(find(&rows, "prune", "0.5").unwrap().perplexity, 12.74);
        let bad = OK.replace("12.74", "twelve");
        let (line, why) = parse(&bad).unwrap_err();
        assert_eq!(line, 4);
        assert!(why.contains("perplexity is `twelve`"), "{why}");
        assert_eq!(parse("quant\tQ8_0\n").unwrap_err().0, 1);
        assert!(
            parse(&OK.replace("\t0.723", ""))
                .unwrap_err()
                .1
                .contains("6 fields")
        );
    }

    #[test]
    fn the_built_in_models_record_has_every_format_and_sparsity() {
        let dir = crate::paths::default_model_dir();
        let rows = read(&dir)
            .unwrap()
            .expect("tiny-models/tinystories/compression.tsv");
        for f in ["F32", "Q8_0", "Q4_1", "Q4_0"] {
            assert!(find(&rows, "quant", f).is_some(), "{f}");
        }
        for s in 1..=9 {
            assert!(find(&rows, "prune", &format!("0.{s}")).is_some(), "0.{s}");
        }
        let f32 = find(&rows, "quant", "F32").unwrap();
        assert_eq!(
            (f32.perplexity_change, f32.mean_kl, f32.top1_agreement),
            (0.0, 0.0, 1.0)
        );
        // Fewer bits cost more; more zeros cost more.
        let q = |s| find(&rows, "quant", s).unwrap().perplexity;
        assert!(q("Q8_0") < q("Q4_1") && q("Q4_1") < q("Q4_0"));
        let p: Vec<f64> = (1..=9)
            .map(|s| find(&rows, "prune", &format!("0.{s}")).unwrap().perplexity)
            .collect();
        assert!(p.windows(2).all(|w| w[0] < w[1]), "{p:?}");
        assert!(read(Path::new("/nonexistent")).unwrap().is_none());
    }
}
