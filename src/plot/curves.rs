//! Learning curves like the paper's figures: for each run, the mean over its seeds of a metric
//! (eval return by default) against env steps, with a shaded band of ± one standard error.

use std::path::Path;

use anyhow::Context;

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

/// Reads the curve of `metric` against the column `x` over the seeds of run directory `run`;
/// an error when no seed has logged an evaluation yet.
pub fn read_curve_against(run: &Path, x_column: &str, metric: &str, label: &str) -> anyhow::Result<Curve> {
    read_logged_curve(run, x_column, metric, label)?
        .with_context(|| format!("{}: no seed has logged an evaluation in its {METRICS} yet", run.display()))
}

/// The curve of `metric` against the column `x` over the seeds of `run` that have logged at
/// least one evaluation (a seed that has only just started, its file a bare header, is not
/// counted); `None` when there is none yet.
pub fn read_logged_curve(run: &Path, x_column: &str, metric: &str, label: &str) -> anyhow::Result<Option<Curve>> {
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
        if !x.is_empty() {
            per_seed.push((x, y));
        }
    }
    if per_seed.is_empty() {
        return Ok(None);
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
    Ok(Some(Curve { label: label.into(), x, mean, se, seeds: per_seed.len() }))
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
    use super::{mean_se, read_curve_against, read_logged_curve};
    use crate::train::run_dir::{METRICS, seed_dir};

    /// Writes seed `seed`'s metrics file in `run` with `rows` of (env_steps, eval_return).
    fn write_seed(run: &std::path::Path, seed: u64, rows: &[(f64, f64)]) {
        let dir = seed_dir(run, seed);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::from("epoch,env_steps,eval_return\n");
        for (i, (x, y)) in rows.iter().enumerate() {
            text += &format!("{},{x},{y}\n", i + 1);
        }
        std::fs::write(dir.join(METRICS), text).unwrap();
    }

    #[test]
    fn a_seed_with_only_a_header_is_not_counted() {
        let run = tempfile::tempdir().unwrap();
        write_seed(run.path(), 0, &[]);
        write_seed(run.path(), 1, &[]);
        assert!(read_logged_curve(run.path(), "env_steps", "eval_return", "a").unwrap().is_none());
        let err = read_curve_against(run.path(), "env_steps", "eval_return", "a").unwrap_err().to_string();
        assert!(err.contains("no seed has logged an evaluation"), "{err}");

        write_seed(run.path(), 2, &[(100.0, 4.0), (200.0, 6.0)]);
        write_seed(run.path(), 3, &[(100.0, 2.0)]);
        let curve = read_logged_curve(run.path(), "env_steps", "eval_return", "a").unwrap().unwrap();
        assert_eq!(curve.seeds, 2, "two seeds have logged; the two bare headers are left out");
        assert_eq!(curve.x, vec![100.0, 200.0]);
        assert_eq!(curve.mean, vec![3.0, 6.0]);
        assert_eq!(curve.se[1], 0.0, "one seed reached 200 steps");
    }

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
