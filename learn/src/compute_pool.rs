//! The threads a learner's passes run on.
//!
//! The CPU kernels split each pass (a forward, a backward, an Adam step) over rayon's *current*
//! pool. Called from a thread outside any pool, every pass is handed to the pool's workers while
//! the caller sleeps until they are done: two wake-ups and a hand-off per pass, and on two cores
//! three threads taking turns. An MBPO env step makes hundreds of passes. Run on one of the
//! pool's own workers instead ([`run_on_pool`]), the caller takes the first share of each pass
//! itself and the other workers steal the rest.
//!
//! A private pool per seed also keeps seeds that run side by side from queueing on one shared
//! pool: each seed gets its own workers.

/// Why [`run_on_pool`] could not start its pool (the OS refused a thread).
pub type PoolError = rayon::ThreadPoolBuildError;

/// Runs `work` on a worker of a new rayon pool of `threads` threads (at least one), so that every
/// pass `work` makes is split over that pool with the calling worker taking part; returns what
/// `work` returns. A panic in `work` is resumed in the caller.
///
/// The pool lives as long as the call: learning state built inside `work` (a
/// seed app, whose networks are non-send resources) is built, used and dropped on one worker
/// thread.
pub fn run_on_pool<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> Result<R, PoolError> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).thread_name(|i| format!("learner-{i}")).build()?;
    Ok(pool.install(work))
}

/// Threads per seed when `seeds_at_once` seeds share this machine: `RAYON_NUM_THREADS` if set,
/// else the cores divided evenly between the seeds (at least one each).
pub fn threads_per_seed(seeds_at_once: usize) -> usize {
    if let Some(n) = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0) {
        return n;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / seeds_at_once.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_worker_of_a_pool_of_the_asked_size() {
        let (index, threads, name) = run_on_pool(3, || {
            (rayon::current_thread_index(), rayon::current_num_threads(), std::thread::current().name().map(str::to_owned))
        })
        .unwrap();
        assert!(index.is_some_and(|i| i < 3), "not on a pool worker: {index:?}");
        assert_eq!(threads, 3);
        assert!(name.is_some_and(|n| n.starts_with("learner-")));
        assert_eq!(run_on_pool(0, rayon::current_num_threads).unwrap(), 1, "zero threads means one");
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| run_on_pool(2, || panic!("boom in the pool")));
        let message = caught.expect_err("the panic must come back").downcast::<&str>().map(|m| *m);
        assert_eq!(message.ok(), Some("boom in the pool"));
    }
}
