//! Learning throughput on dfdx (CPU): ensemble training steps at Hopper sizes, a critic training
//! step, dV/ds of a value net, and a full SAC update, next to the machine's large-sgemm rate
//! measured in the same run. `benches/pytorch_reference.py` runs the same workloads in PyTorch.
//!
//! Each bare workload runs twice: on the device's kernels (on the CPU, the fast path of
//! `learn::kernels::cpu`) and on dfdx's autodiff graph (`learn::kernels::reference`, the first
//! implementation), so the table carries its own reference.
//!
//! Run: `cargo bench --bench learning` (results go to BENCHMARKS.md by hand).

mod support;

use std::time::Instant;

use vagram::learn::dfdx::prelude::*;
use vagram::learn::dynamics::{DynamicsConfig, DynamicsModel, MemberBatch};
use vagram::learn::ensemble::EnsembleMlp;
use vagram::learn::kernels::{Wants, reference};
use vagram::learn::losses::Mse;
use vagram::learn::replay::ReplayBuffer;
use vagram::learn::sac::{Sac, SacConfig};
use vagram::learn::value_grad::critic_value_gradients;
use vagram::learn::{Activation, Adam, AdamConfig, Bf16Path, Matmul};

type Dev = vagram::learn::AutoDevice;

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

/// Which single-threaded sgemm a reference measures.
#[derive(Clone, Copy)]
enum Sgemm {
    /// The gemm crate 0.19 with its AVX-512 kernels (the fast path's kernels since 2026-11-26).
    Gemm,
    /// matrixmultiply 0.3 (the fast path's kernels before).
    Matrixmultiply,
}

/// `c ← a · b` for row-major `n × n` matrices on this thread.
fn square_product(kind: Sgemm, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == n * n && b.len() == n * n && c.len() == n * n);
    let ni = n as isize;
    // SAFETY: a, b and c are n × n, row-major (checked above), and c aliases neither.
    unsafe {
        match kind {
            Sgemm::Gemm => gemm::gemm(
                n,
                n,
                n,
                c.as_mut_ptr(),
                1,
                ni,
                false,
                a.as_ptr(),
                1,
                ni,
                b.as_ptr(),
                1,
                ni,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            ),
            Sgemm::Matrixmultiply => matrixmultiply::sgemm(n, n, n, 1.0, a.as_ptr(), ni, 1, b.as_ptr(), ni, 1, 0.0, c.as_mut_ptr(), ni, 1),
        }
    }
}

/// 1024³ sgemm, one single-threaded product per core, all cores at once: the machine's practical
/// peak with that kernel.
fn sgemm_all_cores_gflops(kind: Sgemm) -> f64 {
    let n = 1024;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let a = vec![0.5f32; n * n];
    let b = vec![0.25f32; n * n];
    let start = Instant::now();
    let calls: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|_| {
                s.spawn(|| {
                    let mut c = vec![0.0f32; n * n];
                    let mut calls = 0u64;
                    while start.elapsed().as_secs_f64() < 3.0 {
                        square_product(kind, n, &a, &b, &mut c);
                        calls += 1;
                    }
                    std::hint::black_box(&c);
                    calls
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("sgemm thread")).sum()
    });
    calls as f64 * 2.0 * (n * n * n) as f64 / 1e9 / start.elapsed().as_secs_f64()
}

/// Forward flops of one batch through an ensemble (multiply-adds × 2).
fn forward_flops(members: usize, widths: &[usize]) -> f64 {
    2.0 * (members * B) as f64 * widths.windows(2).map(|w| (w[0] * w[1]) as f64).sum::<f64>()
}

