//! The explorer's state: the session, what is selected, how it looks, and the
//! engine work waiting to run. Views read it; `event` changes it through its
//! methods.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::layout::Rect;

use super::heatmap::{Geometry, Palette, Theme};
use super::prompt::Editor;
use crate::i18n::Msg;
use crate::model::{Gpt, Interventions, ModelError, Trace};
use crate::pass::{Point, Stage, View, points};
use crate::readout::embedding::{self, Projection};
use crate::readout::lens;
use crate::rng::Rng;
use crate::sample::{BeamResult, BeamSettings, Pick, Sampling, beam_search, pick};
use crate::session::{SHOWN_CANDIDATES, Session};
use crate::tokenizer::Tokenizer;
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
    /// Start again from this prompt (the prompt editor's Enter).
    Restart(Vec<u32>),
}

/// The result of a [`Job`], handed back to the UI thread.
pub enum JobOutput {
    Appended(Box<Session>, Result<(), ModelError>),
    Intervened(Interventions, Vec<u32>, Result<Box<Trace>, ModelError>),
    Beamed(Vec<u32>, Result<BeamResult, ModelError>),
    Nearest(u32, Vec<(u32, f32)>),
    Lens(LensKey, Vec<Vec<(u32, f32)>>),
    /// The new prompt's session, and the old one to go back to if it failed.
    Restarted(Result<Box<Session>, ModelError>, Box<Session>),
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

/// The explorer's whole state. Its fields are private: views read them through
/// the getters below, and every change goes through a method that keeps the
/// selection in range and the derived state (intervened trace, logit lens,
/// beam) in step with what it was derived from. The one invariant it cannot
/// keep alone is the selected item's range, which the view decides: `event`
/// clamps it after every change (`views::selection_count`).
pub struct App {
    /// None only while a step runs on the worker thread.
    session: Option<Session>,
    gpt: Arc<Gpt>,
    /// Raw (untrusted) text of every token id.
    vocab: Vec<String>,
    theme: Theme,
    pass: Vec<Point>,
    /// Index into `pass`: the point of the pass shown.
    at: usize,
    layer: usize,
    head: usize,
    /// Selected position (the query row in attention).
    pos: usize,
    /// Selected item inside the view: key, dimension, neuron or candidate.
    cell: usize,
    view: View,
    zoom: bool,
    help: bool,
    sampling: Sampling,
    iv: Interventions,
    /// The trace recomputed with `iv` (None when no intervention is active).
    alt: Option<Trace>,
    beam_on: bool,
    beam: Option<BeamResult>,
    /// What the sampling settings would pick now.
    preview: Option<Pick>,
    /// Same, read off the intervened logits.
    alt_preview: Option<Pick>,
    nearest: Option<(u32, Vec<(u32, f32)>)>,
    /// Logit lens at (pos, tokens.len()): one top list per layer boundary.
    lens: Option<LensCache>,
    pending_nearest: Option<u32>,
    tokens_while_busy: Vec<u32>,
    pending_lens: Option<LensKey>,
    projection: Projection,
    jobs: Vec<Job>,
    /// A short message for the hint bar (errors, "nothing to undo").
    status: Option<String>,
    /// `w` was pressed: the terminal loop writes the next frame to a file.
    write_screen: bool,
    /// `o` asked for the lesson list (the shell around the screen opens it).
    lessons_asked: bool,
    hits: Vec<(Rect, Hit)>,
    dirty: bool,
    quit: bool,
    /// Set while a job runs off the UI thread: what it is doing.
    busy: Option<Msg>,
    /// The model folder, when the model came from one (the training view reads it).
    model_dir: Option<PathBuf>,
    /// Its training record, read once in [`App::set_model_dir`]: None when the
    /// folder has none, Err(why) when it cannot be read.
    train_record: Result<Option<TrainRecord>, String>,
    /// Compare mode's second model (`explore --compare`), traced on demand.
    compare: Option<Arc<crate::readout::compare::CompareModel>>,
    /// Turns an edited prompt into ids (None: prompt editing is unavailable).
    tokenizer: Option<Arc<Tokenizer>>,
    /// The sampling seed a restarted prompt uses again.
    seed: u64,
    /// The prompt editor line, while it is open.
    editor: Option<Editor>,
    /// First row of the help overlay shown.
    help_scroll: usize,
    /// The weight matrix the quantization view shows (an index into
    /// `readout::quant::matrices` of the selected layer).
    matrix: usize,
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
            write_screen: false,
            lessons_asked: false,
            hits: vec![],
            dirty: true,
            quit: false,
            busy: None,
            model_dir: None,
            train_record: Ok(None),
            compare: None,
            tokenizer: None,
            seed: opts.seed,
            editor: None,
            help_scroll: 0,
            matrix: 0,
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

