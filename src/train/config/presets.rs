//! The presets: the authors' MBPO configurations (pairlab/vagram at "Changes for rebuttal",
//! `mbrl/examples/conf/overrides/mbpo_*.yaml`; SPEC §3) for hopper, hopper with distractors and
//! cartpole, and two for the pendulum: ours (`pendulum`, the Fig. 5 study's) and the authors'
//! `mbpo_pendulum.yaml` (`pendulum-authors`). The authors' pendulum file lacks the
//! `model_data_likelihood` key their loop reads, so it cannot have run as written (the mixing
//! ramp here is the paper's text), and it asks for 10,000 exploration and 10,000 learning steps
//! with 40 SAC updates each; ours solves the task in 5,000 steps (RESULTS.md), so Fig. 5 uses
//! ours. docs/authors-config.md maps every key to the authors' yaml key and value.

use super::{AgentSection, EnvSection, MixingSection, ModelSection, RolloutSection, RunConfig, RunSection, Schedule};
use crate::engine::env::DistractorVariant;
use vagram_learn::losses::LossKind;
use vagram_learn::{Activation, Matmul};
use vagram_systems::learning::Mixing;

/// Our cap on epochs per model fit for the small presets: with seven members, "any member
/// improved by 1%" keeps a value-aware validation loss (whose scale moves with the critic)
/// improving for thousands of epochs; MBRL-Lib leaves it uncapped.
const MAX_FIT_EPOCHS: usize = 50;

/// Names [`RunConfig::preset`] accepts.
pub const PRESETS: [&str; 5] = ["pendulum", "pendulum-authors", "cartpole", "hopper", "hopper-distractors"];

fn model(loss: LossKind, train_every: u64, batch_size: usize, patience: usize, max_epochs: Option<usize>) -> ModelSection {
    ModelSection {
        probabilistic: ModelSection::probabilistic_for(loss),
        loss,
        members: 7,
        elites: 5,
        hidden: vec![200; 4],
        activation: Activation::Silu,
        lr: 1e-3,
        weight_decay: 5e-5,
        batch_size,
        patience,
        validation_ratio: 0.2,
        train_every,
        clip_percentile: 95.0,
        grad_at: Default::default(),
        learn_logvar_bounds: false,
        reward_fit: Default::default(),
        max_epochs,
        matmul: Matmul::F32,
        optimizer: Default::default(),
        value_weights: Default::default(),
    }
}

fn agent(hidden: usize, lrs: [f32; 3], target_entropy: Option<f32>, updates_per_step: usize, target_update_interval: u64) -> AgentSection {
    AgentSection {
        updates_per_step,
        batch_size: 256,
        hidden: vec![hidden; 2],
        critic_lr: lrs[0],
        actor_lr: lrs[1],
        alpha_lr: lrs[2],
        target_entropy,
        fixed_alpha: None,
        init_alpha: 0.1,
        act_in_env: Default::default(),
        gamma: 0.99,
        tau: 0.005,
        target_update_interval,
        matmul: Matmul::F32,
    }
}

