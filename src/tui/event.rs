//! Keys, mouse and resize → actions → state changes (the "update" of the Elm
//! shape). Keys are looked up in [`keymap::EXPLORER`](super::keymap::EXPLORER);
//! [`update`] applies an action through the `App`'s methods; [`settle`] then
//! re-derives what depends on the state and keeps the view's selected item in
//! range. Everything here is a plain function of (state, event): the runtime
//! calls it, and so do the tests.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::app::{App, Hit, JobOutput};
use super::heatmap::Palette;
use super::keymap::{Action, EXPLORER, PLAYER};
use super::prompt::{self, Outcome};
use super::views;
use crate::pass::View;
use crate::sample::Sampling;

/// Top-k settings k/K walk through (0 = off).
const TOP_K_STEPS: [usize; 9] = [1, 2, 3, 5, 10, 20, 50, 100, 0];

/// Applies one event. Engine work it needs is queued in the app.
pub fn handle(app: &mut App, ev: &Event) {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => key(app, k),
        Event::Mouse(m) => mouse(app, m),
        Event::Resize(..) => app.mark_dirty(),
        _ => return,
    }
    settle(app);
}

/// [`handle`], then runs the queued engine work at once (tests, small models).
pub fn apply(app: &mut App, ev: &Event) {
    handle(app, ev);
    run_jobs_blocking(app);
}

/// After any change: re-derive what depends on the state, and keep the
/// selected item below the current view's count.
pub fn settle(app: &mut App) {
    app.refresh();
    if app.session().is_some() {
        let last = views::selection_count(app).saturating_sub(1);
        app.select_cell(app.cell().min(last));
    }
}

/// Takes a finished job's result back into the state.
pub fn finish(app: &mut App, out: JobOutput) {
    app.finish(out);
    settle(app);
}

/// Runs every queued job here and now (tests, and small models where a step
/// takes well under a frame).
pub fn run_jobs_blocking(app: &mut App) {
    while let Some(job) = app.next_job() {
        if let Some(work) = app.start(job) {
            let out = work();
            finish(app, out);
        }
    }
}

/// Whether an event must wait until the engine is idle again (it reads or
/// changes the session). Quit, help and unzoom never wait.
pub fn needs_session(ev: &Event) -> bool {
    match ev {
        Event::Key(k) => EXPLORER.action(k).is_none_or(Action::needs_session),
        Event::Mouse(_) => true,
        _ => false,
    }
}

fn key(app: &mut App, k: &KeyEvent) {
    if app.editing() {
        edit_prompt(app, k);
        return;
    }
    let action = EXPLORER.action(k);
    if action == Some(Action::Quit) {
        app.quit();
        return;
    }
    app.set_status(None);
    if app.help() {
        // ↑ ↓ (and the page keys) scroll the help; any other key closes it
        // (q still quits, above).
        let scroll = app.help_scroll();
        match (action, k.code) {
            (Some(Action::SelectDown), _) | (_, KeyCode::PageDown) => {
                // (The player's overlay lists both tables and two headings.)
                let rows = EXPLORER.rows.len() + PLAYER.rows.len() + 2;
                app.set_help_scroll((scroll + 1).min(rows - 1))
            }
            (Some(Action::SelectUp), _) | (_, KeyCode::PageUp) => {
                app.set_help_scroll(scroll.saturating_sub(1))
            }
            _ => app.set_help(false),
        }
        return;
    }
    if let Some(a) = action {
        update(app, a);
    }
}

/// A key while the prompt editor is open: everything is text except Esc,
/// Enter and Ctrl-C (which still quits).
fn edit_prompt(app: &mut App, k: &KeyEvent) {
    if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
        app.quit();
        return;
    }
    app.set_status(None);
    let Some(e) = app.editor_mut() else { return };
    match prompt::edit(e, k) {
        Outcome::Editing => app.mark_dirty(),
        Outcome::Cancel => app.close_editor(),
        Outcome::Submit(text) => app.submit_prompt(&text),
    }
}

