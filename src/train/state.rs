//! Everything that evolves during a seed's run, as named tensors: the step count, the training
//! env (physics state, observation, episode counters, random streams, distractor state), the
//! agent, both buffers, the dynamics model with its latest fit, and the random streams of model
//! training, rollouts and agent updates. Restoring it into a freshly built [`SeedApp`] of the same
//! config continues the run exactly where it stopped. For envs with contacts that includes the
//! solver's state: the run rebuilds their physics from the generalized state at every epoch's end
//! ([`EnvFactory::rebuild_physics`](crate::engine::env::EnvFactory::rebuild_physics)), and so
//! does a resume.
//!
//! Nothing else needs saving: `Done`, `Reward`, `Action` and the recorded observations are
//! rewritten in every step before they are read, the epoch accumulators are empty at an epoch's
//! end, and evaluation builds its own world per epoch.

use crate::engine::StepCount;
use crate::engine::env::components::{Episode, Observation, PhysState};
use crate::engine::env::{Distractors, EnvRegistry, GeneralizedState};
use crate::engine::rng::EnvRngs;
use crate::learn::snapshot::{Snapshot, SnapshotError, TensorStore};
use crate::learn::trainer::FitReport;
use crate::systems::learning::{AgentResource, AgentUpdateSettings, EnvBuffer, LearningPhase, ModelBuffer, ModelResource, RolloutSettings};

use super::build::SeedApp;

fn save_general(store: &mut TensorStore, name: &str, s: &GeneralizedState) {
    store.put_f64(&format!("{name}.q"), &s.q);
    store.put_f64(&format!("{name}.qd"), &s.qd);
}

fn load_general(store: &TensorStore, name: &str, s: &mut GeneralizedState) -> Result<(), SnapshotError> {
    s.q = store.get_f64(&format!("{name}.q"), s.q.len())?;
    s.qd = store.get_f64(&format!("{name}.qd"), s.qd.len())?;
    Ok(())
}

/// Writes the seed's state into `store`.
pub fn save(run: &SeedApp, store: &mut TensorStore) {
    let world = &run.app.world;
    store.put_u64("step", &[world.resource::<StepCount>().0]);

    let env = world.entity(run.env);
    let phys = env.get::<PhysState>().expect("training env");
    save_general(store, "env.prev", &phys.prev);
    save_general(store, "env.current", &phys.current);
    let obs = &env.get::<Observation>().expect("training env").0;
    store.put_f32("env.obs", &[obs.len()], obs);
    let ep = env.get::<Episode>().expect("training env");
    store.put_f64("env.episode.return", &[ep.ret]);
    store.put_u64("env.episode.counters", &[ep.length as u64, ep.index]);
    let rngs = env.get::<EnvRngs>().expect("training env");
    rngs.reset.save("env.rng.reset", store);
    rngs.actions.save("env.rng.actions", store);
    rngs.distractors.save("env.rng.distractors", store);
    if let Some(d) = env.get::<Distractors>() {
        store.put_f32("env.distractors", &[d.state.len()], &d.state);
    }

    let agent = world.non_send::<AgentResource>();
    agent.sac.save("agent", store);
    agent.rng.save("agent.exploration_rng", store);
    world.resource::<EnvBuffer>().0.save("env_buffer", store);
    world.resource::<ModelBuffer>().0.save("model_buffer", store);
    world.resource::<RolloutSettings>().rng.save("rollout.rng", store);
    world.resource::<AgentUpdateSettings>().rng.save("updates.rng", store);

    let model = world.non_send::<ModelResource>();
    model.model.save("model", store);
    store.put_u64("model.fits", &[model.fits]);
    if let Some(fit) = &model.last {
        store.put_u64("model.last.elites", &fit.elites.iter().map(|e| *e as u64).collect::<Vec<_>>());
        store.put_u64("model.last.epochs", &[fit.epochs as u64]);
        store.put_f64("model.last.validation", &fit.validation);
        store.put_f64("model.last.losses", &[fit.train_loss, fit.validation_loss, fit.vaml_error.unwrap_or(f64::NAN)]);
        store.put_u64("model.last.has_vaml", &[fit.vaml_error.is_some() as u64]);
    }
}

