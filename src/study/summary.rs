//! A study's numbers: per seed the final score (the mean of the last 10% of its evaluations,
//! at least one), the mean over all evaluations (the area under the curve divided by its
//! length) and, where the study says what solving is, the first x at which it solved; per cell
//! those scores averaged over the finished seeds with the standard error; and per setting the
//! difference of the compared lines ([`StudyDef::comparisons`]), in both scores, with a 95% Welch
//! confidence interval (Student's t with Welch–Satterthwaite degrees of freedom).
//!
//! [`StudyDef::comparisons`]: super::definition::StudyDef::comparisons

use std::path::Path;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::study_dir::StudyDir;
use crate::plot::curves::mean_se;
use crate::train::run_dir::{METRICS, Metrics, TIMINGS, seed_dir, seed_finished};

/// The summary's file name in the study directory.
pub const SUMMARY: &str = "summary.csv";
/// The differences' file name in the study directory.
pub const DIFFERENCES: &str = "differences.csv";
/// The per-seed scores' file name in the study directory.
pub const SEEDS: &str = "seeds.csv";

/// A seed's final score and mean score over `values` (its evaluations in order), skipping
/// non-finite ones; `None` without any.
pub fn seed_scores(values: &[f64]) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let last = v.len().div_ceil(10);
    let final_score = v[v.len() - last..].iter().sum::<f64>() / last as f64;
    Some((final_score, v.iter().sum::<f64>() / v.len() as f64))
}

/// A difference of means with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// mean(a) − mean(b).
    pub diff: f64,
    /// The interval's lower end.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
}

/// Welch's 95% confidence interval for mean(a) − mean(b); `None` unless both have two values
/// or more. Two samples without any spread give a zero-width interval.
pub fn welch(a: &[f64], b: &[f64]) -> Option<Difference> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let stats = |v: &[f64]| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        (m, v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0), n)
    };
    let ((ma, va, na), (mb, vb, nb)) = (stats(a), stats(b));
    let (qa, qb) = (va / na, vb / nb);
    let se = (qa + qb).sqrt();
    let diff = ma - mb;
    if se == 0.0 {
        return Some(Difference { diff, low: diff, high: diff, df: na + nb - 2.0 });
    }
    let df = (qa + qb).powi(2) / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0));
    let t = StudentsT::new(0.0, 1.0, df).expect("positive degrees of freedom").inverse_cdf(0.975);
    Some(Difference { diff, low: diff - t * se, high: diff + t * se, df })
}

/// One row of `summary.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    /// The study's name.
    pub study: String,
    /// The setting (panel).
    pub setting: String,
    /// The line (usually the loss).
    pub loss: String,
    /// Finished seeds counted.
    pub seeds: usize,
    /// Mean over seeds of the final score.
    pub final_mean: f64,
    /// Its standard error (0 with one seed).
    pub final_se: f64,
    /// Mean over seeds of the mean score over all evaluations.
    pub auc_mean: f64,
}

/// A seed's compute time in seconds from its `timings.csv`, `None` without one: per epoch the
/// CPU time its threads used (`cpu_s`), or, for epochs logged before that column existed (an
/// empty cell), the epoch's wall time (`total_s`), which overstates the work when other
/// processes shared the cores.
pub fn seed_seconds(seed_dir: &Path) -> anyhow::Result<Option<f64>> {
    let path = seed_dir.join(TIMINGS);
    if !path.exists() {
        return Ok(None);
    }
    let timings = Metrics::read(&path)?;
    let Some(totals) = timings.column("total_s") else { anyhow::bail!("{}: no column \"total_s\"", path.display()) };
    let cpu = timings.column("cpu_s").unwrap_or_else(|| vec![f64::NAN; totals.len()]);
    Ok(Some(totals.iter().zip(&cpu).map(|(wall, cpu)| if cpu.is_finite() { *cpu } else { *wall }).filter(|t| t.is_finite()).sum()))
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (n > 0).then(|| if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// Which of a seed's two scores a difference compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Score {
    /// The mean of the last 10% of evaluations: where the runs end.
    Final,
    /// The mean over all evaluations: how fast they get there.
    Auc,
}

impl Score {
    /// This score of one seed.
    fn of(self, seed: &SeedRow) -> f64 {
        match self {
            Self::Final => seed.final_score,
            Self::Auc => seed.auc,
        }
    }
}

/// One row of `seeds.csv`: a finished seed's scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedRow {
    /// The study's name.
    pub study: String,
    /// The setting (panel).
    pub setting: String,
    /// The line (usually the loss).
    pub loss: String,
    /// The seed.
    pub seed: u64,
    /// Its final score (the mean of the last 10% of its evaluations).
    #[serde(rename = "final")]
    pub final_score: f64,
    /// Its mean score over all evaluations.
    pub auc: f64,
    /// Its best evaluation.
    pub best: f64,
    /// The x (env steps) of its first evaluation at or above the study's `solved` score;
    /// empty when it never got there or the study names no such score.
    pub solved_at: Option<f64>,
    /// Its compute time in minutes ([`seed_seconds`]: epochs rerun after an interruption count
    /// again, the time was spent); empty without timings (model-learning studies).
    pub minutes: Option<f64>,
}

