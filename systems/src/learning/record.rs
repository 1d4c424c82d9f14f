//! `Record`: real transitions of policy-controlled envs go into the env buffer, with the
//! observation the step ended in (before any auto-reset) as the next observation, and only
//! `terminated` (not `truncated`) marking a transition as final.

use bevy_ecs::prelude::*;
use vagram_engine::prelude::*;

use super::EnvBuffer;
use super::act::PolicyControlled;
use super::transition::{ObservationBeforeAct, UnitAction};

/// Stores each policy-controlled env's transition of this step (actions in the agent's unit box).
/// Transitions whose physics went non-finite are dropped: they are not data about the env.
pub fn record_real_transitions(
    mut buffer: ResMut<EnvBuffer>,
    envs: Query<(&ObservationBeforeAct, &UnitAction, &FinalObservation, &Reward, &Done), With<PolicyControlled>>,
) {
    for (before, unit, next, reward, done) in &envs {
        if matches!(done.reason, Some(EndReason::NonFinitePhysics { .. })) {
            continue;
        }
        buffer.0.push(&before.0, &unit.0, reward.0, &next.0, done.terminated);
    }
}
