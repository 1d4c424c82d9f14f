//! `PhysicsStep`: advances the Rapier worlds of one env kind by their substeps, runs the kind's
//! substep hook, and turns Rapier's non-finite quarantine into an episode end.

use bevy_ecs::prelude::*;
use rapier3d::prelude::*;
use vagram_engine::env::EnvModel;
use vagram_engine::env::model::EnvInstance;
use vagram_engine::physics::PhysicsBlock;
use vagram_engine::prelude::*;

/// Rigid bodies carry `slot + 1` in their user data, so quarantine reports map to instances.
pub fn tag_bodies(world: &mut PhysicsWorld, slot: usize) {
    for (_, body) in world.bodies.iter_mut() {
        if body.user_data == 0 {
            body.user_data = slot as u128 + 1;
        }
    }
}

/// Builds an instance of `model` in `slot` of a block's `world` (the slot's origin and collision
/// groups) and tags its bodies with the slot: how spawning, resets and rebuilds place instances.
pub fn build_in_slot<E: EnvModel>(model: &E, world: &mut PhysicsWorld, slot: usize) -> E::Bodies {
    let bodies = model.build(world, PhysicsBlock::slot_origin(slot), PhysicsBlock::slot_groups(slot));
    tag_bodies(world, slot);
    bodies
}

/// Steps every physics block holding instances of `E`.
pub fn step_physics<E: EnvModel>(
    mut blocks: ResMut<PhysicsBlocks>,
    mut envs: Query<(&EnvInstance<E>, &mut Done)>,
    mut before: Local<Vec<GeneralizedState>>,
) {
    let kind = std::any::type_name::<E>();
    for block in blocks.blocks.iter_mut().filter(|b| b.kind == kind) {
        for _ in 0..block.settings.substeps {
            if E::HAS_SUBSTEP_HOOK {
                before.resize_with(block.members.len(), GeneralizedState::default);
                for (i, entity) in block.members.iter().enumerate() {
                    if let Ok((inst, _)) = envs.get(*entity) {
                        let n = inst.model.spec().nq();
                        before[i].q.resize(n, 0.0);
                        before[i].qd.resize(n, 0.0);
                        inst.model.read_state(&inst.bodies, &block.world, &mut before[i]);
                    }
                }
            }
            block.world.step();
            if E::HAS_SUBSTEP_HOOK {
                for (i, entity) in block.members.iter().enumerate() {
                    if let Ok((inst, _)) = envs.get(*entity) {
                        inst.model.after_substep(&inst.bodies, &mut block.world, &before[i]);
                    }
                }
            }
            let quarantined: Vec<RigidBodyHandle> = block.world.quarantine().bodies().to_vec();
            for handle in quarantined {
                let Some(body) = block.world.bodies.get(handle) else { continue };
                let slot = (body.user_data as usize).wrapping_sub(1);
                if let Some(entity) = block.members.get(slot)
                    && let Ok((_, mut done)) = envs.get_mut(*entity)
                {
                    done.terminated = true;
                    done.reason =
                        Some(EndReason::NonFinitePhysics { what: "a rigid body's pose or velocity (quarantined by Rapier)".into() });
                }
            }
        }
    }
}
