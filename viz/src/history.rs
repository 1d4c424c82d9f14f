//! What the viewer knows of a run, per seed: its metrics rows (streamed from training or read
//! from a run directory), how it stands, its latest scene frame and its latest value functions.
//! Plain state, so the bookkeeping is tested without a window.

use std::collections::BTreeMap;

use vagram_learn::HostDevice;
use vagram_learn::sac::Sac;

use crate::feed::{Frame, SeedEnd, TrainEvent};

/// How a seed stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SeedStatus {
    /// Training now.
    Running,
    /// Read from disk (an opened run); the string is its `status.toml` state.
    Loaded(String),
    /// Ended as told by training.
    Ended(SeedEnd),
}

/// One seed's record.
#[derive(Debug, Clone)]
pub struct SeedHistory {
    /// Metrics rows, one per epoch, in the order of the history's header.
    pub rows: Vec<Vec<f64>>,
    /// How it stands.
    pub status: SeedStatus,
    /// The latest scene frame (live training only).
    pub frame: Option<Frame>,
}

/// The latest value functions of one seed.
pub struct ValueSnapshot {
    /// The seed they belong to.
    pub seed: u64,
    /// Epochs done when taken.
    pub epoch: u64,
    /// The agent whose critics are the value functions.
    pub agent: Box<Sac<HostDevice>>,
}

/// A run as the viewer sees it.
pub struct RunHistory {
    /// Metrics column names.
    pub header: Vec<String>,
    /// Per seed, in seed order.
    pub seeds: BTreeMap<u64, SeedHistory>,
    /// Latest value functions per seed.
    pub values: BTreeMap<u64, ValueSnapshot>,
    /// Bumped whenever any seed's value functions change (panels recompute on a change).
    pub values_version: u64,
}

impl RunHistory {
    /// An empty history with metrics columns `header`.
    pub fn new(header: &[impl AsRef<str>]) -> Self {
        Self {
            header: header.iter().map(|s| s.as_ref().to_string()).collect(),
            seeds: BTreeMap::new(),
            values: BTreeMap::new(),
            values_version: 0,
        }
    }

    fn seed(&mut self, seed: u64) -> &mut SeedHistory {
        self.seeds.entry(seed).or_insert(SeedHistory { rows: Vec::new(), status: SeedStatus::Running, frame: None })
    }

    /// Adds a seed read from disk with its rows and stored status.
    pub fn add_loaded(&mut self, seed: u64, rows: Vec<Vec<f64>>, status: &str) {
        let s = self.seed(seed);
        s.rows = rows;
        s.status = SeedStatus::Loaded(status.to_string());
    }

    /// Takes in one training event.
    pub fn apply(&mut self, event: TrainEvent) {
        match event {
            TrainEvent::Epoch { seed, values } => self.seed(seed).rows.push(values),
            TrainEvent::Values { seed, epoch, agent } => {
                self.seed(seed);
                self.values.insert(seed, ValueSnapshot { seed, epoch, agent });
                self.values_version += 1;
            }
            TrainEvent::Ended { seed, end } => self.seed(seed).status = SeedStatus::Ended(end),
        }
    }

    /// Takes in a scene frame.
    pub fn apply_frame(&mut self, seed: u64, frame: Frame) {
        self.seed(seed).frame = Some(frame);
    }

    /// Column `name` against env steps, per seed, leaving out non-finite values; empty when the
    /// run has no such column.
    pub fn series(&self, name: &str) -> Vec<(u64, Vec<[f64; 2]>)> {
        let (Some(x), Some(y)) = (self.column("env_steps"), self.column(name)) else { return Vec::new() };
        self.seeds
            .iter()
            .map(|(seed, h)| {
                let points =
                    h.rows.iter().filter_map(|r| Some([*r.get(x)?, *r.get(y)?])).filter(|p| p[0].is_finite() && p[1].is_finite()).collect();
                (*seed, points)
            })
            .collect()
    }