fn ensemble_training(dev: &Dev, hidden: &[usize], matmul: Matmul) -> (f64, f64) {
    let config = DynamicsConfig { members: 7, hidden: hidden.to_vec(), matmul, ..DynamicsConfig::default() };
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

/// Which implementation of the ensemble passes a workload runs on.
#[derive(Clone, Copy, PartialEq)]
enum Path {
    /// The device's own kernels (on the CPU: the fast path).
    Kernels,
    /// dfdx's autodiff graph (`learn::kernels::reference`).
    Graph,
}

/// One MSE training step of a bare ensemble on `x` towards `y`.
fn mse_step(net: &mut EnsembleMlp<Dev>, adam: &mut Adam<Dev>, x: &[f32], y: &[f32], path: Path) {
    let grad = |out: &[f32]| Ok::<_, ()>(out.iter().zip(y).map(|(o, t)| 2.0 * (o - t) / y.len() as f32).collect());
    let passes = match path {
        Path::Kernels => net.forward_backward(x, Wants::PARAMS, grad),
        Path::Graph => reference::forward_backward(net, x, Wants::PARAMS, grad),
    };
    let mut grads = passes.expect("step").params.expect("gradients");
    adam.step(net, &mut grads);
}

/// Training steps per second of a bare `members × hidden` net with MSE (PyTorch's workload).
fn bare_training(dev: &Dev, members: usize, hidden: &[usize], activation: Activation, path: Path) -> f64 {
    let out = if members == 7 { OBS + 1 } else { 1 };
    let mut net = EnsembleMlp::new(dev, members, OBS + ACT, hidden, out, activation, 0);
    // MBPO's model weight decay; `LEARNING_BENCH_WD=0` turns it off.
    let wd: f32 = std::env::var("LEARNING_BENCH_WD").ok().and_then(|v| v.parse().ok()).unwrap_or(5e-5);
    let weight_decay = if members > 1 { wd } else { 0.0 };
    let mut adam = Adam::new(&net, AdamConfig { weight_decay, ..AdamConfig::default() });
    let x: Vec<f32> = (0..members * B * (OBS + ACT)).map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0).collect();
    let y: Vec<f32> = (0..members * B * out).map(|i| ((i * 104_729 % 1000) as f32 / 500.0) - 1.0).collect();
    rate(4.0, || mse_step(&mut net, &mut adam, &x, &y, path))
}

fn value_gradient(dev: &Dev, path: Path) -> f64 {
    let critic = EnsembleMlp::new(dev, 1, OBS + ACT, &[256, 256], 1, Activation::Relu, 0);
    let s = vec![0.1f32; B * OBS];
    let a = vec![0.2f32; B * ACT];
    let x: Vec<f32> = (0..B).flat_map(|_| s[..OBS].iter().chain(&a[..ACT]).copied()).collect();
    rate(4.0, || match path {
        Path::Kernels => {
            std::hint::black_box(critic_value_gradients(&critic, &s, &a, OBS, ACT));
        }
        Path::Graph => {
            let grads = reference::forward_backward::<_, ()>(&critic, &x, Wants::INPUT, |y| Ok(vec![1.0; y.len()]));
            std::hint::black_box(grads.expect("pass").input);
        }
    })
}

/// The replay buffer the SAC update workloads sample from: 4,096 synthetic transitions.
fn sac_replay() -> ReplayBuffer {
    let mut buf = ReplayBuffer::new(4096, OBS, ACT);
    for i in 0..4096 {
        let o = vec![(i % 17) as f32 * 0.1; OBS];
        buf.push(&o, &[0.1; ACT], 0.5, &o, false);
    }
    buf
}

fn sac_update(dev: &Dev, width: usize, matmul: Matmul) -> f64 {
    let mut sac = Sac::new(dev, OBS, ACT, SacConfig { hidden: vec![width; 2], matmul, ..SacConfig::default() });
    let buf = sac_replay();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    rate(5.0, || {
        sac.update(&buf.sample(B, &mut rng));
    })
}

