//! The headless batch runner: many env instances, any mix of kinds, stepped in parallel on
//! crossbeam scoped threads.
//!
//! Envs get global indices in the order of the groups given; each group is cut into physics
//! blocks of [`PhysicsBlocks::BLOCK_CAPACITY`] consecutive indices, and blocks are dealt to
//! threads round-robin. Every thread owns one [`SimApp`] (its own World and schedule, bevy's
//! single-threaded executor), so parallelism is never nested. Because an env's random streams
//! and its block depend only on its global index, results are bitwise identical for any thread
//! count.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::app::SimApp;
use crate::env::components::{Done, EnvId, EpisodeLog, EpisodeRecord, Observation, Reward};
use crate::env::{EnvRegistry, SpawnOptions};
use crate::error::{EngineError, Result};
use crate::physics::PhysicsBlocks;

/// `count` instances of the env kind `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvGroup {
    /// Registry name.
    pub kind: String,
    /// Number of instances.
    pub count: usize,
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Master seed.
    pub seed: u64,
    /// Env kinds and counts; global indices follow this order.
    pub groups: Vec<EnvGroup>,
    /// Worker threads (at most one per block is useful).
    pub threads: usize,
    /// Environment steps per env.
    pub steps: u64,
    /// Options applied to every env (its `env_id` and `block_key` are set by the runner).
    pub template: SpawnOptions,
    /// Envs per physics block (1 to [`PhysicsBlocks::BLOCK_CAPACITY`]): larger blocks amortise
    /// Rapier's per-step cost, smaller ones give threads more blocks to share.
    pub block_size: usize,
}

/// The last step of every env, struct-of-arrays ordered by global env index (brax's `State`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepBatch {
    /// Global env indices.
    pub env: Vec<u64>,
    /// Observations (lengths may differ between kinds).
    pub obs: Vec<Vec<f32>>,
    /// Rewards.
    pub reward: Vec<f32>,
    /// Terminal flags.
    pub terminated: Vec<bool>,
    /// Truncation flags.
    pub truncated: Vec<bool>,
}

impl StepBatch {
    /// Reads the last step of every env in `app`.
    pub fn collect(app: &mut SimApp) -> Self {
        let mut rows: Vec<_> = app
            .world
            .query::<(&EnvId, &Observation, &Reward, &Done)>()
            .iter(&app.world)
            .map(|(id, obs, r, d)| (id.0, obs.0.clone(), r.0, d.terminated, d.truncated))
            .collect();
        rows.sort_by_key(|r| r.0);
        let mut out = Self::default();
        for row in rows {
            out.push(row);
        }
        out
    }

    fn push(&mut self, (env, obs, reward, terminated, truncated): (u64, Vec<f32>, f32, bool, bool)) {
        self.env.push(env);
        self.obs.push(obs);
        self.reward.push(reward);
        self.terminated.push(terminated);
        self.truncated.push(truncated);
    }

    fn merge(parts: Vec<StepBatch>) -> Self {
        let mut rows: Vec<_> = parts
            .into_iter()
            .flat_map(|p| {
                let StepBatch { env, obs, reward, terminated, truncated } = p;
                env.into_iter().zip(obs).zip(reward).zip(terminated).zip(truncated)
            })
            .collect();
        rows.sort_by_key(|r| r.0.0.0.0);
        let mut out = Self::default();
        for ((((env, obs), reward), terminated), truncated) in rows {
            out.push((env, obs, reward, terminated, truncated));
        }
        out
    }
}

/// What a batch run produced.
#[derive(Debug, Clone)]
pub struct BatchReport {
    /// Total env steps simulated (envs × steps).
    pub env_steps: u64,
    /// Wall time of the stepping (spawning excluded).
    pub wall: Duration,
    /// Threads used.
    pub threads: usize,
    /// Every finished episode, ordered by (env, episode index).
    pub episodes: Vec<EpisodeRecord>,
    /// The last step of every env.
    pub last: StepBatch,
}

