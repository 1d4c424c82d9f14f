//! [`MbpoConfig`]: every setting of one seed's MBPO loop as plain data — the env it learns on,
//! the agent, the model and its losses, rollouts, agent updates and evaluation, each random
//! part with its own seed. [`MbpoPlugin::from_config`](super::MbpoPlugin::from_config) builds
//! from it every resource the stages read; `vagram train` fills it from a run config, a library
//! user by hand.

use std::sync::Arc;

use bevy_ecs::entity::Entity;
use rand::SeedableRng;
use vagram_engine::env::{DistractorParams, Distractors, EnvFactory};
use vagram_engine::prelude::*;
use vagram_learn::AutoDevice;
use vagram_learn::LearnError;
use vagram_learn::dynamics::{DynamicsConfig, DynamicsModel};
use vagram_learn::losses::{GradAt, LossKind, ModelLoss, Vagram, ValueWeightNorm, ValueWeighted};
use vagram_learn::replay::ReplayBuffer;
use vagram_learn::sac::{Sac, SacConfig};
use vagram_learn::trainer::TrainerConfig;

use super::{
    AgentResource, AgentUpdateSettings, EnvBuffer, Evaluation, Exploration, LearningPhase, Mixing, ModelBuffer, ModelResource,
    RolloutCadence, RolloutSettings, Schedule,
};

/// The env the loop learns on: its kind, sizes and the distracting dimensions drawn for it.
#[derive(Clone)]
pub struct MbpoEnv {
    /// The env kind (spawns the evaluation envs, gives the rollouts' termination function).
    pub factory: Arc<dyn EnvFactory>,
    /// Observation size, distracting dimensions included.
    pub obs_dim: usize,
    /// Action size.
    pub act_dim: usize,
    /// The training env's distracting dimensions and their drawn parameters (the evaluation
    /// envs get the same).
    pub distractors: Option<(DistractorConfig, DistractorParams)>,
}

impl MbpoEnv {
    /// The description of the already spawned env `env` of kind `factory`, spawned with the
    /// distracting dimensions `distractors`.
    pub fn of(app: &SimApp, env: Entity, factory: Arc<dyn EnvFactory>, distractors: Option<DistractorConfig>) -> Self {
        let spec = factory.spec();
        let distractors = distractors.map(|c| (c, app.world.get::<Distractors>(env).expect("spawned with distractors").params.clone()));
        let extra = distractors.as_ref().map_or(0, |(c, _)| c.dims);
        Self { obs_dim: spec.obs_dim + extra, act_dim: spec.action_dim(), distractors, factory }
    }
}

/// The model loss and its settings; the validation and warm-up losses follow from it. The
/// losses are built for an ensemble of `members` (the model's own count: the authors'
/// value-weighted MSE normalises its weights over the members).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelLossConfig {
    /// The loss that trains the model.
    pub kind: LossKind,
    /// VaGraM's percentile clip of the value-gradient norms (100 = off).
    pub clip_percentile: f64,
    /// Where VaGraM evaluates ∇V (and the authors' value-weighted MSE its values).
    pub grad_at: GradAt,
    /// The authors' value-weighted MSE's normalisation (theirs, or mean 1 as a control).
    pub value_norm: ValueWeightNorm,
}

impl ModelLossConfig {
    /// Loss `kind` with these settings (VaGraM's clip percentile and gradient point) for an
    /// ensemble of `members`.
    pub fn build(&self, kind: LossKind, members: usize) -> Box<dyn ModelLoss> {
        match kind {
            LossKind::Vagram => Box::new(self.vagram(0.0)),
            LossKind::ValueWeightedNext => Box::new(self.value_weighted_next(members)),
            other => other.build(),
        }
    }

    /// VaGraM with these settings and plain MSE added at `mse_weight`.
    fn vagram(&self, mse_weight: f64) -> Vagram {
        Vagram { clip_percentile: self.clip_percentile, mse_weight, grad_at: self.grad_at }
    }

    /// The authors' value-weighted MSE with these settings.
    fn value_weighted_next(&self, members: usize) -> ValueWeighted {
        ValueWeighted { norm: self.value_norm, ..ValueWeighted::authors(self.grad_at, members) }
    }

    /// The training loss.
    pub fn training(&self, members: usize) -> Box<dyn ModelLoss> {
        self.build(self.kind, members)
    }

    /// The loss that ranks validation: MSE for the MLE model (MBRL-Lib's elites), the training
    /// loss for every other.
    pub fn validation(&self, members: usize) -> Box<dyn ModelLoss> {
        self.build(if self.kind == LossKind::Mle { LossKind::Mse } else { self.kind }, members)
    }

    /// The loss with plain MSE added, for the fits of the first learning epoch while the value
    /// function is untrained (the authors' `add_mse`, which every loss of their `VAMLMLP` class
    /// has): VaGraM's and the authors' value-weighted MSE's; none for the other losses.
    pub fn warmup(&self, members: usize) -> Option<Box<dyn ModelLoss>> {
        match self.kind {
            LossKind::Vagram => Some(Box::new(self.vagram(1.0))),
            LossKind::ValueWeightedNext => Some(Box::new(ValueWeighted { mse_weight: 1.0, ..self.value_weighted_next(members) })),
            _ => None,
        }
    }
}

