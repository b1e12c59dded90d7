//! The explorer's state: the session, what is selected, how it looks, and the
//! engine work waiting to run. Views read it; `event` changes it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::layout::Rect;

use super::heatmap::{Geometry, Theme};
use crate::model::{Gpt, Interventions, ModelError, Trace};
use crate::pass::{Point, Stage, View, points};
use crate::readout::embedding::{self, Projection};
use crate::readout::lens;
use crate::rng::Rng;
use crate::sample::{BeamResult, BeamSettings, Pick, Sampling, beam_search, pick};
use crate::session::{SHOWN_CANDIDATES, Session};
use crate::train::record::TrainRecord;

/// Which part of the screen a mouse click landed on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hit {
    Token(usize),
    Head(usize),
    View(crate::pass::View),
    /// A heatmap whose rows are query positions and columns keys.
    AttnCells(Geometry),
    /// A heatmap whose rows are positions.
    PositionRows(Geometry),
    /// A list whose i-th line (from the rect's top) is item `first + i`.
    ListRows {
        first: usize,
    },
}

/// Engine work that may take longer than a frame.
#[derive(Clone, Debug)]
pub enum Job {
    /// Pick and append the next token.
    NextToken,
    /// Recompute the trace with the interventions.
    Intervene(Interventions),
    /// Run beam search from the current tokens.
    Beam(BeamSettings),
    /// Nearest tokens to a token's embedding.
    Nearest(u32),
    /// Logit lens of these residual rows (one per layer boundary).
    Lens(LensKey, Vec<Vec<f32>>, bool),
}

/// The result of a [`Job`], handed back to the UI thread.
pub enum JobOutput {
    Appended(Box<Session>, Result<(), ModelError>),
    Intervened(Interventions, Vec<u32>, Result<Box<Trace>, ModelError>),
    Beamed(Vec<u32>, Result<BeamResult, ModelError>),
    Nearest(u32, Vec<(u32, f32)>),
    Lens(LensKey, Vec<Vec<(u32, f32)>>),
}

/// A job ready to run on any thread.
pub type Work = Box<dyn FnOnce() -> JobOutput + Send>;

/// What a logit lens was computed for: (position, tokens, intervened trace).
pub type LensKey = (usize, usize, bool);
/// Logit lens lists, one per layer boundary, with their key.
pub type LensCache = (LensKey, Vec<Vec<(u32, f32)>>);

/// How the explorer was asked to start.
#[derive(Clone, Debug)]
pub struct Options {
    pub theme: Theme,
    pub sampling: Sampling,
    pub seed: u64,
}

/// The explorer's whole state.
pub struct App {
    /// None only while a step runs on the worker thread.
    pub session: Option<Session>,
    pub gpt: Arc<Gpt>,
    /// Raw (untrusted) text of every token id.
    pub vocab: Vec<String>,
    pub theme: Theme,
    pub pass: Vec<Point>,
    /// Index into `pass`: the point of the pass shown.
    pub at: usize,
    pub layer: usize,
    pub head: usize,
    /// Selected position (the query row in attention).
    pub pos: usize,
    /// Selected item inside the view: key, dimension, neuron or candidate.
    pub cell: usize,
    pub view: View,
    pub zoom: bool,
    pub help: bool,
    pub sampling: Sampling,
    pub iv: Interventions,
    /// The trace recomputed with `iv` (None when no intervention is active).
    pub alt: Option<Trace>,
    pub beam_on: bool,
    pub beam: Option<BeamResult>,
    /// What the sampling settings would pick now.
    pub preview: Option<Pick>,
    /// Same, read off the intervened logits.
    pub alt_preview: Option<Pick>,
    pub nearest: Option<(u32, Vec<(u32, f32)>)>,
    /// Logit lens at (pos, tokens.len()): one top list per layer boundary.
    pub lens: Option<LensCache>,
    pending_nearest: Option<u32>,
    tokens_while_busy: Vec<u32>,
    pending_lens: Option<LensKey>,
    pub projection: Projection,
    pub jobs: Vec<Job>,
    /// A short message for the hint bar (errors, "nothing to undo").
    pub status: Option<String>,
    pub hits: Vec<(Rect, Hit)>,
    pub dirty: bool,
    pub quit: bool,
    /// Set while a job runs off the UI thread: what it is doing.
    pub busy: Option<&'static str>,
    /// The model folder, when the model came from one (the training view reads it).
    pub model_dir: Option<PathBuf>,
    /// Its training record, read once in [`App::set_model_dir`]: None when the
    /// folder has none, Err(why) when it cannot be read.
    pub train_record: Result<Option<TrainRecord>, String>,
}

