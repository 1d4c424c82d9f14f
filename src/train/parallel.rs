//! Many seeds at once: a pool of worker threads (crossbeam scope) takes seed jobs from a queue,
//! each running its own independent app, so seeds scale over cores with no shared state but the
//! progress callback. Each seed runs on its own rayon pool (`compute_pool`), the machine's cores
//! divided between the seeds that run at once, so that its passes are split over its own threads.
//! The jobs may belong to different runs (a study's cells): each carries its own config and
//! directory.

use crate::learn::compute_pool::{run_on_pool, threads_per_seed};
use crossbeam::channel;

use super::driver::{EpochReport, SeedJob, SeedOutcome, run_seed};

/// The compute threads each seed gets when `threads` worker threads take `jobs` seeds: the
/// machine's cores divided between the seeds that run at once (what [`run_jobs`] gives them).
pub fn compute_threads(threads: usize, jobs: usize) -> usize {
    threads_per_seed(threads.clamp(1, jobs.max(1)))
}

/// Runs every seed of `seeds` of one run on `threads` worker threads; `on_epoch` receives every
/// seed's epoch reports (from the worker threads). Results come back in the order of `seeds`.
pub fn run_seeds(
    job: &SeedJob,
    seeds: &[u64],
    threads: usize,
    on_epoch: &(dyn Fn(&EpochReport) + Sync),
) -> Vec<(u64, anyhow::Result<SeedOutcome>)> {
    let jobs: Vec<SeedJob> = seeds.iter().map(|&seed| SeedJob { seed, ..*job }).collect();
    let results = run_jobs(&jobs, threads, &|_, report| on_epoch(report));
    seeds.iter().copied().zip(results).collect()
}

/// Runs `jobs` (seeds of any runs) on `threads` worker threads, taken in order; `on_epoch`
/// receives the job's index and its epoch reports (from the worker threads). Results come back
/// in the order of `jobs`.
pub fn run_jobs(jobs: &[SeedJob], threads: usize, on_epoch: &(dyn Fn(usize, &EpochReport) + Sync)) -> Vec<anyhow::Result<SeedOutcome>> {
    let (tx, rx) = channel::unbounded();
    for i in 0..jobs.len() {
        tx.send(i).expect("queue open");
    }
    drop(tx);
    let (done_tx, done_rx) = channel::unbounded();
    let workers = threads.clamp(1, jobs.len().max(1));
    let per_seed = compute_threads(threads, jobs.len());
    crossbeam::scope(|scope| {
        for _ in 0..workers {
            let (rx, done_tx) = (rx.clone(), done_tx.clone());
            scope.spawn(move |_| {
                for i in rx.iter() {
                    let job = &jobs[i];
                    let seed = job.seed;
                    let outcome = run_on_pool(per_seed, || run_seed(job, &mut |r| on_epoch(i, r)))
                        .unwrap_or_else(|e| Err(anyhow::anyhow!("seed {seed}: starting its compute threads: {e}")));
                    if let Some(w) = job.watch {
                        w.ended(seed, &outcome);
                    }
                    done_tx.send((i, outcome)).expect("results open");
                }
            });
        }
    })
    .expect("a seed worker panicked");
    drop(done_tx);
    let mut results: Vec<_> = done_rx.iter().collect();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, o)| o).collect()
}
