//! Seconds per real env step of the full MBPO loop, with a per-stage breakdown.
//!
//! 1. Pendulum, the `pendulum` preset (VaGraM): the real ECS loop (`SeedApp`), timed over one
//!    epoch after the first model fit and the random phase, from the stages' own clocks.
//! 2. A Hopper-sized configuration (obs 11, action 3) with the reference's settings — MBRL-Lib's
//!    stock `mbpo_hopper`: 7 × 4×200 SiLU ensemble, 400 rollouts per step, 40 SAC updates per
//!    step with 512-wide nets, batch 256, model training every 250 steps at 5k samples — twice:
//!    - on synthetic Hopper-sized data, the learning stages timed alone and combined the way the
//!      reference was measured: 40 SAC updates + one step of rollouts + the model fit amortised
//!      over 250 steps, with the fit as long as the reference's (30 s at 13 ms per 256-sample
//!      batch ≈ 2300 batches);
//!    - on the real ECS hopper env (`hopper_loop`): random phase, first fit at 5,000
//!      transitions (trained to convergence), then steady-state steps timed by the stages' clocks.
//!
//! Run: `cargo bench --bench mbpo_loop` (results go to BENCHMARKS.md by hand).

mod support;

use std::time::Instant;

use rand::{RngExt, SeedableRng};
use vagram::learn::dynamics::{DynamicsConfig, DynamicsModel, MemberBatch};
use vagram::learn::replay::ReplayBuffer;
use vagram::learn::sac::{Sac, SacConfig};
use vagram::learn::{Bf16Path, Matmul};
use vagram::systems::learning::{EpochLog, ModelResource};
use vagram::train::SeedApp;
use vagram::train::config::RunConfig;

type Dev = vagram::learn::AutoDevice;

/// Reference: MBRL-Lib 0.2.0 + PyTorch CPU, stock mbpo_hopper, these 2-core machines (issue #4).
const REFERENCE_S_PER_STEP: f64 = 0.87;
const REFERENCE_BATCHES_PER_FIT: f64 = 30.0 / 0.013;

fn pendulum() {
    let config = RunConfig::preset("pendulum", "vagram").expect("preset");
    let registry = vagram::envs::builtin_registry();
    let mut run = SeedApp::build(&config, &registry, 0).expect("builds");
    run.app.run(2 * config.run.epoch_length).expect("warm-up epochs");
    run.app.world.resource_mut::<EpochLog>().timings.clear();
    let start = Instant::now();
    run.app.run(config.run.epoch_length).expect("timed epoch");
    let wall = start.elapsed().as_secs_f64();
    let t = run.app.world.resource::<EpochLog>().timings[0].seconds;
    let per = |x: f64| 1e3 * x / config.run.epoch_length as f64;
    println!(
        "pendulum preset (vagram), epoch 3: {:.1} ms per env step (wall {:.1} ms): env {:.2} · model training {:.1} · rollouts {:.1} · SAC {:.1} · eval {:.2} ms",
        1e3 * wall / config.run.epoch_length as f64,
        per(t.total()),
        per(t.env),
        per(t.model),
        per(t.rollout),
        per(t.sac),
        per(t.eval)
    );
}

/// The reference's configuration on the real ECS hopper: the random phase, the first model fit
/// at 5,000 transitions, then 100 steady-state env steps timed by the stages' own clocks. The
/// fit (trained to convergence, as the reference's) is amortised over the 250 steps between fits.
fn hopper_loop(matmul: Matmul) {
    let mut config = RunConfig::preset("hopper", "mle").expect("preset");
    config.set(&format!("agent.matmul=\"{matmul}\"")).expect("a valid override");
    config.set(&format!("model.matmul=\"{matmul}\"")).expect("a valid override");
    for assignment in [
        "agent.hidden=[512, 512]",
        "agent.updates_per_step=40",
        "model.batch_size=256",
        // The first fit at 5,000 transitions (250 steps into learning), as the reference's
        // steady state right after its first fit; the next one falls after the timed steps.
        "model.train_every=250",
        "run.initial_random_steps=4750",
        "run.epoch_length=100",
        // Rollouts of one step, as the reference's schedule gives in its first epochs, 400 after
        // every step so that the timed steps carry their share of the rollout work.
        "rollout.length=[20, 150, 1, 1]",
        "rollout.cadence=per-step",
    ] {
        config.set(assignment).expect("a valid override");
    }
    let registry = vagram::envs::builtin_registry();
    let mut run = SeedApp::build(&config, &registry, 0).expect("builds");
    run.app.run(4900).expect("random phase");
    run.app.world.resource_mut::<EpochLog>().timings.clear();
    // The fit runs at the 5,000th step, the last of this epoch.
    run.app.run(100).expect("the epoch with the first fit");
    let fit_s = run.app.world.resource::<EpochLog>().timings[0].seconds.model;
    assert!(fit_s > 0.0, "the first model fit falls in the epoch ending at step 5,000");
    // The fit's length is set by early stopping on this data, so say how many batches it ran
    // (the reference's 30 s call ran about 2,300 at 13 ms).
    let model = run.app.world.non_send::<ModelResource>();
    let epochs = model.last.as_ref().expect("a fit report").epochs;
    let trainer = &model.trainer;
    let train_rows = 5000 - (5000.0 * trainer.validation_ratio).round() as usize;
    let batches = epochs * train_rows.div_ceil(trainer.batch_size);
    run.app.world.resource_mut::<EpochLog>().timings.clear();
    let start = Instant::now();
    run.app.run(100).expect("timed steps");
    let wall = start.elapsed().as_secs_f64() / 100.0;
    let t = run.app.world.resource::<EpochLog>().timings[0].seconds;
    let per_step = (t.env + t.rollout + t.sac) / 100.0 + fit_s / 250.0;
    println!(
        "hopper env, reference config, {matmul} matmuls: {per_step:.3} s per env step = SAC {:.1} ms ({:.1} ms per update) + model fit {fit_s:.1} s / 250 steps ({epochs} epochs ≈ {batches} batches × {:.1} ms) + rollouts {:.1} ms + env {:.2} ms (wall {:.3} s per step without fits, eval {:.2} s)",
        10.0 * t.sac,
        10.0 * t.sac / 40.0,
        1e3 * fit_s / batches.max(1) as f64,
        10.0 * t.rollout,
        10.0 * t.env,
        wall,
        t.eval
    );
    println!(
        "  vs MBRL-Lib reference {REFERENCE_S_PER_STEP} s per env step: {:.2}× ({} the 0.29 s target)",
        REFERENCE_S_PER_STEP / per_step,
        if per_step <= 0.29 { "meets" } else { "misses" }
    );
}

