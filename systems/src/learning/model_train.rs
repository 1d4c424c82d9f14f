//! `Learn` / model training: every `train_every` env steps the dynamics ensemble is fitted on all
//! real transitions with the run's model loss (early stopping and elites as MBRL-Lib), reading
//! the agent's value functions for the value-aware losses.

use bevy_ecs::prelude::*;
use vagram_engine::learn::dynamics::DynamicsModel;
use vagram_engine::learn::losses::ModelLoss;
use vagram_engine::learn::trainer::{Dataset, FitReport, TrainerConfig, fit};
use vagram_engine::learn::{AutoDevice, ThreadBound};
use vagram_engine::prelude::*;

use super::{AgentResource, EnvBuffer, EpochStats};

/// The dynamics model and how it is trained.
#[derive(Resource)]
pub struct ModelResource {
    /// The ensemble (on the learning device, so bound to the seed's thread).
    pub model: ThreadBound<DynamicsModel<AutoDevice>>,
    /// Training loss on next states.
    pub loss: Box<dyn ModelLoss>,
    /// Loss scoring validation (early stopping, elites).
    pub validation_loss: Box<dyn ModelLoss>,
    /// A different training loss for the fits up to an env step (VaGraM adds MSE while the value
    /// function is untrained).
    pub warmup: Option<(u64, Box<dyn ModelLoss>)>,
    /// Early stopping, batch size, elites.
    pub trainer: TrainerConfig,
    /// Env steps between fits.
    pub train_every: u64,
    /// Seed of the fits' splits and bootstraps (advanced per fit).
    pub seed: u64,
    /// Fits done.
    pub fits: u64,
    /// The last fit's report (elites, validation scores).
    pub last: Option<FitReport>,
}

/// Fits the model when the step count reaches a multiple of `train_every`.
pub fn train_model(
    step: Res<StepCount>,
    buffer: Res<EnvBuffer>,
    agent: Res<AgentResource>,
    mut model: ResMut<ModelResource>,
    mut epoch: ResMut<EpochStats>,
    mut errors: ResMut<SimErrors>,
) {
    let done = step.0 + 1; // env steps completed, this one included
    if !done.is_multiple_of(model.train_every.max(1)) || buffer.0.len() < 2 {
        return;
    }
    let started = std::time::Instant::now();
    let data = buffer.0.contents();
    let dataset = Dataset { states: &data.obs, actions: &data.actions, next_states: &data.next_obs, rewards: &data.rewards };
    let oracle = agent.sac.value_oracle();
    let m = &mut *model;
    let seed = m.seed.wrapping_add(m.fits);
    let loss = match &m.warmup {
        Some((until, warmup)) if done <= *until => warmup.as_ref(),
        _ => m.loss.as_ref(),
    };
    match fit(&mut m.model, &dataset, loss, m.validation_loss.as_ref(), Some(&oracle), &m.trainer, seed) {
        Ok(report) => {
            m.fits += 1;
            m.last = Some(report);
        }
        Err(e) => errors.0.push(EngineError::Learning { stage: "model training", step: done, message: e.to_string() }),
    }
    epoch.seconds.model += started.elapsed().as_secs_f64();
}