impl RunConfig {
    /// The preset `name` with model loss `loss` (a [`LossKind`] name), or `None` for an
    /// unknown preset or loss.
    pub fn preset(name: &str, loss: &str) -> Option<RunConfig> {
        let loss: LossKind = loss.parse().ok()?;
        let env = |n: &str| EnvSection { name: n.into(), distractors: 0, distractor_variant: DistractorVariant::Paper };
        let run = |learning_steps: u64, epoch_length: u64, initial_random_steps: u64| RunSection {
            env_steps: initial_random_steps + learning_steps,
            epoch_length,
            initial_random_steps,
            exploration: Default::default(),
            eval_episodes: 1,
        };
        let rollout = |length: Schedule| RolloutSection { per_step: 400, length, retain_epochs: 1, cadence: Default::default() };
        Some(match name {
            // 10,000 exploration steps, then the authors' 250,000 learning steps.
            "hopper" => RunConfig {
                run: run(250_000, 1000, 10_000),
                env: env("hopper"),
                model: model(loss, 250, 1024, 10, None),
                rollout: rollout(Schedule(20.0, 150.0, 1.0, 5.0)),
                agent: agent(1024, [3e-4, 3e-5, 3e-4], Some(-1.0), 20, 4),
                // The paper's ramp: 0 → 95% model data over the first 40 epochs.
                mixing: MixingSection { model_share: Schedule(0.0, 40.0, 0.0, 0.95), mode: Mixing::PerSample },
            },
            // `mbpo_hopper_distraction.yaml` with the paper scripts' 500,000 steps: 10 distracting
            // dimensions of the authors' kind, one-step rollouts, the model share ramped over 50
            // epochs; the MLE scripts train the model on batches of 256, VaGraM's on 1024.
            "hopper-distractors" => {
                let hopper = RunConfig::preset("hopper", loss.name())?;
                RunConfig {
                    run: run(500_000, 1000, 10_000),
                    env: EnvSection { distractors: 10, distractor_variant: DistractorVariant::Reference, ..hopper.env },
                    model: ModelSection { batch_size: if loss == LossKind::Mle { 256 } else { 1024 }, ..hopper.model },
                    rollout: rollout(Schedule(20.0, 150.0, 1.0, 1.0)),
                    mixing: MixingSection { model_share: Schedule(0.0, 50.0, 0.0, 0.95), mode: Mixing::PerBatch },
                    ..hopper
                }
            }
            // `mbpo_pendulum.yaml`: 100-step epochs, a fit every 50 steps (at most 50 epochs,
            // patience 1), 40 SAC updates per step, critic lr 3e-5, target entropy −3, the
            // algorithm's default 10,000 exploration steps. (Its actor update every 4 SAC updates
            // is not modelled: every update here steps the actor.)
            "pendulum-authors" => RunConfig {
                run: run(10_000, 100, 10_000),
                env: env("pendulum"),
                model: ModelSection { weight_decay: 2e-5, ..model(loss, 50, 256, 1, Some(50)) },
                rollout: rollout(Schedule(20.0, 150.0, 1.0, 1.0)),
                agent: agent(1024, [3e-5, 3e-4, 3e-4], Some(-3.0), 40, 4),
                mixing: MixingSection { model_share: Schedule(0.0, 40.0, 0.0, 0.95), mode: Mixing::PerBatch },
            },
            // The authors' 5,000 learning steps after one 200-step epoch of exploration (their
            // algorithm default of 10,000 would be twice the whole budget).
            "cartpole" => RunConfig {
                run: run(5000, 200, 200),
                env: env("cartpole"),
                model: model(loss, 200, 256, 5, Some(MAX_FIT_EPOCHS)),
                rollout: rollout(Schedule(1.0, 15.0, 1.0, 1.0)),
                agent: agent(256, [3e-4, 3e-4, 1e-4], Some(-0.05), 20, 4),
                // 25 epochs in all: the authors' cartpole ramp (epochs 1 → 5).
                mixing: MixingSection { model_share: Schedule(1.0, 5.0, 0.0, 0.95), mode: Mixing::PerSample },
            },
            // 5,000 steps in all, one 200-step epoch of them exploration.
            "pendulum" => RunConfig {
                run: run(4800, 200, 200),
                env: env("pendulum"),
                model: model(loss, 200, 256, 5, Some(MAX_FIT_EPOCHS)),
                rollout: rollout(Schedule(1.0, 15.0, 1.0, 1.0)),
                // 128-wide SAC nets: the pendulum needs no more, and the loop runs ~3× faster on 2 cores.
                agent: agent(128, [3e-4, 3e-4, 3e-4], None, 10, 1),
                mixing: MixingSection { model_share: Schedule(0.0, 10.0, 0.0, 0.95), mode: Mixing::PerSample },
            },
            _ => return None,
        })
    }
}
