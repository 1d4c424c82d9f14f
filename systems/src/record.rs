//! Trajectory recording to CSV (`--record`): one row per step with the observation that
//! resulted, the reward and the terminal flags, so runs can be compared with other simulators.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use bevy_ecs::prelude::*;
use vagram_engine::Result;
use vagram_engine::prelude::*;

/// Streams an env's trajectory to a CSV file: `step, obs_0.., reward, terminated, truncated`.
/// Row 0 is the initial observation.
#[derive(Component)]
pub struct TrajectoryRecorder {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    row: Vec<String>,
}

impl TrajectoryRecorder {
    /// Creates the file (replacing it) and writes the header and the initial observation.
    pub fn create(path: &Path, initial_obs: &[f32]) -> Result<Self> {
        let io = |error| EngineError::Io { path: path.into(), error };
        let file = File::create(path).map_err(io)?;
        let mut rec = Self { path: path.into(), writer: csv::Writer::from_writer(BufWriter::new(file)), row: Vec::new() };
        let mut header = vec!["step".to_string()];
        header.extend((0..initial_obs.len()).map(|i| format!("obs_{i}")));
        header.extend(["reward", "terminated", "truncated"].map(String::from));
        rec.write_row(&header)?;
        rec.push(0, initial_obs, 0.0, &Done::default())?;
        Ok(rec)
    }

    fn write_row(&mut self, row: &[String]) -> Result<()> {
        self.writer.write_record(row).map_err(|e| EngineError::Csv { path: self.path.clone(), line: 0, message: e.to_string() })
    }

    /// Appends the row of step `step`.
    pub fn push(&mut self, step: u64, obs: &[f32], reward: f32, done: &Done) -> Result<()> {
        let mut row = std::mem::take(&mut self.row);
        row.clear();
        row.push(step.to_string());
        row.extend(obs.iter().map(|v| v.to_string()));
        row.push(reward.to_string());
        row.push((done.terminated as u8).to_string());
        row.push((done.truncated as u8).to_string());
        let result = self.write_row(&row);
        self.row = row;
        result
    }

    /// Flushes buffered rows to disk.
    pub fn flush(&mut self) -> Result<()> {
        self.writer.flush().map_err(|error| EngineError::Io { path: self.path.clone(), error })
    }
}

/// Writes the step's row for every env with a recorder.
pub fn record_transitions(
    step: Res<StepCount>,
    mut errors: ResMut<SimErrors>,
    mut envs: Query<(&mut TrajectoryRecorder, &Observation, &Reward, &Done)>,
) {
    for (mut rec, obs, reward, done) in &mut envs {
        if let Err(e) = rec.push(step.0 + 1, &obs.0, reward.0, done) {
            errors.0.push(e);
        }
    }
}

/// Copies each step's resulting observation into [`FinalObservation`] (before `Reset`).
pub fn keep_final_observations(mut envs: Query<(&Observation, &mut FinalObservation)>) {
    for (obs, mut last) in &mut envs {
        last.0.clone_from(&obs.0);
    }
}
