//! Transitions sampled uniformly over the pendulum's state space — θ in [−π, π), θ̇ in
//! [−8, 8] (gym's speed limit) — and its action box, each next state from one step of the env
//! itself (spawned at that state, no reset noise).

use rand::{RngExt, SeedableRng};

use crate::engine::SimApp;
use crate::engine::env::components::{Action, FinalObservation, Observation, Reward};
use crate::engine::env::{ActionSource, EnvRegistry, GeneralizedState, SpawnOptions};

/// Transitions, row-major (observations, unit-box actions).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transitions {
    /// Observations `(cos θ, sin θ, θ̇)`.
    pub states: Vec<f32>,
    /// Actions in [−1, 1].
    pub actions: Vec<f32>,
    /// Next observations.
    pub next_states: Vec<f32>,
    /// Rewards.
    pub rewards: Vec<f32>,
}

/// Envs spawned per app (one physics step computes them all).
const CHUNK: usize = 1000;

/// `n` uniformly sampled pendulum transitions, drawn from `seed`.
pub fn uniform_pendulum(registry: &EnvRegistry, n: usize, seed: u64) -> anyhow::Result<Transitions> {
    let factory = registry.get("pendulum")?;
    let spec = factory.spec().clone();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Transitions::default();
    let mut done = 0;
    while done < n {
        let size = CHUNK.min(n - done);
        let mut app = SimApp::new(seed.wrapping_add(done as u64));
        let mut envs = Vec::with_capacity(size);
        for i in 0..size {
            let theta = rng.random_range(-std::f64::consts::PI..std::f64::consts::PI);
            let speed = rng.random_range(-8.0..8.0);
            let unit: Vec<f32> = (0..spec.action_dim()).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let mut options = SpawnOptions::new(i as u64);
            options.action_source = ActionSource::External;
            options.reset_noise = 0.0;
            options.init_state = Some(GeneralizedState { q: vec![theta], qd: vec![speed] });
            let e = factory.spawn(&mut app, &options)?;
            app.world.entity_mut(e).insert(FinalObservation::default());
            app.world.get_mut::<Action>(e).expect("spawned env").0 = spec.action_space.from_unit(&unit);
            envs.push((e, unit));
        }
        let starts: Vec<Vec<f32>> = envs.iter().map(|(e, _)| app.world.get::<Observation>(*e).expect("spawned env").0.clone()).collect();
        app.step()?;
        for ((e, unit), start) in envs.iter().zip(starts) {
            out.states.extend_from_slice(&start);
            out.actions.extend_from_slice(unit);
            out.next_states.extend_from_slice(&app.world.get::<FinalObservation>(*e).expect("inserted above").0);
            out.rewards.push(app.world.get::<Reward>(*e).expect("spawned env").0);
        }
        done += size;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_cover_the_state_space_and_step_like_the_pendulum_equation() {
        let registry = crate::envs::builtin_registry();
        let t = uniform_pendulum(&registry, 1500, 3).unwrap();
        assert_eq!((t.states.len(), t.actions.len(), t.next_states.len(), t.rewards.len()), (4500, 1500, 4500, 1500));
        let n = 1500.0;
        let mean_cos = t.states.chunks(3).map(|s| f64::from(s[0])).sum::<f64>() / n;
        let mean_speed = t.states.chunks(3).map(|s| f64::from(s[2])).sum::<f64>() / n;
        assert!(mean_cos.abs() < 0.08 && mean_speed.abs() < 0.5, "uniform: {mean_cos} {mean_speed}");
        assert!(t.states.chunks(3).all(|s| s[2].abs() <= 8.0) && t.actions.iter().all(|a| a.abs() <= 1.0));
        assert!(t.states.chunks(3).any(|s| s[2] > 7.0) && t.states.chunks(3).any(|s| s[2] < -7.0));
        // Gym's pendulum: θ̈ = 3g/(2l) sin θ + 3/(ml²) u with g = 10, m = l = 1, dt = 0.05, u = 2a.
        let mut worst = 0.0f64;
        for i in 0..1500 {
            let (s, s2, a) = (&t.states[3 * i..3 * i + 3], &t.next_states[3 * i..3 * i + 3], t.actions[i]);
            let theta = f64::from(s[1]).atan2(f64::from(s[0]));
            let expected = f64::from(s[2]) + 0.05 * (15.0 * theta.sin() + 3.0 * 2.0 * f64::from(a));
            if expected.abs() < 7.5 {
                worst = worst.max((f64::from(s2[2]) - expected).abs());
            }
        }
        assert!(worst < 0.05, "next θ̇ off the pendulum equation by {worst}");
    }
}
