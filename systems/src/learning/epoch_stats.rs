//! Per-epoch accumulators the learning stages report into: SAC statistics summed over the
//! epoch's updates, and wall-clock seconds per stage. `Log` turns them into one row per epoch
//! and clears them.

use std::time::Instant;

use bevy_ecs::prelude::*;
use vagram_learn::sac::SacStats;

/// Wall-clock seconds spent per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageSeconds {
    /// Acting, physics and recording (`Act` to `Record`).
    pub env: f64,
    /// Model training.
    pub model: f64,
    /// Model rollouts.
    pub rollout: f64,
    /// SAC updates.
    pub sac: f64,
    /// Policy evaluation.
    pub eval: f64,
}

impl StageSeconds {
    /// The sum over stages.
    pub fn total(&self) -> f64 {
        self.env + self.model + self.rollout + self.sac + self.eval
    }

    /// Adds `other` stage by stage.
    pub fn add(&mut self, other: &StageSeconds) {
        self.env += other.env;
        self.model += other.model;
        self.rollout += other.rollout;
        self.sac += other.sac;
        self.eval += other.eval;
    }
}

/// What the stages accumulated since the last epoch row.
#[derive(Resource, Debug, Clone, Default)]
pub struct EpochStats {
    /// SAC updates made.
    pub sac_updates: u64,
    /// Sum of the critic losses.
    pub critic_loss: f64,
    /// Sum of the actor losses.
    pub actor_loss: f64,
    /// Sum of α.
    pub alpha: f64,
    /// Sum of the policy entropy estimates.
    pub entropy: f64,
    /// Epochs run by the model fits of this epoch, summed.
    pub fit_epochs: u64,
    /// Seconds per stage.
    pub seconds: StageSeconds,
    /// When this step's `Act` began.
    env_clock: Option<Instant>,
}

impl EpochStats {
    /// Adds one SAC update's statistics.
    pub fn add_update(&mut self, s: &SacStats) {
        self.sac_updates += 1;
        self.critic_loss += s.critic_loss as f64;
        self.actor_loss += s.actor_loss as f64;
        self.alpha += s.alpha as f64;
        self.entropy += s.entropy as f64;
    }

    /// Mean of a summed statistic over the updates (NaN without updates).
    pub fn mean(&self, sum: f64) -> f64 {
        if self.sac_updates == 0 { f64::NAN } else { sum / self.sac_updates as f64 }
    }
}

/// Starts the env-stage clock (first system of `Act`).
pub fn start_env_clock(mut stats: ResMut<EpochStats>) {
    stats.env_clock = Some(Instant::now());
}

/// Stops the env-stage clock (last system of `Record`).
pub fn stop_env_clock(mut stats: ResMut<EpochStats>) {
    if let Some(t) = stats.env_clock.take() {
        stats.seconds.env += t.elapsed().as_secs_f64();
    }
}