/// Everything `vagram study plot` writes and prints: per cell, per seed and per compared pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// One row per cell with a finished seed (`summary.csv`).
    pub rows: Vec<SummaryRow>,
    /// One row per finished seed (`seeds.csv`).
    pub seeds: Vec<SeedRow>,
    /// One row per setting, compared pair and score (`differences.csv`).
    pub diffs: Vec<DifferenceRow>,
    /// The score that counted as solving (`summarise`'s argument, else the study's own), if any.
    pub solved: Option<f64>,
}

impl Summary {
    /// The finished seeds of one cell, in seed order.
    pub fn cell_seeds<'a>(&'a self, setting: &'a str, line: &'a str) -> impl Iterator<Item = &'a SeedRow> + 'a {
        self.seeds.iter().filter(move |s| s.setting == setting && s.loss == line)
    }

    /// One score of a cell's finished seeds, in seed order.
    pub fn cell_scores(&self, setting: &str, line: &str, score: Score) -> Vec<f64> {
        self.cell_seeds(setting, line).map(|s| score.of(s)).collect()
    }
}

/// One row of `differences.csv`: the compared lines' difference in one setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DifferenceRow {
    /// The study's name.
    pub study: String,
    /// The setting.
    pub setting: String,
    /// `a − b`, e.g. `vagram - mle`.
    pub compared: String,
    /// Which score is compared.
    pub score: Score,
    /// Difference of the score's means.
    pub diff: f64,
    /// 95% confidence interval, lower end (empty without two seeds on each side).
    pub ci_low: Option<f64>,
    /// Upper end.
    pub ci_high: Option<f64>,
    /// Degrees of freedom.
    pub df: Option<f64>,
    /// How the interval was computed.
    pub method: &'static str,
}

/// The summary of a study directory: one row per cell with at least one finished seed (seeds
/// still training are not counted), one per finished seed, and per setting the compared lines'
/// differences. `solved` replaces the study's own `solved` score when given.
pub fn summarise(study: &StudyDir, solved: Option<f64>) -> anyhow::Result<Summary> {
    let solved = solved.or(study.def.solved);
    let (mut rows, mut seeds) = (Vec::new(), Vec::new());
    for cell in &study.cells {
        let run = study.cell_dir(&cell.name);
        let (mut finals, mut aucs) = (Vec::new(), Vec::new());
        for &seed in &study.manifest.seeds {
            let dir = seed_dir(&run, seed);
            if !seed_finished(&dir) {
                continue;
            }
            let path = dir.join(METRICS);
            let metrics = Metrics::read(&path)?;
            let column = |name: &str| metrics.column(name).ok_or_else(|| anyhow::anyhow!("{}: no column {name:?}", path.display()));
            let values = column(&study.def.metric)?;
            let Some((f, a)) = seed_scores(&values) else { continue };
            let spent = seed_seconds(&dir)?;
            let solved_at = match solved {
                Some(score) => {
                    let xs = column(study.def.x_column())?;
                    values.iter().zip(&xs).find(|(v, _)| **v >= score).map(|(_, x)| *x)
                }
                None => None,
            };
            finals.push(f);
            aucs.push(a);
            seeds.push(SeedRow {
                study: study.def.name.clone(),
                setting: cell.setting.clone(),
                loss: cell.line.clone(),
                seed,
                final_score: f,
                auc: a,
                best: values.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max),
                solved_at,
                minutes: spent.map(|s| s / 60.0),
            });
        }
        let (Some((final_mean, final_se)), Some((auc_mean, _))) = (mean_se(&finals), mean_se(&aucs)) else { continue };
        rows.push(SummaryRow {
            study: study.def.name.clone(),
            setting: cell.setting.clone(),
            loss: cell.line.clone(),
            seeds: finals.len(),
            final_mean,
            final_se,
            auc_mean,
        });
    }
    let mut summary = Summary { rows, seeds, diffs: Vec::new(), solved };
    for setting in &study.def.settings {
        let has = |line: &str| summary.rows.iter().any(|r| r.setting == setting.name && r.loss == line);
        for [a, b] in study.def.comparisons() {
            if !has(a) || !has(b) {
                continue;
            }
            for score in [Score::Final, Score::Auc] {
                let (va, vb) = (summary.cell_scores(&setting.name, a, score), summary.cell_scores(&setting.name, b, score));
                let mean = |v: &[f64]| mean_se(v).map_or(f64::NAN, |(m, _)| m);
                let ci = welch(&va, &vb);
                summary.diffs.push(DifferenceRow {
                    study: study.def.name.clone(),
                    setting: setting.name.clone(),
                    compared: format!("{a} - {b}"),
                    score,
                    diff: mean(&va) - mean(&vb),
                    ci_low: ci.map(|d| d.low),
                    ci_high: ci.map(|d| d.high),
                    df: ci.map(|d| d.df),
                    method: WELCH_METHOD,
                });
            }
        }
    }
    Ok(summary)
}