/// Applies one explorer action (the lesson player's own are not handled here).
pub fn update(app: &mut App, a: Action) {
    let count = views::selection_count(app);
    let s = app.sampling().clone();
    match a {
        Action::Quit => app.quit(),
        Action::Help => app.set_help(true),
        Action::Unzoom => app.set_zoom(false),
        Action::ToggleZoom => app.set_zoom(!app.zoom()),
        Action::NextStage => app.next_stage(),
        Action::NextPicture => app.next_picture(),
        Action::PrevPicture => app.prev_picture(),
        Action::TogglePresent => app.set_present(!app.theme().present),
        Action::EditPrompt => app.open_editor(),
        Action::PrevStage => app.prev_stage(),
        Action::NextToken => app.next_token(),
        Action::BackToken => {
            app.back_token();
        }
        Action::LayerUp => app.change_layer(1),
        Action::LayerDown => app.change_layer(-1),
        // In the quantization view { } choose the weight matrix.
        Action::HeadUp if app.view() == View::Quant => app.select_matrix(app.matrix() + 1),
        Action::HeadDown if app.view() == View::Quant => {
            app.select_matrix(app.matrix().saturating_sub(1))
        }
        Action::HeadUp => app.select_head(app.head() + 1),
        Action::HeadDown => app.select_head(app.head().saturating_sub(1)),
        Action::PosPrev => app.select_pos(app.pos().saturating_sub(1)),
        Action::PosNext => app.select_pos(app.pos() + 1),
        // In the loss view the list is the positions: ↑/↓ move the cursor.
        Action::SelectUp if app.view() == View::Loss => app.select_pos(app.pos().saturating_sub(1)),
        Action::SelectDown if app.view() == View::Loss => app.select_pos(app.pos() + 1),
        Action::SelectUp => app.select_cell(app.cell().saturating_sub(1)),
        Action::SelectDown => app.select_cell((app.cell() + 1).min(count.saturating_sub(1))),
        Action::NextView => app.show_view(View::ALL[(app.view().index() + 1) % View::ALL.len()]),
        Action::PrevView => {
            app.show_view(View::ALL[(app.view().index() + View::ALL.len() - 1) % View::ALL.len()])
        }
        Action::ShowView(v) => app.show_view(v),
        Action::TemperatureDown => app.set_sampling(Sampling {
            temperature: round2((s.temperature - 0.1).max(0.0)),
            ..s
        }),
        Action::TemperatureUp => app.set_sampling(Sampling {
            temperature: round2((s.temperature + 0.1).min(5.0)),
            ..s
        }),
        Action::TopKDown => app.set_sampling(Sampling {
            top_k: top_k_step(s.top_k, -1),
            ..s
        }),
        Action::TopKUp => app.set_sampling(Sampling {
            top_k: top_k_step(s.top_k, 1),
            ..s
        }),
        Action::TopPDown => app.set_sampling(Sampling {
            top_p: round2((s.top_p - 0.05).max(0.05)),
            ..s
        }),
        Action::TopPUp => app.set_sampling(Sampling {
            top_p: round2((s.top_p + 0.05).min(1.0)),
            ..s
        }),
        Action::ToggleBeam => app.toggle_beam(),
        Action::AblateHead => {
            let mut iv = app.iv().clone();
            let h = (app.layer(), app.head());
            if let Some(i) = iv.ablate.iter().position(|&x| x == h) {
                iv.ablate.remove(i);
            } else {
                iv.ablate.push(h);
            }
            app.set_interventions(iv);
        }
        Action::ToggleScale => {
            let mut iv = app.iv().clone();
            iv.no_scale = !iv.no_scale;
            app.set_interventions(iv);
        }
        Action::ToggleMask => {
            let mut iv = app.iv().clone();
            iv.no_causal_mask = !iv.no_causal_mask;
            app.set_interventions(iv);
        }
        Action::ToggleLayerNorm => {
            let mut iv = app.iv().clone();
            iv.skip_layernorm = !iv.skip_layernorm;
            app.set_interventions(iv);
        }
        Action::ClearInterventions => app.set_interventions(Default::default()),
        Action::WriteScreen => app.request_write_screen(),
        Action::Lessons => app.request_lessons(),
        Action::NextPalette => app.set_palette(match app.theme().palette {
            Palette::Viridis => Palette::Cividis,
            Palette::Cividis => Palette::Gray,
            Palette::Gray => Palette::Viridis,
        }),
        Action::NextScene
        | Action::PrevScene
        | Action::ScrollDown
        | Action::ScrollUp
        | Action::ReturnToScene
        | Action::ToggleText
        | Action::Reveal
        | Action::TrainLive
        | Action::Choose
        | Action::Close => {}
    }
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

fn top_k_step(k: usize, dir: i32) -> usize {
    let i = TOP_K_STEPS
        .iter()
        .position(|&s| s == k)
        .unwrap_or(TOP_K_STEPS.len() - 1) as i32;
    TOP_K_STEPS[(i + dir).clamp(0, TOP_K_STEPS.len() as i32 - 1) as usize]
}

fn mouse(app: &mut App, m: &MouseEvent) {
    let count = views::selection_count(app);
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            let hit = app
                .hits()
                .iter()
                .rev()
                .find(|(r, _)| {
                    m.column >= r.x && m.column < r.right() && m.row >= r.y && m.row < r.bottom()
                })
                .map(|(r, h)| (*r, *h));
            match hit {
                Some((_, Hit::Token(p))) => app.select_pos(p),
                Some((_, Hit::Head(h))) => app.select_head(h),
                Some((_, Hit::View(v))) => app.show_view(v),
                Some((_, Hit::AttnCells(g))) => {
                    if let Some((q, k)) = g.cell_at(m.column, m.row) {
                        app.select_pos(q);
                        app.select_cell(k);
                    }
                }
                Some((_, Hit::PositionRows(g))) => {
                    if let Some((q, _)) = g.cell_at(m.column, m.row) {
                        app.select_pos(q);
                    }
                }
                Some((r, Hit::ListRows { first })) => {
                    app.select_cell((first + (m.row - r.y) as usize).min(count.saturating_sub(1)))
                }
                None => {}
            }
        }
        MouseEventKind::ScrollDown => {
            app.select_cell((app.cell() + 1).min(count.saturating_sub(1)))
        }
        MouseEventKind::ScrollUp => app.select_cell(app.cell().saturating_sub(1)),
        _ => return,
    }
    app.mark_dirty();
}
