//! `Act`: the SAC agent chooses the actions of the envs it controls, scaled from [−1, 1] to each
//! env's action box. During the initial exploration steps the untrained policy's samples (the
//! authors' MBPO) or uniformly random actions; after them the policy's mean (the authors') or a
//! sample.

use crate::learning::Exploration;
use bevy_ecs::prelude::*;
use rand::{RngExt, SeedableRng};
use vagram_engine::env::BoxSpace;
use vagram_engine::prelude::*;
use vagram_learn::AutoDevice;
use vagram_learn::sac::Sac;

use super::transition::{ObservationBeforeAct, UnitAction};

/// Marks an env whose actions come from the agent; holds its action box. The env gets the
/// components `Act` fills for `Record` with it.
#[derive(Component, Debug, Clone)]
#[require(ObservationBeforeAct, UnitAction)]
pub struct PolicyControlled {
    /// The env's action box (agent actions in [−1, 1] are mapped onto it).
    pub space: BoxSpace,
}

/// Marks an evaluation env: it acts with the deterministic policy (`tanh(μ(s))`), alongside
/// training, and its transitions are never recorded; its episodes are the evaluation returns.
#[derive(Component, Debug, Clone)]
pub struct EvalControlled {
    /// The env's action box.
    pub space: BoxSpace,
}

/// The agent and its acting state: a non-send resource (`insert_non_send`), because
/// networks on dfdx's CUDA device hold raw stream pointers and are neither `Send` nor `Sync`;
/// bevy then keeps it on the thread that inserted it (the seed's worker) and panics on any other.
pub struct AgentResource {
    /// The SAC agent, on the learning device.
    pub sac: Sac<AutoDevice>,
    /// Exploration steps before learning starts.
    pub random_steps: u64,
    /// What acts during them.
    pub exploration: Exploration,
    /// After them, the policy's mean action instead of a sampled one.
    pub deterministic: bool,
    /// Stream of the random exploration actions.
    pub rng: rand_chacha::ChaCha8Rng,
}

impl AgentResource {
    /// Wraps an agent that explores with uniformly random actions for `random_steps` (drawn from
    /// `seed`), then samples its policy.
    pub fn new(sac: Sac<AutoDevice>, random_steps: u64, seed: u64) -> Self {
        Self {
            sac,
            random_steps,
            exploration: Exploration::Uniform,
            deterministic: false,
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

/// Fills [`Action`] of every policy-controlled env and remembers the observation it acted on.
pub fn act_with_policy(
    step: Res<StepCount>,
    mut agent: NonSendMut<AgentResource>,
    mut envs: Query<(&PolicyControlled, &Observation, &mut Action, &mut ObservationBeforeAct, &mut UnitAction)>,
) {
    let agent = &mut *agent;
    for (controlled, obs, mut action, mut before, mut last) in &mut envs {
        let dim = controlled.space.dim();
        let unit: Vec<f32> = match (step.0 < agent.random_steps, agent.exploration) {
            (true, Exploration::Uniform) => (0..dim).map(|_| agent.rng.random_range(-1.0f32..1.0)).collect(),
            (true, Exploration::Policy) => agent.sac.act(&obs.0, false),
            (false, _) => agent.sac.act(&obs.0, agent.deterministic),
        };
        action.0 = controlled.space.from_unit(&unit);
        before.0.clone_from(&obs.0);
        last.0 = unit;
    }
}

/// Fills [`Action`] of every evaluation env with the deterministic policy's action.
pub fn act_for_evaluation(mut agent: NonSendMut<AgentResource>, mut envs: Query<(&EvalControlled, &Observation, &mut Action)>) {
    for (controlled, obs, mut action) in &mut envs {
        let unit = agent.sac.act(&obs.0, true);
        action.0 = controlled.space.from_unit(&unit);
    }
}