    /// Mean and standard error of column `name` over the seeds that reached each epoch:
    /// `[env steps, mean, standard error]` per epoch.
    pub fn mean_curve(&self, name: &str) -> Vec<[f64; 3]> {
        let (Some(x), Some(y)) = (self.column("env_steps"), self.column(name)) else { return Vec::new() };
        let epochs = self.seeds.values().map(|h| h.rows.len()).max().unwrap_or(0);
        (0..epochs)
            .filter_map(|e| {
                let rows: Vec<&Vec<f64>> = self.seeds.values().filter_map(|h| h.rows.get(e)).collect();
                let vals: Vec<f64> = rows.iter().filter_map(|r| r.get(y).copied()).filter(|v| v.is_finite()).collect();
                if vals.is_empty() {
                    return None;
                }
                let n = vals.len() as f64;
                let mean = vals.iter().sum::<f64>() / n;
                let se =
                    if vals.len() > 1 { (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() / n.sqrt() } else { 0.0 };
                Some([rows[0].get(x).copied().unwrap_or(f64::NAN), mean, se])
            })
            .collect()
    }

    /// Index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Whether there are seeds and every one has ended (finished, paused or stopped).
    pub fn all_ended(&self) -> bool {
        !self.seeds.is_empty() && self.seeds.values().all(|h| matches!(h.status, SeedStatus::Ended(_)))
    }

    /// One line per seed that did not end well (stopped by an error), for the message panel.
    pub fn problems(&self) -> Vec<String> {
        self.seeds
            .iter()
            .filter_map(|(seed, h)| match &h.status {
                SeedStatus::Ended(SeedEnd::Stopped(m)) => Some(format!("seed {seed} stopped: {m}")),
                _ => None,
            })
            .collect()
    }

    /// A one-line summary per seed: status, epochs, last evaluation return.
    pub fn summary(&self) -> Vec<String> {
        let eval = self.column("eval_return");
        self.seeds
            .iter()
            .map(|(seed, h)| {
                let last = eval.and_then(|i| h.rows.last().and_then(|r| r.get(i))).copied().unwrap_or(f64::NAN);
                let status = match &h.status {
                    SeedStatus::Running => "running".to_string(),
                    SeedStatus::Loaded(s) => s.clone(),
                    SeedStatus::Ended(SeedEnd::Finished) => "finished".into(),
                    SeedStatus::Ended(SeedEnd::Paused) => "paused".into(),
                    SeedStatus::Ended(SeedEnd::Stopped(_)) => "STOPPED".into(),
                };
                format!("seed {seed}: {status} · {} epochs · eval return {last:.1}", h.rows.len())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: [&str; 3] = ["epoch", "env_steps", "eval_return"];

    fn row(epoch: u64, ret: f64) -> TrainEvent {
        TrainEvent::Epoch { seed: epoch % 2, values: vec![(epoch / 2) as f64, (epoch / 2 + 1) as f64 * 200.0, ret] }
    }

    #[test]
    fn rows_from_two_seeds_make_per_seed_series_and_a_mean_with_standard_error() {
        let mut h = RunHistory::new(&HEADER);
        // seed 0: −1000, −500; seed 1: −800, NaN (no evaluation yet), then seed 1 is behind.
        for (e, r) in [(0, -1000.0), (1, -800.0), (2, -500.0), (3, f64::NAN)] {
            h.apply(row(e, r));
        }
        let s = h.series("eval_return");
        assert_eq!(s, vec![(0, vec![[200.0, -1000.0], [400.0, -500.0]]), (1, vec![[200.0, -800.0]])]);
        let m = h.mean_curve("eval_return");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0][0], 200.0);
        assert!((m[0][1] + 900.0).abs() < 1e-9 && (m[0][2] - 100.0).abs() < 1e-9, "{:?}", m[0]);
        assert_eq!(m[1], [400.0, -500.0, 0.0], "one finite value: no spread");
        assert!(h.series("no_such_column").is_empty());
    }

    #[test]
    fn a_stopped_seed_is_reported_and_others_are_not() {
        let mut h = RunHistory::new(&HEADER);
        h.apply(row(0, -100.0));
        h.apply(TrainEvent::Ended { seed: 1, end: SeedEnd::Stopped("epoch 2: non-finite SAC loss".into()) });
        assert!(!h.all_ended(), "seed 0 still runs");
        h.apply(TrainEvent::Ended { seed: 0, end: SeedEnd::Finished });
        assert!(h.all_ended());
        assert_eq!(h.problems(), vec!["seed 1 stopped: epoch 2: non-finite SAC loss".to_string()]);
        assert!(h.summary()[0].contains("finished") && h.summary()[1].contains("STOPPED"));
        h.add_loaded(5, vec![], "stopped");
        assert_eq!(h.problems().len(), 1, "a loaded seed's stop is reported with its status.toml message by whoever loads it");
    }
}
