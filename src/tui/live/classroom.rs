//! The classroom run a lesson step offers (`run: classroom`): this program's
//! own `train --live --preset classroom` into a fresh temporary folder, in
//! the terminal the lesson player gives up while it runs
//! ([`crate::tui::run::External`]). Its messages go to a log in that folder,
//! whose last word the lesson's status line shows with the folder's name.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{MIN_HEIGHT, MIN_WIDTH};
use crate::i18n::{Lang, Msg};
use crate::tui::run::External;

/// The TinyStories files the preset trains on.
pub const TRAIN_FILE: &str = "tinystories_train.txt";
pub const VALID_FILE: &str = "tinystories_valid.txt";

/// Where the corpus is looked for: `$GPTLENS_CORPUS` alone when it is set,
/// else `shared/corpus` and `../shared/corpus` from the current folder, then
/// beside the source tree this program was built from.
pub fn corpus_dirs() -> Vec<PathBuf> {
    if let Some(d) = std::env::var_os("GPTLENS_CORPUS") {
        return vec![PathBuf::from(d)];
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    vec![
        PathBuf::from("shared/corpus"),
        PathBuf::from("../shared/corpus"),
        src.join("../shared/corpus"),
    ]
}

/// The training text (and the validation text, when it is there) in the
/// first of `dirs` that has the training text; else a sentence saying where
/// it was looked for and how to point at it.
pub fn find_corpus(dirs: &[PathBuf]) -> Result<(PathBuf, Option<PathBuf>), String> {
    for d in dirs {
        let train = d.join(TRAIN_FILE);
        if train.is_file() {
            let valid = Some(d.join(VALID_FILE)).filter(|v| v.is_file());
            return Ok((train, valid));
        }
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(format!(
        "the classroom run needs the TinyStories text ({TRAIN_FILE}), which is not in {}: set GPTLENS_CORPUS to the folder that holds it",
        looked.join(", ")
    ))
}

/// A folder of our own under the temporary folder (created here, so no
/// other run's or user's files are touched).
fn fresh_folder() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    let pid = std::process::id();
    for n in 0..1000 {
        let d = base.join(format!("gptlens-classroom-{pid}-{n}"));
        match std::fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "cannot make a folder for the run in {}: {e}",
                    base.display()
                ));
            }
        }
    }
    Err(format!(
        "cannot make a folder for the run in {}: too many left from earlier runs",
        base.display()
    ))
}

/// The line of the run's log worth showing: how it ended, else its last.
fn ending(log: &str) -> Option<&str> {
    let lines = || log.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .rev()
        .find(|l| l.starts_with("done:") || l.starts_with("interrupted"))
        .or_else(|| lines().next_back())
}

/// The classroom run as a program for the terminal loop, or why it cannot
/// start here (the terminal too small for the live screen, no corpus), in
/// the lesson's language.
pub fn external(lang: Lang) -> Result<External, String> {
    let (w, h) = ratatui::crossterm::terminal::size()
        .map_err(|e| format!("cannot read the terminal's size ({e})"))?;
    if w < MIN_WIDTH || h < MIN_HEIGHT {
        return Err(Msg::StatusClassroomTooSmall.fill(lang, &[&w, &h, &MIN_WIDTH, &MIN_HEIGHT]));
    }
    let (train, valid) = find_corpus(&corpus_dirs())?;
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to start the run: {e}"))?;
    let dir = fresh_folder()?;
    let out = dir.join("classroom");
    let log = dir.join("train.log");
    let log_file =
        std::fs::File::create(&log).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let mut command = Command::new(exe);
    command
        .args([
            "train",
            "--live",
            "--preset",
            "classroom",
            "--lang",
            lang.code(),
        ])
        .arg("--corpus")
        .arg(&train);
    if let Some(v) = &valid {
        command.arg("--valid").arg(v);
    }
    command.arg("--out").arg(&out).stderr(log_file);
    let after = move |ended: std::io::Result<std::process::ExitStatus>| {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let said = ending(&text)
            .unwrap_or(Msg::StatusClassroomNoMessages.get(lang))
            .to_string();
        match ended {
            Err(e) => Msg::StatusClassroomNoStart.fill(lang, &[&e]),
            Ok(s) if s.success() => Msg::StatusClassroomDone.fill(lang, &[&out.display(), &said]),
            Ok(s) => Msg::StatusClassroomFailed.fill(lang, &[&s, &said, &log.display()]),
        }
    };
    Ok(External {
        command,
        after: Box::new(after),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_the_first_folder_with_the_training_text() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let dirs = vec![a.path().to_path_buf(), b.path().to_path_buf()];
        let e = find_corpus(&dirs).expect_err("no corpus yet");
        assert!(
            e.contains("GPTLENS_CORPUS") && e.contains(&a.path().display().to_string()),
            "{e}"
        );
        std::fs::write(b.path().join(TRAIN_FILE), "x").expect("write");
        assert_eq!(find_corpus(&dirs), Ok((b.path().join(TRAIN_FILE), None)));
        std::fs::write(b.path().join(VALID_FILE), "y").expect("write");
        std::fs::write(a.path().join(VALID_FILE), "y").expect("write");
        assert_eq!(
            find_corpus(&dirs),
            Ok((b.path().join(TRAIN_FILE), Some(b.path().join(VALID_FILE))))
        );
    }

    #[test]
    fn the_status_shows_how_the_run_ended() {
        let log = "tokenizing: 100%\nstep 3\ninterrupted at step 3/4000; checkpoint written.\nthe live view used 0.10 CPU-s, 1.0% of training's 10.0 CPU-s\n";
        assert_eq!(
            ending(log),
            Some("interrupted at step 3/4000; checkpoint written.")
        );
        assert_eq!(ending("a\n\nb\n"), Some("b"));
        assert_eq!(ending(""), None);
    }
}
