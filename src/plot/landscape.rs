//! The four panels of paper Fig. 1 as one PNG: value function, VAML, MSE and VaGraM losses
//! around a reference transition, with the reference marked.

use std::path::Path;

use plotters::prelude::*;

use crate::learn::landscape::Landscape;

/// Draws `l` to `path` (`size` pixels per panel side).
pub fn draw_landscape(l: &Landscape, path: &Path, size: u32, labels: [&str; 2]) -> anyhow::Result<()> {
    super::check_png_path(path)?;
    super::register_fonts();
    let root = super::text::GlyphFixed(BitMapBackend::new(path, (4 * size, size + 40))).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(40);
    title.titled(
        &format!(
            "Loss landscapes around ({}, {}) = ({:.2}, {:.2});  ∂V/∂({}, {}) = ({:.2}, {:.2})",
            labels[0], labels[1], l.reference[0], l.reference[1], labels[0], labels[1], l.gradient[0], l.gradient[1]
        ),
        ("sans-serif", 20),
    )?;
    let panels = body.split_evenly((1, 4));
    let grids: [(&str, &[f64], bool); 4] = [
        ("value function V", &l.value, false),
        ("VAML (V(s') − V(ŝ))²", &l.vaml, true),
        ("MSE ‖ŝ − s'‖²", &l.mse, true),
        ("VaGraM", &l.vagram, true),
    ];
    for (panel, (name, grid, sqrt)) in panels.iter().zip(grids) {
        draw_panel(panel, l, name, grid, sqrt, labels)?;
    }
    root.present()?;
    Ok(())
}

fn draw_panel(
    area: &DrawingArea<super::text::GlyphFixed<BitMapBackend>, plotters::coord::Shift>,
    l: &Landscape,
    name: &str,
    grid: &[f64],
    sqrt: bool,
    labels: [&str; 2],
) -> anyhow::Result<()> {
    let (x0, x1) = (l.xs[0], *l.xs.last().expect("grid"));
    let (y0, y1) = (l.ys[0], *l.ys.last().expect("grid"));
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart.configure_mesh().disable_mesh().x_desc(labels[0]).y_desc(labels[1]).label_style(("sans-serif", 12)).draw()?;
    // Losses are shown on a square-root scale so their shape is visible far from the minimum.
    let shown: Vec<f64> = grid.iter().map(|v| if sqrt { v.max(0.0).sqrt() } else { *v }).collect();
    let (lo, hi) = shown.iter().fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let (dx, dy) = ((x1 - x0) / (l.xs.len() - 1) as f64, (y1 - y0) / (l.ys.len() - 1) as f64);
    let n = l.xs.len();
    chart.draw_series(shown.iter().enumerate().map(|(i, v)| {
        let (x, y) = (l.xs[i % n], l.ys[i / n]);
        let t = ((v - lo) / (hi - lo).max(1e-12)) as f32;
        let color = ViridisRGB::get_color_normalized(t, 0.0, 1.0);
        Rectangle::new([(x - dx / 2.0, y - dy / 2.0), (x + dx / 2.0, y + dy / 2.0)], color.filled())
    }))?;
    let r = (l.reference[0], l.reference[1]);
    chart.draw_series([Cross::new(r, 8, RED.stroke_width(3)), Cross::new(r, 8, RED.stroke_width(3))])?;
    Ok(())
}
