//! A run watched live: [`LiveWatcher`] sits in the training loop and turns
//! what happens there into [`LiveEvent`]s on a channel; a front end (the
//! `train --live` screen) draws them. No terminal in here.
//!
//! The training thread pays only for a copy of the weights, at most twice a
//! second; a probe thread runs the probe through the copy (the attention of
//! every head, the heads' scores, a greedy continuation) while training goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
        std::thread::spawn(move || {
            while let Ok((step, gpt)) = rx.recv() {
                if let Some(view) = probe_view(&gpt, &t, &p, &text, step)
                    && events.send(LiveEvent::Probe(Box::new(view))).is_err()
                {
                    return;
                }
            }
        });
        self.to_probe = Some(tx);
        Ok(())
    }

    fn after_step(&mut self, trainer: &Trainer, p: &Progress) {
        let _ = self.events.send(LiveEvent::Step(p.clone()));
        let due = self
            .last_snapshot
            .is_none_or(|t| t.elapsed() >= SNAPSHOT_EVERY);
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
/// heads' scores as the training record measures them (on `text`).
pub fn probe_view(
    gpt: &Gpt,
    tok: &Tokenizer,
    probe: &[u32],
    text: &[u32],
    step: u64,
) -> Option<ProbeView> {
    let trace = gpt.trace(probe, &Interventions::default()).ok()?;
    let probs = trace.layers.iter().map(|l| l.probs.clone()).collect();
    let text = (!text.is_empty()).then_some(text);
    let scores = heads::measure(gpt, text, None, super::heads::PROBE_SEED).ok()?;
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
