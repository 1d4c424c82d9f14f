//! Builds one seed's MBPO app from a [`RunConfig`]: spawns the training env entity (with
//! distracting dimensions when configured) and adds [`MbpoPlugin::from_config`] with the
//! [`MbpoConfig`] the run config gives for that seed (each random part seeded from the run seed).

use bevy_ecs::entity::Entity;

use crate::engine::SimApp;
use crate::engine::env::components::FinalObservation;
use crate::engine::env::{ActionSource, EnvRegistry, SpawnOptions};
use crate::learn::AdamConfig;
use crate::learn::dynamics::{DynamicsConfig, MemberReduction};
use crate::learn::losses::LossKind;
use crate::learn::sac::SacConfig;
use crate::learn::trainer::TrainerConfig;
use crate::systems::learning::{MbpoConfig, MbpoEnv, MbpoPlugin, ModelLossConfig, ObservationBeforeAct, PolicyControlled};
use crate::train::config::RealAction;
use crate::train::config::RunConfig;

/// The seed of `part` of the run with seed `seed` (the engine's ChaCha8 streams).
fn derive_seed(seed: u64, part: Part) -> u64 {
    crate::engine::rng::part_seed(seed, part as u64)
}

/// The config's model loss with its settings (VaGraM's clip percentile and gradient point).
pub fn model_loss_config(m: &crate::train::config::ModelSection) -> ModelLossConfig {
    ModelLossConfig { kind: m.loss, clip_percentile: m.clip_percentile, grad_at: m.grad_at, value_norm: m.value_weights }
}

/// The parts of a run that draw random numbers, each with its own derived seed.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
enum Part {
    Agent = 1,
    Exploration,
    Model,
    ModelFits,
    Rollouts,
    Updates,
}

/// One seed's app, ready to step.
pub struct SeedApp {
    /// The ECS app with every MBPO stage scheduled.
    pub app: SimApp,
    /// The training env entity.
    pub env: Entity,
    /// The run seed.
    pub seed: u64,
}

impl SeedApp {
    /// Builds the app for `seed`; `config` must have passed [`RunConfig::validate`].
    pub fn build(config: &RunConfig, registry: &EnvRegistry, seed: u64) -> anyhow::Result<Self> {
        let factory = registry.get(&config.env.name)?.clone();
        let spec = factory.spec().clone();
        let distractors = config.env.distractor_config();

        let mut app = SimApp::new(seed);
        let mut options = SpawnOptions::new(0);
        options.action_source = ActionSource::External;
        options.distractors = distractors;
        let env = factory.spawn(&mut app, &options)?;
        app.world.entity_mut(env).insert((
            PolicyControlled { space: spec.action_space.clone() },
            ObservationBeforeAct::default(),
            FinalObservation::default(),
        ));
        let mbpo_env = MbpoEnv::of(&app, env, factory, distractors);
        app.add_plugin(MbpoPlugin::from_config(mbpo_config(config, mbpo_env, seed)));
        app.take_error()?;
        Ok(Self { app, env, seed })
    }
}

/// The MBPO loop's settings for `seed` of run config `config`, learning on `env`.
pub fn mbpo_config(config: &RunConfig, env: MbpoEnv, seed: u64) -> MbpoConfig {
    let (r, m, ro, a, mx) = (&config.run, &config.model, &config.rollout, &config.agent, &config.mixing);
    MbpoConfig {
        env,
        env_steps: r.env_steps,
        epoch_length: r.epoch_length,
        initial_random_steps: r.initial_random_steps,
        exploration: r.exploration,
        exploration_seed: derive_seed(seed, Part::Exploration),
        sac: SacConfig {
            hidden: a.hidden.clone(),
            gamma: a.gamma,
            tau: a.tau,
            target_update_interval: a.target_update_interval,
            actor_lr: a.actor_lr,
            critic_lr: a.critic_lr,
            alpha_lr: a.alpha_lr,
            fixed_alpha: a.fixed_alpha,
            init_alpha: a.init_alpha,
            target_entropy: a.target_entropy,
            seed: derive_seed(seed, Part::Agent),
            matmul: a.matmul,
            ..SacConfig::default()
        },
        act_with_mean: a.act_in_env == RealAction::Mean,
        dynamics: DynamicsConfig {
            members: m.members,
            hidden: m.hidden.clone(),
            activation: m.activation,
            probabilistic: m.probabilistic,
            learn_logvar_bounds: m.learn_logvar_bounds,
            reward_fit: m.reward_fit,
            // The authors' Gaussian ensemble (their MLE and MSE baselines) sums its members'
            // losses; their VaGraM ensemble averages them.
            member_reduction: if matches!(m.loss, LossKind::Mle | LossKind::Mse) { MemberReduction::Sum } else { MemberReduction::Mean },
            adam: AdamConfig { lr: m.lr, weight_decay: m.weight_decay, ..AdamConfig::default() },
            optimizer: m.optimizer,
            seed: derive_seed(seed, Part::Model),
            matmul: m.matmul,
            ..DynamicsConfig::default()
        },
        loss: model_loss_config(m),
        trainer: TrainerConfig {
            batch_size: m.batch_size,
            validation_ratio: m.validation_ratio,
            patience: m.patience,
            elites: m.elites,
            max_epochs: m.max_epochs,
            ..TrainerConfig::default()
        },
        train_every: m.train_every,
        fit_seed: derive_seed(seed, Part::ModelFits),
        rollouts_per_step: ro.per_step,
        rollout_length: ro.length,
        rollout_cadence: ro.cadence,
        retain_epochs: ro.retain_epochs,
        rollout_seed: derive_seed(seed, Part::Rollouts),
        updates_per_step: a.updates_per_step,
        batch_size: a.batch_size,
        model_share: mx.model_share,
        mixing: mx.mode,
        update_seed: derive_seed(seed, Part::Updates),
        eval_episodes: r.eval_episodes,
        eval_seed: seed,
    }
}
