//! Learning curves like the paper's figures: for each run, the mean over its seeds of a metric
//! (eval return by default) against env steps, with a shaded band of ± one standard error.

use std::path::Path;

use anyhow::{Context, bail};

use super::panels::{Figure, Panel, draw_figure};

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

/// Reads the curve of `metric` against env steps over the seeds of run directory `run`.
pub fn read_curve(run: &Path, metric: &str, label: &str) -> anyhow::Result<Curve> {
    read_curve_against(run, "env_steps", metric, label)
}

/// Reads the curve of `metric` against the column `x` over the seeds of run directory `run`.
pub fn read_curve_against(run: &Path, x_column: &str, metric: &str, label: &str) -> anyhow::Result<Curve> {
    let seeds = seeds_in(run)?;
    let mut per_seed = Vec::new();
    for s in &seeds {
        let path = seed_dir(run, *s).join(METRICS);
        if !path.is_file() {
            continue;
        }
        let m = Metrics::read(&path)?;
        let x = m.column(x_column).with_context(|| format!("{}: no {x_column} column", path.display()))?;
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

/// Draws `curves` into one panel, as the PNG `path` and an SVG beside it.
pub fn draw_curves(curves: &[Curve], path: &Path, title: &str, y_label: &str) -> anyhow::Result<()> {
    let panel = Panel { title: String::new(), curves: curves.to_vec(), references: Vec::new() };
    let figure = Figure { title: title.into(), x_label: "env steps".into(), y_label: y_label.into(), panels: vec![panel], shared_y: true };
    draw_figure(&figure, path)?;
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
