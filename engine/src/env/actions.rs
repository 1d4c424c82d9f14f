//! Where actions come from when no learning agent is acting: zeros, uniform random samples from
//! the action box, or a table read from a CSV file (one row per step).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bevy_ecs::prelude::*;

use crate::error::{EngineError, Result};

/// A table of actions, one row per environment step.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionTable {
    /// File the table came from (for error messages).
    pub path: PathBuf,
    /// Row-major actions.
    pub rows: Vec<Vec<f32>>,
    /// 1-based file line of each row.
    pub lines: Vec<u64>,
}

impl ActionTable {
    /// Reads a CSV file of actions: numbers separated by commas, one row per step; a first row
    /// that is not numeric is taken as a header. Every row must have `action_dim` finite values.
    pub fn from_csv(path: &Path, action_dim: usize) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|error| EngineError::Io { path: path.into(), error })?;
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(file);
        let (mut rows, mut lines) = (Vec::new(), Vec::new());
        for (i, record) in reader.records().enumerate() {
            let csv_err = |line: u64, message: String| EngineError::Csv { path: path.into(), line, message };
            let record = record.map_err(|e| csv_err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = record.position().map_or(i as u64 + 1, |p| p.line());
            if record.iter().all(|f| f.is_empty()) {
                continue;
            }
            let parsed: std::result::Result<Vec<f32>, _> = record.iter().map(str::parse::<f32>).collect();
            let row = match parsed {
                Ok(row) => row,
                Err(_) if i == 0 => continue, // header
                Err(_) => {
                    let bad = record.iter().find(|f| f.parse::<f32>().is_err()).unwrap_or_default();
                    return Err(csv_err(line, format!("'{bad}' is not a number")));
                }
            };
            if row.len() != action_dim {
                return Err(csv_err(line, format!("row has {} values, the env's action has {action_dim} dimensions", row.len())));
            }
            if let Some((j, v)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(csv_err(line, format!("value {} (column {}) is {v}, actions must be finite", j + 1, j + 1)));
            }
            rows.push(row);
            lines.push(line);
        }
        if rows.is_empty() {
            return Err(EngineError::Csv { path: path.into(), line: 0, message: "no action rows".into() });
        }
        Ok(Self { path: path.into(), rows, lines })
    }

    /// Number of steps the table covers.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows (never true for a table from [`ActionTable::from_csv`]).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The action source of an env entity, read in the `Act` set.
#[derive(Component, Debug, Clone, Default)]
pub enum ActionSource {
    /// All-zero actions.
    #[default]
    Zero,
    /// Uniform samples from the action box, from the env's action stream.
    Random,
    /// Row `t` of the table at step `t`.
    Table(Arc<ActionTable>),
    /// Leave [`Action`](super::components::Action) as set by someone else (a policy, a test, the
    /// viewer's sliders).
    External,
}
