//! `Learn` / agent updates: G SAC updates per env step on batches that mix real and model data,
//! from the first model rollout on (the authors' loop waits for the model buffer to fill), the
//! model share following the configured schedule over learning epochs (read at epoch + 1; the
//! paper: 0 → 95% over the first 40 epochs). `per-batch` draws each whole batch from one buffer with the share as
//! probability (the authors' code); `per-sample` draws every sample that way.

use crate::learning::Schedule;
use bevy_ecs::prelude::*;
use rand::RngExt;
use vagram_engine::prelude::*;
use vagram_learn::LearnError;
use vagram_learn::replay::{Batch, ReplayBuffer};
use vagram_learn::sac::SacStats;

use super::{AgentResource, EnvBuffer, EpochStats, LearningPhase, ModelBuffer};

/// How real and model data are mixed (`mixing.mode`: `per-batch`, `per-sample`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mixing {
    /// The whole batch from one buffer.
    PerBatch,
    /// Each sample from one buffer.
    PerSample,
}

vagram_learn::choice_names!(Mixing, ["per-batch", "per-sample"]);

/// Agent-update settings.
#[derive(Resource)]
pub struct AgentUpdateSettings {
    /// SAC updates per env step.
    pub updates_per_step: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Model-data share over epochs.
    pub model_share: Schedule,
    /// How to mix.
    pub mixing: Mixing,
    /// Stream of the mixing draws and minibatches.
    pub rng: rand_chacha::ChaCha8Rng,
    /// The last update's statistics.
    pub last: Option<SacStats>,
}

/// A batch of `size` transitions, each from the model buffer with probability `share` (per
/// sample, or once for the whole batch). An empty model buffer gives a real batch.
pub fn mixed_batch(real: &ReplayBuffer, model: &ReplayBuffer, share: f64, mixing: Mixing, size: usize, rng: &mut impl rand::Rng) -> Batch {
    if model.is_empty() || share <= 0.0 {
        return real.sample(size, rng);
    }
    match mixing {
        Mixing::PerBatch => {
            if rng.random_bool(share.min(1.0)) {
                model.sample(size, rng)
            } else {
                real.sample(size, rng)
            }
        }
        Mixing::PerSample => {
            let from_model = (0..size).filter(|_| rng.random_bool(share.min(1.0))).count();
            let mut batch = real.sample(size - from_model, rng);
            let m = model.sample(from_model, rng);
            batch.obs.extend(m.obs);
            batch.actions.extend(m.actions);
            batch.rewards.extend(m.rewards);
            batch.next_obs.extend(m.next_obs);
            batch.terminated.extend(m.terminated);
            batch
        }
    }
}

/// Runs the step's SAC updates once learning has started and the model has been rolled out.
// A bevy system: each argument is one resource it reads or writes.
#[allow(clippy::too_many_arguments)]
pub fn update_agent(
    step: Res<StepCount>,
    phase: Res<LearningPhase>,
    env_buffer: Res<EnvBuffer>,
    model_buffer: Res<ModelBuffer>,
    mut agent: NonSendMut<AgentResource>,
    mut settings: ResMut<AgentUpdateSettings>,
    mut epoch: ResMut<EpochStats>,
    mut errors: ResMut<SimErrors>,
) {
    if phase.epoch(step.0).is_none() || env_buffer.0.is_empty() || model_buffer.0.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let settings = &mut *settings;
    let share = settings.model_share.at(phase.schedule_x(step.0));
    for _ in 0..settings.updates_per_step {
        let batch = mixed_batch(&env_buffer.0, &model_buffer.0, share, settings.mixing, settings.batch_size, &mut settings.rng);
        let stats = agent.sac.update(&batch);
        if !(stats.critic_loss.is_finite() && stats.actor_loss.is_finite()) {
            let source = Box::new(LearnError::NonFiniteSacLoss { critic: stats.critic_loss, actor: stats.actor_loss });
            errors.0.push(EngineError::Learning { stage: "agent update", step: step.0 + 1, source });
            break;
        }
        epoch.add_update(&stats);
        settings.last = Some(stats);
    }
    epoch.seconds.sac += started.elapsed().as_secs_f64();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn buffers() -> (ReplayBuffer, ReplayBuffer) {
        let (mut real, mut model) = (ReplayBuffer::new(100, 1, 1), ReplayBuffer::new(100, 1, 1));
        for i in 0..100 {
            real.push(&[i as f32], &[0.0], 0.0, &[0.0], false);
            model.push(&[i as f32], &[0.0], 1.0, &[0.0], false);
        }
        (real, model)
    }

    #[test]
    fn per_sample_mixing_follows_the_share() {
        let (real, model) = buffers();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        for share in [0.0, 0.3, 0.95] {
            let mut from_model = 0.0;
            for _ in 0..200 {
                let b = mixed_batch(&real, &model, share, Mixing::PerSample, 64, &mut rng);
                assert_eq!((b.obs.len(), b.rewards.len(), b.terminated.len()), (64, 64, 64));
                from_model += b.rewards.iter().sum::<f32>() as f64;
            }
            let measured = from_model / (200.0 * 64.0);
            assert!((measured - share).abs() < 0.02, "share {share}: measured {measured}");
        }
    }

    #[test]
    fn per_batch_mixing_draws_whole_batches() {
        let (real, model) = buffers();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut model_batches = 0;
        for _ in 0..1000 {
            let b = mixed_batch(&real, &model, 0.3, Mixing::PerBatch, 32, &mut rng);
            let s: f32 = b.rewards.iter().sum();
            assert!(s == 0.0 || s == 32.0, "a batch comes from one buffer");
            model_batches += (s == 32.0) as usize;
        }
        assert!((250..350).contains(&model_batches), "{model_batches} model batches of 1000");
        let empty = ReplayBuffer::new(10, 1, 1);
        assert!(
            mixed_batch(&real, &empty, 1.0, Mixing::PerBatch, 8, &mut rng).rewards.iter().all(|r| *r == 0.0),
            "no model data yet: real batch"
        );
    }
}