/// Every setting of one seed's MBPO loop.
#[derive(Clone)]
pub struct MbpoConfig {
    /// The env learned on.
    pub env: MbpoEnv,
    /// Env steps of the whole run (the env buffer holds them all).
    pub env_steps: u64,
    /// Env steps per epoch (schedules, evaluation and metrics rows count in epochs).
    pub epoch_length: u64,
    /// Exploration steps before anything is learned.
    pub initial_random_steps: u64,
    /// What acts during exploration.
    pub exploration: Exploration,
    /// Seed of the exploration actions.
    pub exploration_seed: u64,
    /// The SAC agent (its `seed` also seeds the device).
    pub sac: SacConfig,
    /// After exploration, act in the real env with the policy's mean instead of a sample.
    pub act_with_mean: bool,
    /// The dynamics ensemble.
    pub dynamics: DynamicsConfig,
    /// The model loss.
    pub loss: ModelLossConfig,
    /// Early stopping, batch size, elites of each fit.
    pub trainer: TrainerConfig,
    /// Learning steps between fits.
    pub train_every: u64,
    /// Seed of the fits' splits and bootstraps.
    pub fit_seed: u64,
    /// Rollouts started per env step.
    pub rollouts_per_step: usize,
    /// Rollout length over epochs.
    pub rollout_length: Schedule,
    /// When rollouts are made.
    pub rollout_cadence: RolloutCadence,
    /// Epochs of rollouts the model buffer keeps.
    pub retain_epochs: u64,
    /// Seed of the rollouts (start states, members, model noise).
    pub rollout_seed: u64,
    /// SAC updates per env step.
    pub updates_per_step: usize,
    /// SAC minibatch size.
    pub batch_size: usize,
    /// Share of model data in SAC batches over epochs.
    pub model_share: Schedule,
    /// How the batches mix real and model data.
    pub mixing: Mixing,
    /// Seed of the minibatches and mixing draws.
    pub update_seed: u64,
    /// Evaluation episodes per epoch (0: none).
    pub eval_episodes: u32,
    /// Seed of the evaluation start states (the run seed).
    pub eval_seed: u64,
}

impl MbpoConfig {
    /// Inserts every resource the MBPO stages read, with fresh networks on the learning device
    /// (non-send resources: build them on the thread that will step the app).
    pub fn insert_resources(&self, app: &mut SimApp) -> Result<(), LearnError> {
        let (obs_dim, act_dim) = (self.env.obs_dim, self.env.act_dim);
        let dev = AutoDevice::seed_from_u64(self.sac.seed);
        let sac = Sac::new(&dev, obs_dim, act_dim, self.sac.clone());
        let mut agent = AgentResource::new(sac, self.initial_random_steps, self.exploration_seed);
        agent.exploration = self.exploration;
        agent.deterministic = self.act_with_mean;
        app.world.insert_non_send(agent);
        let phase = LearningPhase { starts_at: self.initial_random_steps, epoch_length: self.epoch_length };
        app.world.insert_resource(phase);
        app.world.insert_resource(EnvBuffer(ReplayBuffer::new(self.env_steps as usize, obs_dim, act_dim)));

        let model = DynamicsModel::new(&dev, obs_dim, act_dim, &self.dynamics)?;
        app.world.insert_non_send(ModelResource {
            model,
            loss: self.loss.training(self.dynamics.members),
            validation_loss: self.loss.validation(self.dynamics.members),
            warmup: self.loss.warmup(self.dynamics.members),
            trainer: self.trainer.clone(),
            train_every: self.train_every,
            seed: self.fit_seed,
            fits: 0,
            last: None,
        });

        let rollouts = RolloutSettings {
            per_step: self.rollouts_per_step,
            length: self.rollout_length,
            cadence: self.rollout_cadence,
            retain_epochs: self.retain_epochs,
            is_terminal: self.env.factory.termination_fn(),
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(self.rollout_seed),
        };
        // Sized for the first learning epoch; resized as the rollout length changes.
        let model_capacity = rollouts.capacity(&phase, self.initial_random_steps, self.train_every);
        app.world.insert_resource(ModelBuffer(ReplayBuffer::new(model_capacity, obs_dim, act_dim)));
        app.world.insert_resource(rollouts);
        app.world.insert_resource(AgentUpdateSettings {
            updates_per_step: self.updates_per_step,
            batch_size: self.batch_size,
            model_share: self.model_share,
            mixing: self.mixing,
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(self.update_seed),
            last: None,
        });
        app.world.insert_resource(Evaluation {
            factory: self.env.factory.clone(),
            distractors: self.env.distractors.clone(),
            episodes: self.eval_episodes,
            epoch_length: self.epoch_length,
            seed: self.eval_seed,
            last: None,
        });
        Ok(())
    }
}
