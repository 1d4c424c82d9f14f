//! The eframe app: the scene (the viewer's own envs, or the training envs as training streams
//! them), the learning curves and the loss-landscape panel, with the controls of
//! [`ViewerState`]. Errors are shown in a message panel, never crashed on.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui;

use crate::curves::curves_ui;
use crate::feed::FeedReceiver;
use crate::history::RunHistory;
use crate::landscape_panel::LandscapePanel;
use crate::local::LocalEnvs;
use crate::paint::{Camera, grid_shape, paint_cell};
use crate::scene::Drawn;
use crate::screenshot::save_png;
use crate::state::{Drive, SPEEDS, ViewerState};

/// The right-hand panel's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Learning curves.
    Curves,
    /// Loss landscapes.
    Landscape,
}

/// When to close by itself (scripts, tests, measurements).
#[derive(Debug, Clone, Default)]
pub struct AutoClose {
    /// Close after this long.
    pub after: Option<Duration>,
    /// Write a screenshot here just before closing.
    pub screenshot: Option<PathBuf>,
    /// Close once every seed of the followed training has ended.
    pub when_trained: bool,
}

/// The viewer.
pub struct Viewer {
    /// Control state.
    pub state: ViewerState,
    title: String,
    local: Option<LocalEnvs>,
    feed: Option<FeedReceiver>,
    /// What is known of the run (curves, seeds, value functions).
    pub history: Option<RunHistory>,
    landscape: Option<LandscapePanel>,
    page: Page,
    camera: Option<Camera>,
    frames: u64,
    frame_times: Vec<f64>,
    last_frame: Option<Instant>,
    started: Instant,
    max_fps: Option<f64>,
    auto_close: AutoClose,
    shot: Arc<Mutex<Option<Result<PathBuf, String>>>>,
    closing: bool,
    close_asked: Option<Instant>,
    printed: usize,
}

impl Viewer {
    /// An empty viewer; add what to show with the `with_*` methods.
    pub fn new(title: &str) -> Self {
        Self {
            state: ViewerState::new(0),
            title: title.to_string(),
            local: None,
            feed: None,
            history: None,
            landscape: None,
            page: Page::Curves,
            camera: None,
            frames: 0,
            frame_times: Vec::new(),
            last_frame: None,
            started: Instant::now(),
            max_fps: None,
            auto_close: AutoClose::default(),
            shot: Arc::new(Mutex::new(None)),
            closing: false,
            close_asked: None,
            printed: 0,
        }
    }

    /// Shows and steps these envs (with the policy they hold, if any, as the drive).
    pub fn with_local(mut self, local: LocalEnvs) -> Self {
        let messages = std::mem::take(&mut self.state.messages);
        self.state = ViewerState::new(local.spec.action_dim());
        self.state.messages = messages;
        let drive = if local.has_policy() { Drive::Policy } else { Drive::Random };
        self.local = Some(local);
        self.set_drive(drive);
        self
    }

    /// Shows a run's curves (and, for the pendulum, landscapes from its value functions).
    pub fn with_history(mut self, history: RunHistory) -> Self {
        self.history = Some(history);
        self
    }

    /// Follows live training.
    pub fn with_feed(mut self, feed: FeedReceiver) -> Self {
        self.feed = Some(feed);
        self
    }

    /// Adds the loss-landscape panel (pendulum).
    pub fn with_landscape(mut self) -> Self {
        self.landscape = Some(LandscapePanel::default());
        self
    }

    /// Which page the side panel shows first (the landscape only where it exists).
    pub fn with_page(mut self, page: Page) -> Self {
        self.page = page;
        self
    }

    /// Shows messages (errors met while preparing what to view).
    pub fn with_messages(mut self, messages: Vec<String>) -> Self {
        self.state.messages.extend(messages);
        self
    }

    /// Caps the frame rate (leaves the cores to training).
    pub fn with_max_fps(mut self, fps: f64) -> Self {
        self.max_fps = Some(fps);
        self
    }

    /// Closes by itself as told.
    pub fn with_auto_close(mut self, auto_close: AutoClose) -> Self {
        self.auto_close = auto_close;
        self
    }