impl App {
    pub fn new(
        gpt: Arc<Gpt>,
        vocab: Vec<String>,
        prompt: &[u32],
        opts: Options,
    ) -> Result<App, ModelError> {
        let session = Session::new(gpt.clone(), prompt, opts.sampling.clone(), opts.seed)?;
        let projection = Projection::new(&gpt, 2000);
        let pos = session.tokens.len().saturating_sub(1);
        let mut app = App {
            pass: points(gpt.config.n_layer),
            session: Some(session),
            gpt,
            vocab,
            theme: opts.theme,
            at: 0,
            layer: 0,
            head: 0,
            pos,
            cell: 0,
            view: View::Embeddings,
            zoom: false,
            help: false,
            sampling: opts.sampling,
            iv: Interventions::default(),
            alt: None,
            beam_on: false,
            beam: None,
            preview: None,
            alt_preview: None,
            nearest: None,
            lens: None,
            pending_nearest: None,
            tokens_while_busy: vec![],
            pending_lens: None,
            projection,
            jobs: vec![],
            status: None,
            hits: vec![],
            dirty: true,
            quit: false,
            busy: None,
            model_dir: None,
            train_record: Ok(None),
        };
        app.refresh();
        Ok(app)
    }

    /// Records where the model came from and reads its training record (once:
    /// views draw from the copy kept here).
    pub fn set_model_dir(&mut self, dir: &Path) {
        self.model_dir = Some(dir.to_path_buf());
        self.train_record = TrainRecord::read(dir).map_err(|e| e.to_string());
        self.dirty = true;
    }

    pub fn current(&self) -> Point {
        self.pass[self.at.min(self.pass.len() - 1)]
    }

    pub fn stage(&self) -> Stage {
        self.current().stage
    }

    /// The session's tokens (while a step runs off-thread: as they were).
    pub fn tokens(&self) -> &[u32] {
        self.session
            .as_ref()
            .map_or(&self.tokens_while_busy, |s| &s.tokens)
    }

    /// The normal trace.
    pub fn trace(&self) -> Option<&Trace> {
        self.session.as_ref().map(|s| &s.trace)
    }

    /// The trace views draw: the intervened one when interventions are active.
    pub fn shown_trace(&self) -> Option<&Trace> {
        if self.iv.is_active() {
            self.alt.as_ref().or(self.trace())
        } else {
            self.trace()
        }
    }

    /// Raw text of a token id ("<id?>" for an id outside the vocabulary).
    pub fn token_text(&self, id: u32) -> &str {
        self.vocab.get(id as usize).map_or("<?>", |s| s.as_str())
    }

    pub fn n_layer(&self) -> usize {
        self.gpt.config.n_layer
    }

    pub fn n_head(&self) -> usize {
        self.gpt.config.n_head
    }

    /// Re-reads everything derived from the session and selection, and keeps
    /// the selection in range. Called after every change.
    pub fn refresh(&mut self) {
        if let Some(s) = self.session.as_mut() {
            s.sampling = self.sampling.clone();
        }
        let Some(s) = self.session.as_ref() else {
            return;
        };
        let n = s.tokens.len();
        self.pos = self.pos.min(n.saturating_sub(1));
        self.layer = self.layer.min(self.n_layer().saturating_sub(1));
        self.head = self.head.min(self.n_head().saturating_sub(1));
        self.preview = Some(s.preview());
        self.alt_preview = match (&self.alt, self.iv.is_active()) {
            (Some(t), true) if t.len() == n => Some(preview_pick(t, &s.tokens, &self.sampling)),
            _ => None,
        };
        // Nearest tokens and the logit lens read the whole vocabulary: queued
        // as jobs so that a large model computes them off the UI thread.
        if self.view == View::Embeddings {
            let id = s.tokens[self.pos];
            if self.nearest.as_ref().is_none_or(|(t, _)| *t != id)
                && self.pending_nearest != Some(id)
            {
                self.pending_nearest = Some(id);
                self.jobs.push(Job::Nearest(id));
            }
        }
        if self.view == View::Residual {
            let key = (self.pos, n, self.iv.is_active() && self.alt.is_some());
            if self.lens.as_ref().is_none_or(|(k, _)| *k != key)
                && self.pending_lens != Some(key)
                && let Some(tr) = self.shown_trace()
                && tr.len() == n
            {
                let rows = (0..=self.n_layer())
                    .map(|l| tr.resid_in(l).row(self.pos).to_vec())
                    .collect();
                self.pending_lens = Some(key);
                self.jobs.push(Job::Lens(key, rows, self.iv.skip_layernorm));
            }
        }
        self.cell = self
            .cell
            .min(super::event::cell_count(self).saturating_sub(1));
        self.dirty = true;
    }

