//! The run directory: `config.toml` (the resolved config every seed runs), one `seed-N/`
//! directory per seed with `metrics.csv`, `timings.csv`, `status.toml` and the checkpoint, and
//! the run's learning-curve PNG.
//!
//! CSV rows are appended and flushed at every epoch end, before that epoch's checkpoint; on
//! resume the CSVs are cut back (atomically) to the checkpoint's epoch count, so a crash between
//! a row and its checkpoint never leaves a duplicated or missing row.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::checkpoint::write_atomic;
use super::config::RunConfig;
use crate::systems::learning::{EpochRow, TimingRow};

/// Per-epoch metrics file of a seed.
pub const METRICS: &str = "metrics.csv";
/// Per-epoch wall-clock file of a seed.
pub const TIMINGS: &str = "timings.csv";
/// Timing CSV header.
pub const TIMING_HEADER: [&str; 8] = ["epoch", "env_s", "model_s", "rollout_s", "sac_s", "eval_s", "total_s", "cpu_s"];

/// The directory of seed `seed` in run `run`.
pub fn seed_dir(run: &Path, seed: u64) -> PathBuf {
    run.join(format!("seed-{seed}"))
}

/// The seeds present in a run directory, sorted.
pub fn seeds_in(run: &Path) -> anyhow::Result<Vec<u64>> {
    let mut seeds = Vec::new();
    for entry in fs::read_dir(run).with_context(|| format!("reading the run directory {}", run.display()))?.flatten() {
        if let Some(n) = entry.file_name().to_string_lossy().strip_prefix("seed-").and_then(|s| s.parse().ok()) {
            seeds.push(n);
        }
    }
    seeds.sort_unstable();
    Ok(seeds)
}

/// What `run.toml` records about a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    /// The seeds of the run.
    pub seeds: Vec<u64>,
    /// The vagram version that created it.
    pub created_by: String,
}

impl RunInfo {
    /// Reads `run.toml` of run directory `run`.
    pub fn read(run: &Path) -> anyhow::Result<Self> {
        let path = run.join("run.toml");
        let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{}: not a run.toml", path.display()))
    }
}

impl RunInfo {
    /// An error when `dir` already holds a run (a `config.toml`).
    pub fn refuse_existing(dir: &Path) -> anyhow::Result<()> {
        if dir.join("config.toml").exists() {
            bail!("{} already holds a run: continue it with --resume {} or choose another --out", dir.display(), dir.display());
        }
        Ok(())
    }

    /// Writes a new run's `config.toml` and `run.toml` into `dir` (atomically; the caller holds
    /// the whole-run lock), refusing a directory that already holds a run.
    pub fn create(dir: &Path, config: &RunConfig, seeds: &[u64]) -> anyhow::Result<()> {
        Self::refuse_existing(dir)?;
        write_atomic(&dir.join("config.toml"), config.to_toml().as_bytes())?;
        let info = RunInfo { seeds: seeds.to_vec(), created_by: format!("vagram {}", env!("CARGO_PKG_VERSION")) };
        write_atomic(&dir.join("run.toml"), toml::to_string(&info)?.as_bytes())
    }
}

/// The seeds a run should have: those `run.toml` lists, with any further `seed-N` directories,
/// sorted.
pub fn seeds_listed(run: &Path) -> anyhow::Result<Vec<u64>> {
    let mut seeds = seeds_in(run)?;
    if run.join("run.toml").exists() {
        seeds.extend(RunInfo::read(run)?.seeds);
    }
    seeds.sort_unstable();
    seeds.dedup();
    Ok(seeds)
}

/// Where a seed stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// `running`, `finished` or `stopped`.
    pub state: String,
    /// Epochs completed (and logged).
    pub epochs: u64,
    /// Why the seed stopped, when it did.
    pub message: Option<String>,
}

/// Writes `status.toml` of a seed.
pub fn write_status(dir: &Path, status: &Status) -> anyhow::Result<()> {
    write_atomic(&dir.join("status.toml"), toml::to_string(status)?.as_bytes())
}

/// Reads `status.toml` of a seed, if there is one.
pub fn read_status(dir: &Path) -> Option<Status> {
    toml::from_str(&fs::read_to_string(dir.join("status.toml")).ok()?).ok()
}

/// Whether the seed in directory `dir` has finished (its `status.toml` says so).
pub fn seed_finished(dir: &Path) -> bool {
    read_status(dir).is_some_and(|s| s.state == "finished")
}

/// Appends epoch rows to a seed's CSVs.
pub struct CsvLog {
    metrics: fs::File,
    timings: fs::File,
}

fn line(cells: &[String]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells).expect("writing to memory");
    String::from_utf8(w.into_inner().expect("flushing to memory")).expect("CSV of UTF-8 cells")
}