impl BatchReport {
    /// Env steps per second of wall time.
    pub fn throughput(&self) -> f64 {
        self.env_steps as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Most env steps one batch may ask for (envs × steps); beyond this a typo is likelier than intent.
pub const MAX_TOTAL_STEPS: u64 = 1 << 40;

impl BatchConfig {
    /// Checks counts before any work starts.
    pub fn validate(&self, registry: &EnvRegistry) -> Result<()> {
        let invalid = |what: &str, value: i64, reason: &str| EngineError::InvalidCount { what: what.into(), value, reason: reason.into() };
        if self.groups.is_empty() {
            return Err(invalid("number of env kinds", 0, "give at least one env"));
        }
        let mut total = 0usize;
        for g in &self.groups {
            registry.get(&g.kind)?;
            if g.count == 0 {
                return Err(invalid(&format!("envs of kind '{}'", g.kind), 0, "must be at least 1"));
            }
            total = total.saturating_add(g.count);
        }
        if total > 1 << 24 {
            return Err(invalid("--envs", total as i64, "at most 16,777,216 envs per run"));
        }
        if self.threads == 0 || self.threads > 1024 {
            return Err(invalid("--threads", self.threads as i64, "must be between 1 and 1024"));
        }
        if self.block_size == 0 || self.block_size > PhysicsBlocks::BLOCK_CAPACITY {
            return Err(invalid("--block-size", self.block_size as i64, "must be between 1 and 64"));
        }
        if self.steps == 0 {
            return Err(invalid("--steps", 0, "must be at least 1"));
        }
        let product = (total as u64).checked_mul(self.steps);
        if product.is_none_or(|p| p > MAX_TOTAL_STEPS) {
            let value = match product {
                Some(p) => format!("{total} × {} = {p}", self.steps),
                None => format!("{total} × {} (beyond 2^64)", self.steps),
            };
            return Err(EngineError::InvalidValue {
                what: "--envs × --steps".into(),
                value,
                reason: "more than 2^40 env steps in one run".into(),
            });
        }
        Ok(())
    }

    /// The physics blocks of this batch: `(kind, global env indices)`, in global block order.
    pub fn blocks(&self) -> Vec<(String, Vec<u64>)> {
        let mut blocks = Vec::new();
        let mut next = 0u64;
        for g in &self.groups {
            let ids: Vec<u64> = (next..next + g.count as u64).collect();
            next += g.count as u64;
            for chunk in ids.chunks(self.block_size.clamp(1, PhysicsBlocks::BLOCK_CAPACITY)) {
                blocks.push((g.kind.clone(), chunk.to_vec()));
            }
        }
        blocks
    }
}

/// Builds the app of one worker: the blocks `worker, worker + threads, …`.
pub fn build_worker(registry: &EnvRegistry, config: &BatchConfig, worker: usize, threads: usize) -> Result<SimApp> {
    let mut app = SimApp::new(config.seed);
    for (block_index, (kind, ids)) in config.blocks().into_iter().enumerate() {
        if block_index % threads != worker {
            continue;
        }
        let factory = registry.get(&kind)?;
        for id in ids {
            let mut options = config.template.clone();
            options.env_id = id;
            options.block_key = Some(block_index as u64);
            factory.spawn(&mut app, &options)?;
        }
    }
    Ok(app)
}

/// Runs the batch: builds one app per thread, steps them all `config.steps` times in parallel,
/// and gathers episodes and the last step.
pub fn run_batch(registry: &EnvRegistry, config: &BatchConfig) -> Result<BatchReport> {
    run_batch_with_progress(registry, config, &|_| {})
}

/// Increments a counter when dropped: marks a worker finished however it ends.
struct CountOnDrop<'a>(&'a AtomicUsize);

impl Drop for CountOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

/// Env steps between two updates of the shared progress counter, per worker.
const PROGRESS_CHUNK: u64 = 256;

/// [`run_batch`], calling `progress(env steps done so far)` from the calling thread about five
/// times a second while the workers run (for progress bars).
pub fn run_batch_with_progress(registry: &EnvRegistry, config: &BatchConfig, progress: &(dyn Fn(u64) + Sync)) -> Result<BatchReport> {
    config.validate(registry)?;
    let threads = config.threads.min(config.blocks().len()).max(1);
    let mut apps = (0..threads).map(|w| build_worker(registry, config, w, threads)).collect::<Result<Vec<_>>>()?;
    let done_steps = AtomicU64::new(0);
    let finished = AtomicUsize::new(0);
    let start = Instant::now();
    let results: Vec<Result<(Vec<EpisodeRecord>, StepBatch)>> = crossbeam::thread::scope(|scope| {
        let (done_steps, finished) = (&done_steps, &finished);
        let handles: Vec<_> = apps
            .iter_mut()
            .map(|app| {
                scope.spawn(move |_| {
                    let _finished = CountOnDrop(finished); // counted even if the worker panics
                    let envs = app.world.query::<&EnvId>().iter(&app.world).count() as u64;
                    let mut left = config.steps;
                    let outcome = (|| {
                        while left > 0 {
                            let n = left.min(PROGRESS_CHUNK);
                            app.run(n)?;
                            left -= n;
                            done_steps.fetch_add(n * envs, Ordering::Relaxed);
                        }
                        Ok::<(), EngineError>(())
                    })();
                    outcome?;
                    let episodes = std::mem::take(&mut app.world.resource_mut::<EpisodeLog>().0);
                    Ok((episodes, StepBatch::collect(app)))
                })
            })
            .collect();
        while finished.load(Ordering::Acquire) < handles.len() {
            progress(done_steps.load(Ordering::Relaxed));
            std::thread::sleep(Duration::from_millis(200));
        }
        progress(done_steps.load(Ordering::Relaxed));
        handles
            .into_iter()
            .enumerate()
            .map(|(worker, h)| {
                h.join().unwrap_or_else(|payload| {
                    let message = payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Err(EngineError::WorkerPanic { worker, message })
                })
            })
            .collect()
    })
    .map_err(|_| EngineError::WorkerPanic { worker: 0, message: "scope panicked".into() })?;
    let wall = start.elapsed();
    let mut episodes = Vec::new();
    let mut parts = Vec::new();
    for r in results {
        let (e, p) = r?;
        episodes.extend(e);
        parts.push(p);
    }
    episodes.sort_by_key(|e| (e.env, e.index));
    let total: u64 = config.groups.iter().map(|g| g.count as u64).sum();
    Ok(BatchReport { env_steps: total * config.steps, wall, threads, episodes, last: StepBatch::merge(parts) })
}
