//! vagram's foundation library.
//!
//! It holds what every other crate builds on and nothing that runs as an ECS system:
//! - [`app`]: the [`SimApp`] (a `bevy_ecs` World plus one Schedule) and the fixed order of its
//!   system sets, [`SimSet`];
//! - [`plugin`]: the [`Plugin`] trait features use to add resources and systems;
//! - [`env`]: the environment authoring API ([`EnvModel`], [`EnvSpec`], components, the
//!   registry, distracting dimensions, action sources);
//! - [`physics`]: the Rapier worlds environments live in, grouped in blocks;
//! - [`rng`]: seeding, with one independent ChaCha stream per env and purpose;
//! - [`batch`]: the crossbeam runner that steps many envs on many threads.
//!
//! The learning core (ensembles, losses, SAC, replay, checkpoint snapshots) is its own crate,
//! `vagram-learn`, which knows nothing of the ECS or physics.
#![warn(missing_docs)]

pub mod app;
pub mod batch;
pub mod env;
pub mod error;
pub mod physics;
pub mod plugin;
pub mod rng;

pub use app::{SimApp, SimSet, StepCount};
pub use env::{EnvModel, EnvSpec, GeneralizedState};
pub use error::{EngineError, Result};
pub use plugin::Plugin;

/// Re-exports of the Rapier types the authoring API hands to environment code.
pub use rapier3d;

/// The physics scalar: f64, like gym's numpy and MuJoCo, so trajectories track analytic references
/// through chaotic passes (an f32 simulator drifts ~1e-3 from gym's pendulum within 200 steps).
pub type Real = f64;

/// The names most users of the engine need, in one import.
pub mod prelude {
    pub use crate::app::{SimApp, SimSet, StepCount};
    pub use crate::batch::{BatchConfig, BatchReport, EnvGroup, StepBatch, run_batch};
    pub use crate::env::components::*;
    pub use crate::env::{
        ActionSource, BoxSpace, DistractorConfig, DistractorVariant, EnvModel, EnvRegistry, EnvSpec, GeneralizedState, SpawnOptions,
    };
    pub use crate::error::EngineError;
    pub use crate::physics::{PhysicsBlocks, PhysicsSettings};
    pub use crate::plugin::Plugin;
    pub use crate::rng::{EnvRngs, StreamPurpose};
}
