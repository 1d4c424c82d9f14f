//! Runs one seed epoch by epoch: steps the app, appends the epoch's CSV rows, checkpoints, and
//! reports progress. A non-finite loss, prediction, action or physics state stops the seed
//! cleanly (the NaN guard): the error names what went non-finite, at which stage and env step;
//! `status.toml` records it, and the CSVs and the last good checkpoint stay as they were.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use super::build::SeedApp;
use super::cpu_time::pool_cpu_seconds;
use super::run_dir::{CsvLog, Status, read_status, seed_dir, write_status};
use super::{checkpoint, state};
use crate::engine::env::EnvRegistry;
use crate::learn::snapshot::TensorStore;
use crate::systems::learning::{EpochLog, EpochRow, StageSeconds};
use crate::train::config::RunConfig;

/// What to run for one seed.
#[derive(Clone, Copy)]
pub struct SeedJob<'a> {
    /// The run's config (validated).
    pub config: &'a RunConfig,
    /// Its TOML text as stored in the run directory (checkpoints are bound to it).
    pub config_text: &'a str,
    /// Where env names are looked up.
    pub registry: &'a EnvRegistry,
    /// The run directory.
    pub run_dir: &'a Path,
    /// The seed.
    pub seed: u64,
    /// Continue from the seed's checkpoint when it has one.
    pub resume: bool,
    /// Epochs between checkpoints (the last epoch is always saved).
    pub checkpoint_every: u64,
    /// Stop (as if interrupted) once this many epochs are done.
    pub stop_after: Option<u64>,
    /// Something watching the seed train (the viewer), if any.
    pub watch: Option<&'a dyn Watch>,
}

/// Watches a seed's app while it trains (the viewer streams its scene, curves and value
/// functions from here). Called on the seed's worker thread between chunks of env steps, so it
/// must return quickly and never block; chunking does not change the run's numbers.
pub trait Watch: Sync {
    /// Env steps between calls of [`Watch::steps`].
    fn every(&self) -> u64;
    /// After every chunk of steps.
    fn steps(&self, run: &SeedApp);
    /// After an epoch is logged and checkpointed.
    fn epoch(&self, run: &SeedApp, report: &EpochReport);
    /// When the seed has ended, however it ended.
    fn ended(&self, seed: u64, outcome: &anyhow::Result<SeedOutcome>);
}

/// Progress after an epoch.
#[derive(Debug, Clone)]
pub struct EpochReport {
    /// The seed.
    pub seed: u64,
    /// Epochs completed.
    pub epochs_done: u64,
    /// Epochs in the run.
    pub epochs_total: u64,
    /// The epoch's metrics.
    pub row: EpochRow,
    /// The epoch's wall-clock seconds per stage.
    pub seconds: StageSeconds,
}

/// How a seed ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SeedOutcome {
    /// All epochs done.
    Finished {
        /// Epochs done.
        epochs: u64,
        /// Seconds per stage over the epochs this call ran.
        seconds: StageSeconds,
        /// Wall-clock seconds of this call.
        wall: f64,
    },
    /// Stopped by the NaN guard (or another error during stepping); logs and checkpoint intact.
    Stopped {
        /// Epochs completed and logged before the failure.
        epochs: u64,
        /// What went wrong, where.
        message: String,
    },
    /// Stopped on request after `epochs` (`stop_after`).
    Paused {
        /// Epochs done.
        epochs: u64,
    },
    /// Stopped by a signal ([`super::stop`]) during an epoch, which was discarded.
    Interrupted {
        /// Epochs completed and logged.
        epochs: u64,
        /// The epoch a resume continues from (the last checkpoint's).
        resumes_at: u64,
        /// The signal's name (`SIGTERM`, `SIGINT`).
        signal: &'static str,
    },
}

/// Runs (or resumes) one seed; `on_epoch` is called after every epoch. `Err` means the seed
/// could not start (e.g. a damaged checkpoint; its files stay as they were) or could not write
/// its logs or checkpoint (status `stopped` with the error); failures while stepping (the NaN
/// guard) are [`SeedOutcome::Stopped`].
pub fn run_seed(job: &SeedJob, on_epoch: &mut dyn FnMut(&EpochReport)) -> anyhow::Result<SeedOutcome> {
    let dir = seed_dir(job.run_dir, job.seed);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let has_checkpoint = checkpoint::exists(&dir);
    // Finished, its checkpoints left behind (e.g. archived by `results/archive.sh`): its logs
    // stand. Any other seed without a checkpoint starts from the beginning, rewriting the epochs
    // it logged (no checkpoint covers them, as with those after the last one on a resume).
    if job.resume
        && !has_checkpoint
        && let Some(status) = read_status(&dir).filter(|s| s.state == "finished")
    {
        return Ok(SeedOutcome::Finished { epochs: status.epochs, seconds: StageSeconds::default(), wall: 0.0 });
    }
    let mut run = SeedApp::build(job.config, job.registry, job.seed)?;
    let mut start = 0;
    if job.resume && has_checkpoint {
        let (manifest, store) = checkpoint::load(&dir, job.config_text).with_context(|| format!("seed {}: resuming", job.seed))?;
        state::load(&mut run, &store, job.registry, &job.config.env.name)
            .with_context(|| format!("seed {}: the checkpoint {} does not match the config", job.seed, manifest.tensors))?;
        start = manifest.epoch;
    }
    let mut csv = CsvLog::open(&dir, start)?;
    write_status(&dir, &Status { state: "running".into(), epochs: start, message: None })?;
    // From here on a failure (an I/O error writing logs or checkpoints) must not leave the
    // status at `running`: it becomes `stopped` with the error, as far as the disk allows.
    let mut epochs_done = start;
    let result = train_epochs(job, &mut run, &dir, start, &mut csv, &mut epochs_done, on_epoch);
    if let Err(e) = &result {
        let message = format!("epoch {epochs_done}: {e:#}");
        let _ = write_status(&dir, &Status { state: "stopped".into(), epochs: epochs_done, message: Some(message) });
    }
    result
}

