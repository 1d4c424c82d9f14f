//! Learning curves like the paper's figures: for each run, the mean over its seeds of a metric
//! (eval return by default) against env steps, with a shaded band of ± one standard error.

use std::path::Path;

use anyhow::{Context, bail};
use plotters::prelude::*;

use crate::train::run_dir::{METRICS, Metrics, seed_dir, seeds_in};

/// One run's curve: x values and, per x, the mean and standard error over seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend label.
    pub label: String,
    /// Env steps.
    pub x: Vec<f64>,
    /// Mean over the seeds that reached this x.
    pub mean: Vec<f64>,
    /// Standard error of the mean (0 with one seed).
    pub se: Vec<f64>,
    /// Seeds read.
    pub seeds: usize,
}

/// Mean and standard error of finite values (`None` when there are none).
pub fn mean_se(values: &[f64]) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return Some((mean, 0.0));
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((mean, (var / n).sqrt()))
}

/// Reads the curve of `metric` over the seeds of run directory `run`.
pub fn read_curve(run: &Path, metric: &str, label: &str) -> anyhow::Result<Curve> {
    let seeds = seeds_in(run)?;
    let mut per_seed = Vec::new();
    for s in &seeds {
        let path = seed_dir(run, *s).join(METRICS);
        if !path.is_file() {
            continue;
        }
        let m = Metrics::read(&path)?;
        let x = m.column("env_steps").with_context(|| format!("{}: no env_steps column", path.display()))?;
        let y = m.column(metric).with_context(|| format!("{}: no column '{metric}' (columns: {})", path.display(), m.header.join(", ")))?;
        per_seed.push((x, y));
    }
    if per_seed.is_empty() {
        bail!("{}: no seed has a {METRICS} yet", run.display());
    }
    let longest = per_seed.iter().max_by_key(|(x, _)| x.len()).expect("non-empty").0.clone();
    let (mut x, mut mean, mut se) = (Vec::new(), Vec::new(), Vec::new());
    for (i, xi) in longest.iter().enumerate() {
        let ys: Vec<f64> = per_seed.iter().filter_map(|(_, y)| y.get(i).copied()).collect();
        if let Some((m, e)) = mean_se(&ys) {
            x.push(*xi);
            mean.push(m);
            se.push(e);
        }
    }
    Ok(Curve { label: label.into(), x, mean, se, seeds: per_seed.len() })
}

/// Draws `curves` into one PNG at `path`.
pub fn draw_curves(curves: &[Curve], path: &Path, title: &str, y_label: &str) -> anyhow::Result<()> {
    super::check_png_path(path)?;
    super::register_fonts();
    let points = curves.iter().flat_map(|c| c.x.iter().zip(c.mean.iter().zip(&c.se)));
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::MAX, f64::MIN);
    for (x, (m, e)) in points {
        x_max = x_max.max(*x);
        y_min = y_min.min(m - e);
        y_max = y_max.max(m + e);
    }
    if y_min > y_max {
        bail!("nothing to plot: every value is missing");
    }
    let pad = ((y_max - y_min) * 0.05).max(1e-6);
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, (y_min - pad)..(y_max + pad))?;
    chart.configure_mesh().x_desc("env steps").y_desc(y_label).label_style(("sans-serif", 15)).draw()?;
    for (i, c) in curves.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let band: Vec<(f64, f64)> =
            c.x.iter()
                .zip(c.mean.iter().zip(&c.se))
                .map(|(x, (m, e))| (*x, m + e))
                .chain(c.x.iter().zip(c.mean.iter().zip(&c.se)).rev().map(|(x, (m, e))| (*x, m - e)))
                .collect();
        chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))?;
        let label = format!("{} ({} seed{})", c.label, c.seeds, if c.seeds == 1 { "" } else { "s" });
        chart
            .draw_series(LineSeries::new(c.x.iter().copied().zip(c.mean.iter().copied()), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()?;
    root.present().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::mean_se;

    #[test]
    fn mean_and_standard_error() {
        let (m, se) = mean_se(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(m, 2.5);
        // sample std = sqrt(5/3); se = std / 2
        assert!((se - (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
        assert_eq!(mean_se(&[f64::NAN, 7.0]), Some((7.0, 0.0)), "missing values are skipped");
        assert_eq!(mean_se(&[f64::NAN]), None);
    }
}
