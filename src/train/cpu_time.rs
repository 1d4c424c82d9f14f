//! CPU time of the threads that do a seed's work: each seed runs on its own rayon pool
//! ([`crate::learn::compute_pool`]), so the sum of its workers' thread CPU clocks is the core time
//! the seed used, whatever else shares the machine. `timings.csv` logs it per epoch as `cpu_s`
//! beside the stage wall times, and study summaries count costs from it.

/// The CPU seconds used so far by every thread of the current rayon pool (the global pool when
/// called outside one); `None` where the platform has no per-thread CPU clock. Call it between
/// parallel sections: it runs once on every worker.
pub fn pool_cpu_seconds() -> Option<f64> {
    rayon::broadcast(|_| thread_cpu_seconds()).into_iter().sum()
}

/// The CPU seconds used so far by the calling thread.
#[cfg(unix)]
fn thread_cpu_seconds() -> Option<f64> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (rc == 0).then_some(now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9)
}

#[cfg(not(unix))]
fn thread_cpu_seconds() -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::compute_pool::run_on_pool;

    /// Spins until the calling thread has used `seconds` more of CPU.
    fn spin(seconds: f64) -> f64 {
        let until = thread_cpu_seconds().unwrap() + seconds;
        let mut x = 0.0f64;
        while thread_cpu_seconds().unwrap() < until {
            x = (x + 1.0).sqrt();
        }
        x
    }

    #[test]
    fn the_pools_cpu_time_counts_busy_workers_and_not_sleep() {
        let (busy, asleep) = run_on_pool(2, || {
            let before = pool_cpu_seconds().expect("a thread CPU clock on unix");
            // Both workers spin until each has used 0.2 s more CPU: 0.4 s in all.
            rayon::broadcast(|_| spin(0.2));
            let mid = pool_cpu_seconds().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(200));
            (mid - before, pool_cpu_seconds().unwrap() - mid)
        })
        .unwrap();
        assert!((0.4..0.45).contains(&busy), "two workers spinning 0.2 s of CPU each: {busy} s counted");
        assert!(asleep < 0.02, "a sleeping pool used {asleep} s");
    }
}
