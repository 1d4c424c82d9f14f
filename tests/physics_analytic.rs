//! The Rapier envs against their analytic definitions: gym's Pendulum-v1 step and MBRL-Lib's
//! explicit-Euler cart-pole, from several start states under varied action sequences.

use std::sync::Arc;

use rand::{RngExt, SeedableRng};
use vagram::envs::pendulum::angle_normalize;
use vagram::prelude::*;

/// Action sequences: constant, saturated, sinusoid, square wave, random, out of range.
fn action_sequences(max: f32) -> Vec<Vec<f32>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    vec![
        vec![0.0; 200],
        vec![max; 200],
        (0..200).map(|t| max * (0.07 * t as f32).sin()).collect(),
        (0..200).map(|t| if (t / 10) % 2 == 0 { max } else { -max }).collect(),
        (0..200).map(|_| rng.random_range(-max..max)).collect(),
        (0..200).map(|t| 3.0 * max * (0.05 * t as f32).cos()).collect(), // exercises clipping
    ]
}

/// Runs one env from `init` under `actions`, returning every observation after each step.
fn simulate<E: EnvModel>(model: E, init: &[f64], actions: &[f32]) -> Vec<Vec<f32>> {
    let mut app = SimApp::new(0);
    let mut opts = SpawnOptions::new(0);
    opts.init_state = Some(model.spec().parse_init_state(init).unwrap());
    opts.reset_noise = 0.0;
    opts.auto_reset = false;
    opts.max_episode_steps = Some(0);
    opts.action_source = ActionSource::External;
    let e = spawn_env(&mut app, Arc::new(model), &opts).unwrap();
    let mut out = Vec::new();
    for a in actions {
        app.world.get_mut::<Action>(e).unwrap().0 = vec![*a];
        app.step().unwrap();
        out.push(app.world.get::<Observation>(e).unwrap().0.clone());
    }
    out
}

fn gym_pendulum_step(th: f64, thdot: f64, u: f64) -> (f64, f64) {
    let (g, m, l, dt) = (10.0, 1.0, 1.0, 0.05);
    let u = u.clamp(-2.0, 2.0);
    let newthdot = (thdot + (3.0 * g / (2.0 * l) * th.sin() + 3.0 / (m * l * l) * u) * dt).clamp(-8.0, 8.0);
    (th + newthdot * dt, newthdot)
}

#[test]
fn pendulum_matches_analytic_gym_step() {
    let starts = [[0.0, 0.0], [3.1, 0.0], [1.0, -0.5], [-2.0, 1.0], [0.3, 7.5], [-3.0, -4.0]];
    let mut worst = 0.0f64;
    let mut clipped_steps = 0;
    for start in starts {
        for actions in action_sequences(2.0) {
            let got = simulate(Pendulum::default(), &start, &actions);
            let (mut th, mut thdot) = (start[0], start[1]);
            for (t, (a, obs)) in actions.iter().zip(&got).enumerate() {
                (th, thdot) = gym_pendulum_step(th, thdot, *a as f64);
                clipped_steps += (thdot.abs() == 8.0) as usize;
                let want = [th.cos(), th.sin(), thdot];
                for k in 0..3 {
                    let err = (obs[k] as f64 - want[k]).abs();
                    worst = worst.max(err);
                    assert!(err < 1e-3, "start {start:?} step {t} obs[{k}]: rapier {} vs gym {}", obs[k], want[k]);
                }
            }
        }
    }
    assert!(clipped_steps > 0, "some sequence must reach the speed limit to test the clip");
    eprintln!("pendulum: worst |obs error| {worst:.2e}, speed-clipped steps {clipped_steps}");
}

fn mbrl_cartpole_step(s: [f64; 4], a: f64) -> [f64; 4] {
    let (g, mc, mp, l, tau) = (9.8, 1.0, 0.1, 0.5, 0.02);
    let total = mc + mp;
    let [x, xd, th, thd] = s;
    let force = 10.0 * a.clamp(-1.0, 1.0);
    let temp = (force + mp * l * thd * thd * th.sin()) / total;
    let thacc = (g * th.sin() - th.cos() * temp) / (l * (4.0 / 3.0 - mp * th.cos() * th.cos() / total));
    let xacc = temp - mp * l * thacc * th.cos() / total;
    [x + tau * xd, xd + tau * xacc, th + tau * thd, thd + tau * thacc]
}

