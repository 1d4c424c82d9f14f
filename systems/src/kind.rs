//! [`EnvPlugin<E>`]: adds the generic systems that drive env kind `E` to an app, and
//! [`ModelFactory<E>`], which makes `E` spawnable by name through the registry.

use std::marker::PhantomData;
use std::sync::Arc;

use bevy_ecs::prelude::*;
use vagram_engine::env::model::EnvInstance;
use vagram_engine::env::{EnvFactory, EnvModel, EnvSpec, SpawnOptions};
use vagram_engine::physics::{BlockSlot, PhysicsBlock};
use vagram_engine::prelude::*;

use crate::{KindStage, actions, physics};

/// The systems of env kind `E`, one per step phase: choose and apply actions, step its physics
/// blocks, observe, evaluate, reset. Added automatically by [`spawn_env`](crate::spawn_env).
pub struct EnvPlugin<E: EnvModel>(PhantomData<fn() -> E>);

impl<E: EnvModel> Default for EnvPlugin<E> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<E: EnvModel> Plugin for EnvPlugin<E> {
    fn build(&self, app: &mut SimApp) {
        app.add_plugin(crate::CorePlugin);
        app.add_systems((
            actions::choose_actions::<E>.in_set(KindStage(SimSet::Act)),
            actions::apply_actions::<E>.in_set(KindStage(SimSet::ApplyActions)),
            physics::step_physics::<E>.in_set(KindStage(SimSet::PhysicsStep)),
            crate::episodes::observe::<E>.in_set(KindStage(SimSet::Observe)),
            crate::episodes::evaluate::<E>.in_set(KindStage(SimSet::Evaluate)),
            crate::episodes::reset_envs::<E>.in_set(KindStage(SimSet::Reset)),
        ));
    }
}

/// Registry entry for env kind `E`: spawns instances sharing one model.
pub struct ModelFactory<E: EnvModel> {
    model: Arc<E>,
}

impl<E: EnvModel> ModelFactory<E> {
    /// A factory spawning instances of `model`.
    pub fn new(model: E) -> Arc<Self> {
        Arc::new(Self { model: Arc::new(model) })
    }
}

impl<E: EnvModel> EnvFactory for ModelFactory<E> {
    fn spec(&self) -> &EnvSpec {
        self.model.spec()
    }

    fn spawn(&self, app: &mut SimApp, options: &SpawnOptions) -> vagram_engine::Result<Entity> {
        crate::spawn_env(app, self.model.clone(), options)
    }

    fn termination_fn(&self) -> vagram_engine::env::TerminationFn {
        let model = self.model.clone();
        Arc::new(move |obs: &[f32]| model.is_terminal_in_rollout(obs))
    }

    fn restore_state(&self, app: &mut SimApp, entity: Entity, state: &GeneralizedState) -> vagram_engine::Result<()> {
        let not_env = || EngineError::InvalidValue {
            what: "restored env entity".into(),
            value: format!("{entity:?}"),
            reason: format!("is not a spawned '{}' env", self.model.spec().name),
        };
        let slot = *app.world.get::<BlockSlot>(entity).ok_or_else(not_env)?;
        app.world.get::<EnvInstance<E>>(entity).ok_or_else(not_env)?;
        app.world.resource_scope(|world, mut blocks: Mut<PhysicsBlocks>| {
            let inst = world.get::<EnvInstance<E>>(entity).expect("checked above");
            self.model.write_state(&inst.bodies, &mut blocks.blocks[slot.block].world, state);
        });
        Ok(())
    }

    fn rebuild_physics(&self, app: &mut SimApp, entity: Entity) -> vagram_engine::Result<()> {
        if !E::REBUILD_ON_RESET {
            return Ok(());
        }
        let slot = *app.world.get::<BlockSlot>(entity).ok_or_else(|| EngineError::InvalidValue {
            what: "env entity to rebuild".into(),
            value: format!("{entity:?}"),
            reason: format!("is not a spawned '{}' env", self.model.spec().name),
        })?;
        app.world.resource_scope(|world, mut blocks: Mut<PhysicsBlocks>| {
            let block = &mut blocks.blocks[slot.block];
            block.world = PhysicsBlock::new(block.kind, block.settings.clone(), block.key).world;
            for (index, member) in block.members.iter().enumerate() {
                let state = world.get::<PhysState>(*member).expect("a spawned env has a PhysState").current.clone();
                let mut inst = world.get_mut::<EnvInstance<E>>(*member).expect("a block holds one env kind");
                inst.bodies = physics::build_in_slot(inst.model.as_ref(), &mut block.world, index);
                inst.model.write_state(&inst.bodies, &mut block.world, &state);
            }
        });
        Ok(())
    }
}