    /// Sets how the viewer's own envs are driven.
    pub fn set_drive(&mut self, drive: Drive) {
        self.state.drive = drive;
        if let Some(local) = &mut self.local {
            local.set_drive(drive);
        }
    }

    /// Mean frames per second over the last frames.
    pub fn fps(&self) -> f64 {
        let n = self.frame_times.len();
        if n == 0 { 0.0 } else { n as f64 / self.frame_times.iter().sum::<f64>() }
    }

    /// Takes in what training sent and runs this frame's env steps; errors become messages.
    pub fn advance(&mut self) {
        if let (Some(feed), Some(history)) = (&self.feed, &mut self.history) {
            for event in feed.events() {
                history.apply(event);
            }
            for (seed, frame) in feed.frames() {
                history.apply_frame(seed, frame);
            }
        }
        let n = self.state.steps_this_frame();
        if let Some(local) = &mut self.local {
            for _ in 0..n {
                if let Err(e) = local.step(self.state.drive, &self.state.sliders) {
                    self.state.report(format!("step {}: {e:#}", self.state.steps));
                    return;
                }
                self.state.stepped(1);
            }
        }
        if let (Some(panel), Some(history)) = (&mut self.landscape, &self.history)
            && let Some(values) = history.values.values().next()
            && panel.needs(history.values_version)
        {
            panel.compute(&values.agent.value_oracle(), history.values_version);
        }
    }

