//! A run watched live: [`LiveWatcher`] sits in the training loop and turns
//! what happens there into [`LiveEvent`]s on a channel; a front end (the
//! `train --live` screen) draws them. No terminal in here.
//!
//! The training thread pays only for a copy of the weights, at most twice a
//! second; a probe thread runs the probe through the copy (the attention of
//! every head, the heads' scores, a greedy continuation) while training goes
//! on, on a one-thread pool of its own. Copies are spaced so that the probe
//! takes at most 1/40 of a core (a slower probe is run less often), and the
//! heads' scores, its dearest part, are measured on every fourth probe.
//! [`CpuTally`] adds up the watching threads' CPU time, so that the front end
//! can say what watching cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::time::{Duration, Instant};

use super::{Progress, RunStart, Trainer, Watcher};
use crate::model::{Gpt, Interventions};
use crate::readout::heads::{self, HeadScores};
use crate::sample::Sampling;
use crate::tokenizer::Tokenizer;

/// Tokens of greedy continuation shown after the probe.
pub const CONTINUATION: usize = 20;
/// At most one weight copy per this interval.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(500);
/// And at most one per this many times the last probe took: the probe then
/// takes at most 1/40 of one core (about 1% of a two-core run's CPU).
const PROBE_SHARE: u32 = 40;
/// The heads' scores (two passes over a full context) are measured on every
/// this-many-th probe only; the probes between show the last ones.
const SCORES_EVERY: u64 = 4;

/// What the live screen is told.
#[derive(Debug)]
pub enum LiveEvent {
    /// Once, before the first step.
    Begin(LiveStart),
    /// After every step.
    Step(super::Progress),
    /// The probe run through the weights of `step`.
    Probe(Box<ProbeView>),
}

/// What the live screen needs to know before the first step.
#[derive(Clone, Debug)]
pub struct LiveStart {
    pub steps: u64,
    pub first_step: u64,
    pub n_layer: usize,
    pub n_head: usize,
    pub vocab: usize,
    /// Unigram and bigram validation losses (None without validation text).
    pub baselines: Option<(f64, f64)>,
    /// The probe's tokens as shown (one label per token).
    pub probe: Vec<String>,
}

/// The probe through one snapshot of the weights.
#[derive(Clone, Debug)]
pub struct ProbeView {
    pub step: u64,
    /// Attention weights of the probe, `[layer][head][query][key]` (row t
    /// holds keys 0..=t).
    pub probs: Vec<Vec<Vec<Vec<f32>>>>,
    /// Every head's previous-token and induction score (the training record's
    /// measure, [`crate::readout::heads`]).
    pub scores: HeadScores,
    /// The greedy continuation of the probe, as text.
    pub continuation: String,
}

/// The front end's controls, shared with the training thread.
#[derive(Debug, Default)]
pub struct LiveControls {
    pub paused: AtomicBool,
    pub checkpoint: AtomicBool,
    /// CPU time of the probe's thread (here).
    pub probe_cpu: CpuTally,
    /// CPU time of the live screen's threads (drawing, keys, events).
    pub screen_cpu: CpuTally,
    /// How long the last probe took, in microseconds (it spaces the next).
    pub probe_micros: AtomicU64,
}

/// CPU seconds spent by the threads that watch a run rather than train it,
/// each adding its own: what watching costs, against the process's total.
/// Per-thread times come from Linux's /proc; elsewhere nothing is counted.
#[derive(Debug, Default)]
pub struct CpuTally {
    micros: AtomicU64,
}

impl CpuTally {
    /// Runs `f` on this thread and adds the CPU time it took.
    pub fn count<T>(&self, f: impl FnOnce() -> T) -> T {
        let before = thread_cpu_secs();
        let out = f();
        if let (Some(a), Some(b)) = (before, thread_cpu_secs()) {
            self.micros
                .fetch_add(((b - a).max(0.0) * 1e6) as u64, Ordering::Relaxed);
        }
        out
    }

    pub fn secs(&self) -> f64 {
        self.micros.load(Ordering::Relaxed) as f64 / 1e6
    }
}

/// /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 a second.
const TICKS_PER_SEC: f64 = 100.0;

/// User + system CPU seconds of the calling thread so far.
pub fn thread_cpu_secs() -> Option<f64> {
    stat_cpu_secs(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)
}

