//! Spawning env instances: building their bodies in a physics block, drawing their random
//! streams and distractor parameters, and putting them at their first initial state.

use std::sync::Arc;

use bevy_ecs::prelude::*;
use vagram_engine::Result;
use vagram_engine::env::model::EnvInstance;
use vagram_engine::env::{Distractors, EnvModel, SpawnOptions};
use vagram_engine::physics::BlockSlot;
use vagram_engine::prelude::*;

use crate::EnvPlugin;
use crate::episodes::reset_instance;

/// Spawns one instance of `model` as an entity (adding `EnvPlugin<E>` on first use) and
/// returns it, ready for its first step.
///
/// # Example
/// ```ignore
/// let entity = spawn_env(&mut app, Arc::new(Pendulum::default()), &SpawnOptions::new(0))?;
/// ```
pub fn spawn_env<E: EnvModel>(app: &mut SimApp, model: Arc<E>, options: &SpawnOptions) -> Result<Entity> {
    app.add_plugin(EnvPlugin::<E>::default());
    let spec = model.spec();
    if !(options.reset_noise.is_finite() && options.reset_noise >= 0.0) {
        return Err(EngineError::InvalidValue {
            what: "reset noise".into(),
            value: options.reset_noise.to_string(),
            reason: "must be a finite number >= 0".into(),
        });
    }
    let nominal = match &options.init_state {
        Some(s) => {
            let flat: Vec<f64> = s.q.iter().chain(&s.qd).copied().collect();
            spec.parse_init_state(&flat)?
        }
        None => spec.reset.default.clone(),
    };
    let extra = options.distractors.map_or(0, |d| d.dims);
    let seed = app.seed();
    let mut rngs = EnvRngs::new(seed, options.env_id);

    let mut blocks = app.world.resource_mut::<PhysicsBlocks>();
    let block = blocks.block_for(std::any::type_name::<E>(), &spec.physics, options.block_key);
    let slot = blocks.blocks[block].members.len();
    let world = &mut blocks.blocks[block].world;
    let bodies = crate::physics::build_in_slot(model.as_ref(), world, slot);
    let inst = EnvInstance { model: model.clone(), bodies };

    let config = ResetConfig { nominal, noise: options.reset_noise };
    let n = spec.nq();
    let mut state = PhysState { prev: GeneralizedState::zeros(n), current: GeneralizedState::zeros(n) };
    let mut obs = Observation(vec![0.0; spec.obs_dim + extra]);
    reset_instance(&inst, world, &config, &mut rngs, &mut state, &mut obs);
    let distractors = options.distractors.map(|cfg| {
        let d = Distractors::new(cfg, spec.obs_dim, &mut rngs.distractors);
        d.write(&mut obs.0);
        d
    });

    let mut entity = app.world.spawn((
        inst,
        EnvId(options.env_id),
        EnvKind(spec.name),
        BlockSlot { block, slot },
        (config, rngs, state, obs),
        (Action(vec![0.0; spec.action_dim()]), options.action_source.clone()),
        (Reward::default(), Done::default(), Episode::default()),
    ));
    if let Some(d) = distractors {
        entity.insert(d);
    }
    let limit = options.max_episode_steps.unwrap_or(spec.max_episode_steps);
    if limit > 0 {
        entity.insert(TimeLimit(limit));
    }
    if options.auto_reset {
        entity.insert(AutoReset);
    }
    let id = entity.id();
    app.world.resource_mut::<PhysicsBlocks>().blocks[block].members.push(id);
    Ok(id)
}
