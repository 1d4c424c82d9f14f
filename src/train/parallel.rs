//! Many seeds at once: a pool of worker threads (crossbeam scope) takes seeds from a queue, each
//! running its own independent app, so seeds scale over cores with no shared state but the
//! progress callback. Each seed runs on its own rayon pool (`compute_pool`), the machine's cores
//! divided between the seeds that run at once, so that its passes are split over its own threads.

use crate::learn::compute_pool::{run_on_pool, threads_per_seed};
use crossbeam::channel;

use super::driver::{EpochReport, SeedJob, SeedOutcome, run_seed};

/// Runs every seed of `seeds` on `threads` worker threads; `on_epoch` receives every seed's
/// epoch reports (from the worker threads). Results come back in the order of `seeds`.
pub fn run_seeds(
    job: &SeedJob,
    seeds: &[u64],
    threads: usize,
    on_epoch: &(dyn Fn(&EpochReport) + Sync),
) -> Vec<(u64, anyhow::Result<SeedOutcome>)> {
    let (tx, rx) = channel::unbounded();
    for (i, s) in seeds.iter().enumerate() {
        tx.send((i, *s)).expect("queue open");
    }
    drop(tx);
    let (done_tx, done_rx) = channel::unbounded();
    let workers = threads.clamp(1, seeds.len().max(1));
    crossbeam::scope(|scope| {
        for _ in 0..workers {
            let (rx, done_tx) = (rx.clone(), done_tx.clone());
            scope.spawn(move |_| {
                for (i, seed) in rx.iter() {
                    let job = SeedJob { seed, ..*job };
                    let outcome = run_on_pool(threads_per_seed(workers), || run_seed(&job, &mut |r| on_epoch(r)))
                        .unwrap_or_else(|e| Err(anyhow::anyhow!("seed {seed}: starting its compute threads: {e}")));
                    if let Some(w) = job.watch {
                        w.ended(seed, &outcome);
                    }
                    done_tx.send((i, seed, outcome)).expect("results open");
                }
            });
        }
    })
    .expect("a seed worker panicked");
    drop(done_tx);
    let mut results: Vec<_> = done_rx.iter().collect();
    results.sort_by_key(|(i, ..)| *i);
    results.into_iter().map(|(_, s, o)| (s, o)).collect()
}
