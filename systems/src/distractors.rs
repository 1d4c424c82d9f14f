//! Distracting dimensions as systems: they attach to ANY env entity through the
//! [`Distractors`] component, step once per env step in `Observe` (after the env's own
//! observation is written) and restart with the episode in `Reset`. They read neither the
//! action nor the reward.

use bevy_ecs::prelude::*;
use vagram_engine::env::Distractors;
use vagram_engine::prelude::*;

/// Advances every env's distractors and writes them after the env's own observation.
pub fn step_distractors(mut envs: Query<(&mut Distractors, &mut Observation)>) {
    for (mut distractors, mut obs) in &mut envs {
        distractors.step();
        distractors.write(&mut obs.0);
    }
}

/// Restarts the distractors of envs whose episode ended and auto-resets (parameters kept).
pub fn reset_distractors(mut envs: Query<(&mut Distractors, &mut Observation, &mut EnvRngs, &Done), With<AutoReset>>) {
    for (mut distractors, mut obs, mut rngs, done) in &mut envs {
        if done.is_done() {
            distractors.reset(&mut rngs.distractors);
            distractors.write(&mut obs.0);
        }
    }
}