/// Writes `rows` as CSV at `path` (atomically), the header from their field names, or `header`
/// when there are none.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T], header: &[&str]) -> anyhow::Result<()> {
    let mut w = csv::WriterBuilder::new().has_headers(true).from_writer(Vec::new());
    if rows.is_empty() {
        w.write_record(header)?;
    }
    for r in rows {
        w.serialize(r)?;
    }
    crate::train::checkpoint::write_atomic(path, &w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
}

/// The summary as a table for the terminal, with the differences below it and what the
/// finished seeds cost; with a `solved` score, a column of how many seeds of each cell reached it.
pub fn table(summary: &Summary) -> String {
    let (rows, diffs, solved) = (&summary.rows, &summary.diffs, summary.solved);
    // Columns as wide as their longest entry, so that long line names keep the table aligned.
    let ws = rows.iter().map(|r| r.setting.chars().count()).fold(14, usize::max);
    let wl = rows.iter().map(|r| r.loss.chars().count()).fold(16, usize::max);
    let solved_head = solved.map_or(String::new(), |score| format!("  solved (≥ {score})"));
    let mut out = format!(
        "{:<ws$} {:<wl$} {:>5} {:>12} {:>9} {:>12} {:>12}{solved_head}\n",
        "setting", "loss", "seeds", "final mean", "final SE", "mean (AUC)", "min per seed"
    );
    // Returns read well with one decimal; small errors (the VAML error) need more.
    let scale = rows.iter().map(|r| r.final_mean.abs().max(r.auc_mean.abs())).fold(0.0, f64::max);
    let places = if scale >= 10.0 { 1 } else { 4 };
    for r in rows {
        let cell_minutes: Vec<f64> = summary.cell_seeds(&r.setting, &r.loss).filter_map(|s| s.minutes).collect();
        let minutes = median(&cell_minutes).map_or("-".to_string(), |m| format!("{m:.1}"));
        let reached = summary.cell_seeds(&r.setting, &r.loss).filter(|s| s.solved_at.is_some()).count();
        let solved_cell = solved.map_or(String::new(), |_| format!("  {reached}/{}", r.seeds));
        out += &format!(
            "{:<ws$} {:<wl$} {:>5} {:>12.p$} {:>9.p$} {:>12.p$} {:>12}{solved_cell}\n",
            r.setting,
            r.loss,
            r.seeds,
            r.final_mean,
            r.final_se,
            r.auc_mean,
            minutes,
            p = places
        );
    }
    for d in diffs {
        let ci = match (d.ci_low, d.ci_high) {
            (Some(l), Some(h)) => format!("95% CI [{l:.p$}, {h:.p$}] (Welch t, df {:.1})", d.df.unwrap_or(f64::NAN), p = places),
            _ => "no CI: needs 2 finished seeds on each side".into(),
        };
        let score = match d.score {
            Score::Final => "final",
            Score::Auc => "AUC",
        };
        out += &format!("{}: {} = {:+.p$} ({score}), {ci}\n", d.setting, d.compared, d.diff, p = places);
    }
    let minutes: Vec<f64> = summary.seeds.iter().filter_map(|s| s.minutes).collect();
    if !minutes.is_empty() {
        out += &format!(
            "cost: {:.2} hours of training summed over {} finished seed runs (median {:.1} min per seed; \"min per seed\" is each cell's median); core-hours: the CPU time of each seed's threads, or the wall time of epochs logged before timings.csv had cpu_s\n",
            minutes.iter().sum::<f64>() / 60.0,
            minutes.len(),
            median(&minutes).unwrap_or(f64::NAN)
        );
    }
    out
}

