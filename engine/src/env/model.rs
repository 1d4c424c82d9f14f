//! The [`EnvModel`] trait: the one thing an environment author implements.

use std::sync::Arc;

use bevy_ecs::prelude::*;
use rapier3d::prelude::{InteractionGroups, PhysicsWorld, Vector};

use super::actions::ActionSource;
use super::distractors::DistractorConfig;
use super::spec::{EnvSpec, GeneralizedState};

/// An environment kind, written against Rapier.
///
/// The generic systems call these methods; an implementation only describes its own physics:
/// - [`build`](EnvModel::build) creates the bodies and joints of one instance at `origin`;
/// - [`read_state`](EnvModel::read_state) / [`write_state`](EnvModel::write_state) map between
///   those bodies and the generalized coordinates ([`GeneralizedState`]);
/// - [`apply_action`](EnvModel::apply_action) turns an (already validated and clipped) action
///   into forces or torques, which persist over the env step's physics substeps;
/// - [`observe`](EnvModel::observe), [`reward`](EnvModel::reward) and
///   [`is_terminal`](EnvModel::is_terminal) are pure functions, so learned-model rollouts can use
///   them without a simulator.
///
/// See `examples/acrobot.rs` for a complete env written outside this workspace.
pub trait EnvModel: Send + Sync + Sized + 'static {
    /// Handles into the Rapier world for one instance (body and joint handles).
    type Bodies: Send + Sync + 'static;

    /// The static description: spaces, state layout, reset distribution, physics settings.
    fn spec(&self) -> &EnvSpec;

    /// Creates one instance's bodies, colliders and joints with its base at `origin`. Colliders
    /// should use `groups` so they never touch other instances in the same world.
    fn build(&self, world: &mut PhysicsWorld, origin: Vector, groups: InteractionGroups) -> Self::Bodies;

    /// Puts the instance in `state` (positions and velocities).
    fn write_state(&self, bodies: &Self::Bodies, world: &mut PhysicsWorld, state: &GeneralizedState);

    /// Reads the instance's generalized state into `out` (sized by the caller to `spec().nq()`).
    fn read_state(&self, bodies: &Self::Bodies, world: &PhysicsWorld, out: &mut GeneralizedState);

    /// Applies a validated, clipped action as forces/torques for the coming physics substeps.
    fn apply_action(&self, bodies: &Self::Bodies, world: &mut PhysicsWorld, action: &[f32]);

    /// Writes the observation of `state` into `obs` (length `spec().obs_dim`).
    fn observe(&self, state: &GeneralizedState, obs: &mut [f32]);

    /// The reward of the transition `state --action--> next`.
    fn reward(&self, state: &GeneralizedState, action: &[f32], next: &GeneralizedState) -> f32;

    /// Whether an observation is terminal (MBRL-Lib's termination functions): pure, so model
    /// rollouts can call it on predicted observations.
    fn is_terminal(&self, obs: &[f32]) -> bool;

    /// Whether a predicted observation is terminal in a model rollout, where `obs` may carry
    /// distracting dimensions after the env's own (`spec().obs_dim`) ones. By default only the
    /// env's own dimensions count; an env whose reference termination function reads the whole
    /// observation (the authors' hopper: every `obs[1:]` below 100) overrides this.
    fn is_terminal_in_rollout(&self, obs: &[f32]) -> bool {
        self.is_terminal(&obs[..self.spec().obs_dim.min(obs.len())])
    }

    /// Whether an instance's bodies are rebuilt at every reset, so that no solver state (contact
    /// warm starts, joint-limit impulses) carries over from the previous episode: envs with
    /// contacts set it to make every episode start exactly like a freshly spawned one.
    const REBUILD_ON_RESET: bool = false;

    /// Whether [`after_substep`](EnvModel::after_substep) must be called (it costs a state read
    /// per instance per substep).
    const HAS_SUBSTEP_HOOK: bool = false;

    /// Called after every physics substep with the state before it: for integrator corrections
    /// and velocity limits a simulator defines inside its step (e.g. gym's pendulum speed clip).
    fn after_substep(&self, _bodies: &Self::Bodies, _world: &mut PhysicsWorld, _before: &GeneralizedState) {}
}

/// The component tying an entity to its env kind: the model and the instance's handles.
#[derive(Component)]
pub struct EnvInstance<E: EnvModel> {
    /// The env model (shared by instances with the same parameters).
    pub model: Arc<E>,
    /// This instance's handles into its block's Rapier world.
    pub bodies: E::Bodies,
}

/// How to spawn one env instance.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    /// Global env index: selects the random streams and the physics block slot.
    pub env_id: u64,
    /// Factor on the reset distribution's noise (1 = the env's own, 0 = deterministic).
    pub reset_noise: crate::Real,
    /// Nominal initial state replacing the spec's default (noise is still added on top).
    pub init_state: Option<GeneralizedState>,
    /// Distracting dimensions to append to the observation.
    pub distractors: Option<DistractorConfig>,
    /// Episode limit; `None` takes the spec's `max_episode_steps`, `Some(0)` disables it.
    pub max_episode_steps: Option<u32>,
    /// Whether finished episodes restart automatically.
    pub auto_reset: bool,
    /// Where actions come from.
    pub action_source: ActionSource,
    /// Physics block key (the batch runner passes the global block index); `None` packs
    /// instances into the kind's last non-full block.
    pub block_key: Option<u64>,
}

impl SpawnOptions {
    /// Defaults for env `env_id`: the env's own reset noise, no distractors, the spec's time
    /// limit, auto reset, zero actions, automatic block.
    pub fn new(env_id: u64) -> Self {
        Self {
            env_id,
            reset_noise: 1.0,
            init_state: None,
            distractors: None,
            max_episode_steps: None,
            auto_reset: true,
            action_source: ActionSource::Zero,
            block_key: None,
        }
    }
}
