//! Keys, mouse and resize → state changes. Everything here is a plain function
//! of (state, event): the runtime calls it, and so do the tests.

use ratatui::crossterm::event::{
    Event, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};

use super::app::{App, Hit, Job};
use super::heatmap::Palette;
use super::keymap::{Action, EXPLORER};
use crate::pass::View;

/// Top-k settings k/K walk through (0 = off).
const TOP_K_STEPS: [usize; 9] = [1, 2, 3, 5, 10, 20, 50, 100, 0];

/// Applies one event. Engine work it needs is queued in `app.jobs`.
pub fn handle(app: &mut App, ev: &Event) {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => key(app, k),
        Event::Mouse(m) => mouse(app, m),
        Event::Resize(..) => app.dirty = true,
        _ => return,
    }
    app.refresh();
}

/// [`handle`], then runs the queued engine work at once (tests, small models).
pub fn apply(app: &mut App, ev: &Event) {
    handle(app, ev);
    app.run_jobs_blocking();
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
    let action = EXPLORER.action(k);
    if action == Some(Action::Quit) {
        app.quit = true;
        return;
    }
    app.status = None;
    if app.help {
        // Any key closes the help (q still quits, above).
        app.help = false;
        return;
    }
    if let Some(a) = action {
        update(app, a);
    }
}

