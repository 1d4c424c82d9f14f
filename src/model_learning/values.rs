//! The sequence of value functions: model-free SAC on the pendulum, its agent saved after every
//! epoch. Only the critics (and the actor's action at which they are read) are used.

use crate::engine::env::EnvRegistry;
use crate::learn::AutoDevice;
use crate::learn::sac::Sac;
use crate::learn::snapshot::{Snapshot, TensorStore};
use crate::model_free::{SacRun, train_sac};

use super::ModelLearningConfig;

/// Trains SAC on `env` for `config.value_functions` epochs and returns the agent after each.
pub fn value_sequence(registry: &EnvRegistry, env: &str, config: &ModelLearningConfig, seed: u64) -> anyhow::Result<Vec<Sac<AutoDevice>>> {
    let steps = config.value_functions * config.epoch_length;
    let mut run = SacRun::new(env, steps, seed);
    run.random_steps = config.sac_random_steps;
    let spec = registry.get(env)?.spec().clone();
    let mut stores = Vec::new();
    train_sac(registry, &run, &mut |t, _, _, sac| {
        if t % config.epoch_length == 0 {
            let mut store = TensorStore::new();
            sac.save("sac", &mut store);
            stores.push(store);
        }
    })?;
    stores
        .iter()
        .map(|store| {
            let dev = AutoDevice::seed_from_u64(seed);
            let mut sac = Sac::new(&dev, spec.obs_dim, spec.action_dim(), run.sac.clone());
            sac.load("sac", store)?;
            Ok(sac)
        })
        .collect()
}
