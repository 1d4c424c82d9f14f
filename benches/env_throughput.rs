//! Env steps per second of the batch runner, next to gym's analytic pendulum step measured in the
//! same run (the same equations in plain Rust: the floor a physics engine cannot beat).
//!
//! Run: `cargo bench --bench env_throughput` (results go to BENCHMARKS.md by hand).
//! Each workload runs 3 times, interleaved; the median is reported.

use std::time::Instant;

use rand::{RngExt, SeedableRng};
use vagram::prelude::*;

const ENVS: usize = 64;
const STEPS: u64 = 40_000;

/// gym's Pendulum-v1 step over 64 envs with random torques, as numpy would do it but in Rust.
fn analytic_pendulum() -> f64 {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut th: Vec<f64> = (0..ENVS).map(|_| rng.random_range(-std::f64::consts::PI..std::f64::consts::PI)).collect();
    let mut thdot: Vec<f64> = (0..ENVS).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut ret = 0.0;
    let start = Instant::now();
    for _ in 0..STEPS {
        for i in 0..ENVS {
            let u: f64 = rng.random_range(-2.0..2.0);
            let n = (th[i] + std::f64::consts::PI).rem_euclid(2.0 * std::f64::consts::PI) - std::f64::consts::PI;
            ret -= n * n + 0.1 * thdot[i] * thdot[i] + 0.001 * u * u;
            thdot[i] = (thdot[i] + (15.0 * th[i].sin() + 3.0 * u) * 0.05).clamp(-8.0, 8.0);
            th[i] += thdot[i] * 0.05;
        }
    }
    let rate = (ENVS as u64 * STEPS) as f64 / start.elapsed().as_secs_f64();
    std::hint::black_box(ret);
    rate
}

fn rapier(kind: &str, threads: usize, block_size: usize) -> f64 {
    rapier_steps(kind, threads, block_size, STEPS)
}

/// Hopper steps cost ~40× a pendulum step: fewer of them.
const HOPPER_STEPS: u64 = 2_000;

fn rapier_steps(kind: &str, threads: usize, block_size: usize, steps: u64) -> f64 {
    let mut template = SpawnOptions::new(0);
    template.action_source = ActionSource::Random;
    let config = BatchConfig { seed: 0, groups: vec![EnvGroup { kind: kind.into(), count: ENVS }], threads, steps, template, block_size };
    run_batch(&builtin_registry(), &config).expect("batch").throughput()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    type Workload = (&'static str, Box<dyn Fn() -> f64>);
    let workloads: Vec<Workload> = vec![
        ("analytic gym pendulum step (Rust, reference)", Box::new(analytic_pendulum)),
        ("rapier pendulum, 1 thread, blocks of 32", Box::new(|| rapier("pendulum", 1, 32))),
        ("rapier pendulum, 2 threads, blocks of 32", Box::new(|| rapier("pendulum", 2, 32))),
        ("rapier pendulum, 1 thread, one world per env", Box::new(|| rapier("pendulum", 1, 1))),
        ("rapier cartpole, 1 thread, blocks of 32", Box::new(|| rapier("cartpole", 1, 32))),
        ("rapier cartpole, 2 threads, blocks of 32", Box::new(|| rapier("cartpole", 2, 32))),
        ("rapier hopper, 1 thread, blocks of 32", Box::new(|| rapier_steps("hopper", 1, 32, HOPPER_STEPS))),
        ("rapier hopper, 2 threads, blocks of 32", Box::new(|| rapier_steps("hopper", 2, 32, HOPPER_STEPS))),
        ("rapier hopper, 1 thread, one world per env", Box::new(|| rapier_steps("hopper", 1, 1, HOPPER_STEPS))),
    ];
    let mut samples = vec![Vec::new(); workloads.len()];
    for _ in 0..3 {
        for (i, (_, f)) in workloads.iter().enumerate() {
            samples[i].push(f());
        }
    }
    let rates: Vec<f64> = samples.into_iter().map(median).collect();
    println!("{ENVS} envs × {STEPS} steps, random actions, median of 3 interleaved runs\n");
    println!("| workload | env steps/s | vs analytic | vs 465k target |");
    println!("| --- | ---: | ---: | ---: |");
    for ((name, _), rate) in workloads.iter().zip(&rates) {
        println!("| {name} | {rate:.0} | {:.3} | {:.2} |", rate / rates[0], rate / 465_000.0);
    }
    println!("\npendulum 2-thread scaling: {:.2}×; cartpole: {:.2}×", rates[2] / rates[1], rates[5] / rates[4]);
    println!(
        "hopper ({HOPPER_STEPS} steps, random actions): {:.0} env steps/s on 1 thread ({:.2}× the 18,200 target, bare MuJoCo loop), {:.2}× on 2 threads (target 1.8×)",
        rates[6],
        rates[6] / 18_200.0,
        rates[7] / rates[6]
    );
}
