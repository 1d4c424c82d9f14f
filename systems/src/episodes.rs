//! Observing, evaluating and restarting episodes: the per-kind `observe`, `evaluate` and
//! `reset_envs` systems, and the shared bookkeeping (`clear_done`, `track_episodes`,
//! `log_episodes`).

use bevy_ecs::prelude::*;
use rapier3d::prelude::PhysicsWorld;
use vagram_engine::env::EnvModel;
use vagram_engine::env::model::EnvInstance;
use vagram_engine::physics::BlockSlot;
use vagram_engine::prelude::*;

/// Clears last step's terminal flags before a new step starts.
pub fn clear_done(mut envs: Query<&mut Done>) {
    for mut done in &mut envs {
        if done.is_done() {
            *done = Done::default();
        }
    }
}

/// Names the first non-finite component of `state`, e.g. `q[theta] = NaN`.
pub fn describe_non_finite(state: &GeneralizedState, names: &[&str]) -> Option<String> {
    let name = |i: usize| names.get(i).copied().unwrap_or("?");
    if let Some((i, v)) = state.q.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Some(format!("position {} = {v}", name(i)));
    }
    state.qd.iter().enumerate().find(|(_, v)| !v.is_finite()).map(|(i, v)| format!("velocity {} = {v}", name(i)))
}

/// Reads the generalized state back from the physics and writes the env's own observation
/// dimensions; a non-finite state ends the episode with [`EndReason::NonFinitePhysics`].
pub fn observe<E: EnvModel>(
    blocks: Res<PhysicsBlocks>,
    mut envs: Query<(&EnvInstance<E>, &BlockSlot, &mut PhysState, &mut Observation, &mut Done)>,
) {
    for (inst, slot, mut state, mut obs, mut done) in &mut envs {
        let spec = inst.model.spec();
        let state = &mut *state;
        std::mem::swap(&mut state.prev, &mut state.current);
        inst.model.read_state(&inst.bodies, &blocks.blocks[slot.block].world, &mut state.current);
        if let Some(what) = describe_non_finite(&state.current, &spec.state_names) {
            done.terminated = true;
            done.reason = Some(EndReason::NonFinitePhysics { what });
        }
        inst.model.observe(&state.current, &mut obs.0[..spec.obs_dim]);
    }
}

/// Computes the reward and the env's termination condition.
#[allow(clippy::type_complexity)]
pub fn evaluate<E: EnvModel>(mut envs: Query<(&EnvInstance<E>, &PhysState, &Action, &Observation, &mut Reward, &mut Done)>) {
    for (inst, state, action, obs, mut reward, mut done) in &mut envs {
        if done.terminated {
            reward.0 = 0.0; // a physics fault: the transition is meaningless
            continue;
        }
        reward.0 = inst.model.reward(&state.prev, &action.0, &state.current);
        if inst.model.is_terminal(&obs.0[..inst.model.spec().obs_dim]) {
            done.terminated = true;
            done.reason = Some(EndReason::Terminated);
        }
    }
}

/// Accumulates episode return and length and truncates at the time limit.
pub fn track_episodes(mut envs: Query<(&Reward, &mut Done, &mut Episode, Option<&TimeLimit>)>) {
    for (reward, mut done, mut episode, limit) in &mut envs {
        episode.ret += reward.0 as f64;
        episode.length += 1;
        if !done.terminated && limit.is_some_and(|l| l.0 > 0 && episode.length >= l.0) {
            done.truncated = true;
            done.reason = Some(EndReason::TimeLimit);
        }
    }
}

/// Appends finished episodes to the [`EpisodeLog`].
pub fn log_episodes(mut log: ResMut<EpisodeLog>, envs: Query<(&EnvId, &EnvKind, &Done, &Episode)>) {
    for (id, kind, done, episode) in &envs {
        if let (true, Some(reason)) = (done.is_done(), &done.reason) {
            log.0.push(EpisodeRecord {
                env: id.0,
                kind: kind.0,
                index: episode.index,
                ret: episode.ret,
                length: episode.length,
                reason: reason.clone(),
            });
        }
    }
}

/// Puts an instance at a fresh initial state and writes its own observation dimensions.
pub fn reset_instance<E: EnvModel>(
    inst: &EnvInstance<E>,
    world: &mut PhysicsWorld,
    config: &ResetConfig,
    rngs: &mut EnvRngs,
    state: &mut PhysState,
    obs: &mut Observation,
) {
    let spec = inst.model.spec();
    spec.reset.sample(&config.nominal, config.noise, &mut rngs.reset, &mut state.current);
    inst.model.write_state(&inst.bodies, world, &state.current);
    inst.model.read_state(&inst.bodies, world, &mut state.current);
    state.prev.copy_from(&state.current);
    inst.model.observe(&state.current, &mut obs.0[..spec.obs_dim]);
}

/// Removes an instance's bodies (tagged with its slot) and builds them anew: the only way back
/// from NaN joint coordinates.
fn rebuild_instance<E: EnvModel>(inst: &mut EnvInstance<E>, world: &mut PhysicsWorld, slot: usize) {
    let tag = slot as u128 + 1;
    let mine: Vec<_> = world.bodies.iter().filter(|(_, b)| b.user_data == tag).map(|(h, _)| h).collect();
    for handle in mine {
        world.remove_body(handle);
    }
    inst.bodies = crate::physics::build_in_slot(inst.model.as_ref(), world, slot);
}

/// Restarts finished episodes of auto-resetting envs (rebuilding instances whose physics went
/// non-finite).
#[allow(clippy::type_complexity)]
pub fn reset_envs<E: EnvModel>(
    mut blocks: ResMut<PhysicsBlocks>,
    mut envs: Query<
        (&mut EnvInstance<E>, &BlockSlot, &Done, &ResetConfig, &mut EnvRngs, &mut PhysState, &mut Observation, &mut Episode),
        With<AutoReset>,
    >,
) {
    for (mut inst, slot, done, config, mut rngs, mut state, mut obs, mut episode) in &mut envs {
        if !done.is_done() {
            continue;
        }
        let world = &mut blocks.blocks[slot.block].world;
        if E::REBUILD_ON_RESET || matches!(done.reason, Some(EndReason::NonFinitePhysics { .. })) {
            rebuild_instance(&mut inst, world, slot.slot);
        }
        reset_instance(&inst, world, config, &mut rngs, &mut state, &mut obs);
        *episode = Episode { ret: 0.0, length: 0, index: episode.index + 1 };
    }
}