impl CsvLog {
    /// Opens the CSVs of `dir`, keeping the header and the first `epochs` rows of each (rows
    /// after a checkpoint belong to epochs the resume repeats) and creating them (with headers)
    /// when absent. A resume (`epochs > 0`) is refused, before anything is written, when a CSV
    /// lacks rows the checkpoint has already passed, has another header, or numbers its rows
    /// out of order: those epochs cannot be rebuilt, and the finished run would miss them.
    pub fn open(dir: &Path, epochs: u64) -> anyhow::Result<Self> {
        let timing_header: Vec<String> = TIMING_HEADER.iter().map(|s| s.to_string()).collect();
        let mut kept_files = Vec::new();
        for (name, head) in [(METRICS, line(EpochRow::header())), (TIMINGS, line(&timing_header))] {
            let path = dir.join(name);
            let kept = match fs::read_to_string(&path) {
                Ok(text) => {
                    let text = with_new_last_column(&text, head.trim_end());
                    let lines: Vec<&str> = text.lines().take(1 + epochs as usize).collect();
                    check_rows(&path, &lines, head.trim_end(), epochs)?;
                    if lines.is_empty() { head } else { lines.iter().map(|l| format!("{l}\n")).collect() }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && epochs == 0 => head,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("{}: the checkpoint is after {epochs} epochs but their rows cannot be read", path.display())
                    });
                }
            };
            kept_files.push((path, kept));
        }
        for (path, kept) in kept_files {
            write_atomic(&path, kept.as_bytes())?;
        }
        let append = |name: &str| fs::OpenOptions::new().append(true).open(dir.join(name)).with_context(|| format!("opening {name}"));
        Ok(Self { metrics: append(METRICS)?, timings: append(TIMINGS)? })
    }

    /// Appends one epoch's rows and flushes them to disk; `cpu`: the CPU seconds the seed's
    /// threads used in the epoch (an empty cell when unknown).
    pub fn append(&mut self, row: &EpochRow, timing: &TimingRow, cpu: Option<f64>) -> anyhow::Result<()> {
        self.metrics.write_all(row.csv_line().as_bytes())?;
        let s = &timing.seconds;
        let mut cells = vec![timing.epoch.to_string()];
        cells.extend([s.env, s.model, s.rollout, s.sac, s.eval, s.total()].iter().map(|v| format!("{v:.4}")));
        cells.push(cpu.map_or(String::new(), |c| format!("{c:.4}")));
        self.timings.write_all(line(&cells).as_bytes())?;
        self.metrics.sync_data()?;
        self.timings.sync_data()?;
        Ok(())
    }
}

/// A CSV text under `header`: one written before the header's last column existed (`cpu_s` in
/// `timings.csv`, `model_fit_epochs` in `metrics.csv`) gets the column, empty in its rows; any
/// other text is returned as it is (and checked by the caller).
fn with_new_last_column(text: &str, header: &str) -> String {
    let mut lines = text.lines();
    let Some((before, _)) = header.rsplit_once(',') else { return text.to_string() };
    if lines.next() != Some(before) {
        return text.to_string();
    }
    let mut out = format!("{header}\n");
    for row in lines {
        out.push_str(row);
        out.push_str(",\n");
    }
    out
}

/// Checks that `lines` (header first) hold `header` and the rows of epochs `0..epochs`, in order.
fn check_rows(path: &Path, lines: &[&str], header: &str, epochs: u64) -> anyhow::Result<()> {
    let refuse = |what: String| {
        anyhow::anyhow!(
            "{}: {what}, but the checkpoint is after {epochs} epochs: the log was changed or cut short; restore it, or start a new run",
            path.display()
        )
    };
    if lines.is_empty() {
        return if epochs == 0 { Ok(()) } else { Err(refuse("the file is empty".into())) };
    }
    if lines[0] != header {
        return Err(refuse(format!("the header is not {header}")));
    }
    let rows = lines.len() as u64 - 1;
    if rows < epochs {
        return Err(refuse(format!("it holds {rows} epoch rows")));
    }
    for (i, row) in lines[1..].iter().enumerate() {
        if row.split(',').next() != Some(i.to_string().as_str()) {
            return Err(refuse(format!("row {} is not epoch {i}", i + 1)));
        }
    }
    Ok(())
}

/// One seed's metrics as read back from `metrics.csv`: column name → values per epoch.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Column names.
    pub header: Vec<String>,
    /// Rows of numbers (NaN where empty or unparsable).
    pub rows: Vec<Vec<f64>>,
}

impl Metrics {
    /// Reads a metrics CSV.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
        let header = reader.headers()?.iter().map(str::to_string).collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.with_context(|| format!("reading {}", path.display()))?;
            rows.push(record.iter().map(|c| c.parse().unwrap_or(f64::NAN)).collect());
        }
        Ok(Self { header, rows })
    }

    /// The values of column `name`.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.header.iter().position(|h| h == name)?;
        Some(self.rows.iter().map(|r| r.get(i).copied().unwrap_or(f64::NAN)).collect())
    }
}
