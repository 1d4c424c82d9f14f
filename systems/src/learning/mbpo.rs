//! The MBPO loop (the paper's Algorithm 1, as MBRL-Lib's `mbpo.py` runs it), one env step at a
//! time, as ECS stages in the engine's fixed set order:
//!
//! 1. `Act` — the agent acts in the real env ([`act_with_policy`]): the untrained policy
//!    (or uniform actions) while exploring, then the policy's mean (`agent.act_in_env`); the
//!    evaluation env, when one runs, acts deterministically ([`act_for_evaluation`]).
//! 2. `Record` — the real transition goes to the env buffer D_env
//!    ([`record_real_transitions`]).
//! 3. `Learn`, in this order, once learning has started (after `run.initial_random_steps`):
//!    - every `model.train_every` steps, fit the dynamics ensemble on D_env with the chosen
//!      model loss until the validation loss stops improving, and pick the elites
//!      ([`train_model`]; VaGraM's value gradients come from the current critics);
//!    - right after each fit, branch `per_step × train_every` rollouts of the scheduled length
//!      from real start states through random elites into the model buffer D_model
//!      ([`rollout_model`]);
//!    - `updates_per_step` SAC updates on batches mixing D_env and D_model by the scheduled
//!      model share ([`update_agent`]), once D_model holds data.
//! 4. `Log` — at the end of each epoch, evaluate the policy and write the epoch's metrics row
//!    ([`evaluate_policy`], [`log_epoch`]).
//!
//! [`MbpoPlugin`] schedules all of it, and [`MbpoPlugin::from_config`] builds every resource
//! the stages read from one [`MbpoConfig`] (`vagram train` fills it from a run config in
//! `src/train/build.rs`); [`MbpoPlugin::get_systems`] hands out one stage's systems so a custom
//! app can place them itself (as bevy_rapier's `get_systems` does).

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::ScheduleConfigs;
use bevy_ecs::system::ScheduleSystem;
use vagram_engine::prelude::*;

use super::{
    EpochLog, EpochStats, MbpoConfig, act_for_evaluation, act_with_policy, evaluate_policy, log_epoch, record_real_transitions,
    rollout_model, start_env_clock, stop_env_clock, train_model, update_agent,
};
use crate::KindStage;

/// A stage of the MBPO loop, named by the engine set it runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MbpoStage {
    /// Acting in the real (and evaluation) envs, timing the env step.
    Act,
    /// Recording real transitions into the env buffer.
    Record,
    /// Model fit, model rollouts and SAC updates, chained.
    Learn,
    /// End-of-epoch evaluation and the metrics row.
    Log,
}

impl MbpoStage {
    /// The engine set the stage runs in.
    pub fn set(self) -> SimSet {
        match self {
            Self::Act => SimSet::Act,
            Self::Record => SimSet::Record,
            Self::Learn => SimSet::Learn,
            Self::Log => SimSet::Log,
        }
    }
}

/// The whole MBPO loop. [`MbpoPlugin::from_config`] also builds every resource the stages read
/// from an [`MbpoConfig`]; [`MbpoPlugin::stages`] schedules the stages only (insert their
/// resources yourself, as the tests do). Add it instead of, not beside, [`AgentPlugin`] or
/// [`ModelTrainPlugin`] (they schedule parts of the same stages).
pub struct MbpoPlugin {
    config: Option<MbpoConfig>,
}

impl MbpoPlugin {
    /// The stages only.
    pub fn stages() -> Self {
        Self { config: None }
    }

    /// The stages and their resources, built from `config` when the plugin is added (a failure,
    /// e.g. a model config the ensemble rejects, is reported as the app's first error).
    pub fn from_config(config: MbpoConfig) -> Self {
        Self { config: Some(config) }
    }

    /// The systems of one stage, ordered among themselves and against the env systems of their
    /// set, but not yet placed in a set (add `.in_set(stage.set())` or your own).
    pub fn get_systems(stage: MbpoStage) -> ScheduleConfigs<ScheduleSystem> {
        match stage {
            MbpoStage::Act => (
                start_env_clock.before(crate::episodes::clear_done),
                (act_with_policy, act_for_evaluation).chain().after(KindStage(SimSet::Act)),
            )
                .into_configs(),
            MbpoStage::Record => {
                (record_real_transitions.after(crate::record::keep_final_observations), stop_env_clock.after(record_real_transitions))
                    .into_configs()
            }
            MbpoStage::Learn => (train_model, rollout_model, update_agent).chain().into_configs(),
            MbpoStage::Log => (evaluate_policy, log_epoch).chain().after(crate::episodes::log_episodes).into_configs(),
        }
    }
}

impl Plugin for MbpoPlugin {
    fn build(&self, app: &mut SimApp) {
        app.add_plugin(crate::CorePlugin);
        app.world.init_resource::<EpochStats>();
        app.world.init_resource::<EpochLog>();
        app.add_systems(Self::get_systems(MbpoStage::Act).in_set(SimSet::Act));
        app.add_systems(Self::get_systems(MbpoStage::Record).in_set(SimSet::Record));
        app.add_systems(Self::get_systems(MbpoStage::Learn).in_set(SimSet::Learn));
        app.add_systems(Self::get_systems(MbpoStage::Log).in_set(SimSet::Log));
        if let Some(config) = &self.config
            && let Err(e) = config.insert_resources(app)
        {
            app.report(EngineError::Learning { stage: "building the MBPO loop", step: 0, source: Box::new(e) });
        }
    }
}

/// Adds model training, model rollouts and agent updates, in that order within `Learn` (insert
/// [`super::ModelResource`], [`super::RolloutSettings`], [`super::ModelBuffer`] and
/// [`super::AgentUpdateSettings`] before stepping).
pub struct ModelTrainPlugin;

impl Plugin for ModelTrainPlugin {
    fn build(&self, app: &mut SimApp) {
        app.add_plugin(AgentPlugin);
        app.add_systems(MbpoPlugin::get_systems(MbpoStage::Learn).in_set(SimSet::Learn));
    }
}

/// Adds the agent's acting and recording systems; insert [`super::AgentResource`] and
/// [`super::EnvBuffer`] before stepping. Model training joins with [`ModelTrainPlugin`].
pub struct AgentPlugin;

impl Plugin for AgentPlugin {
    fn build(&self, app: &mut SimApp) {
        app.add_plugin(crate::CorePlugin);
        app.world.init_resource::<EpochStats>();
        app.add_systems(MbpoPlugin::get_systems(MbpoStage::Act).in_set(SimSet::Act));
        app.add_systems(MbpoPlugin::get_systems(MbpoStage::Record).in_set(SimSet::Record));
    }
}
