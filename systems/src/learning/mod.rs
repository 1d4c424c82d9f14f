//! Learning stages as ECS systems (the MBPO loop's first pieces): the agent acting for its envs
//! in `Act`, and real transitions recorded into the env buffer in `Record`.
//!
//! An env takes part when it carries [`PolicyControlled`]; the agent and the buffer are
//! resources, so a run is one [`SimApp`] and seeds run as independent apps on separate threads.

mod act;
mod agent_update;
mod model_train;
mod record;
mod rollout;

pub use act::{AgentResource, EvalControlled, PolicyControlled, act_for_evaluation, act_with_policy};
pub use agent_update::{AgentUpdateSettings, Mixing, mixed_batch, update_agent};
pub use model_train::{ModelResource, train_model};
pub use record::{EnvBuffer, ObservationBeforeAct, record_real_transitions};
pub use rollout::{ModelBuffer, RolloutSettings, rollout_model};

use bevy_ecs::prelude::*;
use vagram_engine::prelude::*;

use crate::KindStage;

/// Adds the agent's acting and recording systems; insert [`AgentResource`] and [`EnvBuffer`]
/// before stepping. Model training joins with [`ModelTrainPlugin`].
pub struct AgentPlugin;

impl Plugin for AgentPlugin {
    fn build(&self, app: &mut SimApp) {
        app.add_plugin(crate::CorePlugin);
        app.add_systems((
            (act_with_policy, act_for_evaluation).chain().in_set(SimSet::Act).after(KindStage(SimSet::Act)),
            record_real_transitions.in_set(SimSet::Record).after(crate::record::keep_final_observations),
        ));
    }
}

/// Adds model training, model rollouts and agent updates, in that order within `Learn` (insert
/// [`ModelResource`], [`RolloutSettings`], [`ModelBuffer`] and [`AgentUpdateSettings`] before
/// stepping).
pub struct ModelTrainPlugin;

impl Plugin for ModelTrainPlugin {
    fn build(&self, app: &mut SimApp) {
        app.add_plugin(AgentPlugin);
        app.add_systems((train_model, rollout_model, update_agent).chain().in_set(SimSet::Learn));
    }
}

#[cfg(test)]
mod tests;
