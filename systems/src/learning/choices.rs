//! The MBPO loop's closed choices that decide what its systems do (TOML and `--set` spell them
//! in kebab case; the run config holds them).

use serde::{Deserialize, Serialize};

/// What acts during the initial exploration steps (`run.exploration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exploration {
    /// The untrained SAC policy, actions sampled (the authors' MBPO: `random_initial_explore: false`).
    #[default]
    Policy,
    /// Uniformly random actions in the action box.
    Uniform,
}

/// When model rollouts are made (`rollout.cadence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutCadence {
    /// One batch of `per_step × model.train_every` rollouts right after each model fit (the
    /// authors' MBPO).
    #[default]
    PerFit,
    /// `per_step` rollouts after every env step (the MBPO paper's Algorithm 2).
    PerStep,
}

vagram_learn::choice_names!(Exploration, ["policy", "uniform"]);
vagram_learn::choice_names!(RolloutCadence, ["per-fit", "per-step"]);