/// User + system CPU seconds of the whole process so far, every thread
/// (ended ones included).
pub fn process_cpu_secs() -> Option<f64> {
    stat_cpu_secs(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// utime + stime (fields 14 and 15) of a /proc `stat` line, in seconds. The
/// command name (field 2) may hold spaces and parentheses, so the fields are
/// counted after its last `)`.
pub fn stat_cpu_secs(line: &str) -> Option<f64> {
    let rest = &line[line.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: field 3 (state) is f[0], so field n is f[n - 3].
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SEC)
}

/// Sits in the training loop (see the module doc).
pub struct LiveWatcher {
    probe_text: String,
    events: Sender<LiveEvent>,
    controls: Arc<LiveControls>,
    /// Weight copies for the probe thread; a full slot drops the copy
    /// (the probe thread is still busy with the last one).
    to_probe: Option<SyncSender<(u64, Gpt)>>,
    last_snapshot: Option<Instant>,
}

impl LiveWatcher {
    /// A watcher for `probe_text`; the front end reads `events` and sets `controls`.
    pub fn new(probe_text: &str, controls: Arc<LiveControls>) -> (Self, Receiver<LiveEvent>) {
        let (tx, rx) = mpsc::channel();
        let w = LiveWatcher {
            probe_text: probe_text.to_string(),
            events: tx,
            controls,
            to_probe: None,
            last_snapshot: None,
        };
        (w, rx)
    }

    fn snapshot(&mut self, trainer: &Trainer, step: u64) {
        if let Some(tx) = &self.to_probe {
            // Dropped when the probe thread is busy: the next one comes soon.
            let _ = tx.try_send((step, trainer.gpt()));
        }
        self.last_snapshot = Some(Instant::now());
    }
}

impl Watcher for LiveWatcher {
    fn begin(&mut self, start: &RunStart) -> Result<(), String> {
        let tok = start.tokenizer.clone();
        let probe = tok
            .encode(&self.probe_text)
            .map_err(|e| format!("the probe text cannot be tokenized: {e}"))?;
        let room = start.hyper.n_ctx.saturating_sub(CONTINUATION);
        if probe.is_empty() || probe.len() > room {
            return Err(format!(
                "the probe is {} tokens; this model's context ({} tokens) holds at most {room} with the {CONTINUATION} tokens continued after it: give a shorter --probe",
                probe.len(),
                start.hyper.n_ctx
            ));
        }
        let _ = self.events.send(LiveEvent::Begin(LiveStart {
            steps: start.hyper.steps,
            first_step: start.step,
            n_layer: start.hyper.n_layer,
            n_head: start.hyper.n_head,
            vocab: start.hyper.vocab_size,
            baselines: start.baselines.map(|b| (b.unigram, b.bigram)),
            probe: probe.iter().map(|&i| tok.token_display(i)).collect(),
        }));
        let (tx, rx) = mpsc::sync_channel::<(u64, Gpt)>(1);
        let events = self.events.clone();
        let (p, t, text) = (probe.clone(), tok.clone(), start.probe_text.clone());
        let controls = self.controls.clone();
        std::thread::spawn(move || {
            // The probe's passes run on a pool of their own, so that their
            // CPU time is the probe's (counted) and not the training pool's.
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| "live-probe".into())
                .build()
                .ok();
            let mut last_scores: Option<HeadScores> = None;
            let mut n = 0u64;
            while let Ok((step, gpt)) = controls.probe_cpu.count(|| rx.recv()) {
                let began = Instant::now();
                let again = last_scores
                    .clone()
                    .filter(|_| !n.is_multiple_of(SCORES_EVERY));
                let job = || {
                    controls
                        .probe_cpu
                        .count(|| probe_view(&gpt, &t, &p, &text, step, again))
                };
                let view = match &pool {
                    Some(pool) => pool.install(job),
                    None => job(),
                };
                n += 1;
                let took = began.elapsed().as_micros().min(u64::MAX as u128) as u64;
                controls.probe_micros.store(took, Ordering::Relaxed);
                if let Some(view) = view {
                    last_scores = Some(view.scores.clone());
                    if events.send(LiveEvent::Probe(Box::new(view))).is_err() {
                        return;
                    }
                }
            }
        });
        self.to_probe = Some(tx);
        Ok(())
    }

    fn after_step(&mut self, trainer: &Trainer, p: &Progress) {
        let _ = self.events.send(LiveEvent::Step(p.clone()));
        let probe = Duration::from_micros(self.controls.probe_micros.load(Ordering::Relaxed));
        let every = SNAPSHOT_EVERY.max(probe * PROBE_SHARE);
        let due = self.last_snapshot.is_none_or(|t| t.elapsed() >= every);
        if due || p.step == p.steps {
            self.snapshot(trainer, p.step);
        }
    }

    fn paused(&self) -> bool {
        self.controls.paused.load(Ordering::SeqCst)
    }

    fn checkpoint_requested(&mut self) -> bool {
        self.controls.checkpoint.swap(false, Ordering::SeqCst)
    }
}

/// The probe through `gpt`: what the live screen draws of one snapshot; the
/// heads' scores as the training record measures them (on `text`), unless
/// `scores` brings the last ones to show again.
pub fn probe_view(
    gpt: &Gpt,
    tok: &Tokenizer,
    probe: &[u32],
    text: &[u32],
    step: u64,
    scores: Option<HeadScores>,
) -> Option<ProbeView> {
    let trace = gpt.trace(probe, &Interventions::default()).ok()?;
    let probs = trace.layers.iter().map(|l| l.probs.clone()).collect();
    let text = (!text.is_empty()).then_some(text);
    let scores = match scores {
        Some(s) => s,
        None => heads::measure(gpt, text, None, super::heads::PROBE_SEED).ok()?,
    };
    let cont = crate::readout::generate::continuation(
        gpt,
        probe,
        CONTINUATION,
        &Sampling::greedy(),
        0,
        tok.end_of_text(),
    )
    .ok()?;
    Some(ProbeView {
        step,
        probs,
        scores,
        continuation: tok.decode(&cont),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_user_plus_system_time_whatever_the_name() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
        // majflt cmajflt utime stime …
        let line =
            "4242 (live) probe (x)) S 1 4242 4242 0 -1 4194304 120 0 0 0 250 37 0 0 20 0 3 0";
        assert_eq!(stat_cpu_secs(line), Some(2.87));
        assert_eq!(stat_cpu_secs("4242 (gptlens) S 1 2"), None);
        assert_eq!(stat_cpu_secs("no name here"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_has_spent_at_least_what_this_thread_has() {
        let tally = CpuTally::default();
        let (t, p) = tally.count(|| (thread_cpu_secs(), process_cpu_secs()));
        let (t, p) = (t.expect("thread"), p.expect("process"));
        assert!(t >= 0.0 && p >= t, "thread {t} process {p}");
        assert!(tally.secs() >= 0.0);
    }
}
