//! Learning stages as ECS systems, the MBPO loop: the agent acting for its envs in `Act`, real
//! transitions recorded into the env buffer in `Record`, model training, model rollouts and SAC
//! updates in `Learn`, and the end-of-epoch evaluation and metrics row in `Log`.
//!
//! The loop reads top to bottom in [`mbpo`](MbpoPlugin), in the order of the paper's Algorithm 1.
//! An env takes part when it carries [`PolicyControlled`]; the agent and the buffers are
//! resources, so a run is one `SimApp` and seeds run as independent apps on separate threads.

mod act;
mod agent_update;
mod buffers;
mod choices;
mod epoch_log;
mod epoch_stats;
mod evaluate;
mod mbpo;
mod mbpo_config;
mod model_env;
mod model_train;
mod phase;
mod record;
mod rollout;
mod schedule;
mod transition;

pub use act::{AgentResource, EvalControlled, PolicyControlled, act_for_evaluation, act_with_policy};
pub use agent_update::{AgentUpdateSettings, Mixing, mixed_batch, update_agent};
pub use buffers::{EnvBuffer, ModelBuffer};
pub use choices::{Exploration, RolloutCadence};
pub use epoch_log::{EpochLog, EpochRow, TimingRow, log_epoch};
pub use epoch_stats::{EpochStats, StageSeconds, start_env_clock, stop_env_clock};
pub use evaluate::{EVAL_ENV_ID_BASE, EvalResult, Evaluation, evaluate_policy};
pub use mbpo::{AgentPlugin, MbpoPlugin, MbpoStage, ModelTrainPlugin};
pub use mbpo_config::{MbpoConfig, MbpoEnv, ModelLossConfig};
pub use model_env::{ModelEnv, ModelStep};
pub use model_train::{ModelResource, train_model};
pub use phase::LearningPhase;
pub use record::record_real_transitions;
pub use rollout::{RolloutSettings, rollout_model};
pub use schedule::Schedule;
pub use transition::{ObservationBeforeAct, UnitAction};

#[cfg(test)]
mod tests;