    /// Lets the prompt editor turn text into ids.
    pub fn set_tokenizer(&mut self, t: Tokenizer) {
        self.tokenizer = Some(Arc::new(t));
    }

    /// The model's tokenizer, when the front end gave it (the tokens view
    /// replays its merges; the prompt editor encodes with it).
    pub fn tokenizer(&self) -> Option<&Tokenizer> {
        self.tokenizer.as_deref()
    }

    pub fn has_tokenizer(&self) -> bool {
        self.tokenizer.is_some()
    }

    /// The prompt editor, while it is open.
    pub fn editor(&self) -> Option<&Editor> {
        self.editor.as_ref()
    }

    pub fn editor_mut(&mut self) -> Option<&mut Editor> {
        self.editor.as_mut()
    }

    pub fn editing(&self) -> bool {
        self.editor.is_some()
    }

    /// Opens the editor line on the current prompt (a notice instead when
    /// there is no tokenizer to encode an edit with).
    pub fn open_editor(&mut self) {
        let (Some(tok), Some(s)) = (&self.tokenizer, &self.session) else {
            self.status = Some(Msg::StatusNoTokenizer.get(self.theme.lang).into());
            return;
        };
        let text = tok.decode(&s.tokens[..s.prompt_len]);
        self.editor = Some(Editor::new(&text));
        self.dirty = true;
    }

    pub fn close_editor(&mut self) {
        self.editor = None;
        self.dirty = true;
    }

    /// Enter in the editor: encodes `text` and queues running it. An empty
    /// prompt, or one longer than the context, is refused with a notice and
    /// the editor stays open.
    pub fn submit_prompt(&mut self, text: &str) {
        let Some(tok) = &self.tokenizer else {
            return;
        };
        let ids = match tok.encode(text) {
            Ok(ids) => ids,
            Err(e) => {
                self.status = Some(Msg::StatusCannotEncode.fill(self.theme.lang, &[&e]));
                return;
            }
        };
        let ctx = self.gpt.config.n_positions;
        if ids.is_empty() {
            self.status = Some(Msg::StatusEmptyPrompt.get(self.theme.lang).into());
        } else if ids.len() > ctx {
            self.status = Some(Msg::StatusPromptTooLong.fill(self.theme.lang, &[&ids.len(), &ctx]));
        } else {
            self.editor = None;
            self.jobs.push(Job::Restart(ids));
        }
        self.dirty = true;
    }

    /// Presenter mode on or off.
    pub fn set_present(&mut self, on: bool) {
        self.theme.present = on;
        self.dirty = true;
    }

    pub fn help_scroll(&self) -> usize {
        self.help_scroll
    }

    pub fn set_help_scroll(&mut self, first: usize) {
        self.help_scroll = first;
        self.dirty = true;
    }

    /// Compare mode: the logits, loss and attention views show `other` beside this model.
    pub fn set_compare(&mut self, other: crate::readout::compare::CompareModel) {
        self.compare = Some(Arc::new(other));
        self.dirty = true;
    }

    pub fn compare(&self) -> Option<&crate::readout::compare::CompareModel> {
        self.compare.as_deref()
    }

    /// Compare mode against this model quantized in memory to `ty` (a
    /// lesson step's `compare:`); kept when it is already that copy.
    pub fn compare_quantized(&mut self, ty: crate::quant::GgmlType) {
        let name = format!("{ty} copy");
        if self.compare.as_ref().is_some_and(|c| c.name == name) {
            return;
        }
        match crate::quant::weights::quantized(&self.gpt.weights, ty) {
            Ok(weights) => {
                let gpt = Gpt {
                    config: self.gpt.config.clone(),
                    weights,
                };
                self.set_compare(crate::readout::compare::CompareModel::new(
                    Arc::new(gpt),
                    &name,
                ));
            }
            Err(e) => self.set_status(Some(format!("cannot quantize to {ty}: {e}"))),
        }
    }