fn hopper_sized(matmul: Matmul) {
    let (obs, act, b) = (11, 3, 256);
    let dev = Dev::seed_from_u64(0);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut buffer = ReplayBuffer::new(5000, obs, act);
    for _ in 0..5000 {
        let s: Vec<f32> = (0..obs).map(|_| rng.random_range(-1.0..1.0)).collect();
        let a: Vec<f32> = (0..act).map(|_| rng.random_range(-1.0..1.0)).collect();
        let s2: Vec<f32> = s.iter().map(|x| x + 0.01).collect();
        buffer.push(&s, &a, 1.0, &s2, false);
    }
    let mut sac = Sac::new(&dev, obs, act, SacConfig { hidden: vec![512, 512], matmul, ..SacConfig::default() });
    let sac_s = {
        for _ in 0..3 {
            sac.update(&buffer.sample(b, &mut rng));
        }
        let n = 40;
        let start = Instant::now();
        for _ in 0..n {
            sac.update(&buffer.sample(b, &mut rng));
        }
        start.elapsed().as_secs_f64() / n as f64
    };
    let mut model =
        DynamicsModel::new(&dev, obs, act, &DynamicsConfig { probabilistic: true, matmul, ..DynamicsConfig::default() }).expect("model");
    let batch_s = {
        let batches: Vec<_> = (0..7).map(|_| buffer.sample(b, &mut rng)).collect();
        let views: Vec<MemberBatch> = batches
            .iter()
            .map(|x| MemberBatch { states: &x.obs, actions: &x.actions, next_states: &x.next_obs, rewards: &x.rewards })
            .collect();
        let loss = vagram::learn::losses::GaussianNll;
        for _ in 0..3 {
            model.train_step(&views, &loss, None).expect("step");
        }
        let n = 20;
        let start = Instant::now();
        for _ in 0..n {
            model.train_step(&views, &loss, None).expect("step");
        }
        start.elapsed().as_secs_f64() / n as f64
    };
    let rollout_s = {
        let starts = buffer.sample(400, &mut rng).obs;
        let n = 10;
        let start = Instant::now();
        for _ in 0..n {
            let actions = sac.act(&starts, false);
            model.predict(&[&starts[..]; 7], &[&actions[..]; 7]).expect("predict");
        }
        start.elapsed().as_secs_f64() / n as f64
    };
    let per_step = 40.0 * sac_s + REFERENCE_BATCHES_PER_FIT * batch_s / 250.0 + rollout_s;
    println!(
        "hopper-sized reference config, {matmul} matmuls: {:.3} s per env step = SAC 40 × {:.1} ms + model {:.0} batches × {:.1} ms / 250 steps + rollouts {:.1} ms",
        per_step,
        1e3 * sac_s,
        REFERENCE_BATCHES_PER_FIT,
        1e3 * batch_s,
        1e3 * rollout_s
    );
    println!(
        "  vs MBRL-Lib reference {REFERENCE_S_PER_STEP} s per env step: {:.2}× ({} the 0.29 s target)",
        REFERENCE_S_PER_STEP / per_step,
        if per_step <= 0.29 { "meets" } else { "misses" }
    );
}

fn main() {
    vagram::allocator::keep_freed_memory();
    println!("RAYON_NUM_THREADS = {}", std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into()));
    // bf16: operands rounded to bf16, f32 sums, on this CPU's fastest path (AMX tiles,
    // AVX512_BF16) unless VAGRAM_BF16_PATH forces a slower one.
    let path = Bf16Path::here().unwrap_or_else(|e| panic!("{e}"));
    println!("bf16 matmuls run on {} (the fastest here: {})", path.describe(), Bf16Path::fastest().describe());
    // `MBPO_LOOP_ONLY=<text>` runs only the rows whose name contains it: "hopper-sized f32",
    // "hopper-sized bf16", "hopper-env f32", "hopper-env bf16", "pendulum".
    let only = std::env::var("MBPO_LOOP_ONLY").ok();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    let rows = || {
        for matmul in [Matmul::F32, Matmul::Bf16] {
            if wanted(&format!("hopper-sized {matmul}")) {
                hopper_sized(matmul);
            }
        }
        for matmul in [Matmul::F32, Matmul::Bf16] {
            if wanted(&format!("hopper-env {matmul}")) {
                hopper_loop(matmul);
            }
        }
        if wanted("pendulum") {
            pendulum();
        }
    };
    // `MBPO_LOOP_CALLER_THREAD=1`: the old way, from the main thread (support module).
    support::run_like_a_seed("MBPO_LOOP_CALLER_THREAD", rows);
}
