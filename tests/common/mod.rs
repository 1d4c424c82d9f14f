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
