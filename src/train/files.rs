//! Files a run leaves, and the ones it must not leave: the output folder is
//! removed again when the command that created it fails, writes go through a
//! temporary name that is cleaned up on error, and a resumed log forgets the
//! rows written after its checkpoint.

use std::path::{Path, PathBuf};

use super::TrainError;

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
    move |e| TrainError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// A folder this command created (with any parents it had to create): removed
/// when dropped, unless [`CreatedDir::keep`] was called. So a failed command
/// leaves nothing behind, and a folder that existed before is never touched.
#[must_use]
pub struct CreatedDir {
    /// The topmost folder that did not exist before; None once kept (or when
    /// the folder existed already).
    remove: Option<PathBuf>,
}

impl CreatedDir {
    /// Creates `dir` (and missing parents).
    pub fn create(dir: &Path) -> Result<Self, TrainError> {
        let remove = if dir.exists() {
            None
        } else {
            // The outermost missing ancestor is what this call creates.
            let mut top = dir.to_path_buf();
            for a in dir.ancestors().skip(1) {
                if a.as_os_str().is_empty() || a.exists() {
                    break;
                }
                top = a.to_path_buf();
            }
            Some(top)
        };
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        Ok(CreatedDir { remove })
    }

    /// The command succeeded (or kept something worth keeping): leave the folder.
    pub fn keep(&mut self) {
        self.remove = None;
    }
}

impl Drop for CreatedDir {
    fn drop(&mut self) {
        if let Some(p) = self.remove.take() {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
}

/// `path` with `.tmp` appended.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Runs `write` on `path`'s temporary name and returns that name; on error the
/// temporary file is removed (a full disk leaves no `.tmp` behind).
pub(crate) fn write_tmp(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), TrainError>,
) -> Result<PathBuf, TrainError> {
    let tmp = tmp_path(path);
    match write(&tmp) {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Moves a temporary file written by [`write_tmp`] to its name (removing it if
/// that fails).
pub(crate) fn commit(tmp: &Path, path: &Path) -> Result<(), TrainError> {
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        io_err(path)(e)
    })
}

/// Writes `path` through a temporary name, so a reader never sees half a file.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    let tmp = write_tmp(path, write)?;
    commit(&tmp, path)
}

/// The text of `train-log.tsv` without the rows a killed run wrote after its
/// checkpoint at `step` (and any torn last line): the rows of steps before it,
/// and the training row of `step` itself (not a final-validation row, which the
/// resumed run writes again).
pub(crate) fn log_up_to(text: &str, step: u64) -> String {
    let mut out = String::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i == 0 {
            out.push_str(line);
            continue;
        }
        let fields: Vec<&str> = line.trim_end_matches('\n').split('\t').collect();
        let keep = line.ends_with('\n')
            && fields.len() == 6
            && match fields[0].parse::<u64>() {
                Ok(s) => s < step || (s == step && !fields[2].is_empty()),
                Err(_) => false,
            };
        if keep {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_folder_goes_unless_kept_and_an_old_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b/c");
        {
            let _g = CreatedDir::create(&nested).unwrap();
            std::fs::write(nested.join("f"), "x").unwrap();
        }
        assert!(!dir.path().join("a").exists());
        {
            let mut g = CreatedDir::create(&nested).unwrap();
            g.keep();
        }
        assert!(nested.is_dir());
        {
            let _g = CreatedDir::create(&nested).unwrap();
        }
        assert!(nested.is_dir(), "an existing folder is not removed");
    }

    #[test]
    fn a_failed_write_leaves_no_tmp_and_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        let r = write_atomic(&p, |tmp| {
            std::fs::write(tmp, "half").unwrap();
            Err(TrainError::Input("disk full".into()))
        });
        assert!(r.is_err());
        assert!(!tmp_path(&p).exists() && !p.exists());
        write_atomic(&p, |tmp| std::fs::write(tmp, "ok").map_err(io_err(tmp))).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "ok");
        assert!(!tmp_path(&p).exists());
    }

    #[test]
    fn a_resumed_log_keeps_the_rows_up_to_its_checkpoint() {
        let head = "step\tlr\ttrain_loss\tval_loss\tgrad_norm\ttokens_per_sec\n";
        let text = format!(
            "{head}1\t0.1\t5.0\t\t1.0\t100\n10\t0.1\t4.0\t\t1.0\t100\n20\t0.1\t3.0\t3.5\t1.0\t100\n20\t\t\t3.4\t\t\n30\t0.1\t2.0\t\t1.0\t100\n4"
        );
        assert_eq!(
            log_up_to(&text, 20),
            format!(
                "{head}1\t0.1\t5.0\t\t1.0\t100\n10\t0.1\t4.0\t\t1.0\t100\n20\t0.1\t3.0\t3.5\t1.0\t100\n"
            )
        );
        assert_eq!(log_up_to(&text, 0), head);
    }
}
