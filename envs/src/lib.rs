//! vagram's built-in environments, each written with the same public authoring API
//! ([`vagram_engine::EnvModel`]) a user's env would use.
#![warn(missing_docs)]

pub mod cartpole;
pub mod hopper;
pub mod pendulum;

pub use cartpole::Cartpole;
pub use hopper::Hopper;
pub use pendulum::Pendulum;

use vagram_engine::env::EnvRegistry;
use vagram_systems::ModelFactory;

/// A registry holding every built-in env under its name.
pub fn builtin_registry() -> EnvRegistry {
    let mut registry = EnvRegistry::new();
    registry.register(ModelFactory::new(Pendulum::default()));
    registry.register(ModelFactory::new(Cartpole::default()));
    registry.register(ModelFactory::new(Hopper::default()));
    registry
}
