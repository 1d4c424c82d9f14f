//! `Act` and `ApplyActions`: choosing actions from each env's [`ActionSource`], then
//! validating, clipping (as gym does) and applying them to the physics.

use bevy_ecs::prelude::*;
use vagram_engine::env::EnvModel;
use vagram_engine::env::model::EnvInstance;
use vagram_engine::physics::BlockSlot;
use vagram_engine::prelude::*;

/// Fills [`Action`] from the env's [`ActionSource`] (random draws come from its action stream).
pub fn choose_actions<E: EnvModel>(
    step: Res<StepCount>,
    mut errors: ResMut<SimErrors>,
    mut envs: Query<(&EnvInstance<E>, &EnvId, &ActionSource, &mut Action, &mut EnvRngs)>,
) {
    for (inst, id, source, mut action, mut rngs) in &mut envs {
        let space = &inst.model.spec().action_space;
        if !matches!(source, ActionSource::External) {
            action.0.resize(space.dim(), 0.0);
        }
        match source {
            ActionSource::Zero => action.0.fill(0.0),
            ActionSource::Random => space.sample(&mut rngs.actions, &mut action.0),
            ActionSource::Table(table) => match table.rows.get(step.0 as usize) {
                Some(row) => action.0.clone_from(row),
                None => errors.0.push(EngineError::Csv {
                    path: table.path.clone(),
                    line: 0,
                    message: format!("has {} action rows, env {} needs a row for step {}", table.len(), id.0, step.0 + 1),
                }),
            },
            ActionSource::External => {}
        }
    }
}

/// Checks the action's dimension and finiteness (errors name the env and step), clips it into
/// the action box, and hands it to the env model.
pub fn apply_actions<E: EnvModel>(
    step: Res<StepCount>,
    mut errors: ResMut<SimErrors>,
    mut blocks: ResMut<PhysicsBlocks>,
    mut envs: Query<(&EnvInstance<E>, &EnvId, &BlockSlot, &mut Action)>,
) {
    for (inst, id, slot, mut action) in &mut envs {
        let spec = inst.model.spec();
        let expected = spec.action_dim();
        if action.0.len() != expected {
            errors.0.push(EngineError::ActionDim { env: id.0, kind: spec.name.into(), step: step.0, expected, got: action.0.len() });
            continue;
        }
        if let Some((index, value)) = action.0.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            errors.0.push(EngineError::NonFiniteAction { env: id.0, kind: spec.name.into(), step: step.0, index, value: *value });
            continue;
        }
        spec.action_space.clip(&mut action.0);
        inst.model.apply_action(&inst.bodies, &mut blocks.blocks[slot.block].world, &action.0);
    }
}
