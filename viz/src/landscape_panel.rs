//! The loss-landscape panel (paper Fig. 1, live): the pendulum's value function over the whole
//! state space (click it to pick the sample), and the VAML, MSE and VaGraM losses of a model
//! prediction around that sample — recomputed whenever training delivers new value functions.

use eframe::egui;
use vagram_learn::landscape::{Landscape, PendulumCoordinates, landscape};
use vagram_learn::losses::ValueOracle;

/// The value panel's extent: θ ∈ [−π, π], θ̇ ∈ [−8, 8] (the pendulum's speed limit).
pub const STATE_RANGE: [[f64; 2]; 2] = [[-std::f64::consts::PI, std::f64::consts::PI], [-8.0, 8.0]];

/// Grids of one computation.
pub struct Computed {
    /// The value function over [`STATE_RANGE`] (the landscape's `value` grid).
    pub overview: Landscape,
    /// The losses around the sample.
    pub around: Landscape,
    /// The value-function version it was computed from.
    pub version: u64,
}

/// The panel's state: the sample, the window around it, the grid size and the last result.
pub struct LandscapePanel {
    /// The sample (θ, θ̇) the losses are taken around.
    pub reference: [f64; 2],
    /// Half-width of the loss panels' window.
    pub window: f64,
    /// Grid points per axis.
    pub grid: usize,
    computed: Option<Computed>,
    dirty: bool,
}

impl Default for LandscapePanel {
    fn default() -> Self {
        Self { reference: [2.0, 1.0], window: 1.0, grid: 61, computed: None, dirty: true }
    }
}

/// Viridis-like colour for `t` in [0, 1].
pub fn colormap(t: f64) -> egui::Color32 {
    const STOPS: [[f64; 3]; 5] = [[68.0, 1.0, 84.0], [59.0, 82.0, 139.0], [33.0, 145.0, 140.0], [94.0, 201.0, 98.0], [253.0, 231.0, 37.0]];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let c = |k: usize| (STOPS[i][k] + f * (STOPS[i + 1][k] - STOPS[i][k])).round() as u8;
    egui::Color32::from_rgb(c(0), c(1), c(2))
}

/// A grid (row-major, rows along the second axis, first row at the bottom) as an image with
/// the top row first, coloured from its own minimum to maximum.
pub fn grid_image(values: &[f64], n: usize) -> egui::ColorImage {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mut pixels = Vec::with_capacity(n * n);
    for row in (0..n).rev() {
        for col in 0..n {
            pixels.push(colormap((values[row * n + col] - lo) / span));
        }
    }
    egui::ColorImage::new([n, n], pixels)
}

/// The state at fraction `(u, v)` of a panel spanning `range` (u rightwards, v downwards).
pub fn state_at(range: [[f64; 2]; 2], u: f64, v: f64) -> [f64; 2] {
    [range[0][0] + u.clamp(0.0, 1.0) * (range[0][1] - range[0][0]), range[1][1] - v.clamp(0.0, 1.0) * (range[1][1] - range[1][0])]
}

impl LandscapePanel {
    /// Moves the sample (clamped to the state range); the next frame recomputes.
    pub fn pick(&mut self, reference: [f64; 2]) {
        self.reference =
            [reference[0].clamp(STATE_RANGE[0][0], STATE_RANGE[0][1]), reference[1].clamp(STATE_RANGE[1][0], STATE_RANGE[1][1])];
        self.dirty = true;
    }

    /// Whether value functions of `version` need a recomputation.
    pub fn needs(&self, version: u64) -> bool {
        self.dirty || self.computed.as_ref().is_none_or(|c| c.version != version)
    }

    /// Recomputes every grid from `values` (of version `version`).
    pub fn compute(&mut self, values: &dyn ValueOracle, version: u64) {
        let r = self.reference;
        let overview = landscape(values, &PendulumCoordinates, r, STATE_RANGE[0], STATE_RANGE[1], self.grid);
        let w = self.window;
        let around = landscape(values, &PendulumCoordinates, r, [r[0] - w, r[0] + w], [r[1] - w, r[1] + w], self.grid);
        self.computed = Some(Computed { overview, around, version });
        self.dirty = false;
    }

    /// The latest result.
    pub fn computed(&self) -> Option<&Computed> {
        self.computed.as_ref()
    }