/// Applies one explorer action (the lesson player's own are not handled here).
pub fn update(app: &mut App, a: Action) {
    match a {
        Action::Quit => app.quit = true,
        Action::Help => app.help = true,
        Action::Unzoom => app.zoom = false,
        Action::ToggleZoom => app.zoom = !app.zoom,
        Action::NextStage => next_stage(app),
        Action::PrevStage => prev_stage(app),
        Action::NextToken => app.jobs.push(Job::NextToken),
        Action::BackToken => {
            back_token(app);
        }
        Action::LayerUp => change_layer(app, 1),
        Action::LayerDown => change_layer(app, -1),
        Action::HeadUp => app.head = (app.head + 1).min(app.n_head() - 1),
        Action::HeadDown => app.head = app.head.saturating_sub(1),
        Action::PosPrev => app.pos = app.pos.saturating_sub(1),
        Action::PosNext => app.pos += 1,
        // In the loss view the list is the positions: ↑/↓ move the cursor.
        Action::SelectUp if app.view == View::Loss => app.pos = app.pos.saturating_sub(1),
        Action::SelectDown if app.view == View::Loss => app.pos += 1,
        Action::SelectUp => app.cell = app.cell.saturating_sub(1),
        Action::SelectDown => app.cell = (app.cell + 1).min(cell_count(app).saturating_sub(1)),
        Action::NextView => set_view(app, View::ALL[(app.view.index() + 1) % View::ALL.len()]),
        Action::PrevView => set_view(
            app,
            View::ALL[(app.view.index() + View::ALL.len() - 1) % View::ALL.len()],
        ),
        Action::ShowView(v) => set_view(app, v),
        Action::TemperatureDown => {
            app.sampling.temperature = round2((app.sampling.temperature - 0.1).max(0.0))
        }
        Action::TemperatureUp => {
            app.sampling.temperature = round2((app.sampling.temperature + 0.1).min(5.0))
        }
        Action::TopKDown => app.sampling.top_k = top_k_step(app.sampling.top_k, -1),
        Action::TopKUp => app.sampling.top_k = top_k_step(app.sampling.top_k, 1),
        Action::TopPDown => app.sampling.top_p = round2((app.sampling.top_p - 0.05).max(0.05)),
        Action::TopPUp => app.sampling.top_p = round2((app.sampling.top_p + 0.05).min(1.0)),
        Action::ToggleBeam => {
            app.beam_on = !app.beam_on;
            app.beam = None;
            if app.beam_on {
                app.jobs.push(Job::Beam(app.beam_settings()));
                set_view(app, View::Logits);
            }
        }
        Action::AblateHead => {
            let h = (app.layer, app.head);
            if let Some(i) = app.iv.ablate.iter().position(|&x| x == h) {
                app.iv.ablate.remove(i);
            } else {
                app.iv.ablate.push(h);
            }
            interventions_changed(app);
        }
        Action::ToggleScale => {
            app.iv.no_scale = !app.iv.no_scale;
            interventions_changed(app);
        }
        Action::ToggleMask => {
            app.iv.no_causal_mask = !app.iv.no_causal_mask;
            interventions_changed(app);
        }
        Action::ToggleLayerNorm => {
            app.iv.skip_layernorm = !app.iv.skip_layernorm;
            interventions_changed(app);
        }
        Action::ClearInterventions => {
            app.iv = Default::default();
            interventions_changed(app);
        }
        Action::NextPalette => {
            app.theme.palette = match app.theme.palette {
                Palette::Viridis => Palette::Cividis,
                Palette::Cividis => Palette::Gray,
                Palette::Gray => Palette::Viridis,
            }
        }
        Action::NextScene
        | Action::PrevScene
        | Action::ScrollDown
        | Action::ScrollUp
        | Action::ReturnToScene
        | Action::ToggleText
        | Action::Reveal => {}
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

fn interventions_changed(app: &mut App) {
    app.alt = None;
    app.lens = None;
    if app.iv.is_active() {
        app.jobs.push(Job::Intervene(app.iv.clone()));
    }
}

fn set_view(app: &mut App, v: View) {
    if app.view != v {
        app.view = v;
        app.cell = 0;
        app.zoom = false;
    }
}

/// Moves to step `i` of the pass and shows the view of its stage.
pub fn goto_point(app: &mut App, i: usize) {
    app.at = i.min(app.pass.len() - 1);
    let st = app.current();
    if st.stage.in_layer() {
        app.layer = st.layer;
    }
    set_view(app, st.stage.view());
}

/// Moves to `stage` (in `layer` when it is a per-layer stage), as a lesson
/// step asks. Returns false when the pass has no such step (layer too big).
pub fn goto_stage(app: &mut App, stage: crate::pass::Stage, layer: usize) -> bool {
    let want = if stage.in_layer() { layer } else { 0 };
    match app
        .pass
        .iter()
        .position(|s| s.stage == stage && s.layer == want)
    {
        Some(i) => {
            goto_point(app, i);
            app.refresh();
            true
        }
        None => false,
    }
}

/// Forward one stage; past "append" the next token is picked.
pub fn next_stage(app: &mut App) {
    if app.at + 1 < app.pass.len() {
        goto_point(app, app.at + 1);
    } else {
        app.jobs.push(Job::NextToken);
        goto_point(app, 0);
    }
}

/// Back one stage; before "embed" the last token is taken back.
pub fn prev_stage(app: &mut App) {
    if app.at > 0 {
        goto_point(app, app.at - 1);
    } else if back_token(app) {
        goto_point(app, app.pass.len() - 1);
    }
}

/// Takes back the last generated token; false (with a message) at the prompt.
pub fn back_token(app: &mut App) -> bool {
    let Some(s) = app.session.as_mut() else {
        return false;
    };
    let was_last = app.pos + 1 >= s.tokens.len();
    if !s.back() {
        app.status = Some("at the prompt: nothing to take back".into());
        return false;
    }
    if was_last {
        app.pos = s.tokens.len().saturating_sub(1);
    }
    app.after_tokens_changed();
    true
}

/// `[`/`]`: the same stage one layer down or up (or the first/last block
/// when the current stage is outside the blocks).
fn change_layer(app: &mut App, d: i32) {
    let n = app.n_layer() as i32;
    let layer = (app.layer as i32 + d).clamp(0, n - 1) as usize;
    app.layer = layer;
    let stage = app.stage();
    if stage.in_layer()
        && let Some(i) = app
            .pass
            .iter()
            .position(|s| s.stage == stage && s.layer == layer)
    {
        app.at = i;
    }
}

/// How many items ↑/↓ move through in the current view.
pub fn cell_count(app: &App) -> usize {
    let n = app.tokens().len();
    let c = app.gpt.config.n_embd;
    match app.view {
        View::Attention => {
            if app.iv.no_causal_mask {
                n
            } else {
                app.pos + 1
            }
        }
        View::Embeddings | View::LayerNorm | View::Residual => c,
        View::Mlp => super::views::mlp::TOP_NEURONS,
        View::Logits => app.preview.as_ref().map_or(1, |p| p.ranked.len()),
        View::Tokens => n,
        View::Loss => 1,
        View::Cost => super::views::cost::stage_count(&app.gpt.config),
        View::Training => 1,
    }
}

fn mouse(app: &mut App, m: &MouseEvent) {
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            let hit = app
                .hits
                .iter()
                .rev()
                .find(|(r, _)| {
                    m.column >= r.x && m.column < r.right() && m.row >= r.y && m.row < r.bottom()
                })
                .map(|(r, h)| (*r, *h));
            match hit {
                Some((_, Hit::Token(p))) => app.pos = p,
                Some((_, Hit::Head(h))) => app.head = h,
                Some((_, Hit::View(v))) => set_view(app, v),
                Some((_, Hit::AttnCells(g))) => {
                    if let Some((q, k)) = g.cell_at(m.column, m.row) {
                        app.pos = q;
                        app.cell = k;
                    }
                }
                Some((_, Hit::PositionRows(g))) => {
                    if let Some((q, _)) = g.cell_at(m.column, m.row) {
                        app.pos = q;
                    }
                }
                Some((r, Hit::ListRows { first })) => {
                    app.cell =
                        (first + (m.row - r.y) as usize).min(cell_count(app).saturating_sub(1))
                }
                None => {}
            }
        }
        MouseEventKind::ScrollDown => {
            app.cell = (app.cell + 1).min(cell_count(app).saturating_sub(1))
        }
        MouseEventKind::ScrollUp => app.cell = app.cell.saturating_sub(1),
        _ => return,
    }
    app.dirty = true;
}