/// The header of `summary.csv`.
pub const SUMMARY_HEADER: [&str; 7] = ["study", "setting", "loss", "seeds", "final_mean", "final_se", "auc_mean"];
/// The header of `seeds.csv`.
pub const SEEDS_HEADER: [&str; 9] = ["study", "setting", "loss", "seed", "final", "auc", "best", "solved_at", "minutes"];
/// `differences.csv`'s `method` for its intervals: 95% Welch t.
pub const WELCH_METHOD: &str = "welch-t-95";
/// The header of `differences.csv`.
pub const DIFFERENCES_HEADER: [&str; 9] = ["study", "setting", "compared", "score", "diff", "ci_low", "ci_high", "df", "method"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_final_score_is_the_mean_of_the_last_tenth_and_at_least_one_value() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        // Last 10% of 20 = 2 values: (19 + 20) / 2; mean of 1..=20 = 10.5.
        assert_eq!(seed_scores(&v), Some((19.5, 10.5)));
        // 5 values: ceil(0.5) = 1, the last one.
        assert_eq!(seed_scores(&[1.0, 2.0, 3.0, 4.0, 9.0]), Some((9.0, 3.8)));
        // 11 values: ceil(1.1) = 2.
        let v: Vec<f64> = (0..11).map(f64::from).collect();
        assert_eq!(seed_scores(&v).unwrap().0, 9.5);
        assert_eq!(seed_scores(&[f64::NAN, 4.0]), Some((4.0, 4.0)), "missing evaluations are skipped");
        assert_eq!(seed_scores(&[]), None);
    }

    #[test]
    fn welch_interval_matches_a_hand_computation() {
        // a: mean 2, var 1, n 3 → var/n = 1/3; b: mean 5, var 4, n 3 → var/n = 4/3.
        let (a, b) = ([1.0, 2.0, 3.0], [3.0, 5.0, 7.0]);
        let d = welch(&a, &b).unwrap();
        assert_eq!(d.diff, -3.0);
        // df = (5/3)² / ((1/3)²/2 + (4/3)²/2) = (25/9) / (17/18) = 50/17.
        assert!((d.df - 50.0 / 17.0).abs() < 1e-12, "df {}", d.df);
        // t(0.975, 50/17) = 3.21876 (numerical integration of the t density; 3.182 at df 3);
        // se = sqrt(5/3).
        let half = (d.high - d.low) / 2.0;
        let t = half / (5.0f64 / 3.0).sqrt();
        assert!((t - 3.21876).abs() < 1e-4, "t quantile {t}");
        assert!(((d.low + d.high) / 2.0 + 3.0).abs() < 1e-12);
        // Large samples: t → 1.96.
        let a: Vec<f64> = (0..4000).map(|i| (i % 2) as f64).collect();
        let b: Vec<f64> = (0..4000).map(|i| (i % 2) as f64 + 1.0).collect();
        let d = welch(&a, &b).unwrap();
        let se = (2.0 * (0.25 * 4000.0 / 3999.0) / 4000.0f64).sqrt();
        assert!(((d.high - d.diff) / se - 1.9604).abs() < 1e-3);
        assert_eq!(welch(&[1.0], &[1.0, 2.0]), None, "one seed gives no interval");
        let flat = welch(&[2.0, 2.0], &[1.0, 1.0]).unwrap();
        assert_eq!((flat.low, flat.high), (1.0, 1.0));
    }
}
