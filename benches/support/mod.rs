//! What the bench binaries share.

use vagram::learn::compute_pool::{run_on_pool, threads_per_seed};

/// Runs `work` as `vagram train` runs a seed: on a worker of its own pool, which takes part in
/// every pass (as PyTorch's calling thread works in its OpenMP regions). With `caller_var=1` in
/// the environment it runs on the main thread instead, handing every pass to rayon's global pool
/// (how the benches ran before; for comparison).
pub fn run_like_a_seed(caller_var: &str, work: impl FnOnce() + Send) {
    if std::env::var(caller_var).is_ok_and(|v| v == "1") {
        println!("running on the main thread, passes on rayon's global pool ({caller_var}=1)");
        work();
    } else {
        let threads = threads_per_seed(1);
        println!("running on a pool of {threads} learner thread(s)");
        run_on_pool(threads, work).expect("starting the learner threads");
    }
}
