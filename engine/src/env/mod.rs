//! The environment authoring API: what an environment is made of and how it is described.
//!
//! An environment kind implements [`EnvModel`]: it builds its bodies and joints in a Rapier
//! world, reads and writes its generalized coordinates, applies actions, and gives pure
//! functions for observation, reward and termination. The generic ECS systems in
//! `vagram-systems` do everything else (validation, clipping, stepping, episodes, resets,
//! distractors, recording), identically for built-in and user-written envs.

pub mod actions;
pub mod components;
pub mod distractors;
pub mod joints;
pub mod model;
pub mod registry;
pub mod spec;

pub use actions::{ActionSource, ActionTable};
pub use distractors::{DistractorConfig, DistractorParams, DistractorVariant, Distractors};
pub use model::{EnvModel, SpawnOptions};
pub use registry::{EnvFactory, EnvRegistry, TerminationFn};
pub use spec::{BoxSpace, EnvSpec, GeneralizedState, ResetDistribution};
