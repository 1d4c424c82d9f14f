//! Builds one seed's MBPO app from a [`RunConfig`]: the training env entity (with distracting
//! dimensions when configured), the agent, both buffers, the dynamics model with its loss, the
//! rollout and agent-update settings, and the evaluation, all seeded from the run seed.

use bevy_ecs::entity::Entity;
use rand::SeedableRng;

use crate::engine::SimApp;
use crate::engine::env::components::FinalObservation;
use crate::engine::env::{ActionSource, Distractors, EnvRegistry, SpawnOptions};
use crate::learn::dynamics::{DynamicsConfig, DynamicsModel, MemberReduction};
use crate::learn::losses::{LossKind, ModelLoss, Vagram};
use crate::learn::replay::ReplayBuffer;
use crate::learn::sac::{Sac, SacConfig};
use crate::learn::trainer::TrainerConfig;
use crate::learn::{AdamConfig, AutoDevice};
use crate::systems::learning::{
    AgentResource, AgentUpdateSettings, EnvBuffer, Evaluation, LearningPhase, MbpoPlugin, ModelBuffer, ModelResource, ObservationBeforeAct,
    PolicyControlled, RolloutSettings,
};
use crate::train::config::RealAction;
use crate::train::config::RunConfig;

/// Independent seeds for the parts of one run, derived from the run seed (splitmix64).
pub fn derive_seed(seed: u64, part: u64) -> u64 {
    let mut z = seed.wrapping_add(part.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The model loss `kind` with the config's settings (VaGraM's clip percentile and gradient point).
pub fn model_loss(m: &crate::train::config::ModelSection, kind: LossKind) -> Box<dyn ModelLoss> {
    match kind {
        LossKind::Vagram => Box::new(Vagram { clip_percentile: m.clip_percentile, mse_weight: 0.0, grad_at: m.grad_at }),
        other => other.build(),
    }
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
        let obs_dim = spec.obs_dim + config.env.distractors;
        let act_dim = spec.action_dim();

        let mut app = SimApp::new(seed);
        app.add_plugin(MbpoPlugin);
        let mut options = SpawnOptions::new(0);
        options.action_source = ActionSource::External;
        options.distractors = distractors;
        let env = factory.spawn(&mut app, &options)?;
        app.world.entity_mut(env).insert((
            PolicyControlled { space: spec.action_space.clone() },
            ObservationBeforeAct::default(),
            FinalObservation::default(),
        ));
        let drawn = distractors.map(|c| (c, app.world.get::<Distractors>(env).expect("spawned with distractors").params.clone()));

        let (r, m, ro, a, mx) = (&config.run, &config.model, &config.rollout, &config.agent, &config.mixing);
        let dev = AutoDevice::seed_from_u64(derive_seed(seed, Part::Agent as u64));
        let sac_config = SacConfig {
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
            seed: derive_seed(seed, Part::Agent as u64),
            matmul: a.matmul,
            ..SacConfig::default()
        };
        let sac = Sac::new(&dev, obs_dim, act_dim, sac_config);
        let mut agent = AgentResource::new(sac, r.initial_random_steps, derive_seed(seed, Part::Exploration as u64));
        agent.exploration = r.exploration;
        agent.deterministic = a.act_in_env == RealAction::Mean;
        app.world.insert_non_send(agent);
        let phase = LearningPhase { starts_at: r.initial_random_steps, epoch_length: r.epoch_length };
        app.world.insert_resource(phase);
        app.world.insert_resource(EnvBuffer(ReplayBuffer::new(r.env_steps as usize, obs_dim, act_dim)));

        let dynamics = DynamicsConfig {
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
            seed: derive_seed(seed, Part::Model as u64),
            matmul: m.matmul,
            ..DynamicsConfig::default()
        };
        let model = DynamicsModel::new(&dev, obs_dim, act_dim, &dynamics)?;
        let build = |kind: LossKind| model_loss(m, kind);
        let loss = build(m.loss);
        // Elites of the MLE model are chosen by MSE (MBRL-Lib); every other loss validates with itself.
        let validation_loss = build(if m.loss == LossKind::Mle { LossKind::Mse } else { m.loss });
        // VaGraM's fits in the first learning epoch (value function untrained) add plain MSE to
        // training and validation (the authors' `add_mse`).
        let warmup = (m.loss == LossKind::Vagram)
            .then(|| Box::new(Vagram { clip_percentile: m.clip_percentile, mse_weight: 1.0, grad_at: m.grad_at }) as Box<dyn ModelLoss>);
        app.world.insert_non_send(ModelResource {
            model,
            loss,
            validation_loss,
            warmup,
            trainer: TrainerConfig {
                batch_size: m.batch_size,
                validation_ratio: m.validation_ratio,
                patience: m.patience,
                elites: m.elites,
                max_epochs: m.max_epochs,
                ..TrainerConfig::default()
            },
            train_every: m.train_every,
            seed: derive_seed(seed, Part::ModelFits as u64),
            fits: 0,
            last: None,
        });

        let rollouts = RolloutSettings {
            per_step: ro.per_step,
            length: ro.length,
            cadence: ro.cadence,
            retain_epochs: ro.retain_epochs,
            is_terminal: factory.termination_fn(),
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(derive_seed(seed, Part::Rollouts as u64)),
        };
        // Sized for the first learning epoch; resized as the rollout length changes.
        let model_capacity = rollouts.capacity(&phase, r.initial_random_steps, m.train_every);
        app.world.insert_resource(ModelBuffer(ReplayBuffer::new(model_capacity, obs_dim, act_dim)));
        app.world.insert_resource(rollouts);
        app.world.insert_resource(AgentUpdateSettings {
            updates_per_step: a.updates_per_step,
            batch_size: a.batch_size,
            model_share: mx.model_share,
            mixing: mx.mode,
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(derive_seed(seed, Part::Updates as u64)),
            last: None,
        });
        app.world.insert_resource(Evaluation {
            factory,
            distractors: drawn,
            episodes: r.eval_episodes,
            epoch_length: r.epoch_length,
            seed,
            last: None,
        });
        Ok(Self { app, env, seed })
    }
}