/// One model rollout step of `rows` states through a 7 × (4×200) Gaussian ensemble with 5
/// elites, in rows per second: as the rollout stage takes it (each sample predicted by its own
/// member) and, as the reference, the ensemble's forward pass of every member over every row
/// (what the step cost before it predicted only the chosen member's samples).
fn rollout_step(dev: &Dev, rows: usize) -> (f64, f64) {
    use vagram::systems::learning::ModelEnv;
    let config = DynamicsConfig { members: 7, hidden: vec![200; 4], probabilistic: true, ..DynamicsConfig::default() };
    let model = DynamicsModel::new(dev, OBS, ACT, &config).expect("a hopper-sized model");
    let states: Vec<f32> = (0..rows * OBS).map(|k| ((k * 7919 % 1000) as f32 / 500.0) - 1.0).collect();
    let actions: Vec<f32> = (0..rows * ACT).map(|k| ((k * 104729 % 1000) as f32 / 500.0) - 1.0).collect();
    let never = |_: &[f32]| false;
    let env = ModelEnv { model: &model, elites: &[0, 1, 2, 3, 4], is_terminal: &never };
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let own = rate(3.0, || {
        env.step(&states, &actions, &mut rng).expect("a rollout step");
    });
    let every = rate(3.0, || {
        model.predict(&[&states[..]; 7], &[&actions[..]; 7]).expect("a prediction");
    });
    (own * rows as f64, every * rows as f64)
}

/// Two workloads timed in alternating bursts: each side's calls per second over all its bursts,
/// and the ratio `b / a` of every round (one burst of each), summarised by its median and range.
/// A shared machine's drift over seconds hits both sides of a round alike, where two rows timed
/// one after the other (the tables above) differ by up to 20% on their own.
struct Paired {
    a: f64,
    b: f64,
    ratios: Vec<f64>,
}

impl Paired {
    fn measure(rounds: usize, burst: f64, mut a: impl FnMut(), mut b: impl FnMut()) -> Self {
        for _ in 0..3 {
            a();
            b();
        }
        let timed = |f: &mut dyn FnMut()| {
            let start = Instant::now();
            let mut calls = 0u64;
            while start.elapsed().as_secs_f64() < burst {
                f();
                calls += 1;
            }
            (calls as f64, start.elapsed().as_secs_f64())
        };
        let (mut totals, mut ratios) = ([(0.0, 0.0); 2], Vec::with_capacity(rounds));
        for _ in 0..rounds {
            let (ca, ta) = timed(&mut a);
            let (cb, tb) = timed(&mut b);
            totals[0] = (totals[0].0 + ca, totals[0].1 + ta);
            totals[1] = (totals[1].0 + cb, totals[1].1 + tb);
            ratios.push((cb / tb) / (ca / ta));
        }
        ratios.sort_by(f64::total_cmp);
        Self { a: totals[0].0 / totals[0].1, b: totals[1].0 / totals[1].1, ratios }
    }

    fn median(&self) -> f64 {
        let n = self.ratios.len();
        (self.ratios[(n - 1) / 2] + self.ratios[n / 2]) / 2.0
    }
}

/// bf16 against f32 on the two workloads of issue #22's targets, as [`Paired`] bursts.
fn bf16_against_f32(dev: &Dev, bf16: &str) {
    let (rounds, burst) = (12, 0.6);
    println!("\nbf16 against f32, {rounds} rounds of alternating {burst} s bursts ({bf16}):\n");
    println!("| workload | f32 steps/s | bf16 steps/s | bf16 / f32: median of rounds | range |");
    println!("| --- | ---: | ---: | ---: | --- |");
    let report = |name: &str, p: Paired| {
        let (lo, hi) = (p.ratios[0], p.ratios[p.ratios.len() - 1]);
        println!("| {name} | {:.0} | {:.0} | {:.2}× | {lo:.2}–{hi:.2}× |", p.a, p.b, p.median());
    };
    let model = |matmul| {
        let config = DynamicsConfig { members: 7, hidden: vec![200; 4], matmul, ..DynamicsConfig::default() };
        DynamicsModel::new(dev, OBS, ACT, &config).expect("model")
    };
    let (mut f32_model, mut bf16_model) = (model(Matmul::F32), model(Matmul::Bf16));
    let (s, a, r) = (vec![0.1f32; B * OBS], vec![0.2f32; B * ACT], vec![0.3f32; B]);
    let batches = vec![MemberBatch { states: &s, actions: &a, next_states: &s, rewards: &r }; 7];
    report(
        "dynamics model train step, 7 × (4×200), MSE",
        Paired::measure(
            rounds,
            burst,
            || {
                f32_model.train_step(&batches, &Mse, None).expect("step");
            },
            || {
                bf16_model.train_step(&batches, &Mse, None).expect("step");
            },
        ),
    );
    let sac = |matmul| Sac::new(dev, OBS, ACT, SacConfig { hidden: vec![512; 2], matmul, ..SacConfig::default() });
    let (mut f32_sac, mut bf16_sac) = (sac(Matmul::F32), sac(Matmul::Bf16));
    let buf = sac_replay();
    let seeded = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64;
    let (mut rng_a, mut rng_b) = (seeded(0), seeded(0));
    report(
        "SAC update (512×512 actor + twin critics, obs 11, act 3)",
        Paired::measure(
            rounds,
            burst,
            || {
                f32_sac.update(&buf.sample(B, &mut rng_a));
            },
            || {
                bf16_sac.update(&buf.sample(B, &mut rng_b));
            },
        ),
    );
}

