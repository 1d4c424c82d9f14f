//! Learning curves (egui_plot): evaluation return per seed with the mean ± standard error band,
//! the model's losses (log10: they span decades) and SAC's losses and temperature.

use eframe::egui;
use egui_plot::{FilledArea, Legend, Line, Plot};

use crate::history::RunHistory;

/// A distinct colour per seed.
pub fn seed_color(i: usize) -> egui::Color32 {
    const PALETTE: [(u8, u8, u8); 8] =
        [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127)];
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    egui::Color32::from_rgb(r, g, b)
}

fn log10(points: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    points.into_iter().filter(|p| p[1] > 0.0).map(|p| [p[0], p[1].log10()]).collect()
}

/// Draws the three plots stacked in the available space.
pub fn curves_ui(ui: &mut egui::Ui, history: &RunHistory) {
    let height = ((ui.available_height() - 40.0) / 3.0).max(80.0);
    let plot = |id: &str, y: &str| {
        Plot::new(id.to_string()).height(height).legend(Legend::default()).x_axis_label("env steps").y_axis_label(y.to_string())
    };
    ui.small("evaluation return (per seed; mean ± standard error shaded)");
    plot("eval", "return").show(ui, |p| {
        let mean = history.mean_curve("eval_return");
        if mean.len() > 1 {
            let xs: Vec<f64> = mean.iter().map(|m| m[0]).collect();
            let lo: Vec<f64> = mean.iter().map(|m| m[1] - m[2]).collect();
            let hi: Vec<f64> = mean.iter().map(|m| m[1] + m[2]).collect();
            p.add(FilledArea::new("mean ± SE", &xs, &lo, &hi).fill_color(egui::Color32::from_rgba_unmultiplied(100, 100, 100, 50)));
            p.line(Line::new("mean", mean.iter().map(|m| [m[0], m[1]]).collect::<Vec<_>>()).color(egui::Color32::BLACK).width(2.0));
        }
        for (i, (seed, points)) in history.series("eval_return").into_iter().enumerate() {
            p.line(Line::new(format!("seed {seed}"), points).color(seed_color(i)));
        }
    });
    ui.small("model: log10 of training / validation loss and VAML error of the elites");
    plot("model", "log10 loss").show(ui, |p| {
        styled_lines(p, history, [("train", "model_train_loss"), ("validation", "model_val_loss"), ("VAML error", "vaml_error")], true);
    });
    ui.small("SAC: critic loss, actor loss, α");
    plot("sac", "loss").show(ui, |p| styled_lines(p, history, [("critic", "critic_loss"), ("actor", "actor_loss"), ("α", "alpha")], false));
}

/// Three metrics per seed: solid, dashed and dotted lines in the seed's colour (log10 if asked).
fn styled_lines(p: &mut egui_plot::PlotUi<'_>, history: &RunHistory, metrics: [(&str, &str); 3], log: bool) {
    let styles = [egui_plot::LineStyle::Solid, egui_plot::LineStyle::dashed_loose(), egui_plot::LineStyle::dotted_dense()];
    for ((name, column), style) in metrics.into_iter().zip(styles) {
        for (i, (seed, points)) in history.series(column).into_iter().enumerate() {
            let points = if log { log10(points) } else { points };
            p.line(Line::new(format!("{name} · seed {seed}"), points).color(seed_color(i)).style(style));
        }
    }
}
