//! When learning starts and how its epochs count, as in the authors' MBPO loop: nothing is
//! learned during the initial exploration steps, the first learning step is step 0 of learning
//! epoch 0, and every schedule (rollout length, model-data share) is read at `epoch + 1`.

use bevy_ecs::prelude::*;

/// The learning phase's start and epoch length, shared by the learning stages.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearningPhase {
    /// Env steps of exploration before learning starts (`run.initial_random_steps`).
    pub starts_at: u64,
    /// Env steps per epoch.
    pub epoch_length: u64,
}

impl LearningPhase {
    /// Learning steps completed once env step `step` (0-based) completes, or `None` while it is
    /// an exploration step.
    pub fn steps_done(&self, step: u64) -> Option<u64> {
        (step >= self.starts_at).then(|| step + 1 - self.starts_at)
    }

    /// The learning epoch env step `step` belongs to (0 is the first), `None` during exploration.
    pub fn epoch(&self, step: u64) -> Option<u64> {
        (step >= self.starts_at).then(|| (step - self.starts_at) / self.epoch_length.max(1))
    }

    /// Where the schedules are read during env step `step`: the learning epoch plus one
    /// (MBRL-Lib's `truncated_linear(..., epoch + 1)`), 0 during exploration.
    pub fn schedule_x(&self, step: u64) -> f64 {
        self.epoch(step).map_or(0.0, |e| (e + 1) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_count_from_the_end_of_exploration() {
        let p = LearningPhase { starts_at: 10_000, epoch_length: 1000 };
        assert_eq!((p.steps_done(9_999), p.epoch(9_999), p.schedule_x(9_999)), (None, None, 0.0));
        assert_eq!((p.steps_done(10_000), p.epoch(10_000), p.schedule_x(10_000)), (Some(1), Some(0), 1.0));
        assert_eq!((p.epoch(10_999), p.epoch(11_000)), (Some(0), Some(1)));
        assert_eq!(p.steps_done(10_249), Some(250), "the hopper's first fit comes 250 steps into learning");
        // Hopper's length ramp [20, 150, 1, 5] rises from learning epoch 19 on, not epoch 9.
        let ramp = crate::learning::Schedule(20.0, 150.0, 1.0, 5.0);
        assert_eq!(ramp.at(p.schedule_x(10_000 + 19 * 1000 - 1)), 1.0);
        assert!(ramp.at(p.schedule_x(10_000 + 20 * 1000)) > 1.0);
        assert_eq!(ramp.at(p.schedule_x(29_999)), 1.0, "counting the exploration steps, this step would read 29 (length 1.6)");
    }
}
