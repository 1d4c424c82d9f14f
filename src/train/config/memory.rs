//! What one seed of a run holds in memory, estimated from its config before anything is
//! allocated, so that a config that cannot fit is refused with the figures instead of dying in
//! the allocator (`memory allocation of … failed`, SIGABRT) with a half-made run directory.
//!
//! The estimate is a lower bound: the replay buffers at full size, the networks with their
//! gradients and Adam moments, and the largest batch of model rollouts in flight. Activations
//! and the value cache of a fit come on top.

use anyhow::bail;

use super::RunConfig;
use crate::learn::dynamics::RewardFit;
use crate::systems::learning::RolloutCadence;

/// Bytes of one seed's largest allocations, by part (f64: absurd configs overflow integers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryEstimate {
    /// The real-data buffer (`run.env_steps` transitions).
    pub env_buffer: f64,
    /// The model-data buffer at the longest rollout of the schedule.
    pub model_buffer: f64,
    /// One batch of rollouts through every ensemble member.
    pub rollouts: f64,
    /// Model ensemble and SAC networks: weights, gradients, Adam moments (targets: weights).
    pub networks: f64,
}

impl MemoryEstimate {
    /// All parts together.
    pub fn total(&self) -> f64 {
        self.env_buffer + self.model_buffer + self.rollouts + self.networks
    }

    /// The parts, for a message: `env buffer 1.2 GiB, model buffer …`.
    pub fn parts(&self) -> String {
        format!(
            "env buffer {}, model buffer {}, rollouts {}, networks {}",
            gib(self.env_buffer),
            gib(self.model_buffer),
            gib(self.rollouts),
            gib(self.networks)
        )
    }
}

/// `bytes` in GiB, for messages.
pub fn gib(bytes: f64) -> String {
    let g = bytes / (1u64 << 30) as f64;
    if g < 0.1 { format!("{:.0} MiB", bytes / (1u64 << 20) as f64) } else { format!("{g:.1} GiB") }
}

/// Parameters of an MLP `inputs → hidden… → outputs`.
fn mlp_params(inputs: usize, hidden: &[usize], outputs: usize) -> f64 {
    let widths: Vec<f64> =
        std::iter::once(inputs).chain(hidden.iter().copied()).chain(std::iter::once(outputs)).map(|w| w as f64).collect();
    widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
}

impl RunConfig {
    /// The memory one seed of this config needs at least, for an env with `obs_dim`
    /// observations (distracting dimensions included) and `act_dim` actions.
    pub fn memory_estimate(&self, obs_dim: usize, act_dim: usize) -> MemoryEstimate {
        const F32: f64 = 4.0;
        let (m, ro, a) = (&self.model, &self.rollout, &self.agent);
        let (obs, act) = (obs_dim as f64, act_dim as f64);
        let row = (2.0 * obs + act + 2.0) * F32;
        let epoch = self.run.epoch_length as f64;
        let every = m.train_every.max(1) as f64;
        let per_epoch = match ro.cadence {
            RolloutCadence::PerFit => ro.per_step as f64 * every * (epoch / every).ceil(),
            RolloutCadence::PerStep => ro.per_step as f64 * epoch,
        };
        // RolloutSettings::max_capacity's formula, in f64 so that absurd values cannot overflow.
        let longest = ro.length.2.max(ro.length.3).round().max(1.0);
        let batch = match ro.cadence {
            RolloutCadence::PerFit => ro.per_step as f64 * every,
            RolloutCadence::PerStep => ro.per_step as f64,
        };
        let logvars = match (m.probabilistic, m.reward_fit) {
            (false, _) => 0.0,
            (true, RewardFit::Likelihood) => obs + 1.0,
            (true, RewardFit::Mse) => obs,
        };
        let model_out = obs + 1.0 + logvars;
        let members = m.members as f64;
        let model = members * mlp_params(obs_dim + act_dim, &m.hidden, model_out as usize);
        let actor = mlp_params(obs_dim, &a.hidden, 2 * act_dim);
        let critic = mlp_params(obs_dim + act_dim, &a.hidden, 1);
        MemoryEstimate {
            env_buffer: self.run.env_steps as f64 * row,
            model_buffer: longest * per_epoch * ro.retain_epochs.max(1) as f64 * row,
            rollouts: members * batch * (obs + act + model_out) * F32,
            // Trained nets: weights, gradients, two Adam moments; target critics: weights.
            networks: ((model + actor + 2.0 * critic) * 4.0 + 2.0 * critic) * F32,
        }
    }
}

/// Memory this machine can give now (Linux: `MemAvailable`), or `None` where unknown.
pub fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Refuses a run whose seeds (`at_once` of them side by side) cannot fit in this machine's
/// available memory, before anything is allocated or written.
pub fn check_memory(config: &RunConfig, registry: &crate::engine::env::EnvRegistry, at_once: usize) -> anyhow::Result<()> {
    let spec = registry.get(&config.env.name)?.spec().clone();
    let need = config.memory_estimate(spec.obs_dim + config.env.distractors, spec.action_space.dim());
    let Some(free) = available_memory() else { return Ok(()) };
    let total = need.total() * at_once as f64;
    if total > free {
        bail!(
            "this run needs at least {} per seed ({}), {} for {at_once} seed(s) at once, but this machine has {} available; \
             lower the sizes (run.env_steps, rollout.per_step, rollout.length, model.members, model.hidden), or --threads",
            gib(need.total()),
            need.parts(),
            gib(total),
            gib(free)
        );
    }
    Ok(())
}
