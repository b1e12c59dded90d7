//! The player's state: the explorer, the lesson, where the student is in it,
//! and each scene filled with the numbers of the current trace.

use std::path::PathBuf;

use ratatui::layout::Rect;

use crate::lesson::render::{self, FilledBlock};
use crate::lesson::{Block, Env, Lesson, Sel};
use crate::pass::{Stage, View};
use crate::tokenizer::Tokenizer;
use crate::tui::app::App;
use crate::tui::event;

/// Where a "predict, then reveal" question stands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Check {
    Open,
    /// The student pressed this choice's key.
    Answered(char),
    /// The student asked for the answer without guessing.
    Revealed,
}

/// A step's text with every placeholder filled in.
pub struct Filled {
    /// The resolved selection the step moves the explorer to.
    pub sel: Sel,
    pub caption: String,
    /// The lesson's introduction (first step only).
    pub intro: Option<String>,
    pub blocks: Vec<FilledBlock>,
}

/// A filled step, or why it cannot be filled.
pub type FillResult = Result<Filled, String>;

/// What the explorer looks like at the step's selection; anything else is
/// free exploration.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    at: usize,
    view: View,
    layer: usize,
    head: usize,
    pos: usize,
    cell: usize,
}

/// The player's whole state: the explorer plus where the student is in the lesson.
pub struct Player {
    pub(super) app: App,
    pub(super) lesson: Lesson,
    pub(super) tokenizer: Tokenizer,
    pub(super) model_dir: Option<PathBuf>,
    /// Index into `lesson.scenes` (the player shows it as "step i/n").
    pub(super) scene: usize,
    /// First line of the text shown.
    pub(super) scroll: usize,
    /// Per step, per checkpoint in the step.
    pub(super) checks: Vec<Vec<Check>>,
    /// The student moved the explorer away from the step's selection.
    pub(super) free: bool,
    /// The text takes the whole screen.
    pub(super) expanded: bool,
    /// The step filled against the current tokens (Err: why it cannot be).
    pub(super) filled: Result<Filled, String>,
    filled_for: (usize, Vec<u32>),
    /// Steps filled before, with the tokens they were filled for: going back
    /// to a step whose placeholders are slow (beam search, speed) is instant.
    cache: Vec<Option<(Vec<u32>, FillResult)>>,
    target: Option<Target>,
    /// Where the text was drawn last (for the mouse wheel).
    pub(super) text_rect: Rect,
    /// How far the text could scroll when last drawn (so `d` stops at the end).
    pub(super) max_scroll: std::cell::Cell<usize>,
    /// The whole area the player was last drawn in (its key line depends on it).
    pub(super) last_area: std::cell::Cell<Rect>,
    /// The title of the lesson after this one (set by the shell).
    pub(super) next_lesson: Option<String>,
    /// PgDn at the last step offered the next lesson; PgDn again takes it.
    pub(super) offered_next: bool,
    /// The student took the offer (the shell opens the next lesson).
    pub(super) wants_next: bool,
    /// The student asked for the step's training run (the shell starts it).
    pub(super) wants_run: bool,
}

impl Player {
    /// Starts at the first step. `app` must run the lesson's prompt.
    pub fn new(
        app: App,
        lesson: Lesson,
        tokenizer: Tokenizer,
        model_dir: Option<PathBuf>,
    ) -> Player {
        let mut app = app;
        if !app.has_tokenizer() {
            app.set_tokenizer(tokenizer.clone());
        }
        if let Some(d) = &model_dir
            && app.model_dir().is_none()
        {
            app.set_model_dir(d);
        }
        let checks = lesson
            .scenes
            .iter()
            .map(|s| {
                s.body
                    .iter()
                    .filter(|b| matches!(b, Block::Predict(_)))
                    .map(|_| Check::Open)
                    .collect()
            })
            .collect();
        let mut p = Player {
            app,
            lesson,
            tokenizer,
            model_dir,
            scene: 0,
            scroll: 0,
            checks,
            free: false,
            expanded: false,
            filled: Err("not filled yet".into()),
            filled_for: (usize::MAX, vec![]),
            cache: vec![],
            target: None,
            text_rect: Rect::default(),
            max_scroll: std::cell::Cell::new(usize::MAX),
            last_area: std::cell::Cell::new(Rect::default()),
            next_lesson: None,
            offered_next: false,
            wants_next: false,
            wants_run: false,
        };
        p.goto(0);
        p
    }

    /// Whether the step offers the classroom training run (`run: classroom`).
    pub fn offers_run(&self) -> bool {
        self.lesson.scenes[self.scene].show.run_classroom
    }

    /// Whether the student asked for it (taken: asked once, started once).
    pub fn take_run_request(&mut self) -> bool {
        std::mem::take(&mut self.wants_run)
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }

    pub fn lesson(&self) -> &Lesson {
        &self.lesson
    }

    /// Index of the scene shown (the player says "step i/n").
    pub fn scene(&self) -> usize {
        self.scene
    }

    /// First line of the text shown.
    pub fn scroll(&self) -> usize {
        self.scroll
    }

    /// Per scene, per checkpoint in the scene.
    pub fn checks(&self) -> &[Vec<Check>] {
        &self.checks
    }

    /// The student moved the explorer away from the scene's selection.
    pub fn is_free(&self) -> bool {
        self.free
    }

    /// The scene filled against the current tokens (Err: why it cannot be).
    pub fn filled(&self) -> &FillResult {
        &self.filled
    }