    /// The cells to draw: shapes and a label each.
    fn cells(&self) -> Vec<(Vec<Drawn>, String)> {
        if let Some(local) = &self.local {
            return (0..local.len())
                .map(|i| {
                    let ep = local.episode(i);
                    (local.shapes(i), format!("#{i} · t {} · return {:.1}", ep.length, ep.ret))
                })
                .collect();
        }
        let Some(history) = &self.history else { return Vec::new() };
        history
            .seeds
            .iter()
            .filter_map(|(seed, h)| {
                let f = h.frame.as_ref()?;
                Some((
                    f.shapes.clone(),
                    format!("seed {seed} · step {} · t {} · return {:.1}", f.env_steps, f.episode_length, f.episode_return),
                ))
            })
            .collect()
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.strong(&self.title);
            if self.local.is_some() {
                if ui.button(if self.state.paused { "run" } else { "pause" }).clicked() {
                    self.state.paused = !self.state.paused;
                }
                if ui.button("step").clicked() {
                    self.state.single_step();
                }
                if ui.button("slower").clicked() {
                    self.state.slower();
                }
                ui.label(format!("{} steps/frame", SPEEDS[self.state.speed]));
                if ui.button("faster").clicked() {
                    self.state.faster();
                }
                ui.separator();
                let has_policy = self.local.as_ref().is_some_and(LocalEnvs::has_policy);
                for (drive, label) in
                    [(Drive::Random, "random"), (Drive::Zero, "zero"), (Drive::Sliders, "sliders"), (Drive::Policy, "policy")]
                {
                    if (drive != Drive::Policy || has_policy) && ui.radio(self.state.drive == drive, label).clicked() {
                        self.set_drive(drive);
                    }
                }
                if self.state.selected.is_some() && ui.button("grid").clicked() {
                    self.state.selected = None;
                }
                ui.separator();
                ui.label(format!("step {}", self.state.steps));
            }
            ui.label(format!("{:.0} fps", self.fps()));
        });
        if self.state.drive == Drive::Sliders
            && let Some(local) = &self.local
        {
            ui.horizontal_wrapped(|ui| {
                let space = &local.spec.action_space;
                for (d, v) in self.state.sliders.iter_mut().enumerate() {
                    ui.add(egui::Slider::new(v, space.low[d]..=space.high[d]).text(format!("a{d}")));
                }
            });
        }
    }

    fn scene(&mut self, ui: &mut egui::Ui) {
        let cells = self.cells();
        if cells.is_empty() {
            ui.label(if self.feed.is_some() { "waiting for the training envs…" } else { "no envs to show" });
            return;
        }
        for (shapes, _) in &cells {
            Camera::fit(&mut self.camera, shapes);
        }
        let avail = ui.available_size();
        if let Some(i) = self.state.selected.filter(|i| *i < cells.len()) {
            let (shapes, label) = &cells[i];
            if paint_cell(ui, shapes, self.camera, avail, label).clicked() {
                self.state.selected = None;
            }
            return;
        }
        let (cols, rows) = grid_shape(cells.len());
        let size = egui::vec2(avail.x / cols as f32 - 4.0, avail.y / rows as f32 - 4.0);
        egui::Grid::new("envs").spacing([4.0, 4.0]).show(ui, |ui| {
            for (i, (shapes, label)) in cells.iter().enumerate() {
                if paint_cell(ui, shapes, self.camera, size, label).clicked() {
                    self.state.selected = Some(i);
                }
                if (i + 1) % cols == 0 {
                    ui.end_row();
                }
            }
        });
    }

    fn side(&mut self, ui: &mut egui::Ui) {
        let Some(history) = &self.history else { return };
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.page, Page::Curves, "curves");
            if self.landscape.is_some() {
                ui.selectable_value(&mut self.page, Page::Landscape, "loss landscape");
            }
        });
        for line in history.summary() {
            ui.small(line);
        }
        match (self.page, &mut self.landscape) {
            (Page::Landscape, Some(panel)) => {
                let caption = history
                    .values
                    .values()
                    .next()
                    .map_or(String::new(), |v| format!("seed {}'s value functions after epoch {}", v.seed, v.epoch));
                panel.ui(ui, &caption);
            }
            _ => curves_ui(ui, history),
        }
    }

    fn messages(&self) -> Vec<String> {
        let mut all = self.state.messages.clone();
        if let Some(h) = &self.history {
            all.extend(h.problems());
        }
        if let Ok(guard) = self.shot.lock()
            && let Some(Err(e)) = &*guard
        {
            all.push(format!("screenshot: {e}"));
        }
        all
    }

    fn auto_close(&mut self, ctx: &egui::Context) {
        let trained = self.auto_close.when_trained && self.history.as_ref().is_some_and(RunHistory::all_ended);
        let due = self.auto_close.after.is_some_and(|after| self.started.elapsed() >= after);
        if self.closing || !(due || trained) {
            return;
        }
        let first_call = self.close_asked.is_none();
        let asked_at = *self.close_asked.get_or_insert(Instant::now());
        if let Some(path) = self.auto_close.screenshot.clone() {
            if first_call {
                let slot = self.shot.clone();
                ctx.request_screenshot(move |image| {
                    let result = save_png(&image, &path).map(|_| path).map_err(|e| format!("{e:#}"));
                    *slot.lock().expect("not poisoned") = Some(result);
                });
                return;
            }
            let done = self.shot.lock().expect("not poisoned").is_some();
            // A renderer that never delivers must not keep the window open forever.
            if !done && asked_at.elapsed() < Duration::from_secs(10) {
                return;
            }
        }
        match self.shot.lock().expect("not poisoned").as_ref() {
            Some(Ok(p)) => eprintln!("viewer: screenshot written to {}", p.display()),
            Some(Err(e)) => eprintln!("viewer: screenshot failed: {e}"),
            None if self.auto_close.screenshot.is_some() => eprintln!("viewer: no screenshot arrived from the renderer"),
            None => {}
        }
        eprintln!(
            "viewer: {} frames in {:.1} s, {:.1} fps over the last {} frames",
            self.frames,
            self.started.elapsed().as_secs_f64(),
            self.fps(),
            self.frame_times.len()
        );
        self.closing = true;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }
}

