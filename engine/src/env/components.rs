//! The components an env entity carries and the resources the step systems report into.
//!
//! An env entity = [`EnvId`] + [`EnvKind`] + `EnvInstance<E>` (the model and its Rapier handles)
//! + [`BlockSlot`](crate::physics::BlockSlot) + the per-step data below + [`EnvRngs`](crate::rng::EnvRngs).

use bevy_ecs::prelude::*;

use super::spec::GeneralizedState;
use crate::error::EngineError;

/// Global index of an env instance (stable across thread counts; selects its random streams).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvId(pub u64);

/// Registry name of the instance's env kind.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvKind(pub &'static str);

/// The current observation: the env's own dimensions, then any extra (distractor) dimensions.
#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct Observation(pub Vec<f32>);

/// The action for the coming step. After `ApplyActions` it holds the clipped, applied action.
#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct Action(pub Vec<f32>);

/// Opt-in: the observation the last step ended in, before any auto-reset replaced it (what a
/// learner needs as the next observation of a terminal or truncated transition). Filled in the
/// `Record` set.
#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct FinalObservation(pub Vec<f32>);

/// Generalized state before and after the last physics step.
#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct PhysState {
    /// State at the start of the last step.
    pub prev: GeneralizedState,
    /// State now.
    pub current: GeneralizedState,
}

/// How this instance resets: around `nominal`, with the reset distribution scaled by `noise`.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct ResetConfig {
    /// Nominal initial state (the spec's default or the user's).
    pub nominal: GeneralizedState,
    /// Factor on the reset noise.
    pub noise: crate::Real,
}

/// Reward of the last step.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq)]
pub struct Reward(pub f32);

/// Why an episode ended.
#[derive(Debug, Clone, PartialEq)]
pub enum EndReason {
    /// The env's termination condition held (e.g. the pole fell).
    Terminated,
    /// The episode reached its step limit.
    TimeLimit,
    /// The physics state became NaN or infinite; the episode was ended and the env reset.
    NonFinitePhysics {
        /// What was not finite, e.g. `q[1] = NaN`.
        what: String,
    },
}

/// Terminal flags of the last step (gym's `terminated` / `truncated`), with the reason.
#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct Done {
    /// The episode ended in a terminal state.
    pub terminated: bool,
    /// The episode was cut off (time limit).
    pub truncated: bool,
    /// Why, when either flag is set.
    pub reason: Option<EndReason>,
}

impl Done {
    /// Whether the episode is over.
    pub fn is_done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// Running statistics of the current episode.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq)]
pub struct Episode {
    /// Sum of rewards so far (f64, so long episodes do not lose precision).
    pub ret: f64,
    /// Steps so far.
    pub length: u32,
    /// Index of this episode for this env (0 for the first).
    pub index: u64,
}

/// Truncate episodes after this many steps (gym's `TimeLimit` wrapper).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimit(pub u32);

/// Marker: restart the episode as soon as it ends (gym's auto-reset).
#[derive(Component, Debug, Clone, Copy, Default)]
pub struct AutoReset;

/// A finished episode.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRecord {
    /// Global env index.
    pub env: u64,
    /// Env kind.
    pub kind: &'static str,
    /// Which episode of that env.
    pub index: u64,
    /// Undiscounted return.
    pub ret: f64,
    /// Steps.
    pub length: u32,
    /// Why it ended.
    pub reason: EndReason,
}

/// Finished episodes, appended in the `Log` set.
#[derive(Resource, Debug, Default, Clone)]
pub struct EpisodeLog(pub Vec<EpisodeRecord>);

/// Errors systems raised during a step; [`SimApp::step`](crate::SimApp::step) returns the first.
#[derive(Resource, Debug, Default)]
pub struct SimErrors(pub Vec<EngineError>);
