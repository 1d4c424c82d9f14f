//! `vagram train`: MBPO runs with any model loss, many seeds in parallel, with per-epoch CSV
//! logs, crash-safe checkpoints and exact resume.
//!
//! - [`config`]: run configurations (TOML, the paper's presets, `--set` overrides, validation);
//! - [`cost`]: what a run costs, from a short calibration on this machine;
//! - [`cpu_time`]: the core time a seed's threads used (logged per epoch);
//! - [`build`]: one seed's ECS app from a [`RunConfig`](config::RunConfig);
//! - [`state`]: everything that evolves during a run, as named tensors;
//! - [`checkpoint`]: the checkpoint files (safetensors + manifest, written atomically);
//! - [`run_dir`]: the run directory, its CSVs and statuses;
//! - [`lock`]: who may write to a run directory (one whole-run writer, or one per seed);
//! - [`driver`]: one seed, epoch by epoch, with the NaN guard;
//! - [`parallel`]: many seeds on many threads;
//! - [`stop`]: SIGINT/SIGTERM as a request to pause every seed at its current step.

pub mod build;
pub mod checkpoint;
pub mod config;
pub mod cost;
pub mod cpu_time;
pub mod driver;
pub mod lock;
pub mod parallel;
pub mod run_dir;
pub mod state;
pub mod stop;

pub use build::SeedApp;
pub use driver::{EpochReport, SeedJob, SeedOutcome, Watch, run_seed};
pub use parallel::{run_jobs, run_seeds};