/// GFLOP/s of one 512 → 512 linear layer's forward pass on 512 rows on one thread, the weights
/// packed once and the inputs packed every call, as `matmul` on `path` computes it: the
/// products' own speed on this CPU, each bf16 path against f32.
fn layer_gflops(dev: &Dev, matmul: Matmul, path: Bf16Path) -> f64 {
    let n = 512;
    let net = EnsembleMlp::new(dev, 1, n, &[], n, Activation::Relu, 0).with_matmul(matmul).with_bf16_path(path);
    let x: Vec<f32> = (0..n * n).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
    let calls = vagram::learn::compute_pool::run_on_pool(1, || {
        rate(3.0, || {
            std::hint::black_box(net.infer(&x));
        })
    })
    .expect("a one-thread pool");
    calls * 2.0 * (n * n * n) as f64 / 1e9
}

fn main() {
    vagram::allocator::keep_freed_memory();
    support::run_like_a_seed("LEARNING_BENCH_CALLER_THREAD", workloads);
}

fn workloads() {
    let dev = Dev::seed_from_u64(0);
    // `LEARNING_BENCH_KERNELS_ONLY=1` skips the sgemm references and the dfdx-graph column
    // (profiling the fast path alone).
    let kernels_only = std::env::var("LEARNING_BENCH_KERNELS_ONLY").is_ok_and(|v| v == "1");
    let [dfdx_gflops, gemm_gflops, mm_gflops] = if kernels_only {
        [f64::NAN; 3]
    } else {
        [sgemm_gflops(&dev), sgemm_all_cores_gflops(Sgemm::Gemm), sgemm_all_cores_gflops(Sgemm::Matrixmultiply)]
    };
    let gflops = dfdx_gflops.max(gemm_gflops).max(mm_gflops);
    println!("threads: rayon default (RAYON_NUM_THREADS={})", std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into()));
    println!(
        "sgemm 1024³ references: dfdx (gemm 0.15, all threads) {dfdx_gflops:.1} GFLOP/s; one product per core: gemm 0.19 (AVX-512) {gemm_gflops:.1} GFLOP/s, matrixmultiply {mm_gflops:.1} GFLOP/s"
    );
    println!("shares below are of the larger, {gflops:.1} GFLOP/s\n");
    println!("| workload (batch 256) | kernels, steps/s | GFLOP/s | share of sgemm | dfdx graph, steps/s | kernels / graph |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    // `LEARNING_BENCH_ONLY=3×64` runs only the workloads whose name contains that text (profiling).
    let only = std::env::var("LEARNING_BENCH_ONLY").ok();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    let silu = Activation::Silu;
    for (name, members, hidden, act, out) in [
        ("7 × (4×200 SiLU) ensemble train step", 7, vec![200; 4], silu, OBS + 1),
        ("7 × (2×64 SiLU) ensemble train step", 7, vec![64; 2], silu, OBS + 1),
        ("7 × (3×64 SiLU) ensemble train step", 7, vec![64; 3], silu, OBS + 1),
        ("critic 14→256→256→1 ReLU train step", 1, vec![256; 2], Activation::Relu, 1),
    ] {
        if !wanted(name) {
            continue;
        }
        let fast = bare_training(&dev, members, &hidden, act, Path::Kernels);
        let graph = if kernels_only { f64::NAN } else { bare_training(&dev, members, &hidden, act, Path::Graph) };
        let widths: Vec<usize> = std::iter::once(OBS + ACT).chain(hidden.iter().copied()).chain([out]).collect();
        // forward + backward ≈ 3 × forward
        let gf = fast * 3.0 * forward_flops(members, &widths) / 1e9;
        println!("| {name} | {fast:.0} | {gf:.1} | {:.0}% | {graph:.0} | {:.2} |", 100.0 * gf / gflops, fast / graph);
    }
    if wanted("dV/ds") {
        let fast = value_gradient(&dev, Path::Kernels);
        let graph = if kernels_only { f64::NAN } else { value_gradient(&dev, Path::Graph) };
        println!("| dV/ds of a 14→256→256→1 value net | {fast:.0} | | | {graph:.0} | {:.2} |", fast / graph);
    }
    println!();
    println!("Full learner steps (kernels path):\n");
    println!("| workload | steps/s |");
    println!("| --- | ---: |");
    // bf16 rows: operands rounded to bf16, f32 sums, on this CPU's fastest path (AMX tiles,
    // AVX512_BF16) unless VAGRAM_BF16_PATH forces a slower one.
    let path = Bf16Path::here().unwrap_or_else(|e| panic!("{e}"));
    let bf16 = format!("bf16 matmuls on {}", path.describe());
    for (name, hidden, matmul) in [
        ("dynamics model train step, 7 × (4×200), MSE".to_string(), vec![200; 4], Matmul::F32),
        ("dynamics model train step, 7 × (2×64), MSE".to_string(), vec![64; 2], Matmul::F32),
        (format!("dynamics model train step, 7 × (4×200), MSE, {bf16}"), vec![200; 4], Matmul::Bf16),
    ] {
        if wanted(&name) {
            println!("| {name} | {:.0} |", ensemble_training(&dev, &hidden, matmul).0);
        }
    }
    if wanted("rollout") {
        let rows = 4096;
        let (own, every) = rollout_step(&dev, rows);
        println!(
            "| model rollout step, 7 × (4×200) Gaussian, 5 elites, {rows} rows: rows/s, each row by its member (every member on every row: {every:.0}; ratio {:.2}) | {own:.0} |",
            own / every
        );
    }
    for (width, matmul) in [(256, Matmul::F32), (512, Matmul::F32), (512, Matmul::Bf16)] {
        let suffix = if matmul == Matmul::Bf16 { format!(", {bf16}") } else { String::new() };
        let name = format!("SAC update ({width}×{width} actor + twin critics, obs 11, act 3){suffix}");
        if wanted(&name) {
            println!("| {name} | {:.0} |", sac_update(&dev, width, matmul));
        }
    }
    if wanted("paired") {
        bf16_against_f32(&dev, &bf16);
    }
    let name = "one 512 → 512 layer on 512 rows, one thread";
    if wanted(name) {
        println!("\n{name} (every bf16 path this CPU runs):\n");
        println!("| arithmetic | GFLOP/s | vs f32 |");
        println!("| --- | ---: | ---: |");
        let f32_rate = layer_gflops(&dev, Matmul::F32, Bf16Path::Emulated);
        println!("| f32 (gemm crate) | {f32_rate:.0} | 1.00 |");
        for path in [Bf16Path::Amx, Bf16Path::Avx512Bf16, Bf16Path::Emulated].into_iter().filter(|p| p.runs_here()) {
            let bf16_rate = layer_gflops(&dev, Matmul::Bf16, path);
            println!("| bf16: {} | {bf16_rate:.0} | {:.2} |", path.describe(), bf16_rate / f32_rate);
        }
    }
}