    /// The lesson the last step offers next, if the shell named one.
    pub fn next_lesson(&self) -> Option<&str> {
        self.next_lesson.as_deref()
    }

    /// At the last step: PgDn will open the next lesson.
    pub(super) fn at_the_end(&self) -> bool {
        self.scene + 1 >= self.n_scenes()
    }

    pub fn n_scenes(&self) -> usize {
        self.lesson.scenes.len()
    }

    /// Moves to step `i`: the lesson's prompt, the step's view, stage and selection.
    pub fn goto(&mut self, i: usize) {
        self.scene = i.min(self.n_scenes().saturating_sub(1));
        self.scroll = 0;
        self.offered_next = false;
        self.max_scroll.set(usize::MAX);
        self.app.back_to_prompt();
        self.sync();
        self.apply_selection();
    }

    /// `r`: the step as the lesson set it up, interventions cleared.
    pub fn return_to_scene(&mut self) {
        if self.app.iv().is_active() {
            self.app.set_interventions(Default::default());
        }
        self.goto(self.scene);
    }

    /// Points the explorer at the step's selection.
    fn apply_selection(&mut self) {
        let Some(scene) = self.lesson.scenes.get(self.scene) else {
            return;
        };
        let Ok(f) = &self.filled else {
            return;
        };
        let sel = f.sel;
        let view = scene.view;
        let stage = scene
            .stage
            .or_else(|| Stage::ALL.into_iter().find(|s| s.view() == view))
            .unwrap_or(Stage::Embed);
        let app = &mut self.app;
        app.goto_stage(stage, sel.layer);
        app.show_view(view);
        app.set_zoom(scene.show.zoom);
        app.select_layer(sel.layer);
        app.select_head(sel.head);
        app.select_pos(sel.pos);
        app.select_cell(if view == View::Attention { sel.key } else { 0 });
        app.select_matrix(0);
        match scene.show.compare {
            Some(ty) => app.compare_quantized(ty),
            None => app.clear_compare(),
        }
        event::settle(app);
        self.target = Some(self.snapshot());
        self.free = false;
    }

    fn snapshot(&self) -> Target {
        let a = &self.app;
        Target {
            at: a.at(),
            view: a.view(),
            layer: a.layer(),
            head: a.head(),
            pos: a.pos(),
            cell: a.cell(),
        }
    }

    /// Re-fills the step when the step or the tokens changed, and notes
    /// whether the student has moved away from the step's selection.
    pub fn sync(&mut self) {
        if let Some(s) = self.app.session() {
            if self.filled_for.0 != self.scene || self.filled_for.1 != s.tokens {
                let tokens = s.tokens.clone();
                let old = std::mem::replace(&mut self.filled_for, (self.scene, tokens.clone()));
                self.cache.resize_with(self.n_scenes(), || None);
                let cached = match self.cache.get_mut(self.scene).and_then(Option::take) {
                    Some((t, f)) if t == tokens => Some(f),
                    _ => None,
                };
                let fresh = match cached {
                    Some(f) => f,
                    None => self.fill(),
                };
                let prev = std::mem::replace(&mut self.filled, fresh);
                if let Some(slot) = self.cache.get_mut(old.0) {
                    *slot = Some((old.1, prev));
                }
            }
            self.free = self.target.as_ref() != Some(&self.snapshot())
                || self.app.iv().is_active()
                || s.tokens.len() != s.prompt_len;
        }
    }

    /// The scene filled against the current trace (the same filling as
    /// `lesson --print`), plus the introduction on the first scene.
    fn fill(&self) -> FillResult {
        let l = &self.lesson;
        let scene = l.scenes.get(self.scene).ok_or("the lesson has no steps")?;
        let trace = self.app.trace().ok_or("the engine is busy")?;
        let env = Env::new(
            self.app.gpt(),
            &self.tokenizer,
            trace,
            &l.prompt,
            self.model_dir.as_deref(),
        );
        let e = |e: crate::lesson::LessonError| e.to_string();
        let f = render::fill_scene(l, scene, &env).map_err(e)?;
        let intro = if self.scene == 0 {
            Some(render::fill_intro(l, &env).map_err(e)?)
        } else {
            None
        };
        Ok(Filled {
            sel: f.sel,
            caption: f.caption,
            intro,
            blocks: f.blocks,
        })
    }

    /// The first unanswered question of the step, with its keys.
    pub(super) fn open_question(&self) -> Option<(usize, Vec<char>)> {
        let f = self.filled.as_ref().ok()?;
        let checks = self.checks.get(self.scene)?;
        f.blocks
            .iter()
            .filter_map(|b| match b {
                FilledBlock::Predict(c) => Some(c),
                FilledBlock::Text(_) => None,
            })
            .enumerate()
            .find(|(i, _)| checks.get(*i) == Some(&Check::Open))
            .map(|(i, c)| (i, c.choices.iter().map(|(k, _)| *k).collect()))
    }

    /// The step hides the explorer while one of its questions is open
    /// (`hide: view`), so the picture does not give the answer away.
    pub fn hiding_view(&self) -> bool {
        self.lesson
            .scenes
            .get(self.scene)
            .is_some_and(|s| s.show.hide_view)
            && self.open_question().is_some()
    }

    pub(super) fn scroll_by(&mut self, n: usize) {
        self.scroll = (self.scroll + n).min(self.max_scroll.get());
    }
}