/// The epochs of one seed from `start`, counting finished ones in `epochs_done`.
#[allow(clippy::too_many_arguments)]
fn train_epochs(
    job: &SeedJob,
    run: &mut SeedApp,
    dir: &Path,
    start: u64,
    csv: &mut CsvLog,
    epochs_done: &mut u64,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> anyhow::Result<SeedOutcome> {
    let total = job.config.run.env_steps / job.config.run.epoch_length;
    let started = Instant::now();
    let mut seconds = StageSeconds::default();
    let mut resumes_at = start;
    // A stop signal before or `during` an epoch: paused, with where a resume continues.
    let interrupted = |epoch: u64, resumes_at: u64, signal: &'static str, during: bool| -> anyhow::Result<SeedOutcome> {
        let when = if during { format!("during epoch {epoch} (its steps are discarded)") } else { format!("before epoch {epoch}") };
        let message = format!("interrupted by {signal} {when}; --resume continues from epoch {resumes_at}");
        write_status(dir, &Status { state: "paused".into(), epochs: epoch, message: Some(message) })?;
        Ok(SeedOutcome::Interrupted { epochs: epoch, resumes_at, signal })
    };
    for epoch in start..total {
        if let Some(signal) = super::stop::requested() {
            return interrupted(epoch, resumes_at, signal, false);
        }
        if job.stop_after.is_some_and(|n| epoch >= n) {
            write_status(dir, &Status { state: "paused".into(), epochs: epoch, message: None })?;
            return Ok(SeedOutcome::Paused { epochs: epoch });
        }
        let cpu_before = pool_cpu_seconds();
        match run_epoch(run, job.config.run.epoch_length, job.watch) {
            Ok(None) => {}
            Ok(Some(signal)) => return interrupted(epoch, resumes_at, signal, true),
            Err(e) => {
                let message = format!("epoch {epoch}: {:#}", anyhow::Error::from(e));
                write_status(dir, &Status { state: "stopped".into(), epochs: epoch, message: Some(message.clone()) })?;
                return Ok(SeedOutcome::Stopped { epochs: epoch, message });
            }
        }
        let (row, timing) = {
            let mut log = run.app.world.resource_mut::<EpochLog>();
            let row = log.rows.pop().expect("an epoch row at the epoch's end");
            (row, log.timings.pop().expect("a timing row with every metrics row"))
        };
        let cpu = pool_cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
        csv.append(&row, &timing, cpu)?;
        seconds.add(&timing.seconds);
        // At every epoch's end, whether or not a checkpoint follows, so that the numbers do not
        // depend on how often checkpoints are written.
        job.registry.get(&job.config.env.name)?.rebuild_physics(&mut run.app, run.env)?;
        let done = epoch + 1;
        *epochs_done = done;
        if done % job.checkpoint_every.max(1) == 0 || done == total {
            let mut store = TensorStore::new();
            state::save(run, &mut store);
            checkpoint::save(dir, &store, done, row.env_steps, job.config_text)?;
            resumes_at = done;
        }
        write_status(dir, &Status { state: "running".into(), epochs: done, message: None })?;
        let report = EpochReport { seed: job.seed, epochs_done: done, epochs_total: total, row, seconds: timing.seconds };
        if let Some(w) = job.watch {
            w.epoch(run, &report);
        }
        on_epoch(&report);
    }
    write_status(dir, &Status { state: "finished".into(), epochs: total, message: None })?;
    Ok(SeedOutcome::Finished { epochs: total, seconds, wall: started.elapsed().as_secs_f64() })
}

/// One epoch of env steps, in chunks between the watcher's calls when there is one, looking
/// for a stop signal after every step: `Some(signal)` when one came.
fn run_epoch(run: &mut SeedApp, steps: u64, watch: Option<&dyn Watch>) -> Result<Option<&'static str>, crate::engine::EngineError> {
    let mut left = steps;
    while left > 0 {
        let n = watch.map_or(left, |w| w.every().clamp(1, left));
        for _ in 0..n {
            run.app.run(1)?;
            if let Some(signal) = super::stop::requested() {
                return Ok(Some(signal));
            }
        }
        if let Some(w) = watch {
            w.steps(run);
        }
        left -= n;
    }
    Ok(None)
}