impl eframe::App for Viewer {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let now = Instant::now();
        if let Some(last) = self.last_frame.replace(now) {
            self.frame_times.push(now.duration_since(last).as_secs_f64());
            if self.frame_times.len() > 120 {
                self.frame_times.remove(0);
            }
        }
        ui.input(|i| {
            if i.key_pressed(egui::Key::Space) {
                self.state.paused = !self.state.paused;
            }
            if i.key_pressed(egui::Key::ArrowRight) {
                self.state.single_step();
            }
        });
        self.advance();
        egui::Panel::top("controls").show(ui, |ui| self.controls(ui));
        let messages = self.messages();
        // Also on stderr, once each, for scripts and logs.
        for m in messages.iter().skip(self.printed) {
            eprintln!("viewer: {m}");
        }
        self.printed = self.printed.max(messages.len());
        if !messages.is_empty() {
            egui::Panel::bottom("messages").show(ui, |ui| {
                for m in &messages {
                    ui.colored_label(egui::Color32::RED, m);
                }
            });
        }
        if self.history.is_some() {
            let width = ui.available_width() * 0.45;
            egui::Panel::right("side").default_size(width).min_size(width).show(ui, |ui| self.side(ui));
        }
        egui::CentralPanel::default_margins().show(ui, |ui| self.scene(ui));
        self.frames += 1;
        let ctx = ui.ctx().clone();
        self.auto_close(&ctx);
        match self.max_fps {
            Some(fps) => ctx.request_repaint_after(Duration::from_secs_f64(1.0 / fps.max(1.0))),
            None => ctx.request_repaint(),
        }
    }
}

/// Opens the viewer window (needs a display). The renderer is OpenGL (glow) unless
/// `VAGRAM_RENDERER=wgpu`: under Xvfb's software OpenGL it draws several times faster.
pub fn run_viewer(viewer: Viewer) -> anyhow::Result<()> {
    let renderer = match std::env::var("VAGRAM_RENDERER").as_deref() {
        Ok("wgpu") => eframe::Renderer::Wgpu,
        _ => eframe::Renderer::Glow,
    };
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1280.0, 800.0]),
        renderer,
        ..Default::default()
    };
    eframe::run_native("vagram viewer", native, Box::new(|_| Ok(Box::new(viewer))))
        .map_err(|e| anyhow::anyhow!("the viewer could not open a window: {e} (is there a display? try `xvfb-run -a vagram view …`)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{Frame, SeedEnd, TrainEvent, feed};
    use crate::local::LocalOptions;

    fn local(env: &str, n: usize) -> LocalEnvs {
        LocalEnvs::new(&vagram_envs::builtin_registry(), &LocalOptions { env: env.into(), envs: n, seed: 0, distractors: None }).unwrap()
    }

    #[test]
    fn stepping_follows_the_controls() {
        let mut v = Viewer::new("t").with_local(local("cartpole", 4));
        v.advance();
        assert_eq!(v.state.steps, 1);
        v.state.paused = true;
        v.advance();
        assert_eq!(v.state.steps, 1);
        v.state.single_step();
        v.advance();
        assert_eq!(v.state.steps, 2);
        assert_eq!(v.cells().len(), 4);
    }

    #[test]
    fn training_events_reach_the_curves_and_frames_the_scene() {
        let (tx, rx) = feed(4);
        let header = ["epoch", "env_steps", "eval_return"];
        let mut v = Viewer::new("t").with_history(RunHistory::new(&header)).with_feed(rx);
        assert!(v.cells().is_empty());
        tx.send(TrainEvent::Epoch { seed: 3, values: vec![0.0, 200.0, -900.0] });
        let shapes = local("pendulum", 1).shapes(0);
        tx.offer_frame(3, Frame { shapes, env_steps: 250, episode_return: -12.0, episode_length: 50 });
        tx.send(TrainEvent::Ended { seed: 3, end: SeedEnd::Stopped("epoch 1: non-finite SAC loss".into()) });
        v.advance();
        let h = v.history.as_ref().unwrap();
        assert_eq!(h.series("eval_return"), vec![(3, vec![[200.0, -900.0]])]);
        let cells = v.cells();
        assert_eq!(cells.len(), 1);
        assert!(cells[0].1.contains("seed 3 · step 250"), "{}", cells[0].1);
        assert!(v.messages().iter().any(|m| m.contains("non-finite SAC loss")), "a stopped seed is shown");
    }

    #[test]
    fn a_failing_step_is_a_message_and_pauses() {
        let mut v = Viewer::new("t").with_local(local("pendulum", 1));
        v.set_drive(Drive::Policy);
        v.advance();
        assert!(v.state.paused);
        assert!(v.messages()[0].contains("no policy"), "{:?}", v.messages());
    }
}
