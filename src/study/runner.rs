//! Runs a study on this machine: every unfinished seed of every chosen cell goes into one queue
//! of seed jobs, seed-major (every cell's seed 0, then every cell's seed 1, …), trained several
//! at once on the worker pool of [`crate::train::run_jobs`].
//! Finished seeds are skipped; paused, interrupted and stopped ones resume from their last
//! checkpoint (or start afresh without one), so rerunning the same command continues a study.

use anyhow::Context;

use super::study_dir::{StudyDir, add_seeds_to_cell};
use crate::engine::env::EnvRegistry;
use crate::train::config::memory::check_memory;
use crate::train::lock::{RunAccess, RunLock};
use crate::train::run_dir::{RunInfo, read_status, seed_dir};
use crate::train::{EpochReport, SeedJob, SeedOutcome, run_jobs};

/// One seed job of a study, and how it ended.
#[derive(Debug)]
pub struct JobResult {
    /// The cell's name.
    pub cell: String,
    /// The seed.
    pub seed: u64,
    /// How it ended.
    pub outcome: anyhow::Result<SeedOutcome>,
}

/// What the runner reports while it works.
pub trait Progress: Sync {
    /// Before training: each chosen cell with its seed-epochs in all and those already done.
    fn start(&self, cells: &[(String, u64, u64)]);
    /// After every epoch of any seed (from the worker threads): the cell's index in `start`'s list.
    fn epoch(&self, cell: usize, report: &EpochReport);
}

/// How to run a study.
pub struct RunOptions<'a> {
    /// Only these cells (all when empty).
    pub only: &'a [String],
    /// Seed jobs trained at once.
    pub threads: usize,
    /// Epochs between checkpoints.
    pub checkpoint_every: u64,
    /// Stop every seed after this many epochs (tests; continue by running again).
    pub stop_after: Option<u64>,
}

/// Trains every unfinished seed of the chosen cells; the results come in cell-then-seed order
/// (finished seeds are not listed). The caller holds the study directory's lock.
pub fn run_study(
    study: &StudyDir,
    registry: &EnvRegistry,
    options: &RunOptions,
    progress: &dyn Progress,
) -> anyhow::Result<Vec<JobResult>> {
    let chosen = study.chosen(options.only)?;
    let seeds = &study.manifest.seeds;
    // Every cell's lock first, so that nothing is written when another process holds one.
    let mut locks = Vec::new();
    let mut plans = Vec::new();
    for cell in &chosen {
        let dir = study.cell_dir(&cell.name);
        let lock = RunLock::run(&dir, RunAccess::Whole)?;
        plans.push((dir, study.unfinished_seeds(cell)));
        locks.push(lock);
    }
    let at_once = options.threads.max(1).min(plans.iter().map(|(_, t)| t.len()).sum::<usize>().max(1));
    for cell in &chosen {
        check_memory(&cell.config, registry, at_once).with_context(|| format!("cell {}", cell.name))?;
    }
    // Each cell's run made where it is new, and its unfinished seeds locked as well.
    let mut texts = Vec::new();
    let mut held = Vec::new();
    for (((dir, todo), cell), lock) in plans.iter().zip(&chosen).zip(locks) {
        if !dir.join("config.toml").exists() {
            RunInfo::create(dir, &cell.config, seeds)?;
        } else {
            add_seeds_to_cell(dir, seeds)?;
        }
        held.push(lock.seeds(dir, todo)?);
        let path = dir.join("config.toml");
        texts.push(std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?);
    }
    let mut totals = Vec::new();
    for (cell, (dir, _)) in chosen.iter().zip(&plans) {
        let epochs = cell.config.run.env_steps / cell.config.run.epoch_length;
        let done: u64 = seeds.iter().map(|s| read_status(&seed_dir(dir, *s)).map_or(0, |st| st.epochs.min(epochs))).sum();
        totals.push((cell.name.clone(), epochs * seeds.len() as u64, done));
    }
    // Seed-major order: every cell's first unfinished seed, then every cell's next, so that a
    // study stopped part way (or grown with --seeds) has its cells evenly far, not some cells
    // at the new seed count and others untouched.
    let mut order: Vec<(usize, u64)> =
        plans.iter().enumerate().flat_map(|(i, (_, todo))| todo.iter().map(move |&seed| (i, seed))).collect();
    order.sort_by_key(|&(i, seed)| (seeds.iter().position(|s| *s == seed).unwrap_or(usize::MAX), i));
    let jobs: Vec<SeedJob> = order
        .iter()
        .map(|&(i, seed)| SeedJob {
            config: &chosen[i].config,
            config_text: &texts[i],
            registry,
            run_dir: &plans[i].0,
            seed,
            resume: true,
            checkpoint_every: options.checkpoint_every,
            stop_after: options.stop_after,
            watch: None,
        })
        .collect();
    progress.start(&totals);
    let outcomes = run_jobs(&jobs, options.threads, &|job, report| progress.epoch(order[job].0, report));
    drop(held);
    let mut results: Vec<(usize, JobResult)> =
        order.iter().zip(outcomes).map(|(&(i, seed), outcome)| (i, JobResult { cell: chosen[i].name.clone(), seed, outcome })).collect();
    results.sort_by_key(|(i, r)| (*i, r.seed));
    Ok(results.into_iter().map(|(_, r)| r).collect())
}
