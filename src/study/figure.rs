//! A study's figure in the paper's layout: one panel per setting, every line overlaid (mean ±
//! standard error over its seeds, as far as they have got), the paper's reference lines for the
//! study's scale; written as `figure.png` and `figure.svg` in the study directory.

use std::path::PathBuf;

use super::study_dir::StudyDir;
use crate::plot::curves::read_logged_curve;
use crate::plot::panels::{Figure, Panel, ReferenceLine, draw_figure};

/// The figure's PNG name in the study directory (the SVG has the same stem).
pub const FIGURE: &str = "figure.png";

/// The study's figure as data: cells and seeds with no logged evaluation yet are left out.
pub fn figure(study: &StudyDir) -> anyhow::Result<Figure> {
    let def = &study.def;
    let scale = study.manifest.scale;
    let references: Vec<ReferenceLine> = def
        .references
        .iter()
        .filter(|r| r.scales.contains(&scale))
        .map(|r| ReferenceLine { label: r.label.clone(), value: r.value })
        .collect();
    let mut panels = Vec::new();
    for setting in &def.settings {
        let mut curves = Vec::new();
        for cell in study.cells.iter().filter(|c| c.setting == setting.name) {
            let run = study.cell_dir(&cell.name);
            if !run.is_dir() {
                continue;
            }
            let line = def.line(&cell.line).expect("a cell's line is the study's");
            let label = line.label.as_deref().unwrap_or(&line.name);
            if let Some(curve) = read_logged_curve(&run, def.x_column(), &def.metric, label)? {
                curves.push(curve);
            }
        }
        panels.push(Panel { title: setting.label.clone().unwrap_or_else(|| setting.name.clone()), curves, references: references.clone() });
    }
    Ok(Figure {
        title: format!("{} — {} scale, mean ± SE over seeds", def.title, scale),
        x_label: def.x_column().replace('_', " "),
        y_label: def.metric.replace('_', " "),
        panels,
        shared_y: def.shared_y,
    })
}

/// Draws the study's figure into its directory; returns the PNG's and the SVG's paths.
pub fn draw(study: &StudyDir) -> anyhow::Result<(PathBuf, PathBuf)> {
    let png = study.dir.join(FIGURE);
    let svg = draw_figure(&figure(study)?, &png)?;
    Ok((png, svg))
}
