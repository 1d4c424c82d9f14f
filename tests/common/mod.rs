//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use vagram::prelude::*;

/// Spawns one env with `options` in a fresh app with seed `seed`.
pub fn single<E: EnvModel>(seed: u64, model: E, options: SpawnOptions) -> (SimApp, bevy_ecs::entity::Entity) {
    let mut app = SimApp::new(seed);
    let e = spawn_env(&mut app, Arc::new(model), &options).expect("spawn");
    (app, e)
}

/// Steps `app` `n` times, returning the observation and reward of `e` after each step.
pub fn trajectory(app: &mut SimApp, e: bevy_ecs::entity::Entity, n: usize) -> Vec<(Vec<f32>, f32)> {
    (0..n)
        .map(|_| {
            app.step().expect("step");
            (app.world.get::<Observation>(e).unwrap().0.clone(), app.world.get::<Reward>(e).unwrap().0)
        })
        .collect()
}

/// Bit patterns of a float slice, for exact comparisons.
pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// `--set` overrides for a training run small enough for CI: 4 epochs of 100 steps, tiny nets.
pub const TINY: [&str; 14] = [
    "run.env_steps=400",
    "run.epoch_length=100",
    "run.initial_random_steps=100",
    "model.members=3",
    "model.elites=2",
    "model.hidden=[16]",
    "model.batch_size=32",
    "model.max_epochs=3",
    "model.train_every=100",
    "rollout.per_step=8",
    "rollout.length=[0, 2, 1, 3]",
    "agent.hidden=[16, 16]",
    "agent.batch_size=32",
    "agent.updates_per_step=1",
];