    /// Draws the four panels; a click on the value panel picks a new sample.
    pub fn ui(&mut self, ui: &mut egui::Ui, caption: &str) {
        let Some(c) = &self.computed else {
            ui.label("waiting for the first value functions (after the first epoch)…");
            return;
        };
        let n = self.grid;
        let g = c.around.gradient;
        ui.label(format!(
            "{caption} · sample (θ, dθ/dt) = ({:.2}, {:.2}) · ∂V/∂(θ, dθ/dt) = ({:.2}, {:.2})",
            self.reference[0], self.reference[1], g[0], g[1]
        ));
        let side = ((ui.available_width() - 24.0) / 2.0).min((ui.available_height() - 60.0) / 2.0).max(80.0);
        let images = [
            ("value V (click to pick the sample)", grid_image(&c.overview.value, n), STATE_RANGE, true),
            ("VAML (V(s') − V(ŝ))²", grid_image(&c.around.vaml, n), self.window_range(), false),
            ("MSE ‖ŝ − s'‖²", grid_image(&c.around.mse, n), self.window_range(), false),
            ("VaGraM Σ (∂V/∂s_d)² (ŝ_d − s'_d)²", grid_image(&c.around.vagram, n), self.window_range(), false),
        ];
        let mut picked = None;
        egui::Grid::new("landscape").spacing([8.0, 4.0]).show(ui, |ui| {
            for (k, (title, image, range, clickable)) in images.into_iter().enumerate() {
                ui.vertical(|ui| {
                    ui.small(title);
                    let texture = ui.ctx().load_texture(format!("landscape-{k}"), image, egui::TextureOptions::LINEAR);
                    let response = ui.add(egui::Image::new(&texture).fit_to_exact_size(egui::vec2(side, side)).sense(egui::Sense::click()));
                    let rect = response.rect;
                    let to_screen = |s: [f64; 2]| {
                        let u = (s[0] - range[0][0]) / (range[0][1] - range[0][0]);
                        let v = (range[1][1] - s[1]) / (range[1][1] - range[1][0]);
                        rect.min + egui::vec2(u as f32 * rect.width(), v as f32 * rect.height())
                    };
                    ui.painter().circle_stroke(to_screen(self.reference), 4.0, egui::Stroke::new(2.0, egui::Color32::RED));
                    if clickable
                        && response.clicked()
                        && let Some(p) = response.interact_pointer_pos()
                    {
                        let (u, v) = ((p.x - rect.min.x) / rect.width(), (p.y - rect.min.y) / rect.height());
                        picked = Some(state_at(range, u as f64, v as f64));
                    }
                });
                if k % 2 == 1 {
                    ui.end_row();
                }
            }
        });
        if let Some(p) = picked {
            self.pick(p);
        }
    }

    fn window_range(&self) -> [[f64; 2]; 2] {
        let (r, w) = (self.reference, self.window);
        [[r[0] - w, r[0] + w], [r[1] - w, r[1] + w]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vagram_learn::value_grad::ValueGradients;

    /// V = −(θ² + 0.1 θ̇²) written in observations (cos θ, sin θ, θ̇) via atan2.
    struct Cost;

    impl ValueOracle for Cost {
        fn evaluate(&self, states: &[f32]) -> ValueGradients {
            let mut values = Vec::new();
            let mut grads = Vec::new();
            for o in states.chunks(3) {
                let th = o[1].atan2(o[0]);
                values.push(-(th * th + 0.1 * o[2] * o[2]));
                // ∂θ/∂cos = −sin, ∂θ/∂sin = cos (on the unit circle).
                grads.extend([2.0 * th * o[1], -2.0 * th * o[0], -0.2 * o[2]]);
            }
            ValueGradients { values: vec![values], grads: vec![grads] }
        }
    }

    #[test]
    fn clicks_map_to_states_and_corners_are_the_range() {
        assert_eq!(state_at(STATE_RANGE, 0.0, 0.0), [-std::f64::consts::PI, 8.0]);
        assert_eq!(state_at(STATE_RANGE, 1.0, 1.0), [std::f64::consts::PI, -8.0]);
        assert_eq!(state_at(STATE_RANGE, 0.5, 0.5), [0.0, 0.0]);
        assert_eq!(state_at(STATE_RANGE, 2.0, -1.0), [std::f64::consts::PI, 8.0], "clamped");
    }

    #[test]
    fn the_panel_recomputes_on_new_values_or_a_new_sample_only() {
        let mut p = LandscapePanel { grid: 21, ..LandscapePanel::default() };
        assert!(p.needs(0));
        p.compute(&Cost, 0);
        assert!(!p.needs(0) && p.needs(1));
        p.pick([0.5, 20.0]);
        assert_eq!(p.reference, [0.5, 8.0], "θ̇ clamped to the speed limit");
        assert!(p.needs(0));
        p.compute(&Cost, 0);
        let c = p.computed().unwrap();
        // The value peaks at the upright state (centre of the overview), VaGraM is zero at the sample.
        let n = 21;
        let best = (0..n * n).max_by(|a, b| c.overview.value[*a].total_cmp(&c.overview.value[*b])).unwrap();
        assert_eq!(best, (n / 2) * n + n / 2);
        assert!(c.around.vagram[(n / 2) * n + n / 2].abs() < 1e-9);
        // ∂V/∂θ̇ = −0.2 θ̇ = −1.6 at θ̇ = 8.
        assert!((c.around.gradient[1] + 1.6).abs() < 1e-4, "{:?}", c.around.gradient);
    }

    #[test]
    fn images_run_from_dark_minimum_to_bright_maximum_top_row_first() {
        let img = grid_image(&[0.0, 1.0, 2.0, 3.0], 2);
        // Rows go bottom-up in the grid, top-down in the image.
        assert_eq!(img.pixels[2], colormap(0.0));
        assert_eq!(img.pixels[1], colormap(1.0));
        assert_eq!(colormap(f64::NAN), colormap(0.0));
    }
}
