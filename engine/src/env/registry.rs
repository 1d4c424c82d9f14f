//! The env registry: names to factories, so the CLI and the batch runner can spawn any env kind
//! (built-in or user-registered) by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use bevy_ecs::entity::Entity;

use super::model::SpawnOptions;
use super::spec::EnvSpec;
use crate::app::SimApp;
use crate::error::{EngineError, Result};

/// Spawns instances of one env kind into an app (type-erased over the [`EnvModel`](super::EnvModel)).
pub trait EnvFactory: Send + Sync {
    /// The kind's spec.
    fn spec(&self) -> &EnvSpec;
    /// Spawns one instance; also adds the kind's systems to the app the first time.
    fn spawn(&self, app: &mut SimApp, options: &SpawnOptions) -> Result<Entity>;
    /// The kind's pure termination function on its own observation dimensions (for model
    /// rollouts, which never touch the simulator).
    fn termination_fn(&self) -> TerminationFn;
    /// Puts the physics of the spawned env `entity` into `state` (used to resume from a
    /// checkpoint); the entity's `PhysState` is the caller's to set.
    fn restore_state(&self, app: &mut SimApp, entity: Entity, state: &super::GeneralizedState) -> Result<()>;
    /// For kinds whose physics keeps solver state between steps (contact warm starts, joint-limit
    /// impulses: [`EnvModel::REBUILD_ON_RESET`](super::EnvModel::REBUILD_ON_RESET)), rebuilds
    /// the whole physics block holding `entity` from scratch, every member at its `PhysState`.
    /// Training does this at every epoch's end and after loading a checkpoint, so a run resumed
    /// from a checkpoint steps exactly like the run that wrote it. Other kinds are left alone.
    fn rebuild_physics(&self, app: &mut SimApp, entity: Entity) -> Result<()>;
}

/// A pure, shareable termination function on an env's own observation dimensions.
pub type TerminationFn = Arc<dyn Fn(&[f32]) -> bool + Send + Sync>;

/// Env kinds by name.
#[derive(Clone, Default)]
pub struct EnvRegistry {
    factories: BTreeMap<&'static str, Arc<dyn EnvFactory>>,
}

impl EnvRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a kind under its spec's name (replacing any previous one).
    pub fn register(&mut self, factory: Arc<dyn EnvFactory>) -> &mut Self {
        self.factories.insert(factory.spec().name, factory);
        self
    }

    /// The factory for `name`, or an error listing the known names.
    pub fn get(&self, name: &str) -> Result<&Arc<dyn EnvFactory>> {
        self.factories.get(name).ok_or_else(|| EngineError::UnknownEnv { name: name.to_string(), known: self.names().join(", ") })
    }

    /// Registered names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        self.factories.keys().copied().collect()
    }
}
