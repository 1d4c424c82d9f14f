//! vagram: Value-Gradient weighted Model-Based RL (VaGraM, ICLR 2022) as an ECS simulation
//! engine. This facade re-exports the workspace crates:
//! - [`engine`]: the app, schedule, authoring API, seeding, batch runner;
//! - [`learn`]: the learning core (ensembles, losses, dynamics model, SAC, snapshots);
//! - [`systems`]: the ECS systems that step envs;
//! - [`envs`]: the built-in environments;
//! - [`train`]: MBPO training runs (seeds, logs, checkpoints); [`model_free`]: plain SAC;
//! - [`plot`]: figures (learning curves, loss landscapes);
//! - [`study`]: the paper's experiments as studies (grids of runs, summaries, figures);
//! - `view` (feature `viewer`): the bridge from training and run directories to the viewer.
#![warn(missing_docs)]

pub use vagram_engine as engine;
pub use vagram_envs as envs;
pub use vagram_learn as learn;
pub use vagram_systems as systems;

pub mod allocator;
pub mod model_free;
pub mod model_learning;
pub mod plot;
pub mod study;
pub mod train;
#[cfg(feature = "viewer")]
pub mod view;

/// Everything needed to author, spawn and step environments, in one import.
pub mod prelude {
    pub use vagram_engine::prelude::*;
    pub use vagram_envs::{Cartpole, Pendulum, builtin_registry};
    pub use vagram_systems::prelude::*;
}
