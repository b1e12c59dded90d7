//! Keys, mouse and resize → state changes. Everything here is a plain function
//! of (state, event): the runtime calls it, and so do the tests.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::app::{App, Hit, Job};
use super::heatmap::Palette;
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
/// changes the session). Quit, help and resize never wait.
pub fn needs_session(ev: &Event) -> bool {
    match ev {
        Event::Key(k) => {
            !matches!(
                k.code,
                KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Esc
            ) && !is_ctrl_c(k)
        }
        Event::Mouse(_) => true,
        _ => false,
    }
}

fn is_ctrl_c(k: &KeyEvent) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c')
}

fn key(app: &mut App, k: &KeyEvent) {
    if is_ctrl_c(k) {
        app.quit = true;
        return;
    }
    app.status = None;
    if app.help {
        // Any key closes the help; q still quits.
        app.help = false;
        if k.code == KeyCode::Char('q') {
            app.quit = true;
        }
        return;
    }
    match k.code {
        KeyCode::Char('q') => app.quit = true,
        KeyCode::Char('?') => app.help = true,
        KeyCode::Esc => app.zoom = false,
        KeyCode::Char(' ') | KeyCode::Right => next_stage(app),
        KeyCode::Left | KeyCode::Backspace => prev_stage(app),
        KeyCode::Char('n') => app.jobs.push(Job::Step),
        KeyCode::Char('N') | KeyCode::Char('b') => {
            back_token(app);
        }
        KeyCode::Char(']') => change_layer(app, 1),
        KeyCode::Char('[') => change_layer(app, -1),
        KeyCode::Char('}') => app.head = (app.head + 1).min(app.n_head() - 1),
        KeyCode::Char('{') => app.head = app.head.saturating_sub(1),
        KeyCode::Char('h') | KeyCode::Char(',') => app.pos = app.pos.saturating_sub(1),
        KeyCode::Char('l') | KeyCode::Char('.') => app.pos += 1,
        // In the loss view the list is the positions: ↑/↓ move the cursor.
        KeyCode::Up if app.view == View::Loss => app.pos = app.pos.saturating_sub(1),
        KeyCode::Down if app.view == View::Loss => app.pos += 1,
        KeyCode::Up => app.cell = app.cell.saturating_sub(1),
        KeyCode::Down => app.cell = (app.cell + 1).min(cell_count(app).saturating_sub(1)),
        KeyCode::Tab => set_view(app, View::ALL[(app.view.index() + 1) % View::ALL.len()]),
        KeyCode::BackTab => set_view(
            app,
            View::ALL[(app.view.index() + View::ALL.len() - 1) % View::ALL.len()],
        ),
        KeyCode::Char(c @ '0'..='9') => {
            if let Some(&v) = View::ALL.iter().find(|v| v.key() == c) {
                set_view(app, v)
            }
        }
        KeyCode::Enter => app.zoom = !app.zoom,
        KeyCode::Char('t') => {
            app.sampling.temperature = round2((app.sampling.temperature - 0.1).max(0.0))
        }
        KeyCode::Char('T') => {
            app.sampling.temperature = round2((app.sampling.temperature + 0.1).min(5.0))
        }
        KeyCode::Char('k') => app.sampling.top_k = top_k_step(app.sampling.top_k, -1),
        KeyCode::Char('K') => app.sampling.top_k = top_k_step(app.sampling.top_k, 1),
        KeyCode::Char('p') => app.sampling.top_p = round2((app.sampling.top_p - 0.05).max(0.05)),
        KeyCode::Char('P') => app.sampling.top_p = round2((app.sampling.top_p + 0.05).min(1.0)),
        KeyCode::Char('B') => {
            app.beam_on = !app.beam_on;
            app.beam = None;
            if app.beam_on {
                app.jobs.push(Job::Beam(app.beam_settings()));
                set_view(app, View::Logits);
            }
        }
        KeyCode::Char('a') => {
            let h = (app.layer, app.head);
            if let Some(i) = app.iv.ablate.iter().position(|&x| x == h) {
                app.iv.ablate.remove(i);
            } else {
                app.iv.ablate.push(h);
            }
            interventions_changed(app);
        }
        KeyCode::Char('s') => {
            app.iv.no_scale = !app.iv.no_scale;
            interventions_changed(app);
        }
        KeyCode::Char('m') => {
            app.iv.no_causal_mask = !app.iv.no_causal_mask;
            interventions_changed(app);
        }
        KeyCode::Char('L') => {
            app.iv.skip_layernorm = !app.iv.skip_layernorm;
            interventions_changed(app);
        }
        KeyCode::Char('c') => {
            app.iv = Default::default();
            interventions_changed(app);
        }
        KeyCode::Char('v') => {
            app.theme.palette = match app.theme.palette {
                Palette::Viridis => Palette::Cividis,
                Palette::Cividis => Palette::Gray,
                Palette::Gray => Palette::Viridis,
            }
        }
        _ => {}
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
pub fn goto_step(app: &mut App, i: usize) {
    app.step = i.min(app.pass.len() - 1);
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
            goto_step(app, i);
            app.refresh();
            true
        }
        None => false,
    }
}

/// Forward one stage; past "append" the next token is picked.
pub fn next_stage(app: &mut App) {
    if app.step + 1 < app.pass.len() {
        goto_step(app, app.step + 1);
    } else {
        app.jobs.push(Job::Step);
        goto_step(app, 0);
    }
}

/// Back one stage; before "embed" the last token is taken back.
pub fn prev_stage(app: &mut App) {
    if app.step > 0 {
        goto_step(app, app.step - 1);
    } else if back_token(app) {
        goto_step(app, app.pass.len() - 1);
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
        app.step = i;
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