    /// Takes what `job` needs and returns the work to run, or None when the
    /// job cannot start (no session).
    pub fn start(&mut self, job: Job) -> Option<Work> {
        match job {
            Job::NextToken => {
                let mut s = self.session.take()?;
                self.tokens_while_busy = s.tokens.clone();
                s.sampling = self.sampling.clone();
                self.busy = Some("computing the next token");
                Some(Box::new(move || {
                    let r = s.next_token().map(|_| ());
                    JobOutput::Appended(Box::new(s), r)
                }))
            }
            Job::Intervene(iv) => {
                let tokens = self.tokens().to_vec();
                let gpt = self.gpt.clone();
                Some(Box::new(move || {
                    let r = gpt.trace(&tokens, &iv).map(Box::new);
                    JobOutput::Intervened(iv, tokens, r)
                }))
            }
            Job::Nearest(id) => {
                let gpt = self.gpt.clone();
                Some(Box::new(move || {
                    let wte = gpt.weights.wte.view2();
                    let list = embedding::nearest_tokens(&gpt, wte.row(id as usize), 8);
                    JobOutput::Nearest(id, list)
                }))
            }
            Job::Lens(key, rows, skip) => {
                let gpt = self.gpt.clone();
                Some(Box::new(move || {
                    let lists = rows
                        .iter()
                        .map(|r| lens::top(&gpt, ndarray::ArrayView1::from(r), 3, skip))
                        .collect();
                    JobOutput::Lens(key, lists)
                }))
            }
            Job::Beam(settings) => {
                let tokens = self.tokens().to_vec();
                let gpt = self.gpt.clone();
                Some(Box::new(move || {
                    let r = beam_search(&gpt, &tokens, &settings);
                    JobOutput::Beamed(tokens, r)
                }))
            }
        }
    }

    /// Takes a finished job's result back into the state.
    pub fn finish(&mut self, out: JobOutput) {
        match out {
            JobOutput::Appended(s, r) => {
                let was_last = self.pos + 1 >= s.tokens.len().saturating_sub(1);
                let n = s.tokens.len();
                self.session = Some(*s);
                self.busy = None;
                if let Err(e) = r {
                    self.status = Some(format!("step failed: {e}"));
                }
                if was_last {
                    self.pos = n.saturating_sub(1);
                }
                self.after_tokens_changed();
            }
            JobOutput::Intervened(iv, tokens, r) => {
                if iv == self.iv && tokens == self.tokens() {
                    match r {
                        Ok(t) => self.alt = Some(*t),
                        Err(e) => self.status = Some(format!("intervention failed: {e}")),
                    }
                }
            }
            JobOutput::Nearest(id, list) => {
                if self.pending_nearest == Some(id) {
                    self.pending_nearest = None;
                }
                self.nearest = Some((id, list));
            }
            JobOutput::Lens(key, lists) => {
                if self.pending_lens == Some(key) {
                    self.pending_lens = None;
                }
                self.lens = Some((key, lists));
            }
            JobOutput::Beamed(tokens, r) => {
                if tokens == self.tokens() {
                    match r {
                        Ok(b) => self.beam = Some(b),
                        Err(e) => self.status = Some(format!("beam search failed: {e}")),
                    }
                }
            }
        }
        self.refresh();
    }

    /// Queues the recomputations that depend on the tokens.
    pub fn after_tokens_changed(&mut self) {
        self.alt = None;
        self.beam = None;
        if self.iv.is_active() {
            self.jobs.push(Job::Intervene(self.iv.clone()));
        }
        if self.beam_on {
            self.jobs.push(Job::Beam(self.beam_settings()));
        }
    }

    pub fn beam_settings(&self) -> BeamSettings {
        BeamSettings {
            width: 3,
            max_tokens: 4,
            length_penalty: 1.0,
            repetition_penalty: self.sampling.repetition_penalty,
            end_token: None,
        }
    }

    /// Runs every queued job here and now (tests, and small models where a
    /// step takes well under a frame).
    pub fn run_jobs_blocking(&mut self) {
        while !self.jobs.is_empty() {
            let job = self.jobs.remove(0);
            if let Some(work) = self.start(job) {
                let out = work();
                self.finish(out);
            }
        }
    }
}

/// The ranked candidates of a trace's last logits (the draw is illustrative).
fn preview_pick(trace: &Trace, history: &[u32], s: &Sampling) -> Pick {
    let logits = trace.last_logits().to_vec();
    pick(&logits, history, s, &mut Rng::new(0), SHOWN_CANDIDATES)
}