    /// Leaves compare mode.
    pub fn clear_compare(&mut self) {
        if self.compare.take().is_some() {
            self.dirty = true;
        }
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

    /// How many token ids have a text.
    pub fn vocab_len(&self) -> usize {
        self.vocab.len()
    }

    pub fn n_layer(&self) -> usize {
        self.gpt.config.n_layer
    }

    pub fn n_head(&self) -> usize {
        self.gpt.config.n_head
    }

    pub fn gpt(&self) -> &Arc<Gpt> {
        &self.gpt
    }

    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// Every point of one token's pass.
    pub fn pass(&self) -> &[Point] {
        &self.pass
    }

    /// Index into [`App::pass`] of the point shown.
    pub fn at(&self) -> usize {
        self.at
    }

    pub fn layer(&self) -> usize {
        self.layer
    }

    pub fn head(&self) -> usize {
        self.head
    }

    /// Selected position (the query row in attention).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Selected item inside the view: key, dimension, neuron or candidate.
    pub fn cell(&self) -> usize {
        self.cell
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn zoom(&self) -> bool {
        self.zoom
    }

    pub fn help(&self) -> bool {
        self.help
    }

    pub fn sampling(&self) -> &Sampling {
        &self.sampling
    }

    pub fn iv(&self) -> &Interventions {
        &self.iv
    }

    /// The trace recomputed with the interventions (None when none is active
    /// or it is still being computed).
    pub fn alt(&self) -> Option<&Trace> {
        self.alt.as_ref()
    }

    pub fn beam_on(&self) -> bool {
        self.beam_on
    }

    pub fn beam(&self) -> Option<&BeamResult> {
        self.beam.as_ref()
    }

    /// What the sampling settings would pick now.
    pub fn preview(&self) -> Option<&Pick> {
        self.preview.as_ref()
    }

    /// Same, read off the intervened logits.
    pub fn alt_preview(&self) -> Option<&Pick> {
        self.alt_preview.as_ref()
    }

    pub fn nearest(&self) -> Option<&(u32, Vec<(u32, f32)>)> {
        self.nearest.as_ref()
    }

    /// Logit lens at (pos, tokens.len()): one top list per layer boundary.
    pub fn lens(&self) -> Option<&LensCache> {
        self.lens.as_ref()
    }

    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// A short message for the hint bar (errors, "nothing to undo").
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// The mouse targets of the last frame.
    pub fn hits(&self) -> &[(Rect, Hit)] {
        &self.hits
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Set while a job runs off the UI thread: what it is doing.
    pub fn busy(&self) -> Option<Msg> {
        self.busy
    }

    /// The session (None only while a step runs on the worker thread).
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The model folder, when the model came from one.
    pub fn model_dir(&self) -> Option<&Path> {
        self.model_dir.as_deref()
    }

    /// The folder's training record: None when it has none, Err(why) when it
    /// cannot be read.
    pub fn train_record(&self) -> &Result<Option<TrainRecord>, String> {
        &self.train_record
    }

    pub fn quit(&mut self) {
        self.quit = true;
    }

    pub fn set_help(&mut self, on: bool) {
        self.help = on;
        self.help_scroll = 0;
    }

    pub fn set_zoom(&mut self, on: bool) {
        self.zoom = on;
    }

    /// Asks the terminal loop to write the next frame as a file (`w`).
    pub fn request_write_screen(&mut self) {
        self.write_screen = true;
        self.dirty = true;
    }

    /// Whether a write was asked for since the last call.
    pub fn take_write_screen(&mut self) -> bool {
        std::mem::take(&mut self.write_screen)
    }

    /// `o`: the lesson list, opened by the shell around this screen.
    pub fn request_lessons(&mut self) {
        self.lessons_asked = true;
    }

    pub fn take_lessons_request(&mut self) -> bool {
        std::mem::take(&mut self.lessons_asked)
    }

    pub fn set_status(&mut self, s: Option<String>) {
        self.status = s;
    }

    /// Asks for a redraw.
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// A frame was drawn with these mouse targets.
    pub fn drawn(&mut self, hits: Vec<(Rect, Hit)>) {
        self.hits = hits;
        self.dirty = false;
    }

    pub fn select_layer(&mut self, l: usize) {
        self.layer = l.min(self.n_layer().saturating_sub(1));
    }

    pub fn select_head(&mut self, h: usize) {
        self.head = h.min(self.n_head().saturating_sub(1));
    }

    /// The quantization view's matrix (see [`App::select_matrix`]).
    pub fn matrix(&self) -> usize {
        self.matrix
    }

    /// Selects the quantization view's matrix, kept below the number the
    /// selected layer has.
    pub fn select_matrix(&mut self, m: usize) {
        let n = crate::readout::quant::matrices(&self.gpt.weights, self.layer).len();
        self.matrix = m.min(n.saturating_sub(1));
    }

    pub fn select_pos(&mut self, p: usize) {
        self.pos = p.min(self.tokens().len().saturating_sub(1));
    }

    /// Selects an item of the view; `event` keeps it below the view's count.
    pub fn select_cell(&mut self, c: usize) {
        self.cell = c;
    }

    /// Shows view `v`; a different view starts at its first item, unzoomed.
    pub fn show_view(&mut self, v: View) {
        if self.view != v {
            self.view = v;
            self.cell = 0;
            self.zoom = false;
        }
    }

    pub fn set_sampling(&mut self, s: Sampling) {
        self.sampling = s;
    }

    pub fn set_palette(&mut self, p: Palette) {
        self.theme.palette = p;
    }

    /// New interventions: the intervened trace and the lens are recomputed.
    pub fn set_interventions(&mut self, iv: Interventions) {
        self.iv = iv;
        self.alt = None;
        self.lens = None;
        if self.iv.is_active() {
            self.jobs.push(Job::Intervene(self.iv.clone()));
        }
    }

    /// Beam search on (computed now, shown in the logits view) or off.
    pub fn toggle_beam(&mut self) {
        self.beam_on = !self.beam_on;
        self.beam = None;
        if self.beam_on {
            self.jobs.push(Job::Beam(self.beam_settings()));
            self.show_view(View::Logits);
        }
    }

    /// Drops the nearest tokens and the logit lens, so that they are computed
    /// again (the render benchmark times entering a view).
    pub fn forget_derived(&mut self) {
        self.nearest = None;
        self.lens = None;
        self.pending_nearest = None;
        self.pending_lens = None;
    }

    /// Queues picking and appending the next token.
    pub fn next_token(&mut self) {
        self.jobs.push(Job::NextToken);
    }

    /// The next queued job, while the session is here to run it.
    pub fn next_job(&mut self) -> Option<Job> {
        if self.session.is_none() || self.jobs.is_empty() {
            return None;
        }
        Some(self.jobs.remove(0))
    }

    /// Moves to point `i` of the pass and shows the view of its stage.
    pub fn goto_point(&mut self, i: usize) {
        self.at = i.min(self.pass.len() - 1);
        let st = self.current();
        if st.stage.in_layer() {
            self.layer = st.layer;
        }
        self.show_view(st.stage.view());
    }

    /// Moves to `stage` (in `layer` when it is a per-layer stage), as a lesson
    /// scene asks. Returns false when the pass has no such point (layer too big).
    pub fn goto_stage(&mut self, stage: Stage, layer: usize) -> bool {
        let want = if stage.in_layer() { layer } else { 0 };
        match self
            .pass
            .iter()
            .position(|s| s.stage == stage && s.layer == want)
        {
            Some(i) => {
                self.goto_point(i);
                self.refresh();
                true
            }
            None => false,
        }
    }

    /// Forward one stage; past "append" the next token is picked.
    pub fn next_stage(&mut self) {
        if self.at + 1 < self.pass.len() {
            self.goto_point(self.at + 1);
        } else {
            self.jobs.push(Job::NextToken);
            self.goto_point(0);
        }
    }

    /// `w`: forward to the first stage that a different view draws (the
    /// stages between show the same picture); past the last group, the next token.
    pub fn next_picture(&mut self) {
        let view = self.current().stage.view();
        match (self.at + 1..self.pass.len()).find(|&i| self.pass[i].stage.view() != view) {
            Some(i) => self.goto_point(i),
            None => {
                self.jobs.push(Job::NextToken);
                self.goto_point(0);
            }
        }
    }

    /// `W`: back to the first stage of the previous group (before "embed":
    /// the last token taken back, at its last group).
    pub fn prev_picture(&mut self) {
        let start = |pass: &[Point], mut i: usize| {
            while i > 0 && pass[i - 1].stage.view() == pass[i].stage.view() {
                i -= 1;
            }
            i
        };
        let here = start(&self.pass, self.at);
        if here > 0 {
            self.goto_point(start(&self.pass, here - 1));
        } else if self.back_token() {
            self.goto_point(start(&self.pass, self.pass.len() - 1));
        }
    }

    /// Back one stage; before "embed" the last token is taken back.
    pub fn prev_stage(&mut self) {
        if self.at > 0 {
            self.goto_point(self.at - 1);
        } else if self.back_token() {
            self.goto_point(self.pass.len() - 1);
        }
    }

    /// Takes back the last generated token; false (with a message) at the prompt.
    pub fn back_token(&mut self) -> bool {
        let Some(s) = self.session.as_mut() else {
            return false;
        };
        let was_last = self.pos + 1 >= s.tokens.len();
        if !s.back() {
            self.status = Some(Msg::StatusNothingBack.get(self.theme.lang).into());
            return false;
        }
        if was_last {
            self.pos = s.tokens.len().saturating_sub(1);
        }
        self.after_tokens_changed();
        true
    }

    /// Takes back every token generated after the prompt.
    pub fn back_to_prompt(&mut self) {
        let mut changed = false;
        while let Some(s) = self.session.as_mut() {
            if !s.back() {
                break;
            }
            changed = true;
        }
        if changed {
            self.after_tokens_changed();
        }
    }

    /// `[`/`]`: the same stage one layer down or up (or the first/last block
    /// when the current stage is outside the blocks).
    pub fn change_layer(&mut self, d: i32) {
        let n = self.n_layer() as i32;
        let layer = (self.layer as i32 + d).clamp(0, n - 1) as usize;
        self.layer = layer;
        let stage = self.stage();
        if stage.in_layer()
            && let Some(i) = self
                .pass
                .iter()
                .position(|s| s.stage == stage && s.layer == layer)
        {
            self.at = i;
        }
    }

    /// Re-reads everything derived from the session and selection, and keeps
    /// the layer, head and position in range. Called after every change
    /// (`event::settle` also clamps the view's item).
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
                self.busy = Some(Msg::BusyNextToken);
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
            Job::Restart(ids) => {
                let old = self.session.take()?;
                self.tokens_while_busy = old.tokens.clone();
                self.busy = Some(Msg::BusyNewPrompt);
                let (gpt, sampling, seed) = (self.gpt.clone(), self.sampling.clone(), self.seed);
                Some(Box::new(move || {
                    let r = Session::new(gpt, &ids, sampling, seed).map(Box::new);
                    JobOutput::Restarted(r, Box::new(old))
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
                    self.status = Some(Msg::StatusStepFailed.fill(self.theme.lang, &[&e]));
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
                        Err(e) => {
                            self.status = Some(Msg::StatusIvFailed.fill(self.theme.lang, &[&e]))
                        }
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
            JobOutput::Restarted(r, old) => {
                self.busy = None;
                match r {
                    Ok(s) => {
                        self.pos = s.tokens.len().saturating_sub(1);
                        self.session = Some(*s);
                        self.nearest = None;
                        self.lens = None;
                        self.pending_nearest = None;
                        self.pending_lens = None;
                        self.after_tokens_changed();
                    }
                    Err(e) => {
                        self.session = Some(*old);
                        self.status = Some(Msg::StatusPromptFailed.fill(self.theme.lang, &[&e]));
                    }
                }
            }
            JobOutput::Beamed(tokens, r) => {
                if tokens == self.tokens() {
                    match r {
                        Ok(b) => self.beam = Some(b),
                        Err(e) => {
                            self.status = Some(Msg::StatusBeamFailed.fill(self.theme.lang, &[&e]))
                        }
                    }
                }
            }
        }
        self.refresh();
    }

    /// Queues the recomputations that depend on the tokens.
    fn after_tokens_changed(&mut self) {
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
}

/// The ranked candidates of a trace's last logits (the draw is illustrative).
fn preview_pick(trace: &Trace, history: &[u32], s: &Sampling) -> Pick {
    let logits = trace.last_logits().to_vec();
    pick(&logits, history, s, &mut Rng::new(0), SHOWN_CANDIDATES)
}
