//! The options `vagram train` and `vagram study run` share for running seeds: how many at once,
//! how often to checkpoint, where to pause, and how to show progress.

use clap::Args;

/// How seeds are run (flattened into `train` and `study run`).
#[derive(Args, Debug, Clone)]
pub struct SeedOptions {
    /// Seeds trained at once (default: one per core; `train`: at most one per seed).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub threads: Option<usize>,
    /// Epochs between checkpoints (the last epoch is always saved).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every: u64,
    /// Stop every seed after this many epochs (continue with `train --resume DIR`, or by running
    /// the same `study run` again).
    #[arg(long)]
    pub stop_after_epochs: Option<u64>,
    /// One line per epoch instead of progress bars.
    #[arg(long)]
    pub quiet: bool,
}
