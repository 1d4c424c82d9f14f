//! Learning stages as ECS systems, the MBPO loop: the agent acting for its envs in `Act`, real
//! transitions recorded into the env buffer in `Record`, model training, model rollouts and SAC
//! updates in `Learn`, and the end-of-epoch evaluation and metrics row in `Log`.
//!
//! An env takes part when it carries [`PolicyControlled`]; the agent and the buffer are
//! resources, so a run is one [`SimApp`] and seeds run as independent apps on separate threads.

mod act;
mod agent_update;
mod choices;
mod epoch_log;
mod epoch_stats;
mod evaluate;
mod model_train;
mod phase;
mod record;
mod rollout;
mod schedule;

pub use act::{AgentResource, EvalControlled, PolicyControlled, act_for_evaluation, act_with_policy};
pub use agent_update::{AgentUpdateSettings, Mixing, mixed_batch, update_agent};
pub use choices::{Exploration, RolloutCadence};
pub use epoch_log::{EpochLog, EpochRow, TimingRow, log_epoch};
pub use epoch_stats::{EpochStats, StageSeconds, start_env_clock, stop_env_clock};
pub use evaluate::{EVAL_ENV_ID_BASE, EvalResult, Evaluation, evaluate_policy};
pub use model_train::{ModelResource, train_model};
pub use phase::LearningPhase;
pub use record::{EnvBuffer, ObservationBeforeAct, record_real_transitions};
pub use rollout::{ModelBuffer, RolloutSettings, rollout_model};
pub use schedule::Schedule;

use bevy_ecs::prelude::*;
use vagram_engine::prelude::*;

use crate::KindStage;

/// Adds the agent's acting and recording systems; insert [`AgentResource`] and [`EnvBuffer`]
/// before stepping. Model training joins with [`ModelTrainPlugin`].
pub struct AgentPlugin;

impl Plugin for AgentPlugin {
    fn build(&self, app: &mut SimApp) {
        app.add_plugin(crate::CorePlugin);
        app.world.init_resource::<EpochStats>();
        app.add_systems((
            start_env_clock.in_set(SimSet::Act).before(crate::episodes::clear_done),
            (act_with_policy, act_for_evaluation).chain().in_set(SimSet::Act).after(KindStage(SimSet::Act)),
            record_real_transitions.in_set(SimSet::Record).after(crate::record::keep_final_observations),
            stop_env_clock.in_set(SimSet::Record).after(record_real_transitions),
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

/// The whole MBPO loop: [`ModelTrainPlugin`] plus the end-of-epoch evaluation and metrics row
/// in `Log` (insert [`Evaluation`] too).
pub struct MbpoPlugin;

impl Plugin for MbpoPlugin {
    fn build(&self, app: &mut SimApp) {
        app.add_plugin(ModelTrainPlugin);
        app.world.init_resource::<EpochLog>();
        app.add_systems((evaluate_policy, log_epoch).chain().in_set(SimSet::Log).after(crate::episodes::log_episodes));
    }
}

#[cfg(test)]
mod tests;
