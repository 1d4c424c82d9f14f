//! `Learn` / model rollouts (MBPO's branched rollouts): right after each model fit,
//! `per_step × train_every` start states are drawn from the real data (the authors' cadence;
//! `per-step` draws `per_step` after every env step instead), and each is rolled `k` steps
//! through the model (k from the rollout-length schedule, read at the learning epoch + 1), each
//! step predicted by a randomly chosen elite member (next state and reward sampled from its
//! Gaussian for probabilistic models, as MBRL-Lib's `sample=True`), actions sampled from the current policy. Transitions go to the model buffer; a
//! rollout stops at a state the env's termination function calls terminal.
//!
//! The model buffer holds `retain_epochs` epochs of rollouts at the current length (MBRL-Lib's
//! `sac_buffer` capacity): when the schedule changes the length, the buffer is resized, keeping
//! its newest transitions.

use crate::learning::{RolloutCadence, Schedule};
use bevy_ecs::prelude::*;
use vagram_engine::env::TerminationFn;
use vagram_engine::prelude::*;

use super::model_env::ModelEnv;
use super::{AgentResource, EnvBuffer, EpochStats, LearningPhase, ModelBuffer, ModelResource};

/// How rollouts are made.
#[derive(Resource)]
pub struct RolloutSettings {
    /// Rollouts started per env step.
    pub per_step: usize,
    /// Rollout length schedule over epochs.
    pub length: Schedule,
    /// When rollouts are made.
    pub cadence: RolloutCadence,
    /// Epochs of rollouts the model buffer holds.
    pub retain_epochs: u64,
    /// The env's termination function.
    pub is_terminal: TerminationFn,
    /// Stream for start states, member choice and model noise.
    pub rng: rand_chacha::ChaCha8Rng,
}

impl RolloutSettings {
    /// Rollouts started per epoch, with a model fit every `train_every` env steps.
    pub fn rollouts_per_epoch(&self, epoch_length: u64, train_every: u64) -> usize {
        match self.cadence {
            RolloutCadence::PerFit => {
                let every = train_every.max(1);
                self.per_step * every as usize * epoch_length.div_ceil(every) as usize
            }
            RolloutCadence::PerStep => self.per_step * epoch_length as usize,
        }
    }

    /// The rollout length during env step `step`.
    pub fn horizon(&self, phase: &LearningPhase, step: u64) -> usize {
        self.length.at(phase.schedule_x(step)).round().max(1.0) as usize
    }

    /// The model buffer's capacity during env step `step`: the epochs kept of rollouts at the
    /// current length.
    pub fn capacity(&self, phase: &LearningPhase, step: u64, train_every: u64) -> usize {
        self.horizon(phase, step) * self.rollouts_per_epoch(phase.epoch_length, train_every) * self.retain_epochs.max(1) as usize
    }

    /// The largest capacity the schedule can ask for (bounds what a checkpoint may hold).
    pub fn max_capacity(&self, epoch_length: u64, train_every: u64) -> usize {
        let longest = self.length.2.max(self.length.3).round().max(1.0) as usize;
        longest * self.rollouts_per_epoch(epoch_length, train_every) * self.retain_epochs.max(1) as usize
    }
}

/// Rolls the model out from real start states once a model has been fitted.
// A bevy system: each argument is one resource it reads or writes.
#[allow(clippy::too_many_arguments)]
pub fn rollout_model(
    step: Res<StepCount>,
    phase: Res<LearningPhase>,
    env_buffer: Res<EnvBuffer>,
    model: NonSend<ModelResource>,
    mut agent: NonSendMut<AgentResource>,
    mut settings: ResMut<RolloutSettings>,
    mut model_buffer: ResMut<ModelBuffer>,
    mut epoch_stats: ResMut<EpochStats>,
    mut errors: ResMut<SimErrors>,
) {
    if phase.epoch(step.0).is_none() {
        return;
    }
    let capacity = settings.capacity(&phase, step.0, model.train_every);
    if model_buffer.0.capacity != capacity {
        model_buffer.0 = model_buffer.0.resized(capacity);
    }
    if model.last.is_none() || env_buffer.0.is_empty() {
        return;
    }
    let starts = match settings.cadence {
        RolloutCadence::PerFit if !model.fits_after(&phase, step.0) => return,
        RolloutCadence::PerFit => settings.per_step * model.train_every.max(1) as usize,
        RolloutCadence::PerStep => settings.per_step,
    };
    let started = std::time::Instant::now();
    let horizon = settings.horizon(&phase, step.0);
    roll_out(&step, starts, horizon, &env_buffer, &model, &mut agent, &mut settings, &mut model_buffer, &mut errors);
    epoch_stats.seconds.rollout += started.elapsed().as_secs_f64();
}

#[allow(clippy::too_many_arguments)]
fn roll_out(
    step: &StepCount,
    starts: usize,
    horizon: usize,
    env_buffer: &EnvBuffer,
    model: &ModelResource,
    agent: &mut AgentResource,
    settings: &mut RolloutSettings,
    model_buffer: &mut ModelBuffer,
    errors: &mut SimErrors,
) {
    let Some(report) = &model.last else { return };
    let dim = model.model.state_dim;
    let env = ModelEnv { model: &model.model, elites: &report.elites, is_terminal: settings.is_terminal.as_ref() };
    let mut states = env_buffer.0.sample(starts, &mut settings.rng).obs;
    for _ in 0..horizon {
        if states.is_empty() {
            break;
        }
        let n = states.len() / dim;
        let actions = agent.sac.act(&states, false);
        let next = match env.step(&states, &actions, &mut settings.rng) {
            Ok(s) => s,
            Err(e) => {
                errors.0.push(EngineError::Learning { stage: "model rollout", step: step.0 + 1, source: Box::new(e) });
                return;
            }
        };
        let a_dim = actions.len() / n;
        let mut continuing = Vec::with_capacity(states.len());
        for i in 0..n {
            let (s, s2) = (&states[i * dim..(i + 1) * dim], &next.next_states[i * dim..(i + 1) * dim]);
            model_buffer.0.push(s, &actions[i * a_dim..(i + 1) * a_dim], next.rewards[i], s2, next.terminal[i]);
            if !next.terminal[i] {
                continuing.extend_from_slice(s2);
            }
        }
        states = continuing;
    }
}
