//! What `Act` leaves on each policy-controlled env for `Record`: the observation the action was
//! chosen from and the action in the agent's unit box. As components of the env (rather than
//! a list in the agent resource) they let acting and recording stay ignorant of each other.

use bevy_ecs::prelude::*;

/// The observation an env's action was chosen from (set in `Act`).
#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct ObservationBeforeAct(pub Vec<f32>);

/// The action the agent chose for this env in this step, in its unit box [−1, 1] (set in `Act`;
/// the env's [`Action`](vagram_engine::env::components::Action) holds it scaled to the env's box).
#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct UnitAction(pub Vec<f32>);
