//! Learning throughput on dfdx (CPU): ensemble training steps at Hopper sizes, a critic training
//! step, dV/ds of a value net, and a full SAC update, next to the machine's large-sgemm rate
//! measured in the same run. `benches/pytorch_reference.py` runs the same workloads in PyTorch.
//!
//! Run: `cargo bench --bench learning` (results go to BENCHMARKS.md by hand).

use std::time::Instant;

use vagram::engine::dfdx::prelude::*;
use vagram::engine::learn::dynamics::{DynamicsConfig, DynamicsModel, MemberBatch};
use vagram::engine::learn::ensemble::{EnsembleMlp, Tensor3};
use vagram::engine::learn::losses::Mse;
use vagram::engine::learn::replay::ReplayBuffer;
use vagram::engine::learn::sac::{Sac, SacConfig};
use vagram::engine::learn::value_grad::critic_value_gradients;
use vagram::engine::learn::{Activation, Adam, AdamConfig};

type Dev = vagram::engine::learn::AutoDevice;

const B: usize = 256;
const OBS: usize = 11;
const ACT: usize = 3;

/// Runs `f` repeatedly for about `secs` seconds (after a warm-up) and returns calls per second.
fn rate(secs: f64, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn sgemm_gflops(dev: &Dev) -> f64 {
    let n = 1024;
    let a: Tensor<(usize, usize), f32, Dev> = dev.sample_normal_like(&(n, n));
    let b: Tensor<(usize, usize), f32, Dev> = dev.sample_normal_like(&(n, n));
    let calls = rate(3.0, || {
        std::hint::black_box(a.clone().matmul(b.clone()));
    });
    calls * 2.0 * (n * n * n) as f64 / 1e9
}

/// Forward flops of one batch through an ensemble (multiply-adds × 2).
fn forward_flops(members: usize, widths: &[usize]) -> f64 {
    2.0 * (members * B) as f64 * widths.windows(2).map(|w| (w[0] * w[1]) as f64).sum::<f64>()
}

fn ensemble_training(dev: &Dev, hidden: &[usize]) -> (f64, f64) {
    let config = DynamicsConfig { members: 7, hidden: hidden.to_vec(), ..DynamicsConfig::default() };
    let mut model = DynamicsModel::new(dev, OBS, ACT, &config).expect("model");
    let s = vec![0.1f32; B * OBS];
    let a = vec![0.2f32; B * ACT];
    let r = vec![0.3f32; B];
    let batch = MemberBatch { states: &s, actions: &a, next_states: &s, rewards: &r };
    let batches = vec![batch; 7];
    let steps = rate(4.0, || {
        model.train_step(&batches, &Mse, None).expect("step");
    });
    let widths: Vec<usize> = std::iter::once(OBS + ACT).chain(hidden.iter().copied()).chain([OBS + 1]).collect();
    // forward + backward ≈ 3 × forward
    (steps, steps * 3.0 * forward_flops(7, &widths) / 1e9)
}

fn critic_step(dev: &Dev) -> f64 {
    let mut critic = EnsembleMlp::new(dev, 1, OBS + ACT, &[256, 256], 1, Activation::Relu, 0);
    let mut adam = Adam::new(&critic, AdamConfig::default());
    let x: Tensor3<Dev> = dev.sample_normal_like(&(1, B, OBS + ACT));
    let d_out = vec![1.0 / B as f32; B];
    rate(4.0, || {
        let mut grads = critic.backprop_output_gradient(&x, &d_out);
        adam.step(&mut critic, &mut grads);
    })
}

fn value_gradient(dev: &Dev) -> f64 {
    let critic = EnsembleMlp::new(dev, 1, OBS + ACT, &[256, 256], 1, Activation::Relu, 0);
    let s = vec![0.1f32; B * OBS];
    let a = vec![0.2f32; B * ACT];
    rate(4.0, || {
        std::hint::black_box(critic_value_gradients(&critic, &s, &a, OBS, ACT));
    })
}

fn sac_update(dev: &Dev) -> f64 {
    let mut sac = Sac::new(dev, OBS, ACT, SacConfig::default());
    let mut buf = ReplayBuffer::new(4096, OBS, ACT);
    for i in 0..4096 {
        let o = vec![(i % 17) as f32 * 0.1; OBS];
        buf.push(&o, &[0.1; ACT], 0.5, &o, false);
    }
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    rate(5.0, || {
        sac.update(&buf.sample(B, &mut rng));
    })
}

fn main() {
    let dev = Dev::seed_from_u64(0);
    let gflops = sgemm_gflops(&dev);
    println!("threads: rayon default (RAYON_NUM_THREADS={})", std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into()));
    println!("sgemm 1024³ reference: {gflops:.1} GFLOP/s\n");
    println!("| workload (batch 256) | steps/s | GFLOP/s | share of sgemm |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, hidden) in [
        ("7 × (4×200 SiLU) ensemble train step", vec![200; 4]),
        ("7 × (2×64) ensemble train step", vec![64; 2]),
        ("7 × (3×64) ensemble train step", vec![64; 3]),
    ] {
        let (steps, gf) = ensemble_training(&dev, &hidden);
        println!("| {name} | {steps:.0} | {gf:.1} | {:.0}% |", 100.0 * gf / gflops);
    }
    println!("| critic 14→256→256→1 train step | {:.0} | | |", critic_step(&dev));
    println!("| dV/ds of a 14→256→256→1 value net | {:.0} | | |", value_gradient(&dev));
    println!("| SAC update (256×256 actor + twin critics, obs 11, act 3) | {:.0} | | |", sac_update(&dev));
}
