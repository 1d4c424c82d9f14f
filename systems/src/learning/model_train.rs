//! `Learn` / model training: every `train_every` learning steps (none during exploration: the
//! first fit comes `train_every` steps into learning, as in the authors' loop) the dynamics
//! ensemble is fitted on all real transitions with the run's model loss (early stopping and
//! elites as MBRL-Lib), reading the agent's value functions for the value-aware losses.

use bevy_ecs::prelude::*;
use vagram_engine::prelude::*;
use vagram_learn::AutoDevice;
use vagram_learn::dynamics::DynamicsModel;
use vagram_learn::losses::ModelLoss;
use vagram_learn::trainer::{Dataset, FitReport, TrainerConfig, fit};

use super::{AgentResource, EnvBuffer, EpochStats, LearningPhase};

/// The dynamics model and how it is trained: a non-send resource, like [`AgentResource`].
pub struct ModelResource {
    /// The ensemble, on the learning device.
    pub model: DynamicsModel<AutoDevice>,
    /// Training loss on next states.
    pub loss: Box<dyn ModelLoss>,
    /// Loss scoring validation (early stopping, elites).
    pub validation_loss: Box<dyn ModelLoss>,
    /// The loss that trains and validates the fits of the first learning epoch instead (VaGraM
    /// adds plain MSE while the value function is untrained; the authors' `add_mse`).
    pub warmup: Option<Box<dyn ModelLoss>>,
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

impl ModelResource {
    /// Whether env step `step` ends with a fit: the learning steps done reach a multiple of
    /// `train_every` (never during exploration).
    pub fn fits_after(&self, phase: &LearningPhase, step: u64) -> bool {
        phase.steps_done(step).is_some_and(|n| n.is_multiple_of(self.train_every.max(1)))
    }
}

/// Fits the model when the learning steps done reach a multiple of `train_every`.
// A bevy system: each argument is one resource it reads or writes.
#[allow(clippy::too_many_arguments)]
pub fn train_model(
    step: Res<StepCount>,
    phase: Res<LearningPhase>,
    buffer: Res<EnvBuffer>,
    agent: NonSend<AgentResource>,
    mut model: NonSendMut<ModelResource>,
    mut epoch: ResMut<EpochStats>,
    mut errors: ResMut<SimErrors>,
) {
    if !model.fits_after(&phase, step.0) || buffer.0.len() < 2 {
        return;
    }
    let done = step.0 + 1; // env steps completed, this one included
    let started = std::time::Instant::now();
    let data = buffer.0.contents();
    let dataset = Dataset { states: &data.obs, actions: &data.actions, next_states: &data.next_obs, rewards: &data.rewards };
    let oracle = agent.sac.value_oracle();
    let m = &mut *model;
    let seed = m.seed.wrapping_add(m.fits);
    let (loss, validation_loss) = match &m.warmup {
        Some(warmup) if phase.epoch(step.0) == Some(0) => (warmup.as_ref(), warmup.as_ref()),
        _ => (m.loss.as_ref(), m.validation_loss.as_ref()),
    };
    match fit(&mut m.model, &dataset, loss, validation_loss, Some(&oracle), &m.trainer, seed) {
        Ok(report) => {
            m.fits += 1;
            epoch.fit_epochs += report.epochs as u64;
            m.last = Some(report);
        }
        Err(e) => errors.0.push(EngineError::Learning { stage: "model training", step: done, source: Box::new(e) }),
    }
    epoch.seconds.model += started.elapsed().as_secs_f64();
}