/// Runs a cart-pole from `start` until the analytic trajectory terminates or 200 steps pass,
/// comparing every observation; returns the steps compared. Each simulator gets
/// `policy(t, its own state)`: a feedback policy sees its own plant, as in real use (feeding the
/// analytic state to both would leave Rapier open-loop on an unstable equilibrium, where any
/// 1e-7 rounding difference grows e^(4t)).
fn compare_cartpole(start: [f64; 4], steps: usize, tol: f64, policy: &dyn Fn(usize, &[f64; 4]) -> f32, worst: &mut f64) -> usize {
    let mut app = SimApp::new(0);
    let mut opts = SpawnOptions::new(0);
    opts.init_state = Some(GeneralizedState { q: vec![start[0], start[2]], qd: vec![start[1], start[3]] });
    opts.reset_noise = 0.0;
    opts.auto_reset = false;
    opts.action_source = ActionSource::External;
    let e = spawn_env(&mut app, Arc::new(Cartpole::default()), &opts).unwrap();
    let mut s = start;
    let mut own = start;
    for t in 0..steps {
        app.world.get_mut::<Action>(e).unwrap().0 = vec![policy(t, &own)];
        app.step().unwrap();
        s = mbrl_cartpole_step(s, policy(t, &s) as f64);
        let obs = &app.world.get::<Observation>(e).unwrap().0;
        own = [obs[0], obs[1], obs[2], obs[3]].map(|v| v as f64);
        for k in 0..4 {
            let err = (obs[k] as f64 - s[k]).abs();
            *worst = worst.max(err);
            assert!(err < tol, "start {start:?} step {t} obs[{k}]: rapier {} vs analytic {}", obs[k], s[k]);
        }
        let terminal = s[0].abs() > 2.4 || s[2].abs() > 12f64.to_radians();
        assert_eq!(app.world.get::<Done>(e).unwrap().terminated, terminal, "termination flag at step {t}");
        if terminal {
            return t + 1;
        }
    }
    steps
}

/// Rapier's cart-pole against MBRL-Lib's explicit-Euler equations: within 1e-3 over 200-step
/// balancing episodes (feedback policies), and within 2.5e-3 over open-loop sequences until the
/// pole falls (at most 50 steps). Open loop, the pole spins fast before it falls, and Rapier's
/// semi-implicit treatment of the velocity-dependent (Coriolis/centripetal) terms differs from
/// explicit Euler by O(dt²·θ̇) per step; see `envs/src/cartpole.rs`.
#[test]
fn cartpole_matches_analytic_mbrl_lib_step() {
    let starts = [[0.0, 0.0, 0.0, 0.0], [0.03, -0.02, 0.04, 0.01], [-0.5, 0.3, 0.1, -0.2], [1.0, 0.0, -0.15, 0.5], [0.0, 1.0, 0.2, 0.0]];
    let mut worst = 0.0f64;
    let mut full_length = 0;
    let mut open_worst = 0.0f64;
    for start in starts {
        // Open loop, until the pole falls.
        for actions in action_sequences(1.0) {
            compare_cartpole(start, 50, 2.5e-3, &|t, _| actions[t], &mut open_worst);
        }
        // Closed loop: PD controllers with different gains and a dither keep it up for 200 steps.
        for (k, gains) in [[1.0, 2.0, 25.0, 4.0], [0.8, 1.6, 20.0, 3.5], [1.2, 2.4, 30.0, 5.0]].iter().enumerate() {
            let policy = |t: usize, s: &[f64; 4]| {
                let u = gains[0] * s[0] + gains[1] * s[1] + gains[2] * s[2] + gains[3] * s[3];
                (u + 0.03 * ((t * (k + 3)) as f64 * 0.37).sin()) as f32
            };
            full_length += (compare_cartpole(start, 200, 1e-3, &policy, &mut worst) == 200) as usize;
        }
    }
    assert!(full_length >= 10, "only {full_length} closed-loop runs lasted 200 steps");
    eprintln!("cartpole: worst |obs error| open loop {open_worst:.2e}, closed loop {worst:.2e}, {full_length} runs of 200 steps");
}

#[test]
fn pendulum_reward_is_gyms() {
    let model = Pendulum::default();
    let s = GeneralizedState { q: vec![4.0], qd: vec![-3.0] };
    let r = model.reward(&s, &[1.5], &s);
    let th = angle_normalize(4.0);
    let want = -(th * th + 0.1 * 9.0 + 0.001 * 2.25);
    assert!((r as f64 - want).abs() < 1e-5, "{r} vs {want}");
}
