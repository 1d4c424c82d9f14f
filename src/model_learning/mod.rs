//! Paper Fig. 2 (§4, App. E): model learning on the pendulum against a sequence of changing
//! value functions, without the model-based loop.
//!
//! 1. [`values`]: model-free SAC on the pendulum; its critics are saved after every epoch of
//!    200 env steps, a sequence of value functions from untrained to trained.
//! 2. [`data`]: transitions sampled uniformly over the state space (θ, θ̇) and the action box,
//!    the next states from the env's own transition function (one physics step).
//! 3. [`fit`]: models (a linear regression, or one hidden layer of 16 ReLU units) trained by
//!    minibatch gradient steps on one loss (VaGraM, MSE or VAML), the value function the loss
//!    sees swapped for the next saved one every `swap_every` steps; the VAML error on a held-out
//!    set, with the current value function, logged along the way. Each ensemble member is one
//!    model initialisation with its own data sample.

pub mod data;
pub mod fit;
pub mod values;

use serde::{Deserialize, Serialize};

/// The budget of a model-learning experiment (a study's `[model_learning]` table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelLearningConfig {
    /// Value functions in the sequence: SAC epochs of `epoch_length` env steps.
    pub value_functions: usize,
    /// Env steps per SAC epoch (200 in the paper).
    pub epoch_length: usize,
    /// Uniformly random SAC steps before its first update.
    pub sac_random_steps: usize,
    /// Transitions in each model's training sample.
    pub samples: usize,
    /// Held-out transitions the VAML error is measured on.
    pub held_out: usize,
    /// Model gradient steps between value-function swaps (1,000 in the paper).
    pub swap_every: usize,
    /// Model gradient steps between VAML-error measurements.
    pub log_every: usize,
}