/// Restores the state saved by [`save`] into `run` (built from the same config and seed).
pub fn load(run: &mut SeedApp, store: &TensorStore, registry: &EnvRegistry, env_name: &str) -> anyhow::Result<()> {
    let world = &mut run.app.world;
    world.resource_mut::<StepCount>().0 = store.get_scalar_u64("step")?;

    let mut env = world.entity_mut(run.env);
    let current = {
        let mut phys = env.get_mut::<PhysState>().expect("training env");
        load_general(store, "env.prev", &mut phys.prev)?;
        load_general(store, "env.current", &mut phys.current)?;
        phys.current.clone()
    };
    {
        let mut obs = env.get_mut::<Observation>().expect("training env");
        let len = obs.0.len();
        obs.0 = store.get_f32("env.obs", &[len])?;
    }
    let counters = store.get_u64("env.episode.counters", 2)?;
    *env.get_mut::<Episode>().expect("training env") =
        Episode { ret: store.get_f64("env.episode.return", 1)?[0], length: counters[0] as u32, index: counters[1] };
    {
        let mut rngs = env.get_mut::<EnvRngs>().expect("training env");
        rngs.reset.load("env.rng.reset", store)?;
        rngs.actions.load("env.rng.actions", store)?;
        rngs.distractors.load("env.rng.distractors", store)?;
    }
    if let Some(mut d) = env.get_mut::<Distractors>() {
        let len = d.state.len();
        d.state = store.get_f32("env.distractors", &[len])?;
    } else if store.contains("env.distractors") {
        anyhow::bail!("the checkpoint has distracting dimensions but the configuration has none");
    }
    let kind = registry.get(env_name)?;
    kind.restore_state(&mut run.app, run.env, &current)?;
    // As the run that wrote the checkpoint did at the end of the epoch (see `driver`).
    kind.rebuild_physics(&mut run.app, run.env)?;

    let world = &mut run.app.world;
    let mut agent = world.non_send_mut::<AgentResource>();
    agent.sac.load("agent", store)?;
    agent.rng.load("agent.exploration_rng", store)?;
    world.resource_mut::<EnvBuffer>().0.load("env_buffer", store)?;
    // The model buffer's capacity follows the rollout length: take the checkpoint's, within
    // what the schedule can ask for.
    let train_every = world.non_send::<ModelResource>().train_every;
    let max_capacity = world.resource::<RolloutSettings>().max_capacity(world.resource::<LearningPhase>().epoch_length, train_every);
    world.resource_mut::<ModelBuffer>().0.load_with_stored_capacity("model_buffer", store, max_capacity)?;
    world.resource_mut::<RolloutSettings>().rng.load("rollout.rng", store)?;
    world.resource_mut::<AgentUpdateSettings>().rng.load("updates.rng", store)?;

    let mut model = world.non_send_mut::<ModelResource>();
    model.model.load("model", store)?;
    model.fits = store.get_scalar_u64("model.fits")?;
    model.last = if store.contains("model.last.elites") {
        let members = model.model.members();
        let losses = store.get_f64("model.last.losses", 3)?;
        let elites: Vec<usize> = store.get_u64_any("model.last.elites")?.into_iter().map(|e| e as usize).collect();
        if elites.iter().any(|e| *e >= members) {
            anyhow::bail!("tensor 'model.last.elites' names members beyond the ensemble's {members}");
        }
        Some(FitReport {
            epochs: store.get_scalar_u64("model.last.epochs")? as usize,
            train_loss: losses[0],
            validation: store.get_f64("model.last.validation", members)?,
            elites,
            validation_loss: losses[1],
            vaml_error: (store.get_scalar_u64("model.last.has_vaml")? == 1).then_some(losses[2]),
        })
    } else {
        None
    };
    Ok(())
}
